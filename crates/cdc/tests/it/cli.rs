//! The `agentry-cdc` binary: output formats, a round trip through the store, and a writer killed mid-put.

use std::{
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use agentry_cdc::{ChunkStore, FsStore, Params};
use agentry_types::{Digest, DigestFunction};

const BIN: &str = env!("CARGO_BIN_EXE_agentry-cdc");
const IMAGE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/SekienAkashita.jpg");

fn run(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().expect("run agentry-cdc");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 output")
}

#[test]
fn chunk_prints_the_reapi_vectors() {
    let out = run(&["chunk", IMAGE, "--avg", "16384", "--threshold", "0"]);
    let offsets: Vec<&str> = out.lines().map(|l| l.split('\t').next().unwrap_or_default()).collect();
    assert_eq!(offsets, ["0", "19186", "38465", "55819", "72206", "92146"]);
}

#[test]
fn chunk_json_lines() {
    let out = run(&["chunk", IMAGE, "--avg", "16384", "--threshold", "0", "--seed", "666", "--json"]);
    let first: serde_json::Value = serde_json::from_str(out.lines().next().expect("a line")).expect("json");
    assert_eq!(first["length"], 17635);
    assert_eq!(first["digest"], "cb3a9d80a3569772d4ed331ca37ab0c862c759897b890fc1aac90a4f2ea3a407/17635");
}

#[test]
fn invalid_avg_is_an_error_naming_it() {
    let out = Command::new(BIN).args(["chunk", IMAGE, "--avg", "3000"]).output().expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("3000 is not a power of two"));
}

#[test]
fn store_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s");
    let store = store.to_str().expect("utf-8 path");
    let put = run(&["store", "put", "--dir", store, "--avg", "1024", IMAGE]);
    let blob = put.split('\t').next().expect("digest");
    assert_eq!(blob, "d9e749d9367fc908876749d6502eb212fee88c9a94892fb07da5ef3ba8bc39ed/109466");
    let out = dir.path().join("copy.jpg");
    run(&["store", "get", "--dir", store, blob, "-o", out.to_str().expect("utf-8")]);
    assert_eq!(std::fs::read(out).expect("read"), std::fs::read(IMAGE).expect("read"));
    let stat: serde_json::Value =
        serde_json::from_str(&run(&["store", "stat", "--dir", store, "--json"])).expect("json");
    assert_eq!(stat["layouts"], 1);
    assert_eq!(stat["layout_bytes"], 109_466);
}

fn random_file(path: &Path, seed: u64, len: usize) {
    let mut x = seed | 1;
    let bytes: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(path, bytes).expect("write input");
}

/// Kills `store put` with SIGKILL while it writes, then checks that every object visible in the store is
/// complete (each read re-hashes it) and that an interrupted write is at most a leftover temporary file,
/// which gc removes. Retries a few times until a kill lands while a temporary file exists, so the test
/// observes an actual mid-put crash.
#[test]
fn killed_writer_leaves_no_partial_object() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inputs: Vec<String> = (0..4)
        .map(|i| {
            let p = dir.path().join(format!("input-{i}"));
            random_file(&p, i + 1, 8 << 20);
            p.to_str().expect("utf-8").to_owned()
        })
        .collect();
    let mut caught_mid_put = false;
    for attempt in 0..6 {
        let store_dir = dir.path().join(format!("store-{attempt}"));
        let store_arg = store_dir.to_str().expect("utf-8").to_owned();
        let mut args = vec!["store", "put", "--dir", &store_arg, "--avg", "1024"];
        args.extend(inputs.iter().map(String::as_str));
        let mut child =
            Command::new(BIN).args(&args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("spawn");
        // Wait until some objects are written, then kill at a moment chosen by the attempt number.
        let tmp = store_dir.join("tmp");
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            let objects = std::fs::read_dir(store_dir.join("objects")).map(|r| r.count()).unwrap_or(0);
            if objects > 20 + attempt * 10 {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        child.kill().expect("kill");
        child.wait().expect("wait");
        let leftovers = std::fs::read_dir(&tmp).map(|r| r.count()).unwrap_or(0);
        caught_mid_put |= leftovers > 0;

        let store = FsStore::open(&store_dir, DigestFunction::Sha256, Params::reapi(1024, 0).expect("valid"))
            .expect("open");
        let mut visible = 0;
        for shard in std::fs::read_dir(store_dir.join("objects")).expect("objects dir") {
            for entry in std::fs::read_dir(shard.expect("shard").path()).expect("shard dir") {
                let name = entry.expect("entry").file_name().into_string().expect("utf-8 name");
                let (hex, size) = name.split_once('_').expect("hash_size name");
                let digest = Digest::from_hex(DigestFunction::Sha256, hex, size.parse().expect("size"))
                    .expect("digest");
                // get_object re-hashes: a partial object would be an Err(Corrupt) here.
                assert!(store.get_object(&digest).expect("every visible object is complete").is_some());
                visible += 1;
            }
        }
        assert!(visible > 0, "the writer wrote nothing before it was killed");
        let report = store.gc(&[], Duration::ZERO).expect("gc");
        assert_eq!(report.removed_temp_files as usize, leftovers);
        if caught_mid_put {
            break;
        }
    }
    assert!(caught_mid_put, "no kill landed while a write was in progress");
}

#[test]
fn dedup_counts_a_repeated_version_as_free() {
    let out = run(&["dedup", "--avg", "4096", "--json", IMAGE, IMAGE]);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(doc["files"][0]["bytes"], 109_466);
    assert_eq!(doc["files"][1]["cdc_new_bytes"], 0);
    assert_eq!(doc["files"][1]["fixed_new_bytes"], 0);
    assert_eq!(doc["total"]["bytes"], 2 * 109_466);
    let first_new = doc["files"][0]["cdc_new_bytes"].as_u64().expect("number");
    assert!(first_new > 0 && first_new <= 109_466);
}

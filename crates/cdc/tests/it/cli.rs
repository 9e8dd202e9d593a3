//! The `agentry-cdc` binary: output formats, the store commands, and a writer that crashes mid-put.

use std::{collections::HashSet, path::Path, process::Command, time::Duration};

use agentry_cdc::{Chunk, ChunkStore, FsStore, Params, chunk, digest};
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

/// Which atomic write of `store put` the failpoint interrupts.
#[derive(Debug, Clone, Copy)]
enum Write {
    /// The write of the n-th chunk (1-based).
    Chunk(usize),
    /// The write of the blob's layout, after all chunks.
    Layout,
}

/// Runs `store put` with the test-only failpoint `AGENTRY_CDC_FAILPOINT=<point>:<n>` armed, so the writer
/// aborts at an exact point of its n-th atomic write (the store exists already, so its writes are the
/// input's distinct chunks in order, then the blob's layout). Then checks what a crash must leave behind:
/// every visible object is complete, the interrupted object (or layout) is not visible, the leftover
/// temporary file is ignored by readers, a second put of the same file succeeds, and gc removes the leftover.
fn check_crash(point: &str, at: Write) {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("input");
    random_file(&input, 7, 64 * 1024);
    let data = std::fs::read(&input).expect("read input");
    let params = Params::reapi(1024, 0).expect("valid");
    let store_dir = dir.path().join("store");
    let store = FsStore::open(&store_dir, DigestFunction::Sha256, params.clone()).expect("open");
    let chunks: Vec<(Chunk, Digest)> = chunk(&params, &data)
        .into_iter()
        .map(|c| (c, digest(DigestFunction::Sha256, &data[c.range()])))
        .collect();
    let distinct: HashSet<Digest> = chunks.iter().map(|(_, d)| *d).collect();
    assert_eq!(distinct.len(), chunks.len(), "the fixture needs distinct chunks so write n is chunk n");
    let nth = match at {
        Write::Chunk(n) => {
            assert!((1..=chunks.len()).contains(&n), "only {} chunks", chunks.len());
            n
        }
        Write::Layout => chunks.len() + 1,
    };
    let blob = digest(DigestFunction::Sha256, &data);

    let store_arg = store_dir.to_str().expect("utf-8");
    let input_arg = input.to_str().expect("utf-8");
    let put = ["store", "put", "--dir", store_arg, "--avg", "1024", input_arg];
    // The working directory is the temp dir, so a core file (if the system writes one) lands there.
    let out = Command::new(BIN)
        .args(put)
        .env("AGENTRY_CDC_FAILPOINT", format!("{point}:{nth}"))
        .current_dir(dir.path())
        .output()
        .expect("run agentry-cdc");
    assert!(!out.status.success(), "the writer was expected to abort");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("failpoint {point} reached")), "{stderr}");

    // The writes before the crash are complete; the interrupted one is not visible, only its temporary file.
    let written = (nth - 1).min(chunks.len());
    for (c, d) in &chunks[..written] {
        assert_eq!(store.get_object(d).expect("complete object"), Some(data[c.range()].to_vec()));
    }
    let stat = store.stat().expect("stat");
    assert_eq!((stat.objects, stat.layouts, stat.temp_files), (written as u64, 0, 1));
    let leftover = std::fs::read_dir(store_dir.join("tmp")).expect("tmp dir").next().expect("one file");
    let leftover_len = leftover.expect("entry").metadata().expect("metadata").len();
    if let Some((victim, d)) = chunks.get(nth - 1) {
        assert_eq!(store.get(d).expect("a missing object is not an error"), None);
        assert_eq!(store.find_missing(&[*d]).expect("find_missing"), vec![*d]);
        let expected = if point == "mid-write" { victim.length / 2 } else { victim.length };
        assert_eq!(leftover_len, expected, "the crash happened at {point}");
    }
    assert_eq!(store.get(&blob).expect("a missing blob is not an error"), None);

    // Writing the same file again succeeds next to the leftover, and gc removes the leftover.
    let again = run(&put);
    assert_eq!(again.split('\t').next(), Some(blob.to_string().as_str()));
    assert_eq!(store.get(&blob).expect("get"), Some(data));
    let report = store.gc(&[], Duration::ZERO).expect("gc");
    assert_eq!((report.removed_temp_files, report.removed_objects), (1, 0));
}

#[test]
fn abort_mid_write_leaves_no_partial_object() {
    check_crash("mid-write", Write::Chunk(5));
}
#[test]
fn abort_before_rename_leaves_no_partial_object() {
    check_crash("after-temp-write", Write::Chunk(5));
}
#[test]
fn abort_on_the_first_write() {
    check_crash("mid-write", Write::Chunk(1));
}
#[test]
fn abort_while_writing_the_layout() {
    check_crash("after-temp-write", Write::Layout);
}

fn image() -> Vec<u8> {
    std::fs::read(IMAGE).expect("read image")
}

/// The image's chunk digests at `params`, as `Digest` strings.
fn chunk_digests(params: &Params, function: DigestFunction) -> Vec<String> {
    let data = image();
    chunk(params, &data).iter().map(|c| digest(function, &data[c.range()]).to_string()).collect()
}

#[test]
fn chunk_with_blake3_digests() {
    let out = run(&["chunk", IMAGE, "--avg", "16384", "--threshold", "0", "--digest", "blake3"]);
    let lines: Vec<Vec<&str>> = out.lines().map(|l| l.split('\t').collect()).collect();
    let offsets: Vec<&str> = lines.iter().map(|l| l[0]).collect();
    assert_eq!(offsets, ["0", "19186", "38465", "55819", "72206", "92146"]);
    let params = Params::reapi(16384, 0).expect("valid").with_chunking_threshold(0);
    let digests: Vec<String> = lines.iter().map(|l| l[2].to_owned()).collect();
    assert_eq!(digests, chunk_digests(&params, DigestFunction::Blake3));
    assert!(digests.iter().all(|d| d.starts_with("blake3/")), "{digests:?}");
}

#[test]
fn store_split_prints_the_layout_of_a_put_blob() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s");
    let store = store.to_str().expect("utf-8 path");
    let put = run(&["store", "put", "--dir", store, "--avg", "1024", IMAGE]);
    let blob = put.split('\t').next().expect("digest");
    let split = run(&["store", "split", "--dir", store, "--avg", "1024", blob]);
    let params = Params::reapi(1024, 0).expect("valid");
    assert_eq!(split.lines().collect::<Vec<_>>(), chunk_digests(&params, DigestFunction::Sha256));
}

#[test]
fn store_split_chunks_a_blob_stored_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let params = Params::reapi(4096, 0).expect("valid");
    let store = FsStore::open(dir.path(), DigestFunction::Sha256, params.clone()).expect("open");
    let data = image();
    let blob = digest(DigestFunction::Sha256, &data);
    store.put(&blob, &data).expect("put whole");
    let dir_arg = dir.path().to_str().expect("utf-8 path");
    let split = run(&["store", "split", "--dir", dir_arg, "--avg", "4096", &blob.to_string()]);
    let expected = chunk_digests(&params, DigestFunction::Sha256);
    assert!(expected.len() > 1);
    assert_eq!(split.lines().collect::<Vec<_>>(), expected);
    let stat = store.stat().expect("stat");
    let distinct = expected.iter().collect::<HashSet<_>>().len() as u64;
    assert_eq!((stat.objects, stat.layouts), (1 + distinct, 1));
}

#[test]
fn store_split_of_an_unknown_blob_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let blob = digest(DigestFunction::Sha256, b"never stored").to_string();
    let out = Command::new(BIN)
        .args(["store", "split", "--dir", dir.path().to_str().expect("utf-8"), &blob])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("{blob} is not in the store")));
}

/// Sets a file's modification time `secs` seconds into the past.
fn age(path: &Path, secs: u64) {
    let then = std::time::SystemTime::now() - Duration::from_secs(secs);
    std::fs::File::open(path).and_then(|f| f.set_modified(then)).expect("set mtime");
}

#[test]
fn store_gc_honours_the_grace_period_and_keep() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir_arg = dir.path().to_str().expect("utf-8 path");
    let put = run(&["store", "put", "--dir", dir_arg, "--avg", "1024", IMAGE]);
    let blob = put.split('\t').next().expect("digest").to_owned();
    // Distinct chunks: the image repeats a few at this size.
    let chunks = chunk_digests(&Params::reapi(1024, 0).expect("valid"), DigestFunction::Sha256)
        .into_iter()
        .collect::<HashSet<_>>()
        .len() as u64;

    // Two unreferenced objects: one put two hours ago, one just now.
    let store = FsStore::open(dir.path(), DigestFunction::Sha256, Params::reapi(1024, 0).expect("valid"))
        .expect("open");
    let (old, young) = (digest(DigestFunction::Sha256, b"old"), digest(DigestFunction::Sha256, b"young"));
    store.put(&old, b"old").expect("put");
    store.put(&young, b"young").expect("put");
    let old_path =
        dir.path().join("objects").join(&old.hash_hex()[..2]).join(format!("{}_3", old.hash_hex()));
    age(&old_path, 7200);

    let gc = |extra: &[&str]| -> (u64, u64, u64) {
        let mut args = vec!["store", "gc", "--dir", dir_arg, "--json"];
        args.extend_from_slice(extra);
        let doc: serde_json::Value = serde_json::from_str(&run(&args)).expect("json");
        let n = |k: &str| doc[k].as_u64().expect("number");
        (n("removed_objects"), n("kept_objects"), n("young_objects"))
    };
    // The default grace period (1 hour) removes only the old object.
    assert_eq!(gc(&[]), (1, chunks + 1, 1));
    assert!(!store.contains(&old).expect("contains") && store.contains(&young).expect("contains"));
    // --keep protects the young one even without a grace period; then --min-age 0 removes it.
    let young_arg = young.to_string();
    assert_eq!(gc(&["--min-age", "0", "--keep", &young_arg]), (0, chunks + 1, 0));
    assert_eq!(gc(&["--min-age", "0"]), (1, chunks, 0));
    assert!(!store.contains(&young).expect("contains"));
    // The blob's chunks were referenced all along.
    let out = dir.path().join("copy.jpg");
    run(&["store", "get", "--dir", dir_arg, &blob, "-o", out.to_str().expect("utf-8")]);
    assert_eq!(std::fs::read(out).expect("read"), image());
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

/// The reference implementation's cut points for the image at min 4096, horizon 16384
/// (tests/data/repmax_vectors.txt, first line).
const IMAGE_REPMAX_4096: [u64; 19] = [
    7026, 5198, 5310, 4271, 5278, 5588, 5017, 6761, 5541, 7612, 5501, 4695, 4362, 6221, 7190, 5858, 4382,
    8022, 5633,
];

#[test]
fn chunk_repmax_prints_the_reference_cut_points() {
    for extra in [&["--no-digest"][..], &[][..]] {
        let mut args = vec!["chunk", IMAGE, "--chunker", "repmax", "--min", "4096", "--horizon", "16384"];
        args.extend_from_slice(extra);
        let out = run(&args);
        let lengths: Vec<u64> =
            out.lines().map(|l| l.split('\t').nth(1).and_then(|n| n.parse().ok()).expect("length")).collect();
        assert_eq!(lengths, IMAGE_REPMAX_4096, "{extra:?}");
    }
}

#[test]
fn repmax_invalid_min_is_an_error_naming_it() {
    let out =
        Command::new(BIN).args(["chunk", IMAGE, "--chunker", "repmax", "--min", "10"]).output().expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("min_chunk_size_bytes 10"));
}

#[test]
fn dedup_reports_both_chunkers() {
    let out = run(&[
        "dedup",
        "--avg",
        "4096",
        "--chunker",
        "repmax",
        "--min",
        "4096",
        "--horizon",
        "16384",
        "--json",
        IMAGE,
        IMAGE,
    ]);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(doc["chunker"], "repmax");
    assert_eq!(doc["files"][0]["cdc_chunks"], 19);
    assert_eq!(doc["files"][1]["cdc_new_bytes"], 0);
    let chunkers = doc["chunkers"].as_array().expect("array");
    assert_eq!(chunkers[0]["chunker"], "fastcdc");
    assert_eq!(chunkers[1]["chunker"], "repmax");
    assert_eq!(chunkers[1]["unique_chunks"], 19);
    assert_eq!(chunkers[1]["chunks"], 38);
    assert_eq!(chunkers[1]["bytes_stored"], 109_466);
    let text = run(&["dedup", "--avg", "4096", IMAGE]);
    assert!(text.contains("repmax\tmin 3072 horizon 24576\t109466\t"), "{text}");
}

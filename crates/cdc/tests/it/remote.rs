//! The REAPI client against a real BuildGrid server. `.ci/run` starts two (one with SplitBlob/SpliceBlob, one
//! without) and sets `AGENTRY_REAPI_URL` and `AGENTRY_REAPI_URL_NOCHUNK`; without them these tests say they
//! were skipped and why. No mock server stands in for BuildGrid.

use std::{
    collections::HashSet,
    path::Path,
    process::Command,
    sync::atomic::{AtomicU64, Ordering},
};

use agentry_cdc::{
    ChunkStore, FsStore, Params, chunk_and_digest, digest, download_plan,
    remote::{BlockingRemoteCas, RemoteError, RemoteOptions, TransferMode},
    upload_plan,
};
use agentry_types::{Digest, DigestFunction};

use super::random;

/// BuildGrid 0.9.1's fixed FastCDC average (its `FAST_CDC_AVG_CHUNK_SIZE_BYTES`), so its threshold is 2 MiB.
const AVG: u32 = 512 * 1024;
const THRESHOLD: usize = 4 * AVG as usize;

fn url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            eprintln!(
                "skipped: {var} is not set (.ci/run starts BuildGrid and sets it; see .ci/buildgrid.sh)"
            );
            None
        }
    }
}

fn connect(url: &str) -> BlockingRemoteCas {
    BlockingRemoteCas::connect(url, RemoteOptions::default()).expect("connect to BuildGrid")
}

fn none(_: u64) {}

/// Bytes unique to one test in one run, so neither other tests nor earlier runs against the same server have
/// stored any of their chunks.
fn data(len: usize, test: &str) -> Vec<u8> {
    static RUN: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let run = *RUN.get_or_init(|| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        now.as_nanos() as u64 ^ u64::from(std::process::id()).rotate_left(32)
    });
    let seed = test
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64 ^ run, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    random(len, seed)
}

/// `data` with `insert` spliced in at `at`.
fn edited(data: &[u8], at: usize, insert: &[u8]) -> Vec<u8> {
    let mut v = data[..at].to_vec();
    v.extend_from_slice(insert);
    v.extend_from_slice(&data[at..]);
    v
}

fn round_trip(len: usize, test: &str, expected: TransferMode) {
    let Some(url) = url("AGENTRY_REAPI_URL") else { return };
    let remote = connect(&url);
    let bytes = data(len, test);
    let up = remote.upload_bytes(bytes.clone(), &none).expect("upload");
    assert_eq!(up.digest, digest(DigestFunction::Sha256, &bytes));
    assert_eq!((up.mode, up.bytes_transferred), (expected, len as u64), "{up:?}");
    let dir = tempfile::tempdir().expect("tempdir");
    // Without a local cache there is nothing to take chunks from: the blob comes whole.
    let out = dir.path().join("out");
    let down = remote.download(&up.digest, &out, None, &none).expect("download");
    assert_eq!(down.mode, TransferMode::Whole, "{down:?}");
    assert_eq!(std::fs::read(&out).expect("read"), bytes);
    if expected == TransferMode::Chunked {
        // An empty cache: one stream, cut into the cache by the chunk mapping.
        let params = remote.capabilities().params().cloned().expect("chunking");
        let cache = FsStore::open(dir.path().join("cache"), DigestFunction::Sha256, params).expect("cache");
        let first = remote.download(&up.digest, &dir.path().join("a"), Some(&cache), &none).expect("first");
        assert_eq!((first.mode, first.bytes_transferred), (TransferMode::Whole, len as u64), "{first:?}");
        assert!(first.reason.as_deref().is_some_and(|r| r.contains("cut into the cache")), "{first:?}");
        assert_eq!(std::fs::read(dir.path().join("a")).expect("read"), bytes);
        // Every chunk is now local: the next download fetches nothing.
        let second = remote.download(&up.digest, &dir.path().join("b"), Some(&cache), &none).expect("second");
        assert_eq!((second.mode, second.bytes_transferred), (TransferMode::Chunked, 0), "{second:?}");
        assert_eq!(second.chunks_total, first.chunks_total);
        assert_eq!(std::fs::read(dir.path().join("b")).expect("read"), bytes);
    }
    // A second upload finds the blob there and sends nothing.
    let again = remote.upload_bytes(bytes, &none).expect("upload again");
    assert_eq!(again.bytes_transferred, 0);
}

#[test]
fn round_trip_below_the_threshold() {
    round_trip(100_000, "below", TransferMode::Whole);
}

#[test]
fn round_trip_at_the_threshold() {
    round_trip(THRESHOLD, "at", TransferMode::Whole);
}

#[test]
fn round_trip_above_the_threshold() {
    round_trip(THRESHOLD + 1, "just above", TransferMode::Chunked);
    round_trip(9_000_000, "above", TransferMode::Chunked);
}

#[test]
fn capabilities_of_buildgrid_0_9_1() {
    let Some(url) = url("AGENTRY_REAPI_URL") else { return };
    let remote = connect(&url);
    let caps = remote.capabilities();
    // Pinned facts of the server CI installs; an upgrade that changes them should be noticed here.
    assert_eq!(caps.fast_cdc_2020, Some((u64::from(AVG), 0)));
    assert!(caps.split_blob_support && caps.splice_blob_support);
    assert_eq!(caps.digest_function, DigestFunction::Sha256);
    assert_eq!(caps.params().map(Params::chunking_threshold), Some(THRESHOLD as u64));
    assert!(!caps.streaming_chunk_mapping(), "BuildGrid 0.9.1 speaks REAPI {}", caps.high_api_version);
}

#[test]
fn an_edit_uploads_only_the_chunks_near_it_as_planned() {
    let Some(url) = url("AGENTRY_REAPI_URL") else { return };
    let remote = connect(&url);
    let v1 = data(12_000_000, "edit");
    remote.upload_bytes(v1.clone(), &none).expect("upload v1");
    let v2 = edited(&v1, 5_000_000, b"an edit in the middle of the blob");
    // The plan, made against the server through the ChunkStore facade, predicts what the upload sends.
    let plan = upload_plan(&remote, &v2).expect("plan");
    assert!(plan.stats.chunks_new <= 2, "{:?}", plan.stats);
    let up = remote.upload_bytes(v2.clone(), &none).expect("upload v2");
    assert_eq!(up.mode, TransferMode::Chunked);
    assert_eq!(up.bytes_transferred, plan.stats.bytes_to_transfer);
    assert_eq!(up.chunks_transferred, plan.stats.chunks_new);
    assert!(up.bytes_transferred < v2.len() as u64 / 5, "{up:?}");
    // The server reassembles the spliced blob for a reader that does not chunk.
    assert_eq!(remote.get(&up.digest).expect("get"), Some(v2));
}

#[test]
fn a_download_holding_the_previous_version_fetches_only_new_chunks() {
    let Some(url) = url("AGENTRY_REAPI_URL") else { return };
    let remote = connect(&url);
    let v1 = data(10_000_000, "download edit");
    let v2 = edited(&v1, 3_333_333, b"changed");
    let d1 = remote.upload_bytes(v1.clone(), &none).expect("upload v1").digest;
    let d2 = remote.upload_bytes(v2.clone(), &none).expect("upload v2").digest;
    let dir = tempfile::tempdir().expect("tempdir");
    let params = remote.capabilities().params().cloned().expect("chunking");
    let cache =
        FsStore::open(dir.path().join("cache"), DigestFunction::Sha256, params.clone()).expect("cache");
    let first = remote.download(&d1, &dir.path().join("v1"), Some(&cache), &none).expect("download v1");
    assert_eq!(first.bytes_transferred, v1.len() as u64);
    let second = remote.download(&d2, &dir.path().join("v2"), Some(&cache), &none).expect("download v2");
    assert_eq!(std::fs::read(dir.path().join("v2")).expect("read"), v2);
    let old: HashSet<Digest> =
        chunk_and_digest(&params, &v1, DigestFunction::Sha256, 1).into_iter().map(|c| c.digest).collect();
    let new: u64 = chunk_and_digest(&params, &v2, DigestFunction::Sha256, 1)
        .iter()
        .filter(|c| !old.contains(&c.digest))
        .map(|c| c.chunk.length)
        .sum();
    assert_eq!(second.bytes_transferred, new, "{second:?}");
    assert!(new > 0 && new < v2.len() as u64 / 4);
    // The cache now holds v2 as a blob of its own.
    assert_eq!(cache.get(&d2).expect("cache get").as_deref(), Some(v2.as_slice()));
    // download_plan against the server predicts the same for a fresh cache holding only v1's chunks.
    let local = agentry_cdc::MemStore::new(DigestFunction::Sha256, params);
    for c in chunk_and_digest(local.params(), &v1, DigestFunction::Sha256, 1) {
        local.put(&c.digest, &v1[c.chunk.range()]).expect("put");
    }
    let plan = download_plan(&remote, &d2, &local).expect("plan");
    assert_eq!(plan.stats.bytes_to_transfer, new);
    plan.execute(&remote, &local).expect("execute");
    assert_eq!(local.get(&d2).expect("get").expect("there").len(), v2.len());
}

#[test]
fn a_corrupt_chunk_in_the_cache_is_detected_and_fetched_again() {
    let Some(url) = url("AGENTRY_REAPI_URL") else { return };
    let remote = connect(&url);
    let v = data(7_000_000, "corrupt cache");
    let d = remote.upload_bytes(v.clone(), &none).expect("upload").digest;
    let dir = tempfile::tempdir().expect("tempdir");
    let params = remote.capabilities().params().cloned().expect("chunking");
    let cache_dir = dir.path().join("cache");
    let cache = FsStore::open(&cache_dir, DigestFunction::Sha256, params).expect("cache");
    remote.download(&d, &dir.path().join("a"), Some(&cache), &none).expect("first download");
    let layout = remote.split_blob(&d).expect("split").expect("a mapping");
    let victim = layout[2];
    let hex = victim.hash_hex();
    let object = cache_dir.join("objects").join(&hex[..2]).join(format!("{hex}_{}", victim.size_bytes()));
    let mut bytes = std::fs::read(&object).expect("read chunk");
    bytes[100] ^= 0xff;
    std::fs::write(&object, bytes).expect("corrupt it");
    let again = remote.download(&d, &dir.path().join("b"), Some(&cache), &none).expect("second download");
    assert_eq!(std::fs::read(dir.path().join("b")).expect("read"), v);
    assert_eq!((again.chunks_transferred, again.bytes_transferred), (1, victim.size_bytes()));
    assert_eq!(
        cache.get_object(&victim).expect("repaired").map(|b| b.len() as u64),
        Some(victim.size_bytes())
    );
}

#[test]
fn a_server_without_chunking_gets_whole_blobs() {
    let Some(url) = url("AGENTRY_REAPI_URL_NOCHUNK") else { return };
    let remote = connect(&url);
    assert!(remote.capabilities().params().is_none());
    let v = data(6_000_000, "whole");
    let up = remote.upload_bytes(v.clone(), &none).expect("upload");
    assert_eq!((up.mode, up.bytes_transferred), (TransferMode::Whole, v.len() as u64));
    assert!(up.reason.as_deref().is_some_and(|r| r.contains("neither SplitBlob nor SpliceBlob")), "{up:?}");
    let dir = tempfile::tempdir().expect("tempdir");
    let down = remote.download(&up.digest, &dir.path().join("out"), None, &none).expect("download");
    assert_eq!(down.mode, TransferMode::Whole);
    assert_eq!(std::fs::read(dir.path().join("out")).expect("read"), v);
}

#[test]
fn a_splice_the_server_rejects_falls_back_to_a_whole_upload() {
    let Some(url) = url("AGENTRY_REAPI_URL") else { return };
    // With a 64 KiB average most chunks are below BuildGrid's 128 KiB minimum, so it rejects the splice with
    // INVALID_ARGUMENT; the blob then goes whole.
    let small = Params::reapi(65_536, 0).expect("params");
    let options = RemoteOptions { params_override: Some(small.clone()), ..RemoteOptions::default() };
    let remote = BlockingRemoteCas::connect(&url, options).expect("connect");
    let v = data(5_000_000, "rejected splice");
    let up = remote.upload_bytes(v.clone(), &none).expect("upload");
    assert_eq!(up.mode, TransferMode::Whole, "{up:?}");
    let reason = up.reason.clone().unwrap_or_default();
    assert!(reason.contains("rejected the splice") && reason.contains("INVALID_ARGUMENT"), "{reason}");
    let chunks = chunk_and_digest(&small, &v, DigestFunction::Sha256, 1);
    let sent: u64 = chunks.iter().map(|c| c.chunk.length).sum::<u64>() + v.len() as u64;
    assert_eq!(up.bytes_transferred, sent, "the chunks, then the whole blob");
    assert!(remote.find_missing(&[up.digest]).expect("find").is_empty(), "the blob is there");
    // Through the ChunkStore facade, the same rejection is an error naming the blob and the server's reason.
    let layout: Vec<Digest> = chunks.iter().map(|c| c.digest).collect();
    let other = digest(DigestFunction::Sha256, &edited(&v, 10, b"x"));
    let err = remote.splice(&other, &layout).expect_err("wrong blob digest");
    assert!(err.to_string().contains(&other.to_string()), "{err}");
}

#[test]
fn files_upload_as_bytes_do() {
    let Some(url) = url("AGENTRY_REAPI_URL") else { return };
    let remote = connect(&url);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big");
    // Over two 16 MiB read-ahead segments.
    let v = data(40_000_000, "file upload");
    std::fs::write(&path, &v).expect("write");
    let done = AtomicU64::new(0);
    let up = remote.upload_file(&path, &|n| {
        done.fetch_add(n, Ordering::Relaxed);
    });
    let up = up.expect("upload");
    assert_eq!(up.digest, digest(DigestFunction::Sha256, &v));
    assert_eq!(done.load(Ordering::Relaxed), v.len() as u64, "progress adds up to the blob");
    let plan = upload_plan(&remote, &v).expect("plan");
    assert_eq!(plan.stats.bytes_to_transfer, 0, "every chunk is there after the upload");
    let out = dir.path().join("out");
    remote.download(&up.digest, &out, None, &none).expect("download");
    assert!(std::fs::read(&out).expect("read") == v);
}

#[test]
fn a_server_stopped_mid_transfer_is_a_clear_error_and_leaves_no_output() {
    let Some(url) = url("AGENTRY_REAPI_URL") else { return };
    let Some(bgd) = private_server() else { return };
    // One call at a time, so most of the blob is still to be fetched when the server goes.
    let options = RemoteOptions { concurrency: 1, ..RemoteOptions::default() };
    let remote = BlockingRemoteCas::connect(&bgd.url, options).expect("connect");
    let v = data(48_000_000, "stopped server");
    let d = remote.upload_bytes(v.clone(), &none).expect("upload").digest;
    drop(url);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    // A cache holding the first chunk, so the rest is fetched chunk by chunk.
    let layout = remote.split_blob(&d).expect("split").expect("a mapping");
    let params = remote.capabilities().params().cloned().expect("chunking");
    let cache = FsStore::open(dir.path().join("cache"), DigestFunction::Sha256, params).expect("cache");
    let first = usize::try_from(layout[0].size_bytes()).expect("fits");
    cache.put(&layout[0], &v[..first]).expect("put the first chunk");
    let done = AtomicU64::new(0);
    let server = std::sync::Mutex::new(Some(bgd));
    let result = remote.download(&d, &out, Some(&cache), &|n| {
        // Stop the server once a quarter of the blob has arrived.
        if done.fetch_add(n, Ordering::Relaxed) + n > d.size_bytes() / 4 {
            server.lock().expect("lock").take();
        }
    });
    let err = result.expect_err("the server is gone");
    let text = err.to_string();
    eprintln!("the error a user sees: {text}");
    assert!(matches!(err, RemoteError::Status { .. }), "{text}");
    assert!(text.contains("BatchReadBlobs") || text.contains("ByteStream.Read"), "names the call: {text}");
    assert!(!text.contains('\n'), "one line: {text}");
    assert!(!out.exists(), "no partial output");
    let left: Vec<_> =
        std::fs::read_dir(dir.path()).expect("list").map(|e| e.expect("entry").file_name()).collect();
    assert_eq!(left, ["cache"], "no temporary file left");
}

/// A BuildGrid of this test's own (so stopping it does not disturb other tests), started from the
/// installation `.ci/buildgrid.sh` made; stopped when dropped.
struct PrivateServer {
    child: std::process::Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn private_server() -> Option<PrivateServer> {
    private_server_with(|config| config)
}

fn private_server_with(edit: impl FnOnce(String) -> String) -> Option<PrivateServer> {
    let Ok(bgd) = std::env::var("AGENTRY_BGD") else {
        eprintln!("skipped: AGENTRY_BGD (the bgd program .ci/buildgrid.sh installs) is not set");
        return None;
    };
    let port =
        std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("addr").port();
    let dir = tempfile::tempdir().expect("tempdir");
    let template =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/buildgrid/cas.yml.in"))
            .expect("config template");
    let config = dir.path().join("cas.yml");
    let text = edit(template.replace("@PORT@", &port.to_string()).replace("@CHUNKING@", "true"));
    std::fs::write(&config, text).expect("write config");
    let child = Command::new(bgd)
        .args(["server", "start"])
        .arg(&config)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start bgd");
    let server = PrivateServer { child, url: format!("grpc://localhost:{port}"), _dir: dir };
    for _ in 0..240 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(server);
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    panic!("BuildGrid did not start on port {port} within 60 s");
}

#[test]
fn grpcs_with_a_private_certificate_authority() {
    let Some(_) = url("AGENTRY_BGD") else { return };
    let certs = tempfile::tempdir().expect("tempdir");
    let p = |name: &str| certs.path().join(name);
    let (key, cert, ca) = (p("server.key"), p("server.pem"), p("ca.pem"));
    std::fs::write(p("ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
        .expect("ext");
    // A private authority, and a server certificate it signs for localhost.
    let steps: [&[&str]; 3] = [
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=agentry test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "ext",
            "-out",
            "server.pem",
        ],
    ];
    for args in steps {
        let made = Command::new("openssl").args(args).current_dir(certs.path()).output();
        if !made.as_ref().is_ok_and(|o| o.status.success()) {
            eprintln!("skipped: openssl could not make a test certificate: {made:?}");
            return;
        }
    }
    let credentials = format!(
        "insecure-mode: false\n    credentials:\n      tls-server-key: {}\n      tls-server-cert: {}",
        key.display(),
        cert.display()
    );
    let Some(server) = private_server_with(|c| c.replace("insecure-mode: true", &credentials)) else {
        return;
    };
    let url = server.url.replace("grpc://", "grpcs://");
    // The system's roots do not know this authority: a clear connection error.
    let err = BlockingRemoteCas::connect(&url, RemoteOptions::default()).expect_err("untrusted certificate");
    assert!(matches!(err, RemoteError::Connect { .. }), "{err}");
    let options = RemoteOptions { ca_cert: Some(ca.clone()), ..RemoteOptions::default() };
    let remote = BlockingRemoteCas::connect(&url, options).expect("connect with --ca-cert");
    let v = data(3_000_000, "tls");
    let up = remote.upload_bytes(v.clone(), &none).expect("upload over TLS");
    assert_eq!(up.mode, TransferMode::Chunked);
    let out = certs.path().join("out");
    remote.download(&up.digest, &out, None, &none).expect("download over TLS");
    assert!(std::fs::read(&out).expect("read") == v);
    // The command line takes the same file.
    let caps = Command::new(BIN)
        .args(["remote", "caps", "--json", "--remote", &url, "--ca-cert"])
        .arg(&ca)
        .output()
        .expect("run");
    assert!(caps.status.success(), "{}", String::from_utf8_lossy(&caps.stderr));
}

const BIN: &str = env!("CARGO_BIN_EXE_agentry-cdc");

/// Runs the binary and returns its exit code and standard error.
fn fails(args: &[&str]) -> (i32, String) {
    let out = Command::new(BIN).args(args).output().expect("run agentry-cdc");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn one_line(args: &[&str], code: i32, words: &str) {
    let (got, stderr) = fails(args);
    assert_eq!(got, code, "{args:?}: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: one line, got {stderr:?}");
    assert!(stderr.contains(words), "{args:?}: {stderr:?} lacks {words:?}");
}

#[test]
fn command_line_mistakes_are_one_clear_line() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let refused = format!("grpc://127.0.0.1:{port}");
    one_line(&["remote", "caps", "--remote", &refused], 1, "Connection refused");
    one_line(&["remote", "caps", "--remote", "localhost:9092"], 1, "bad remote URL");
    one_line(&["remote", "caps", "--remote", "grpc://host:0"], 1, "port from 1 to 65535");
    one_line(&["remote", "caps"], 2, "--remote URL is required");
    one_line(&["remote", "split", "nothex/12", "--remote", &refused], 2, "bad digest \"nothex/12\"");
    one_line(&["remote", "find-missing", "--remote", &refused, "abc"], 2, "bad digest");
    one_line(&["remote", "caps", "--remote", &refused, "--header", "novalue"], 1, "bad header");
}

#[test]
fn command_line_against_buildgrid() {
    let Some(url) = url("AGENTRY_REAPI_URL") else { return };
    one_line(&["remote", "caps", "--remote", &url, "--instance", "no-such-instance"], 1, "INVALID_ARGUMENT");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("f");
    let v = data(3_000_000, "cli");
    std::fs::write(&file, &v).expect("write");
    let out = Command::new(BIN)
        .args(["remote", "upload", "--remote", &url, "--json"])
        .arg(&file)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let blob = digest(DigestFunction::Sha256, &v).to_string();
    assert_eq!(report["digest"], blob.as_str());
    assert_eq!(report["mode"], "chunked");
    assert_eq!(report["bytes_total"], 3_000_000);
    for key in ["bytes_transferred", "chunks_total", "chunks_transferred", "rpcs"] {
        assert!(report[key].is_u64(), "{key} in {report}");
    }
    let copy = dir.path().join("copy");
    let out = Command::new(BIN)
        .args(["remote", "download", &blob, "--remote", &url, "--json", "-o"])
        .arg(&copy)
        .arg("--cache")
        .arg(dir.path().join("cache"))
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read(&copy).expect("read"), v);
    let split = Command::new(BIN).args(["remote", "split", &blob, "--remote", &url]).output().expect("run");
    let sizes: u64 = String::from_utf8_lossy(&split.stdout)
        .lines()
        .map(|l| l.parse::<Digest>().expect("a digest per line").size_bytes())
        .sum();
    assert_eq!(sizes, 3_000_000);
    // A blob that is not there: an error naming it, and no output file.
    let absent =
        digest(DigestFunction::Sha256, b"never uploaded, and long enough to be chunked........").to_string();
    let absent = absent.replace("/53", "/5000000");
    let missing = dir.path().join("missing");
    let (code, stderr) =
        fails(&["remote", "download", &absent, "--remote", &url, "-o", missing.to_str().expect("utf-8")]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("NOT_FOUND") && stderr.trim_end().lines().count() == 1, "{stderr}");
    assert!(!missing.exists());
}

/// BuildGrid 0.9.1 advertises FastCDC only, but verifies a splice by the chunks' bytes and accepts chunks
/// between FastCDC's minimum and maximum sizes, which RepMaxCDC's at min 256 KiB are (256 to 512 KiB). With
/// RepMaxCDC forced, the whole path of a server that advertises only RepMaxCDC runs against it.
#[test]
fn rep_max_cdc_uploads_and_downloads_against_buildgrid() {
    let Some(url) = url("AGENTRY_REAPI_URL") else { return };
    let rep_max = agentry_cdc::RepMaxParams::new(256 * 1024, 2 * 1024 * 1024).expect("params");
    let options = RemoteOptions { rep_max_override: Some(rep_max), ..RemoteOptions::default() };
    let remote = BlockingRemoteCas::connect(&url, options).expect("connect");
    assert_eq!(remote.capabilities().chunking_threshold(), Some(512 * 1024 - 1));
    let v1 = data(6_000_000, "rep max");
    let up1 = remote.upload_bytes(v1.clone(), &none).expect("upload v1");
    let expected = agentry_cdc::repmax_chunk(&rep_max, &v1);
    assert_eq!((up1.mode, up1.chunks_total), (TransferMode::Chunked, expected.len() as u64), "{up1:?}");
    // The server records the mapping the client spliced.
    let layout = remote.split_blob(&up1.digest).expect("split").expect("a mapping");
    let sizes: Vec<u64> = layout.iter().map(Digest::size_bytes).collect();
    assert_eq!(sizes, expected.iter().map(|c| c.length).collect::<Vec<_>>());
    // An edit sends only the chunks around it; a file is chunked as bytes are.
    let v2 = edited(&v1, 2_500_000, b"an edit");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("v2");
    std::fs::write(&file, &v2).expect("write v2");
    let up2 = remote.upload_file(&file, &none).expect("upload v2");
    assert_eq!(up2.mode, TransferMode::Chunked, "{up2:?}");
    assert!(up2.chunks_transferred <= 4 && up2.bytes_transferred < 2 * 1024 * 1024, "{up2:?}");
    assert_eq!(up2.digest, digest(DigestFunction::Sha256, &v2));
    // Downloads: v1 into an empty cache, then v2 fetching only what v1 lacks.
    let params = Params::reapi(AVG, 0).expect("params");
    let cache = FsStore::open(dir.path().join("cache"), DigestFunction::Sha256, params).expect("cache");
    remote.download(&up1.digest, &dir.path().join("o1"), Some(&cache), &none).expect("download v1");
    let down =
        remote.download(&up2.digest, &dir.path().join("o2"), Some(&cache), &none).expect("download v2");
    assert_eq!(std::fs::read(dir.path().join("o2")).expect("read"), v2);
    assert_eq!(
        (down.mode, down.bytes_transferred),
        (TransferMode::Chunked, up2.bytes_transferred),
        "{down:?}"
    );
}

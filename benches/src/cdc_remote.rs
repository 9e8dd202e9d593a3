//! The REAPI client against real BuildGrid servers: whole against chunked, upload and download, over a version
//! series, on bare loopback and through a 100 Mbit/s, 20 ms link ([`crate::relay`]).
//!
//! Each link gets two fresh servers from the BuildGrid installation `.ci/buildgrid.sh` makes (`AGENTRY_BGD`):
//! one with SplitBlob/SpliceBlob for the chunked client, one without for whole blobs, so neither starts with
//! anything stored.

use std::{
    collections::HashSet,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use agentry_cdc::{
    FsStore, chunk_and_digest,
    remote::{BlobReport, BlockingRemoteCas, RemoteOptions},
};
use agentry_types::DigestFunction;

use crate::relay::Link;

/// The `link-relay` program in front of a server, stopped when dropped.
#[derive(Debug)]
struct RelayProcess {
    child: Child,
    url: String,
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RelayProcess {
    fn start(program: &Path, upstream: SocketAddr, link: Link) -> std::io::Result<Self> {
        let mbit = link.rate.map_or(0, |r| r * 8 / 1_000_000);
        let rtt = 2 * link.one_way_delay.as_millis();
        let mut child = Command::new(program)
            .arg(upstream.to_string())
            .arg(mbit.to_string())
            .arg(rtt.to_string())
            .stdout(Stdio::piped())
            .spawn()?;
        let mut line = String::new();
        let stdout = child.stdout.take().ok_or_else(|| std::io::Error::other("no stdout"))?;
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)?;
        Ok(Self { child, url: line.trim().to_owned() })
    }
}

/// A BuildGrid server of the bench's own, stopped when dropped.
#[derive(Debug)]
pub struct Server {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `bgd` with the project's CAS config on a free loopback port, chunking on or off.
    pub fn start(bgd: &Path, chunking: bool) -> std::io::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/cdc/tests/buildgrid/cas.yml.in");
        let config_text = std::fs::read_to_string(template)?
            .replace("@PORT@", &port.to_string())
            .replace("@CHUNKING@", if chunking { "true" } else { "false" });
        let dir = tempfile::tempdir()?;
        let config = dir.path().join("cas.yml");
        std::fs::write(&config, config_text)?;
        let child = Command::new(bgd)
            .args(["server", "start"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let server = Self { child, addr, _dir: dir };
        for _ in 0..240 {
            if std::net::TcpStream::connect(addr).is_ok() {
                return Ok(server);
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        Err(std::io::Error::other(format!("BuildGrid did not start on port {port}")))
    }
}

/// One version's figures on one link.
#[derive(Debug, Clone)]
pub struct VersionRun {
    /// The version's file name.
    pub name: String,
    /// Its size.
    pub bytes: u64,
    /// Chunked upload (only missing chunks, then the splice).
    pub chunked_up: (BlobReport, Duration),
    /// Whole upload to the server without chunking.
    pub whole_up: (BlobReport, Duration),
    /// Upload of a fresh blob the size of the chunked upload's payload: the time of sending only the new bytes.
    pub new_bytes_only: Option<Duration>,
    /// Chunked download with a local cache holding the earlier versions' chunks.
    pub chunked_down: (BlobReport, Duration),
    /// Whole download.
    pub whole_down: (BlobReport, Duration),
    /// What `agentry-cdc dedup` predicts the chunked transfers move: bytes of chunks not in earlier versions.
    pub predicted: u64,
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let v = f();
    (v, t.elapsed())
}

/// Runs the series through fresh servers on `link` (`None`: bare loopback), the link being the `relay`
/// program (`link-relay`) in a process of its own.
pub fn run_series(
    bgd: &Path,
    relay: &Path,
    files: &[PathBuf],
    link: Option<Link>,
) -> std::io::Result<Vec<VersionRun>> {
    let err = |e: agentry_cdc::remote::RemoteError| std::io::Error::other(e.to_string());
    let chunked_server = Server::start(bgd, true)?;
    let whole_server = Server::start(bgd, false)?;
    let relays = match link {
        Some(l) => Some((
            RelayProcess::start(relay, chunked_server.addr, l)?,
            RelayProcess::start(relay, whole_server.addr, l)?,
        )),
        None => None,
    };
    let (chunked_url, whole_url) = match &relays {
        Some((a, b)) => (a.url.clone(), b.url.clone()),
        None => (format!("grpc://{}", chunked_server.addr), format!("grpc://{}", whole_server.addr)),
    };
    let chunked = BlockingRemoteCas::connect(&chunked_url, RemoteOptions::default()).map_err(err)?;
    let whole = BlockingRemoteCas::connect(&whole_url, RemoteOptions::default()).map_err(err)?;
    let params =
        chunked.capabilities().params().cloned().ok_or_else(|| std::io::Error::other("no chunking"))?;
    let scratch = tempfile::tempdir()?;
    let cache = FsStore::open(scratch.path().join("cache"), DigestFunction::Sha256, params.clone())
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (i, path) in files.iter().enumerate() {
        let data = std::fs::read(path)?;
        let mut predicted = 0u64;
        for c in chunk_and_digest(&params, &data, DigestFunction::Sha256, 0) {
            if seen.insert(c.digest) {
                predicted += c.chunk.length;
            }
        }
        let (chunked_up, t_cu) = timed(|| chunked.upload_file(path, &|_| {}).map_err(err));
        let chunked_up = chunked_up?;
        let (whole_up, t_wu) = timed(|| whole.upload_file(path, &|_| {}).map_err(err));
        let whole_up = whole_up?;
        let new_bytes_only = if chunked_up.bytes_transferred > 0
            && chunked_up.bytes_transferred < data.len() as u64
        {
            let fresh = crate::random_bytes(0x6e65_7700 + i as u64, chunked_up.bytes_transferred as usize);
            let (r, t) = timed(|| whole.upload_bytes(fresh, &|_| {}).map_err(err));
            r?;
            Some(t)
        } else {
            None
        };
        let target = scratch.path().join("out");
        let (chunked_down, t_cd) =
            timed(|| chunked.download(&chunked_up.digest, &target, Some(&cache), &|_| {}).map_err(err));
        let chunked_down = chunked_down?;
        let (whole_down, t_wd) =
            timed(|| whole.download(&whole_up.digest, &target, None, &|_| {}).map_err(err));
        let whole_down = whole_down?;
        out.push(VersionRun {
            name: path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            bytes: data.len() as u64,
            chunked_up: (chunked_up, t_cu),
            whole_up: (whole_up, t_wu),
            new_bytes_only,
            chunked_down: (chunked_down, t_cd),
            whole_down: (whole_down, t_wd),
            predicted,
        });
    }
    drop(relays);
    Ok(out)
}

/// The report's rows for one link.
pub fn rows(link: &str, runs: &[VersionRun]) -> Vec<[(&'static str, String); 6]> {
    let mut rows = Vec::new();
    let secs = |d: Duration| format!("{:.2} s", d.as_secs_f64());
    for (i, r) in runs.iter().enumerate() {
        let agree = |b: &BlobReport| {
            if b.bytes_transferred == r.predicted {
                "= dedup prediction"
            } else {
                "DIFFERS from dedup prediction"
            }
        };
        let ideal = r.new_bytes_only.map_or(String::new(), |t| {
            format!(
                "; new bytes alone {} (chunked / new-bytes-only {:.2})",
                secs(t),
                r.chunked_up.1.as_secs_f64() / t.as_secs_f64()
            )
        });
        rows.push([
            ("benchmark", format!("cdc/remote upload {link} v{} ({:.1} MB)", i + 1, r.bytes as f64 / 1e6)),
            (
                "ours",
                format!("chunked {}, {} B sent", secs(r.chunked_up.1), r.chunked_up.0.bytes_transferred),
            ),
            ("anchor_name", "whole blob".to_owned()),
            ("anchor", format!("{}, {} B sent", secs(r.whole_up.1), r.whole_up.0.bytes_transferred)),
            ("ratio", format!("{:.2}", r.whole_up.1.as_secs_f64() / r.chunked_up.1.as_secs_f64())),
            (
                "note",
                format!("{}; {} rpcs; bytes {}{ideal}", r.name, r.chunked_up.0.rpcs, agree(&r.chunked_up.0)),
            ),
        ]);
        rows.push([
            ("benchmark", format!("cdc/remote download {link} v{} ({:.1} MB)", i + 1, r.bytes as f64 / 1e6)),
            (
                "ours",
                format!(
                    "chunked {}, {} B fetched",
                    secs(r.chunked_down.1),
                    r.chunked_down.0.bytes_transferred
                ),
            ),
            ("anchor_name", "whole blob".to_owned()),
            ("anchor", format!("{}, {} B fetched", secs(r.whole_down.1), r.whole_down.0.bytes_transferred)),
            ("ratio", format!("{:.2}", r.whole_down.1.as_secs_f64() / r.chunked_down.1.as_secs_f64())),
            (
                "note",
                format!(
                    "{}; cache holds earlier versions; {} rpcs; bytes {}",
                    r.name,
                    r.chunked_down.0.rpcs,
                    agree(&r.chunked_down.0)
                ),
            ),
        ]);
    }
    rows
}

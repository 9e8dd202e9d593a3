//! `agentry-cdc` against the `fastcdc` crate (v2020, normalization level 2: the REAPI configuration).
//!
//! Groups:
//! - `cdc/scan-64k`, `cdc/scan-512k`: cut points only, same data, cut points checked equal before timing.
//!   `agentry` is the serial scan, `agentry-2-threads` the multi-threaded chunker (`chunk_parallel`).
//! - `cdc/repmax-64k`, `cdc/repmax-512k`: RepMaxCDC cut points (min = 3/4 of the FastCDC average, horizon
//!   8 x min, which gives about the same average chunk size), serial and on two threads, against our FastCDC
//!   scan at that average on the same data. The Go reference (buildbarn/go-cdc) is timed by hand as a whole
//!   process, outside this package (docs/cdc.md).
//! - `cdc/chunk-sha256`, `cdc/chunk-blake3`: cut points plus one digest per chunk; ours on all cores and on
//!   one, against a serial fastcdc + sha2 (or blake3) loop, with whole-buffer hashing as the ceiling.
//!
//! Figures that are not criterion timings go to the report through `report_extra`: throughput of chunk +
//! SHA-256 as a fraction of twice single-core SHA-256 and of memory-read bandwidth, and dedup ratios over a
//! version series. Set `AGENTRY_CDC_SERIES` to directories of normalized tarballs (colon-separated; make
//! them with `crates/cdc/scripts/crate-series.sh`) to measure real data; otherwise a synthetic edited
//! series is used and labelled as such.
//!
//! `cdc/remote ...` rows time the REAPI client against fresh BuildGrid servers (whole against chunked, upload
//! and download, on bare loopback and through a 100 Mbit/s, 20 ms relay). They need BuildGrid: the `bgd` that
//! `.ci/buildgrid.sh` installs under `target/`, or another named by `AGENTRY_BGD`; they use the first folder of `AGENTRY_CDC_SERIES` (else a synthetic
//! series, labelled as such).

use std::{
    collections::HashSet,
    hint::black_box,
    path::PathBuf,
    time::{Duration, Instant},
};

use agentry_benches::cdc::{edited_series, random_blob};
use agentry_cdc::{
    Chunk, Params, RepMaxParams, chunk, chunk_and_digest, chunk_parallel, digest, repmax_chunk,
    repmax_chunk_parallel,
};
use agentry_types::DigestFunction;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fastcdc::v2020::{FastCDC, Normalization};
use sha2::Digest as _;

fn corpus_len() -> usize {
    if agentry_benches::quick() { 32 << 20 } else { 128 << 20 }
}

fn fastcdc_iter<'a>(p: &Params, data: &'a [u8]) -> FastCDC<'a> {
    FastCDC::with_level_and_seed(
        data,
        p.min_size() as usize,
        p.avg_size() as usize,
        p.max_size() as usize,
        Normalization::Level2,
        p.seed(),
    )
}

fn scan(c: &mut Criterion) {
    let data = random_blob(1, corpus_len());
    for avg in [64 * 1024, 512 * 1024] {
        let p = Params::reapi(avg, 0).expect("valid").with_chunking_threshold(0);
        let ours: Vec<(u64, u64)> = chunk(&p, &data).iter().map(|c| (c.offset, c.length)).collect();
        let theirs: Vec<(u64, u64)> =
            fastcdc_iter(&p, &data).map(|c| (c.offset as u64, c.length as u64)).collect();
        assert_eq!(ours, theirs, "cut points differ at avg {avg}");
        assert_eq!(chunk_parallel(&p, &data, 2), chunk(&p, &data), "parallel cut points differ at avg {avg}");
        let mut g = c.benchmark_group(format!("cdc/scan-{}k", avg / 1024));
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.sample_size(10);
        g.bench_function("agentry", |b| b.iter(|| black_box(chunk(&p, &data)).len()));
        g.bench_function("agentry-2-threads", |b| b.iter(|| black_box(chunk_parallel(&p, &data, 2)).len()));
        g.bench_function("anchor-fastcdc-v2020", |b| b.iter(|| fastcdc_iter(&p, &data).count()));
        g.finish();
    }
}

/// RepMaxCDC parameters with about the average chunk size of FastCDC at `avg` (a RepMaxCDC average is about
/// `min / 0.7476`, Rényi's parking constant, with a wide horizon).
fn repmax_like(avg: u32) -> RepMaxParams {
    let min = u64::from(avg) * 3 / 4;
    RepMaxParams::new(min, 8 * min).expect("valid")
}

fn repmax_scan(c: &mut Criterion) {
    let data = random_blob(1, corpus_len());
    for avg in [64 * 1024, 512 * 1024] {
        let p = Params::reapi(avg, 0).expect("valid").with_chunking_threshold(0);
        let r = repmax_like(avg);
        let serial = repmax_chunk(&r, &data);
        assert_eq!(
            repmax_chunk_parallel(&r, &data, 2),
            serial,
            "parallel RepMaxCDC cut points differ at {avg}"
        );
        let mut g = c.benchmark_group(format!("cdc/repmax-{}k", avg / 1024));
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.sample_size(10);
        g.bench_function("agentry-repmax", |b| b.iter(|| black_box(repmax_chunk(&r, &data)).len()));
        g.bench_function("agentry-repmax-2-threads", |b| {
            b.iter(|| black_box(repmax_chunk_parallel(&r, &data, 2)).len())
        });
        g.bench_function("anchor-agentry-fastcdc", |b| b.iter(|| black_box(chunk(&p, &data)).len()));
        g.finish();
    }
}

fn fastcdc_digest(p: &Params, data: &[u8], function: DigestFunction) -> usize {
    match function {
        DigestFunction::Sha256 => fastcdc_iter(p, data)
            .map(|c| usize::from(sha2::Sha256::digest(&data[c.offset..c.offset + c.length])[0]))
            .sum(),
        _ => fastcdc_iter(p, data)
            .map(|c| usize::from(blake3::hash(&data[c.offset..c.offset + c.length]).as_bytes()[0]))
            .sum(),
    }
}

fn whole_hash(data: &[u8], function: DigestFunction) -> u8 {
    match function {
        DigestFunction::Sha256 => sha2::Sha256::digest(data)[0],
        _ => blake3::hash(data).as_bytes()[0],
    }
}

fn chunk_digest(c: &mut Criterion) {
    let data = random_blob(2, corpus_len());
    let p = Params::reapi(512 * 1024, 0).expect("valid").with_chunking_threshold(0);
    for function in [DigestFunction::Sha256, DigestFunction::Blake3] {
        let mut g = c.benchmark_group(format!("cdc/chunk-{function}"));
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.sample_size(10);
        g.bench_function("agentry", |b| b.iter(|| chunk_and_digest(&p, &data, function, 0).len()));
        g.bench_function("agentry-1-thread", |b| b.iter(|| chunk_and_digest(&p, &data, function, 1).len()));
        let anchor =
            if function == DigestFunction::Sha256 { "anchor-fastcdc-sha2" } else { "anchor-fastcdc-blake3" };
        g.bench_function(anchor, |b| b.iter(|| fastcdc_digest(&p, &data, function)));
        g.bench_function("anchor-whole-buffer-hash-1-thread", |b| b.iter(|| whole_hash(&data, function)));
        g.finish();
    }
    ceiling_report(&data, &p);
}

/// Best of `n` wall-clock runs, in bytes per second.
fn best_rate(bytes: usize, n: usize, mut f: impl FnMut()) -> f64 {
    let mut best = Duration::MAX;
    for _ in 0..n {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed());
    }
    bytes as f64 / best.as_secs_f64()
}

fn gbs(rate: f64) -> String {
    format!("{:.2} GB/s", rate / 1e9)
}

/// Chunk + SHA-256 on all cores as a fraction of twice single-core SHA-256 (the ceiling on two cores) and of
/// memory-read bandwidth.
fn ceiling_report(data: &[u8], p: &Params) {
    let n = if agentry_benches::quick() { 3 } else { 5 };
    let ours = best_rate(data.len(), n, || {
        black_box(chunk_and_digest(p, data, DigestFunction::Sha256, 0));
    });
    let sha = best_rate(data.len(), n, || {
        black_box(whole_hash(data, DigestFunction::Sha256));
    });
    let serial = best_rate(data.len(), n, || {
        black_box(fastcdc_digest(p, data, DigestFunction::Sha256));
    });
    let read = best_rate(data.len(), n, || {
        black_box(
            data.chunks_exact(8)
                .fold(0u64, |a, w| a.wrapping_add(u64::from_le_bytes(w.try_into().expect("8 bytes")))),
        );
    });
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let rows = [
        [
            ("benchmark", "cdc/chunk-sha256 vs 2x single-core SHA-256".to_owned()),
            ("ours", gbs(ours)),
            ("anchor_name", "2 x sha2 whole buffer".to_owned()),
            ("anchor", gbs(2.0 * sha)),
            ("ratio", format!("{:.2}", ours / (2.0 * sha))),
            ("note", format!("best of {n} wall-clock runs, {cores} cores available, avg 512 KiB")),
        ],
        [
            ("benchmark", "cdc/chunk-sha256 vs serial fastcdc + sha2".to_owned()),
            ("ours", gbs(ours)),
            ("anchor_name", "fastcdc v2020 + sha2, 1 thread".to_owned()),
            ("anchor", gbs(serial)),
            ("ratio", format!("{:.2}", ours / serial)),
            ("note", format!("best of {n} wall-clock runs, {cores} cores available")),
        ],
        [
            ("benchmark", "cdc/chunk-sha256 vs memory-read bandwidth".to_owned()),
            ("ours", gbs(ours)),
            ("anchor_name", "u64 sum over the buffer, 1 thread".to_owned()),
            ("anchor", gbs(read)),
            ("ratio", format!("{:.3}", ours / read)),
            ("note", "fraction of a single-thread read pass".to_owned()),
        ],
    ];
    agentry_benches::report_extra("cdc-ceiling", &rows).expect("write report rows");
}

/// Bytes stored for a version series: content-defined chunks versus fixed-size blocks of the same average.
fn dedup_report(_c: &mut Criterion) {
    let (label, series) = match std::env::var_os("AGENTRY_CDC_SERIES") {
        Some(dirs) => {
            let mut series = Vec::new();
            let mut names = Vec::new();
            for dir in std::env::split_paths(&dirs) {
                let mut files: Vec<PathBuf> =
                    std::fs::read_dir(&dir).expect("series dir").map(|e| e.expect("entry").path()).collect();
                files.sort();
                names.push(format!(
                    "{} ({} files)",
                    dir.file_name().map(|n| n.to_string_lossy()).unwrap_or_default(),
                    files.len()
                ));
                series.push(
                    files.iter().map(|f| std::fs::read(f).expect("read series file")).collect::<Vec<_>>(),
                );
            }
            (names, series)
        }
        None => (
            vec!["synthetic edited series (set AGENTRY_CDC_SERIES for real data)".to_owned()],
            vec![edited_series(3, 8 << 20, 10, 20)],
        ),
    };
    let mut rows = Vec::new();
    for (name, versions) in label.iter().zip(&series) {
        let total: usize = versions.iter().map(Vec::len).sum();
        for avg in [4096u32, 16384, 65536, 524288] {
            let p = Params::reapi(avg, 0).expect("valid").with_chunking_threshold(0);
            let (mut cdc, mut fixed) = (HashSet::new(), HashSet::new());
            let (mut cdc_bytes, mut fixed_bytes) = (0usize, 0usize);
            for v in versions {
                for c in chunk(&p, v) {
                    if cdc.insert(digest(DigestFunction::Sha256, &v[c.range()])) {
                        cdc_bytes += c.length as usize;
                    }
                }
                for piece in v.chunks(avg as usize) {
                    if fixed.insert(digest(DigestFunction::Sha256, piece)) {
                        fixed_bytes += piece.len();
                    }
                }
            }
            let (r_cdc, r_fixed) = (total as f64 / cdc_bytes as f64, total as f64 / fixed_bytes as f64);
            rows.push([
                ("benchmark", format!("cdc/dedup {name} avg {} KiB", avg / 1024)),
                ("ours", format!("{r_cdc:.3}x ({:.1}% saved)", 100.0 * (1.0 - 1.0 / r_cdc))),
                ("anchor_name", format!("fixed {} KiB blocks", avg / 1024)),
                ("anchor", format!("{r_fixed:.3}x ({:.1}% saved)", 100.0 * (1.0 - 1.0 / r_fixed))),
                ("ratio", format!("{:.2}", r_cdc / r_fixed)),
                (
                    "note",
                    format!(
                        "dedup ratio = bytes / unique bytes stored; {} versions, {:.1} MB",
                        versions.len(),
                        total as f64 / 1e6
                    ),
                ),
            ]);
        }
    }
    for (name, versions) in label.iter().zip(&series) {
        for avg in [65536u32, 524288] {
            let p = Params::reapi(avg, 0).expect("valid").with_chunking_threshold(0);
            let r = repmax_like(avg);
            let fast = stored(versions, |v| chunk(&p, v));
            let rep = stored(versions, |v| repmax_chunk(&r, v));
            rows.push([
                ("benchmark", format!("cdc/dedup-repmax {name} min {} KiB", r.min_size() / 1024)),
                ("ours", rep.describe()),
                ("anchor_name", format!("FastCDC 2020 avg {} KiB", avg / 1024)),
                ("anchor", fast.describe()),
                ("ratio", format!("{:.3}", fast.bytes as f64 / rep.bytes as f64)),
                ("note", "bytes stored: FastCDC / RepMaxCDC (above 1: RepMaxCDC stores less)".to_owned()),
            ]);
        }
    }
    agentry_benches::report_extra("cdc-dedup", &rows).expect("write report rows");
}

/// What a chunker stores for a version series: unique bytes and chunks, and the sizes of all chunks cut.
struct Stored {
    bytes: u64,
    chunks: usize,
    mean: f64,
    sd: f64,
}

impl Stored {
    fn describe(&self) -> String {
        format!(
            "{:.1} MB in {} chunks (sizes {:.0} +- {:.0} KiB)",
            self.bytes as f64 / 1e6,
            self.chunks,
            self.mean / 1024.0,
            self.sd / 1024.0
        )
    }
}

fn stored(versions: &[Vec<u8>], cut: impl Fn(&[u8]) -> Vec<Chunk>) -> Stored {
    let mut seen = HashSet::new();
    let (mut bytes, mut sizes) = (0u64, Vec::new());
    for v in versions {
        for c in cut(v) {
            sizes.push(c.length as f64);
            if seen.insert(digest(DigestFunction::Sha256, &v[c.range()])) {
                bytes += c.length;
            }
        }
    }
    let mean = sizes.iter().sum::<f64>() / sizes.len().max(1) as f64;
    let var = sizes.iter().map(|s| (s - mean) * (s - mean)).sum::<f64>() / sizes.len().max(1) as f64;
    Stored { bytes, chunks: seen.len(), mean, sd: var.sqrt() }
}

/// Whole against chunked transfers through real BuildGrid servers, on loopback and on a broadband-like link.
fn remote_report(_c: &mut Criterion) {
    // The installation .ci/buildgrid.sh makes, unless AGENTRY_BGD names another.
    let installed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/buildgrid-0.9.1/bin/bgd");
    let bgd = std::env::var_os("AGENTRY_BGD").map(PathBuf::from).unwrap_or(installed);
    if !bgd.exists() {
        eprintln!(
            "cdc/remote skipped: no BuildGrid at {} (source .ci/buildgrid.sh to install it)",
            bgd.display()
        );
        return;
    }
    let scratch = tempfile::tempdir().expect("tempdir");
    let (label, mut files) =
        match std::env::var_os("AGENTRY_CDC_SERIES").and_then(|d| std::env::split_paths(&d).next()) {
            Some(dir) => {
                let mut files: Vec<PathBuf> =
                    std::fs::read_dir(&dir).expect("series dir").map(|e| e.expect("entry").path()).collect();
                files.sort();
                (dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(), files)
            }
            None => {
                let files = edited_series(11, 24 << 20, 5, 20)
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let path = scratch.path().join(format!("v{i}"));
                        std::fs::write(&path, v).expect("write series file");
                        path
                    })
                    .collect();
                ("synthetic edited series".to_owned(), files)
            }
        };
    if agentry_benches::quick() {
        files.truncate(3);
    }
    let mut rows = Vec::new();
    for (name, link) in
        [("loopback", None), ("100Mbit-20ms", Some(agentry_benches::relay::Link::broadband()))]
    {
        let relay = std::path::Path::new(env!("CARGO_BIN_EXE_link-relay"));
        let runs = agentry_benches::cdc_remote::run_series(&bgd, relay, &files, link).expect("remote series");
        for r in agentry_benches::cdc_remote::rows(&format!("{name} {label}"), &runs) {
            eprintln!("{}: {} | {} | ratio {} | {}", r[0].1, r[1].1, r[3].1, r[4].1, r[5].1);
            rows.push(r);
        }
    }
    agentry_benches::report_extra("cdc-remote", &rows).expect("write report rows");
}

criterion_group!(benches, scan, repmax_scan, chunk_digest, dedup_report, remote_report);
criterion_main!(benches);

//! `agentry-ingest` benchmarks.
//!
//! Document ingest: throughput against text-splitter alone (`ingest/throughput`), query latency at 10k and
//! 100k chunks against a naive scan-and-sort (`ingest/query-*`), and as report rows the re-embedded share on
//! the Rust Book snapshots against document-level hashing and greedy packing, query latency p50/p99 and
//! recall@10.
//!
//! Report rows `ingest/first-ingest-disk`: a first ingest of a Rust Book snapshot into a new registry file
//! under the target folder (on disk, SQLite with `synchronous = FULL`), against LangChain's `index()` with its
//! `SQLRecordManager` in a SQLite file beside it and the same kind of counting fake embedder
//! (`benches/python/langchain_ingest.py`, run from a virtual environment this bench creates under the target
//! folder with pinned packages from PyPI). Runs alternate, ours then LangChain's, and each side's median is
//! reported; ours is timed in process from opening the registry to the end of the run, LangChain's from the
//! split to the end of `index()` (interpreter start and imports excluded). When the environment cannot be
//! made, the rows say so and give ours alone.
//!
//! Group `ingest/columns-profile`: profiling a generated CSV (seeded, written once under the target
//! directory) for the column policy: per column dtype, nulls, distinct values (exact, then HyperLogLog)
//! and a seeded reservoir sample, in rows per second. The anchor `anchor-csv-read` reads the same file with
//! the `csv` crate and touches every field without profiling: the floor our profiler builds on.

use std::{hint::black_box, path::PathBuf, time::Instant};

use agentry_benches::{
    ingest::{
        LANGCHAIN_PACKAGES, RUST_BOOK_SNAPSHOTS, RUST_BOOK_U, bench_target_dir, langchain_python,
        read_markdown_tree, rust_book_dir, synthetic_book, synthetic_paragraphs,
    },
    quick, report_extra,
};
use agentry_ingest::{
    ChunkConfig, DocumentKind, Embedder, HashingEmbedder, IngestOptions, ProfileOptions, Profiler, Registry,
    SearchMode, SearchOptions, Snapshot, SourceDocument, SourceItem, chunk_document,
};
use agentry_types::DocumentId;
use criterion::{Criterion, Throughput, criterion_group};

const MAX_CHUNK: usize = 1500;

fn items(docs: &[(String, String)]) -> Vec<SourceItem> {
    docs.iter()
        .map(|(id, text)| {
            SourceItem::Document(SourceDocument {
                id: DocumentId::new(id.clone()).expect("corpus paths are valid ids"),
                source: id.clone(),
                text: text.clone(),
            })
        })
        .collect()
}

/// The newest Rust Book snapshot, or a synthetic book of similar size when the data folder is absent.
fn corpus() -> Vec<(String, String)> {
    if let Some(dir) = rust_book_dir()
        && let Ok(docs) = read_markdown_tree(&dir.join("2025-08-02"))
    {
        return docs;
    }
    synthetic_book(7, 110)
}

fn greedy_chunks(text: &str) -> Vec<String> {
    text_splitter::MarkdownSplitter::new(MAX_CHUNK).chunks(text).map(str::to_owned).collect()
}

fn throughput(c: &mut Criterion) {
    let docs = corpus();
    let bytes: usize = docs.iter().map(|(_, t)| t.len()).sum();
    let e = HashingEmbedder::new();
    let cfg = ChunkConfig { max_bytes: MAX_CHUNK, ..ChunkConfig::default() };
    let mut g = c.benchmark_group("ingest/throughput");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.sample_size(10);
    g.bench_function("agentry", |b| {
        b.iter(|| {
            let mut r = Registry::open_in_memory().expect("in-memory registry");
            black_box(r.ingest(items(&docs), &e, &IngestOptions::default()).expect("ingest").chunks_total)
        })
    });
    g.bench_function("agentry-chunk", |b| {
        b.iter(|| {
            docs.iter()
                .map(|(_, t)| black_box(chunk_document(DocumentKind::Markdown, t, &cfg)).len())
                .sum::<usize>()
        })
    });
    g.bench_function("anchor-text-splitter", |b| {
        let splitter = text_splitter::MarkdownSplitter::new(MAX_CHUNK);
        b.iter(|| docs.iter().map(|(_, t)| splitter.chunks(black_box(t)).count()).sum::<usize>())
    });
    g.finish();
}

fn snapshot_of(n: usize, e: &HashingEmbedder) -> Snapshot {
    let paragraphs = synthetic_paragraphs(11, n);
    let cfg = ChunkConfig { max_bytes: 100_000, ..ChunkConfig::default() };
    let docs: Vec<(DocumentId, Vec<agentry_ingest::Chunk>)> = paragraphs
        .chunks(10)
        .enumerate()
        .map(|(i, ps)| {
            let chunks = chunk_document(DocumentKind::Text, &ps.join("\n\n"), &cfg);
            (DocumentId::new(format!("doc{i}.txt")).expect("valid id"), chunks)
        })
        .collect();
    Snapshot::from_chunks(1, e, &docs).expect("snapshot")
}

/// Naive baseline: all cosines into a vector, full sort.
fn naive_search(e: &HashingEmbedder, vectors: &[Vec<f32>], query: &str, k: usize) -> Vec<(usize, f32)> {
    let q = e.embed(&[query]).expect("embed").remove(0);
    let mut all: Vec<(usize, f32)> =
        vectors.iter().enumerate().map(|(i, v)| (i, v.iter().zip(&q).map(|(a, b)| a * b).sum())).collect();
    all.sort_by(|a, b| b.1.total_cmp(&a.1));
    all.truncate(k);
    all
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn query(c: &mut Criterion) {
    let e = HashingEmbedder::new();
    // 200 distinct queries and at least 200 timings, so a p99 is an order statistic of the tail rather than the
    // second-slowest of 64.
    let queries = synthetic_paragraphs(99, 200);
    let mut rows = Vec::new();
    for (n, label) in [(10_000, "10k"), (100_000, "100k")] {
        let snap = snapshot_of(n, &e);
        let texts = synthetic_paragraphs(11, n);
        let vectors = e.embed(&texts.iter().map(String::as_str).collect::<Vec<_>>()).expect("embed");
        let mut g = c.benchmark_group(format!("ingest/query-{label}"));
        g.sample_size(10);
        let mut qi = 0;
        g.bench_function("agentry", |b| {
            b.iter(|| {
                qi = (qi + 1) % queries.len();
                black_box(snap.search(&e, &queries[qi], &SearchOptions::default()).expect("search")).len()
            })
        });
        g.bench_function("agentry-vector", |b| {
            let opts = SearchOptions { mode: SearchMode::Vector, ..SearchOptions::default() };
            b.iter(|| {
                qi = (qi + 1) % queries.len();
                black_box(snap.search(&e, &queries[qi], &opts).expect("search")).len()
            })
        });
        g.bench_function("anchor-naive-scan-sort", |b| {
            b.iter(|| {
                qi = (qi + 1) % queries.len();
                black_box(naive_search(&e, &vectors, &queries[qi], 10)).len()
            })
        });
        #[cfg(feature = "hnsw")]
        let hnsw = {
            let mut ann = snapshot_of(n, &e);
            let started = Instant::now();
            ann.build_hnsw().expect("build the HNSW graph");
            let build = started.elapsed().as_secs_f64();
            g.bench_function("agentry-hnsw", |b| {
                let opts = SearchOptions { mode: SearchMode::Vector, ..SearchOptions::default() };
                b.iter(|| {
                    qi = (qi + 1) % queries.len();
                    black_box(ann.search(&e, &queries[qi], &opts).expect("search")).len()
                })
            });
            (ann, build)
        };
        g.finish();
        drop(vectors);
        #[cfg(feature = "hnsw")]
        {
            let (ann, build) = hnsw;
            let opts = SearchOptions { mode: SearchMode::Vector, ..SearchOptions::default() };
            let mut found = 0usize;
            let mut ms: Vec<f64> = Vec::new();
            for q in &queries {
                let exact: Vec<_> =
                    snap.search(&e, q, &opts).expect("search").into_iter().map(|h| h.chunk_id).collect();
                let t = Instant::now();
                let approx = ann.search(&e, q, &opts).expect("search");
                ms.push(t.elapsed().as_secs_f64() * 1e3);
                found += approx.iter().filter(|h| exact.contains(&h.chunk_id)).count();
            }
            ms.sort_by(f64::total_cmp);
            rows.push([
                ("benchmark", format!("ingest/hnsw-{label} (recall@10 vs exact, p50 / p99 ms)")),
                (
                    "ours",
                    format!(
                        "{:.1}%, {:.2} / {:.2}",
                        found as f64 * 100.0 / (queries.len() * 10) as f64,
                        percentile(&ms, 0.5),
                        percentile(&ms, 0.99)
                    ),
                ),
                ("anchor_name", "exact scan".to_owned()),
                ("anchor", "100%".to_owned()),
                ("ratio", "-".to_owned()),
                (
                    "note",
                    format!("usearch M=16, ef=128, f32 cosine; graph built in {build:.1} s, one thread"),
                ),
            ]);
        }

        // p50/p99 need the distribution of single queries, which criterion's summary does not give.
        let lat = |mode: SearchMode| {
            let opts = SearchOptions { mode, ..SearchOptions::default() };
            let reps = if quick() { 200 } else { 1000 };
            let mut ms: Vec<f64> = (0..reps)
                .map(|i| {
                    let t = Instant::now();
                    black_box(snap.search(&e, &queries[i % queries.len()], &opts).expect("search"));
                    t.elapsed().as_secs_f64() * 1e3
                })
                .collect();
            ms.sort_by(f64::total_cmp);
            (percentile(&ms, 0.5), percentile(&ms, 0.99))
        };
        let (h50, h99) = lat(SearchMode::Hybrid);
        let (v50, v99) = lat(SearchMode::Vector);
        rows.push([
            ("benchmark", format!("ingest/query-latency-{label} (p50 / p99, ms)")),
            ("ours", format!("hybrid {h50:.2} / {h99:.2}")),
            ("anchor_name", "vector-only exact scan".to_owned()),
            ("anchor", format!("{v50:.2} / {v99:.2}")),
            ("ratio", format!("{:.2}", h50 / v50)),
            ("note", format!("{n} chunks, 256-d hashing vectors, k=10, single thread")),
        ]);
    }
    report_extra("ingest-query-latency", &rows).expect("write report rows");
}

/// Shares (by count, by bytes) of the chunks of `new` whose text is not among the chunks of `old`, for a
/// chunker; also the number of chunks of `new`.
fn fresh_share(
    old: &[(String, String)],
    new: &[(String, String)],
    chunker: impl Fn(&str) -> Vec<String>,
) -> (f64, f64, usize) {
    let before: std::collections::HashSet<String> = old.iter().flat_map(|(_, t)| chunker(t)).collect();
    let after: Vec<String> = new.iter().flat_map(|(_, t)| chunker(t)).collect();
    let fresh: Vec<&String> = after.iter().filter(|c| !before.contains(*c)).collect();
    let bytes = |v: &mut dyn Iterator<Item = &String>| v.map(String::len).sum::<usize>() as f64;
    (
        fresh.len() as f64 / after.len() as f64,
        bytes(&mut fresh.iter().copied()) / bytes(&mut after.iter()),
        after.len(),
    )
}

fn our_chunks(text: &str) -> Vec<String> {
    let cfg = ChunkConfig { max_bytes: MAX_CHUNK, ..ChunkConfig::default() };
    chunk_document(DocumentKind::Markdown, text, &cfg).into_iter().map(|c| c.text).collect()
}

/// Share of chunks re-embedded by document-level hashing: every chunk of a new or changed document.
fn doc_level_share(old: &[(String, String)], new: &[(String, String)]) -> f64 {
    let cfg = ChunkConfig { max_bytes: MAX_CHUNK, ..ChunkConfig::default() };
    let before: std::collections::HashMap<&str, &str> =
        old.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    let (mut dirty, mut total) = (0usize, 0usize);
    for (p, t) in new {
        let n = chunk_document(DocumentKind::Markdown, t, &cfg).len();
        total += n;
        if before.get(p.as_str()) != Some(&t.as_str()) {
            dirty += n;
        }
    }
    dirty as f64 / total as f64
}

fn rust_book_rows() {
    let Some(dir) = rust_book_dir() else {
        eprintln!(
            "ingest: Rust Book snapshots not found (set AGENTRY_RUST_BOOK_DIR); re-embed and recall rows skipped"
        );
        return;
    };
    let snaps: Vec<Vec<(String, String)>> = RUST_BOOK_SNAPSHOTS
        .iter()
        .map(|s| read_markdown_tree(&dir.join(s)).expect("readable snapshot"))
        .collect();
    let e = HashingEmbedder::new();
    let mut rows = Vec::new();
    for step in 0..3 {
        let (old, new) = (&snaps[step], &snaps[step + 1]);
        let mut r = Registry::open_in_memory().expect("registry");
        r.ingest(items(old), &e, &IngestOptions::default()).expect("ingest old");
        let rep = r.ingest(items(new), &e, &IngestOptions::default()).expect("ingest new");
        let ours = rep.chunks_embedded as f64 / rep.chunks_total as f64;
        let (greedy, greedy_bytes, greedy_n) = fresh_share(old, new, greedy_chunks);
        let (_, ours_bytes, _) = fresh_share(old, new, our_chunks);
        let doc = doc_level_share(old, new);
        let u = RUST_BOOK_U[step];
        rows.push([
            (
                "benchmark",
                format!(
                    "ingest/re-embedded-share {} -> {}",
                    RUST_BOOK_SNAPSHOTS[step],
                    RUST_BOOK_SNAPSHOTS[step + 1]
                ),
            ),
            (
                "ours",
                format!(
                    "{:.1}% of chunks ({} of {}), {:.1}% of bytes",
                    ours * 100.0,
                    rep.chunks_embedded,
                    rep.chunks_total,
                    ours_bytes * 100.0
                ),
            ),
            ("anchor_name", "greedy packing (text-splitter markdown, 1500 B)".to_owned()),
            (
                "anchor",
                format!(
                    "{:.1}% of chunks (of {greedy_n}), {:.1}% of bytes",
                    greedy * 100.0,
                    greedy_bytes * 100.0
                ),
            ),
            ("ratio", format!("{:.2}", ours_bytes / greedy_bytes)),
            (
                "note",
                format!(
                    "ratio by bytes; document-level hashing {:.1}% of chunks; bound 1-0.9U = {:.1}%, aim 1-0.97U = {:.1}% (U = {:.2}%)",
                    doc * 100.0,
                    (1.0 - 0.9 * u) * 100.0,
                    (1.0 - 0.97 * u) * 100.0,
                    u * 100.0
                ),
            ),
        ]);
    }
    report_extra("ingest-reembed", &rows).expect("write report rows");

    let mut r = Registry::open_in_memory().expect("registry");
    r.ingest(items(&snaps[3]), &e, &IngestOptions::default()).expect("ingest");
    let snap = r.snapshot(None).expect("snapshot");
    let queries = snap.heading_queries();
    let recall = |mode| {
        snap.recall_at(&e, &queries, &SearchOptions { k: 10, mode, doc_prefix: None }).expect("recall")
    };
    let (h, v, l) = (recall(SearchMode::Hybrid), recall(SearchMode::Vector), recall(SearchMode::Lexical));
    #[allow(unused_mut)]
    let mut rows = vec![[
        ("benchmark", "ingest/recall@10 known-item (heading -> its section), hashing embedder".to_owned()),
        ("ours", format!("hybrid {:.1}%, vector {:.1}%", h * 100.0, v * 100.0)),
        ("anchor_name", "BM25 only".to_owned()),
        ("anchor", format!("{:.1}%", l * 100.0)),
        ("ratio", format!("{:.2}", h / l)),
        (
            "note",
            format!(
                "{} queries over rust-book 2025-08-02, {} chunks; a hit counts when it is a body chunk of that section",
                queries.len(),
                snap.len()
            ),
        ),
    ]];
    #[cfg(feature = "minilm")]
    minilm_recall(&snaps[3], &mut rows);
    report_extra("ingest-recall", &rows).expect("write report rows");
}

fn columns_rows() -> usize {
    if agentry_benches::quick() { 100_000 } else { 1_000_000 }
}

/// `<target>/agentry-bench-data`, from the bench executable's own path (`<target>/release/deps/<bench>`).
fn data_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("bench executable path");
    let target = exe.ancestors().nth(3).map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
    target.join("agentry-bench-data")
}

fn columns_profile(c: &mut Criterion) {
    let rows = columns_rows();
    let path = agentry_benches::ingest_columns::csv_file(&data_dir(), 11, rows).expect("write the corpus");
    let opts = ProfileOptions::default();
    let profile = || {
        let mut p = Profiler::new(opts);
        p.read_path(&path).expect("profile");
        p.finish()
    };
    let table = profile();
    assert_eq!(table.rows, rows as u64);
    assert_eq!(table.columns.len(), 8);

    let mut g = c.benchmark_group("ingest/columns-profile");
    g.throughput(Throughput::Elements(rows as u64));
    g.sample_size(10);
    g.bench_function("agentry", |b| b.iter(|| black_box(profile()).rows));
    g.bench_function("anchor-csv-read", |b| {
        b.iter(|| {
            let mut rdr = csv::Reader::from_path(&path).expect("open");
            let mut rec = csv::ByteRecord::new();
            let mut bytes = 0usize;
            while rdr.read_byte_record(&mut rec).expect("read") {
                bytes += rec.iter().map(<[u8]>::len).sum::<usize>();
            }
            black_box(bytes)
        })
    });
    g.finish();
    pandas_row(&path, rows, || {
        black_box(profile());
    });
}

/// Profiles like ours in pandas: read the CSV, then per column dtype, nulls, distinct count and a seeded
/// sample of up to 1,000 non-null values. Prints the seconds spent, excluding interpreter start and imports.
const PANDAS_PROFILE: &str = r#"
import sys, time
import pandas as pd
t = time.perf_counter()
df = pd.read_csv(sys.argv[1])
for c in df.columns:
    s = df[c]
    nulls = int(s.isna().sum())
    distinct = int(s.nunique())
    sample = s.dropna().sample(n=min(1000, len(s) - nulls), random_state=1).tolist()
    dtype = str(s.dtype)
print(time.perf_counter() - t)
"#;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// A report row: our profile against pandas on the same file, median of three runs each. pandas is the tool
/// a data engineer profiles a CSV with; the row is skipped when python3 with pandas is not installed.
fn pandas_row(path: &std::path::Path, rows: usize, ours: impl Fn()) {
    let pandas_once = || -> Option<f64> {
        let out =
            std::process::Command::new("python3").arg("-c").arg(PANDAS_PROFILE).arg(path).output().ok()?;
        if !out.status.success() {
            return None;
        }
        String::from_utf8(out.stdout).ok()?.trim().parse().ok()
    };
    let Some(first) = pandas_once() else {
        eprintln!("ingest: python3 with pandas not found; the pandas column-profile row is skipped");
        return;
    };
    let theirs = median(std::iter::once(first).chain((0..2).filter_map(|_| pandas_once())).collect());
    let ours = median(
        (0..3)
            .map(|_| {
                let t = Instant::now();
                ours();
                t.elapsed().as_secs_f64()
            })
            .collect(),
    );
    let rate = |secs: f64| format!("{:.0} ms ({:.2} M rows/s)", secs * 1e3, rows as f64 / secs / 1e6);
    let row = [[
        ("benchmark", format!("ingest/columns-profile {rows} rows, whole profile")),
        ("ours", rate(ours)),
        ("anchor_name", "pandas read_csv + isna/nunique/sample per column".to_owned()),
        ("anchor", rate(theirs)),
        ("ratio", format!("{:.2}x", theirs / ours)),
        ("note", "median of 3 runs each; pandas timed inside the interpreter, imports excluded".to_owned()),
    ]];
    agentry_benches::report_extra("ingest-columns-pandas", &row).expect("write report rows");
}

/// Recall@10 of the same known-item queries with all-MiniLM-L6-v2 (feature `minilm`, model files present).
#[cfg(feature = "minilm")]
fn minilm_recall(docs: &[(String, String)], rows: &mut Vec<[(&'static str, String); 6]>) {
    let dir = agentry_ingest::MiniLmEmbedder::default_dir();
    let m = match agentry_ingest::MiniLmEmbedder::from_dir(&dir) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("ingest: minilm recall skipped: {e}");
            return;
        }
    };
    let mut r = Registry::open_in_memory().expect("registry");
    let started = Instant::now();
    r.ingest(items(docs), &m, &IngestOptions::default()).expect("ingest with minilm");
    let secs = started.elapsed().as_secs_f64();
    let snap = r.snapshot(None).expect("snapshot");
    let queries = snap.heading_queries();
    let recall = |mode| {
        snap.recall_at(&m, &queries, &SearchOptions { k: 10, mode, doc_prefix: None }).expect("recall")
    };
    let (h, v, l) = (recall(SearchMode::Hybrid), recall(SearchMode::Vector), recall(SearchMode::Lexical));
    rows.push([
        ("benchmark", "ingest/recall@10 known-item (heading -> its section), all-MiniLM-L6-v2".to_owned()),
        ("ours", format!("hybrid {:.1}%, vector {:.1}%", h * 100.0, v * 100.0)),
        ("anchor_name", "BM25 only".to_owned()),
        ("anchor", format!("{:.1}%", l * 100.0)),
        ("ratio", format!("{:.2}", h / l)),
        (
            "note",
            format!(
                "{} queries, {} chunks; embedding the snapshot took {secs:.0} s on the CPU ({})",
                queries.len(),
                snap.len(),
                m.id()
            ),
        ),
    ]);
}

/// One LangChain first ingest of `snapshot` into the record-manager file `db`: seconds of split + `index()`,
/// and the number of chunks it indexed.
fn langchain_first_ingest(
    python: &std::path::Path,
    snapshot: &std::path::Path,
    db: &std::path::Path,
) -> (f64, u64) {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("python/langchain_ingest.py");
    let out =
        std::process::Command::new(python).arg(script).arg(snapshot).arg(db).output().expect("run python");
    assert!(out.status.success(), "LangChain ingest failed: {}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("LangChain script prints JSON");
    let secs = v["split_s"].as_f64().expect("split_s") + v["index_s"].as_f64().expect("index_s");
    (secs, v["result"]["num_added"].as_u64().expect("num_added"))
}

/// Report rows: first ingest of two Rust Book snapshots on disk, ours against LangChain `index()` +
/// `SQLRecordManager`, alternating runs, medians.
fn first_ingest_disk_rows() {
    let Some(book) = rust_book_dir() else {
        eprintln!(
            "ingest: Rust Book snapshots not found (set AGENTRY_RUST_BOOK_DIR); disk ingest rows skipped"
        );
        return;
    };
    let target = bench_target_dir().expect("target folder");
    let scratch =
        tempfile::Builder::new().prefix("ingest-disk-").tempdir_in(&target).expect("scratch folder");
    let python = langchain_python();
    if let Err(why) = &python {
        eprintln!("ingest: the LangChain anchor cannot run here: {why}");
    }
    let runs = if quick() { 3 } else { 7 };
    let e = HashingEmbedder::new();
    let mut rows = Vec::new();
    for snap in [RUST_BOOK_SNAPSHOTS[0], RUST_BOOK_SNAPSHOTS[3]] {
        let dir = book.join(snap);
        let bytes: usize = read_markdown_tree(&dir).expect("snapshot").iter().map(|(_, t)| t.len()).sum();
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        let (mut chunks, mut lc_chunks) = (0, 0);
        for run in 0..runs {
            let db = scratch.path().join(format!("{snap}-{run}.db"));
            let started = Instant::now();
            let mut r = Registry::open(&db).expect("registry on disk");
            let rep = r.ingest_dir(&dir, &e, &IngestOptions::default(), &mut |_| {}).expect("ingest");
            drop(r);
            ours.push(started.elapsed().as_secs_f64());
            chunks = rep.chunks_total;
            if let Ok(py) = &python {
                let (secs, n) =
                    langchain_first_ingest(py, &dir, &scratch.path().join(format!("lc-{snap}-{run}.db")));
                theirs.push(secs);
                lc_chunks = n;
            }
        }
        let ours = median(ours);
        let rate = |secs: f64| format!("{:.0} ms ({:.2} MB/s)", secs * 1e3, bytes as f64 / secs / 1e6);
        let (anchor, ratio) = match &python {
            Ok(_) => {
                let theirs = median(theirs);
                (rate(theirs), format!("{:.2}x", theirs / ours))
            }
            Err(why) => (format!("not run: {why}"), "-".to_owned()),
        };
        rows.push([
            ("benchmark", format!("ingest/first-ingest-disk rust-book {snap} ({:.2} MB)", bytes as f64 / 1e6)),
            ("ours", rate(ours)),
            ("anchor_name", "LangChain index() + SQLRecordManager (SQLite file), fake embedder".to_owned()),
            ("anchor", anchor),
            ("ratio", ratio),
            (
                "note",
                format!(
                    "median of {runs} alternating runs, registry files under the target folder; ours {chunks} chunks \
                     (open, chunk, hashing embedder, SQLite synchronous=FULL), LangChain {lc_chunks} chunks \
                     (MarkdownTextSplitter 1500/0, batch 100, in-memory vector store, imports excluded; {})",
                    LANGCHAIN_PACKAGES.join(" ")
                ),
            ),
        ]);
    }
    report_extra("ingest-first-ingest-disk", &rows).expect("write report rows");
}

criterion_group!(benches, throughput, query, columns_profile);

fn main() {
    benches();
    first_ingest_disk_rows();
    rust_book_rows();
    Criterion::default().configure_from_args().final_summary();
}

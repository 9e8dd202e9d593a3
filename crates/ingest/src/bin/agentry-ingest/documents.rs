//! The document-ingest subcommands: index, query, status, versions, promote, rollback, reconcile, delete.

use std::{
    io::BufRead,
    path::{Path, PathBuf},
    process::ExitCode,
};

use agentry_ingest::{
    ChunkConfig, Embedder, HashingEmbedder, IngestOptions, KnownItem, Registry, SearchMode, SearchOptions,
    SyncMode, Validation,
};
use agentry_types::{DocumentId, Timestamp};
use anyhow::{Context, bail};

/// Where the registry lives (every document command takes it).
#[derive(Debug, clap::Args)]
pub(crate) struct Db {
    /// The registry database (SQLite); created if missing.
    #[arg(long, default_value = "agentry-ingest.db")]
    db: PathBuf,
}

impl Db {
    fn open(&self) -> anyhow::Result<Registry> {
        Registry::open(&self.db).with_context(|| format!("opening registry {}", self.db.display()))
    }
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum Sync {
    /// Documents missing from DIR are marked deleted.
    Full,
    /// Only additions and changes; nothing is deleted.
    Incremental,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum EmbedderName {
    /// Deterministic feature hashing (no model).
    Hashing,
    /// all-MiniLM-L6-v2 through candle (needs the `minilm` feature and the model files).
    Minilm,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum Mode {
    /// BM25 and vector lists fused by reciprocal rank.
    Hybrid,
    /// Cosine similarity only.
    Vector,
    /// BM25 only.
    Lexical,
}

/// Arguments of `agentry-ingest index`.
#[derive(Debug, clap::Args)]
pub(crate) struct IndexArgs {
    /// The folder to ingest; document ids are paths relative to it.
    dir: PathBuf,
    #[command(flatten)]
    db: Db,
    /// Full sync deletes documents missing from DIR; incremental only adds and updates.
    #[arg(long, value_enum, default_value = "full")]
    sync: Sync,
    /// The embedder the new version is built with.
    #[arg(long, value_enum, default_value = "hashing")]
    embedder: EmbedderName,
    /// Build and validate the version but leave `current` where it is (promote it later).
    #[arg(long)]
    no_promote: bool,
    /// Clock time (RFC 3339, e.g. 2026-12-01T09:00:00Z) the new version goes live; until then queries are
    /// served what they were served before.
    #[arg(long, value_name = "RFC3339")]
    valid_from: Option<Timestamp>,
    /// Largest chunk in bytes.
    #[arg(long, default_value_t = 1500)]
    max_chunk_bytes: usize,
    /// Files larger than this many bytes are skipped.
    #[arg(long, default_value_t = 8 * 1024 * 1024)]
    max_file_bytes: u64,
    /// Complete versions to keep.
    #[arg(long, default_value_t = 5)]
    keep: usize,
    /// Bytes of document text written per transaction (new and changed documents are chunked, embedded and
    /// committed in batches of about this size).
    #[arg(long, default_value_t = 4 * 1024 * 1024)]
    batch_bytes: usize,
    /// Validation query set: JSON Lines of {"query": ..., "doc_id": ..., "heading_path": [...]}.
    #[arg(long)]
    queries: Option<PathBuf>,
    /// Minimum recall@10 of the validation query set for the version to be promoted.
    #[arg(long, default_value_t = 0.0)]
    recall_floor: f64,
    /// Print one JSON report instead of text.
    #[arg(long)]
    json: bool,
}

/// Arguments of `agentry-ingest query`.
#[derive(Debug, clap::Args)]
pub(crate) struct QueryArgs {
    /// The query text.
    text: String,
    #[command(flatten)]
    db: Db,
    /// Number of hits.
    #[arg(long, default_value_t = 10)]
    k: usize,
    /// Ranking.
    #[arg(long, value_enum, default_value = "hybrid")]
    mode: Mode,
    /// Only documents whose id starts with this prefix.
    #[arg(long)]
    doc_prefix: Option<String>,
    /// Query this version instead of `current` (it must be ready); ignores `--valid-from` schedules.
    #[arg(long, conflicts_with = "at")]
    version: Option<u32>,
    /// Query as of this clock time (RFC 3339) instead of now: a version staged for a later time is not live.
    #[arg(long, value_name = "RFC3339")]
    at: Option<Timestamp>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Arguments of commands that only need the registry and an optional `--json`.
#[derive(Debug, clap::Args)]
pub(crate) struct ShowArgs {
    #[command(flatten)]
    db: Db,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Arguments of `agentry-ingest promote`.
#[derive(Debug, clap::Args)]
pub(crate) struct PromoteArgs {
    /// The version to point `current` at.
    version: u32,
    #[command(flatten)]
    db: Db,
}

/// Arguments of `agentry-ingest delete`.
#[derive(Debug, clap::Args)]
pub(crate) struct DeleteArgs {
    /// Document ids (paths relative to the indexed folder).
    #[arg(required = true)]
    docs: Vec<String>,
    #[command(flatten)]
    db: Db,
    /// Stage the deletion in a new version without promoting it.
    #[arg(long)]
    no_promote: bool,
    /// Clock time (RFC 3339) the deletion goes live; until then queries are served what they were before.
    #[arg(long, value_name = "RFC3339")]
    valid_from: Option<Timestamp>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn embedder(name: EmbedderName) -> anyhow::Result<Box<dyn Embedder>> {
    match name {
        EmbedderName::Hashing => Ok(Box::new(HashingEmbedder::new())),
        EmbedderName::Minilm => minilm(),
    }
}

#[cfg(feature = "minilm")]
fn minilm() -> anyhow::Result<Box<dyn Embedder>> {
    let dir = agentry_ingest::MiniLmEmbedder::default_dir();
    let e = agentry_ingest::MiniLmEmbedder::from_dir(&dir).with_context(|| {
        format!(
            "loading all-MiniLM-L6-v2 from {} (run `cargo xtask fetch-minilm` in the agentry workspace)",
            dir.display()
        )
    })?;
    Ok(Box::new(e))
}

#[cfg(not(feature = "minilm"))]
fn minilm() -> anyhow::Result<Box<dyn Embedder>> {
    bail!("this build has no minilm embedder: rebuild with `--features minilm`")
}

/// The embedder matching an id recorded in an index version.
fn embedder_for_id(id: &str) -> anyhow::Result<Box<dyn Embedder>> {
    if let Some(dim) = id.strip_prefix("hashing-v1/d").and_then(|r| r.strip_suffix("/w1c3")) {
        let dim: usize = dim.parse().with_context(|| format!("embedder id {id:?}"))?;
        let e = HashingEmbedder::with_dim(dim);
        if e.id() == id {
            return Ok(Box::new(e));
        }
    }
    if id.starts_with("all-MiniLM-L6-v2/") {
        let e = minilm()?;
        if e.id() == id {
            return Ok(e);
        }
        bail!("the index was built with {id:?}, but the model files on this machine are {:?}", e.id());
    }
    bail!("no embedder with id {id:?} in this build")
}

fn read_queries(path: &Path) -> anyhow::Result<Vec<KnownItem>> {
    #[derive(serde::Deserialize)]
    struct Line {
        query: String,
        doc_id: String,
        #[serde(default)]
        heading_path: Vec<String>,
    }
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let l: Line = serde_json::from_str(&line).with_context(|| format!("{}:{}", path.display(), i + 1))?;
        out.push(KnownItem {
            query: l.query,
            doc_id: l.doc_id,
            heading_path: l.heading_path,
            exclude_text: None,
        });
    }
    Ok(out)
}

pub(crate) fn index(args: IndexArgs) -> anyhow::Result<ExitCode> {
    let embedder = embedder(args.embedder)?;
    let mut registry = args.db.open()?;
    let validation = match &args.queries {
        Some(p) => Some(Validation { queries: read_queries(p)?, recall_floor: args.recall_floor, k: 10 }),
        None => None,
    };
    let options = IngestOptions {
        sync: match args.sync {
            Sync::Full => SyncMode::Full,
            Sync::Incremental => SyncMode::Incremental,
        },
        chunking: ChunkConfig { max_bytes: args.max_chunk_bytes, ..ChunkConfig::default() },
        promote: !args.no_promote,
        keep_versions: args.keep,
        max_file_bytes: args.max_file_bytes,
        validation,
        batch_bytes: args.batch_bytes,
        live_from: args.valid_from,
    };
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} files {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let report = registry
        .ingest_dir(&args.dir, embedder.as_ref(), &options, &mut |p| {
            bar.set_length(p.total);
            bar.set_position(p.done);
        })
        .with_context(|| format!("indexing {}", args.dir.display()))?;
    bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "version {}{}: {} new, {} changed, {} unchanged, {} deleted documents; {} chunks embedded, {} reused, {} in the version",
            report.index_version,
            if report.promoted { " (current)" } else { " (staged)" },
            report.docs_new,
            report.docs_changed,
            report.docs_unchanged,
            report.docs_deleted,
            report.chunks_embedded,
            report.chunks_reused,
            report.chunks_total
        );
        if let Some(r) = report.recall {
            println!("validation recall@10 {r:.3} (floor {})", args.recall_floor);
        }
        for s in &report.skipped {
            println!("skipped {}: {}", s.path, s.reason);
        }
    }
    let failed_validation = report.recall.is_some_and(|r| r < args.recall_floor);
    Ok(if failed_validation { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

pub(crate) fn query(args: QueryArgs) -> anyhow::Result<ExitCode> {
    let mut registry = args.db.open()?;
    let snapshot = match (args.version, args.at) {
        (None, Some(at)) => registry.snapshot_at(at)?,
        (version, _) => registry.snapshot(version)?,
    };
    let embedder = embedder_for_id(snapshot.embedder_id())?;
    let options = SearchOptions {
        k: args.k,
        mode: match args.mode {
            Mode::Hybrid => SearchMode::Hybrid,
            Mode::Vector => SearchMode::Vector,
            Mode::Lexical => SearchMode::Lexical,
        },
        doc_prefix: args.doc_prefix,
    };
    let hits = snapshot.search(embedder.as_ref(), &args.text, &options)?;
    if args.json {
        let out = serde_json::json!({ "index_version": snapshot.version(), "hits": hits });
        println!("{out}");
    } else {
        for (i, h) in hits.iter().enumerate() {
            let first = h.text.lines().next().unwrap_or("");
            println!("{:>2}. {:.4} {} [{}] {}", i + 1, h.score, h.doc_id, h.heading_path.join(" > "), first);
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn status(args: ShowArgs) -> anyhow::Result<ExitCode> {
    let s = args.db.open()?.status()?;
    if args.json {
        println!("{}", serde_json::to_string(&s)?);
    } else {
        let v = |v: Option<u32>| v.map_or_else(|| "none".to_owned(), |v| v.to_string());
        println!("current version: {} (previous {})", v(s.current_version), v(s.previous_version));
        if let Some(t) = s.current_live_from {
            println!("current goes live at {t}; live now: {}", v(s.live_version));
        }
        println!("documents: {} active, {} deleted", s.documents_active, s.documents_deleted);
        println!("chunks in current: {}; stored vectors: {}", s.chunks_current, s.embeddings);
        let [b, r, f, t] = s.versions;
        println!("versions: {r} ready, {f} failed, {b} building, {t} retired");
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn versions(args: ShowArgs) -> anyhow::Result<ExitCode> {
    let versions = args.db.open()?.versions()?;
    if args.json {
        println!("{}", serde_json::to_string(&versions)?);
    } else {
        for v in versions {
            println!(
                "{}{:>4} {:<8} {:>6} docs {:>7} chunks  {}  {}{}",
                if v.current { '*' } else { ' ' },
                v.version,
                v.state.as_str(),
                v.documents,
                v.chunks,
                v.embedder,
                v.created_at,
                v.live_from.map_or_else(String::new, |t| format!("  live from {t}"))
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn promote(args: PromoteArgs) -> anyhow::Result<ExitCode> {
    args.db.open()?.promote(args.version)?;
    println!("current -> {}", args.version);
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn rollback(args: ShowArgs) -> anyhow::Result<ExitCode> {
    let v = args.db.open()?.rollback()?;
    println!("current -> {v}");
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn reconcile(args: ShowArgs) -> anyhow::Result<ExitCode> {
    let mut registry = args.db.open()?;
    let embedder = match registry.current_version()? {
        Some(v) => {
            let info = registry.versions()?.into_iter().find(|i| i.version == v);
            match info {
                Some(i) => embedder_for_id(&i.embedder)?,
                None => Box::new(HashingEmbedder::new()),
            }
        }
        None => Box::new(HashingEmbedder::new()),
    };
    let report = registry.reconcile(embedder.as_ref())?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "builds undone {}, vectors re-embedded {}, unrepairable {}, malformed removed {}, orphans removed {}, alias repaired {}",
            report.builds_undone,
            report.missing_vectors_repaired,
            report.missing_vectors_unrepairable,
            report.malformed_vectors_removed,
            report.orphan_vectors_removed,
            report.alias_repaired
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn delete(args: DeleteArgs) -> anyhow::Result<ExitCode> {
    let mut registry = args.db.open()?;
    let ids = args.docs.iter().map(|d| DocumentId::new(d.clone())).collect::<Result<Vec<_>, _>>()?;
    let embedder = match registry.current_version()? {
        Some(v) => match registry.versions()?.into_iter().find(|i| i.version == v) {
            Some(i) => embedder_for_id(&i.embedder)?,
            None => Box::new(HashingEmbedder::new()),
        },
        None => Box::new(HashingEmbedder::new()),
    };
    let options =
        IngestOptions { promote: !args.no_promote, live_from: args.valid_from, ..IngestOptions::default() };
    let report = registry.delete(&ids, embedder.as_ref(), &options)?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!("version {}: {} documents deleted", report.index_version, report.docs_deleted);
    }
    Ok(ExitCode::SUCCESS)
}

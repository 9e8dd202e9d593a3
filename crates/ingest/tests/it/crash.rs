//! Crash injection: the binary aborts at every failpoint of an `index` run in turn; after each crash the
//! alias must point at a complete version, no chunk of a half-ingested document may be visible, and a rerun
//! must converge to exactly the state of an uninterrupted run. Each scenario runs with the default write batch
//! (all documents in one transaction) and with one document per batch (a crash between committed batches).

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    process::Command,
};

use agentry_ingest::{FAILPOINT_ENV, Registry};

const BIN: &str = env!("CARGO_BIN_EXE_agentry-ingest");

fn write_tree(dir: &Path, files: &[(&str, &str)]) {
    if dir.exists() {
        std::fs::remove_dir_all(dir).expect("clear");
    }
    for (name, text) in files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().expect("has parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
}

const OLD: &[(&str, &str)] = &[
    ("a.md", "# A\n\nalpha one\n\nalpha two\n"),
    ("b.md", "# B\n\nbeta one\n\n## Sub\n\nbeta two\n"),
    ("c.txt", "gamma\n\ngamma again\n"),
    ("d/e.md", "# E\n\nepsilon\n"),
];
const NEW: &[(&str, &str)] = &[
    ("a.md", "# A\n\nalpha one\n\nalpha two, edited\n\nalpha three\n"),
    ("b.md", "# B\n\nbeta one\n\n## Sub\n\nbeta two\n"),
    ("d/e.md", "# E\n\nepsilon changed\n"),
    ("f.md", "# F\n\nphi\n\nalpha one\n"),
];

/// `--batch-bytes` of the runs under test: `None` for the default.
type Batch = Option<&'static str>;

fn index(src: &Path, db: &Path, batch: Batch, failpoint: Option<String>) -> std::process::ExitStatus {
    let mut cmd = Command::new(BIN);
    cmd.args(["index", "--keep", "2", "--json", "--db"]).arg(db).arg(src);
    if let Some(b) = batch {
        cmd.args(["--batch-bytes", b]);
    }
    cmd.env_remove(FAILPOINT_ENV);
    if let Some(f) = failpoint {
        cmd.env(FAILPOINT_ENV, f);
    }
    cmd.output().expect("run the binary").status
}

/// The registry state that must converge, without timestamps or the embedding cache.
fn dump(db: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).expect("open");
    let mut out = Vec::new();
    for sql in [
        "SELECT id || ' ' || state || ' ' || embedder FROM index_versions ORDER BY id",
        "SELECT id || ' ' || version || ' ' || content_hash || ' ' || status || ' ' || valid_from || ' ' || IFNULL(valid_to, '-') FROM documents ORDER BY id, version",
        "SELECT document || ' ' || doc_version || ' ' || ordinal || ' ' || hash || ' ' || valid_from || ' ' || IFNULL(valid_to, '-') FROM chunks ORDER BY document, doc_version, ordinal",
        "SELECT name || ' ' || version || ' ' || IFNULL(previous, '-') FROM aliases",
        "SELECT COUNT(*) FROM chunks c WHERE NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.hash = c.hash)",
    ] {
        let mut stmt = conn.prepare(sql).expect("prepare");
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0).or_else(|_| r.get::<_, i64>(0).map(|n| n.to_string())));
        out.extend(rows.expect("query").map(|r| r.expect("row")));
        out.push("--".to_owned());
    }
    out
}

/// (document, chunk hash) pairs the alias `current` serves, or None when nothing was promoted yet.
fn served(db: &Path) -> Option<BTreeSet<(String, String)>> {
    let mut r = Registry::open(db).expect("open");
    r.current_version().expect("alias")?;
    let snap = r.snapshot(None).expect("current version is complete and ready");
    let e = agentry_ingest::HashingEmbedder::new();
    let opts = agentry_ingest::SearchOptions {
        k: usize::MAX,
        mode: agentry_ingest::SearchMode::Vector,
        doc_prefix: None,
    };
    let hits = snap.search(&e, "alpha", &opts).expect("search");
    assert_eq!(hits.len(), snap.len());
    Some(hits.into_iter().map(|h| (h.doc_id.as_str().to_owned(), h.chunk_id.to_string())).collect())
}

struct Scenario {
    dir: tempfile::TempDir,
    old: PathBuf,
    new: PathBuf,
}

impl Scenario {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let old = dir.path().join("old");
        let new = dir.path().join("new");
        write_tree(&old, OLD);
        write_tree(&new, NEW);
        Self { dir, old, new }
    }

    fn db(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// Crashes the run that ingests `target` at failpoint hit 1, 2, ... until a run finishes without crashing;
/// returns the number of crashes. The reference is an uninterrupted run with the default batch.
fn crash_everywhere(s: &Scenario, before: Option<&Path>, target: &Path, batch: Batch) -> u32 {
    let tag = batch.unwrap_or("default");
    let reference = s.db(&format!("reference-{tag}.db"));
    if let Some(b) = before {
        assert!(index(b, &reference, None, None).success());
    }
    let served_before = served(&reference);
    assert!(index(target, &reference, None, None).success());
    let served_after = served(&reference);
    let want = dump(&reference);

    let mut crashes = 0;
    for k in 1.. {
        let db = s.db(&format!("crash-{tag}-{k}.db"));
        if let Some(b) = before {
            assert!(index(b, &db, batch, None).success());
        }
        let status = index(target, &db, batch, Some(format!("*:{k}")));
        if status.success() {
            assert_eq!(dump(&db), want, "run with failpoint {k} armed but never reached");
            break;
        }
        crashes += 1;
        let visible = served(&db);
        assert!(
            visible == served_before || visible == served_after,
            "after a crash at failpoint {k} the alias serves a mixture: {visible:?}"
        );
        assert!(index(target, &db, batch, None).success(), "rerun after crash {k}");
        assert_eq!(dump(&db), want, "rerun after crash at failpoint {k} did not converge");
        assert!(k < 200, "too many failpoints");
    }
    crashes
}

#[test]
fn crash_at_every_point_of_an_update_converges() {
    let s = Scenario::new();
    let batched = crash_everywhere(&s, Some(&s.old), &s.new, None);
    let per_document = crash_everywhere(&s, Some(&s.old), &s.new, Some("1"));
    assert!(batched >= 6, "only {batched} crash points exercised");
    // Three changed or new documents: a commit and its two failpoints each, instead of one for all three.
    assert!(per_document >= batched + 4, "only {per_document} crash points with one document per batch");
}

#[test]
fn crash_at_every_point_of_a_first_ingest_converges() {
    let s = Scenario::new();
    let batched = crash_everywhere(&s, None, &s.old, None);
    let per_document = crash_everywhere(&s, None, &s.old, Some("1"));
    assert!(batched >= 5, "only {batched} crash points exercised");
    // Four new documents: four commits instead of one.
    assert!(per_document >= batched + 6, "only {per_document} crash points with one document per batch");
}

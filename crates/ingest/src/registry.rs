//! The registry: the SQLite database that is the source of truth for documents, chunks, embeddings, index
//! versions and aliases.
//!
//! Chunk and document rows are versioned in time: a row is part of index version `v` when
//! `valid_from <= v < valid_to` (an open `valid_to` is infinity). Building version `v` therefore only inserts
//! rows with `valid_from = v` and closes rows with `valid_to = v`; neither changes what any earlier version
//! contains. Readers resolve the alias `current` and read that version inside one read transaction, so they
//! see one complete version whatever an ingest is doing. A version left `building` by a crash is undone by
//! deleting its inserted rows and reopening the rows it closed.

use std::path::Path;

use agentry_types::Timestamp;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::{embed::Embedder, error::Error};

/// The alias queries go through.
pub const CURRENT_ALIAS: &str = "current";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS index_versions (
    id INTEGER PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('building', 'ready', 'failed', 'retired')),
    embedder TEXT NOT NULL,
    dim INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    finished_at INTEGER,
    recall REAL,
    note TEXT
);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    source TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'deleted', 'superseded')),
    indexed_at INTEGER NOT NULL,
    valid_from INTEGER NOT NULL,
    valid_to INTEGER,
    PRIMARY KEY (id, version)
);
CREATE INDEX IF NOT EXISTS documents_validity ON documents (valid_from, valid_to);
CREATE TABLE IF NOT EXISTS chunks (
    hash TEXT NOT NULL,
    document TEXT NOT NULL,
    doc_version INTEGER NOT NULL,
    ordinal INTEGER NOT NULL,
    heading_path TEXT NOT NULL,
    text TEXT NOT NULL,
    valid_from INTEGER NOT NULL,
    valid_to INTEGER,
    PRIMARY KEY (document, doc_version, ordinal)
);
CREATE INDEX IF NOT EXISTS chunks_validity ON chunks (valid_from, valid_to);
CREATE INDEX IF NOT EXISTS chunks_hash ON chunks (hash);
CREATE TABLE IF NOT EXISTS embeddings (
    hash TEXT NOT NULL,
    embedder TEXT NOT NULL,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (hash, embedder)
);
CREATE TABLE IF NOT EXISTS aliases (
    name TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    previous INTEGER,
    swapped_at INTEGER NOT NULL
);
";

/// Separator of heading titles in the stored heading path (ASCII unit separator, never in a heading).
pub(crate) const HEADING_SEP: char = '\u{1f}';

/// The life-cycle state of an index version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VersionState {
    /// An ingest is writing it (or crashed while writing it; the next run undoes it).
    Building,
    /// Complete and validated; can be promoted.
    Ready,
    /// Complete but below the recall floor of its validation; not promoted automatically.
    Failed,
    /// Dropped by retention; its rows may be gone.
    Retired,
}

impl VersionState {
    fn parse(s: &str) -> Result<Self, Error> {
        Ok(match s {
            "building" => Self::Building,
            "ready" => Self::Ready,
            "failed" => Self::Failed,
            "retired" => Self::Retired,
            other => return Err(Error::Corrupt { what: "version state", detail: other.to_owned() }),
        })
    }

    /// The state as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Building => "building",
            Self::Ready => "ready",
            Self::Failed => "failed",
            Self::Retired => "retired",
        }
    }
}

/// One index version as listed by [`Registry::versions`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionInfo {
    /// Version number, increasing.
    pub version: u32,
    /// Its state.
    pub state: VersionState,
    /// Id of the embedder every vector of this version comes from.
    pub embedder: String,
    /// Vector dimension.
    pub dim: usize,
    /// When building started.
    pub created_at: Timestamp,
    /// Active documents in this version.
    pub documents: u64,
    /// Chunks in this version.
    pub chunks: u64,
    /// Recall measured by validation, when a query set was given.
    pub recall: Option<f64>,
    /// Whether the alias `current` points here.
    pub current: bool,
}

/// Counts shown by `status`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    /// The version `current` points at.
    pub current_version: Option<u32>,
    /// The version `current` pointed at before the last swap.
    pub previous_version: Option<u32>,
    /// Documents active in the newest built version.
    pub documents_active: u64,
    /// Documents whose newest row is a deletion.
    pub documents_deleted: u64,
    /// Chunks in the current version.
    pub chunks_current: u64,
    /// Stored embeddings, all embedders.
    pub embeddings: u64,
    /// Versions by state: building, ready, failed, retired.
    pub versions: [u64; 4],
}

/// What `reconcile` found and repaired.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReconcileReport {
    /// Interrupted builds undone.
    pub builds_undone: u64,
    /// Chunks of kept versions that had no vector for their version's embedder and were embedded again.
    pub missing_vectors_repaired: u64,
    /// Chunks whose vector cannot be repaired because their version's embedder is not the one given.
    pub missing_vectors_unrepairable: u64,
    /// Stored vectors of the wrong size, deleted (and re-embedded when referenced).
    pub malformed_vectors_removed: u64,
    /// Vectors no chunk of any kept version refers to, deleted.
    pub orphan_vectors_removed: u64,
    /// Whether the alias pointed at a version that cannot serve and was moved to the newest ready one.
    pub alias_repaired: bool,
}

/// The document and chunk registry with its embedding cache, index versions and aliases.
#[derive(Debug)]
pub struct Registry {
    pub(crate) conn: Connection,
}

pub(crate) fn now() -> i64 {
    Timestamp::now().unix_micros()
}

pub(crate) fn vector_to_blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub(crate) fn blob_to_vector(blob: &[u8], dim: usize, out: &mut Vec<f32>) -> Result<(), Error> {
    if blob.len() != dim * 4 {
        return Err(Error::Corrupt {
            what: "vector",
            detail: format!("{} bytes for dimension {dim}", blob.len()),
        });
    }
    out.extend(blob.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])));
    Ok(())
}

fn to_u32(v: i64, what: &'static str) -> Result<u32, Error> {
    u32::try_from(v).map_err(|_| Error::Corrupt { what, detail: v.to_string() })
}

impl Registry {
    /// Opens (creating if needed) the registry at `path`, in WAL mode so readers never block on a writer.
    pub fn open(path: &Path) -> Result<Self, Error> {
        let conn = Connection::open(path).map_err(Error::db("opening the database"))?;
        Self::init(conn)
    }

    /// A registry held in memory, for tests and experiments.
    pub fn open_in_memory() -> Result<Self, Error> {
        let conn = Connection::open_in_memory().map_err(Error::db("opening an in-memory database"))?;
        Self::init(conn)
    }

    fn init(conn: Connection) -> Result<Self, Error> {
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(Error::db("setting the busy timeout"))?;
        // journal_mode returns a row, so it goes through query_row.
        let _: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(Error::db("enabling write-ahead logging"))?;
        conn.execute_batch("PRAGMA synchronous = FULL;").map_err(Error::db("setting synchronous mode"))?;
        conn.execute_batch(SCHEMA).map_err(Error::db("creating the schema"))?;
        Ok(Self { conn })
    }

    /// The version the alias `current` points at.
    pub fn current_version(&self) -> Result<Option<u32>, Error> {
        alias(&self.conn, CURRENT_ALIAS)?.map(|(v, _)| Ok(v)).transpose()
    }

    /// Every index version, oldest first.
    pub fn versions(&self) -> Result<Vec<VersionInfo>, Error> {
        let current = self.current_version()?;
        let mut stmt = self
            .conn
            .prepare(
                "SELECT v.id, v.state, v.embedder, v.dim, v.created_at, v.recall,
                    (SELECT COUNT(*) FROM documents d WHERE d.valid_from <= v.id
                        AND (d.valid_to IS NULL OR d.valid_to > v.id)),
                    (SELECT COUNT(*) FROM chunks c WHERE c.valid_from <= v.id
                        AND (c.valid_to IS NULL OR c.valid_to > v.id))
                 FROM index_versions v ORDER BY v.id",
            )
            .map_err(Error::db("listing versions"))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, Option<f64>>(5)?,
                    r.get::<_, i64>(6)?,
                    r.get::<_, i64>(7)?,
                ))
            })
            .map_err(Error::db("listing versions"))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, state, embedder, dim, created, recall, docs, chunks) =
                row.map_err(Error::db("listing versions"))?;
            let version = to_u32(id, "version number")?;
            out.push(VersionInfo {
                version,
                state: VersionState::parse(&state)?,
                embedder,
                dim: usize::try_from(dim).unwrap_or(0),
                created_at: Timestamp::from_unix_micros(created),
                documents: u64::try_from(docs).unwrap_or(0),
                chunks: u64::try_from(chunks).unwrap_or(0),
                recall,
                current: current == Some(version),
            });
        }
        Ok(out)
    }

    /// Counts of documents, chunks, embeddings and versions.
    pub fn status(&self) -> Result<Status, Error> {
        let c = &self.conn;
        let (current_version, previous_version) = match alias(c, CURRENT_ALIAS)? {
            Some((v, p)) => (Some(v), p),
            None => (None, None),
        };
        let count = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> Result<u64, Error> {
            c.query_row(sql, p, |r| r.get::<_, i64>(0))
                .map(|n| u64::try_from(n).unwrap_or(0))
                .map_err(Error::db("counting for status"))
        };
        let cur = i64::from(current_version.unwrap_or(0));
        let mut versions = [0u64; 4];
        for (i, s) in ["building", "ready", "failed", "retired"].iter().enumerate() {
            versions[i] = count("SELECT COUNT(*) FROM index_versions WHERE state = ?1", &[s])?;
        }
        Ok(Status {
            current_version,
            previous_version,
            documents_active: count(
                "SELECT COUNT(*) FROM documents WHERE valid_to IS NULL AND status = 'active'",
                &[],
            )?,
            documents_deleted: count(
                "SELECT COUNT(*) FROM documents d WHERE status = 'deleted' AND version =
                    (SELECT MAX(version) FROM documents e WHERE e.id = d.id)",
                &[],
            )?,
            chunks_current: count(
                "SELECT COUNT(*) FROM chunks WHERE valid_from <= ?1 AND (valid_to IS NULL OR valid_to > ?1)",
                &[&cur],
            )?,
            embeddings: count("SELECT COUNT(*) FROM embeddings", &[])?,
            versions,
        })
    }

    /// Points `current` at `version` in one transaction; the version must be ready.
    pub fn promote(&mut self, version: u32) -> Result<(), Error> {
        let tx = self.conn.transaction().map_err(Error::db("starting a promotion"))?;
        let state = version_state(&tx, version)?.ok_or(Error::NoSuchVersion(version))?;
        if state != VersionState::Ready {
            return Err(Error::VersionNotReady { version, state: state.as_str().to_owned() });
        }
        swap_alias(&tx, version)?;
        tx.commit().map_err(Error::db("committing a promotion"))
    }

    /// Swaps `current` back to the version it pointed at before the last swap; returns that version.
    pub fn rollback(&mut self) -> Result<u32, Error> {
        let tx = self.conn.transaction().map_err(Error::db("starting a rollback"))?;
        let (_, previous) = alias(&tx, CURRENT_ALIAS)?.ok_or(Error::NoCurrentVersion)?;
        let previous = previous.ok_or(Error::NothingToRollBack)?;
        let state = version_state(&tx, previous)?.ok_or(Error::NoSuchVersion(previous))?;
        if state != VersionState::Ready {
            return Err(Error::VersionNotReady { version: previous, state: state.as_str().to_owned() });
        }
        swap_alias(&tx, previous)?;
        tx.commit().map_err(Error::db("committing a rollback"))?;
        Ok(previous)
    }

    /// Finds and repairs drift between the registry and the stored vectors: undoes interrupted builds,
    /// re-embeds chunks of kept versions whose vector is missing or malformed (for versions built with
    /// `embedder`), deletes vectors nothing refers to, and moves a dangling alias to the newest ready version.
    pub fn reconcile(&mut self, embedder: &dyn Embedder) -> Result<ReconcileReport, Error> {
        let mut report =
            ReconcileReport { builds_undone: self.undo_interrupted_builds()?, ..Default::default() };
        let tx = self.conn.transaction().map_err(Error::db("starting reconcile"))?;
        report.malformed_vectors_removed = u64::try_from(
            tx.execute("DELETE FROM embeddings WHERE length(vector) != dim * 4", [])
                .map_err(Error::db("removing malformed vectors"))?,
        )
        .unwrap_or(0);
        report.orphan_vectors_removed = u64::try_from(
            tx.execute("DELETE FROM embeddings WHERE hash NOT IN (SELECT hash FROM chunks)", [])
                .map_err(Error::db("removing orphan vectors"))?,
        )
        .unwrap_or(0);
        // Chunks of kept versions with no vector for that version's embedder.
        let missing: Vec<(String, String, String)> = {
            let mut stmt = tx
                .prepare(
                    "SELECT DISTINCT c.hash, c.text, v.embedder FROM chunks c
                     JOIN index_versions v ON v.state IN ('ready', 'failed')
                        AND c.valid_from <= v.id AND (c.valid_to IS NULL OR c.valid_to > v.id)
                     WHERE NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.hash = c.hash AND e.embedder = v.embedder)",
                )
                .map_err(Error::db("finding chunks without vectors"))?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .map_err(Error::db("finding chunks without vectors"))?;
            rows.collect::<Result<_, _>>().map_err(Error::db("finding chunks without vectors"))?
        };
        let mut seen = std::collections::HashSet::new();
        for (hash, text, emb) in &missing {
            if emb != embedder.id() {
                report.missing_vectors_unrepairable += 1;
                continue;
            }
            if !seen.insert(hash.clone()) {
                continue;
            }
            let v = embed_checked(embedder, &[text.as_str()])?;
            insert_embedding(&tx, hash, embedder, &v[0])?;
            report.missing_vectors_repaired += 1;
        }
        if let Some((cur, _)) = alias(&tx, CURRENT_ALIAS)? {
            let ok = version_state(&tx, cur)? == Some(VersionState::Ready);
            if !ok {
                let newest: Option<i64> = tx
                    .query_row("SELECT MAX(id) FROM index_versions WHERE state = 'ready'", [], |r| r.get(0))
                    .map_err(Error::db("finding the newest ready version"))?;
                if let Some(n) = newest {
                    swap_alias(&tx, to_u32(n, "version number")?)?;
                    report.alias_repaired = true;
                }
            }
        }
        tx.commit().map_err(Error::db("committing reconcile"))?;
        Ok(report)
    }

    /// Undoes every version left `building` by an interrupted run; returns how many.
    pub(crate) fn undo_interrupted_builds(&mut self) -> Result<u64, Error> {
        let tx = self.conn.transaction().map_err(Error::db("starting recovery"))?;
        let building: Vec<i64> = {
            let mut stmt = tx
                .prepare("SELECT id FROM index_versions WHERE state = 'building' ORDER BY id DESC")
                .map_err(Error::db("finding interrupted builds"))?;
            let rows = stmt.query_map([], |r| r.get(0)).map_err(Error::db("finding interrupted builds"))?;
            rows.collect::<Result<_, _>>().map_err(Error::db("finding interrupted builds"))?
        };
        for v in &building {
            tx.execute_batch(&format!(
                "DELETE FROM chunks WHERE valid_from = {v};
                 UPDATE chunks SET valid_to = NULL WHERE valid_to = {v};
                 DELETE FROM documents WHERE valid_from = {v};
                 UPDATE documents SET valid_to = NULL, status = 'active' WHERE valid_to = {v};
                 DELETE FROM index_versions WHERE id = {v};"
            ))
            .map_err(Error::db("undoing an interrupted build"))?;
        }
        tx.commit().map_err(Error::db("committing recovery"))?;
        Ok(building.len() as u64)
    }

    /// Retires all but the `keep` newest complete versions (never the alias targets) and deletes the rows
    /// only retired versions could see.
    pub(crate) fn retain(&mut self, keep: usize) -> Result<(), Error> {
        let tx = self.conn.transaction().map_err(Error::db("starting retention"))?;
        let (cur, prev) = match alias(&tx, CURRENT_ALIAS)? {
            Some((c, p)) => (Some(c), p),
            None => (None, None),
        };
        let ids: Vec<i64> = {
            let mut stmt = tx
                .prepare("SELECT id FROM index_versions WHERE state IN ('ready', 'failed') ORDER BY id DESC")
                .map_err(Error::db("listing versions for retention"))?;
            let rows =
                stmt.query_map([], |r| r.get(0)).map_err(Error::db("listing versions for retention"))?;
            rows.collect::<Result<_, _>>().map_err(Error::db("listing versions for retention"))?
        };
        let keep = keep.max(1);
        for id in ids.iter().skip(keep) {
            let v = to_u32(*id, "version number")?;
            if Some(v) == cur || Some(v) == prev {
                continue;
            }
            tx.execute("UPDATE index_versions SET state = 'retired' WHERE id = ?1", [id])
                .map_err(Error::db("retiring a version"))?;
        }
        for table in ["chunks", "documents"] {
            tx.execute(
                &format!(
                    "DELETE FROM {table} WHERE valid_to IS NOT NULL AND NOT EXISTS (
                        SELECT 1 FROM index_versions v WHERE v.state != 'retired'
                        AND v.id >= {table}.valid_from AND v.id < {table}.valid_to)"
                ),
                [],
            )
            .map_err(Error::db("deleting rows of retired versions"))?;
        }
        crate::failpoint::hit("retain-before-commit");
        tx.commit().map_err(Error::db("committing retention"))
    }
}

pub(crate) fn alias(conn: &Connection, name: &str) -> Result<Option<(u32, Option<u32>)>, Error> {
    let row: Option<(i64, Option<i64>)> = conn
        .query_row("SELECT version, previous FROM aliases WHERE name = ?1", [name], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()
        .map_err(Error::db("reading an alias"))?;
    row.map(|(v, p)| Ok((to_u32(v, "version number")?, p.map(|p| to_u32(p, "version number")).transpose()?)))
        .transpose()
}

pub(crate) fn version_state(conn: &Connection, version: u32) -> Result<Option<VersionState>, Error> {
    let s: Option<String> = conn
        .query_row("SELECT state FROM index_versions WHERE id = ?1", [version], |r| r.get(0))
        .optional()
        .map_err(Error::db("reading a version's state"))?;
    s.map(|s| VersionState::parse(&s)).transpose()
}

pub(crate) fn version_embedder(conn: &Connection, version: u32) -> Result<Option<(String, usize)>, Error> {
    conn.query_row("SELECT embedder, dim FROM index_versions WHERE id = ?1", [version], |r| {
        Ok((r.get::<_, String>(0)?, usize::try_from(r.get::<_, i64>(1)?).unwrap_or(0)))
    })
    .optional()
    .map_err(Error::db("reading a version's embedder"))
}

pub(crate) fn swap_alias(tx: &Transaction<'_>, version: u32) -> Result<(), Error> {
    tx.execute(
        "INSERT INTO aliases (name, version, previous, swapped_at) VALUES (?1, ?2, NULL, ?3)
         ON CONFLICT (name) DO UPDATE SET
            previous = CASE WHEN aliases.version = excluded.version THEN aliases.previous ELSE aliases.version END,
            version = excluded.version, swapped_at = excluded.swapped_at",
        params![CURRENT_ALIAS, version, now()],
    )
    .map_err(Error::db("swapping the alias"))?;
    Ok(())
}

pub(crate) fn embed_checked(embedder: &dyn Embedder, texts: &[&str]) -> Result<Vec<Vec<f32>>, Error> {
    let vectors = embedder.embed(texts)?;
    if vectors.len() != texts.len() {
        return Err(Error::EmbedShape {
            embedder: embedder.id().to_owned(),
            expected: texts.len(),
            got: vectors.len(),
        });
    }
    if let Some(bad) = vectors.iter().find(|v| v.len() != embedder.dim()) {
        return Err(Error::EmbedShape {
            embedder: embedder.id().to_owned(),
            expected: embedder.dim(),
            got: bad.len(),
        });
    }
    Ok(vectors)
}

pub(crate) fn insert_embedding(
    conn: &Connection,
    hash: &str,
    embedder: &dyn Embedder,
    v: &[f32],
) -> Result<(), Error> {
    conn.execute(
        "INSERT OR REPLACE INTO embeddings (hash, embedder, dim, vector, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![hash, embedder.id(), embedder.dim() as i64, vector_to_blob(v), now()],
    )
    .map_err(Error::db("storing a vector"))?;
    Ok(())
}

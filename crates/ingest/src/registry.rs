//! The registry: the SQLite database that is the source of truth for documents, chunks, embeddings, index
//! versions and aliases.
//!
//! Chunk and document rows are versioned in time: a row is part of index version `v` when
//! `valid_from <= v < valid_to` (an open `valid_to` is infinity). Building version `v` therefore only inserts
//! rows with `valid_from = v` and closes rows with `valid_to = v`; neither changes what any earlier version
//! contains. Readers resolve the alias `current` and read that version inside one read transaction, so they
//! see one complete version whatever an ingest is doing. A version left `building` by a crash is undone by
//! deleting its inserted rows and reopening the rows it closed.
//!
//! A version can also carry a clock time (`version_schedule.live_from`) from which it is live. While `current`
//! points at a version whose time has not come, readers are served its fallback instead: the version the
//! alias pointed at when it was promoted, resolved the same way. Whole versions go live, never single rows.

use std::path::Path;

use agentry_types::Timestamp;
use serde::Serialize;

use crate::{
    db::{Backend, Sqlite, Tx, Val, vals},
    embed::Embedder,
    error::Error,
};

/// The alias queries go through.
pub const CURRENT_ALIAS: &str = "current";

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
    /// The clock time this version goes live, when it was staged by time
    /// ([`IngestOptions::live_from`](crate::IngestOptions::live_from)).
    pub live_from: Option<Timestamp>,
}

/// Counts shown by `status`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    /// The version `current` points at.
    pub current_version: Option<u32>,
    /// The version `current` pointed at before the last swap.
    pub previous_version: Option<u32>,
    /// The clock time the version `current` points at goes live, when it was staged by time.
    pub current_live_from: Option<Timestamp>,
    /// The version queries are served now: `current`, or its fallback while `current` is not live yet
    /// (see [`Registry::snapshot_at`]); `None` when nothing is live.
    pub live_version: Option<u32>,
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
    pub(crate) db: Box<dyn Backend>,
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

/// Rows visible in the version given as parameter `?1`.
pub(crate) const VISIBLE: &str = "valid_from <= ?1 AND (valid_to IS NULL OR valid_to > ?1)";

impl Registry {
    /// Opens (creating if needed) the SQLite registry at `path`, in WAL mode so readers never block on a writer.
    pub fn open(path: &Path) -> Result<Self, Error> {
        Ok(Self { db: Box::new(Sqlite::open(Some(path))?) })
    }

    /// A SQLite registry held in memory, for tests and experiments.
    pub fn open_in_memory() -> Result<Self, Error> {
        Ok(Self { db: Box::new(Sqlite::open(None)?) })
    }

    /// Connects to PostgreSQL (`postgresql://user@host:port/db`) and keeps the registry in `schema`, created
    /// with its tables when missing, so several registries can share one database.
    #[cfg(feature = "postgres")]
    pub fn open_postgres(url: &str, schema: &str) -> Result<Self, Error> {
        Ok(Self { db: Box::new(crate::db::Postgres::connect(url, schema)?) })
    }

    /// The version the alias `current` points at.
    pub fn current_version(&mut self) -> Result<Option<u32>, Error> {
        let mut tx = Tx::read(self.db.as_mut())?;
        let v = alias(&mut tx, CURRENT_ALIAS)?.map(|(v, _)| v);
        tx.commit()?;
        Ok(v)
    }

    /// Every index version, oldest first.
    pub fn versions(&mut self) -> Result<Vec<VersionInfo>, Error> {
        let mut tx = Tx::read(self.db.as_mut())?;
        let current = alias(&mut tx, CURRENT_ALIAS)?.map(|(v, _)| v);
        let rows = tx.query(
            "listing versions",
            "SELECT v.id, v.state, v.embedder, v.dim, v.created_at, v.recall,
                (SELECT COUNT(*) FROM documents d WHERE d.valid_from <= v.id
                    AND (d.valid_to IS NULL OR d.valid_to > v.id)),
                (SELECT COUNT(*) FROM chunks c WHERE c.valid_from <= v.id
                    AND (c.valid_to IS NULL OR c.valid_to > v.id)),
                s.live_from
             FROM index_versions v LEFT JOIN version_schedule s ON s.version = v.id ORDER BY v.id",
            &[],
        )?;
        tx.commit()?;
        rows.iter()
            .map(|r| {
                let version = r.u32(0)?;
                Ok(VersionInfo {
                    version,
                    state: VersionState::parse(&r.text(1)?)?,
                    embedder: r.text(2)?,
                    dim: usize::try_from(r.int(3)?).unwrap_or(0),
                    created_at: Timestamp::from_unix_micros(r.int(4)?),
                    documents: r.count(6)?,
                    chunks: r.count(7)?,
                    recall: r.opt_real(5)?,
                    current: current == Some(version),
                    live_from: r.opt_int(8)?.map(Timestamp::from_unix_micros),
                })
            })
            .collect()
    }

    /// Counts of documents, chunks, embeddings and versions.
    pub fn status(&mut self) -> Result<Status, Error> {
        let mut tx = Tx::read(self.db.as_mut())?;
        let (current_version, previous_version) = match alias(&mut tx, CURRENT_ALIAS)? {
            Some((v, p)) => (Some(v), p),
            None => (None, None),
        };
        let cur = current_version.unwrap_or(0);
        let current_live_from = match current_version {
            Some(v) => schedule(&mut tx, v)?.map(|s| Timestamp::from_unix_micros(s.live_from)),
            None => None,
        };
        let live_version = match current_version {
            Some(v) => live_chain(&mut tx, v, Timestamp::now())?.live,
            None => None,
        };
        let mut versions = [0u64; 4];
        for (i, s) in ["building", "ready", "failed", "retired"].iter().enumerate() {
            versions[i] = tx
                .one("counting versions", "SELECT COUNT(*) FROM index_versions WHERE state = ?1", vals![*s])?
                .count(0)?;
        }
        let status = Status {
            current_version,
            previous_version,
            current_live_from,
            live_version,
            documents_active: tx
                .one(
                    "counting documents",
                    "SELECT COUNT(*) FROM documents WHERE valid_to IS NULL AND status = 'active'",
                    &[],
                )?
                .count(0)?,
            documents_deleted: tx
                .one(
                    "counting documents",
                    "SELECT COUNT(*) FROM documents d WHERE status = 'deleted' AND version =
                        (SELECT MAX(version) FROM documents e WHERE e.id = d.id)",
                    &[],
                )?
                .count(0)?,
            chunks_current: tx
                .one("counting chunks", &format!("SELECT COUNT(*) FROM chunks WHERE {VISIBLE}"), vals![cur])?
                .count(0)?,
            embeddings: tx.one("counting vectors", "SELECT COUNT(*) FROM embeddings", &[])?.count(0)?,
            versions,
        };
        tx.commit()?;
        Ok(status)
    }

    /// Points `current` at `version` in one transaction; the version must be ready. A version staged by time
    /// keeps its time: until then queries are served what they were served before the promotion.
    pub fn promote(&mut self, version: u32) -> Result<(), Error> {
        let mut tx = Tx::write(self.db.as_mut())?;
        let state = version_state(&mut tx, version)?.ok_or(Error::NoSuchVersion(version))?;
        if state != VersionState::Ready {
            return Err(Error::VersionNotReady { version, state: state.as_str().to_owned() });
        }
        swap_alias(&mut tx, version)?;
        tx.commit()
    }

    /// Swaps `current` back to the version it pointed at before the last swap; returns that version. Going
    /// back to a version staged by time restores what was served then: its fallback stays as recorded when
    /// it was promoted.
    pub fn rollback(&mut self) -> Result<u32, Error> {
        let mut tx = Tx::write(self.db.as_mut())?;
        let (_, previous) = alias(&mut tx, CURRENT_ALIAS)?.ok_or(Error::NoCurrentVersion)?;
        let previous = previous.ok_or(Error::NothingToRollBack)?;
        let state = version_state(&mut tx, previous)?.ok_or(Error::NoSuchVersion(previous))?;
        if state != VersionState::Ready {
            return Err(Error::VersionNotReady { version: previous, state: state.as_str().to_owned() });
        }
        move_alias(&mut tx, previous)?;
        tx.commit()?;
        Ok(previous)
    }

    /// Finds and repairs drift between the registry and the stored vectors: undoes interrupted builds,
    /// re-embeds chunks of kept versions whose vector is missing or malformed (for versions built with
    /// `embedder`), deletes vectors nothing refers to, and moves a dangling alias to the newest ready version
    /// that is live now (the newest ready one when none is).
    /// Takes the writer lock like [`Registry::ingest`], so it never undoes a build another run is writing.
    pub fn reconcile(&mut self, embedder: &dyn Embedder) -> Result<ReconcileReport, Error> {
        self.with_writer_lock(|r| r.reconcile_locked(embedder))
    }

    fn reconcile_locked(&mut self, embedder: &dyn Embedder) -> Result<ReconcileReport, Error> {
        let mut report =
            ReconcileReport { builds_undone: self.undo_interrupted_builds()?, ..Default::default() };
        let mut tx = Tx::write(self.db.as_mut())?;
        report.malformed_vectors_removed = tx.exec(
            "removing malformed vectors",
            "DELETE FROM embeddings WHERE length(vector) != dim * 4",
            &[],
        )?;
        report.orphan_vectors_removed = tx.exec(
            "removing orphan vectors",
            "DELETE FROM embeddings WHERE hash NOT IN (SELECT hash FROM chunks)",
            &[],
        )?;
        // Chunks of kept versions with no vector for that version's embedder.
        let missing = tx.query(
            "finding chunks without vectors",
            "SELECT DISTINCT c.hash, c.text, v.embedder FROM chunks c
             JOIN index_versions v ON v.state IN ('ready', 'failed')
                AND c.valid_from <= v.id AND (c.valid_to IS NULL OR c.valid_to > v.id)
             WHERE NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.hash = c.hash AND e.embedder = v.embedder)",
            &[],
        )?;
        let mut seen = std::collections::HashSet::new();
        for row in &missing {
            let (hash, text, emb) = (row.text(0)?, row.text(1)?, row.text(2)?);
            if emb != embedder.id() {
                report.missing_vectors_unrepairable += 1;
                continue;
            }
            if !seen.insert(hash.clone()) {
                continue;
            }
            let v = embed_checked(embedder, &[text.as_str()])?;
            insert_embedding(&mut tx, &hash, embedder, &v[0])?;
            report.missing_vectors_repaired += 1;
        }
        if let Some((cur, _)) = alias(&mut tx, CURRENT_ALIAS)?
            && version_state(&mut tx, cur)? != Some(VersionState::Ready)
        {
            // A version staged for a later time would fall back to the dangling target: a live one first.
            let newest = tx
                .one(
                    "finding the newest ready version",
                    "SELECT COALESCE(
                        (SELECT MAX(v.id) FROM index_versions v LEFT JOIN version_schedule s ON s.version = v.id
                         WHERE v.state = 'ready' AND (s.live_from IS NULL OR s.live_from <= ?1)),
                        (SELECT MAX(id) FROM index_versions WHERE state = 'ready'))",
                    vals![now()],
                )?
                .opt_int(0)?;
            if let Some(n) = newest {
                let n = u32::try_from(n)
                    .map_err(|_| Error::Corrupt { what: "version number", detail: n.to_string() })?;
                swap_alias(&mut tx, n)?;
                report.alias_repaired = true;
            }
        }
        tx.commit()?;
        Ok(report)
    }

    /// Runs `f` holding the registry's writer lock, which admits one ingest, delete or reconcile at a time
    /// across connections and processes: a build in progress looks like an interrupted one to anyone else, so
    /// a second writer would undo it. Fails with [`Error::WriterLocked`] instead of waiting.
    pub(crate) fn with_writer_lock<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, Error>,
    ) -> Result<T, Error> {
        if !self.db.try_lock_writer()? {
            return Err(Error::WriterLocked { registry: self.db.name() });
        }
        let out = f(self);
        let released = self.db.unlock_writer();
        let out = out?;
        released?;
        Ok(out)
    }

    /// Undoes every version left `building` by an interrupted run; returns how many.
    pub(crate) fn undo_interrupted_builds(&mut self) -> Result<u64, Error> {
        let mut tx = Tx::write(self.db.as_mut())?;
        let building = tx.query(
            "finding interrupted builds",
            "SELECT id FROM index_versions WHERE state = 'building' ORDER BY id DESC",
            &[],
        )?;
        for row in &building {
            let v = row.int(0)?;
            tx.batch(
                "undoing an interrupted build",
                &format!(
                    "DELETE FROM documents WHERE valid_from = {v};
                     UPDATE documents SET valid_to = NULL, status = 'active' WHERE valid_to = {v};
                     DELETE FROM chunks WHERE valid_from = {v};
                     UPDATE chunks SET valid_to = NULL WHERE valid_to = {v};
                     DELETE FROM version_schedule WHERE version = {v};
                     DELETE FROM index_versions WHERE id = {v};"
                ),
            )?;
        }
        tx.commit()?;
        Ok(building.len() as u64)
    }

    /// Retires all but the `keep` newest complete versions (never the alias targets, nor the versions a target
    /// staged by time falls back to until it is live) and deletes the rows only retired versions could see.
    pub(crate) fn retain(&mut self, keep: usize) -> Result<(), Error> {
        let mut tx = Tx::write(self.db.as_mut())?;
        let (cur, prev) = match alias(&mut tx, CURRENT_ALIAS)? {
            Some((c, p)) => (Some(c), p),
            None => (None, None),
        };
        // Fallbacks only grow live over time, so what a target needs later is part of what it needs now.
        let at = Timestamp::now();
        let mut needed = Vec::new();
        for target in [cur, prev].into_iter().flatten() {
            needed.extend(live_chain(&mut tx, target, at)?.visited);
        }
        let ids = tx.query(
            "listing versions for retention",
            "SELECT id FROM index_versions WHERE state IN ('ready', 'failed') ORDER BY id DESC",
            &[],
        )?;
        for row in ids.iter().skip(keep.max(1)) {
            let v = row.u32(0)?;
            if needed.contains(&v) {
                continue;
            }
            tx.exec(
                "retiring a version",
                "UPDATE index_versions SET state = 'retired' WHERE id = ?1",
                vals![v],
            )?;
        }
        // Documents before chunks, the order every writer and the schema DDL lock them in.
        for table in ["documents", "chunks"] {
            tx.exec(
                "deleting rows of retired versions",
                &format!(
                    "DELETE FROM {table} WHERE valid_to IS NOT NULL AND NOT EXISTS (
                        SELECT 1 FROM index_versions v WHERE v.state != 'retired'
                        AND v.id >= {table}.valid_from AND v.id < {table}.valid_to)"
                ),
                &[],
            )?;
        }
        crate::failpoint::hit("retain-before-commit");
        tx.commit()
    }
}

pub(crate) fn alias(tx: &mut Tx<'_>, name: &str) -> Result<Option<(u32, Option<u32>)>, Error> {
    let Some(row) =
        tx.row("reading an alias", "SELECT version, previous FROM aliases WHERE name = ?1", vals![name])?
    else {
        return Ok(None);
    };
    let previous = row
        .opt_int(1)?
        .map(|p| {
            u32::try_from(p).map_err(|_| Error::Corrupt { what: "version number", detail: p.to_string() })
        })
        .transpose()?;
    Ok(Some((row.u32(0)?, previous)))
}

/// When a version staged by time goes live and what it falls back to until then.
pub(crate) struct Schedule {
    /// Microseconds since the epoch.
    pub(crate) live_from: i64,
    /// The version `current` pointed at when this one was promoted.
    pub(crate) fallback: Option<u32>,
}

pub(crate) fn schedule(tx: &mut Tx<'_>, version: u32) -> Result<Option<Schedule>, Error> {
    let Some(row) = tx.row(
        "reading a version's schedule",
        "SELECT live_from, fallback FROM version_schedule WHERE version = ?1",
        vals![version],
    )?
    else {
        return Ok(None);
    };
    let fallback = row
        .opt_int(1)?
        .map(|f| {
            u32::try_from(f).map_err(|_| Error::Corrupt { what: "version number", detail: f.to_string() })
        })
        .transpose()?;
    Ok(Some(Schedule { live_from: row.int(0)?, fallback }))
}

/// The versions resolving `start` at clock time `at` walks through, and the one it ends at.
pub(crate) struct LiveChain {
    /// `start`, then each fallback taken, up to and including `live`.
    pub(crate) visited: Vec<u32>,
    /// The first version on the way that is live at `at` (unscheduled or its time passed); `None` when the
    /// chain ends, or runs in a circle, before one.
    pub(crate) live: Option<u32>,
    /// The clock time of the last version visited that is not live yet.
    pub(crate) pending: Option<Timestamp>,
}

/// Follows fallbacks from `start` until a version live at `at`.
pub(crate) fn live_chain(tx: &mut Tx<'_>, start: u32, at: Timestamp) -> Result<LiveChain, Error> {
    let mut chain = LiveChain { visited: Vec::new(), live: None, pending: None };
    let mut next = Some(start);
    while let Some(v) = next {
        if chain.visited.contains(&v) {
            break;
        }
        chain.visited.push(v);
        match schedule(tx, v)? {
            Some(s) if s.live_from > at.unix_micros() => {
                chain.pending = Some(Timestamp::from_unix_micros(s.live_from));
                next = s.fallback;
            }
            _ => {
                chain.live = Some(v);
                break;
            }
        }
    }
    Ok(chain)
}

pub(crate) fn version_state(tx: &mut Tx<'_>, version: u32) -> Result<Option<VersionState>, Error> {
    tx.row("reading a version's state", "SELECT state FROM index_versions WHERE id = ?1", vals![version])?
        .map(|r| VersionState::parse(&r.text(0)?))
        .transpose()
}

pub(crate) fn version_embedder(tx: &mut Tx<'_>, version: u32) -> Result<Option<(String, usize)>, Error> {
    tx.row(
        "reading a version's embedder",
        "SELECT embedder, dim FROM index_versions WHERE id = ?1",
        vals![version],
    )?
    .map(|r| Ok((r.text(0)?, usize::try_from(r.int(1)?).unwrap_or(0))))
    .transpose()
}

/// Promotes `version`: points `current` at it, and when it is staged by time records the version `current`
/// pointed at so far as its fallback, so queries keep being served that until `version` is live.
pub(crate) fn swap_alias(tx: &mut Tx<'_>, version: u32) -> Result<(), Error> {
    let before = alias(tx, CURRENT_ALIAS)?.map(|(v, _)| v);
    if before != Some(version) {
        tx.exec(
            "recording a staged version's fallback",
            "UPDATE version_schedule SET fallback = ?1 WHERE version = ?2",
            vals![before.map_or(Val::Null, Val::from), version],
        )?;
    }
    move_alias(tx, version)
}

/// Points `current` at `version` and remembers the old target as `previous`; schedules stay as they are.
pub(crate) fn move_alias(tx: &mut Tx<'_>, version: u32) -> Result<(), Error> {
    tx.exec(
        "swapping the alias",
        "INSERT INTO aliases (name, version, previous, swapped_at) VALUES (?1, ?2, NULL, ?3)
         ON CONFLICT (name) DO UPDATE SET
            previous = CASE WHEN aliases.version = excluded.version THEN aliases.previous ELSE aliases.version END,
            version = excluded.version, swapped_at = excluded.swapped_at",
        vals![CURRENT_ALIAS, version, now()],
    )?;
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
    tx: &mut Tx<'_>,
    hash: &str,
    embedder: &dyn Embedder,
    v: &[f32],
) -> Result<(), Error> {
    tx.exec(
        "storing a vector",
        "INSERT INTO embeddings (hash, embedder, dim, vector, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (hash, embedder) DO UPDATE SET
            dim = excluded.dim, vector = excluded.vector, created_at = excluded.created_at",
        vals![hash, embedder.id(), embedder.dim() as i64, vector_to_blob(v), now()],
    )?;
    Ok(())
}

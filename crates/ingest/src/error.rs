//! The crate's error type.

use std::path::PathBuf;

use agentry_types::Timestamp;

/// Why an ingest, registry or retrieval operation failed. Per-file problems during an ingest (binary,
/// malformed, too large) are not errors: they are listed in the report and the run goes on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The registry database refused an operation.
    #[error("registry database error while {context}")]
    Db {
        /// What the registry was doing.
        context: &'static str,
        /// The database error (SQLite or PostgreSQL).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// A file or folder could not be read.
    #[error("cannot read {path}")]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A stored value does not have the shape the registry writes (a damaged or foreign database).
    #[error("registry holds a malformed {what}: {detail}")]
    Corrupt {
        /// Which kind of value.
        what: &'static str,
        /// What was found.
        detail: String,
    },
    /// The index version was built with another embedder than the one asked to query it.
    #[error("index version {version} was built with embedder {built_with:?}, not {asked:?}")]
    EmbedderMismatch {
        /// The index version.
        version: u32,
        /// The embedder id recorded in the version.
        built_with: String,
        /// The embedder id of the query.
        asked: String,
    },
    /// No index version with this number exists.
    #[error("no index version {0}")]
    NoSuchVersion(u32),
    /// The version exists but cannot serve (still building, failed validation, or retired).
    #[error("index version {version} is {state}, not ready")]
    VersionNotReady {
        /// The index version.
        version: u32,
        /// Its state.
        state: String,
    },
    /// The alias `current` points nowhere yet: nothing was promoted.
    #[error("no index version has been promoted yet")]
    NoCurrentVersion,
    /// `current` points at a version staged for a later clock time, and nothing it falls back to (the
    /// version `current` pointed at when it was promoted, and so on) is live at the time asked about.
    #[error("no index version is live at {at}: current version {current} goes live at {live_from}")]
    NotLiveYet {
        /// The version `current` points at.
        current: u32,
        /// When the last version on the way goes live.
        live_from: Timestamp,
        /// The clock time asked about.
        at: Timestamp,
    },
    /// Rollback asked for, but the alias has no previous version to go back to.
    #[error("alias current has no previous version to roll back to")]
    NothingToRollBack,
    /// Another ingest, delete or reconcile is writing this registry; one writer at a time.
    #[error("another ingest holds the writer lock of registry {registry}")]
    WriterLocked {
        /// The registry: its database file, or its PostgreSQL schema.
        registry: String,
    },
    /// The document is not active in the registry.
    #[error("no active document {0:?}")]
    UnknownDocument(String),
    /// The embedder failed on a text.
    #[error("embedder {embedder} failed: {reason}")]
    Embed {
        /// The embedder id.
        embedder: String,
        /// What went wrong.
        reason: String,
    },
    /// The embedder returned vectors of the wrong number or size.
    #[error("embedder {embedder} returned {got} values where {expected} were expected")]
    EmbedShape {
        /// The embedder id.
        embedder: String,
        /// Expected count.
        expected: usize,
        /// Returned count.
        got: usize,
    },
    /// The approximate-nearest-neighbour index failed.
    #[error("vector index error: {reason}")]
    Index {
        /// What the index library reported.
        reason: String,
    },
}

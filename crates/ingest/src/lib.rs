#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(clippy::print_stdout)]

mod batch;
mod chunk;
#[cfg(feature = "code")]
mod code;
mod columns;
mod db;
mod embed;
mod error;
mod failpoint;
#[cfg(feature = "hnsw")]
mod hnsw;
mod ingest;
#[cfg(feature = "minilm")]
mod minilm;
mod registry;
mod search;
mod source;

pub use crate::{
    chunk::{Chunk, ChunkConfig, DocumentKind, chunk_document, chunk_id, normalize},
    embed::{Embedder, HashingEmbedder},
    error::Error,
    failpoint::FAILPOINT_ENV,
    ingest::{
        IngestOptions, IngestReport, Progress, SkippedFile, SourceDocument, SourceItem, SyncMode, Validation,
    },
    registry::{CURRENT_ALIAS, ReconcileReport, Registry, Status, VersionInfo, VersionState},
    search::{Hit, KnownItem, SearchMode, SearchOptions, Snapshot},
    source::{SourceItemLoader, scan_dir},
};

#[cfg(feature = "judge-anthropic")]
pub use crate::columns::AnthropicJudge;
pub use crate::columns::{
    AuditRecord, BUILTIN_POLICY, Classifier, ColumnDecision, ColumnPolicy, ColumnProfile, ColumnReport,
    ColumnStats, Decision, DltMode, Dtype, HyperLogLog, Inspection, InspectionRules, JUDGE_SYSTEM_PROMPT,
    JudgeError, JudgeRequest, JudgeVerdict, NameMatch, PiiCategory, PolicyError, ProfileError,
    ProfileOptions, Profiler, SqlDialect, TableProfile, UnrecognizedText, ValueJudge, ValueKind, ViewError,
    create_view_sql, iban_valid, inspect, luhn_valid, name_tokens, parse_verdict, personal_kinds,
    profile_paths, quote_ident, shape, write_audit,
};

#[cfg(feature = "minilm")]
pub use crate::minilm::{MINILM_DIR_ENV, MiniLmEmbedder};

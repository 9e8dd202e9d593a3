#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(clippy::print_stdout)]

mod digest;
mod error;
mod failpoint;
mod file;
mod gear;
mod parallel;
mod params;
mod plan;
#[cfg(feature = "remote")]
pub mod remote;
mod repmax;
mod scan;
mod store;
mod stream;

pub use crate::{
    digest::{DigestedChunk, Hasher, chunk_and_digest, digest},
    error::Error,
    file::chunk_and_digest_file,
    parallel::chunk_parallel,
    params::{Params, REAPI_DEFAULT_AVG, REAPI_MAX_AVG, REAPI_MAX_AVG_EXTENDED, REAPI_MIN_AVG},
    plan::{DownloadPlan, TransferStats, UploadPlan, download_plan, upload_plan},
    repmax::{
        REPMAX_MAX_HORIZON, REPMAX_MAX_MIN, REPMAX_MIN_CHUNK_SIZE_FLOOR, REPMAX_RECOMMENDED_MIN,
        RepMaxChunks, RepMaxParams, RepMaxStreamChunker, repmax_chunk, repmax_chunk_and_digest,
        repmax_chunk_and_digest_file, repmax_chunk_file, repmax_chunk_parallel, repmax_chunks,
    },
    scan::{Chunk, Chunks, chunk, chunks},
    store::{ChunkStore, FsStore, GcReport, MemStore, StoreStats},
    stream::{ChunkData, StreamChunker, chunk_file},
};

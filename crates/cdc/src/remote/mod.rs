//! The network side: a client for REAPI remote caches (Bazel's Remote Execution API over gRPC) that moves
//! only the chunks the other side lacks.
//!
//! Invariants: a download never leaves a partial output (it writes a temporary file and renames it only once
//! the blob's digest checks out); no chunk is trusted before it is verified, whether it came from the server
//! or the local cache; retries are capped, backed off with jitter, limited to the transient codes and
//! throttled by a budget per client; capabilities decide the digest function, batch sizes and chunking.

mod blobs;
mod blocking;
mod caps;
mod client;
mod download;
mod error;
mod retry;
mod upload;
mod window;

pub use self::{
    blocking::BlockingRemoteCas,
    caps::{ApiVersion, Capabilities, Chunking},
    client::{RemoteCas, RemoteOptions},
    error::RemoteError,
    retry::RetryPolicy,
};
use agentry_types::Digest;

/// A progress callback: called with the number of the blob's bytes each step finished (sent, fetched, or
/// found already there), so the calls add up to the blob's size.
pub type Progress<'a> = dyn Fn(u64) + Send + Sync + 'a;

/// How a blob moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransferMode {
    /// As chunks, only those the other side lacked, then spliced or reassembled.
    Chunked,
    /// As one blob.
    Whole,
}

impl TransferMode {
    /// `"chunked"` or `"whole"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Chunked => "chunked",
            Self::Whole => "whole",
        }
    }
}

/// What one upload or download moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobReport {
    /// The blob.
    pub digest: Digest,
    /// Its size.
    pub bytes_total: u64,
    /// Payload bytes sent or fetched (chunks, or the whole blob; not gRPC framing).
    pub bytes_transferred: u64,
    /// Chunks in its layout (1 when it moved whole).
    pub chunks_total: u64,
    /// Chunks sent or fetched.
    pub chunks_transferred: u64,
    /// Calls made, retries included.
    pub rpcs: u64,
    /// Chunked or whole.
    pub mode: TransferMode,
    /// Why it moved whole, when it did.
    pub reason: Option<String>,
}

//! Transfer planning: which chunks to send or fetch, and what that saves.

use std::collections::HashSet;

use agentry_types::Digest;

use crate::{
    digest::{DigestedChunk, chunk_and_digest, digest},
    error::Error,
    store::ChunkStore,
};

/// What a transfer moves and what chunking saves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransferStats {
    /// Size of the blob.
    pub bytes_total: u64,
    /// Bytes that need not move because the other side already has them (or they repeat within the blob).
    pub bytes_deduplicated: u64,
    /// Bytes that move.
    pub bytes_to_transfer: u64,
    /// Chunks in the blob's layout.
    pub chunks_total: u64,
    /// Distinct chunks that move.
    pub chunks_new: u64,
    /// Chunks of the layout that do not move.
    pub chunks_reused: u64,
}

impl TransferStats {
    fn from_layout(layout: &[Digest], missing: &HashSet<Digest>) -> Self {
        let mut stats = Self { chunks_total: layout.len() as u64, ..Self::default() };
        let mut sent = HashSet::new();
        for d in layout {
            stats.bytes_total += d.size_bytes();
            if missing.contains(d) && sent.insert(*d) {
                stats.chunks_new += 1;
                stats.bytes_to_transfer += d.size_bytes();
            } else {
                stats.chunks_reused += 1;
                stats.bytes_deduplicated += d.size_bytes();
            }
        }
        stats
    }
}

/// The plan for uploading a blob to a store: its chunks, those the store lacks, and the splice to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadPlan {
    /// The blob's digest.
    pub blob: Digest,
    /// The blob's chunks, in order.
    pub chunks: Vec<DigestedChunk>,
    /// The distinct chunks the store lacks, in blob order: these are the ones to send.
    pub missing: Vec<DigestedChunk>,
    /// What the upload moves.
    pub stats: TransferStats,
}

/// Chunks `data` with the store's own chunking parameters (so its chunks meet those already stored, as a REAPI
/// client chunks with the parameters the server announces), asks `store` which chunks it lacks, and plans the
/// upload.
pub fn upload_plan(store: &dyn ChunkStore, data: &[u8]) -> Result<UploadPlan, Error> {
    let function = store.digest_function();
    let blob = digest(function, data);
    let chunks = chunk_and_digest(store.params(), data, function, 0);
    let layout: Vec<Digest> = chunks.iter().map(|c| c.digest).collect();
    let missing_set: HashSet<Digest> = store.find_missing(&layout)?.into_iter().collect();
    let mut seen = HashSet::new();
    let missing =
        chunks.iter().filter(|c| missing_set.contains(&c.digest) && seen.insert(c.digest)).copied().collect();
    let stats = TransferStats::from_layout(&layout, &missing_set);
    Ok(UploadPlan { blob, chunks, missing, stats })
}

impl UploadPlan {
    /// Sends the missing chunks of `data` (the bytes the plan was made from) and splices the blob.
    ///
    /// Data of another length than the blob, or too short for a planned chunk, is
    /// [`Error::PlanDataMismatch`] before anything is sent; other wrong bytes fail `put`'s digest check.
    pub fn execute(&self, store: &dyn ChunkStore, data: &[u8]) -> Result<(), Error> {
        let mismatch = || Error::PlanDataMismatch { blob: self.blob, actual: data.len() as u64 };
        if data.len() as u64 != self.blob.size_bytes() {
            return Err(mismatch());
        }
        // The plan's fields are public, so its chunks are checked against the data, all before the first put.
        let mut pieces = Vec::with_capacity(self.missing.len());
        for c in &self.missing {
            let start = usize::try_from(c.chunk.offset).map_err(|_| mismatch())?;
            let length = usize::try_from(c.chunk.length).map_err(|_| mismatch())?;
            let end = start.checked_add(length).ok_or_else(mismatch)?;
            pieces.push((&c.digest, data.get(start..end).ok_or_else(mismatch)?));
        }
        for (digest, bytes) in pieces {
            store.put(digest, bytes)?;
        }
        let layout: Vec<Digest> = self.chunks.iter().map(|c| c.digest).collect();
        store.splice(&self.blob, &layout)
    }
}

/// The plan for fetching a blob from a remote store into a local one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadPlan {
    /// The blob's digest.
    pub blob: Digest,
    /// The blob's layout on the remote side.
    pub layout: Vec<Digest>,
    /// The distinct chunks the local store lacks, in layout order.
    pub missing: Vec<Digest>,
    /// What the download moves.
    pub stats: TransferStats,
}

/// Asks `remote` for the blob's layout (REAPI `SplitBlob`) and `local` which chunks it lacks.
pub fn download_plan(
    remote: &dyn ChunkStore,
    blob: &Digest,
    local: &dyn ChunkStore,
) -> Result<DownloadPlan, Error> {
    let layout = remote.split(blob)?.ok_or(Error::ChunkMissing { digest: *blob })?;
    let missing = local.find_missing(&layout)?;
    let missing_set: HashSet<Digest> = missing.iter().copied().collect();
    let stats = TransferStats::from_layout(&layout, &missing_set);
    Ok(DownloadPlan { blob: *blob, layout, missing, stats })
}

impl DownloadPlan {
    /// Fetches the missing chunks from `remote` into `local` and splices the blob there.
    pub fn execute(&self, remote: &dyn ChunkStore, local: &dyn ChunkStore) -> Result<(), Error> {
        for d in &self.missing {
            let bytes = remote.get_object(d)?.ok_or(Error::ChunkMissing { digest: *d })?;
            local.put(d, &bytes)?;
        }
        local.splice(&self.blob, &self.layout)
    }
}

//! Digests of chunks, computed in parallel once the cut points are known.

use agentry_types::{Digest, DigestFunction};
use sha2::Digest as _;

use crate::{params::Params, scan::Chunk};

/// The digest of `data` under `function`.
pub fn digest(function: DigestFunction, data: &[u8]) -> Digest {
    let mut hasher = Hasher::new(function);
    hasher.update(data);
    hasher.finish()
}

/// An incremental digest computation, for data that arrives in pieces.
#[derive(Debug, Clone)]
pub struct Hasher {
    state: State,
    size: u64,
}

#[derive(Debug, Clone)]
enum State {
    Sha256(sha2::Sha256),
    Blake3(Box<blake3::Hasher>),
}

impl Hasher {
    /// A hasher for `function`. Functions this crate does not know fall back to SHA-256, REAPI's default.
    pub fn new(function: DigestFunction) -> Self {
        let state = match function {
            DigestFunction::Blake3 => State::Blake3(Box::default()),
            _ => State::Sha256(sha2::Sha256::new()),
        };
        Self { state, size: 0 }
    }

    /// Adds bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.size += data.len() as u64;
        match &mut self.state {
            State::Sha256(h) => h.update(data),
            State::Blake3(h) => {
                h.update(data);
            }
        }
    }

    /// The digest of everything added.
    pub fn finish(self) -> Digest {
        match self.state {
            State::Sha256(h) => Digest::new(DigestFunction::Sha256, h.finalize().into(), self.size),
            State::Blake3(h) => Digest::new(DigestFunction::Blake3, *h.finalize().as_bytes(), self.size),
        }
    }
}

/// A chunk with its digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DigestedChunk {
    /// Where the chunk lies in the blob.
    pub chunk: Chunk,
    /// The digest of its bytes.
    pub digest: Digest,
}

/// Chunks `data` and digests every chunk, using up to `threads` threads (0 means all available cores).
///
/// The cut-point scan is one serial pass; digests are computed while it runs, by worker threads that take
/// chunks as soon as they are cut. Result order is blob order.
pub fn chunk_and_digest(
    params: &Params,
    data: &[u8],
    function: DigestFunction,
    threads: usize,
) -> Vec<DigestedChunk> {
    let threads = crate::parallel::threads_or_all(threads);
    if threads <= 1 || data.len() < 2 * params.max_size() as usize {
        return crate::scan::chunks(params, data)
            .map(|chunk| DigestedChunk { chunk, digest: digest(function, &data[chunk.range()]) })
            .collect();
    }
    digest_while_cutting(data, crate::scan::chunks(params, data), function, threads)
}

/// Digests the chunks `cuts` yields on `threads - 1` worker threads while the calling thread produces them,
/// then joins the workers. Result order is blob order.
pub(crate) fn digest_while_cutting(
    data: &[u8],
    cuts: impl Iterator<Item = Chunk>,
    function: DigestFunction,
    threads: usize,
) -> Vec<DigestedChunk> {
    use std::sync::{Mutex, mpsc};

    // The scanning thread sends (index, chunk) to a shared queue; workers (including, once the scan is done,
    // the scanning thread itself) pull from it. The scan is cheap compared to SHA-256, so with two cores one
    // worker plus the scanner-turned-worker keep both busy.
    let (tx, rx) = mpsc::channel::<(usize, Chunk)>();
    let rx = Mutex::new(rx);
    let results = Mutex::new(Vec::new());
    let work = |rx: &Mutex<mpsc::Receiver<(usize, Chunk)>>| {
        let mut local = Vec::new();
        loop {
            let next = rx.lock().map(|r| r.recv());
            let Ok(Ok((i, chunk))) = next else { break };
            local.push((i, DigestedChunk { chunk, digest: digest(function, &data[chunk.range()]) }));
        }
        if let Ok(mut all) = results.lock() {
            all.extend(local);
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..threads {
            scope.spawn(|| work(&rx));
        }
        for (i, chunk) in cuts.enumerate() {
            if tx.send((i, chunk)).is_err() {
                break;
            }
        }
        drop(tx);
        work(&rx);
    });
    let mut all = results.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    all.sort_unstable_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, c)| c).collect()
}

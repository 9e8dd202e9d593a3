//! RepMaxCDC, REAPI's second chunking function (`ChunkingFunction.REP_MAX_CDC`, `RepMaxCdcParams`).
//!
//! The rule, for a chunk starting at `s` with `r` bytes left:
//! - if `r < 2 * min`, the chunk is the rest (so every chunk but a whole input shorter than `2 * min` is at
//!   least `min` long);
//! - otherwise the candidate cuts are the positions `s + min + k` for `k` from 0 to
//!   `min(r, 2 * min + horizon) - 2 * min`, each scored by the gear hash of the 64 bytes before it
//!   (`h = (h << 1) + GEAR[byte]` over those bytes, the FastCDC 2020 table with seed 0). Take the first
//!   candidate with the highest score; if it is at `k < min`, cut there; otherwise drop every candidate from
//!   `k - min + 1` on (they would leave a chunk of `2 * min` or more) and repeat.
//!
//! So every chunk is in `[min, 2 * min)` bytes, and the end of input never leaves a last chunk shorter than
//! `min` unless the whole input is. With horizon 0 every chunk is exactly `min` bytes (the last one excepted).
//!
//! The fast path ([`scan`]) computes each position's hash once: it keeps the positions where the hash reaches a
//! new maximum since the first candidate (the "records"), and as soon as the latest record has `min - 1`
//! positions after it without a new one, the cuts up to it are final (they are the records reached by walking
//! back from it in steps of at least `min`). The scan then restarts `min` bytes past that record, carrying the
//! hash. Only when the horizon ends first does it fall back to the definition's choice for one chunk.

mod parallel;
pub(crate) mod scan;
mod stream;

pub use self::{
    parallel::{repmax_chunk_and_digest, repmax_chunk_parallel},
    scan::{RepMaxChunks, repmax_chunk, repmax_chunks},
    stream::{RepMaxStreamChunker, repmax_chunk_and_digest_file, repmax_chunk_file},
};
use crate::error::Error;

/// The smallest minimum chunk size REAPI allows (the gear hash covers 64 bytes).
pub const REPMAX_MIN_CHUNK_SIZE_FLOOR: u64 = 64;
/// The minimum chunk size REAPI recommends (256 KiB).
pub const REPMAX_RECOMMENDED_MIN: u64 = 256 * 1024;
/// The largest minimum chunk size accepted here (256 MiB).
pub const REPMAX_MAX_MIN: u64 = 256 * 1024 * 1024;
/// The largest horizon accepted here (2 GiB).
pub const REPMAX_MAX_HORIZON: u64 = 2 * 1024 * 1024 * 1024;

/// RepMaxCDC parameters, as REAPI's `RepMaxCdcParams { min_chunk_size_bytes, horizon_size_bytes }` define them.
///
/// Chunks are between `min` and `2 * min` bytes (a blob shorter than `2 * min` is one chunk); the horizon is
/// how far past the smallest possible cut the chunker looks for the best one. The gear table is FastCDC
/// 2020's with seed 0, as in the reference implementation (buildbarn/go-cdc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RepMaxParams {
    min: u64,
    horizon: u64,
}

impl RepMaxParams {
    /// Validated parameters: `64 <= min_chunk_size_bytes <= 256 MiB`, `horizon_size_bytes <= 2 GiB`.
    pub fn new(min_chunk_size_bytes: u64, horizon_size_bytes: u64) -> Result<Self, Error> {
        let bad = |reason| {
            Err(Error::InvalidRepMaxParams { min: min_chunk_size_bytes, horizon: horizon_size_bytes, reason })
        };
        if min_chunk_size_bytes < REPMAX_MIN_CHUNK_SIZE_FLOOR {
            return bad("min_chunk_size_bytes must be at least 64");
        }
        if min_chunk_size_bytes > REPMAX_MAX_MIN {
            return bad("min_chunk_size_bytes must be at most 256 MiB");
        }
        if horizon_size_bytes > REPMAX_MAX_HORIZON {
            return bad("horizon_size_bytes must be at most 2 GiB");
        }
        Ok(Self { min: min_chunk_size_bytes, horizon: horizon_size_bytes })
    }

    /// REAPI's recommended values: min 256 KiB, horizon 8 x min (2 MiB).
    pub fn reapi_recommended() -> Self {
        Self { min: REPMAX_RECOMMENDED_MIN, horizon: 8 * REPMAX_RECOMMENDED_MIN }
    }

    /// The minimum chunk size (`min_chunk_size_bytes`); chunks are shorter than twice this.
    pub fn min_size(&self) -> u64 {
        self.min
    }

    /// The horizon (`horizon_size_bytes`).
    pub fn horizon_size(&self) -> u64 {
        self.horizon
    }

    /// The largest chunk: `2 * min - 1` bytes (a whole blob shorter than `2 * min` is one chunk).
    pub fn max_size(&self) -> u64 {
        2 * self.min - 1
    }

    /// How many bytes past a chunk's start a cut can depend on: `2 * min + horizon`.
    pub fn window(&self) -> u64 {
        2 * self.min + self.horizon
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(min: u64, horizon: u64, expected: Result<(), &str>) {
        match (RepMaxParams::new(min, horizon), expected) {
            (Ok(p), Ok(())) => assert_eq!((p.min_size(), p.horizon_size()), (min, horizon)),
            (Err(e), Err(text)) => assert!(e.to_string().contains(text), "{e}"),
            (got, want) => panic!("{min}/{horizon}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn recommended() {
        check(256 * 1024, 2 * 1024 * 1024, Ok(()));
        assert_eq!(RepMaxParams::reapi_recommended().window(), 2_621_440);
    }
    #[test]
    fn smallest_min() {
        check(64, 0, Ok(()));
    }
    #[test]
    fn min_too_small() {
        check(
            63,
            512,
            Err("min_chunk_size_bytes 63, horizon_size_bytes 512: min_chunk_size_bytes must be at least 64"),
        );
    }
    #[test]
    fn min_too_large() {
        check(REPMAX_MAX_MIN + 1, 0, Err("at most 256 MiB"));
    }
    #[test]
    fn horizon_too_large() {
        check(4096, REPMAX_MAX_HORIZON + 1, Err("horizon_size_bytes must be at most 2 GiB"));
    }
    #[test]
    fn odd_sizes_are_fine() {
        check(1000, 777, Ok(()));
    }
}

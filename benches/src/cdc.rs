//! Corpora for the `agentry-cdc` benchmarks.

use crate::Rng;

/// `len` bytes of seeded pseudo-random data: the worst case for a chunker, since every position has to be
/// hashed and cut points fall at their natural rate.
pub fn random_blob(seed: u64, len: usize) -> Vec<u8> {
    crate::random_bytes(seed, len)
}

/// A synthetic version series: `versions` blobs of about `len` bytes each, where every version is the
/// previous one with `edits` random edits (an insertion, a deletion or an overwrite of up to 4 KiB each).
/// Used when no real version series is available.
pub fn edited_series(seed: u64, len: usize, versions: usize, edits: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng::new(seed);
    let mut current = random_blob(seed ^ 0x5eed, len);
    let mut out = vec![current.clone()];
    for _ in 1..versions {
        for _ in 0..edits {
            let at = rng.below(current.len() as u64) as usize;
            let n = 1 + rng.below(4096) as usize;
            match rng.below(3) {
                0 => {
                    let mut bytes = vec![0u8; n];
                    rng.fill(&mut bytes);
                    current.splice(at..at, bytes);
                }
                1 => {
                    current.drain(at..(at + n).min(current.len()));
                }
                _ => {
                    let end = (at + n).min(current.len());
                    rng.fill(&mut current[at..end]);
                }
            }
        }
        out.push(current.clone());
    }
    out
}

//! RepMaxCDC on several threads, with the same cut points as the serial scan.
//!
//! As for FastCDC (`crate::parallel`): a chunk's end depends only on its start, so each thread chunks its own
//! segment as if a chunk began there, and a serial stitch follows the true chain, extending it with the serial
//! chunker at each boundary until it lands on a start the next thread found. RepMaxCDC chains meet at the first
//! record both see with `min - 1` quieter positions after it, usually within a chunk or two; where they never
//! meet (uniform chunks of low-entropy data starting out of phase) the stitch chunks serially, so the result
//! is exact either way.

use agentry_types::DigestFunction;

use super::{RepMaxParams, scan::RepMaxChunks};
use crate::{digest::DigestedChunk, scan::Chunk};

/// Like [`repmax_chunk`](crate::repmax_chunk), spread over `threads` threads (0: all available cores). Gives
/// exactly the same chunks.
pub fn repmax_chunk_parallel(params: &RepMaxParams, data: &[u8], threads: usize) -> Vec<Chunk> {
    let threads = crate::parallel::threads_or_all(threads);
    // Segments shorter than a few windows would spend their time resynchronizing.
    let threads = threads.min(data.len() / (4 * params.window() as usize).max(1)).max(1);
    if threads <= 1 {
        return RepMaxChunks::starting_at(params, data, 0).collect();
    }
    let chains = crate::parallel::chains_by_segment(data.len(), threads, |from, until| {
        chain(params, data, from, until)
    });
    stitch(params, data, &chains)
}

/// Chunk starts from `from`, as if a chunk began there, up to and including the first at or after `until`.
fn chain(params: &RepMaxParams, data: &[u8], from: usize, until: usize) -> Vec<usize> {
    let mut out = vec![from];
    for c in RepMaxChunks::starting_at(params, data, from) {
        out.push(c.end() as usize);
        if c.end() as usize >= until {
            break;
        }
    }
    out
}

fn stitch(params: &RepMaxParams, data: &[u8], chains: &[Vec<usize>]) -> Vec<Chunk> {
    let mut starts: Vec<usize> = chains[0].clone();
    for next in &chains[1..] {
        let s = *starts.last().expect("a chain is never empty");
        let last_of_next = *next.last().expect("a chain is never empty");
        let mut landed = next.binary_search(&s).ok();
        if landed.is_none() && s < data.len() && s < last_of_next {
            for c in RepMaxChunks::starting_at(params, data, s) {
                let e = c.end() as usize;
                starts.push(e);
                landed = next.binary_search(&e).ok();
                if landed.is_some() || e >= last_of_next {
                    break;
                }
            }
        }
        if let Some(i) = landed {
            starts.extend_from_slice(&next[i + 1..]);
        }
    }
    let s = *starts.last().expect("a chain is never empty");
    if s < data.len() {
        starts.extend(RepMaxChunks::starting_at(params, data, s).map(|c| c.end() as usize));
    }
    starts.windows(2).map(|w| Chunk { offset: w[0] as u64, length: (w[1] - w[0]) as u64 }).collect()
}

/// RepMaxCDC chunks of `data` with their digests, using up to `threads` threads (0: all available cores):
/// the cut points of [`repmax_chunk`](crate::repmax_chunk), digested on worker threads while the scan runs.
pub fn repmax_chunk_and_digest(
    params: &RepMaxParams,
    data: &[u8],
    function: DigestFunction,
    threads: usize,
) -> Vec<DigestedChunk> {
    let threads = crate::parallel::threads_or_all(threads);
    let cuts = RepMaxChunks::starting_at(params, data, 0);
    if threads <= 1 || (data.len() as u64) < 2 * params.window() {
        return cuts
            .map(|chunk| DigestedChunk { chunk, digest: crate::digest(function, &data[chunk.range()]) })
            .collect();
    }
    crate::digest::digest_while_cutting(data, cuts, function, threads)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repmax::repmax_chunk;

    fn check(min: u64, horizon: u64, data: &[u8]) {
        let p = RepMaxParams::new(min, horizon).expect("valid");
        for threads in [2, 3, 7] {
            assert_eq!(repmax_chunk_parallel(&p, data, threads), repmax_chunk(&p, data), "{threads} threads");
        }
    }

    #[test]
    fn random_data() {
        check(256, 2048, &crate::scan::tests::data(300_000, 7));
    }
    #[test]
    fn zeros() {
        check(100, 800, &vec![0u8; 100_003]);
    }
    #[test]
    fn horizon_zero() {
        check(300, 0, &crate::scan::tests::data(100_001, 8));
    }
}

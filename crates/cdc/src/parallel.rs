//! Multi-threaded chunking with the same cut points as the serial scan.
//!
//! A chunk's end depends only on where it starts (and on the bytes), so chunking is a chain of cut points.
//! Each thread runs the ordinary serial chunker from the start of its own segment, as if a chunk began
//! there, until it passes the start of the next segment. Its chain is wrong at first, but two chains that
//! ever share a chunk start agree from then on, and content-defined chains meet again after a chunk or two
//! (that resynchronization is what makes CDC deduplicate). A serial stitch then follows the true chain from
//! the start: at each segment boundary it extends the true chain with the serial chunker until it lands on a
//! chunk start the next thread found, and takes that thread's chunks from there. If the chains never meet,
//! the stitch simply keeps chunking serially, so the result is exact in every case; only the speed-up
//! depends on the data.

use crate::{
    params::Params,
    scan::{Chunk, chunk, cut},
};

/// `threads`, or every available core when it is 0.
pub(crate) fn threads_or_all(threads: usize) -> usize {
    if threads == 0 {
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    } else {
        threads
    }
}

/// Splits `0..len` into `threads` equal segments and returns `chain(from, until)` of each, in order, computed
/// on `threads` threads. The calling thread takes the last segment itself: it is already running, while new
/// threads may have to wait for a core on a busy machine.
pub(crate) fn chains_by_segment(
    len: usize,
    threads: usize,
    chain: impl Fn(usize, usize) -> Vec<usize> + Sync,
) -> Vec<Vec<usize>> {
    let segment = len.div_ceil(threads);
    let starts: Vec<usize> = (0..threads).map(|t| t * segment).collect();
    let chain = &chain;
    std::thread::scope(|scope| {
        let handles: Vec<_> = starts[..threads - 1]
            .iter()
            .enumerate()
            .map(|(t, &from)| {
                let until = starts[t + 1];
                scope.spawn(move || chain(from, until))
            })
            .collect();
        let last = chain(starts[threads - 1], len);
        let mut chains: Vec<Vec<usize>> =
            handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect();
        chains.push(last);
        chains
    })
}

/// Like [`chunk`](crate::chunk), spread over `threads` threads (0: all available cores). Gives exactly the
/// same chunks.
pub fn chunk_parallel(params: &Params, data: &[u8], threads: usize) -> Vec<Chunk> {
    let threads = crate::parallel::threads_or_all(threads);
    // Segments shorter than a few maximum chunks would spend their time resynchronizing.
    let threads = threads.min(data.len() / (4 * params.max_size() as usize).max(1)).max(1);
    if threads <= 1 || data.len() as u64 <= params.chunking_threshold() {
        return chunk(params, data);
    }
    let chains = chains_by_segment(data.len(), threads, |from, until| chain(params, data, from, until));
    stitch(params, data, &chains, &mut 0)
}

/// Chunk starts from `from`, as if a chunk began there, up to and including the first start at or after
/// `until` (or the end of the data).
fn chain(params: &Params, data: &[u8], from: usize, until: usize) -> Vec<usize> {
    let mut out = vec![from];
    let mut s = from;
    while s < until && s < data.len() {
        s += cut(params, &data[s..]);
        out.push(s);
    }
    out
}

/// Follows the true chain through the per-thread chains; see the module comment. `serial_cuts` counts the
/// cuts the stitch had to compute itself.
fn stitch(params: &Params, data: &[u8], chains: &[Vec<usize>], serial_cuts: &mut usize) -> Vec<Chunk> {
    // Thread 0 started at 0, which is a true chunk start, so its whole chain is true.
    let mut starts: Vec<usize> = chains[0].clone();
    for next in &chains[1..] {
        let mut s = *starts.last().expect("a chain is never empty");
        // Extend the true chain until it lands on a start of the next chain, or passes all of them.
        let last_of_next = *next.last().expect("a chain is never empty");
        while s < data.len() && s < last_of_next && next.binary_search(&s).is_err() {
            s += cut(params, &data[s..]);
            *serial_cuts += 1;
            starts.push(s);
        }
        if let Ok(i) = next.binary_search(&s) {
            starts.extend_from_slice(&next[i + 1..]);
        }
    }
    // Past the last chain (only if the chains never met), finish serially.
    let mut s = *starts.last().expect("a chain is never empty");
    while s < data.len() {
        s += cut(params, &data[s..]);
        *serial_cuts += 1;
        starts.push(s);
    }
    starts.windows(2).map(|w| Chunk { offset: w[0] as u64, length: (w[1] - w[0]) as u64 }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(params: &Params, data: &[u8]) {
        for threads in [2, 3, 7] {
            assert_eq!(chunk_parallel(params, data, threads), chunk(params, data), "{threads} threads");
        }
    }

    fn params() -> Params {
        Params::reapi(1024, 0).expect("valid").with_chunking_threshold(0)
    }

    // Zeros never match a mask: every chunk is `max` long, and a chain started mid-way never meets the true
    // one, so the stitch must fall back to the serial chunker.
    #[test]
    fn zeros_never_resynchronize() {
        check(&params(), &vec![0u8; 100_003]);
    }
    #[test]
    fn periodic_data() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8 ^ (i / 4096) as u8).collect();
        check(&params(), &data);
    }
    // On random data the chains meet within a few chunks of each boundary, so the stitch does almost no work
    // itself: this is what makes the threads pay.
    #[test]
    fn chains_meet_quickly_on_random_data() {
        let data = crate::scan::tests::data(4_000_000, 11);
        let p = params();
        let bounds = [0, 1_000_000, 2_000_000, 3_000_000];
        let chains: Vec<Vec<usize>> = bounds
            .iter()
            .enumerate()
            .map(|(t, &from)| chain(&p, &data, from, bounds.get(t + 1).copied().unwrap_or(data.len())))
            .collect();
        let mut serial_cuts = 0;
        assert_eq!(stitch(&p, &data, &chains, &mut serial_cuts), chunk(&p, &data));
        assert!(serial_cuts <= 3 * 8, "{serial_cuts} serial cuts for 3 boundaries");
    }

    #[test]
    fn random_data() {
        let data = crate::scan::tests::data(300_000, 7);
        check(&params(), &data);
    }
}

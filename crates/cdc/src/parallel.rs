//! Multi-threaded chunking with the same cut points as the serial scan.
//!
//! The hash bits the masks test (bits 0..=47) depend only on the last 48 bytes, so the "global" gear hash
//! (rolled from the start of the blob) agrees with a chunk's own hash (rolled from `min` past the chunk's
//! start) everywhere except the first 48 positions of the scan. Threads therefore compute the global hash
//! over disjoint segments (each rebuilding its state from the 64 bytes before its segment) and record every
//! position where the hash has none of the bits the two masks share: a superset of all possible cut points,
//! about one position in 2^13 at the REAPI default. A serial pass then walks the chunks: for each it rolls
//! the first 64 positions exactly, then takes the first recorded candidate that passes the exact mask.

use crate::{
    params::Params,
    scan::{Chunk, scan_pairs},
};

/// Bytes of history that fix every tested hash bit (masks use bits up to 47).
const HISTORY: usize = 64;

/// Like [`chunk`](crate::chunk), with the candidate search spread over `threads` threads (0: all available
/// cores). Gives exactly the same chunks.
pub fn chunk_parallel(params: &Params, data: &[u8], threads: usize) -> Vec<Chunk> {
    let threads = if threads == 0 {
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    } else {
        threads
    };
    let small = data.len() < 4 * params.max_size() as usize;
    if threads <= 1 || small || data.len() as u64 <= params.chunking_threshold() {
        return crate::scan::chunk(params, data);
    }
    let (mask_s, mask_l) = params.masks();
    let common = mask_s & mask_l;
    let gear = params.gear();
    let segment = data.len().div_ceil(threads);
    let per_thread: Vec<Vec<(usize, u64)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let from = (t * segment).min(data.len());
                let to = ((t + 1) * segment).min(data.len());
                scope.spawn(move || candidates(gear, data, from, to, common))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    });
    let candidates: Vec<(usize, u64)> = per_thread.into_iter().flatten().collect();
    resolve(params, data, &candidates)
}

/// Every position in `from..to` whose global gear hash has no bit of `common` set, with that hash.
fn candidates(gear: &[u64; 256], data: &[u8], from: usize, to: usize, common: u64) -> Vec<(usize, u64)> {
    let mut h = data[from.saturating_sub(HISTORY)..from]
        .iter()
        .fold(0u64, |h, &b| (h << 1).wrapping_add(gear[usize::from(b)]));
    let mut out = Vec::new();
    let mut pos = from;
    while let Some(p) = scan_pairs(gear, data, pos, to, common, &mut h) {
        out.push((p, h));
        pos = p + 1;
    }
    out
}

/// Walks the chunks using the sorted candidate list.
fn resolve(params: &Params, data: &[u8], candidates: &[(usize, u64)]) -> Vec<Chunk> {
    let (min, avg, max) =
        (params.min_size() as usize, params.avg_size() as usize, params.max_size() as usize);
    let (mask_s, mask_l) = params.masks();
    let gear = params.gear();
    let mut out = Vec::with_capacity(data.len() / avg + 1);
    let mut s = 0;
    let mut next = 0; // index of the first candidate not yet behind `s`
    while s < data.len() {
        let rest = &data[s..];
        let length = 'cut: {
            if rest.len() <= min {
                break 'cut rest.len();
            }
            let rem = rest.len().min(max);
            let end = rem & !1;
            let center = avg.clamp(min, end);
            let exact_end = (min + HISTORY).min(end);
            let mut h = 0u64;
            if let Some(p) = scan_pairs(gear, &rest[..end], min, center.min(exact_end), mask_s, &mut h) {
                break 'cut p;
            }
            if let Some(p) = scan_pairs(gear, &rest[..end], center.min(exact_end), exact_end, mask_l, &mut h)
            {
                break 'cut p;
            }
            while next < candidates.len() && candidates[next].0 < s + exact_end {
                next += 1;
            }
            for &(q, hq) in &candidates[next..] {
                let p = q - s;
                if p >= end {
                    break;
                }
                if hq & if p < center { mask_s } else { mask_l } == 0 {
                    break 'cut p;
                }
            }
            rem
        };
        out.push(Chunk { offset: s as u64, length: length as u64 });
        s += length;
    }
    out
}

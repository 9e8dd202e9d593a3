//! The RepMaxCDC cut-point scan (see the module comment of `repmax` for the rule and the method).

use std::collections::VecDeque;

use super::RepMaxParams;
use crate::{gear::GEAR, scan::Chunk};

/// Cuts `data` into RepMaxCDC chunks; they tile it exactly, in order. Data shorter than `2 * min` is one
/// chunk; empty data has no chunks.
pub fn repmax_chunk(params: &RepMaxParams, data: &[u8]) -> Vec<Chunk> {
    repmax_chunks(params, data).collect()
}

/// The iterator form of [`repmax_chunk`].
pub fn repmax_chunks<'a>(params: &RepMaxParams, data: &'a [u8]) -> RepMaxChunks<'a> {
    RepMaxChunks { data, offset: 0, cutter: Cutter::new(params) }
}

/// Iterator over the RepMaxCDC chunks of a byte slice; see [`repmax_chunks`].
#[derive(Debug, Clone)]
pub struct RepMaxChunks<'a> {
    data: &'a [u8],
    offset: usize,
    cutter: Cutter,
}

impl<'a> RepMaxChunks<'a> {
    /// The chunks of `data` from `offset` on, as if a chunk started there.
    pub(crate) fn starting_at(params: &RepMaxParams, data: &'a [u8], offset: usize) -> Self {
        Self { data, offset, cutter: Cutter::new(params) }
    }
}

impl Iterator for RepMaxChunks<'_> {
    type Item = Chunk;

    fn next(&mut self) -> Option<Chunk> {
        let s = self.offset as u64;
        let end = self.cutter.next_cut(s, self.data, 0, true)?;
        self.offset = end as usize;
        Some(Chunk { offset: s, length: end - s })
    }
}

impl std::iter::FusedIterator for RepMaxChunks<'_> {}

/// The state of the scan between chunks: cuts already known to be final, the records since the first
/// candidate of the current chunk, and the rolling hash where the scan stopped. Positions are absolute (bytes
/// from the start of the input), so the same state serves a slice and a stream's sliding buffer.
#[derive(Debug, Clone)]
pub(crate) struct Cutter {
    min: u64,
    window: u64,
    /// Final cuts not handed out yet, ascending.
    pending: VecDeque<u64>,
    /// Positions where the hash exceeded every earlier one since `records[0]`, the current chunk's first
    /// candidate; ascending, with strictly increasing hashes. Empty: start afresh at the next chunk.
    records: Vec<u64>,
    /// `hash` is the hash of the 64 bytes before `pos`.
    pos: u64,
    hash: u64,
    /// The hash at the last record.
    best: u64,
}

impl Cutter {
    pub(crate) fn new(params: &RepMaxParams) -> Self {
        Self {
            min: params.min_size(),
            window: params.window(),
            pending: VecDeque::new(),
            records: Vec::with_capacity(32),
            pos: 0,
            hash: 0,
            best: 0,
        }
    }

    /// The end of the chunk that starts at `s` (the previous call's answer, or 0), or `None` at the end.
    /// `view` holds the input from position `view_off <= s` on; it reaches `s + window` or, with `eof`, the end of
    /// the input.
    pub(crate) fn next_cut(&mut self, s: u64, view: &[u8], view_off: u64, eof: bool) -> Option<u64> {
        if let Some(c) = self.pending.pop_front() {
            return Some(c);
        }
        let end = view_off + view.len() as u64;
        let rest = end - s;
        if rest == 0 {
            return None;
        }
        let min = self.min;
        if rest < 2 * min {
            debug_assert!(eof, "a view short of the window is the end of the input");
            self.records.clear();
            return Some(end);
        }
        // The last candidate position for this chunk.
        let last_candidate = s + rest.min(self.window) - min;
        let at = |p: u64| (p - view_off) as usize;
        if self.records.is_empty() {
            let first = s + min;
            self.hash = view[at(first - 64)..at(first)].iter().fold(0, |h, &b| roll(h, b));
            self.best = self.hash;
            self.pos = first;
            self.records.push(first);
        }
        let first = self.records[0];
        debug_assert_eq!(first, s + min);
        loop {
            let last = *self.records.last().expect("records start with the first candidate");
            // Once `min - 1` positions after the latest record hold no new record, the cuts up to it are final.
            let settled_at = last + min - 1;
            let to = settled_at.min(last_candidate);
            if self.pos < to {
                let bytes = &view[at(self.pos)..at(to)];
                if let Some(i) = first_above(bytes, &mut self.hash, self.best) {
                    self.pos += i as u64 + 1;
                    self.best = self.hash;
                    self.records.push(self.pos);
                    continue;
                }
                self.pos = to;
            }
            if to == settled_at {
                let mut cuts = vec![last];
                let mut i = self.records.len() - 1;
                while self.records[i] >= first + min {
                    i = self.step_back(i);
                    cuts.push(self.records[i]);
                }
                self.pending.extend(cuts.into_iter().rev());
                // The next chunk starts at `last`: its first candidate is `min` further, one byte on.
                self.hash = roll(self.hash, view[at(settled_at)]);
                self.pos = last + min;
                self.best = self.hash;
                self.records.clear();
                self.records.push(self.pos);
                return self.pending.pop_front();
            }
            // The horizon ended first: the definition's choice for this one chunk, then start afresh.
            let mut i = self.records.len() - 1;
            while self.records[i] >= first + min {
                i = self.step_back(i);
            }
            let cut = self.records[i];
            self.records.clear();
            return Some(cut);
        }
    }

    /// The index of the last record at least `min` before record `i` (record 0 qualifies whenever record `i` is
    /// `min` or more past it).
    fn step_back(&self, i: usize) -> usize {
        let limit = self.records[i] - self.min;
        let mut j = i - 1;
        while self.records[j] > limit {
            j -= 1;
        }
        j
    }
}

#[inline(always)]
fn roll(h: u64, byte: u8) -> u64 {
    (h << 1).wrapping_add(GEAR[usize::from(byte)])
}

/// Rolls `hash` over `bytes`, stopping at the first byte after which it exceeds `best`; returns that byte's
/// index. `hash` is left at the hash after the last byte rolled.
///
/// Eight bytes per step: with `s_k` the hash of the step's first `k` bytes alone, the hash after them is
/// `(h << k) + s_k`, so the loop-carried chain is one shift and one add per eight bytes instead of per byte,
/// and the `s_k` of successive steps are computed in parallel. New maxima are rare (about `1 / d` of the
/// positions `d` bytes past the first candidate), so a step only tests whether any of its eight hashes
/// exceeds `best`, and the rare step that does is redone byte by byte.
#[inline]
fn first_above(bytes: &[u8], hash: &mut u64, best: u64) -> Option<usize> {
    let mut h = *hash;
    let mut steps = bytes.chunks_exact(8);
    for (k, step) in (&mut steps).enumerate() {
        let g = |i: usize| GEAR[usize::from(step[i])];
        let s1 = g(0);
        let s2 = (s1 << 1).wrapping_add(g(1));
        let s3 = (s2 << 1).wrapping_add(g(2));
        let s4 = (s3 << 1).wrapping_add(g(3));
        let s5 = (s4 << 1).wrapping_add(g(4));
        let s6 = (s5 << 1).wrapping_add(g(5));
        let s7 = (s6 << 1).wrapping_add(g(6));
        let s8 = (s7 << 1).wrapping_add(g(7));
        let above = ((h << 1).wrapping_add(s1) > best)
            | ((h << 2).wrapping_add(s2) > best)
            | ((h << 3).wrapping_add(s3) > best)
            | ((h << 4).wrapping_add(s4) > best)
            | ((h << 5).wrapping_add(s5) > best)
            | ((h << 6).wrapping_add(s6) > best)
            | ((h << 7).wrapping_add(s7) > best)
            | ((h << 8).wrapping_add(s8) > best);
        if above {
            for (i, &b) in step.iter().enumerate() {
                h = roll(h, b);
                if h > best {
                    *hash = h;
                    return Some(8 * k + i);
                }
            }
        }
        h = (h << 8).wrapping_add(s8);
    }
    let done = bytes.len() - steps.remainder().len();
    for (i, &b) in steps.remainder().iter().enumerate() {
        h = roll(h, b);
        if h > best {
            *hash = h;
            return Some(done + i);
        }
    }
    *hash = h;
    None
}

/// The byte-by-byte statement of the rule (see the module comment of `repmax`), the executable specification
/// the scan is tested against: the length of the chunk at the start of `data`, given the whole rest of the
/// input.
#[cfg(test)]
pub(crate) fn cut_reference(params: &RepMaxParams, data: &[u8]) -> usize {
    let min = params.min_size() as usize;
    let rest = data.len();
    if rest < 2 * min {
        return rest;
    }
    // The score of the candidate cut `min + k` bytes in: the gear hash of the 64 bytes before it.
    let score = |k: usize| data[min + k - 64..min + k].iter().fold(0u64, |h, &b| roll(h, b));
    let mut last = rest.min(params.window() as usize) - 2 * min;
    loop {
        let mut best_k = 0;
        for k in 1..=last {
            if score(k) > score(best_k) {
                best_k = k;
            }
        }
        if best_k < min {
            return min + best_k;
        }
        last = best_k - min;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::tests::data;

    fn check(min: u64, horizon: u64, data: &[u8]) {
        let params = RepMaxParams::new(min, horizon).expect("valid");
        let mut expected = Vec::new();
        let mut offset = 0;
        while offset < data.len() {
            let length = cut_reference(&params, &data[offset..]);
            expected.push(Chunk { offset: offset as u64, length: length as u64 });
            offset += length;
        }
        assert_eq!(repmax_chunk(&params, data), expected, "min {min} horizon {horizon}");
    }

    #[test]
    fn random_small() {
        check(64, 512, &data(20_000, 1));
    }
    #[test]
    fn random_wide_horizon() {
        check(100, 5000, &data(30_000, 2));
    }
    // Long stretches between records take the multi-lane path.
    #[test]
    fn random_large_min() {
        check(20_000, 60_000, &data(300_000, 5));
    }
    #[test]
    fn horizon_zero_is_uniform() {
        let p = RepMaxParams::new(128, 0).expect("valid");
        let lengths: Vec<u64> = repmax_chunk(&p, &data(1000, 3)).iter().map(|c| c.length).collect();
        assert_eq!(lengths, [128, 128, 128, 128, 128, 128, 232]);
    }
    #[test]
    fn horizon_shorter_than_min() {
        check(300, 10, &data(20_000, 4));
    }
    #[test]
    fn zeros() {
        check(64, 1000, &[0u8; 10_000]);
    }
    #[test]
    fn short_period() {
        let d: Vec<u8> = (0..20_000u32).map(|i| (i % 7) as u8).collect();
        check(90, 700, &d);
    }
    #[test]
    fn shorter_than_twice_min_is_one_chunk() {
        let p = RepMaxParams::new(64, 64).expect("valid");
        assert_eq!(repmax_chunk(&p, &[5u8; 127]), vec![Chunk { offset: 0, length: 127 }]);
        assert_eq!(repmax_chunk(&p, &[5u8; 128]).len(), 2);
    }
    /// Random bytes, or with `low` set, runs and short periods (where hashes tie and repeat).
    fn bytes(len: usize, seed: u64, low: bool) -> Vec<u8> {
        if !low {
            return data(len, seed);
        }
        let period = (seed % 9 + 1) as usize;
        (0..len).map(|i| if (i / 700) % 3 == 0 { 0 } else { (i % period) as u8 }).collect()
    }

    fn config() -> proptest::prelude::ProptestConfig {
        let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(64);
        proptest::prelude::ProptestConfig { cases, ..Default::default() }
    }

    proptest::proptest! {
        #![proptest_config(config())]

        #[test]
        fn scan_equals_reference(min in 64u64..400, horizon in 0u64..2000, len in 0usize..8_000, seed: u64, low: bool) {
            check(min, horizon, &bytes(len, seed, low));
        }

        /// Inputs whose length is near `min`, `2 min` or `min + horizon`, where the end of input decides.
        #[test]
        fn scan_equals_reference_near_edges(min in 64u64..300, horizon in 0u64..1500, which in 0usize..4, delta in 0usize..5, seed: u64) {
            let (min_, horizon_) = (min as usize, horizon as usize);
            let len = [min_, 2 * min_, min_ + horizon_, 2 * min_ + horizon_][which] + delta - 2;
            check(min, horizon, &bytes(len, seed, seed % 3 == 0));
        }
    }

    #[test]
    fn empty_has_no_chunks() {
        assert!(repmax_chunk(&RepMaxParams::new(64, 64).expect("valid"), &[]).is_empty());
    }
}

//! The cut-point scan: FastCDC 2020 with normalization level 2, exactly as fastcdc-rs `v2020` cuts.
//!
//! fastcdc-rs rolls two bytes per step with a pre-shifted table, which is the plain gear hash
//! `h = (h << 1) + gear[byte]` tested after every byte (the shifted test masks only drop bit 63, which no mask
//! uses). Its cut semantics, restated per byte: for a chunk starting at `s` with `r` bytes left, if `r <= min`
//! the chunk is the rest; otherwise the hash starts at zero at byte `s + min`, and at each position `p` from
//! `min` to `end = min(r, max)` rounded down to even (the pair loop never tests an odd tail byte), after
//! adding byte `s + p` the chunk ends *before* that byte if `h & mask == 0`, where `mask` is the strict mask
//! below `avg` and the loose one from `avg` on. With no such position the chunk is `min(r, max)` bytes.
//!
//! On one core the scan runs at about one byte per cycle. The compiled loop is fastcdc's: per pair of bytes a
//! shift and two adds on the loop-carried hash, each followed by a test. Variants that shorten that chain
//! (eight-byte blocks, four independent lanes, a 64 Ki-entry pair table, gathers) were measured here and were
//! not faster (docs/cdc.md). The speed-up comes from threads instead: see
//! [`chunk_parallel`](crate::chunk_parallel).

use crate::params::Params;

/// A chunk of a blob: a byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Chunk {
    /// Where the chunk starts in the blob.
    pub offset: u64,
    /// How many bytes it has.
    pub length: u64,
}

impl Chunk {
    /// One past the chunk's last byte.
    pub fn end(&self) -> u64 {
        self.offset + self.length
    }

    /// The chunk's bytes within `blob` (the blob it was cut from, or one starting at the same offset).
    pub fn range(&self) -> std::ops::Range<usize> {
        self.offset as usize..self.end() as usize
    }
}

/// Cuts `data` into content-defined chunks; they tile it exactly, in order. Data of at most
/// [`Params::chunking_threshold`] bytes is one chunk; empty data has no chunks.
pub fn chunk(params: &Params, data: &[u8]) -> Vec<Chunk> {
    chunks(params, data).collect()
}

/// The iterator form of [`chunk`].
pub fn chunks<'a>(params: &'a Params, data: &'a [u8]) -> Chunks<'a> {
    Chunks { params, data, offset: 0, whole: data.len() as u64 <= params.chunking_threshold() }
}

/// Iterator over the chunks of a byte slice; see [`chunks`].
#[derive(Debug, Clone)]
pub struct Chunks<'a> {
    params: &'a Params,
    data: &'a [u8],
    offset: usize,
    whole: bool,
}

impl Iterator for Chunks<'_> {
    type Item = Chunk;

    fn next(&mut self) -> Option<Chunk> {
        let rest = &self.data[self.offset..];
        if rest.is_empty() {
            return None;
        }
        let length = if self.whole { rest.len() } else { cut(self.params, rest) };
        let chunk = Chunk { offset: self.offset as u64, length: length as u64 };
        self.offset += length;
        Some(chunk)
    }
}

impl std::iter::FusedIterator for Chunks<'_> {}

/// The length of the chunk that starts at `data[0]`, given that `data` holds at least `min(max, rest of the
/// blob)` bytes, or the whole rest. Never 0 for non-empty `data`.
pub(crate) fn cut(params: &Params, data: &[u8]) -> usize {
    let (mask_s, mask_l) = params.masks();
    cut_with(
        params.gear(),
        data,
        params.min_size() as usize,
        params.avg_size() as usize,
        params.max_size() as usize,
        mask_s,
        mask_l,
    )
}

fn cut_with(
    gear: &[u64; 256],
    data: &[u8],
    min: usize,
    avg: usize,
    max: usize,
    mask_s: u64,
    mask_l: u64,
) -> usize {
    let rem = data.len().min(max);
    if data.len() <= min {
        return data.len();
    }
    let end = rem & !1;
    let center = avg.clamp(min, end);
    let mut h = 0u64;
    if let Some(p) = scan_pairs(gear, &data[..end], min, center, mask_s, &mut h) {
        return p;
    }
    if let Some(p) = scan_pairs(gear, &data[..end], center, end, mask_l, &mut h) {
        return p;
    }
    rem
}

/// Rolls the gear hash over `data[from..to]` from state `h`, two bytes per step (and a last single byte if
/// the range is odd), returning the first position whose hash has no bit of `mask` set. `h` is left at the
/// hash of the returned position, or of `to - 1` when there is none.
///
/// Two bytes per step shortens the dependency chain: `h + h + g0` then `+ g1` becomes `4h + (2 g0 + g1)`,
/// where the parenthesis does not depend on `h`.
#[inline(always)]
pub(crate) fn scan_pairs(
    gear: &[u64; 256],
    data: &[u8],
    from: usize,
    to: usize,
    mask: u64,
    h: &mut u64,
) -> Option<usize> {
    if from >= to {
        return None;
    }
    let mut hash = *h;
    let mask_ls = mask << 1;
    let mut pairs = data[from..to].chunks_exact(2);
    for (k, pair) in (&mut pairs).enumerate() {
        // `hash << 2` plus the doubled gear value is twice the hash after the first byte; the masks never
        // use bit 63, so testing it against the doubled mask is the same test.
        let g0 = gear[usize::from(pair[0])];
        let doubled = (hash << 2).wrapping_add(g0 << 1);
        if doubled & mask_ls == 0 {
            *h = (hash << 1).wrapping_add(g0);
            return Some(from + 2 * k);
        }
        hash = doubled.wrapping_add(gear[usize::from(pair[1])]);
        if hash & mask == 0 {
            *h = hash;
            return Some(from + 2 * k + 1);
        }
    }
    if let [last] = pairs.remainder() {
        hash = (hash << 1).wrapping_add(gear[usize::from(*last)]);
        if hash & mask == 0 {
            *h = hash;
            return Some(to - 1);
        }
    }
    *h = hash;
    None
}

/// The byte-at-a-time statement of the cut rule, kept as the executable specification the fast scan is
/// tested against.
#[cfg(test)]
pub(crate) fn cut_reference(params: &Params, data: &[u8]) -> usize {
    let (min, avg, max) =
        (params.min_size() as usize, params.avg_size() as usize, params.max_size() as usize);
    let (mask_s, mask_l) = params.masks();
    let rem = data.len().min(max);
    if data.len() <= min {
        return data.len();
    }
    let end = rem & !1;
    let mut h = 0u64;
    for (p, &byte) in data.iter().enumerate().take(end).skip(min) {
        h = (h << 1).wrapping_add(params.gear()[usize::from(byte)]);
        let mask = if p < avg { mask_s } else { mask_l };
        if h & mask == 0 {
            return p;
        }
    }
    rem
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// `len` xorshift bytes from `seed`: the random test data of this crate's unit tests.
    pub(crate) fn data(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    fn check(params: &Params, data: &[u8]) {
        let mut offset = 0;
        while offset < data.len() {
            let fast = cut(params, &data[offset..]);
            assert_eq!(fast, cut_reference(params, &data[offset..]), "offset {offset}");
            offset += fast;
        }
    }

    #[test]
    fn fast_equals_reference_small_avg() {
        check(&Params::custom(256, 1024, 4096, 0).expect("valid"), &data(300_000, 1));
    }
    #[test]
    fn fast_equals_reference_seeded() {
        check(&Params::custom(64, 256, 1024, 666).expect("valid"), &data(100_001, 2));
    }
    #[test]
    fn fast_equals_reference_zeros() {
        check(&Params::reapi(1024, 0).expect("valid"), &[0u8; 50_001]);
    }
    #[test]
    fn short_input_is_one_chunk() {
        let p = Params::reapi(1024, 0).expect("valid").with_chunking_threshold(0);
        assert_eq!(chunk(&p, &[7u8; 100]), vec![Chunk { offset: 0, length: 100 }]);
    }
    #[test]
    fn empty_input_has_no_chunks() {
        assert!(chunk(&Params::reapi(1024, 0).expect("valid"), &[]).is_empty());
    }
    #[test]
    fn below_threshold_is_whole() {
        let p = Params::reapi(1024, 0).expect("valid");
        assert_eq!(chunk(&p, &data(4096, 3)).len(), 1);
        assert!(chunk(&p, &data(4097, 3)).len() > 1);
    }
}

//! Deterministic corpora for the agentry benchmarks.
//!
//! Every benchmark draws its input from here, seeded, so a run on one machine and a run on another measure
//! the same bytes. Each crate's corpus lives in its own module.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cache_econ;
pub mod cdc;
pub mod cdc_remote;
pub mod hooks;
pub mod ingest;
pub mod ingest_columns;
pub mod relay;

/// A small, fast, seeded pseudo-random generator (SplitMix64): the same seed gives the same stream everywhere.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub const fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub const fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (`n > 0`), with negligible bias for the small `n` used here.
    pub const fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Fills a buffer with random bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// `len` random bytes from `seed`.
pub fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    Rng::new(seed).fill(&mut out);
    out
}

/// Writes rows of figures that are not criterion timings (dedup ratios, whole-process comparisons) for the
/// report of `cargo xtask bench`: a JSON array of objects with the string fields `benchmark`, `ours`,
/// `anchor_name`, `anchor`, `ratio` and `note`. Does nothing when the bench runs outside `cargo xtask bench`.
pub fn report_extra(name: &str, rows: &[[(&str, String); 6]]) -> std::io::Result<()> {
    let Some(dir) = std::env::var_os("AGENTRY_REPORT_EXTRA_DIR") else { return Ok(()) };
    let mut out = String::from("[");
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('{');
        for (j, (k, v)) in row.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            out.push_str(&format!("{}:{}", json_string(k), json_string(v)));
        }
        out.push('}');
    }
    out.push(']');
    std::fs::write(std::path::Path::new(&dir).join(format!("{name}.json")), out)
}

/// Whether `cargo xtask bench --quick` asked for a short run (smaller corpora, fewer samples).
pub fn quick() -> bool {
    std::env::var_os("AGENTRY_BENCH_QUICK").is_some()
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Texts in the shared types' formats, for the parse/format benchmarks of `agentry-types`.
pub mod types {
    use crate::Rng;

    /// `n` digests in REAPI `hash/size` form.
    pub fn digest_texts(seed: u64, n: usize) -> Vec<String> {
        let mut rng = Rng::new(seed);
        (0..n)
            .map(|_| {
                let mut hash = [0u8; 32];
                rng.fill(&mut hash);
                let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
                format!("{hex}/{}", rng.below(1 << 30))
            })
            .collect()
    }

    /// `n` RFC 3339 timestamps in the form Claude Code writes (`2026-11-24T13:49:54.123Z`).
    pub fn timestamp_texts(seed: u64, n: usize) -> Vec<String> {
        let mut rng = Rng::new(seed);
        (0..n)
            .map(|_| {
                format!(
                    "20{:02}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                    20 + rng.below(10),
                    1 + rng.below(12),
                    1 + rng.below(28),
                    rng.below(24),
                    rng.below(60),
                    rng.below(60),
                    rng.below(1000)
                )
            })
            .collect()
    }

    /// `n` dollar amounts with up to 12 fractional digits.
    pub fn money_texts(seed: u64, n: usize) -> Vec<String> {
        let mut rng = Rng::new(seed);
        (0..n).map(|_| format!("{}.{:012}", rng.below(10_000), rng.below(1_000_000_000_000))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic() {
        assert_eq!(random_bytes(7, 33), random_bytes(7, 33));
        assert_ne!(random_bytes(7, 33), random_bytes(8, 33));
    }

    #[test]
    fn corpora_parse() {
        for t in types::digest_texts(1, 50) {
            assert!(t.parse::<agentry_types::Digest>().is_ok(), "{t}");
        }
        for t in types::timestamp_texts(1, 50) {
            assert!(t.parse::<agentry_types::Timestamp>().is_ok(), "{t}");
        }
        for t in types::money_texts(1, 50) {
            assert!(t.parse::<agentry_types::Usd>().is_ok(), "{t}");
        }
    }
}

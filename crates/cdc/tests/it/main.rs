//! Integration tests of agentry-cdc, one module per area.

#[cfg(feature = "cli")]
mod cli;
mod digest;
mod plan;
mod props;
#[cfg(feature = "cli")]
mod remote;
mod repmax;
mod stream;
mod vectors;

/// Seeded pseudo-random bytes (xorshift64), the data most of these tests chunk.
fn random(len: usize, seed: u64) -> Vec<u8> {
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

/// A reader that hands out the data in pseudo-random short reads of at most `most` bytes, to exercise buffer
/// refills at every phase.
struct Trickle<'a> {
    data: &'a [u8],
    state: u64,
    most: usize,
}

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.state = self.state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let n = ((self.state >> 33) as usize % self.most + 1).min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Property-test settings: the case count from `PROPTEST_CASES` (default 64).
fn proptest_config() -> proptest::prelude::ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(64);
    proptest::prelude::ProptestConfig { cases, ..proptest::prelude::ProptestConfig::default() }
}

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

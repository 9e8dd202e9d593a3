//! The gear table: `GEAR[i]` is the first 64 bits (big-endian) of the MD5 of 64 bytes all equal to `i`, the
//! derivation of the FastCDC C reference implementation (destor) that fastcdc-rs documents in its
//! `examples/table64.rs` and that the REAPI `FastCdc2020Params` comment adopts by naming fastcdc-rs. It is
//! computed at compile time by a small `const` MD5 that only handles these 64-byte messages, so the table is
//! derived from its definition rather than pasted in.

/// Per-round left-rotation amounts of MD5 (RFC 1321).
const S: [u32; 64] = [
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5,
    9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6,
    10, 15, 21, 6, 10, 15, 21,
];

/// `floor(abs(sin(i + 1)) * 2^32)` (RFC 1321, section 3.4).
const K: [u32; 64] = [
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
];

/// One MD5 compression of `block` into `state` (RFC 1321, section 3.4).
const fn md5_block(state: [u32; 4], block: &[u32; 16]) -> [u32; 4] {
    let [mut a, mut b, mut c, mut d] = state;
    let mut i = 0;
    while i < 64 {
        let (f, g) = match i / 16 {
            0 => ((b & c) | (!b & d), i),
            1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
            2 => (b ^ c ^ d, (3 * i + 5) % 16),
            _ => (c ^ (b | !d), (7 * i) % 16),
        };
        let f = f.wrapping_add(a).wrapping_add(K[i]).wrapping_add(block[g]);
        a = d;
        d = c;
        c = b;
        b = b.wrapping_add(f.rotate_left(S[i]));
        i += 1;
    }
    [state[0].wrapping_add(a), state[1].wrapping_add(b), state[2].wrapping_add(c), state[3].wrapping_add(d)]
}

/// MD5 of the 64-byte message in which every byte is `byte`, as 16 digest bytes.
const fn md5_of_repeated(byte: u8) -> [u8; 16] {
    let word = u32::from_le_bytes([byte; 4]);
    let state = md5_block([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476], &[word; 16]);
    // The padding block of a 64-byte message: the 0x80 terminator, zeros, and the bit length 512.
    let mut pad = [0u32; 16];
    pad[0] = 0x80;
    pad[14] = 512;
    let words = md5_block(state, &pad);
    let mut out = [0u8; 16];
    let mut w = 0;
    while w < 4 {
        let bytes = words[w].to_le_bytes();
        let mut j = 0;
        while j < 4 {
            out[w * 4 + j] = bytes[j];
            j += 1;
        }
        w += 1;
    }
    out
}

const fn build_gear() -> [u64; 256] {
    let mut table = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        let d = md5_of_repeated(i as u8);
        let mut v = 0u64;
        let mut j = 0;
        while j < 8 {
            v = (v << 8) | d[j] as u64;
            j += 1;
        }
        table[i] = v;
        i += 1;
    }
    table
}

/// The unseeded gear table.
pub(crate) const GEAR: [u64; 256] = build_gear();

/// The gear table with a seed mixed in the way fastcdc-rs, Bazel and BuildBuddy's Go port do: every entry is
/// XORed with the seed. (Their separate left-shifted table is XORed with `seed << 1`, which is the same as
/// shifting this seeded table, so one table suffices for the byte-at-a-time formulation used here.)
pub(crate) fn seeded_gear(seed: u64) -> [u64; 256] {
    let mut table = GEAR;
    for v in &mut table {
        *v ^= seed;
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(byte: u8, md5_hex: &str) {
        let got: String = md5_of_repeated(byte).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(got, md5_hex);
    }

    // Expected values from Python's hashlib: `hashlib.md5(bytes([i] * 64)).hexdigest()`.
    #[test]
    fn md5_of_zeros() {
        check(0, "3b5d3c7d207e37dceeedd301e35e2e58");
    }
    #[test]
    fn md5_of_ones() {
        check(1, "784d68ba9112308689114a6816c628ce");
    }
    #[test]
    fn md5_of_ff() {
        check(255, "aabd2b2a451504e119a243d8e775fdad");
    }
    #[test]
    fn gear_is_high_half_of_md5() {
        assert_eq!(GEAR[0], 0x3b5d_3c7d_207e_37dc);
        assert_eq!(GEAR[97], 0x0148_42d4_80b5_7149);
    }
    #[test]
    fn seed_is_xored() {
        assert_eq!(seeded_gear(666)[7], GEAR[7] ^ 666);
    }
}

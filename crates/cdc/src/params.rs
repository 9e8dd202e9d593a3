use crate::{error::Error, gear::seeded_gear};

/// Cut-point masks indexed by the rounded base-2 logarithm of a chunk size. The values are those of the FastCDC
/// C reference implementation (destor) up to 128 KiB and of restic-FastCDC above, as collected in fastcdc-rs
/// (`v2020::MASKS`); the REAPI `FastCdc2020Params` comment prescribes this table. Entries 0..=4 are never used.
const MASKS: [u64; 26] = [
    0,
    0,
    0,
    0,
    0,
    0x0000_0000_0180_4110,
    0x0000_0000_0180_3110, // 64 B
    0x0000_0000_1803_5100, // 128 B
    0x0000_0018_0003_5300, // 256 B
    0x0000_0190_0035_3000, // 512 B
    0x0000_5900_0353_0000, // 1 KiB
    0x0000_d900_0353_0000, // 2 KiB
    0x0000_d901_0353_0000, // 4 KiB
    0x0000_d903_0353_0000, // 8 KiB
    0x0000_d903_1353_0000, // 16 KiB
    0x0000_d90f_0353_0000, // 32 KiB
    0x0000_d903_0353_7000, // 64 KiB
    0x0000_d907_0353_7000, // 128 KiB
    0x0000_d907_0753_7000, // 256 KiB
    0x0000_d917_0753_7000, // 512 KiB
    0x0000_d917_4753_7000, // 1 MiB
    0x0000_d917_6753_7000, // 2 MiB
    0x0000_d937_6753_7000, // 4 MiB
    0x0000_d937_7753_7000, // 8 MiB
    0x0000_d937_7757_7000, // 16 MiB
    0x0000_db37_7757_7000,
];

/// The normalization level REAPI mandates: the strict mask has two more bits than the average calls for, the
/// loose mask two fewer.
const NORMALIZATION_LEVEL: u32 = 2;

/// Smallest average chunk size REAPI allows (1 KiB).
pub const REAPI_MIN_AVG: u32 = 1024;
/// Largest average chunk size REAPI allows today (1 MiB).
pub const REAPI_MAX_AVG: u32 = 1024 * 1024;
/// Largest average chunk size with the explicit opt-in (8 MiB: Bazel's ceiling and remote-apis PR #380).
pub const REAPI_MAX_AVG_EXTENDED: u32 = 8 * 1024 * 1024;
/// The average chunk size REAPI recommends (512 KiB).
pub const REAPI_DEFAULT_AVG: u32 = 512 * 1024;

/// FastCDC 2020 chunking parameters: sizes, masks, the seeded gear table and the chunking threshold.
///
/// Build them with [`Params::reapi`] (what a REAPI server advertises in `FastCdc2020Params`) or, for
/// sizes that do not follow REAPI's `min = avg / 4`, `max = avg * 4`, with [`Params::custom`].
#[derive(Clone, PartialEq, Eq)]
pub struct Params {
    min: u32,
    avg: u32,
    max: u32,
    seed: u64,
    mask_s: u64,
    mask_l: u64,
    threshold: u64,
    gear: Box<[u64; 256]>,
}

impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Params")
            .field("min", &self.min)
            .field("avg", &self.avg)
            .field("max", &self.max)
            .field("seed", &self.seed)
            .field("mask_s", &format_args!("{:#018x}", self.mask_s))
            .field("mask_l", &format_args!("{:#018x}", self.mask_l))
            .field("threshold", &self.threshold)
            .finish_non_exhaustive()
    }
}

impl Params {
    /// Parameters as REAPI's `FastCdc2020Params { avg_chunk_size_bytes, seed }` define them: normalization
    /// level 2, `min = avg / 4`, `max = avg * 4`, the seed XORed into the gear table, and blobs of at most
    /// `max` bytes left whole. `avg` must be a power of two from 1 KiB to 1 MiB.
    pub fn reapi(avg_chunk_size_bytes: u32, seed: u64) -> Result<Self, Error> {
        Self::reapi_within(avg_chunk_size_bytes, seed, REAPI_MAX_AVG)
    }

    /// Like [`Params::reapi`], but accepts averages up to 8 MiB, as Bazel does and as remote-apis PR #380
    /// proposes. Only use it with a server that advertises such an average.
    pub fn reapi_extended(avg_chunk_size_bytes: u32, seed: u64) -> Result<Self, Error> {
        Self::reapi_within(avg_chunk_size_bytes, seed, REAPI_MAX_AVG_EXTENDED)
    }

    fn reapi_within(avg: u32, seed: u64, max_avg: u32) -> Result<Self, Error> {
        if !(REAPI_MIN_AVG..=max_avg).contains(&avg) {
            return Err(Error::AvgOutOfRange {
                avg: avg.into(),
                min: REAPI_MIN_AVG.into(),
                max: max_avg.into(),
            });
        }
        if !avg.is_power_of_two() {
            return Err(Error::AvgNotPowerOfTwo { avg: avg.into() });
        }
        Self::custom(avg / 4, avg, avg * 4, seed)
    }

    /// Parameters with explicit sizes, for interoperating with a chunker configured outside REAPI's rules
    /// (the REAPI test vectors use 4096/16384/65534, for example). Sizes must be even (as fastcdc 5 requires),
    /// with `64 <= min <= avg <= max <= 64 MiB` and `avg` from 256 bytes to 8 MiB. The threshold is `max`.
    pub fn custom(min: u32, avg: u32, max: u32, seed: u64) -> Result<Self, Error> {
        let bad =
            |reason| Err(Error::InvalidSizes { min: min.into(), avg: avg.into(), max: max.into(), reason });
        if !min.is_multiple_of(2) || !avg.is_multiple_of(2) || !max.is_multiple_of(2) {
            return bad("sizes must be even");
        }
        if !(64 <= min && min <= avg && avg <= max) {
            return bad("sizes must satisfy 64 <= min <= avg <= max");
        }
        if !(256..=REAPI_MAX_AVG_EXTENDED).contains(&avg) {
            return bad("avg must be between 256 bytes and 8 MiB");
        }
        if max > 64 * 1024 * 1024 {
            return bad("max must be at most 64 MiB");
        }
        let bits = f64::from(avg).log2().round() as u32;
        let mask_s = MASKS[(bits + NORMALIZATION_LEVEL) as usize];
        let mask_l = MASKS[(bits - NORMALIZATION_LEVEL) as usize];
        Ok(Self {
            min,
            avg,
            max,
            seed,
            mask_s,
            mask_l,
            threshold: max.into(),
            gear: Box::new(seeded_gear(seed)),
        })
    }

    /// Sets the chunking threshold: blobs of at most this many bytes come back as a single chunk. REAPI
    /// recommends `max` (the default); BuildBuddy chunks blobs over 2 MiB; 0 chunks everything, as the
    /// fastcdc crate does.
    #[must_use]
    pub fn with_chunking_threshold(mut self, bytes: u64) -> Self {
        self.threshold = bytes;
        self
    }

    /// The minimum chunk size (except for a blob's last chunk).
    pub fn min_size(&self) -> u32 {
        self.min
    }

    /// The target average chunk size.
    pub fn avg_size(&self) -> u32 {
        self.avg
    }

    /// The maximum chunk size.
    pub fn max_size(&self) -> u32 {
        self.max
    }

    /// The seed mixed into the gear table.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Blobs of at most this many bytes are not chunked.
    pub fn chunking_threshold(&self) -> u64 {
        self.threshold
    }

    pub(crate) fn gear(&self) -> &[u64; 256] {
        &self.gear
    }

    pub(crate) fn masks(&self) -> (u64, u64) {
        (self.mask_s, self.mask_l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(avg: u32, expected: Result<(u32, u32, u32), &str>) {
        match (Params::reapi(avg, 0), expected) {
            (Ok(p), Ok(sizes)) => assert_eq!((p.min_size(), p.avg_size(), p.max_size()), sizes),
            (Err(e), Err(text)) => assert!(e.to_string().contains(text), "{e}"),
            (got, want) => panic!("avg {avg}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn default_avg() {
        check(REAPI_DEFAULT_AVG, Ok((131_072, 524_288, 2_097_152)));
    }
    #[test]
    fn smallest_avg() {
        check(1024, Ok((256, 1024, 4096)));
    }
    #[test]
    fn largest_avg() {
        check(1 << 20, Ok((1 << 18, 1 << 20, 1 << 22)));
    }
    #[test]
    fn too_small() {
        check(512, Err("average chunk size 512 is outside 1024..=1048576"));
    }
    #[test]
    fn too_large_without_opt_in() {
        check(2 << 20, Err("outside 1024..=1048576"));
    }
    #[test]
    fn not_power_of_two() {
        check(3000, Err("3000 is not a power of two"));
    }
    #[test]
    fn extended_allows_8_mib() {
        assert_eq!(Params::reapi_extended(8 << 20, 0).map(|p| p.max_size()).ok(), Some(32 << 20));
    }
    #[test]
    fn extended_rejects_16_mib() {
        assert!(Params::reapi_extended(16 << 20, 0).is_err());
    }
    #[test]
    fn custom_rejects_odd() {
        assert!(Params::custom(4096, 16384, 65535, 0).is_err());
    }
    #[test]
    fn custom_rejects_disorder() {
        assert!(Params::custom(8192, 4096, 65536, 0).is_err());
    }
    #[test]
    fn reapi_512k_masks() {
        // Bazel's FastCdcChunker uses 0x0000d91707537000 for 512 KiB; level 2 shifts two entries each way.
        let p = Params::reapi(REAPI_DEFAULT_AVG, 0).expect("valid");
        assert_eq!(p.masks(), (MASKS[21], MASKS[17]));
        assert_eq!(MASKS[19], 0x0000_d917_0753_7000);
    }
}

//! What the server's `GetCapabilities` answer decides: the digest function, batch limits, whether blobs are
//! chunked, and with which parameters.

use agentry_types::DigestFunction;
use bazel_remote_apis::build::bazel::{
    remote::execution::v2::{ServerCapabilities, digest_function},
    semver::SemVer,
};

use crate::{
    params::{Params, REAPI_MAX_AVG_EXTENDED, REAPI_MIN_AVG},
    repmax::RepMaxParams,
};

/// The largest gRPC message most servers accept (4 MiB); batches stay under it whatever the server advertises.
pub(crate) const GRPC_MESSAGE_LIMIT: u64 = 4 * 1024 * 1024;

/// A REAPI version, `major.minor.patch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct ApiVersion {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Patch version.
    pub patch: u32,
}

impl ApiVersion {
    fn from_semver(v: Option<&SemVer>) -> Self {
        let n = |x: i32| u32::try_from(x).unwrap_or(0);
        v.map_or_else(Self::default, |v| Self { major: n(v.major), minor: n(v.minor), patch: n(v.patch) })
    }
}

impl std::fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The first REAPI version whose servers implement the streaming `GetChunkMapping` and
/// `RegisterChunkMapping` in place of the unary `SplitBlob` and `SpliceBlob`.
const STREAMING_MAPPING: ApiVersion = ApiVersion { major: 2, minor: 13, patch: 0 };

/// How large blobs are chunked with this server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Chunking {
    /// FastCDC 2020 with the server's average and seed.
    FastCdc2020(Params),
    /// RepMaxCDC with the server's minimum chunk size and horizon (a server that advertises only it).
    RepMaxCdc(RepMaxParams),
    /// Blobs move whole; the reason says why.
    Off {
        /// Why chunking is off with this server.
        reason: String,
    },
}

/// What this client will do with a server, decided from its `GetCapabilities` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// The digest function used for every call: the one asked for if the server has it, else SHA-256, else
    /// BLAKE3.
    pub digest_function: DigestFunction,
    /// The digest functions the server lists, as REAPI names them.
    pub digest_functions: Vec<String>,
    /// `max_batch_total_size_bytes` as advertised (0: no limit).
    pub max_batch_total_size_bytes: u64,
    /// `max_cas_blob_size_bytes` as advertised (0: no limit).
    pub max_cas_blob_size_bytes: u64,
    /// Whether the server serves `SplitBlob` (or `GetChunkMapping`).
    pub split_blob_support: bool,
    /// Whether the server serves `SpliceBlob` (or `RegisterChunkMapping`).
    pub splice_blob_support: bool,
    /// `fast_cdc_2020_params` as advertised: average chunk size and seed.
    pub fast_cdc_2020: Option<(u64, u32)>,
    /// `rep_max_cdc_params` as advertised: minimum chunk size and horizon.
    pub rep_max_cdc: Option<(u64, u64)>,
    /// The lowest API version the server speaks.
    pub low_api_version: ApiVersion,
    /// The highest API version the server speaks.
    pub high_api_version: ApiVersion,
    /// How blobs over the chunking threshold move.
    pub chunking: Chunking,
}

impl Capabilities {
    /// Decides from a server's answer; `preferred` is the digest function to use if the server has it.
    pub(crate) fn negotiate(
        caps: &ServerCapabilities,
        preferred: Option<DigestFunction>,
        url: &str,
    ) -> Result<Self, super::RemoteError> {
        let cache = caps.cache_capabilities.clone().unwrap_or_default();
        let offered: Vec<digest_function::Value> =
            cache.digest_functions.iter().filter_map(|v| digest_function::Value::try_from(*v).ok()).collect();
        let has = |f: DigestFunction| {
            offered.is_empty() && f == DigestFunction::Sha256 || offered.contains(&to_proto(f))
        };
        let digest_function = preferred
            .filter(|f| has(*f))
            .or_else(|| [DigestFunction::Sha256, DigestFunction::Blake3].into_iter().find(|f| has(*f)))
            .ok_or_else(|| super::RemoteError::NoDigestFunction {
                url: url.to_owned(),
                offered: offered.iter().map(|v| v.as_str_name()).collect::<Vec<_>>().join(", "),
            })?;
        let fast_cdc_2020 = cache.fast_cdc_2020_params.map(|p| (p.avg_chunk_size_bytes, p.seed));
        let rep_max_cdc = cache.rep_max_cdc_params.map(|p| (p.min_chunk_size_bytes, p.horizon_size_bytes));
        let split = cache.split_blob_support;
        let splice = cache.splice_blob_support;
        let chunking = decide(split, splice, fast_cdc_2020, rep_max_cdc);
        Ok(Self {
            digest_function,
            digest_functions: offered.iter().map(|v| v.as_str_name().to_owned()).collect(),
            max_batch_total_size_bytes: u64::try_from(cache.max_batch_total_size_bytes).unwrap_or(0),
            max_cas_blob_size_bytes: u64::try_from(cache.max_cas_blob_size_bytes).unwrap_or(0),
            split_blob_support: split,
            splice_blob_support: splice,
            fast_cdc_2020,
            rep_max_cdc,
            low_api_version: ApiVersion::from_semver(caps.low_api_version.as_ref()),
            high_api_version: ApiVersion::from_semver(caps.high_api_version.as_ref()),
            chunking,
        })
    }

    /// The FastCDC 2020 parameters, when blobs are chunked with FastCDC with this server.
    pub fn params(&self) -> Option<&Params> {
        match &self.chunking {
            Chunking::FastCdc2020(p) => Some(p),
            Chunking::RepMaxCdc(_) | Chunking::Off { .. } => None,
        }
    }

    /// The RepMaxCDC parameters, when blobs are chunked with RepMaxCDC with this server.
    pub fn rep_max_params(&self) -> Option<&RepMaxParams> {
        match &self.chunking {
            Chunking::RepMaxCdc(p) => Some(p),
            Chunking::FastCdc2020(_) | Chunking::Off { .. } => None,
        }
    }

    /// Whether blobs over the threshold are chunked with this server.
    pub fn chunks(&self) -> bool {
        !matches!(self.chunking, Chunking::Off { .. })
    }

    /// The largest blob that moves whole: FastCDC's maximum chunk size (`4 * avg`), or RepMaxCDC's
    /// (`2 * min - 1`: a shorter blob is one chunk). `None` when chunking is off.
    pub fn chunking_threshold(&self) -> Option<u64> {
        match &self.chunking {
            Chunking::FastCdc2020(p) => Some(p.chunking_threshold()),
            Chunking::RepMaxCdc(p) => Some(p.max_size()),
            Chunking::Off { .. } => None,
        }
    }

    /// The largest chunk a valid chunk mapping may hold. `None` when chunking is off.
    pub fn max_chunk_size(&self) -> Option<u64> {
        match &self.chunking {
            Chunking::FastCdc2020(p) => Some(u64::from(p.max_size())),
            Chunking::RepMaxCdc(p) => Some(p.max_size()),
            Chunking::Off { .. } => None,
        }
    }

    /// REAPI's `ChunkingFunction` value for the calls that name one (`UNKNOWN` when chunking is off).
    pub(crate) fn chunking_function(&self) -> i32 {
        use bazel_remote_apis::build::bazel::remote::execution::v2::chunking_function::Value;
        match &self.chunking {
            Chunking::FastCdc2020(_) => Value::FastCdc2020 as i32,
            Chunking::RepMaxCdc(_) => Value::RepMaxCdc as i32,
            Chunking::Off { .. } => Value::Unknown as i32,
        }
    }

    /// Why blobs move whole with this server, if they do.
    pub fn chunking_off_reason(&self) -> Option<&str> {
        match &self.chunking {
            Chunking::FastCdc2020(_) | Chunking::RepMaxCdc(_) => None,
            Chunking::Off { reason } => Some(reason),
        }
    }

    /// Whether chunk mappings go through the streaming RPCs of REAPI 2.13 rather than the unary ones.
    pub fn streaming_chunk_mapping(&self) -> bool {
        self.high_api_version >= STREAMING_MAPPING
    }

    /// The most payload bytes one batch call carries: the server's limit (or 4 MiB when it sets none, or sets
    /// more than gRPC's usual message limit) less room for the request's framing.
    pub fn batch_limit(&self) -> u64 {
        let advertised = match self.max_batch_total_size_bytes {
            0 => GRPC_MESSAGE_LIMIT,
            n => n.min(GRPC_MESSAGE_LIMIT),
        };
        advertised.saturating_sub(64 * 1024)
    }
}

fn decide(split: bool, splice: bool, fast: Option<(u64, u32)>, rep_max: Option<(u64, u64)>) -> Chunking {
    let off = |reason: &str| Chunking::Off { reason: reason.to_owned() };
    if !split && !splice {
        return off("the server supports neither SplitBlob nor SpliceBlob");
    }
    if let Some((avg, seed)) = fast {
        // REAPI: out-of-range parameters mean the client should ignore the function.
        let valid = u32::try_from(avg)
            .ok()
            .filter(|a| (REAPI_MIN_AVG..=REAPI_MAX_AVG_EXTENDED).contains(a) && a.is_power_of_two())
            .and_then(|a| Params::reapi_extended(a, u64::from(seed)).ok());
        if let Some(params) = valid {
            return Chunking::FastCdc2020(params);
        }
        if rep_max.is_none() {
            return Chunking::Off {
                reason: format!(
                    "the server's FastCDC 2020 average {avg} is not a power of two from 1 KiB to 8 MiB, so it is ignored"
                ),
            };
        }
    }
    if let Some((min, horizon)) = rep_max {
        // As for FastCDC: parameters out of REAPI's range mean the function is ignored.
        return match RepMaxParams::new(min, horizon) {
            Ok(p) => Chunking::RepMaxCdc(p),
            Err(e) => Chunking::Off { reason: format!("the server's RepMaxCDC parameters are ignored: {e}") },
        };
    }
    off("the server advertises no chunking function")
}

pub(crate) fn to_proto(f: DigestFunction) -> digest_function::Value {
    match f {
        DigestFunction::Blake3 => digest_function::Value::Blake3,
        _ => digest_function::Value::Sha256,
    }
}

#[cfg(test)]
mod tests {
    use bazel_remote_apis::build::bazel::remote::execution::v2::{
        CacheCapabilities, FastCdc2020Params, RepMaxCdcParams,
    };

    use super::*;

    fn caps(cache: CacheCapabilities, high: (i32, i32)) -> ServerCapabilities {
        ServerCapabilities {
            cache_capabilities: Some(cache),
            high_api_version: Some(SemVer {
                major: high.0,
                minor: high.1,
                patch: 0,
                prerelease: String::new(),
            }),
            ..Default::default()
        }
    }

    fn chunked(avg: u64, rep_max: bool) -> CacheCapabilities {
        CacheCapabilities {
            digest_functions: vec![digest_function::Value::Sha256 as i32],
            split_blob_support: true,
            splice_blob_support: true,
            fast_cdc_2020_params: (avg > 0)
                .then_some(FastCdc2020Params { avg_chunk_size_bytes: avg, seed: 7 }),
            rep_max_cdc_params: rep_max
                .then_some(RepMaxCdcParams { min_chunk_size_bytes: 262_144, horizon_size_bytes: 2_097_152 }),
            max_batch_total_size_bytes: 4_193_280,
            ..Default::default()
        }
    }

    fn check(cache: CacheCapabilities, expected: Result<u32, &str>) {
        let c = Capabilities::negotiate(&caps(cache, (2, 2)), None, "grpc://x:1").expect("negotiate");
        match (expected, &c.chunking) {
            (Ok(avg), Chunking::FastCdc2020(p)) => {
                assert_eq!((p.avg_size(), p.seed(), p.chunking_threshold()), (avg, 7, 4 * u64::from(avg)));
            }
            (Err(words), Chunking::Off { reason }) => assert!(reason.contains(words), "{reason}"),
            (e, got) => panic!("expected {e:?}, got {got:?}"),
        }
    }

    #[test]
    fn fastcdc_with_the_servers_average_and_seed() {
        check(chunked(524_288, false), Ok(524_288));
    }
    #[test]
    fn fastcdc_up_to_8_mib() {
        check(chunked(8 << 20, false), Ok(8 << 20));
    }
    #[test]
    fn fastcdc_preferred_over_rep_max() {
        check(chunked(65_536, true), Ok(65_536));
    }
    #[test]
    fn rep_max_only_is_rep_max() {
        let c = Capabilities::negotiate(&caps(chunked(0, true), (2, 2)), None, "u").expect("negotiate");
        let p = c.rep_max_params().copied().expect("RepMaxCDC");
        assert_eq!((p.min_size(), p.horizon_size()), (262_144, 2_097_152));
        assert_eq!((c.chunking_threshold(), c.max_chunk_size()), (Some(524_287), Some(524_287)));
        assert!(c.params().is_none() && c.chunks());
        let repmax =
            bazel_remote_apis::build::bazel::remote::execution::v2::chunking_function::Value::RepMaxCdc;
        assert_eq!(c.chunking_function(), repmax as i32);
    }
    #[test]
    fn rep_max_out_of_range_is_ignored() {
        let cache = CacheCapabilities {
            rep_max_cdc_params: Some(RepMaxCdcParams { min_chunk_size_bytes: 16, horizon_size_bytes: 0 }),
            ..chunked(0, false)
        };
        check(cache, Err("RepMaxCDC parameters are ignored"));
    }
    #[test]
    fn bad_average_is_ignored() {
        check(chunked(100_000, false), Err("not a power of two"));
        check(chunked(512, false), Err("not a power of two"));
    }
    #[test]
    fn no_function_is_whole() {
        check(chunked(0, false), Err("no chunking function"));
    }
    #[test]
    fn no_split_or_splice_is_whole() {
        let cache = CacheCapabilities {
            split_blob_support: false,
            splice_blob_support: false,
            ..chunked(524_288, false)
        };
        check(cache, Err("neither SplitBlob nor SpliceBlob"));
    }
    #[test]
    fn digest_function_choice() {
        let with = |fs: Vec<i32>, pref| {
            let cache = CacheCapabilities { digest_functions: fs, ..Default::default() };
            Capabilities::negotiate(&caps(cache, (2, 0)), pref, "u").map(|c| c.digest_function)
        };
        let (sha, b3) = (digest_function::Value::Sha256 as i32, digest_function::Value::Blake3 as i32);
        assert_eq!(with(vec![sha, b3], None).ok(), Some(DigestFunction::Sha256));
        assert_eq!(with(vec![sha, b3], Some(DigestFunction::Blake3)).ok(), Some(DigestFunction::Blake3));
        assert_eq!(with(vec![b3], None).ok(), Some(DigestFunction::Blake3));
        assert_eq!(with(vec![], None).ok(), Some(DigestFunction::Sha256));
        let md5 = digest_function::Value::Md5 as i32;
        assert!(
            matches!(with(vec![md5], None), Err(super::super::RemoteError::NoDigestFunction { offered, .. }) if offered == "MD5")
        );
    }
    #[test]
    fn streaming_mapping_from_2_13() {
        let c = |v| Capabilities::negotiate(&caps(chunked(524_288, false), v), None, "u").expect("ok");
        assert!(!c((2, 12)).streaming_chunk_mapping());
        assert!(c((2, 13)).streaming_chunk_mapping());
        assert_eq!(c((2, 2)).batch_limit(), 4_193_280 - 65_536);
    }
}

use std::path::PathBuf;

use agentry_types::Digest;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The average chunk size is outside the range the protocol allows.
    #[error("average chunk size {avg} is outside {min}..={max} bytes")]
    AvgOutOfRange {
        /// The requested average.
        avg: u64,
        /// The smallest allowed average.
        min: u64,
        /// The largest allowed average (1 MiB, or 8 MiB with the opt-in).
        max: u64,
    },
    /// The average chunk size is not a power of two, which FastCDC 2020 as REAPI uses it requires.
    #[error("average chunk size {avg} is not a power of two")]
    AvgNotPowerOfTwo {
        /// The requested average.
        avg: u64,
    },
    /// Explicit minimum, average and maximum sizes that do not satisfy `64 <= min <= avg <= max`, evenness
    /// and the supported mask range.
    #[error("invalid chunk sizes min {min}, avg {avg}, max {max}: {reason}")]
    InvalidSizes {
        /// The requested minimum.
        min: u64,
        /// The requested average.
        avg: u64,
        /// The requested maximum.
        max: u64,
        /// Which rule they break.
        reason: &'static str,
    },
    /// RepMaxCDC parameters outside the supported range (REAPI's `RepMaxCdcParams`).
    #[error(
        "invalid RepMaxCDC parameters min_chunk_size_bytes {min}, horizon_size_bytes {horizon}: {reason}"
    )]
    InvalidRepMaxParams {
        /// The requested minimum chunk size.
        min: u64,
        /// The requested horizon.
        horizon: u64,
        /// Which rule they break.
        reason: &'static str,
    },
    /// Reading or writing a file failed.
    #[error("i/o error on {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Reading a stream failed.
    #[error("read error at offset {offset}: {source}")]
    Read {
        /// How many bytes had been read before the error.
        offset: u64,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A chunk a splice or a download needs is not in the store.
    #[error("chunk {digest} is missing from the store")]
    ChunkMissing {
        /// The missing chunk.
        digest: Digest,
    },
    /// The concatenated chunks do not have the blob's size.
    #[error("splice of {blob}: the chunks add up to {actual} bytes")]
    SpliceSizeMismatch {
        /// The blob the caller asked for.
        blob: Digest,
        /// The total size of the chunks.
        actual: u64,
    },
    /// The concatenated chunks do not hash to the blob's digest.
    #[error("splice of {blob}: the chunks hash to {actual}")]
    SpliceDigestMismatch {
        /// The blob the caller asked for.
        blob: Digest,
        /// What the concatenation hashes to.
        actual: Digest,
    },
    /// Bytes handed to `put` do not match the digest they were announced with.
    #[error("put of {expected}: the bytes hash to {actual}")]
    PutDigestMismatch {
        /// The announced digest.
        expected: Digest,
        /// What the bytes hash to.
        actual: Digest,
    },
    /// The bytes handed to a transfer plan's `execute` are not the bytes it was planned for: their length
    /// differs from the blob's size, or a planned chunk lies outside them.
    #[error("plan for {blob} executed with {actual} bytes of data")]
    PlanDataMismatch {
        /// The blob the plan is for.
        blob: Digest,
        /// How many bytes were handed over.
        actual: u64,
    },
    /// A stored object no longer has its digest (disk corruption or tampering); its bytes are not returned.
    #[error("stored object {digest} at {path} is corrupt: it hashes to {actual}")]
    Corrupt {
        /// The digest the object is stored under.
        digest: Digest,
        /// Where it is stored.
        path: PathBuf,
        /// What its bytes hash to now.
        actual: Digest,
    },
    /// A digest uses a hash function this store was not opened with.
    #[error("digest {digest} uses {function}, but the store uses {store}")]
    WrongDigestFunction {
        /// The offending digest.
        digest: Digest,
        /// Its hash function.
        function: agentry_types::DigestFunction,
        /// The store's hash function.
        store: agentry_types::DigestFunction,
    },
    /// A layout or index file in the store could not be parsed.
    #[error("{path}:{line}: {reason}")]
    BadIndex {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A call to a remote cache failed.
    #[cfg(feature = "remote")]
    #[error("{0}")]
    Remote(#[source] Box<crate::remote::RemoteError>),
}

/// A call to a remote cache failed (when a [`BlockingRemoteCas`](crate::remote::BlockingRemoteCas) is used as a
/// [`ChunkStore`](crate::ChunkStore)).
#[cfg(feature = "remote")]
impl From<crate::remote::RemoteError> for Error {
    fn from(e: crate::remote::RemoteError) -> Self {
        Self::Remote(Box::new(e))
    }
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }
}

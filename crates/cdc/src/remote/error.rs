use std::path::PathBuf;

use agentry_types::Digest;

/// Everything that can go wrong talking to a remote cache.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteError {
    /// The remote's address is not `grpc://host:port` or `grpcs://host:port`.
    #[error("bad remote URL {url:?}: {reason}")]
    InvalidUrl {
        /// The address as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An extra request header is not `name=value` with a valid gRPC metadata name and an ASCII value.
    #[error("bad header {header:?}: {reason}")]
    InvalidHeader {
        /// The header as given.
        header: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The connection (TCP, TLS or HTTP/2) could not be set up.
    #[error("cannot connect to {url}: {reason}")]
    Connect {
        /// The remote's address.
        url: String,
        /// The transport's reason, with its causes.
        reason: String,
    },
    /// A call failed with a status that is not retried, or kept failing until the retries or the retry budget
    /// ran out.
    #[error("{rpc}{} on {url} failed: {}: {message}{}", of_digest(.digest, *.others), code_name(*.code), after(*.attempts))]
    Status {
        /// The remote's address.
        url: String,
        /// The RPC, as REAPI names it (`FindMissingBlobs`, `ByteStream.Write`, ...).
        rpc: &'static str,
        /// The blob or chunk the call was about (the first, for a call about several), if any.
        digest: Option<Digest>,
        /// How many other blobs or chunks the same call carried (batches).
        others: usize,
        /// The gRPC status code.
        code: tonic::Code,
        /// The server's status message.
        message: String,
        /// How many times the call was made.
        attempts: u32,
    },
    /// The server's capabilities rule out every digest function this client has.
    #[error("{url} supports none of this client's digest functions (sha256, blake3); it offers {offered}")]
    NoDigestFunction {
        /// The remote's address.
        url: String,
        /// The functions the server lists.
        offered: String,
    },
    /// A chunk mapping from `SplitBlob` fails validation: an empty chunk, a chunk over the maximum size, sizes
    /// that do not add up to the blob, or another digest function.
    #[error("chunk mapping of {blob} from {url} is invalid: {reason}")]
    BadChunkMapping {
        /// The remote's address.
        url: String,
        /// The blob.
        blob: Digest,
        /// Which check failed.
        reason: String,
    },
    /// Bytes the server sent do not hash to the digest they were asked for.
    #[error("{url} sent bytes for {expected} that hash to {actual}")]
    Corrupt {
        /// The remote's address.
        url: String,
        /// The digest asked for.
        expected: Digest,
        /// What the bytes hash to.
        actual: Digest,
    },
    /// The server answered in a way the protocol does not allow (a missing field, a wrong count).
    #[error("{url} answered {rpc} unexpectedly: {reason}")]
    Protocol {
        /// The remote's address.
        url: String,
        /// The RPC.
        rpc: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// A local file could not be read or written.
    #[error("i/o error on {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The local chunk store (the download cache) failed.
    #[error("local chunk store failed")]
    Local(#[source] Box<crate::Error>),
    /// The async runtime failed: it could not be started, or a task on it stopped.
    #[error("the async runtime failed")]
    Runtime(#[source] std::io::Error),
}

fn of_digest(digest: &Option<Digest>, others: usize) -> String {
    match (digest, others) {
        (None, _) => String::new(),
        (Some(d), 0) => format!(" of {d}"),
        (Some(d), n) => format!(" of {d} and {n} more"),
    }
}

fn after(attempts: u32) -> String {
    if attempts > 1 { format!(" (after {attempts} attempts)") } else { String::new() }
}

/// The canonical name of a gRPC status code, as servers and the REAPI spec write it.
pub(crate) fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}

impl RemoteError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }

    /// The gRPC status code, when the error is a failed call.
    pub fn code(&self) -> Option<tonic::Code> {
        match self {
            Self::Status { code, .. } => Some(*code),
            _ => None,
        }
    }
}

impl From<crate::Error> for RemoteError {
    fn from(e: crate::Error) -> Self {
        Self::Local(Box::new(e))
    }
}

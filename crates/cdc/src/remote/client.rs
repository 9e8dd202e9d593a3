//! The connection: address, TLS, headers, deadlines, retries, and one method per REAPI call this client makes.

use std::{
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use agentry_types::{Digest, DigestFunction};
use bazel_remote_apis::{
    build::bazel::remote::execution::v2::{
        self as re, capabilities_client::CapabilitiesClient,
        content_addressable_storage_client::ContentAddressableStorageClient as CasClient,
    },
    google::bytestream::byte_stream_client::ByteStreamClient,
};
use tonic::{
    metadata::{AsciiMetadataKey, AsciiMetadataValue},
    transport::{Certificate, Channel, ClientTlsConfig, Endpoint},
};

use super::{
    caps::{Capabilities, to_proto},
    error::RemoteError,
    retry::{RetryBudget, RetryPolicy},
};

/// How to reach a remote cache and how to behave with it.
#[derive(Debug, Clone)]
pub struct RemoteOptions {
    /// The REAPI instance name (often empty).
    pub instance: String,
    /// Extra metadata sent with every call, as `name=value` (how BuildBuddy and others take API keys).
    pub headers: Vec<String>,
    /// PEM file of the certificate authorities to trust for `grpcs://`, instead of the system's roots.
    pub ca_cert: Option<PathBuf>,
    /// Deadline of each unary call, and the longest wait for the next message of a streaming call.
    pub timeout: Duration,
    /// Deadline of the connection set-up.
    pub connect_timeout: Duration,
    /// Calls in flight at once while moving one blob's chunks (Bazel uses 16).
    pub concurrency: usize,
    /// The digest function to use if the server offers it (default: SHA-256 if offered).
    pub digest_function: Option<DigestFunction>,
    /// Retries of transient failures.
    pub retry: RetryPolicy,
    /// Threads for chunking and digesting (0: all cores).
    pub threads: usize,
    /// FastCDC 2020 parameters to chunk with instead of the server's, for a server that supports split and
    /// splice but advertises no parameters, or to try how a server treats other chunk sizes. A server that
    /// rejects the resulting splice gets the blob whole, and the report says why.
    pub params_override: Option<crate::Params>,
    /// RepMaxCDC parameters to chunk with instead of what the server advertises (it wins over
    /// `params_override`), for the same purposes.
    pub rep_max_override: Option<crate::RepMaxParams>,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        Self {
            instance: String::new(),
            headers: Vec::new(),
            ca_cert: None,
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            concurrency: 16,
            digest_function: None,
            retry: RetryPolicy::default(),
            threads: 0,
            params_override: None,
            rep_max_override: None,
        }
    }
}

/// Counts what one operation did on the wire.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub(crate) rpcs: AtomicU64,
    pub(crate) bytes: AtomicU64,
    pub(crate) chunks: AtomicU64,
}

impl Tally {
    pub(crate) fn rpc(&self) {
        self.rpcs.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn moved(&self, bytes: u64, chunks: u64) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.chunks.fetch_add(chunks, Ordering::Relaxed);
    }
    pub(crate) fn get(&self) -> (u64, u64, u64) {
        (
            self.rpcs.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
            self.chunks.load(Ordering::Relaxed),
        )
    }
}

/// A connection to a REAPI remote cache (Bazel's Remote Execution API over gRPC), with the server's
/// capabilities already read. Cheap to clone: clones share the connection and the retry budget.
#[derive(Debug, Clone)]
pub struct RemoteCas {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) url: String,
    pub(crate) options: RemoteOptions,
    /// Bulk transfers: batches and ByteStream.
    channel: Channel,
    /// Small calls, so they do not queue behind bulk data.
    control: Channel,
    headers: Vec<(AsciiMetadataKey, AsciiMetadataValue)>,
    budget: RetryBudget,
    pub(crate) window: super::window::Window,
    pub(crate) caps: Capabilities,
}

/// The largest message this client accepts from a server: a batch of up to 4 MiB plus framing, with room for
/// servers that advertise more.
const MAX_DECODE: usize = 64 * 1024 * 1024;

impl RemoteCas {
    /// Connects to `url` (`grpc://host:port`, or `grpcs://host:port` for TLS) and reads the server's
    /// capabilities for `options.instance`.
    pub async fn connect(url: &str, options: RemoteOptions) -> Result<Self, RemoteError> {
        let endpoint = endpoint(url, &options)?;
        let headers = options.headers.iter().map(|h| parse_header(h)).collect::<Result<Vec<_>, _>>()?;
        // Two connections: bulk transfers on one, the small calls that decide what to send (FindMissingBlobs,
        // the splits and splices, GetCapabilities) on the other. On one HTTP/2 connection a small call queues
        // behind the uploads already under way: through a 100 Mbit/s, 20 ms link, FindMissingBlobs took 200 to
        // 280 ms during an upload; on its own connection 30 to 60 ms, the link's round trip and queue.
        let connect = || async {
            endpoint
                .connect()
                .await
                .map_err(|e| RemoteError::Connect { url: url.to_owned(), reason: error_chain(&e) })
        };
        let (channel, control) = futures_util::future::try_join(connect(), connect()).await?;
        let budget = RetryBudget::new(&options.retry, options.concurrency);
        let window = super::window::Window::new(options.concurrency);
        let placeholder = Capabilities::negotiate(&Default::default(), None, url)?;
        let mut inner = Inner {
            url: url.to_owned(),
            options,
            channel,
            control,
            headers,
            budget,
            window,
            caps: placeholder,
        };
        let tally = Tally::default();
        let answer = inner
            .call("GetCapabilities", &[], &tally, || {
                let mut client = CapabilitiesClient::new(inner.control.clone());
                let req = inner
                    .request(re::GetCapabilitiesRequest { instance_name: inner.options.instance.clone() });
                async move { client.get_capabilities(req).await.map(tonic::Response::into_inner) }
            })
            .await?;
        inner.caps = Capabilities::negotiate(&answer, inner.options.digest_function, url)?;
        if inner.caps.split_blob_support || inner.caps.splice_blob_support {
            if let Some(p) = &inner.options.params_override {
                inner.caps.chunking = super::Chunking::FastCdc2020(p.clone());
            }
            if let Some(p) = inner.options.rep_max_override {
                inner.caps.chunking = super::Chunking::RepMaxCdc(p);
            }
        }
        Ok(Self { inner: Arc::new(inner) })
    }

    /// What was decided from the server's capabilities.
    pub fn capabilities(&self) -> &Capabilities {
        &self.inner.caps
    }

    /// The address this client talks to.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// The digests among `digests` the server does not hold (REAPI `FindMissingBlobs`, in batches).
    pub async fn find_missing(&self, digests: &[Digest]) -> Result<Vec<Digest>, RemoteError> {
        self.inner.find_missing(digests, &Tally::default()).await
    }
}

fn endpoint(url: &str, options: &RemoteOptions) -> Result<Endpoint, RemoteError> {
    let bad = |reason: &str| RemoteError::InvalidUrl { url: url.to_owned(), reason: reason.to_owned() };
    let (tls, rest) = if let Some(rest) = url.strip_prefix("grpc://") {
        (false, rest)
    } else if let Some(rest) = url.strip_prefix("grpcs://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else {
        return Err(bad("expected grpc://host:port or grpcs://host:port"));
    };
    let authority = rest.trim_end_matches('/');
    if authority.is_empty() || authority.contains('/') {
        return Err(bad("expected host:port after the scheme, with no path"));
    }
    let (host, port) = authority.rsplit_once(':').ok_or_else(|| bad("missing :port"))?;
    if host.is_empty() || port.parse::<u16>().map_or(true, |p| p == 0) {
        return Err(bad("expected host:port with a port from 1 to 65535"));
    }
    let scheme = if tls { "https" } else { "http" };
    let mut ep = Endpoint::from_shared(format!("{scheme}://{authority}"))
        .map_err(|e| bad(&e.to_string()))?
        .connect_timeout(options.connect_timeout)
        .tcp_nodelay(true)
        // Fixed, generous HTTP/2 windows. With hyper's adaptive window (BDP pings), a 76 MB chunked download
        // through a 100 Mbit/s, 20 ms link, on a connection that had been idle for 7 s after an upload, took 14.8 s;
        // with these windows 6.2 s (the remote-probe example of agentry-benches, `--idle 7`). 16 MiB per
        // connection covers 1 Gbit/s at a 100 ms round trip.
        .initial_stream_window_size(Some(4 * 1024 * 1024))
        .initial_connection_window_size(Some(16 * 1024 * 1024));
    if tls {
        let mut config = ClientTlsConfig::new().domain_name(host.trim_matches(['[', ']']));
        config = match &options.ca_cert {
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| RemoteError::io(path, e))?;
                config.ca_certificate(Certificate::from_pem(pem))
            }
            None => config.with_native_roots(),
        };
        ep = ep
            .tls_config(config)
            .map_err(|e| RemoteError::Connect { url: url.to_owned(), reason: error_chain(&e) })?;
    }
    Ok(ep)
}

fn parse_header(h: &str) -> Result<(AsciiMetadataKey, AsciiMetadataValue), RemoteError> {
    let bad = |reason| RemoteError::InvalidHeader { header: h.to_owned(), reason };
    let (k, v) = h.split_once('=').ok_or_else(|| bad("expected name=value"))?;
    let key = k
        .trim()
        .to_ascii_lowercase()
        .parse::<AsciiMetadataKey>()
        .map_err(|_| bad("not a valid header name"))?;
    let value = v.parse::<AsciiMetadataValue>().map_err(|_| bad("the value must be visible ASCII"))?;
    Ok((key, value))
}

/// An error and its causes on one line, the way the transport reports them ("transport error: tcp connect
/// error: Connection refused").
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// A tonic status as one line: the message, and the transport's cause when the message is generic.
fn status_message(s: &tonic::Status) -> String {
    let message = s.message();
    let Some(cause) = std::error::Error::source(s) else { return message.to_owned() };
    let chain = error_chain(cause);
    if chain.contains(message) {
        chain
    } else if message.contains(&chain) {
        message.to_owned()
    } else {
        format!("{message}: {chain}")
    }
}

impl Inner {
    /// The CAS service on the bulk connection: batch reads and writes.
    pub(crate) fn cas(&self) -> CasClient<Channel> {
        CasClient::new(self.channel.clone())
            .max_decoding_message_size(MAX_DECODE)
            .max_encoding_message_size(MAX_DECODE)
    }

    /// The CAS service on the connection for small calls: `FindMissingBlobs`, splits and splices.
    pub(crate) fn control_cas(&self) -> CasClient<Channel> {
        CasClient::new(self.control.clone())
            .max_decoding_message_size(MAX_DECODE)
            .max_encoding_message_size(MAX_DECODE)
    }

    pub(crate) fn bytestream(&self) -> ByteStreamClient<Channel> {
        ByteStreamClient::new(self.channel.clone())
            .max_decoding_message_size(MAX_DECODE)
            .max_encoding_message_size(MAX_DECODE)
    }

    /// A request with the extra headers and the deadline.
    pub(crate) fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut req = tonic::Request::new(message);
        req.set_timeout(self.options.timeout);
        for (k, v) in &self.headers {
            req.metadata_mut().insert(k.clone(), v.clone());
        }
        req
    }

    pub(crate) fn function(&self) -> DigestFunction {
        self.caps.digest_function
    }

    /// The `digest_function` field of requests: left unset for SHA-256, which every server assumes, so servers
    /// older than REAPI 2.3 are not confused by it.
    pub(crate) fn function_field(&self) -> i32 {
        match self.function() {
            DigestFunction::Sha256 => 0,
            f => to_proto(f) as i32,
        }
    }

    pub(crate) fn status_error(
        &self,
        rpc: &'static str,
        about: &[Digest],
        s: &tonic::Status,
        attempts: u32,
    ) -> RemoteError {
        RemoteError::Status {
            url: self.url.clone(),
            rpc,
            digest: about.first().copied(),
            others: about.len().saturating_sub(1),
            code: s.code(),
            message: status_message(s),
            attempts,
        }
    }

    /// Makes a call, with the deadline enforced here as well as sent to the server, and retries it on the
    /// transient codes while the policy and the budget allow.
    pub(crate) async fn call<T, F, Fut>(
        &self,
        rpc: &'static str,
        about: &[Digest],
        tally: &Tally,
        mut make: F,
    ) -> Result<T, RemoteError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, tonic::Status>>,
    {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            tally.rpc();
            let deadline = self.options.timeout;
            let slot = self.window.acquire().await;
            let result = match tokio::time::timeout(deadline, make()).await {
                Ok(r) => r,
                Err(_) => Err(tonic::Status::deadline_exceeded(format!("no answer within {deadline:?}"))),
            };
            let epoch = slot.epoch();
            drop(slot);
            match result {
                Ok(v) => {
                    self.note_success();
                    return Ok(v);
                }
                Err(s) => {
                    self.note_failure(&s, Some(epoch));
                    let retry = RetryPolicy::is_retryable(s.code())
                        && self.budget.failure_allows_retry()
                        && attempt < self.options.retry.max_attempts;
                    if !retry {
                        return Err(self.status_error(rpc, about, &s, attempt));
                    }
                    tokio::time::sleep(self.options.retry.backoff(attempt)).await;
                }
            }
        }
    }

    /// Records the outcome of a call whose retries the caller manages itself (streams that resume).
    pub(crate) fn note_success(&self) {
        self.budget.success();
        self.window.success();
    }

    /// A server that pushes back on a call gets fewer calls at once. `epoch` is that of the call's window slot;
    /// a blob's status inside a batch answer (`None`) is about storage, not calls, and leaves the window alone.
    pub(crate) fn note_failure(&self, s: &tonic::Status, epoch: Option<u64>) {
        if s.code() == tonic::Code::ResourceExhausted
            && let Some(epoch) = epoch
        {
            self.window.overloaded(epoch);
        }
    }

    /// Whether a stream that failed with `s` on attempt `attempt` may try again; waits the backoff if so.
    pub(crate) async fn may_retry(&self, s: &tonic::Status, attempt: u32, epoch: Option<u64>) -> bool {
        self.note_failure(s, epoch);
        let retry = RetryPolicy::is_retryable(s.code())
            && self.budget.failure_allows_retry()
            && attempt < self.options.retry.max_attempts;
        if retry {
            tokio::time::sleep(self.options.retry.backoff(attempt)).await;
        }
        retry
    }

    pub(crate) fn to_proto_digest(d: &Digest) -> re::Digest {
        re::Digest { hash: d.hash_hex(), size_bytes: i64::try_from(d.size_bytes()).unwrap_or(i64::MAX) }
    }

    pub(crate) fn digest_from_proto(&self, rpc: &'static str, d: &re::Digest) -> Result<Digest, RemoteError> {
        let size = u64::try_from(d.size_bytes).map_err(|_| {
            self.protocol(rpc, format!("negative size in digest {}/{}", d.hash, d.size_bytes))
        })?;
        Digest::from_hex(self.function(), &d.hash, size)
            .map_err(|e| self.protocol(rpc, format!("bad digest {}/{}: {e}", d.hash, d.size_bytes)))
    }

    pub(crate) fn protocol(&self, rpc: &'static str, reason: String) -> RemoteError {
        RemoteError::Protocol { url: self.url.clone(), rpc, reason }
    }

    /// ByteStream resource name of a blob to read.
    pub(crate) fn read_resource(&self, d: &Digest) -> String {
        format!(
            "{}blobs/{}{}/{}",
            self.instance_prefix(),
            self.function_segment(),
            d.hash_hex(),
            d.size_bytes()
        )
    }

    /// ByteStream resource name of a blob to write, with a fresh upload id.
    pub(crate) fn write_resource(&self, d: &Digest) -> String {
        let id = format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            fastrand::u32(..),
            fastrand::u16(..),
            fastrand::u16(..0x1000),
            0x8000 | fastrand::u16(..0x4000),
            fastrand::u64(..1 << 48)
        );
        format!(
            "{}uploads/{id}/blobs/{}{}/{}",
            self.instance_prefix(),
            self.function_segment(),
            d.hash_hex(),
            d.size_bytes()
        )
    }

    fn instance_prefix(&self) -> String {
        match self.options.instance.trim_matches('/') {
            "" => String::new(),
            i => format!("{i}/"),
        }
    }

    fn function_segment(&self) -> &'static str {
        match self.function() {
            DigestFunction::Sha256 => "",
            _ => "blake3/",
        }
    }

    /// `FindMissingBlobs` in batches small enough for any server's message limit.
    pub(crate) async fn find_missing(
        &self,
        digests: &[Digest],
        tally: &Tally,
    ) -> Result<Vec<Digest>, RemoteError> {
        const PER_CALL: usize = 10_000;
        let mut seen = std::collections::HashSet::new();
        let unique: Vec<Digest> = digests.iter().copied().filter(|d| seen.insert(*d)).collect();
        let mut missing = Vec::new();
        for batch in unique.chunks(PER_CALL) {
            let answer = self
                .call("FindMissingBlobs", batch, tally, || {
                    let mut cas = self.control_cas();
                    let req = self.request(re::FindMissingBlobsRequest {
                        instance_name: self.options.instance.clone(),
                        blob_digests: batch.iter().map(Self::to_proto_digest).collect(),
                        digest_function: self.function_field(),
                    });
                    async move { cas.find_missing_blobs(req).await.map(tonic::Response::into_inner) }
                })
                .await?;
            for d in &answer.missing_blob_digests {
                missing.push(self.digest_from_proto("FindMissingBlobs", d)?);
            }
        }
        // Input order, as the local stores answer.
        let set: std::collections::HashSet<Digest> = missing.into_iter().collect();
        Ok(unique.into_iter().filter(|d| set.contains(d)).collect())
    }
}

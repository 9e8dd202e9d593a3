//! Moving blobs whole: `BatchUpdateBlobs` and `BatchReadBlobs` under the batch limit, ByteStream `Write` and
//! `Read` above it. Every byte read is checked against its digest before it is returned.

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
};

use agentry_types::Digest;
use bazel_remote_apis::{
    build::bazel::remote::execution::v2::{self as re, batch_update_blobs_request},
    google::bytestream::{ReadRequest, WriteRequest},
};
use bytes::Bytes;

use super::{
    client::{Inner, Tally},
    error::RemoteError,
};
use crate::digest::Hasher;

/// The bytes of one ByteStream `Write` message.
const WRITE_PIECE: usize = 1024 * 1024;

/// Where an upload's bytes come from: memory, or a file read piece by piece (so memory stays bounded).
#[derive(Debug, Clone)]
pub(crate) enum Source {
    Memory(Bytes),
    File { path: Arc<PathBuf>, file: Arc<std::fs::File>, len: u64 },
}

impl Source {
    pub(crate) fn len(&self) -> u64 {
        match self {
            Self::Memory(b) => b.len() as u64,
            Self::File { len, .. } => *len,
        }
    }

    /// `len` bytes from `offset`.
    pub(crate) async fn read(&self, offset: u64, len: usize) -> Result<Bytes, RemoteError> {
        match self {
            Self::Memory(b) => {
                let start = usize::try_from(offset).unwrap_or(usize::MAX).min(b.len());
                Ok(b.slice(start..start.saturating_add(len).min(b.len())))
            }
            Self::File { path, file, .. } => {
                let (path, file) = (Arc::clone(path), Arc::clone(file));
                let joined = tokio::task::spawn_blocking(move || {
                    use std::os::unix::fs::FileExt;
                    let mut buf = vec![0u8; len];
                    file.read_exact_at(&mut buf, offset)
                        .map(|()| Bytes::from(buf))
                        .map_err(|e| RemoteError::io(path.as_path(), e))
                })
                .await;
                joined.unwrap_or_else(|e| Err(RemoteError::io(PathBuf::new(), std::io::Error::other(e))))
            }
        }
    }
}

impl Inner {
    /// Uploads a whole blob with whichever call fits its size.
    pub(crate) async fn write_blob(
        &self,
        digest: Digest,
        source: &Source,
        offset: u64,
        tally: &Tally,
    ) -> Result<(), RemoteError> {
        let len = usize::try_from(digest.size_bytes()).unwrap_or(usize::MAX);
        if digest.size_bytes() <= self.caps.batch_limit() {
            let bytes = source.read(offset, len).await?;
            return self.batch_update(vec![(digest, bytes)], tally).await;
        }
        self.bytestream_write(digest, source, offset, tally).await
    }

    /// `BatchUpdateBlobs` of blobs whose sizes add up to at most the batch limit. Blobs the server refuses
    /// with a transient code are sent again, within the retry policy.
    pub(crate) async fn batch_update(
        &self,
        mut blobs: Vec<(Digest, Bytes)>,
        tally: &Tally,
    ) -> Result<(), RemoteError> {
        let mut attempt = 1;
        loop {
            let about: Vec<Digest> = blobs.iter().map(|(d, _)| *d).collect();
            let answer = self
                .call("BatchUpdateBlobs", &about, tally, || {
                    let mut cas = self.cas();
                    let req = self.request(re::BatchUpdateBlobsRequest {
                        instance_name: self.options.instance.clone(),
                        requests: blobs
                            .iter()
                            .map(|(d, b)| batch_update_blobs_request::Request {
                                digest: Some(Self::to_proto_digest(d)),
                                data: b.to_vec(),
                                compressor: 0,
                            })
                            .collect(),
                        digest_function: self.function_field(),
                    });
                    async move { cas.batch_update_blobs(req).await.map(tonic::Response::into_inner) }
                })
                .await?;
            let mut failed = Vec::new();
            for r in &answer.responses {
                let status = r.status.clone().unwrap_or_default();
                if status.code == 0 {
                    continue;
                }
                let digest = match &r.digest {
                    Some(d) => Some(self.digest_from_proto("BatchUpdateBlobs", d)?),
                    None => None,
                };
                failed.push((digest, tonic::Status::new(tonic::Code::from(status.code), status.message)));
            }
            let Some((digest, status)) = failed.first().cloned() else { return Ok(()) };
            if !self.may_retry(&status, attempt, None).await {
                return Err(self.status_error("BatchUpdateBlobs", digest.as_slice(), &status, attempt));
            }
            attempt += 1;
            let again: std::collections::HashSet<Digest> = failed.iter().filter_map(|(d, _)| *d).collect();
            blobs.retain(|(d, _)| again.contains(d));
        }
    }

    /// ByteStream `Write` of one blob, in 1 MiB messages read from `source` as they are sent. A transient
    /// failure starts the write again under a new upload id.
    async fn bytestream_write(
        &self,
        digest: Digest,
        source: &Source,
        offset: u64,
        tally: &Tally,
    ) -> Result<(), RemoteError> {
        let size = digest.size_bytes();
        let mut attempt = 0;
        loop {
            attempt += 1;
            tally.rpc();
            let read_error: Arc<Mutex<Option<RemoteError>>> = Arc::default();
            let resource = self.write_resource(&digest);
            let (src, err) = (source.clone(), Arc::clone(&read_error));
            let stream = futures_util::stream::unfold(Some(0u64), move |state| {
                let (src, err, resource) = (src.clone(), Arc::clone(&err), resource.clone());
                async move {
                    let done = state?;
                    let n = (size - done).min(WRITE_PIECE as u64) as usize;
                    match src.read(offset + done, n).await {
                        Ok(data) => {
                            let next = done + n as u64;
                            let finish = next == size;
                            let msg = WriteRequest {
                                resource_name: if done == 0 { resource } else { String::new() },
                                write_offset: i64::try_from(done).unwrap_or(i64::MAX),
                                finish_write: finish,
                                data: data.to_vec(),
                            };
                            Some((msg, (!finish).then_some(next)))
                        }
                        Err(e) => {
                            *err.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(e);
                            None
                        }
                    }
                }
            });
            let mut bs = self.bytestream();
            let req = self.request(stream);
            let slot = self.window.acquire().await;
            // The deadline covers the whole stream here: scale it with the blob (at least 1 MiB/s).
            let deadline = self.options.timeout + std::time::Duration::from_secs(size / (1024 * 1024));
            let result = match tokio::time::timeout(deadline, bs.write(req)).await {
                Ok(r) => r,
                Err(_) => {
                    Err(tonic::Status::deadline_exceeded(format!("write not finished within {deadline:?}")))
                }
            };
            let epoch = slot.epoch();
            drop(slot);
            if let Some(e) = read_error.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take() {
                return Err(e);
            }
            match result {
                Ok(resp) => {
                    self.note_success();
                    let committed = resp.into_inner().committed_size;
                    // A server that already holds the blob may end the write early and report its full size.
                    if u64::try_from(committed).ok() != Some(size) {
                        return Err(self.protocol(
                            "ByteStream.Write",
                            format!("committed {committed} of {size} bytes of {digest}"),
                        ));
                    }
                    return Ok(());
                }
                Err(s) => {
                    if !self.may_retry(&s, attempt, Some(epoch)).await {
                        return Err(self.status_error("ByteStream.Write", &[digest], &s, attempt));
                    }
                }
            }
        }
    }

    /// Reads blobs with `BatchReadBlobs` (sizes adding up to at most the batch limit), each checked against
    /// its digest; returned in the order asked.
    pub(crate) async fn batch_read(
        &self,
        digests: &[Digest],
        tally: &Tally,
    ) -> Result<Vec<Bytes>, RemoteError> {
        let mut attempt = 1;
        let mut got: std::collections::HashMap<Digest, Bytes> = std::collections::HashMap::new();
        loop {
            let want: Vec<Digest> = digests.iter().copied().filter(|d| !got.contains_key(d)).collect();
            let answer = self
                .call("BatchReadBlobs", &want, tally, || {
                    let mut cas = self.cas();
                    let req = self.request(re::BatchReadBlobsRequest {
                        instance_name: self.options.instance.clone(),
                        digests: want.iter().map(Self::to_proto_digest).collect(),
                        acceptable_compressors: Vec::new(),
                        digest_function: self.function_field(),
                    });
                    async move { cas.batch_read_blobs(req).await.map(tonic::Response::into_inner) }
                })
                .await?;
            let mut failed = None;
            for r in answer.responses {
                let d = r
                    .digest
                    .as_ref()
                    .ok_or_else(|| self.protocol("BatchReadBlobs", "a response without a digest".into()))?;
                let d = self.digest_from_proto("BatchReadBlobs", d)?;
                let status = r.status.unwrap_or_default();
                if status.code != 0 {
                    failed.get_or_insert((
                        d,
                        tonic::Status::new(tonic::Code::from(status.code), status.message),
                    ));
                    continue;
                }
                self.verify(&d, &r.data)?;
                got.insert(d, Bytes::from(r.data));
            }
            if let Some((d, status)) = failed {
                if !self.may_retry(&status, attempt, None).await {
                    return Err(self.status_error("BatchReadBlobs", &[d], &status, attempt));
                }
                attempt += 1;
                continue;
            }
            return digests
                .iter()
                .map(|d| {
                    got.get(d)
                        .cloned()
                        .ok_or_else(|| self.protocol("BatchReadBlobs", format!("no response for {d}")))
                })
                .collect();
        }
    }

    /// Reads a blob and hands its bytes to `sink` in order; a transient failure resumes at the offset reached.
    /// The bytes are not verified here: the caller hashes what it receives.
    pub(crate) async fn bytestream_read(
        &self,
        digest: Digest,
        tally: &Tally,
        mut sink: impl FnMut(&[u8]) -> Result<(), RemoteError>,
    ) -> Result<(), RemoteError> {
        let size = digest.size_bytes();
        let mut received = 0u64;
        let mut attempt = 0;
        loop {
            attempt += 1;
            tally.rpc();
            let mut local_error = None;
            let slot = self.window.acquire().await;
            let outcome: Result<(), tonic::Status> = async {
                let mut bs = self.bytestream();
                let req = self.request(ReadRequest {
                    resource_name: self.read_resource(&digest),
                    read_offset: i64::try_from(received).unwrap_or(i64::MAX),
                    read_limit: 0,
                });
                let timeout = self.options.timeout;
                let first = tokio::time::timeout(timeout, bs.read(req)).await.map_err(|_| {
                    tonic::Status::deadline_exceeded(format!("no answer within {timeout:?}"))
                })??;
                let mut stream = first.into_inner();
                loop {
                    let next = tokio::time::timeout(timeout, stream.message()).await.map_err(|_| {
                        tonic::Status::deadline_exceeded(format!("no data within {timeout:?}"))
                    })??;
                    let Some(msg) = next else { return Ok(()) };
                    received += msg.data.len() as u64;
                    if received > size {
                        return Err(tonic::Status::data_loss(format!("server sent more than {size} bytes")));
                    }
                    if let Err(e) = sink(&msg.data) {
                        local_error = Some(e);
                        return Err(tonic::Status::cancelled("the local side failed"));
                    }
                }
            }
            .await;
            let epoch = slot.epoch();
            drop(slot);
            if let Some(e) = local_error {
                return Err(e);
            }
            match outcome {
                Ok(()) if received == size => {
                    self.note_success();
                    return Ok(());
                }
                Ok(()) => {
                    return Err(self.protocol(
                        "ByteStream.Read",
                        format!("the stream of {digest} ended after {received} of {size} bytes"),
                    ));
                }
                Err(s) => {
                    if !self.may_retry(&s, attempt, Some(epoch)).await {
                        return Err(self.status_error("ByteStream.Read", &[digest], &s, attempt));
                    }
                }
            }
        }
    }

    /// A whole blob in memory, verified.
    pub(crate) async fn read_blob(&self, digest: Digest, tally: &Tally) -> Result<Bytes, RemoteError> {
        if digest.size_bytes() <= self.caps.batch_limit() {
            return Ok(self.batch_read(&[digest], tally).await?.remove(0));
        }
        let mut buf = Vec::with_capacity(usize::try_from(digest.size_bytes()).unwrap_or(0));
        self.bytestream_read(digest, tally, |b| {
            buf.extend_from_slice(b);
            Ok(())
        })
        .await?;
        self.verify(&digest, &buf)?;
        Ok(Bytes::from(buf))
    }

    pub(crate) fn verify(&self, digest: &Digest, data: &[u8]) -> Result<(), RemoteError> {
        let mut h = Hasher::new(digest.function());
        h.update(data);
        let actual = h.finish();
        if actual == *digest {
            Ok(())
        } else {
            Err(RemoteError::Corrupt { url: self.url.clone(), expected: *digest, actual })
        }
    }
}

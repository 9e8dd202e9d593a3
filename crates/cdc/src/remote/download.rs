//! Download: the chunk mapping (validated), chunks the local store already holds taken from it, the rest
//! fetched with bounded concurrency, every chunk and the whole blob verified, and the output written through a
//! temporary file that is renamed into place only when it is complete and correct.

use std::{
    collections::{HashMap, HashSet},
    io::Write,
    path::Path,
};

use agentry_types::Digest;
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};

use super::{
    BlobReport, Progress, TransferMode,
    client::{Inner, RemoteCas, Tally},
    error::{RemoteError, code_name},
};
use crate::{
    digest::Hasher,
    error::Error,
    store::{ChunkStore, FsStore},
};

/// Where one piece of the output comes from.
enum Piece {
    /// Chunks fetched from the server in one call (a batch under the limit, or one chunk over it).
    Remote(Vec<Digest>),
    /// A chunk the local store holds.
    Local(Digest),
    /// A chunk that appeared earlier in the layout.
    Repeat(Digest),
}

impl RemoteCas {
    /// Downloads blob `blob` into the file `output`, chunked when the server can split it, taking chunks
    /// `cache` already holds from there and storing the fetched ones in it. Nothing is written at `output`
    /// unless the whole blob arrived and has its digest.
    pub async fn download(
        &self,
        blob: &Digest,
        output: &Path,
        cache: Option<&FsStore>,
        progress: &Progress<'_>,
    ) -> Result<BlobReport, RemoteError> {
        let inner = &self.inner;
        let caps = &inner.caps;
        let tally = &Tally::default();
        let size = blob.size_bytes();
        let whole_reason = match caps.chunking_threshold() {
            None => caps.chunking_off_reason().map(str::to_owned),
            Some(_) if !caps.split_blob_support => Some("the server does not support SplitBlob".to_owned()),
            Some(threshold) if size <= threshold => {
                Some(format!("{size} bytes is not over the chunking threshold of {threshold} bytes"))
            }
            Some(_) => None,
        };
        let whole_reason = whole_reason.or_else(|| {
            cache.is_none().then(|| "no local cache to take chunks from or keep them in".to_owned())
        });
        let layout = match whole_reason {
            Some(reason) => Err(reason),
            // The decision to go whole is made here, before any byte of the output is written.
            None => match inner.split(blob, tally).await {
                Ok(Some(layout)) => Ok(layout),
                Ok(None) => Err("the server holds no chunk mapping for the blob".to_owned()),
                Err(RemoteError::Status { code, message, .. })
                    if matches!(code, tonic::Code::Unimplemented | tonic::Code::InvalidArgument) =>
                {
                    Err(format!("the server cannot split the blob ({}: {message})", code_name(code)))
                }
                Err(e) => return Err(e),
            },
        };
        let layout = match layout {
            Ok(layout) => layout,
            Err(reason) => return download_whole(inner, *blob, output, reason, tally, progress).await,
        };
        validate(inner, blob, &layout)?;
        let missing: HashSet<Digest> = match cache {
            Some(c) => c.find_missing(&layout)?.into_iter().collect(),
            None => layout.iter().copied().collect(),
        };
        if let Some(store) = cache
            && layout.iter().all(|d| missing.contains(d))
        {
            // Nothing to take from the cache: one stream moves the same bytes in one call, and costs the server
            // less than reading the chunks one by one (BuildGrid 0.9.1 spends twice the CPU on batch reads of
            // a blob's chunks as on streaming the blob). The stream is cut by the layout into the cache.
            return download_cutting(inner, *blob, &layout, store, output, tally, progress).await;
        }
        let mut out = Output::create(output, blob)?;
        let pieces = plan(&layout, &missing, inner.caps.batch_limit());
        let counts = layout.iter().fold(HashMap::<Digest, usize>::new(), |mut m, d| {
            *m.entry(*d).or_default() += 1;
            m
        });
        // Bytes of chunks that repeat later in the layout, kept until their last use.
        let mut repeats: HashMap<Digest, (Bytes, usize)> = HashMap::new();
        // Fetched chunks go into the cache on blocking threads (each is a synced write), a few at a time, while
        // the download goes on.
        let mut puts = tokio::task::JoinSet::new();
        let mut fetched = futures_util::stream::iter(pieces)
            .map(|piece| async move {
                match piece {
                    Piece::Remote(ds) => {
                        let bytes = fetch(inner, &ds, tally).await?;
                        tally.moved(ds.iter().map(Digest::size_bytes).sum(), ds.len() as u64);
                        Ok::<_, RemoteError>(
                            ds.into_iter().zip(bytes).map(|(d, b)| (d, Some(b), true)).collect::<Vec<_>>(),
                        )
                    }
                    Piece::Local(d) => {
                        // Local pieces are planned only when there is a local store.
                        let Some(store) = cache else {
                            return Err(inner.protocol("download", format!("no local store for chunk {d}")));
                        };
                        Ok(vec![(d, Some(local_or_fetch(inner, store, d, tally).await?), false)])
                    }
                    Piece::Repeat(d) => Ok(vec![(d, None, false)]),
                }
            })
            .buffered(inner.options.concurrency.max(1));
        while let Some(group) = fetched.try_next().await? {
            for (d, bytes, remote) in group {
                let bytes = if let Some(bytes) = bytes {
                    if let Some(&n) = counts.get(&d)
                        && n > 1
                    {
                        repeats.insert(d, (bytes.clone(), n - 1));
                    }
                    bytes
                } else {
                    let entry = repeats.get_mut(&d).ok_or_else(|| {
                        inner.protocol("SplitBlob", format!("repeat of {d} before its first use"))
                    })?;
                    entry.1 -= 1;
                    let b = entry.0.clone();
                    if entry.1 == 0 {
                        repeats.remove(&d);
                    }
                    b
                };
                out.write(&bytes)?;
                if remote && let Some(store) = cache {
                    while puts.len() >= 8 {
                        joined(puts.join_next().await)?;
                    }
                    let (store, bytes) = (store.clone(), bytes.clone());
                    puts.spawn_blocking(move || store.put_cached(&d, &bytes));
                }
                progress(d.size_bytes());
            }
        }
        drop(fetched);
        while let Some(r) = puts.join_next().await {
            joined(Some(r))?;
        }
        out.finish(inner)?;
        if let Some(store) = cache {
            // The blob was verified whole above, so the layout is recorded without reading the chunks back.
            store.put_layout(blob, &layout)?;
        }
        let (rpcs, bytes, chunks) = tally.get();
        Ok(BlobReport {
            digest: *blob,
            bytes_total: size,
            bytes_transferred: bytes,
            chunks_total: layout.len() as u64,
            chunks_transferred: chunks,
            rpcs,
            mode: TransferMode::Chunked,
            reason: None,
        })
    }

    /// The blob's chunk mapping (REAPI `SplitBlob`, or `GetChunkMapping` from 2.13), unvalidated; `None` when
    /// the server holds none for it.
    pub async fn split(&self, blob: &Digest) -> Result<Option<Vec<Digest>>, RemoteError> {
        self.inner.split(blob, &Tally::default()).await
    }
}

/// Groups the layout into calls: runs of chunks to fetch batched under the limit, chunks over it alone.
fn plan(layout: &[Digest], missing: &HashSet<Digest>, limit: u64) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut seen = HashSet::new();
    let mut batch: Vec<Digest> = Vec::new();
    let mut batch_bytes = 0u64;
    let flush = |pieces: &mut Vec<Piece>, batch: &mut Vec<Digest>, bytes: &mut u64| {
        if !batch.is_empty() {
            pieces.push(Piece::Remote(std::mem::take(batch)));
            *bytes = 0;
        }
    };
    for d in layout {
        if !seen.insert(*d) {
            flush(&mut pieces, &mut batch, &mut batch_bytes);
            pieces.push(Piece::Repeat(*d));
        } else if !missing.contains(d) {
            flush(&mut pieces, &mut batch, &mut batch_bytes);
            pieces.push(Piece::Local(*d));
        } else if d.size_bytes() > limit {
            flush(&mut pieces, &mut batch, &mut batch_bytes);
            pieces.push(Piece::Remote(vec![*d]));
        } else {
            if batch_bytes + d.size_bytes() > limit {
                flush(&mut pieces, &mut batch, &mut batch_bytes);
            }
            batch_bytes += d.size_bytes();
            batch.push(*d);
        }
    }
    flush(&mut pieces, &mut batch, &mut batch_bytes);
    pieces
}

async fn fetch(inner: &Inner, ds: &[Digest], tally: &Tally) -> Result<Vec<Bytes>, RemoteError> {
    match ds {
        [one] if one.size_bytes() > inner.caps.batch_limit() => Ok(vec![inner.read_blob(*one, tally).await?]),
        _ => inner.batch_read(ds, tally).await,
    }
}

fn joined(r: Option<Result<Result<(), Error>, tokio::task::JoinError>>) -> Result<(), RemoteError> {
    match r {
        None | Some(Ok(Ok(()))) => Ok(()),
        Some(Ok(Err(e))) => Err(e.into()),
        Some(Err(e)) => Err(RemoteError::Runtime(std::io::Error::other(e.to_string()))),
    }
}

/// A chunk from the local store, verified; a corrupt copy is removed and the chunk fetched from the server.
async fn local_or_fetch(
    inner: &Inner,
    store: &FsStore,
    d: Digest,
    tally: &Tally,
) -> Result<Bytes, RemoteError> {
    let owned = store.clone();
    let read = tokio::task::spawn_blocking(move || owned.get_object(&d))
        .await
        .map_err(|e| RemoteError::Runtime(std::io::Error::other(e.to_string())))?;
    match read {
        Ok(Some(bytes)) => return Ok(Bytes::from(bytes)),
        Ok(None) => {}
        Err(Error::Corrupt { .. }) => {
            store.remove_object(&d)?;
        }
        Err(e) => return Err(e.into()),
    }
    let bytes = inner.read_blob(d, tally).await?;
    tally.moved(d.size_bytes(), 1);
    store.put_cached(&d, &bytes)?;
    Ok(bytes)
}

/// Checks a chunk mapping as Bazel does: chunks non-empty, none over the maximum chunk size, sizes adding up
/// to the blob, all with the blob's digest function.
fn validate(inner: &Inner, blob: &Digest, layout: &[Digest]) -> Result<(), RemoteError> {
    let bad = |reason: String| RemoteError::BadChunkMapping { url: inner.url.clone(), blob: *blob, reason };
    let max = inner.caps.max_chunk_size().unwrap_or(u64::MAX);
    let mut total = 0u64;
    for (i, d) in layout.iter().enumerate() {
        if d.size_bytes() == 0 {
            return Err(bad(format!("chunk {i} ({d}) is empty")));
        }
        if d.size_bytes() > max {
            return Err(bad(format!("chunk {i} ({d}) is over the maximum chunk size of {max} bytes")));
        }
        if d.function() != blob.function() {
            return Err(bad(format!("chunk {i} ({d}) uses {}", d.function())));
        }
        total = total.saturating_add(d.size_bytes());
    }
    if total != blob.size_bytes() {
        return Err(bad(format!("the chunks add up to {total} bytes, not {}", blob.size_bytes())));
    }
    Ok(())
}

async fn download_whole(
    inner: &Inner,
    blob: Digest,
    output: &Path,
    reason: String,
    tally: &Tally,
    progress: &Progress<'_>,
) -> Result<BlobReport, RemoteError> {
    let mut out = Output::create(output, &blob)?;
    if blob.size_bytes() <= inner.caps.batch_limit() {
        let bytes = inner.batch_read(&[blob], tally).await?.remove(0);
        out.write(&bytes)?;
        progress(bytes.len() as u64);
    } else {
        inner
            .bytestream_read(blob, tally, |b| {
                progress(b.len() as u64);
                out.write(b)
            })
            .await?;
    }
    out.finish(inner)?;
    tally.moved(blob.size_bytes(), 1);
    let (rpcs, bytes, chunks) = tally.get();
    Ok(BlobReport {
        digest: blob,
        bytes_total: blob.size_bytes(),
        bytes_transferred: bytes,
        chunks_total: 1,
        chunks_transferred: chunks,
        rpcs,
        mode: TransferMode::Whole,
        reason: Some(reason),
    })
}

/// Downloads a blob none of whose chunks the cache holds as one ByteStream, cutting the stream by `layout`
/// into chunks that are verified and stored in the cache on two blocking threads while the stream goes on
/// (memory: a few maximum-size chunks). The output is renamed into place only when the whole blob and every
/// chunk checked out.
async fn download_cutting(
    inner: &Inner,
    blob: Digest,
    layout: &[Digest],
    store: &FsStore,
    output: &Path,
    tally: &Tally,
    progress: &Progress<'_>,
) -> Result<BlobReport, RemoteError> {
    let mut out = Output::create(output, &blob)?;
    let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Digest, Bytes)>(4);
    let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (rx, store, url) = (std::sync::Arc::clone(&rx), store.clone(), inner.url.clone());
            tokio::task::spawn_blocking(move || -> Result<(), RemoteError> {
                loop {
                    let next = rx.lock().unwrap_or_else(std::sync::PoisonError::into_inner).recv();
                    let Ok((i, d, bytes)) = next else { return Ok(()) };
                    let mut h = Hasher::new(d.function());
                    h.update(&bytes);
                    let actual = h.finish();
                    if actual != d {
                        let reason = format!("chunk {i} ({d}) of the stream hashes to {actual}");
                        return Err(RemoteError::BadChunkMapping { url, blob, reason });
                    }
                    store.put_cached(&d, &bytes)?;
                }
            })
        })
        .collect();
    let mut next = 0usize;
    let mut current = bytes::BytesMut::new();
    let read = inner
        .bytestream_read(blob, tally, |mut data| {
            progress(data.len() as u64);
            out.write(data)?;
            while !data.is_empty() {
                let Some(d) = layout.get(next) else {
                    // The sizes were validated to add up to the blob, and the read stops at its size.
                    return Err(inner.protocol("ByteStream.Read", "more bytes than the chunk mapping".into()));
                };
                let want = usize::try_from(d.size_bytes()).unwrap_or(usize::MAX);
                if current.is_empty() {
                    current.reserve(want);
                }
                let take = (want - current.len()).min(data.len());
                current.extend_from_slice(&data[..take]);
                data = &data[take..];
                if current.len() == want {
                    let chunk = current.split().freeze();
                    // A closed channel means both workers stopped on an error, reported below.
                    if tx.send((next, *d, chunk)).is_err() {
                        return Err(RemoteError::Runtime(std::io::Error::other("the cache writers stopped")));
                    }
                    next += 1;
                }
            }
            Ok(())
        })
        .await;
    drop(tx);
    let mut failed = None;
    for w in workers {
        let r = w.await.unwrap_or_else(|e| Err(RemoteError::Runtime(std::io::Error::other(e.to_string()))));
        if let Err(e) = r {
            failed.get_or_insert(e);
        }
    }
    if let Some(e) = failed {
        return Err(e);
    }
    read?;
    out.finish(inner)?;
    // Every chunk was verified on its way into the cache and the blob as a whole.
    store.put_layout(&blob, layout)?;
    tally.moved(blob.size_bytes(), layout.len() as u64);
    let (rpcs, bytes, chunks) = tally.get();
    Ok(BlobReport {
        digest: blob,
        bytes_total: blob.size_bytes(),
        bytes_transferred: bytes,
        chunks_total: layout.len() as u64,
        chunks_transferred: chunks,
        rpcs,
        mode: TransferMode::Whole,
        reason: Some(format!(
            "the local cache holds none of its {} chunks: one stream, cut into the cache",
            layout.len()
        )),
    })
}

/// The output file: a temporary file beside it, hashed as it is written, renamed into place by `finish` only
/// when the digest matches. Dropped unfinished, it is deleted.
struct Output {
    file: std::io::BufWriter<tempfile::NamedTempFile>,
    hasher: Hasher,
    blob: Digest,
    path: std::path::PathBuf,
}

impl Output {
    fn create(path: &Path, blob: &Digest) -> Result<Self, RemoteError> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let tmp = tempfile::Builder::new()
            .prefix(".agentry-cdc-download-")
            .tempfile_in(dir)
            .map_err(|e| RemoteError::io(dir, e))?;
        Ok(Self {
            file: std::io::BufWriter::with_capacity(1 << 20, tmp),
            hasher: Hasher::new(blob.function()),
            blob: *blob,
            path: path.to_owned(),
        })
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), RemoteError> {
        self.hasher.update(bytes);
        self.file.write_all(bytes).map_err(|e| RemoteError::io(&self.path, e))
    }

    fn finish(self, inner: &Inner) -> Result<(), RemoteError> {
        let actual = self.hasher.finish();
        if actual != self.blob {
            return Err(RemoteError::Corrupt { url: inner.url.clone(), expected: self.blob, actual });
        }
        let tmp = self.file.into_inner().map_err(|e| RemoteError::io(&self.path, e.into_error()))?;
        tmp.as_file().sync_all().map_err(|e| RemoteError::io(&self.path, e))?;
        tmp.persist(&self.path).map_err(|e| RemoteError::io(&self.path, e.error))?;
        Ok(())
    }
}

impl Inner {
    pub(crate) async fn split(
        &self,
        blob: &Digest,
        tally: &Tally,
    ) -> Result<Option<Vec<Digest>>, RemoteError> {
        use bazel_remote_apis::build::bazel::remote::execution::v2 as re;
        let chunking_function = self.caps.chunking_function();
        let (rpc, result) = if self.caps.streaming_chunk_mapping() {
            let r = self
                .call("GetChunkMapping", std::slice::from_ref(blob), tally, || {
                    let mut cas = self.control_cas();
                    let req = self.request(re::GetChunkMappingRequest {
                        instance_name: self.options.instance.clone(),
                        blob_digest: Some(Self::to_proto_digest(blob)),
                        digest_function: self.function_field(),
                        chunking_function,
                    });
                    async move {
                        let mut stream = cas.get_chunk_mapping(req).await?.into_inner();
                        let mut all = Vec::new();
                        while let Some(msg) = stream.message().await? {
                            all.extend(msg.chunk_digests);
                        }
                        Ok(all)
                    }
                })
                .await;
            ("GetChunkMapping", r)
        } else {
            let r = self
                .call("SplitBlob", std::slice::from_ref(blob), tally, || {
                    let mut cas = self.control_cas();
                    let req = self.request(re::SplitBlobRequest {
                        instance_name: self.options.instance.clone(),
                        blob_digest: Some(Self::to_proto_digest(blob)),
                        digest_function: self.function_field(),
                        chunking_function,
                    });
                    #[allow(deprecated)]
                    async move {
                        cas.split_blob(req).await.map(|r| r.into_inner().chunk_digests)
                    }
                })
                .await;
            ("SplitBlob", r)
        };
        match result {
            Ok(ds) => Ok(Some(ds.iter().map(|d| self.digest_from_proto(rpc, d)).collect::<Result<_, _>>()?)),
            Err(e) if e.code() == Some(tonic::Code::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

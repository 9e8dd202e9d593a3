//! Upload, as Bazel does it: blobs up to the chunking threshold go whole; larger ones are chunked with the
//! server's parameters, only the chunks the server lacks are sent, then the blob is spliced from them.

use std::{path::Path, sync::Arc};

use agentry_types::Digest;
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};

use super::{
    BlobReport, Chunking, Progress, TransferMode,
    blobs::Source,
    client::{Inner, RemoteCas, Tally},
    error::{RemoteError, code_name},
};
use crate::digest::DigestedChunk;

/// One upload call's worth of chunks: a batch under the batch limit, or one chunk over it.
enum Job {
    Batch(Vec<DigestedChunk>),
    Stream(DigestedChunk),
}

impl RemoteCas {
    /// Uploads `data` as one blob (chunked if it is over the server's chunking threshold) and reports what
    /// moved.
    pub async fn upload_bytes(
        &self,
        data: Bytes,
        progress: &Progress<'_>,
    ) -> Result<BlobReport, RemoteError> {
        self.upload(Source::Memory(data), progress).await
    }

    /// Uploads a file as one blob, reading it piece by piece: memory stays within a few chunking segments and
    /// the calls in flight.
    pub async fn upload_file(&self, path: &Path, progress: &Progress<'_>) -> Result<BlobReport, RemoteError> {
        let file = std::fs::File::open(path).map_err(|e| RemoteError::io(path, e))?;
        let len = file.metadata().map_err(|e| RemoteError::io(path, e))?.len();
        self.upload(Source::File { path: Arc::new(path.to_owned()), file: Arc::new(file), len }, progress)
            .await
    }

    async fn upload(&self, source: Source, progress: &Progress<'_>) -> Result<BlobReport, RemoteError> {
        let inner = &self.inner;
        let caps = &inner.caps;
        let size = source.len();
        let tally = Tally::default();
        let whole_reason = match caps.chunking_threshold() {
            None => caps.chunking_off_reason().map(str::to_owned),
            Some(_) if !caps.splice_blob_support => Some("the server does not support SpliceBlob".to_owned()),
            Some(threshold) if size <= threshold => {
                Some(format!("{size} bytes is not over the chunking threshold of {threshold} bytes"))
            }
            Some(_) => None,
        };
        if let Some(reason) = whole_reason {
            let blob = digest_source(inner, &source).await?;
            return upload_whole(inner, &source, blob, reason, &tally, progress).await;
        }
        let (blob, chunks, present) = match (&caps.chunking, &source) {
            (Chunking::FastCdc2020(params), Source::File { path, .. }) => {
                pipelined_file(inner, &source, Arc::clone(path), params.clone(), &tally, progress).await?
            }
            _ => {
                let (blob, chunks) = chunk_source(inner, &source).await?;
                let mut ask = Vec::with_capacity(chunks.len() + 1);
                ask.push(blob);
                ask.extend(chunks.iter().map(|c| c.digest));
                let missing = inner.find_missing(&ask, &tally).await?;
                let present = !missing.contains(&blob);
                if !present {
                    send_missing(inner, &source, &chunks, &missing, &tally, progress).await?;
                }
                (blob, chunks, present)
            }
        };
        let layout: Vec<Digest> = chunks.iter().map(|c| c.digest).collect();
        let report = |tally: &Tally, mode, reason| {
            let (rpcs, bytes, sent) = tally.get();
            BlobReport {
                digest: blob,
                bytes_total: size,
                bytes_transferred: bytes,
                chunks_total: layout.len() as u64,
                chunks_transferred: sent,
                rpcs,
                mode,
                reason,
            }
        };
        if present {
            return Ok(report(&tally, TransferMode::Chunked, None));
        }
        match splice(inner, blob, &layout, &tally).await {
            Ok(()) => {}
            Err(e) if e.code() == Some(tonic::Code::NotFound) => {
                // A chunk went between FindMissingBlobs and the splice (evicted): ask again, send, splice once more.
                let missing = inner.find_missing(&layout, &tally).await?;
                send_missing(inner, &source, &chunks, &missing, &tally, &|_| {}).await?;
                splice(inner, blob, &layout, &tally).await?;
            }
            Err(RemoteError::Status { code, message, .. })
                if matches!(
                    code,
                    tonic::Code::InvalidArgument
                        | tonic::Code::Unimplemented
                        | tonic::Code::FailedPrecondition
                ) =>
            {
                let reason = format!("the server rejected the splice ({}: {message})", code_name(code));
                inner.write_blob(blob, &source, 0, &tally).await?;
                tally.moved(size, 0);
                return Ok(report(&tally, TransferMode::Whole, Some(reason)));
            }
            Err(e) => return Err(e),
        }
        // Chunks that were already there count as done for the progress bar.
        Ok(report(&tally, TransferMode::Chunked, None))
    }
}

async fn digest_source(inner: &Inner, source: &Source) -> Result<Digest, RemoteError> {
    let function = inner.function();
    match source {
        Source::Memory(b) => {
            let b = b.clone();
            blocking(move || Ok(crate::digest::digest(function, &b))).await
        }
        Source::File { path, .. } => {
            let path = Arc::clone(path);
            blocking(move || {
                let mut file =
                    std::fs::File::open(path.as_path()).map_err(|e| RemoteError::io(path.as_path(), e))?;
                let mut h = crate::digest::Hasher::new(function);
                let mut buf = vec![0u8; 1 << 20];
                loop {
                    use std::io::Read;
                    match file.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => h.update(&buf[..n]),
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(RemoteError::io(path.as_path(), e)),
                    }
                }
                Ok(h.finish())
            })
            .await
        }
    }
}

/// A blob's digest and its chunks, hashed in parallel: for a blob in memory, the whole blob on one thread while
/// the others cut and digest chunks; for a file chunked with RepMaxCDC, the file read twice at once (streamed
/// through the chunker, and hashed whole). FastCDC files go through [`pipelined_file`] instead.
async fn chunk_source(inner: &Inner, source: &Source) -> Result<(Digest, Vec<DigestedChunk>), RemoteError> {
    let (function, threads) = (inner.function(), inner.options.threads);
    let cutting = inner.caps.chunking.clone();
    match source {
        Source::Memory(b) => {
            let b = b.clone();
            blocking(move || {
                Ok(std::thread::scope(|scope| {
                    let whole = scope.spawn(|| crate::digest::digest(function, &b));
                    let chunks = match &cutting {
                        Chunking::FastCdc2020(p) => crate::chunk_and_digest(p, &b, function, threads),
                        Chunking::RepMaxCdc(p) => crate::repmax_chunk_and_digest(p, &b, function, threads),
                        Chunking::Off { .. } => Vec::new(),
                    };
                    (whole.join().unwrap_or_else(|e| std::panic::resume_unwind(e)), chunks)
                }))
            })
            .await
        }
        Source::File { path, .. } => {
            let Chunking::RepMaxCdc(p) = cutting else {
                return Err(inner.protocol("upload", "FastCDC files are chunked as they are read".into()));
            };
            let path = Arc::clone(path);
            let chunks = blocking(move || {
                crate::repmax_chunk_and_digest_file(&p, path.as_path(), function, threads)
                    .map_err(RemoteError::from)
            });
            futures_util::future::try_join(digest_source(inner, source), chunks).await
        }
    }
}

/// What the chunking thread hands over while it reads a file.
enum Event {
    /// The chunks of one read-ahead segment, in order.
    Chunks(Vec<DigestedChunk>),
    /// The whole file's digest, known once its last byte was read.
    Blob(Digest),
}

/// Uploads a file's missing chunks while it is still being chunked: each segment's new chunks are checked with
/// `FindMissingBlobs` (a few calls in flight) and the missing ones sent at once, so the network starts after
/// the first segment instead of after the whole file. When the whole file's digest arrives it is checked too,
/// and if the server already holds the blob, nothing more is sent. Returns the blob, its chunks, and whether
/// the server already held it.
async fn pipelined_file(
    inner: &Inner,
    source: &Source,
    path: Arc<std::path::PathBuf>,
    params: crate::Params,
    tally: &Tally,
    progress: &Progress<'_>,
) -> Result<(Digest, Vec<DigestedChunk>, bool), RemoteError> {
    use std::sync::atomic::{AtomicBool, Ordering};

    let (function, threads) = (inner.function(), inner.options.threads);
    let (tx, rx) = tokio::sync::mpsc::channel::<Event>(4);
    let producer = tokio::task::spawn_blocking(move || {
        let blob_tx = tx.clone();
        let on_blob = move |d: Digest| {
            let _ = blob_tx.blocking_send(Event::Blob(d));
        };
        crate::file::for_each_segment(&params, path.as_path(), function, threads, Some(&on_blob), &mut |cs| {
            tx.blocking_send(Event::Chunks(cs)).is_ok()
        })
        .map_err(RemoteError::from)
    });
    let present = AtomicBool::new(false);
    let mut chunks: Vec<DigestedChunk> = Vec::new();
    let mut seen: std::collections::HashSet<Digest> = std::collections::HashSet::new();
    let mut blob: Option<Digest> = None;
    let (job_tx, job_rx) = tokio::sync::mpsc::unbounded_channel::<Job>();
    let limit = inner.caps.batch_limit();
    let dispatch = {
        let (chunks, seen, blob, present) = (&mut chunks, &mut seen, &mut blob, &present);
        let events =
            futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (e, rx)) });
        events
            .map(move |event| {
                // In order: the layout grows and the new distinct chunks are picked here; the calls run below.
                let (fresh, ask) = match event {
                    Event::Chunks(cs) => {
                        let fresh: Vec<DigestedChunk> =
                            cs.iter().filter(|c| seen.insert(c.digest)).copied().collect();
                        let repeated: u64 = cs.iter().map(|c| c.chunk.length).sum::<u64>()
                            - fresh.iter().map(|c| c.chunk.length).sum::<u64>();
                        progress(repeated);
                        chunks.extend(cs);
                        let ask: Vec<Digest> = fresh.iter().map(|c| c.digest).collect();
                        (fresh, ask)
                    }
                    Event::Blob(d) => {
                        *blob = Some(d);
                        (Vec::new(), vec![d])
                    }
                };
                async move {
                    let missing = inner.find_missing(&ask, tally).await?;
                    if fresh.is_empty() {
                        // The whole blob: if the server has it, stop sending chunks.
                        if missing.is_empty() {
                            present.store(true, Ordering::Relaxed);
                        }
                        return Ok(Vec::new());
                    }
                    let missing: std::collections::HashSet<Digest> = missing.into_iter().collect();
                    let mut ignored = std::collections::HashSet::new();
                    let (jobs, there) = plan_jobs(&fresh, &missing, &mut ignored, limit);
                    progress(there);
                    Ok::<_, RemoteError>(jobs)
                }
            })
            .buffered(4)
            // The closure owns the only sender, so the job stream ends when the dispatch does.
            .try_for_each(move |jobs| {
                for job in jobs {
                    // The sender outlives the dispatch; a closed channel means it failed, and says why itself.
                    let _ = job_tx.send(job);
                }
                futures_util::future::ready(Ok(()))
            })
    };
    let jobs = futures_util::stream::unfold(job_rx, |mut rx| async move { rx.recv().await.map(|j| (j, rx)) });
    let send = jobs
        .map(|job| async {
            if present.load(Ordering::Relaxed) {
                return Ok(());
            }
            run_job(inner, source, job, tally, progress).await
        })
        .buffer_unordered(inner.options.concurrency.max(1))
        .try_collect::<()>();
    futures_util::future::try_join(dispatch, send).await?;
    let returned =
        producer.await.map_err(|e| RemoteError::Runtime(std::io::Error::other(e.to_string())))??;
    let blob = blob
        .or(returned)
        .ok_or_else(|| inner.protocol("upload", "the file's digest was not computed".into()))?;
    if present.load(Ordering::Relaxed) {
        progress(0);
    }
    Ok((blob, chunks, present.load(Ordering::Relaxed)))
}

/// Runs CPU-bound or blocking work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, RemoteError> + Send + 'static,
) -> Result<T, RemoteError> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(RemoteError::Runtime(std::io::Error::other(e.to_string()))))
}

async fn upload_whole(
    inner: &Inner,
    source: &Source,
    blob: Digest,
    reason: String,
    tally: &Tally,
    progress: &Progress<'_>,
) -> Result<BlobReport, RemoteError> {
    let missing = inner.find_missing(&[blob], tally).await?;
    if missing.contains(&blob) {
        inner.write_blob(blob, source, 0, tally).await?;
        tally.moved(blob.size_bytes(), 0);
    }
    progress(blob.size_bytes());
    let (rpcs, bytes, _) = tally.get();
    Ok(BlobReport {
        digest: blob,
        bytes_total: blob.size_bytes(),
        bytes_transferred: bytes,
        chunks_total: 1,
        chunks_transferred: u64::from(bytes > 0),
        rpcs,
        mode: TransferMode::Whole,
        reason: Some(reason),
    })
}

/// Groups the distinct chunks of `chunks` that are in `missing` (and not in `seen`) into calls: batches under
/// `limit`, chunks over it alone. Also returns the bytes of the chunks that need not be sent.
fn plan_jobs(
    chunks: &[DigestedChunk],
    missing: &std::collections::HashSet<Digest>,
    seen: &mut std::collections::HashSet<Digest>,
    limit: u64,
) -> (Vec<Job>, u64) {
    let mut jobs = Vec::new();
    let mut batch: Vec<DigestedChunk> = Vec::new();
    let mut batch_bytes = 0u64;
    let mut present = 0u64;
    for c in chunks {
        if !missing.contains(&c.digest) || !seen.insert(c.digest) {
            present += c.chunk.length;
            continue;
        }
        if c.chunk.length > limit {
            jobs.push(Job::Stream(*c));
            continue;
        }
        if batch_bytes + c.chunk.length > limit {
            jobs.push(Job::Batch(std::mem::take(&mut batch)));
            batch_bytes = 0;
        }
        batch_bytes += c.chunk.length;
        batch.push(*c);
    }
    if !batch.is_empty() {
        jobs.push(Job::Batch(batch));
    }
    (jobs, present)
}

/// Sends one call's chunks, reading their bytes from `source`.
async fn run_job(
    inner: &Inner,
    source: &Source,
    job: Job,
    tally: &Tally,
    progress: &Progress<'_>,
) -> Result<(), RemoteError> {
    match job {
        Job::Batch(cs) => {
            let mut blobs = Vec::with_capacity(cs.len());
            for c in &cs {
                let len = usize::try_from(c.chunk.length).unwrap_or(usize::MAX);
                blobs.push((c.digest, source.read(c.chunk.offset, len).await?));
            }
            inner.batch_update(blobs, tally).await?;
            let bytes: u64 = cs.iter().map(|c| c.chunk.length).sum();
            tally.moved(bytes, cs.len() as u64);
            progress(bytes);
        }
        Job::Stream(c) => {
            inner.write_blob(c.digest, source, c.chunk.offset, tally).await?;
            tally.moved(c.chunk.length, 1);
            progress(c.chunk.length);
        }
    }
    Ok(())
}

/// Sends the distinct chunks of `chunks` that are in `missing`, at most `concurrency` calls at a time.
async fn send_missing(
    inner: &Inner,
    source: &Source,
    chunks: &[DigestedChunk],
    missing: &[Digest],
    tally: &Tally,
    progress: &Progress<'_>,
) -> Result<(), RemoteError> {
    let missing: std::collections::HashSet<Digest> = missing.iter().copied().collect();
    let (jobs, present) =
        plan_jobs(chunks, &missing, &mut std::collections::HashSet::new(), inner.caps.batch_limit());
    progress(present);
    futures_util::stream::iter(jobs)
        .map(|job| run_job(inner, source, job, tally, progress))
        .buffer_unordered(inner.options.concurrency.max(1))
        .try_collect::<()>()
        .await
}

/// `SpliceBlob` (or the streaming `RegisterChunkMapping` from REAPI 2.13); `ALREADY_EXISTS` is success.
pub(crate) async fn splice(
    inner: &Inner,
    blob: Digest,
    layout: &[Digest],
    tally: &Tally,
) -> Result<(), RemoteError> {
    use bazel_remote_apis::build::bazel::remote::execution::v2 as re;
    let chunk_digests: Vec<re::Digest> = layout.iter().map(Inner::to_proto_digest).collect();
    let result = if inner.caps.streaming_chunk_mapping() {
        inner
            .call("RegisterChunkMapping", &[blob], tally, || {
                let mut cas = inner.control_cas();
                // The first message names the blob; the digests follow in messages of at most 10,000.
                let mut messages = vec![re::RegisterChunkMappingRequest {
                    instance_name: inner.options.instance.clone(),
                    blob_digest: Some(Inner::to_proto_digest(&blob)),
                    chunk_digests: Vec::new(),
                    digest_function: inner.function_field(),
                    chunking_function: inner.caps.chunking_function(),
                }];
                for part in chunk_digests.chunks(10_000) {
                    messages.push(re::RegisterChunkMappingRequest {
                        chunk_digests: part.to_vec(),
                        ..Default::default()
                    });
                }
                let req = inner.request(futures_util::stream::iter(messages));
                async move { cas.register_chunk_mapping(req).await.map(|_| ()) }
            })
            .await
    } else {
        inner
            .call("SpliceBlob", &[blob], tally, || {
                let mut cas = inner.control_cas();
                let req = inner.request(re::SpliceBlobRequest {
                    instance_name: inner.options.instance.clone(),
                    blob_digest: Some(Inner::to_proto_digest(&blob)),
                    chunk_digests: chunk_digests.clone(),
                    digest_function: inner.function_field(),
                    chunking_function: inner.caps.chunking_function(),
                });
                async move { cas.splice_blob(req).await.map(|_| ()) }
            })
            .await
    };
    match result {
        Err(e) if e.code() == Some(tonic::Code::AlreadyExists) => Ok(()),
        other => other,
    }
}

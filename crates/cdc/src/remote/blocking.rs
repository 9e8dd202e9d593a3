//! The blocking facade: the async client driven by its own runtime, and a [`ChunkStore`] over a remote so
//! `upload_plan` and `download_plan` work against a server as against a local store.

use std::path::Path;

use agentry_types::{Digest, DigestFunction};
use bytes::Bytes;

use super::{BlobReport, Progress, RemoteCas, RemoteOptions, client::Tally, error::RemoteError};
use crate::{
    error::Error,
    params::Params,
    store::{ChunkStore, FsStore},
};

/// [`RemoteCas`] for code that does not run an async runtime: each call blocks until it is done.
///
/// It is also a [`ChunkStore`], so [`upload_plan`](crate::upload_plan) and
/// [`download_plan`](crate::download_plan) plan against the server with the same
/// [`TransferStats`](crate::TransferStats) as against a local store. As a store, `put` uploads an object
/// whole, `find_missing` is `FindMissingBlobs`, `split` is `SplitBlob` and `splice` is `SpliceBlob` (the
/// server checks the digest, so nothing is read back).
#[derive(Debug)]
pub struct BlockingRemoteCas {
    runtime: tokio::runtime::Runtime,
    client: RemoteCas,
    params: Params,
}

impl BlockingRemoteCas {
    /// Connects as [`RemoteCas::connect`] does.
    pub fn connect(url: &str, options: RemoteOptions) -> Result<Self, RemoteError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(RemoteError::Runtime)?;
        let client = runtime.block_on(RemoteCas::connect(url, options))?;
        // A store needs parameters even when the server chunks nothing; `split` never chunks locally here.
        let params = client
            .capabilities()
            .params()
            .cloned()
            .map_or_else(|| Params::reapi(crate::REAPI_DEFAULT_AVG, 0), Ok)?;
        Ok(Self { runtime, client, params })
    }

    /// The async client underneath.
    pub fn client(&self) -> &RemoteCas {
        &self.client
    }

    /// What was decided from the server's capabilities.
    pub fn capabilities(&self) -> &super::Capabilities {
        self.client.capabilities()
    }

    /// See [`RemoteCas::upload_file`].
    pub fn upload_file(&self, path: &Path, progress: &Progress<'_>) -> Result<BlobReport, RemoteError> {
        self.runtime.block_on(self.client.upload_file(path, progress))
    }

    /// See [`RemoteCas::upload_bytes`].
    pub fn upload_bytes(
        &self,
        data: impl Into<Bytes>,
        progress: &Progress<'_>,
    ) -> Result<BlobReport, RemoteError> {
        self.runtime.block_on(self.client.upload_bytes(data.into(), progress))
    }

    /// See [`RemoteCas::download`].
    pub fn download(
        &self,
        blob: &Digest,
        output: &Path,
        cache: Option<&FsStore>,
        progress: &Progress<'_>,
    ) -> Result<BlobReport, RemoteError> {
        self.runtime.block_on(self.client.download(blob, output, cache, progress))
    }

    /// See [`RemoteCas::split`].
    pub fn split_blob(&self, blob: &Digest) -> Result<Option<Vec<Digest>>, RemoteError> {
        self.runtime.block_on(self.client.split(blob))
    }

    /// See [`RemoteCas::find_missing`].
    pub fn find_missing_blobs(&self, digests: &[Digest]) -> Result<Vec<Digest>, RemoteError> {
        self.runtime.block_on(self.client.find_missing(digests))
    }

    fn run<T>(&self, f: impl std::future::Future<Output = Result<T, RemoteError>>) -> Result<T, Error> {
        self.runtime.block_on(f).map_err(|e| Error::Remote(Box::new(e)))
    }
}

impl ChunkStore for BlockingRemoteCas {
    fn digest_function(&self) -> DigestFunction {
        self.client.inner.function()
    }

    fn params(&self) -> &Params {
        &self.params
    }

    fn contains(&self, digest: &Digest) -> Result<bool, Error> {
        Ok(ChunkStore::find_missing(self, std::slice::from_ref(digest))?.is_empty())
    }

    fn put(&self, digest: &Digest, data: &[u8]) -> Result<(), Error> {
        crate::store::verify(digest, data)?;
        let inner = &self.client.inner;
        let source = super::blobs::Source::Memory(Bytes::copy_from_slice(data));
        self.run(inner.write_blob(*digest, &source, 0, &Tally::default()))
    }

    fn get_object(&self, digest: &Digest) -> Result<Option<Vec<u8>>, Error> {
        match self.runtime.block_on(self.client.inner.read_blob(*digest, &Tally::default())) {
            Ok(b) => Ok(Some(b.to_vec())),
            Err(e) if e.code() == Some(tonic::Code::NotFound) => Ok(None),
            Err(e) => Err(Error::Remote(Box::new(e))),
        }
    }

    fn layout(&self, blob: &Digest) -> Result<Option<Vec<Digest>>, Error> {
        self.run(self.client.inner.split(blob, &Tally::default()))
    }

    fn put_layout(&self, blob: &Digest, chunks: &[Digest]) -> Result<(), Error> {
        self.run(super::upload::splice(&self.client.inner, *blob, chunks, &Tally::default()))
    }

    fn find_missing(&self, digests: &[Digest]) -> Result<Vec<Digest>, Error> {
        self.run(self.client.inner.find_missing(digests, &Tally::default()))
    }

    fn has_complete_layout(&self, _blob: &Digest) -> Result<bool, Error> {
        // FindMissingBlobs already reports a spliced blob as present.
        Ok(false)
    }

    fn split(&self, blob: &Digest) -> Result<Option<Vec<Digest>>, Error> {
        self.layout(blob)
    }

    fn splice(&self, blob: &Digest, chunks: &[Digest]) -> Result<(), Error> {
        self.put_layout(blob, chunks)
    }
}

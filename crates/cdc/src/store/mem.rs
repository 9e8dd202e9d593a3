use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

use agentry_types::{Digest, DigestFunction};

use super::{ChunkStore, verify};
use crate::{error::Error, params::Params};

/// A chunk store in memory, for tests and for staging.
#[derive(Debug)]
pub struct MemStore {
    function: DigestFunction,
    params: Params,
    objects: Mutex<HashMap<Digest, Vec<u8>>>,
    layouts: Mutex<HashMap<Digest, Vec<Digest>>>,
}

impl MemStore {
    /// An empty store.
    pub fn new(function: DigestFunction, params: Params) -> Self {
        Self { function, params, objects: Mutex::default(), layouts: Mutex::default() }
    }

    /// Number of objects and their total size in bytes.
    pub fn usage(&self) -> (usize, u64) {
        let objects = self.objects.lock().unwrap_or_else(PoisonError::into_inner);
        (objects.len(), objects.values().map(|v| v.len() as u64).sum())
    }
}

impl ChunkStore for MemStore {
    fn digest_function(&self) -> DigestFunction {
        self.function
    }

    fn params(&self) -> &Params {
        &self.params
    }

    fn contains(&self, digest: &Digest) -> Result<bool, Error> {
        Ok(self.objects.lock().unwrap_or_else(PoisonError::into_inner).contains_key(digest))
    }

    fn put(&self, digest: &Digest, data: &[u8]) -> Result<(), Error> {
        if digest.function() != self.function {
            return Err(Error::WrongDigestFunction {
                digest: *digest,
                function: digest.function(),
                store: self.function,
            });
        }
        verify(digest, data)?;
        self.objects
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(*digest)
            .or_insert_with(|| data.to_vec());
        Ok(())
    }

    fn get_object(&self, digest: &Digest) -> Result<Option<Vec<u8>>, Error> {
        Ok(self.objects.lock().unwrap_or_else(PoisonError::into_inner).get(digest).cloned())
    }

    fn layout(&self, blob: &Digest) -> Result<Option<Vec<Digest>>, Error> {
        Ok(self.layouts.lock().unwrap_or_else(PoisonError::into_inner).get(blob).cloned())
    }

    fn put_layout(&self, blob: &Digest, chunks: &[Digest]) -> Result<(), Error> {
        self.layouts.lock().unwrap_or_else(PoisonError::into_inner).insert(*blob, chunks.to_vec());
        Ok(())
    }
}

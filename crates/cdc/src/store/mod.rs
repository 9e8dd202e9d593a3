//! Content-addressed chunk stores: the `ChunkStore` trait with REAPI's split and splice, a filesystem store
//! and an in-memory store.

mod fs;
mod mem;

pub use self::{
    fs::{FsStore, GcReport, StoreStats},
    mem::MemStore,
};
use agentry_types::{Digest, DigestFunction};

use crate::{
    digest::{Hasher, digest},
    error::Error,
    params::Params,
    scan::chunks,
};

/// A content-addressed store of chunks and blob layouts, with the operations of REAPI's
/// `ContentAddressableStorage` that chunking needs.
///
/// Implementors provide object and layout storage; `find_missing`, `get`, `split` and `splice` are
/// provided on top and behave the same for every store.
pub trait ChunkStore {
    /// The hash function every digest in this store uses.
    fn digest_function(&self) -> DigestFunction;

    /// The chunking parameters `split` uses for blobs stored whole.
    fn params(&self) -> &Params;

    /// Whether an object with this digest is stored.
    fn contains(&self, digest: &Digest) -> Result<bool, Error>;

    /// Stores `data` under `digest` after checking that `data` has that digest. Storing an object that is
    /// already there does nothing. A failure (or a crash) leaves no partial object visible.
    fn put(&self, digest: &Digest, data: &[u8]) -> Result<(), Error>;

    /// The stored object's bytes, verified against its digest, or `None` if it is not stored.
    fn get_object(&self, digest: &Digest) -> Result<Option<Vec<u8>>, Error>;

    /// The recorded chunk list of a blob, if any.
    fn layout(&self, blob: &Digest) -> Result<Option<Vec<Digest>>, Error>;

    /// Records a blob's chunk list. Callers go through [`ChunkStore::splice`], which verifies it first.
    fn put_layout(&self, blob: &Digest, chunks: &[Digest]) -> Result<(), Error>;

    /// The digests among `digests` that are neither stored objects nor blobs with a layout whose chunks are
    /// all stored, in input order, without duplicates.
    fn find_missing(&self, digests: &[Digest]) -> Result<Vec<Digest>, Error> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for d in digests {
            if seen.insert(*d) && !self.contains(d)? && !self.has_complete_layout(d)? {
                out.push(*d);
            }
        }
        Ok(out)
    }

    /// Whether `blob` has a layout whose chunks are all stored.
    fn has_complete_layout(&self, blob: &Digest) -> Result<bool, Error> {
        let Some(chunks) = self.layout(blob)? else { return Ok(false) };
        for c in &chunks {
            if !self.contains(c)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// A blob's bytes: the stored object, or the concatenation of its chunks (verified against the blob's
    /// digest), or `None` if neither is available.
    fn get(&self, digest: &Digest) -> Result<Option<Vec<u8>>, Error> {
        if let Some(bytes) = self.get_object(digest)? {
            return Ok(Some(bytes));
        }
        let Some(chunks) = self.layout(digest)? else { return Ok(None) };
        let mut out = Vec::with_capacity(usize::try_from(digest.size_bytes()).unwrap_or(0));
        for c in &chunks {
            match self.get_object(c)? {
                Some(bytes) => out.extend_from_slice(&bytes),
                None => return Err(Error::ChunkMissing { digest: *c }),
            }
        }
        let actual = crate::digest::digest(self.digest_function(), &out);
        if actual != *digest {
            return Err(Error::SpliceDigestMismatch { blob: *digest, actual });
        }
        Ok(Some(out))
    }

    /// REAPI `SplitBlob`: the blob's chunk list. A recorded layout is returned as is; a blob stored whole
    /// is chunked with [`ChunkStore::params`], its chunks stored and the layout recorded. `None` if the
    /// store has neither.
    fn split(&self, blob: &Digest) -> Result<Option<Vec<Digest>>, Error> {
        if let Some(chunks) = self.layout(blob)? {
            return Ok(Some(chunks));
        }
        let Some(bytes) = self.get_object(blob)? else { return Ok(None) };
        let mut layout = Vec::new();
        for c in chunks(self.params(), &bytes) {
            let piece = &bytes[c.range()];
            let d = digest(self.digest_function(), piece);
            self.put(&d, piece)?;
            layout.push(d);
        }
        self.put_layout(blob, &layout)?;
        Ok(Some(layout))
    }

    /// REAPI `SpliceBlob`: records that `blob` is the concatenation of `chunks` after checking that every
    /// chunk is stored, that their sizes add up to the blob's size and that their concatenation has the
    /// blob's digest. On any failure nothing is recorded and the error says which check failed.
    fn splice(&self, blob: &Digest, chunks: &[Digest]) -> Result<(), Error> {
        let function = self.digest_function();
        for d in std::iter::once(blob).chain(chunks) {
            if d.function() != function {
                return Err(Error::WrongDigestFunction {
                    digest: *d,
                    function: d.function(),
                    store: function,
                });
            }
        }
        for c in chunks {
            if !self.contains(c)? {
                return Err(Error::ChunkMissing { digest: *c });
            }
        }
        let total: u64 = chunks.iter().map(Digest::size_bytes).fold(0u64, u64::saturating_add);
        if total != blob.size_bytes() {
            return Err(Error::SpliceSizeMismatch { blob: *blob, actual: total });
        }
        let mut hasher = Hasher::new(function);
        for c in chunks {
            let bytes = self.get_object(c)?.ok_or(Error::ChunkMissing { digest: *c })?;
            hasher.update(&bytes);
        }
        let actual = hasher.finish();
        if actual != *blob {
            return Err(Error::SpliceDigestMismatch { blob: *blob, actual });
        }
        self.put_layout(blob, chunks)
    }
}

/// Checks that `data` has `digest` (function, hash and size).
pub(crate) fn verify(digest: &Digest, data: &[u8]) -> Result<(), Error> {
    let actual = crate::digest::digest(digest.function(), data);
    if actual == *digest { Ok(()) } else { Err(Error::PutDigestMismatch { expected: *digest, actual }) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> MemStore {
        MemStore::new(DigestFunction::Sha256, Params::reapi(1024, 0).expect("valid"))
    }

    fn put(s: &MemStore, data: &[u8]) -> Digest {
        let d = digest(DigestFunction::Sha256, data);
        s.put(&d, data).expect("put");
        d
    }

    #[test]
    fn splice_then_get() {
        let s = store();
        let (a, b) = (put(&s, b"hello "), put(&s, b"world"));
        let blob = digest(DigestFunction::Sha256, b"hello world");
        s.splice(&blob, &[a, b]).expect("splice");
        assert_eq!(s.get(&blob).expect("get"), Some(b"hello world".to_vec()));
        assert_eq!(s.find_missing(&[blob, a]).expect("find"), vec![]);
    }
    #[test]
    fn splice_missing_chunk() {
        let s = store();
        let a = put(&s, b"hello ");
        let b = digest(DigestFunction::Sha256, b"world");
        let blob = digest(DigestFunction::Sha256, b"hello world");
        assert!(matches!(s.splice(&blob, &[a, b]), Err(Error::ChunkMissing { digest }) if digest == b));
        assert_eq!(s.layout(&blob).expect("layout"), None);
    }
    #[test]
    fn splice_wrong_size() {
        let s = store();
        let (a, b) = (put(&s, b"hello "), put(&s, b"world!"));
        let blob = digest(DigestFunction::Sha256, b"hello world");
        assert!(matches!(s.splice(&blob, &[a, b]), Err(Error::SpliceSizeMismatch { actual: 12, .. })));
    }
    #[test]
    fn splice_wrong_digest() {
        let s = store();
        let (a, b) = (put(&s, b"hello "), put(&s, b"wORld"));
        let blob = digest(DigestFunction::Sha256, b"hello world");
        assert!(matches!(s.splice(&blob, &[a, b]), Err(Error::SpliceDigestMismatch { .. })));
        assert_eq!(s.get(&blob).expect("get"), None);
    }
    #[test]
    fn put_rejects_wrong_bytes() {
        let s = store();
        let d = digest(DigestFunction::Sha256, b"right");
        assert!(matches!(s.put(&d, b"wrong"), Err(Error::PutDigestMismatch { .. })));
        assert!(!s.contains(&d).expect("contains"));
    }
    #[test]
    fn split_whole_blob() {
        let s = store();
        let data: Vec<u8> = (0..20_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        let blob = put(&s, &data);
        let layout = s.split(&blob).expect("split").expect("stored");
        assert!(layout.len() > 1);
        let joined: Vec<u8> =
            layout.iter().flat_map(|d| s.get_object(d).expect("get").expect("stored")).collect();
        assert_eq!(joined, data);
    }
}

//! Chunking and digesting a file at the in-memory path's parallel speed, with memory bounded by a few
//! segments: one thread reads ahead and hashes the whole blob while the others cut and digest chunks.

use std::{io::Read, path::Path, sync::mpsc};

use agentry_types::{Digest, DigestFunction};

use crate::{
    digest::{DigestedChunk, Hasher, chunk_and_digest},
    error::Error,
    params::Params,
    scan::Chunk,
};

/// A file's digest and its chunks, as [`chunk_and_digest_file`] finds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigests {
    /// The digest of the whole file.
    pub blob: Digest,
    /// Its chunks in order, with their digests.
    pub chunks: Vec<DigestedChunk>,
}

/// The bytes read ahead per segment (at least 8 maximum chunks).
const SEGMENT: usize = 16 * 1024 * 1024;

/// Like [`chunk_and_digest`] on the file's bytes (the same chunks and digests), plus the whole file's digest,
/// without holding the file in memory: it is read in 16 MiB segments (at least eight maximum-size chunks) by a
/// thread that reads ahead and hashes the whole blob, while `threads` threads (0: all cores) cut and digest
/// chunks. Memory stays within about four segments.
pub fn chunk_and_digest_file(
    params: &Params,
    path: impl AsRef<Path>,
    function: DigestFunction,
    threads: usize,
) -> Result<FileDigests, Error> {
    let segment = SEGMENT.max(8 * params.max_size() as usize);
    chunk_and_digest_path(params, path.as_ref(), function, threads, segment)
}

pub(crate) fn chunk_and_digest_path(
    params: &Params,
    path: &Path,
    function: DigestFunction,
    threads: usize,
    segment: usize,
) -> Result<FileDigests, Error> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    if len <= params.chunking_threshold() {
        let mut data = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        file.read_to_end(&mut data).map_err(|e| Error::io(path, e))?;
        let chunks = chunk_and_digest(params, &data, function, threads);
        let blob = chunks
            .first()
            .filter(|_| chunks.len() == 1)
            .map_or_else(|| crate::digest::digest(function, &data), |c| c.digest);
        return Ok(FileDigests { blob, chunks });
    }
    let cut_params = params.clone().with_chunking_threshold(0);
    let (tx, rx) = mpsc::sync_channel::<std::sync::Arc<Vec<u8>>>(1);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || -> Result<Digest, Error> {
            let mut hasher = Hasher::new(function);
            loop {
                let mut buf = vec![0u8; segment];
                let n = read_full(&mut file, &mut buf).map_err(|e| Error::io(path, e))?;
                buf.truncate(n);
                let buf = std::sync::Arc::new(buf);
                // The consumer may have stopped on an error of its own; its error is the one reported.
                if n > 0 && tx.send(std::sync::Arc::clone(&buf)).is_err() {
                    break;
                }
                hasher.update(&buf);
                if n < segment {
                    break;
                }
            }
            drop(tx);
            Ok(hasher.finish())
        });
        let mut chunks: Vec<DigestedChunk> = Vec::new();
        let mut carry: Vec<u8> = Vec::new();
        let mut base = 0u64;
        let mut pending = rx.recv().ok();
        while let Some(seg) = pending.take() {
            let next = rx.recv().ok();
            let mut buf = std::mem::take(&mut carry);
            buf.extend_from_slice(&seg);
            drop(seg);
            let mut found = chunk_and_digest(&cut_params, &buf, function, threads);
            if next.is_some() {
                // The last chunk ends where the segment does, not necessarily at a cut: it starts the next buffer.
                if let Some(last) = found.pop() {
                    carry = buf[last.chunk.range()].to_vec();
                }
            }
            let consumed = found.last().map_or(0, |c| c.chunk.end());
            chunks.extend(found.into_iter().map(|mut c| {
                c.chunk = Chunk { offset: c.chunk.offset + base, length: c.chunk.length };
                c
            }));
            base += consumed;
            pending = next;
        }
        let blob = reader.join().unwrap_or_else(|e| std::panic::resume_unwind(e))?;
        if blob.size_bytes() != base + carry.len() as u64 || !carry.is_empty() {
            return Err(Error::io(path, std::io::Error::other("the file changed size while it was read")));
        }
        Ok(FileDigests { blob, chunks })
    })
}

fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    fn check(len: usize, segment: usize) {
        let params = Params::reapi(1024, 0).expect("valid");
        let data = bytes(len, len as u64 + 1);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        std::fs::write(&path, &data).expect("write");
        let got = chunk_and_digest_path(&params, &path, DigestFunction::Sha256, 2, segment).expect("chunk");
        assert_eq!(
            got.chunks,
            chunk_and_digest(&params, &data, DigestFunction::Sha256, 1),
            "len {len} segment {segment}"
        );
        assert_eq!(got.blob, crate::digest::digest(DigestFunction::Sha256, &data));
    }

    #[test]
    fn empty() {
        check(0, 8192);
    }
    #[test]
    fn below_threshold() {
        check(4096, 8192);
    }
    #[test]
    fn one_segment() {
        check(6000, 8192);
    }
    #[test]
    fn exact_segments() {
        check(3 * 8192, 8192);
    }
    #[test]
    fn many_segments() {
        check(200_001, 8192);
        check(200_001, 4100);
    }
}

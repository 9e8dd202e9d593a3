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

/// A file's digest and its chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileDigests {
    /// The digest of the whole file (`None` when it was not asked for).
    blob: Option<Digest>,
    /// Its chunks in order, with their digests.
    chunks: Vec<DigestedChunk>,
}

/// The bytes read ahead per segment (at least 4 maximum chunks).
const SEGMENT: usize = 8 * 1024 * 1024;

fn segment(params: &Params) -> usize {
    SEGMENT.max(4 * params.max_size() as usize)
}

/// Like [`chunk_and_digest`] on the file's bytes (the same chunks and digests) without holding the file in
/// memory: a thread reads it ahead in segments of 8 MiB (at least four maximum-size chunks) while `threads`
/// threads (0: all cores) cut and digest chunks. Memory stays within about four segments.
pub fn chunk_and_digest_file(
    params: &Params,
    path: impl AsRef<Path>,
    function: DigestFunction,
    threads: usize,
) -> Result<Vec<DigestedChunk>, Error> {
    Ok(chunk_and_digest_path(params, path.as_ref(), function, threads, segment(params), false)?.chunks)
}

/// Chunks and digests a file segment by segment, handing each segment's chunks (in order, with blob offsets)
/// to `emit` as soon as they are cut; `emit` returns `false` to stop early. With `on_blob`, the reading thread
/// hashes the whole file and calls it with the digest as soon as the last byte is read, which is before the
/// last chunks are cut. For files over the chunking threshold only; returns the whole file's digest when asked.
#[cfg_attr(not(feature = "remote"), allow(dead_code))]
pub(crate) fn for_each_segment(
    params: &Params,
    path: &Path,
    function: DigestFunction,
    threads: usize,
    on_blob: Option<&(dyn Fn(Digest) + Sync)>,
    emit: &mut dyn FnMut(Vec<DigestedChunk>) -> bool,
) -> Result<Option<Digest>, Error> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    segments(params, path, file, function, threads, segment(params), on_blob, emit)
}

fn chunk_and_digest_path(
    params: &Params,
    path: &Path,
    function: DigestFunction,
    threads: usize,
    segment: usize,
    whole: bool,
) -> Result<FileDigests, Error> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    if len <= params.chunking_threshold() {
        let mut data = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        file.read_to_end(&mut data).map_err(|e| Error::io(path, e))?;
        let chunks = chunk_and_digest(params, &data, function, threads);
        let blob = whole.then(|| {
            chunks
                .first()
                .filter(|_| chunks.len() == 1)
                .map_or_else(|| crate::digest::digest(function, &data), |c| c.digest)
        });
        return Ok(FileDigests { blob, chunks });
    }
    let mut chunks = Vec::new();
    let hashed = |_: Digest| {};
    let blob = segments(
        params,
        path,
        file,
        function,
        threads,
        segment,
        whole.then_some(&hashed as &(dyn Fn(Digest) + Sync)),
        &mut |found| {
            chunks.extend(found);
            true
        },
    )?;
    Ok(FileDigests { blob, chunks })
}

#[allow(clippy::too_many_arguments)]
fn segments(
    params: &Params,
    path: &Path,
    mut file: std::fs::File,
    function: DigestFunction,
    threads: usize,
    segment: usize,
    on_blob: Option<&(dyn Fn(Digest) + Sync)>,
    emit: &mut dyn FnMut(Vec<DigestedChunk>) -> bool,
) -> Result<Option<Digest>, Error> {
    let whole = on_blob.is_some();
    let cut_params = params.clone().with_chunking_threshold(0);
    // Each buffer keeps `gap` bytes free in front of the segment read into it: the cutting side copies the
    // unfinished last chunk of the previous segment (at most `max` bytes) there, so a segment is never copied.
    let gap = params.max_size() as usize;
    // Segments travel by value with their length and a flag saying whether they are the last, so the cutting
    // side never waits for the next read to learn it. With a whole-file digest asked for, the reader hashes a
    // segment before handing it over, while the cutting side works on the one before.
    let (tx, rx) = mpsc::sync_channel::<(Vec<u8>, usize, bool)>(1);
    // Spent buffers go back to the reader, so it reads into memory that is already mapped.
    let (back_tx, back_rx) = mpsc::channel::<Vec<u8>>();
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || -> Result<(Option<Digest>, u64), Error> {
            let mut hasher = whole.then(|| Hasher::new(function));
            let mut total = 0u64;
            // The first segment is short, so the first chunks (and an upload's first FindMissingBlobs) come out
            // after a fraction of the time a whole segment takes.
            let mut want = (segment / 4).max(gap).min(segment);
            loop {
                let mut buf = back_rx.try_recv().unwrap_or_default();
                buf.resize(gap + want, 0);
                let n = read_full(&mut file, &mut buf[gap..]).map_err(|e| Error::io(path, e))?;
                let last = n < want;
                want = segment;
                total += n as u64;
                if let Some(h) = hasher.as_mut() {
                    h.update(&buf[gap..gap + n]);
                }
                // The consumer may have stopped on an error of its own; its error is the one reported.
                if tx.send((buf, n, last)).is_err() {
                    break;
                }
                if last {
                    break;
                }
            }
            drop(tx);
            let blob = hasher.map(Hasher::finish);
            if let (Some(f), Some(d)) = (on_blob, blob) {
                f(d);
            }
            Ok((blob, total))
        });
        let mut carry: Vec<u8> = Vec::with_capacity(gap);
        let mut base = 0u64;
        while let Ok((mut buf, n, last)) = rx.recv() {
            // A chunk is never longer than `max`, so the carry fits in the gap.
            let Some(start) = gap.checked_sub(carry.len()) else {
                return Err(Error::io(path, std::io::Error::other("a chunk longer than the maximum size")));
            };
            buf[start..gap].copy_from_slice(&carry);
            carry.clear();
            let data = &buf[start..gap + n];
            let mut found = chunk_and_digest(&cut_params, data, function, threads);
            if !last {
                // The last chunk ends where the segment does, not necessarily at a cut: it starts the next buffer.
                if let Some(end) = found.pop() {
                    carry.extend_from_slice(&data[end.chunk.range()]);
                }
            }
            let consumed = found.last().map_or(0, |c| c.chunk.end());
            for c in &mut found {
                c.chunk = Chunk { offset: c.chunk.offset + base, length: c.chunk.length };
            }
            base += consumed;
            let _ = back_tx.send(buf);
            if !emit(found) {
                // Stop reading: dropping the receiver ends the reader at its next send.
                drop(rx);
                let _ = reader.join();
                return Ok(None);
            }
            if last {
                break;
            }
        }
        let (blob, total) = reader.join().unwrap_or_else(|e| std::panic::resume_unwind(e))?;
        if total != base || !carry.is_empty() {
            return Err(Error::io(path, std::io::Error::other("the file changed size while it was read")));
        }
        Ok(blob)
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

    fn check(len: usize, segment: usize) {
        let params = Params::reapi(1024, 0).expect("valid");
        let data = crate::scan::tests::data(len, len as u64 + 1);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        std::fs::write(&path, &data).expect("write");
        let got =
            chunk_and_digest_path(&params, &path, DigestFunction::Sha256, 2, segment, true).expect("chunk");
        let expected = chunk_and_digest(&params, &data, DigestFunction::Sha256, 1);
        assert_eq!(got.chunks, expected, "len {len} segment {segment}");
        assert_eq!(got.blob, Some(crate::digest::digest(DigestFunction::Sha256, &data)));
        let only =
            chunk_and_digest_path(&params, &path, DigestFunction::Sha256, 2, segment, false).expect("chunk");
        assert_eq!((only.blob, only.chunks), (None, expected));
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

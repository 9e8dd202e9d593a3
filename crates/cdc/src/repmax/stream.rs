//! RepMaxCDC over a stream, with a buffer of a small multiple of the window.

use std::{io::Read, path::Path};

use agentry_types::DigestFunction;

use super::{RepMaxParams, scan::Cutter};
use crate::{digest::DigestedChunk, error::Error, scan::Chunk};

/// Cuts a [`Read`] stream into the same chunks [`repmax_chunk`](crate::repmax_chunk) cuts from all of its
/// bytes. A cut depends on at most `2 * min + horizon` bytes past the chunk's start
/// ([`RepMaxParams::window`]); the buffer allocates twice that ([`RepMaxStreamChunker::buffer_bound`]) and
/// never grows. The reader's own buffer comes on top.
#[derive(Debug)]
pub struct RepMaxStreamChunker<R> {
    reader: R,
    cutter: Cutter,
    window: usize,
    buf: Vec<u8>,
    /// Start of the unconsumed bytes in `buf`.
    start: usize,
    /// Stream offset of `buf[start]`.
    offset: u64,
    eof: bool,
}

impl<R: Read> RepMaxStreamChunker<R> {
    /// A chunker over `reader`.
    pub fn new(reader: R, params: &RepMaxParams) -> Self {
        let window = usize::try_from(params.window()).expect("the window is at most 2.5 GiB");
        Self {
            reader,
            cutter: Cutter::new(params),
            window,
            buf: Vec::with_capacity(2 * window),
            start: 0,
            offset: 0,
            eof: false,
        }
    }

    /// The most bytes the internal buffer allocates: `2 * (2 * min + horizon)`.
    pub fn buffer_bound(params: &RepMaxParams) -> u64 {
        2 * params.window()
    }

    /// How many bytes the internal buffer has allocated: at most [`RepMaxStreamChunker::buffer_bound`].
    pub fn buffer_capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Reads until `buf[start..]` holds a window of bytes or the stream ends, within the allocated capacity.
    fn fill(&mut self) -> Result<(), Error> {
        if self.buf.len() - self.start >= self.window || self.eof {
            return Ok(());
        }
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let capacity = self.buf.capacity();
        while self.buf.len() < self.window {
            let len = self.buf.len();
            self.buf.resize(capacity, 0);
            if crate::stream::read_tail(&mut self.reader, &mut self.buf, len, self.offset)? {
                self.eof = true;
                break;
            }
        }
        Ok(())
    }

    /// The next chunk and its bytes, borrowed until the next call; `None` at the end of the stream.
    pub fn next_chunk(&mut self) -> Result<Option<(Chunk, &[u8])>, Error> {
        self.fill()?;
        let view = &self.buf[self.start..];
        let Some(end) = self.cutter.next_cut(self.offset, view, self.offset, self.eof) else {
            return Ok(None);
        };
        let length = end - self.offset;
        let chunk = Chunk { offset: self.offset, length };
        let from = self.start;
        self.start += length as usize;
        self.offset = end;
        Ok(Some((chunk, &self.buf[from..self.start])))
    }
}

/// The RepMaxCDC chunks of a file, read as a stream with bounded memory.
pub fn repmax_chunk_file(params: &RepMaxParams, path: impl AsRef<Path>) -> Result<Vec<Chunk>, Error> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut chunker = RepMaxStreamChunker::new(std::io::BufReader::with_capacity(1 << 20, file), params);
    crate::stream::collect_file_chunks(path, || chunker.next_chunk().map(|next| next.map(|(c, _)| c)))
}

/// The RepMaxCDC chunks of a file with their digests, read as a stream: the calling thread reads and cuts,
/// `threads - 1` workers (0: all available cores) hash, with at most two chunks per worker in flight, so memory
/// stays at the chunker's buffer plus those chunks. The chunks are those of [`repmax_chunk_file`].
pub fn repmax_chunk_and_digest_file(
    params: &RepMaxParams,
    path: impl AsRef<Path>,
    function: DigestFunction,
    threads: usize,
) -> Result<Vec<DigestedChunk>, Error> {
    let path = path.as_ref();
    let threads = crate::parallel::threads_or_all(threads);
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut chunker = RepMaxStreamChunker::new(std::io::BufReader::with_capacity(1 << 20, file), params);
    let read_error = |e| match e {
        Error::Read { source, .. } => Error::io(path, source),
        e => e,
    };
    if threads <= 1 {
        let mut out = Vec::new();
        while let Some((chunk, data)) = chunker.next_chunk().map_err(read_error)? {
            out.push(DigestedChunk { chunk, digest: crate::digest(function, data) });
        }
        return Ok(out);
    }
    let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Chunk, Vec<u8>)>(2 * threads);
    let rx = std::sync::Mutex::new(rx);
    let results = std::sync::Mutex::new(Vec::new());
    let outcome = std::thread::scope(|scope| {
        for _ in 1..threads {
            scope.spawn(|| {
                let mut local = Vec::new();
                loop {
                    let next = rx.lock().map(|r| r.recv());
                    let Ok(Ok((i, chunk, data))) = next else { break };
                    local.push((i, DigestedChunk { chunk, digest: crate::digest(function, &data) }));
                }
                if let Ok(mut all) = results.lock() {
                    all.extend(local);
                }
            });
        }
        let mut i = 0;
        let outcome = loop {
            match chunker.next_chunk() {
                Ok(Some((chunk, data))) => {
                    if tx.send((i, chunk, data.to_vec())).is_err() {
                        break Ok(());
                    }
                    i += 1;
                }
                Ok(None) => break Ok(()),
                Err(e) => break Err(read_error(e)),
            }
        };
        drop(tx);
        outcome
    });
    outcome?;
    let mut all = results.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    all.sort_unstable_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, c)| c).collect())
}

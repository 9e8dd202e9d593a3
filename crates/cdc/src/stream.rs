//! Chunking a stream with bounded memory.

use std::{io::Read, path::Path};

use crate::{
    error::Error,
    params::Params,
    scan::{Chunk, cut},
};

/// Cuts a [`Read`] stream into the same chunks [`chunk`](crate::chunk) would cut from all of its bytes,
/// with a buffer of at most `max(2 * max, threshold + 1)` bytes ([`StreamChunker::buffer_bound`]): `2 * max`
/// in the steady state, or the chunking threshold plus one if that is larger, because a stream is only known
/// to be short enough to stay whole once that much has been read. The reader's own buffer comes on top.
///
/// Use [`StreamChunker::next_chunk`] to borrow each chunk's bytes without copying, or iterate to get owned
/// copies.
#[derive(Debug)]
pub struct StreamChunker<R> {
    reader: R,
    params: Params,
    buf: Vec<u8>,
    /// Start of the unconsumed bytes in `buf`.
    start: usize,
    /// Stream offset of `buf[start]`.
    offset: u64,
    eof: bool,
    /// Whether the stream turned out to be no longer than the threshold (decided on the first chunk).
    whole: Option<bool>,
}

/// A chunk with its bytes, as the iterator of [`StreamChunker`] yields it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkData {
    /// Where the chunk lies in the stream.
    pub chunk: Chunk,
    /// Its bytes.
    pub data: Vec<u8>,
}

impl<R: Read> StreamChunker<R> {
    /// A chunker over `reader`.
    pub fn new(reader: R, params: Params) -> Self {
        let capacity = 2 * params.max_size() as usize;
        Self {
            reader,
            params,
            buf: Vec::with_capacity(capacity),
            start: 0,
            offset: 0,
            eof: false,
            whole: None,
        }
    }

    /// Reads until `buf[start..]` holds `want` bytes (at least `max`) or the stream ends.
    ///
    /// The buffer never holds more than `max(2 * max, want)` bytes, and its allocation grows only with
    /// `reserve_exact` up to that size, so it stays within [`StreamChunker::buffer_bound`]. In the steady state
    /// fewer than `max` bytes are left when it refills, so each refill asks the reader for at least `max` bytes.
    fn fill(&mut self, want: usize) -> Result<(), Error> {
        if self.buf.len() - self.start >= want || self.eof {
            return Ok(());
        }
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let max = self.params.max_size() as usize;
        let target = want.max(max);
        let limit = target.max(2 * max);
        while self.buf.len() < target {
            let len = self.buf.len();
            if len == self.buf.capacity() {
                // Only the threshold peek gets here with a full buffer: grow it geometrically (a huge threshold
                // is read step by step, up to the end of a short stream) but never past `limit`.
                let grown = limit.min(len.saturating_mul(2).max(2 * max));
                self.buf.reserve_exact(grown - len);
            }
            let end = self.buf.capacity().min(limit);
            self.buf.resize(end, 0);
            if read_tail(&mut self.reader, &mut self.buf, len, self.offset)? {
                self.eof = true;
                break;
            }
        }
        Ok(())
    }

    /// How many bytes the internal buffer has allocated: at most [`StreamChunker::buffer_bound`].
    pub fn buffer_capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// The most bytes the internal buffer ever allocates for these parameters.
    pub fn buffer_bound(params: &Params) -> u64 {
        (2 * u64::from(params.max_size())).max(params.chunking_threshold().saturating_add(1))
    }

    /// The next chunk and its bytes, borrowed until the next call; `None` at the end of the stream.
    pub fn next_chunk(&mut self) -> Result<Option<(Chunk, &[u8])>, Error> {
        let threshold = self.params.chunking_threshold();
        if self.whole.is_none() {
            // A stream no longer than the threshold is one chunk: read threshold + 1 bytes to find out.
            self.fill(usize::try_from(threshold).unwrap_or(usize::MAX).saturating_add(1))?;
            self.whole = Some(self.eof && self.buf.len() as u64 <= threshold);
        }
        // A cut depends on the input only through its first `max` bytes (and on whether there are that
        // many), so `max` buffered bytes give exactly the cut the whole input would.
        self.fill(self.params.max_size() as usize)?;
        let rest = &self.buf[self.start..];
        if rest.is_empty() {
            return Ok(None);
        }
        let length = if self.whole == Some(true) { rest.len() } else { cut(&self.params, rest) };
        let chunk = Chunk { offset: self.offset, length: length as u64 };
        let from = self.start;
        self.start += length;
        self.offset += length as u64;
        Ok(Some((chunk, &self.buf[from..from + length])))
    }
}

impl<R: Read> Iterator for StreamChunker<R> {
    type Item = Result<ChunkData, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.next_chunk() {
            Ok(Some((chunk, data))) => Some(Ok(ChunkData { chunk, data: data.to_vec() })),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// The chunks of a file, read as a stream with bounded memory.
pub fn chunk_file(params: &Params, path: impl AsRef<Path>) -> Result<Vec<Chunk>, Error> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut chunker = StreamChunker::new(std::io::BufReader::with_capacity(1 << 20, file), params.clone());
    collect_file_chunks(path, || chunker.next_chunk().map(|next| next.map(|(c, _)| c)))
}

/// Collects the chunks `next` yields from the file at `path`, a read error named by the file.
pub(crate) fn collect_file_chunks(
    path: &Path,
    mut next: impl FnMut() -> Result<Option<Chunk>, Error>,
) -> Result<Vec<Chunk>, Error> {
    let mut out = Vec::new();
    loop {
        match next() {
            Ok(Some(c)) => out.push(c),
            Ok(None) => return Ok(out),
            Err(Error::Read { source, .. }) => return Err(Error::io(path, source)),
            Err(e) => return Err(e),
        }
    }
}

/// Reads once into `buf[len..]` (the caller sized `buf` to what may be read) and truncates `buf` to the bytes it
/// then holds; returns whether the reader is at its end. `offset` is the stream offset of `buf[0]`, for the
/// error. An interrupted read reads nothing and is not an error.
pub(crate) fn read_tail(
    reader: &mut impl Read,
    buf: &mut Vec<u8>,
    len: usize,
    offset: u64,
) -> Result<bool, Error> {
    let result = reader.read(&mut buf[len..]);
    let (kept, eof) = match &result {
        Ok(0) => (len, true),
        Ok(n) => (len + n, false),
        Err(_) => (len, false),
    };
    buf.truncate(kept);
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::Interrupted => {
            Err(Error::Read { offset: offset + len as u64, source: e })
        }
        _ => Ok(eof),
    }
}

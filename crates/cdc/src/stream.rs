//! Chunking a stream with bounded memory.

use std::{io::Read, path::Path};

use crate::{
    error::Error,
    params::Params,
    scan::{Chunk, cut},
};

/// Cuts a [`Read`] stream into the same chunks [`chunk`](crate::chunk) would cut from all of its bytes,
/// holding at most about `2 * max` bytes in memory (or the chunking threshold plus one, if that is larger:
/// a stream is only known to be short enough to stay whole once that much has been read).
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

    /// Reads until `buf[start..]` holds `want` bytes or the stream ends.
    fn fill(&mut self, want: usize) -> Result<(), Error> {
        if self.buf.len() - self.start >= want || self.eof {
            return Ok(());
        }
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let target = want.max(self.params.max_size() as usize);
        while self.buf.len() < target {
            let len = self.buf.len();
            self.buf.resize(len + (target - len).clamp(64 * 1024, 1 << 20), 0);
            match self.reader.read(&mut self.buf[len..]) {
                Ok(0) => {
                    self.buf.truncate(len);
                    self.eof = true;
                    break;
                }
                Ok(n) => self.buf.truncate(len + n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => self.buf.truncate(len),
                Err(e) => {
                    self.buf.truncate(len);
                    return Err(Error::Read { offset: self.offset + len as u64, source: e });
                }
            }
        }
        Ok(())
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
    let mut out = Vec::new();
    loop {
        match chunker.next_chunk() {
            Ok(Some((c, _))) => out.push(c),
            Ok(None) => return Ok(out),
            Err(Error::Read { source, .. }) => return Err(Error::io(path, source)),
            Err(e) => return Err(e),
        }
    }
}

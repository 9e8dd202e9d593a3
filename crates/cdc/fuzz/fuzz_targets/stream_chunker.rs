//! The streaming chunker on arbitrary input, read in arbitrary pieces, must give exactly the chunks of the
//! slice chunker, with the right bytes, and never panic.
#![no_main]

use std::io::Read;

use agentry_cdc::{Params, StreamChunker, chunk};
use libfuzzer_sys::fuzz_target;

struct Pieces<'a> {
    data: &'a [u8],
    sizes: &'a [u8],
    i: usize,
}

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let size =
            self.sizes.get(self.i % self.sizes.len().max(1)).map_or(4096, |&s| usize::from(s) * 97 + 1);
        self.i += 1;
        let n = size.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&control, rest)) = input.split_first() else { return };
    let (sizes, data) = rest.split_at(rest.len().min(16));
    // Small REAPI averages so that short inputs still produce many chunks.
    let Ok(params) = Params::reapi(1024 << (control % 3), u64::from(control)) else { return };
    let params = if control & 0x80 != 0 { params.with_chunking_threshold(0) } else { params };
    let mut stream = StreamChunker::new(Pieces { data, sizes, i: 0 }, params.clone());
    let mut got = Vec::new();
    while let Some((c, bytes)) = stream.next_chunk().expect("in-memory reads do not fail") {
        assert_eq!(bytes, &data[c.range()]);
        got.push(c);
    }
    assert_eq!(got, chunk(&params, data));
});

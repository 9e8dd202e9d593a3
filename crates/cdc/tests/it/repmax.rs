//! RepMaxCDC: the reference implementation's cut points (tests/data/repmax_vectors.txt), and every way of
//! chunking (slice, iterator, stream, file, threads, chunk and digest) giving the same cut points.

use super::{Trickle, proptest_config};
use agentry_cdc::{
    Chunk, Error, RepMaxParams, RepMaxStreamChunker, digest, repmax_chunk, repmax_chunk_and_digest,
    repmax_chunk_and_digest_file, repmax_chunk_file, repmax_chunk_parallel, repmax_chunks,
};
use agentry_types::DigestFunction;
use proptest::prelude::*;

const VECTORS: &str = include_str!("../data/repmax_vectors.txt");

/// The bytes a vector line names.
fn source(spec: &str) -> Vec<u8> {
    let parts: Vec<&str> = spec.split(':').collect();
    let num = |i: usize| parts[i].parse::<usize>().expect("number");
    match parts[0] {
        "file" => std::fs::read(format!("{}/{}", env!("CARGO_MANIFEST_DIR"), parts[1])).expect("read"),
        "random" => crate::random(num(1), num(2) as u64),
        "zeros" => vec![0; num(1)],
        "period" => (0..num(1)).map(|i| (i % num(2)) as u8).collect(),
        other => panic!("unknown source {other}"),
    }
}

fn lengths(chunks: &[Chunk]) -> Vec<u64> {
    chunks.iter().map(|c| c.length).collect()
}

#[test]
fn reference_vectors() {
    let mut lines = 0;
    for line in VECTORS.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let fields: Vec<&str> = line.split(' ').collect();
        let (name, data) = (fields[0], source(fields[1]));
        let params = RepMaxParams::new(fields[2].parse().expect("min"), fields[3].parse().expect("horizon"))
            .expect("valid");
        let want: Vec<u64> = fields[4..].iter().map(|l| l.parse().expect("length")).collect();
        assert_eq!(lengths(&repmax_chunk(&params, &data)), want, "{name}");
        assert_eq!(lengths(&every_way(&params, &data)), want, "{name}");
        lines += 1;
    }
    assert_eq!(lines, 16);
}

/// Chunks `data` every way there is, asserts they agree with the slice chunker, and returns the chunks.
fn every_way(params: &RepMaxParams, data: &[u8]) -> Vec<Chunk> {
    let expected = repmax_chunk(params, data);
    assert_eq!(repmax_chunks(params, data).collect::<Vec<_>>(), expected, "iterator");
    for threads in [2, 3] {
        assert_eq!(repmax_chunk_parallel(params, data, threads), expected, "{threads} threads");
    }
    let digested = repmax_chunk_and_digest(params, data, DigestFunction::Sha256, 2);
    assert_eq!(digested.iter().map(|d| d.chunk).collect::<Vec<_>>(), expected, "chunk_and_digest");
    for d in digested.iter().take(3) {
        assert_eq!(d.digest, digest(DigestFunction::Sha256, &data[d.chunk.range()]));
    }
    let bound = RepMaxStreamChunker::<&[u8]>::buffer_bound(params) as usize;
    let mut stream =
        RepMaxStreamChunker::new(Trickle { data, state: data.len() as u64, most: 9_000 }, params);
    let mut streamed = Vec::new();
    while let Some((chunk, bytes)) = stream.next_chunk().expect("no read errors") {
        assert_eq!(bytes, &data[chunk.range()]);
        streamed.push(chunk);
        assert!(stream.buffer_capacity() <= bound, "buffer {} over {bound}", stream.buffer_capacity());
    }
    assert_eq!(streamed, expected, "stream");
    expected
}

#[test]
fn file_equals_slice() {
    let params = RepMaxParams::new(4096, 32768).expect("valid");
    let data = crate::random(2 << 20, 21);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("blob");
    std::fs::write(&path, &data).expect("write");
    assert_eq!(repmax_chunk_file(&params, &path).expect("chunk file"), repmax_chunk(&params, &data));
    for threads in [1, 2, 3] {
        assert_eq!(
            repmax_chunk_and_digest_file(&params, &path, DigestFunction::Sha256, threads)
                .expect("chunk file"),
            repmax_chunk_and_digest(&params, &data, DigestFunction::Sha256, 1),
            "{threads} threads"
        );
    }
}
#[test]
fn missing_file_is_an_error_naming_it() {
    let params = RepMaxParams::new(4096, 0).expect("valid");
    let err = repmax_chunk_file(&params, "/nonexistent/blob").expect_err("missing");
    assert!(matches!(err, Error::Io { .. }) && err.to_string().contains("/nonexistent/blob"), "{err}");
}
#[test]
fn invalid_params_name_the_value() {
    let err = RepMaxParams::new(32, 100).expect_err("too small");
    assert!(err.to_string().contains("min_chunk_size_bytes 32"), "{err}");
}

/// Random bytes with low-entropy stretches (runs of one byte, short periods).
fn blob(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        match x % 97 {
            0 => out.extend(std::iter::repeat_n(
                (x >> 8) as u8,
                ((x >> 20) as usize % 3000).min(len - out.len()),
            )),
            1 => out.extend((0..((x >> 20) as usize % 3000).min(len - out.len())).map(|i| (i % 5) as u8)),
            _ => out.push(x as u8),
        }
    }
    out
}

proptest! {
    #![proptest_config(proptest_config())]

    #[test]
    fn every_way_agrees(min in 64u64..600, horizon_mul in 0u64..12, extra in 0u64..300, len in 0usize..60_000, seed: u64) {
        let params = RepMaxParams::new(min, min * horizon_mul + extra).expect("valid");
        let data = blob(len, seed);
        let chunks = every_way(&params, &data);
        // Tiling, and every chunk in [min, 2 min) unless the whole input is shorter than 2 min.
        prop_assert_eq!(chunks.iter().map(|c| c.length).sum::<u64>(), data.len() as u64);
        for c in &chunks {
            prop_assert!(c.length < 2 * min || chunks.len() == 1);
            prop_assert!(c.length >= min || chunks.len() == 1);
        }
    }
}

//! Chunk digests: known answers for SHA-256 and BLAKE3, and `chunk_and_digest` on threads equal to the serial path.

use agentry_cdc::{Chunk, DigestedChunk, Params, chunk, chunk_and_digest, digest};
use agentry_types::DigestFunction;

/// The BLAKE3 test vectors' input: the bytes 0, 1, ..., 250 repeated.
fn blake3_input(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

fn check_known(function: DigestFunction, data: &[u8], hex: &str) {
    let d = digest(function, data);
    assert_eq!((d.function(), d.hash_hex(), d.size_bytes()), (function, hex.to_owned(), data.len() as u64));
}

// From BLAKE3-team/BLAKE3 `test_vectors/test_vectors.json` (the first 32 bytes of the extended "hash" outputs).
#[test]
fn blake3_empty() {
    check_known(
        DigestFunction::Blake3,
        b"",
        "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
    );
}
#[test]
fn blake3_one_byte() {
    check_known(
        DigestFunction::Blake3,
        &blake3_input(1),
        "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213",
    );
}
#[test]
fn blake3_one_chunk() {
    check_known(
        DigestFunction::Blake3,
        &blake3_input(1024),
        "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7",
    );
}
#[test]
fn blake3_two_chunks() {
    check_known(
        DigestFunction::Blake3,
        &blake3_input(1025),
        "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444",
    );
}
#[test]
fn blake3_several_chunks() {
    check_known(
        DigestFunction::Blake3,
        &blake3_input(5121),
        "628bd2cb2004694adaab7bbd778a25df25c47b9d4155a55f8fbd79f2fe154cff",
    );
}
// FIPS 180-2 appendix B.1.
#[test]
fn sha256_abc() {
    check_known(
        DigestFunction::Sha256,
        b"abc",
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
}

/// A blob at most the chunking threshold long is one chunk, so its chunk digest is the blob's known answer.
#[test]
fn blake3_known_answer_through_chunk_and_digest() {
    let params = Params::reapi(1024, 0).expect("valid");
    let got = chunk_and_digest(&params, &blake3_input(1025), DigestFunction::Blake3, 1);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].chunk, Chunk { offset: 0, length: 1025 });
    assert_eq!(got[0].digest.hash_hex(), "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444");
}

/// `chunk_and_digest` on 1, 2 and 3 threads (and all cores) equals chunking and then digesting each chunk
/// serially. An explicit thread count above 1 takes the threaded path even on a one-core machine, as long as
/// the data is at least two maximum chunks long, which every input here is.
fn check_threads(params: &Params, data: &[u8], function: DigestFunction) {
    assert!(data.len() >= 2 * params.max_size() as usize, "too short for the threaded path");
    let serial: Vec<DigestedChunk> = chunk(params, data)
        .into_iter()
        .map(|c| DigestedChunk { chunk: c, digest: digest(function, &data[c.range()]) })
        .collect();
    assert!(serial.len() > 10, "{} chunks", serial.len());
    for threads in [1, 2, 3, 0] {
        assert_eq!(chunk_and_digest(params, data, function, threads), serial, "{threads} threads");
    }
}

#[test]
fn threads_equal_serial_sha256() {
    check_threads(
        &Params::reapi(4096, 0).expect("valid"),
        &crate::random(1 << 20, 3),
        DigestFunction::Sha256,
    );
}
#[test]
fn threads_equal_serial_blake3() {
    check_threads(
        &Params::reapi(4096, 666).expect("valid"),
        &crate::random(1 << 20, 4),
        DigestFunction::Blake3,
    );
}
#[test]
fn threads_equal_serial_with_repeated_chunks() {
    // Zeros give identical max-size chunks: the result must keep every one, in order.
    let mut data = vec![0u8; 300_000];
    data.extend_from_slice(&crate::random(300_000, 5));
    check_threads(&Params::reapi(1024, 0).expect("valid"), &data, DigestFunction::Sha256);
}

//! The streaming chunker and `chunk_file`.

use super::Trickle;
use agentry_cdc::{Error, Params, StreamChunker, chunk, chunk_file};

const IMAGE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/SekienAkashita.jpg");

/// `chunk_file` on a file with `data` equals `chunk` on `data`.
fn check_file(params: &Params, data: &[u8]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("blob");
    std::fs::write(&path, data).expect("write");
    let got = chunk_file(params, &path).expect("chunk_file");
    assert_eq!(got, chunk(params, data));
}

#[test]
fn file_equals_slice_image_vectors() {
    let params = Params::custom(4096, 16384, 65534, 0).expect("valid").with_chunking_threshold(0);
    let data = std::fs::read(IMAGE).expect("read image");
    check_file(&params, &data);
    let offsets: Vec<u64> =
        chunk_file(&params, IMAGE).expect("chunk_file").iter().map(|c| c.offset).collect();
    assert_eq!(offsets, [0, 19186, 38465, 55819, 72206, 92146]);
}
#[test]
fn file_equals_slice_random() {
    check_file(&Params::reapi(1024, 0).expect("valid"), &crate::random(3 << 20, 9));
}
#[test]
fn file_equals_slice_below_threshold() {
    check_file(&Params::reapi(4096, 0).expect("valid"), &crate::random(16 * 1024, 10));
}
#[test]
fn file_equals_slice_empty() {
    check_file(&Params::reapi(1024, 0).expect("valid"), &[]);
}
#[test]
fn missing_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("does-not-exist");
    let err = chunk_file(&Params::reapi(1024, 0).expect("valid"), &path).expect_err("missing file");
    assert!(
        matches!(&err, Error::Io { path: p, source } if *p == path && source.kind() == std::io::ErrorKind::NotFound),
        "{err:?}"
    );
    assert!(err.to_string().contains("does-not-exist"), "{err}");
}

/// Streams `data` through reads of at most `most` bytes and checks, after every chunk, that the buffer stays
/// within `max(2 * max, threshold + 1)` bytes, and that the chunks are right.
fn check_bound(params: &Params, data: &[u8], most: usize) {
    let bound = StreamChunker::<&[u8]>::buffer_bound(params);
    assert_eq!(bound, (2 * u64::from(params.max_size())).max(params.chunking_threshold() + 1));
    let mut stream = StreamChunker::new(Trickle { data, state: 1, most }, params.clone());
    let mut got = Vec::new();
    let mut peak = 0;
    while let Some((c, _)) = stream.next_chunk().expect("in-memory reads do not fail") {
        got.push(c);
        peak = peak.max(stream.buffer_capacity());
    }
    assert!(peak as u64 <= bound, "buffer grew to {peak} bytes, bound {bound}");
    assert_eq!(got, chunk(params, data));
}

#[test]
fn buffer_within_bound_small_max() {
    check_bound(&Params::reapi(1024, 0).expect("valid"), &crate::random(1 << 20, 11), 1 << 20);
}
#[test]
fn buffer_within_bound_short_reads() {
    check_bound(&Params::reapi(1024, 0).expect("valid"), &crate::random(1 << 20, 12), 700);
}
#[test]
fn buffer_within_bound_default_avg() {
    check_bound(&Params::reapi(512 * 1024, 0).expect("valid"), &crate::random(9 << 20, 13), 3 << 20);
}
#[test]
fn buffer_within_bound_large_threshold() {
    // BuildBuddy's threshold (2 MiB) above 2 * max (32 KiB): the first chunk needs threshold + 1 bytes.
    let params = Params::reapi(4096, 0).expect("valid").with_chunking_threshold(2 << 20);
    check_bound(&params, &crate::random(5 << 20, 14), 1 << 20);
}
#[test]
fn buffer_within_bound_stream_below_large_threshold() {
    let params = Params::reapi(4096, 0).expect("valid").with_chunking_threshold(2 << 20);
    check_bound(&params, &crate::random(1 << 20, 15), 100_000);
}
#[test]
fn buffer_within_bound_threshold_zero() {
    check_bound(
        &Params::reapi(2048, 0).expect("valid").with_chunking_threshold(0),
        &crate::random(1 << 20, 16),
        50_000,
    );
}

#[test]
fn chunk_and_digest_file_equals_the_slice_path() {
    // 20 MB at REAPI's default 512 KiB average: three 8 MiB read-ahead segments; and a small average whose
    // segments hold many chunks.
    for (len, avg, seed) in [(20_000_000usize, 512 * 1024, 3u64), (9_000_001, 4096, 4), (100, 4096, 5)] {
        let params = agentry_cdc::Params::reapi(avg, 0).expect("valid");
        let data = crate::random(len, seed);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        std::fs::write(&path, &data).expect("write");
        for function in [agentry_types::DigestFunction::Sha256, agentry_types::DigestFunction::Blake3] {
            let got = agentry_cdc::chunk_and_digest_file(&params, &path, function, 0).expect("chunk file");
            assert_eq!(
                got,
                agentry_cdc::chunk_and_digest(&params, &data, function, 1),
                "len {len} avg {avg}"
            );
        }
    }
}

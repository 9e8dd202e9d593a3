//! The streaming chunker and `chunk_file`.

use agentry_cdc::{Error, Params, chunk, chunk_file};

const IMAGE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/SekienAkashita.jpg");

fn random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

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
    check_file(&Params::reapi(1024, 0).expect("valid"), &random(3 << 20, 9));
}
#[test]
fn file_equals_slice_below_threshold() {
    check_file(&Params::reapi(4096, 0).expect("valid"), &random(16 * 1024, 10));
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

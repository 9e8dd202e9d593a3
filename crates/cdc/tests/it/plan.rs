//! Transfer plans and the store's split/splice through them.

use agentry_cdc::{ChunkStore, Error, FsStore, MemStore, Params, download_plan, upload_plan};
use agentry_types::DigestFunction;

fn params() -> Params {
    Params::reapi(4096, 0).expect("valid")
}

#[test]
fn second_upload_of_an_edited_blob_sends_little() {
    let store = MemStore::new(DigestFunction::Sha256, params());
    let v1 = crate::random(1 << 20, 1);
    let mut v2 = v1.clone();
    v2.splice(500_000..500_000, b"an insertion in the middle".iter().copied());

    let first = upload_plan(&store, &v1).expect("plan");
    assert_eq!(first.stats.bytes_to_transfer, v1.len() as u64);
    first.execute(&store, &v1).expect("upload");
    assert_eq!(store.get(&first.blob).expect("get"), Some(v1.clone()));

    let second = upload_plan(&store, &v2).expect("plan");
    let s = second.stats;
    assert_eq!(s.bytes_total, v2.len() as u64);
    assert_eq!(s.bytes_deduplicated + s.bytes_to_transfer, s.bytes_total);
    assert_eq!(s.chunks_new + s.chunks_reused, s.chunks_total);
    assert!(
        s.bytes_to_transfer < 8 * 16 * 1024,
        "sent {} bytes for a 26-byte insertion",
        s.bytes_to_transfer
    );
    second.execute(&store, &v2).expect("upload");
    assert_eq!(store.get(&second.blob).expect("get"), Some(v2));
}

#[test]
fn download_fetches_only_missing_chunks() {
    let remote_dir = tempfile::tempdir().expect("tempdir");
    let local_dir = tempfile::tempdir().expect("tempdir");
    let remote = FsStore::open(remote_dir.path(), DigestFunction::Blake3, params()).expect("open");
    let local = FsStore::open(local_dir.path(), DigestFunction::Blake3, params()).expect("open");
    let v1 = crate::random(600_000, 2);
    let mut v2 = v1.clone();
    v2.truncate(550_000);
    v2.extend_from_slice(&crate::random(30_000, 3));
    for v in [&v1, &v2] {
        upload_plan(&remote, v).and_then(|p| p.execute(&remote, v)).expect("upload");
    }
    let b1 = agentry_cdc::digest(DigestFunction::Blake3, &v1);
    let b2 = agentry_cdc::digest(DigestFunction::Blake3, &v2);
    let p1 = download_plan(&remote, &b1, &local).expect("plan");
    assert_eq!(p1.stats.bytes_deduplicated, 0);
    p1.execute(&remote, &local).expect("download");
    let p2 = download_plan(&remote, &b2, &local).expect("plan");
    assert!(p2.stats.bytes_to_transfer < 100_000, "{:?}", p2.stats);
    p2.execute(&remote, &local).expect("download");
    assert_eq!(local.get(&b2).expect("get"), Some(v2));
    assert_eq!(local.find_missing(&[b1, b2]).expect("find"), vec![]);
}

/// Executes a plan made for one blob with other bytes: a typed error, and the store stays as it was.
fn check_execute_with(data: &[u8], other: &[u8], expected_actual: u64) {
    let store = MemStore::new(DigestFunction::Sha256, params());
    let plan = upload_plan(&store, data).expect("plan");
    let result = plan.execute(&store, other);
    assert!(
        matches!(&result, Err(Error::PlanDataMismatch { blob, actual }) if *blob == plan.blob && *actual == expected_actual),
        "{result:?}"
    );
    assert_eq!(store.usage(), (0, 0), "nothing was stored");
    assert_eq!(store.get(&plan.blob).expect("get"), None);
}

#[test]
fn execute_with_shorter_data_is_an_error() {
    let v = crate::random(100_000, 4);
    check_execute_with(&v, &v[..60_000], 60_000);
}
#[test]
fn execute_with_empty_data_is_an_error() {
    check_execute_with(&crate::random(100_000, 5), &[], 0);
}
#[test]
fn execute_with_longer_data_is_an_error() {
    let v = crate::random(100_000, 6);
    let mut longer = v.clone();
    longer.extend_from_slice(b"tail");
    check_execute_with(&v, &longer, 100_004);
}
#[test]
fn execute_with_a_chunk_outside_the_data_is_an_error() {
    let store = MemStore::new(DigestFunction::Sha256, params());
    let v = crate::random(100_000, 7);
    let mut plan = upload_plan(&store, &v).expect("plan");
    plan.missing[1].chunk.offset = u64::MAX - 10;
    assert!(matches!(plan.execute(&store, &v), Err(Error::PlanDataMismatch { actual: 100_000, .. })));
    assert_eq!(store.usage(), (0, 0), "nothing was stored");
}

//! `agentry-cdc` against the `fastcdc` crate (v2020, normalization level 2, the REAPI configuration).
//!
//! Groups: `cdc/scan-<avg>` (cut points only; same data, same cut points, checked before timing),
//! `cdc/chunk-sha256` and `cdc/chunk-blake3` (cut points and one digest per chunk, ours on all cores against
//! a serial fastcdc + sha2/blake3 loop, with plain whole-buffer hashing as the ceiling).

use std::hint::black_box;

use agentry_benches::cdc::random_blob;
use agentry_cdc::{Params, chunk, chunk_and_digest};
use agentry_types::DigestFunction;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fastcdc::v2020::{FastCDC, Normalization};
use sha2::Digest as _;

fn corpus_len() -> usize {
    if agentry_benches::quick() { 32 << 20 } else { 128 << 20 }
}

fn fastcdc_iter(p: &Params, data: &[u8]) -> impl Iterator<Item = fastcdc::v2020::Chunk> {
    FastCDC::with_level_and_seed(
        data,
        p.min_size() as usize,
        p.avg_size() as usize,
        p.max_size() as usize,
        Normalization::Level2,
        p.seed(),
    )
}

fn scan(c: &mut Criterion) {
    let data = random_blob(1, corpus_len());
    for avg in [64 * 1024, 512 * 1024] {
        let p = Params::reapi(avg, 0).expect("valid").with_chunking_threshold(0);
        let ours: Vec<(u64, u64)> = chunk(&p, &data).iter().map(|c| (c.offset, c.length)).collect();
        let theirs: Vec<(u64, u64)> =
            fastcdc_iter(&p, &data).map(|c| (c.offset as u64, c.length as u64)).collect();
        assert_eq!(ours, theirs, "cut points differ at avg {avg}");
        let mut g = c.benchmark_group(format!("cdc/scan-{}k", avg / 1024));
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.sample_size(10);
        g.bench_function("agentry", |b| b.iter(|| black_box(chunk(&p, &data)).len()));
        g.bench_function("anchor-fastcdc-v2020", |b| b.iter(|| fastcdc_iter(&p, &data).count()));
        g.finish();
    }
}

fn chunk_digest(c: &mut Criterion) {
    let data = random_blob(2, corpus_len());
    let p = Params::reapi(512 * 1024, 0).expect("valid").with_chunking_threshold(0);
    for function in [DigestFunction::Sha256, DigestFunction::Blake3] {
        let mut g = c.benchmark_group(format!("cdc/chunk-{function}"));
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.sample_size(10);
        g.bench_function("agentry", |b| b.iter(|| chunk_and_digest(&p, &data, function, 0).len()));
        g.bench_function("agentry-1-thread", |b| b.iter(|| chunk_and_digest(&p, &data, function, 1).len()));
        g.bench_function(
            format!("anchor-fastcdc-{}", if function == DigestFunction::Sha256 { "sha2" } else { "blake3" }),
            |b| {
                b.iter(|| match function {
                    DigestFunction::Sha256 => fastcdc_iter(&p, &data)
                        .map(|c| sha2::Sha256::digest(&data[c.offset..c.offset + c.length])[0] as usize)
                        .sum::<usize>(),
                    _ => fastcdc_iter(&p, &data)
                        .map(|c| blake3::hash(&data[c.offset..c.offset + c.length]).as_bytes()[0] as usize)
                        .sum::<usize>(),
                })
            },
        );
        g.bench_function("anchor-whole-buffer-hash-1-thread", |b| {
            b.iter(|| match function {
                DigestFunction::Sha256 => sha2::Sha256::digest(&data)[0],
                _ => blake3::hash(&data).as_bytes()[0],
            })
        });
        g.finish();
    }
}

criterion_group!(benches, scan, chunk_digest);
criterion_main!(benches);

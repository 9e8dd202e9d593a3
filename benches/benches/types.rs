//! `agentry-types`: parsing and formatting of the shared vocabulary.
//!
//! The anchors are the nearest standard-library operation on the same text: `u64` parsing for token counts
//! and hex decoding by `u8::from_str_radix` for digests, so the ratio shows what our validation costs.

use std::hint::black_box;

use agentry_benches::types::{digest_texts, money_texts, timestamp_texts};
use agentry_types::{Digest, Timestamp, Usd};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const N: usize = 1000;

fn std_hex_digest(text: &str) -> Option<([u8; 32], u64)> {
    let (hex, size) = text.split_once('/')?;
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some((out, size.parse().ok()?))
}

fn digest(c: &mut Criterion) {
    let texts = digest_texts(1, N);
    let bytes: usize = texts.iter().map(String::len).sum();
    let mut g = c.benchmark_group("types/digest-parse");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("agentry", |b| {
        b.iter(|| texts.iter().filter(|t| black_box(t.parse::<Digest>()).is_ok()).count())
    });
    g.bench_function("anchor-std-from-str-radix", |b| {
        b.iter(|| texts.iter().filter(|t| black_box(std_hex_digest(t)).is_some()).count())
    });
    g.finish();

    let digests: Vec<Digest> = texts.iter().map(|t| t.parse().expect("corpus is valid")).collect();
    let mut g = c.benchmark_group("types/digest-format");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("agentry", |b| {
        b.iter(|| digests.iter().map(|d| black_box(d.to_string()).len()).sum::<usize>())
    });
    g.bench_function("anchor-std-format", |b| {
        b.iter(|| {
            digests
                .iter()
                .map(|d| {
                    let hex: String = d.hash().iter().map(|b| format!("{b:02x}")).collect();
                    black_box(format!("{hex}/{}", d.size_bytes())).len()
                })
                .sum::<usize>()
        })
    });
    g.finish();
}

fn timestamp(c: &mut Criterion) {
    let texts = timestamp_texts(2, N);
    let bytes: usize = texts.iter().map(String::len).sum();
    let mut g = c.benchmark_group("types/timestamp-parse");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("agentry", |b| {
        b.iter(|| texts.iter().filter(|t| black_box(t.parse::<Timestamp>()).is_ok()).count())
    });
    g.finish();
}

fn money(c: &mut Criterion) {
    let texts = money_texts(3, N);
    let bytes: usize = texts.iter().map(String::len).sum();
    let mut g = c.benchmark_group("types/money-parse");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("agentry", |b| {
        b.iter(|| texts.iter().filter(|t| black_box(t.parse::<Usd>()).is_ok()).count())
    });
    g.bench_function("anchor-std-f64", |b| {
        b.iter(|| texts.iter().filter(|t| black_box(t.parse::<f64>()).is_ok()).count())
    });
    g.finish();
}

criterion_group!(benches, digest, timestamp, money);
criterion_main!(benches);

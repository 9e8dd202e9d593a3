//! Property tests: tiling, determinism, equality with the fastcdc crate's v2020 at normalization level 2, and
//! the local effect of an insertion. The case count comes from `PROPTEST_CASES` (default 64).

use super::{Trickle, proptest_config};
use agentry_cdc::{Chunk, Params, StreamChunker, chunk, chunk_parallel};
use fastcdc::v2020::{FastCDC, Normalization};
use proptest::prelude::*;

/// Pseudo-random bytes with runs, so that both random regions and low-entropy regions (forced max cuts) occur.
fn blob(len: usize, seed: u64, run_every: usize) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if run_every > 0 && (x as usize).is_multiple_of(run_every) {
            let run = (x >> 20) as usize % 3000;
            out.extend(std::iter::repeat_n((x >> 8) as u8, run.min(len - out.len())));
        } else {
            out.push(x as u8);
        }
    }
    out
}

fn fastcdc_chunks(min: u32, avg: u32, max: u32, seed: u64, data: &[u8]) -> Vec<Chunk> {
    FastCDC::with_level_and_seed(data, min as usize, avg as usize, max as usize, Normalization::Level2, seed)
        .map(|c| Chunk { offset: c.offset as u64, length: c.length as u64 })
        .collect()
}

fn sizes() -> impl Strategy<Value = (u32, u32, u32)> {
    prop_oneof![
        (10u32..=14).prop_map(|b| (1 << b >> 2, 1 << b, 1 << b << 2)),
        // fastcdc asserts max >= 1024, avg <= 4 MiB and min <= 1 MiB.
        (32u32..2048, 1u32..4, 1u32..8).prop_map(|(min, a, m)| {
            let min = min * 2;
            let avg = (min * a).max(256);
            (min, avg, (avg * m).max(1024))
        }),
    ]
}

proptest! {
    #![proptest_config(proptest_config())]

    #[test]
    fn equals_fastcdc_v2020_level2(
        (min, avg, max) in sizes(),
        seed in prop_oneof![Just(0u64), Just(666u64), any::<u64>()],
        len in 0usize..400_000,
        data_seed in any::<u64>(),
        run_every in prop_oneof![Just(0usize), 50usize..5000],
    ) {
        let data = blob(len, data_seed, run_every);
        let params = Params::custom(min, avg, max, seed).expect("valid sizes").with_chunking_threshold(0);
        prop_assert_eq!(chunk(&params, &data), fastcdc_chunks(min, avg, max, seed, &data));
    }

    #[test]
    fn parallel_equals_serial(
        (min, avg, max) in sizes(),
        seed in prop_oneof![Just(0u64), any::<u64>()],
        len in 0usize..600_000,
        data_seed in any::<u64>(),
        run_every in prop_oneof![Just(0usize), 50usize..5000],
        threads in 2usize..5,
    ) {
        let data = blob(len, data_seed, run_every);
        let params = Params::custom(min, avg, max, seed).expect("valid sizes").with_chunking_threshold(0);
        prop_assert_eq!(chunk_parallel(&params, &data, threads), chunk(&params, &data));
    }

    #[test]
    fn stream_equals_slice(
        avg_log in 10u32..=14,
        threshold in prop_oneof![Just(None), Just(Some(0u64)), (0u64..200_000).prop_map(Some)],
        len in 0usize..300_000,
        data_seed in any::<u64>(),
        read_seed in any::<u64>(),
    ) {
        let mut params = Params::reapi(1 << avg_log, 7).expect("valid");
        if let Some(t) = threshold {
            params = params.with_chunking_threshold(t);
        }
        let data = blob(len, data_seed, 300);
        let mut stream = StreamChunker::new(Trickle { data: &data, state: read_seed, most: 70_000 }, params.clone());
        let mut got = Vec::new();
        while let Some((c, bytes)) = stream.next_chunk().expect("in-memory reads do not fail") {
            prop_assert_eq!(bytes, &data[c.range()]);
            got.push(c);
        }
        prop_assert_eq!(got, chunk(&params, &data));
    }

    #[test]
    fn chunks_tile_the_input(avg_log in 10u32..=14, len in 0usize..300_000, data_seed in any::<u64>()) {
        let params = Params::reapi(1 << avg_log, 0).expect("valid");
        let data = blob(len, data_seed, 500);
        let chunks = chunk(&params, &data);
        let mut offset = 0;
        for (i, c) in chunks.iter().enumerate() {
            prop_assert_eq!(c.offset, offset);
            prop_assert!(c.length > 0);
            prop_assert!(c.length <= u64::from(params.max_size()));
            if i + 1 < chunks.len() {
                prop_assert!(c.length >= u64::from(params.min_size()));
            }
            offset += c.length;
        }
        prop_assert_eq!(offset, len as u64);
        prop_assert_eq!(chunks, chunk(&params, &data), "deterministic");
    }

    #[test]
    fn insertion_changes_only_nearby_chunks(
        len in 200_000usize..400_000,
        data_seed in any::<u64>(),
        at_fraction in 0.0f64..1.0,
        insert in proptest::collection::vec(any::<u8>(), 1..100),
    ) {
        let params = Params::reapi(4096, 0).expect("valid");
        let data = blob(len, data_seed, 0);
        let at = (len as f64 * at_fraction) as usize;
        let mut edited = data[..at].to_vec();
        edited.extend_from_slice(&insert);
        edited.extend_from_slice(&data[at..]);
        let before = chunk(&params, &data);
        let after = chunk(&params, &edited);
        // Chunks ending before the insertion are unchanged; after it, the chunking resynchronizes, so every
        // chunk that starts more than a few maximum chunk lengths after the edit reappears, shifted by the
        // insertion's length. A chunk that ends exactly at the insertion point may change: FastCDC 2020 decides
        // a cut at offset e from a hash that already includes byte e, the first byte of the next chunk.
        let k = insert.len() as u64;
        let shared_before = before.iter().filter(|c| c.end() < at as u64).count();
        prop_assert_eq!(&after[..shared_before], &before[..shared_before]);
        let moved: std::collections::HashSet<Chunk> =
            after.iter().map(|c| Chunk { offset: c.offset.wrapping_sub(k), length: c.length }).collect();
        let horizon = at as u64 + 8 * u64::from(params.max_size());
        let lost: Vec<&Chunk> = before.iter().filter(|c| !moved.contains(c) && c.end() > at as u64).collect();
        prop_assert!(lost.iter().all(|c| c.offset <= horizon), "changed chunks {:?} after an insertion at {}", lost, at);
    }
}

//! Splice verification on arbitrary chunk lists and claimed blob digests: it succeeds exactly when every
//! chunk is stored and their concatenation has the claimed digest, and a failed splice records nothing.
#![no_main]

use agentry_cdc::{ChunkStore, MemStore, Params, digest};
use agentry_types::{Digest, DigestFunction};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((&control, rest)) = input.split_first() else { return };
    let Ok(params) = Params::reapi(1024, 0) else { return };
    let store = MemStore::new(DigestFunction::Sha256, params);
    // Pieces separated by 0xff bytes; the control byte's bits choose which pieces are stored first.
    let pieces: Vec<&[u8]> = rest.split(|&b| b == 0xff).collect();
    let mut layout = Vec::new();
    for (i, piece) in pieces.iter().enumerate() {
        let d = digest(DigestFunction::Sha256, piece);
        if control >> (i % 8) & 1 == 1 || i >= 8 {
            store.put(&d, piece).expect("put of correct bytes succeeds");
        }
        layout.push(d);
    }
    let whole: Vec<u8> = pieces.concat();
    let claimed: Digest = if control & 0x80 != 0 {
        digest(DigestFunction::Sha256, &whole)
    } else {
        digest(DigestFunction::Sha256, &rest[..rest.len() / 2])
    };
    let all_stored = layout.iter().all(|d| store.contains(d).expect("memory store"));
    let matches = claimed == digest(DigestFunction::Sha256, &whole);
    match store.splice(&claimed, &layout) {
        Ok(()) => {
            assert!(all_stored && matches);
            assert_eq!(store.get(&claimed).expect("get"), Some(whole));
        }
        Err(_) => {
            assert!(!(all_stored && matches));
            assert_eq!(store.layout(&claimed).expect("layout"), None);
        }
    }
});

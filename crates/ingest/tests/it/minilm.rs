//! The all-MiniLM-L6-v2 embedder (feature `minilm`), when its files are present (`cargo xtask fetch-minilm`).

use agentry_ingest::{Embedder, IngestOptions, MiniLmEmbedder, Registry, SearchMode, SearchOptions};

use crate::common::items;

/// The model from its folder. Without model files the tests are skipped, unless the folder was named
/// explicitly with `AGENTRY_MINILM_DIR` (as CI does after `cargo xtask fetch-minilm`): then they must be there.
fn model() -> Option<MiniLmEmbedder> {
    let dir = MiniLmEmbedder::default_dir();
    if !dir.join("model.safetensors").is_file() {
        assert!(
            std::env::var_os(agentry_ingest::MINILM_DIR_ENV).is_none(),
            "AGENTRY_MINILM_DIR names {}, which has no model.safetensors",
            dir.display()
        );
        eprintln!("{} has no model files: minilm test skipped (run cargo xtask fetch-minilm)", dir.display());
        return None;
    }
    Some(MiniLmEmbedder::from_dir(&dir).expect("model files load"))
}

fn cos(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn sentence_vectors_are_unit_length_deterministic_and_semantic() {
    let Some(e) = model() else { return };
    assert!(e.id().starts_with("all-MiniLM-L6-v2/"), "{}", e.id());
    let texts = [
        "A reference borrows a value without owning it.",
        "Borrowing lets code use data it does not own.",
        "The weather in Lisbon is mild in winter.",
    ];
    let v = e.embed(&texts).expect("embed");
    assert_eq!((v.len(), v[0].len()), (3, 384));
    for x in &v {
        assert!((cos(x, x) - 1.0).abs() < 1e-4);
    }
    assert!(cos(&v[0], &v[1]) > cos(&v[0], &v[2]) + 0.2, "{} vs {}", cos(&v[0], &v[1]), cos(&v[0], &v[2]));
    // Batching must not change a text's vector (padding is masked out of the mean).
    let alone = e.embed(&texts[..1]).expect("embed");
    assert!(cos(&alone[0], &v[0]) > 0.9999);
}

#[test]
fn a_minilm_index_answers_only_minilm_queries() {
    let Some(e) = model() else { return };
    let mut r = Registry::open_in_memory().expect("registry");
    let docs = [
        (
            "own.md",
            "# Ownership\n\nEach value in Rust has a single owner; when the owner goes out of scope the value is dropped.",
        ),
        ("async.md", "# Async\n\nFutures are polled by an executor until they complete."),
    ];
    r.ingest(items(&docs), &e, &IngestOptions::default()).expect("ingest");
    let snap = r.snapshot(None).expect("snapshot");
    let opts = SearchOptions { k: 1, mode: SearchMode::Vector, doc_prefix: None };
    let hits = snap.search(&e, "who frees memory when a variable leaves its scope", &opts).expect("search");
    assert_eq!(hits[0].doc_id.as_str(), "own.md");
    let other = agentry_ingest::HashingEmbedder::new();
    assert!(snap.search(&other, "scope", &opts).is_err());
}

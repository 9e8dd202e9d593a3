//! Property tests. Case count from `PROPTEST_CASES` (default 64).

use agentry_ingest::{ChunkConfig, DocumentKind, HashingEmbedder, IngestOptions, Registry, chunk_document};
use proptest::prelude::*;

use crate::common::items;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(64);
    ProptestConfig::with_cases(cases)
}

/// A paragraph: a few words from a small vocabulary (so repeats across documents happen).
fn paragraph() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec!["own", "borrow", "slice", "trait", "async", "Box", "é", "lifetime"]),
        1..12,
    )
    .prop_map(|w| w.join(" "))
}

/// A markdown document: headings and paragraphs.
fn document() -> impl Strategy<Value = String> {
    prop::collection::vec((any::<bool>(), paragraph()), 1..10).prop_map(|blocks| {
        blocks
            .into_iter()
            .map(|(heading, text)| if heading { format!("## {text}") } else { text })
            .collect::<Vec<_>>()
            .join("\n\n")
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn reingesting_unchanged_input_embeds_nothing(docs in prop::collection::vec(document(), 1..6)) {
        let e = HashingEmbedder::with_dim(32);
        let mut r = Registry::open_in_memory().expect("registry");
        let named: Vec<(String, String)> = docs.iter().enumerate().map(|(i, d)| (format!("d{i}.md"), d.clone())).collect();
        let pairs: Vec<(&str, &str)> = named.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let first = r.ingest(items(&pairs), &e, &IngestOptions::default()).expect("first");
        let again = r.ingest(items(&pairs), &e, &IngestOptions::default()).expect("again");
        prop_assert_eq!(again.chunks_embedded, 0);
        prop_assert_eq!(again.docs_unchanged, docs.len() as u64);
        prop_assert_eq!(again.index_version, first.index_version);
        prop_assert_eq!(again.chunks_total, first.chunks_total);
    }

    #[test]
    fn inserting_a_paragraph_keeps_every_other_chunk(doc in document(), extra in paragraph(), at in any::<prop::sample::Index>()) {
        let cfg = ChunkConfig::default();
        let before = chunk_document(DocumentKind::Markdown, &doc, &cfg);
        let mut blocks: Vec<&str> = doc.split("\n\n").collect();
        let extra = format!("inserted {extra}");
        blocks.insert(at.index(blocks.len() + 1), &extra);
        let after = chunk_document(DocumentKind::Markdown, &blocks.join("\n\n"), &cfg);
        prop_assert_eq!(after.len(), before.len() + 1);
        for c in &before {
            prop_assert!(after.iter().any(|a| a.id == c.id), "chunk {:?} lost", c.text);
        }
    }
}

//! The HNSW graph (feature `hnsw`) answers like the exact scan on a small, well-separated corpus.

use agentry_ingest::{
    ChunkConfig, DocumentKind, HashingEmbedder, SearchMode, SearchOptions, Snapshot, chunk_document,
};
use agentry_types::DocumentId;

#[test]
fn graph_search_matches_the_exact_scan_and_filters_fall_back() {
    let e = HashingEmbedder::new();
    let topics =
        ["ownership", "borrowing", "lifetimes", "traits", "closures", "iterators", "threads", "macros"];
    let docs: Vec<(DocumentId, Vec<agentry_ingest::Chunk>)> = topics
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let text: String = (0..20).map(|j| format!("Paragraph {j} about {t} number {i}.\n\n")).collect();
            (
                DocumentId::new(format!("{t}.md")).expect("id"),
                chunk_document(DocumentKind::Markdown, &text, &ChunkConfig::default()),
            )
        })
        .collect();
    let exact = Snapshot::from_chunks(1, &e, &docs).expect("snapshot");
    let mut ann = Snapshot::from_chunks(1, &e, &docs).expect("snapshot");
    ann.build_hnsw().expect("build");
    let opts = SearchOptions { k: 5, mode: SearchMode::Vector, doc_prefix: None };
    for t in topics {
        let a = ann.search(&e, &format!("about {t}"), &opts).expect("search");
        let x = exact.search(&e, &format!("about {t}"), &opts).expect("search");
        assert_eq!(a[0].doc_id.as_str(), format!("{t}.md"));
        // Paragraphs of one topic can tie; the best score must match the exact scan's.
        assert!((a[0].score - x[0].score).abs() < 1e-4, "{} vs {}", a[0].score, x[0].score);
    }
    let filtered = SearchOptions { doc_prefix: Some("threads".into()), ..opts };
    let hits = ann.search(&e, "about ownership", &filtered).expect("search");
    assert!(hits.iter().all(|h| h.doc_id.as_str() == "threads.md"));
}

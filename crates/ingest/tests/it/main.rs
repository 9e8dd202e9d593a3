//! Integration tests of agentry-ingest, one binary with a module per area.

mod cli;
mod columns;
mod crash;
mod props;
mod registry;
mod tracing_spans;

/// Shared helpers for the document-ingest tests.
mod common {
    use agentry_ingest::{SourceDocument, SourceItem};
    use agentry_types::DocumentId;

    /// Source items from `(id, text)` pairs.
    pub(crate) fn items(docs: &[(&str, &str)]) -> Vec<SourceItem> {
        docs.iter()
            .map(|(id, text)| {
                SourceItem::Document(SourceDocument {
                    id: DocumentId::new(*id).expect("test ids are valid"),
                    source: format!("test/{id}"),
                    text: (*text).to_owned(),
                })
            })
            .collect()
    }
}

//! The retrieval spans and events carry the names and fields the issue gives, for tracing-opentelemetry.

use std::sync::{Arc, Mutex};

use agentry_ingest::{HashingEmbedder, IngestOptions, Registry, SearchOptions};
use tracing::{
    Subscriber,
    field::{Field, Visit},
    span::{Attributes, Id},
};
use tracing_subscriber::{Layer, layer::Context, prelude::*};

use crate::common::items;

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<String>>>);

struct Fields<'a>(&'a mut Vec<String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push(format!("{}={value:?}", field.name()));
    }
}

impl<S: Subscriber> Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, _id: &Id, _ctx: Context<'_, S>) {
        let mut fields = Vec::new();
        attrs.record(&mut Fields(&mut fields));
        self.0.lock().expect("lock").push(format!("span {} {}", attrs.metadata().name(), fields.join(" ")));
    }

    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Vec::new();
        event.record(&mut Fields(&mut fields));
        self.0.lock().expect("lock").push(format!("event {}", fields.join(" ")));
    }
}

#[test]
fn query_emits_spans_and_chunk_retrieved_events() {
    let rec = Recorder::default();
    let subscriber = tracing_subscriber::registry().with(rec.clone());
    let e = HashingEmbedder::new();
    let mut r = Registry::open_in_memory().expect("registry");
    r.ingest(items(&[("a.md", "# A\n\nownership rules")]), &e, &IngestOptions::default()).expect("ingest");
    let snap = r.snapshot(None).expect("snapshot");
    let opts = SearchOptions { k: 1, ..SearchOptions::default() };
    // tracing caches per callsite whether anyone is interested. While this scoped subscriber is the only one,
    // a callsite first reached on another test thread is judged by that thread's (empty) default and cached as
    // disabled. So this thread reaches every callsite of the search first, before installing the subscriber,
    // and then has the cache rebuilt with the subscriber in place.
    snap.search(&e, "ownership", &opts).expect("warm-up search");
    tracing::subscriber::with_default(subscriber, || {
        tracing::callsite::rebuild_interest_cache();
        snap.search(&e, "ownership", &opts).expect("search");
    });
    let log = rec.0.lock().expect("lock").clone();
    let has = |prefix: &str| log.iter().any(|l| l.starts_with(prefix));
    assert!(has("span rag_request retrieval.index_version=1"), "{log:#?}");
    for name in ["span embedding.query", "span retrieval.vector_search", "span retrieval.rerank"] {
        assert!(has(name), "{name} missing: {log:#?}");
    }
    let event = log.iter().find(|l| l.contains("message=chunk_retrieved")).expect("chunk_retrieved event");
    for field in ["doc_id=\"a.md\"", "chunk_id=", "score=", "source=\"test/a.md\""] {
        assert!(event.contains(field), "{field} missing in {event}");
    }
}

//! Batched writes and parallel embedding: however the documents of a run are grouped into transactions, and
//! whether the embedder runs on one thread or several, the registry ends in the same state.

use std::{
    collections::HashSet,
    sync::Mutex,
    thread::{self, ThreadId},
};

use crate::common::{Store, items};
use agentry_ingest::{
    Embedder, Error, HashingEmbedder, IngestOptions, IngestReport, Registry, SearchMode, SearchOptions,
};

/// `n` documents of twelve paragraphs each; every fifth paragraph is shared by all documents, so the same
/// chunk text arrives in several batches.
fn corpus(n: usize, edit: &str) -> Vec<(String, String)> {
    (0..n)
        .map(|d| {
            let mut text = format!("# Document {d}\n\n");
            for p in 0..12 {
                if p % 5 == 0 {
                    text.push_str(&format!("A paragraph every document shares, number {p}.\n\n"));
                } else {
                    text.push_str(&format!(
                        "Paragraph {p} of document {d} about borrowing and lifetimes{edit}.\n\n"
                    ));
                }
            }
            (format!("doc{d:02}.md"), text)
        })
        .collect()
}

fn refs(docs: &[(String, String)]) -> Vec<(&str, &str)> {
    docs.iter().map(|(id, t)| (id.as_str(), t.as_str())).collect()
}

/// Every chunk `current` serves with its vector's score for a fixed query, in rank order.
fn served(r: &mut Registry, e: &dyn Embedder) -> Vec<(String, String, u32, String)> {
    let snap = r.snapshot(None).expect("snapshot");
    let opts = SearchOptions { k: usize::MAX, mode: SearchMode::Vector, doc_prefix: None };
    let hits = snap.search(e, "shared paragraph about lifetimes", &opts).expect("search");
    assert_eq!(hits.len(), snap.len());
    hits.into_iter()
        .map(|h| (h.doc_id.as_str().to_owned(), h.chunk_id.to_string(), h.score.to_bits(), h.text))
        .collect()
}

/// The hashing embedder, recording the threads it ran on and the largest call; optionally refusing to be
/// run on several threads at once.
struct Recording {
    inner: HashingEmbedder,
    parallel: bool,
    threads: Mutex<HashSet<ThreadId>>,
    largest_call: Mutex<usize>,
}

impl Recording {
    fn new(parallel: bool) -> Self {
        Self {
            inner: HashingEmbedder::new(),
            parallel,
            threads: Mutex::new(HashSet::new()),
            largest_call: Mutex::new(0),
        }
    }
}

impl Embedder for Recording {
    fn id(&self) -> &str {
        self.inner.id()
    }

    fn dim(&self) -> usize {
        self.inner.dim()
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, Error> {
        self.threads.lock().expect("lock").insert(thread::current().id());
        let mut largest = self.largest_call.lock().expect("lock");
        *largest = (*largest).max(texts.len());
        drop(largest);
        self.inner.embed(texts)
    }

    fn parallel_batches(&self) -> bool {
        self.parallel
    }
}

/// A first ingest and an update (edits, a deletion, a new document) with `batch_bytes`, against the same
/// runs in one batch on one embedding thread in an in-memory registry.
fn run_both(s: &Store, batch_bytes: usize) -> (Vec<IngestReport>, Vec<IngestReport>) {
    let first = corpus(40, "");
    let mut second = corpus(41, ", edited");
    second.remove(3);
    second[0].1 = first[0].1.clone();

    let serial = Recording::new(false);
    let mut reference = Registry::open_in_memory().expect("in-memory registry");
    let mut subject = s.open();
    let parallel = Recording::new(true);
    let batched = IngestOptions { batch_bytes, ..IngestOptions::default() };
    let mut want = Vec::new();
    let mut got = Vec::new();
    for docs in [&first, &second] {
        want.push(
            reference.ingest(items(&refs(docs)), &serial, &IngestOptions::default()).expect("reference"),
        );
        got.push(subject.ingest(items(&refs(docs)), &parallel, &batched).expect("batched"));
        assert_eq!(served(&mut subject, &parallel), served(&mut reference, &serial));
    }
    assert_eq!(*serial.threads.lock().expect("lock"), HashSet::from([thread::current().id()]));
    for e in [&serial, &parallel] {
        assert!(*e.largest_call.lock().expect("lock") <= 256, "an embed call above 256 texts");
    }
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    if cores > 1 && batch_bytes > 100_000 {
        // The first ingest embeds over 400 distinct texts in one batch: they are split between threads.
        assert!(parallel.threads.lock().expect("lock").len() > 1, "embedding ran on one thread");
    }
    (want, got)
}

fn one_document_per_batch_ends_like_one_batch(s: &Store) {
    let (want, got) = run_both(s, 1);
    assert_eq!(got, want);
    assert_eq!(
        (got[1].docs_new, got[1].docs_changed, got[1].docs_unchanged, got[1].docs_deleted),
        (1, 38, 1, 1)
    );
}

fn a_few_documents_per_batch_end_like_one_batch(s: &Store) {
    let (want, got) = run_both(s, 2_000);
    assert_eq!(got, want);
}

fn the_default_batch_embeds_on_several_threads_and_ends_like_one_thread(s: &Store) {
    let (want, got) = run_both(s, IngestOptions::default().batch_bytes);
    assert_eq!(got, want);
    assert!(got[0].chunks_embedded > 400);
}

on_every_backend!(
    one_document_per_batch_ends_like_one_batch,
    a_few_documents_per_batch_end_like_one_batch,
    the_default_batch_embeds_on_several_threads_and_ends_like_one_thread,
);

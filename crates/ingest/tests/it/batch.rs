//! Batched writes and parallel embedding: however the documents of a run are grouped into transactions, and
//! whether the embedder runs on one thread or several, the registry ends in the same state.

use std::{
    collections::HashSet,
    sync::{
        Mutex,
        atomic::{AtomicUsize, Ordering},
    },
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

/// The hashing embedder that fails every call after the first `works` calls.
struct FailsAfter {
    inner: HashingEmbedder,
    works: usize,
    calls: AtomicUsize,
}

impl Embedder for FailsAfter {
    fn id(&self) -> &str {
        self.inner.id()
    }

    fn dim(&self) -> usize {
        self.inner.dim()
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, Error> {
        if self.calls.fetch_add(1, Ordering::SeqCst) >= self.works {
            return Err(Error::Embed {
                embedder: self.id().to_owned(),
                reason: "planted failure".to_owned(),
            });
        }
        self.inner.embed(texts)
    }
}

/// An update that stops with an error after some batches are committed: `current` still serves the old version
/// whole, and the next run undoes the partial version and ends where an uninterrupted run does.
fn a_run_stopped_between_batches_leaves_current_whole_and_the_rerun_converges(s: &Store) {
    let first = corpus(20, "");
    let second = corpus(20, ", edited");
    let e = HashingEmbedder::new();
    let per_document = IngestOptions { batch_bytes: 1, ..IngestOptions::default() };

    let mut reference = Registry::open_in_memory().expect("in-memory registry");
    reference.ingest(items(&refs(&first)), &e, &IngestOptions::default()).expect("reference first");
    let want =
        reference.ingest(items(&refs(&second)), &e, &IngestOptions::default()).expect("reference second");

    let mut r = s.open();
    r.ingest(items(&refs(&first)), &e, &per_document).expect("first");
    let before = served(&mut r, &e);
    // One embed call per changed document: the fifth fails after four batches were committed.
    let failing = FailsAfter { inner: HashingEmbedder::new(), works: 4, calls: AtomicUsize::new(0) };
    let err = r.ingest(items(&refs(&second)), &failing, &per_document).expect_err("planted failure");
    assert!(matches!(err, Error::Embed { .. }), "{err}");
    assert_eq!(failing.calls.load(Ordering::SeqCst), 5);
    assert_eq!(served(&mut r, &e), before, "current changed after a stopped run");
    assert_eq!(served(&mut s.open(), &e), before, "another connection sees a partial version");

    let got = r.ingest(items(&refs(&second)), &e, &per_document).expect("rerun");
    assert_eq!(
        (got.docs_changed, got.chunks_total, got.index_version, got.promoted),
        (want.docs_changed, want.chunks_total, want.index_version, want.promoted)
    );
    // The vectors of the four committed batches stay and are reused.
    assert_eq!(got.chunks_embedded + got.chunks_reused, want.chunks_embedded + want.chunks_reused);
    assert!(got.chunks_embedded < want.chunks_embedded);
    assert_eq!(served(&mut r, &e), served(&mut reference, &e));
    assert_eq!(r.versions().expect("versions").len(), 2);
}

on_every_backend!(
    a_run_stopped_between_batches_leaves_current_whole_and_the_rerun_converges,
    one_document_per_batch_ends_like_one_batch,
    a_few_documents_per_batch_end_like_one_batch,
    the_default_batch_embeds_on_several_threads_and_ends_like_one_thread,
);

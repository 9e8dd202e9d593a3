//! Registry and pipeline behaviour through the library API.

use std::sync::{Mutex, mpsc};

use agentry_ingest::{
    Embedder, Error, HashingEmbedder, IngestOptions, KnownItem, SearchMode, SearchOptions, SyncMode,
    Validation, VersionState,
};
use agentry_types::{DocumentId, Timestamp};

use crate::common::{Store, items};

const GUIDE: &str = "# Guide\n\nIntro paragraph about ownership.\n\n## Borrowing\n\nReferences let you borrow.\n\nA second paragraph on lifetimes.\n";
const NOTES: &str = "Plain notes.\n\nAbout vectors and slices.\n";

fn opts() -> IngestOptions {
    IngestOptions::default()
}

fn first_ingest_embeds_every_distinct_chunk_and_promotes(s: &Store) {
    let (mut r, e) = (s.open(), HashingEmbedder::new());
    let rep = r.ingest(items(&[("guide.md", GUIDE), ("notes.txt", NOTES)]), &e, &opts()).expect("ingest");
    assert_eq!((rep.docs_new, rep.docs_changed, rep.docs_unchanged, rep.docs_deleted), (2, 0, 0, 0));
    assert_eq!(rep.chunks_total, 7);
    assert_eq!(rep.chunks_embedded, 7);
    assert_eq!(rep.index_version, 1);
    assert!(rep.promoted);
    assert_eq!(r.current_version().expect("alias"), Some(1));
}

fn unchanged_input_embeds_nothing_and_keeps_the_version(s: &Store) {
    let (mut r, e) = (s.open(), HashingEmbedder::new());
    let docs = [("guide.md", GUIDE), ("notes.txt", NOTES)];
    r.ingest(items(&docs), &e, &opts()).expect("first");
    let rep = r.ingest(items(&docs), &e, &opts()).expect("second");
    assert_eq!((rep.docs_unchanged, rep.chunks_embedded, rep.index_version), (2, 0, 1));
    assert_eq!(r.versions().expect("versions").len(), 1);
}

fn an_edit_reembeds_only_the_edited_paragraph(s: &Store) {
    let (mut r, e) = (s.open(), HashingEmbedder::new());
    r.ingest(items(&[("guide.md", GUIDE)]), &e, &opts()).expect("first");
    let edited = GUIDE.replace("References let you borrow.", "References let you borrow values.");
    let rep = r.ingest(items(&[("guide.md", &edited)]), &e, &opts()).expect("second");
    assert_eq!((rep.docs_changed, rep.chunks_embedded, rep.chunks_reused), (1, 1, 4));
    assert_eq!(rep.index_version, 2);
}

fn an_insertion_before_everything_reembeds_one_chunk(s: &Store) {
    let (mut r, e) = (s.open(), HashingEmbedder::new());
    r.ingest(items(&[("guide.md", GUIDE)]), &e, &opts()).expect("first");
    let edited = format!("New opening line.\n\n{GUIDE}");
    let rep = r.ingest(items(&[("guide.md", &edited)]), &e, &opts()).expect("second");
    assert_eq!(rep.chunks_embedded, 1);
}

fn full_sync_deletes_missing_documents_and_incremental_does_not(s: &Store) {
    let (mut r, e) = (s.open(), HashingEmbedder::new());
    r.ingest(items(&[("guide.md", GUIDE), ("notes.txt", NOTES)]), &e, &opts()).expect("first");
    let inc = IngestOptions { sync: SyncMode::Incremental, ..opts() };
    let rep = r.ingest(items(&[("guide.md", GUIDE)]), &e, &inc).expect("incremental");
    assert_eq!(rep.docs_deleted, 0);
    let rep = r.ingest(items(&[("guide.md", GUIDE)]), &e, &opts()).expect("full");
    assert_eq!((rep.docs_deleted, rep.chunks_total), (1, 5));
    let snap = r.snapshot(None).expect("snapshot");
    let hits = snap.search(&e, "vectors slices", &SearchOptions::default()).expect("search");
    assert!(hits.iter().all(|h| h.doc_id.as_str() != "notes.txt"));
    assert_eq!(r.status().expect("status").documents_deleted, 1);
}

fn deleted_document_can_come_back(s: &Store) {
    let (mut r, e) = (s.open(), HashingEmbedder::new());
    r.ingest(items(&[("guide.md", GUIDE), ("notes.txt", NOTES)]), &e, &opts()).expect("first");
    r.ingest(items(&[("guide.md", GUIDE)]), &e, &opts()).expect("delete by sync");
    let rep = r.ingest(items(&[("guide.md", GUIDE), ("notes.txt", NOTES)]), &e, &opts()).expect("back");
    assert_eq!((rep.docs_new, rep.chunks_embedded, rep.chunks_total), (1, 0, 7));
}

fn explicit_delete_builds_a_version_and_unknown_ids_are_errors(s: &Store) {
    let (mut r, e) = (s.open(), HashingEmbedder::new());
    r.ingest(items(&[("guide.md", GUIDE), ("notes.txt", NOTES)]), &e, &opts()).expect("first");
    let id = agentry_types::DocumentId::new("notes.txt").expect("id");
    let rep = r.delete(std::slice::from_ref(&id), &e, &opts()).expect("delete");
    assert_eq!((rep.docs_deleted, rep.index_version, rep.chunks_total), (1, 2, 5));
    let err = r.delete(&[id], &e, &opts()).expect_err("already deleted");
    assert!(matches!(err, Error::UnknownDocument(ref d) if d == "notes.txt"), "{err}");
}

fn staged_version_is_invisible_until_promoted_and_rollback_returns(s: &Store) {
    let (mut r, e) = (s.open(), HashingEmbedder::new());
    r.ingest(items(&[("guide.md", GUIDE)]), &e, &opts()).expect("first");
    let staged = IngestOptions { promote: false, ..opts() };
    let rep = r.ingest(items(&[("guide.md", GUIDE), ("notes.txt", NOTES)]), &e, &staged).expect("staged");
    assert!(!rep.promoted);
    let snap = r.snapshot(None).expect("current");
    assert_eq!((snap.version(), snap.len()), (1, 5));
    r.promote(2).expect("promote");
    assert_eq!(r.snapshot(None).expect("current").len(), 7);
    assert_eq!(r.rollback().expect("rollback"), 1);
    assert_eq!(r.snapshot(None).expect("current").len(), 5);
    assert!(matches!(r.promote(9), Err(Error::NoSuchVersion(9))));
}

fn a_query_through_another_embedder_is_refused(s: &Store) {
    let (mut r, e) = (s.open(), HashingEmbedder::new());
    r.ingest(items(&[("guide.md", GUIDE)]), &e, &opts()).expect("first");
    let snap = r.snapshot(None).expect("current");
    let other = HashingEmbedder::with_dim(64);
    let err = snap.search(&other, "borrow", &SearchOptions::default()).expect_err("mismatch");
    assert!(matches!(err, Error::EmbedderMismatch { version: 1, .. }), "{err}");
}

fn a_new_embedder_embeds_unchanged_documents_into_a_new_version(s: &Store) {
    let (mut r, e) = (s.open(), HashingEmbedder::new());
    r.ingest(items(&[("guide.md", GUIDE)]), &e, &opts()).expect("first");
    let small = HashingEmbedder::with_dim(64);
    let rep = r.ingest(items(&[("guide.md", GUIDE)]), &small, &opts()).expect("re-embed");
    assert_eq!((rep.docs_unchanged, rep.chunks_embedded, rep.index_version), (1, 5, 2));
    let snap = r.snapshot(None).expect("current");
    assert!(snap.search(&small, "borrow", &SearchOptions::default()).is_ok());
}

fn validation_below_the_floor_fails_the_version_and_keeps_the_alias(s: &Store) {
    let (mut r, e) = (s.open(), HashingEmbedder::new());
    r.ingest(items(&[("guide.md", GUIDE)]), &e, &opts()).expect("first");
    let queries = vec![KnownItem {
        query: "vectors and slices".into(),
        doc_id: "absent.md".into(),
        heading_path: Vec::new(),
        exclude_text: None,
    }];
    let gated =
        IngestOptions { validation: Some(Validation { queries, recall_floor: 0.5, k: 10 }), ..opts() };
    let rep = r.ingest(items(&[("guide.md", GUIDE), ("notes.txt", NOTES)]), &e, &gated).expect("gated");
    assert_eq!((rep.recall, rep.promoted), (Some(0.0), false));
    assert_eq!(r.current_version().expect("alias"), Some(1));
    let versions = r.versions().expect("versions");
    assert_eq!(versions[1].state, VersionState::Failed);
    assert!(matches!(r.promote(2), Err(Error::VersionNotReady { version: 2, .. })));
}

fn validation_at_or_above_the_floor_promotes(s: &Store) {
    let (mut r, e) = (s.open(), HashingEmbedder::new());
    let queries = vec![KnownItem {
        query: "Borrowing".into(),
        doc_id: "guide.md".into(),
        heading_path: vec!["Guide".into(), "Borrowing".into()],
        exclude_text: Some("## Borrowing".into()),
    }];
    let gated = IngestOptions { validation: Some(Validation { queries, recall_floor: 1.0, k: 3 }), ..opts() };
    let rep = r.ingest(items(&[("guide.md", GUIDE)]), &e, &gated).expect("gated");
    assert_eq!((rep.recall, rep.promoted), (Some(1.0), true));
}

fn retention_keeps_n_versions_and_alias_targets(s: &Store) {
    let (mut r, e) = (s.open(), HashingEmbedder::new());
    let keep = IngestOptions { keep_versions: 2, ..opts() };
    for i in 0..5 {
        let text = format!("{GUIDE}\nrevision {i}\n");
        r.ingest(items(&[("guide.md", &text)]), &e, &keep).expect("ingest");
    }
    let states: Vec<(u32, VersionState)> =
        r.versions().expect("versions").iter().map(|v| (v.version, v.state)).collect();
    assert_eq!(
        states,
        vec![
            (1, VersionState::Retired),
            (2, VersionState::Retired),
            (3, VersionState::Retired),
            (4, VersionState::Ready),
            (5, VersionState::Ready)
        ]
    );
    assert!(matches!(r.promote(2), Err(Error::VersionNotReady { version: 2, .. })));
    assert_eq!(r.rollback().expect("rollback"), 4);
}

/// A clock time far enough ahead that no test run reaches it: versions staged for it are not live now.
fn future() -> Timestamp {
    "2999-01-01T00:00:00Z".parse().expect("timestamp")
}

fn just_before(t: Timestamp) -> Timestamp {
    Timestamp::from_unix_micros(t.unix_micros() - 1)
}

/// The chunk texts a lexical query for `word` finds in the version live at `at`, and that version.
fn live_texts(r: &mut agentry_ingest::Registry, at: Timestamp, word: &str) -> (u32, Vec<String>) {
    let snap = r.snapshot_at(at).expect("live version");
    let opts = SearchOptions { k: 10, mode: SearchMode::Lexical, doc_prefix: None };
    let hits = snap.search(&HashingEmbedder::new(), word, &opts).expect("search");
    (snap.version(), hits.into_iter().map(|h| h.text).collect())
}

/// Every chunk (document, text) of a snapshot, sorted.
fn all_chunks(snap: &agentry_ingest::Snapshot) -> Vec<(String, String)> {
    let opts = SearchOptions { k: 1000, mode: SearchMode::Vector, doc_prefix: None };
    let hits = snap.search(&HashingEmbedder::new(), "anything", &opts).expect("search");
    let mut out: Vec<(String, String)> =
        hits.into_iter().map(|h| (h.doc_id.as_str().to_owned(), h.text)).collect();
    out.sort();
    out
}

/// The version live at `at`.
fn live_at(r: &mut agentry_ingest::Registry, at: Timestamp) -> u32 {
    r.snapshot_at(at).expect("a live version").version()
}

fn valid_from_stages_a_whole_version_until_its_clock_time(s: &Store) {
    let (mut r, e) = (s.open(), HashingEmbedder::new());
    r.ingest(items(&[("guide.md", GUIDE)]), &e, &opts()).expect("first");
    let live_from = future();
    let before = just_before(live_from);
    let edited = GUIDE.replace("References let you borrow.", "References let you borrow traits.");
    let staged = IngestOptions { live_from: Some(live_from), ..opts() };
    let rep = r.ingest(items(&[("guide.md", &edited), ("notes.txt", NOTES)]), &e, &staged).expect("staged");
    assert!(rep.promoted);
    assert_eq!(r.current_version().expect("alias"), Some(2));

    // Before the clock time: all of version 1 (the old paragraph, no notes), nothing of version 2.
    assert_eq!(live_texts(&mut r, before, "borrow"), (1, vec!["References let you borrow.".to_owned()]));
    assert_eq!(live_texts(&mut r, before, "vectors").1, Vec::<String>::new());
    assert_eq!(r.snapshot(None).expect("now").version(), 1, "the test's clock time lies in the future");
    // From the clock time on: all of version 2.
    assert_eq!(
        live_texts(&mut r, live_from, "borrow"),
        (2, vec!["References let you borrow traits.".to_owned()])
    );
    assert_eq!(live_texts(&mut r, live_from, "vectors").1, vec!["About vectors and slices.".to_owned()]);
    // An explicit version ignores the schedule.
    assert_eq!(r.snapshot(Some(2)).expect("v2").version(), 2);
    let status = r.status().expect("status");
    assert_eq!(
        (status.current_version, status.current_live_from, status.live_version),
        (Some(2), Some(live_from), Some(1))
    );
    let listed: Vec<Option<Timestamp>> =
        r.versions().expect("versions").iter().map(|v| v.live_from).collect();
    assert_eq!(listed, vec![None, Some(live_from)]);
}

fn a_staged_version_is_served_whole_or_not_at_all(s: &Store) {
    let (mut r, e) = (s.open(), HashingEmbedder::new());
    r.ingest(items(&[("guide.md", GUIDE), ("notes.txt", NOTES)]), &e, &opts()).expect("first");
    let edited = GUIDE.replace("Intro paragraph about ownership.", "Intro paragraph, rewritten.");
    let staged = IngestOptions { live_from: Some(future()), ..opts() };
    r.ingest(items(&[("guide.md", &edited), ("other.md", "# Other\n\nNew text.\n")]), &e, &staged)
        .expect("staged");
    let (v1, v2) = (r.snapshot(Some(1)).expect("v1"), r.snapshot(Some(2)).expect("v2"));
    assert_ne!(all_chunks(&v1), all_chunks(&v2));
    for (at, want) in [(just_before(future()), &v1), (future(), &v2)] {
        let snap = r.snapshot_at(at).expect("live");
        assert_eq!((snap.version(), all_chunks(&snap)), (want.version(), all_chunks(want)), "at {at}");
    }
}

fn nothing_is_served_before_the_first_version_goes_live(s: &Store) {
    let (mut r, e) = (s.open(), HashingEmbedder::new());
    let live_from = future();
    let staged = IngestOptions { live_from: Some(live_from), ..opts() };
    r.ingest(items(&[("guide.md", GUIDE)]), &e, &staged).expect("staged");
    let early = Timestamp::from_unix_seconds(live_from.unix_seconds() - 60);
    match r.snapshot_at(early) {
        Err(Error::NotLiveYet { current: 1, live_from: l, at }) => assert_eq!((l, at), (live_from, early)),
        other => panic!("expected NotLiveYet, got {other:?}"),
    }
    assert!(matches!(r.snapshot(None), Err(Error::NotLiveYet { current: 1, .. })));
    assert_eq!(live_at(&mut r, live_from), 1);
}

/// The fallback is what was served before the promotion, never a version that was only staged or that was
/// rolled back: the first attempt took "the newest earlier ready version" and served both.
fn the_fallback_is_what_was_served_not_a_staged_or_rolled_back_version(s: &Store) {
    let (mut r, e) = (s.open(), HashingEmbedder::new());
    let text = |i: u32| format!("{GUIDE}\nrevision {i}\n");
    r.ingest(items(&[("guide.md", &text(1))]), &e, &opts()).expect("v1");
    r.ingest(items(&[("guide.md", &text(2))]), &e, &opts()).expect("v2");
    assert_eq!(r.rollback().expect("rollback"), 1);
    let no_promote = IngestOptions { promote: false, ..opts() };
    r.ingest(items(&[("guide.md", &text(3))]), &e, &no_promote).expect("v3 staged by version");
    let staged = IngestOptions { live_from: Some(future()), ..opts() };
    r.ingest(items(&[("guide.md", &text(4))]), &e, &staged).expect("v4 staged by time");
    assert_eq!(r.current_version().expect("alias"), Some(4));
    assert_eq!(live_at(&mut r, just_before(future())), 1);
    assert_eq!(live_at(&mut r, future()), 4);
}

fn rollback_and_promote_keep_what_a_staged_version_falls_back_to(s: &Store) {
    let (mut r, e) = (s.open(), HashingEmbedder::new());
    let text = |i: u32| format!("{GUIDE}\nrevision {i}\n");
    let before = just_before(future());
    r.ingest(items(&[("guide.md", &text(1))]), &e, &opts()).expect("v1");
    let staged = IngestOptions { live_from: Some(future()), ..opts() };
    r.ingest(items(&[("guide.md", &text(2))]), &e, &staged).expect("v2 staged by time");
    r.ingest(items(&[("guide.md", &text(3))]), &e, &opts()).expect("v3 live at once");
    assert_eq!((live_at(&mut r, before), live_at(&mut r, future())), (3, 3));
    // Back to v2: what was served then (v1 until the time, then v2), not the version rolled back from.
    assert_eq!(r.rollback().expect("rollback"), 2);
    assert_eq!((live_at(&mut r, before), live_at(&mut r, future())), (1, 2));
    // Promoting a staged version keeps its time and keeps serving what was served until then.
    r.promote(3).expect("promote 3");
    r.promote(2).expect("promote 2");
    assert_eq!((live_at(&mut r, before), live_at(&mut r, future())), (3, 2));
    // An unchanged source staged by time over a current version builds nothing.
    r.promote(3).expect("promote 3");
    let rep = r.ingest(items(&[("guide.md", &text(3))]), &e, &staged).expect("unchanged");
    assert_eq!((rep.index_version, rep.promoted), (3, true));
    assert_eq!(live_at(&mut r, before), 3);
}

fn retention_keeps_what_a_staged_current_falls_back_to(s: &Store) {
    let (mut r, e) = (s.open(), HashingEmbedder::new());
    let text = |i: u32| format!("{GUIDE}\nrevision {i}\n");
    let keep = IngestOptions { keep_versions: 1, ..opts() };
    r.ingest(items(&[("guide.md", &text(1))]), &e, &keep).expect("v1");
    // Three versions staged for successively later times: each falls back to the one before it.
    for (i, year) in [(2, 2997), (3, 2998), (4, 2999)] {
        let at: Timestamp = format!("{year}-01-01T00:00:00Z").parse().expect("timestamp");
        let staged = IngestOptions { live_from: Some(at), ..keep.clone() };
        r.ingest(items(&[("guide.md", &text(i))]), &e, &staged).expect("staged");
    }
    // A run that builds nothing still applies retention.
    r.ingest(items(&[("guide.md", &text(4))]), &e, &keep).expect("unchanged");
    let states: Vec<(u32, VersionState)> =
        r.versions().expect("versions").iter().map(|v| (v.version, v.state)).collect();
    assert_eq!(states, (1..=4).map(|v| (v, VersionState::Ready)).collect::<Vec<_>>());
    let at = |t: &str| t.parse::<Timestamp>().expect("timestamp");
    assert_eq!(
        live_texts(&mut r, at("2996-06-01T00:00:00Z"), "revision"),
        (1, vec!["revision 1".to_owned()])
    );
    assert_eq!(live_at(&mut r, at("2997-06-01T00:00:00Z")), 2);
    assert_eq!(live_at(&mut r, at("2998-06-01T00:00:00Z")), 3);
    assert_eq!(live_texts(&mut r, future(), "revision"), (4, vec!["revision 4".to_owned()]));
    // Once versions built live at once are current and previous, the chain is no longer needed.
    r.ingest(items(&[("guide.md", &text(5))]), &e, &keep).expect("v5");
    r.ingest(items(&[("guide.md", &text(6))]), &e, &keep).expect("v6");
    let states: Vec<(u32, VersionState)> =
        r.versions().expect("versions").iter().map(|v| (v.version, v.state)).collect();
    assert_eq!(states.iter().filter(|(_, s)| *s == VersionState::Ready).count(), 2, "{states:?}");
}

fn an_interrupted_staged_build_leaves_no_schedule_behind(s: &Store) {
    let (mut r, e) = (s.open(), HashingEmbedder::new());
    r.ingest(items(&[("guide.md", GUIDE)]), &e, &opts()).expect("first");
    // A crash after the version row (and its schedule) committed: the version is left building.
    s.raw(
        "INSERT INTO index_versions (id, state, embedder, dim, created_at) VALUES (2, 'building', 'x', 1, 0);
         INSERT INTO version_schedule (version, live_from) VALUES (2, 32472144000000000);",
    );
    let rep = r.ingest(items(&[("guide.md", GUIDE), ("notes.txt", NOTES)]), &e, &opts()).expect("rerun");
    assert_eq!((rep.index_version, rep.promoted), (2, true));
    assert_eq!(r.versions().expect("versions")[1].live_from, None, "the undone build's schedule is gone");
    assert_eq!(live_at(&mut r, Timestamp::UNIX_EPOCH), 2);
}

fn a_registry_without_the_schedule_table_gets_it_on_open(s: &Store) {
    let (mut r, e) = (s.open(), HashingEmbedder::new());
    r.ingest(items(&[("guide.md", GUIDE)]), &e, &opts()).expect("first");
    drop(r);
    s.raw("DROP TABLE version_schedule");
    let mut r = s.open();
    let staged = IngestOptions { live_from: Some(future()), ..opts() };
    r.ingest(items(&[("guide.md", GUIDE), ("notes.txt", NOTES)]), &e, &staged).expect("staged");
    assert_eq!((live_at(&mut r, just_before(future())), live_at(&mut r, future())), (1, 2));
}

fn hits_carry_ids_scores_headings_and_version(s: &Store) {
    let (mut r, e) = (s.open(), HashingEmbedder::new());
    r.ingest(items(&[("guide.md", GUIDE), ("notes.txt", NOTES)]), &e, &opts()).expect("first");
    let snap = r.snapshot(None).expect("current");
    for mode in [SearchMode::Vector, SearchMode::Lexical, SearchMode::Hybrid] {
        let hits = snap
            .search(&e, "references borrow", &SearchOptions { k: 3, mode, doc_prefix: None })
            .expect("search");
        let top = &hits[0];
        assert_eq!(top.doc_id.as_str(), "guide.md", "{mode:?}");
        assert_eq!(top.heading_path, vec!["Guide".to_owned(), "Borrowing".to_owned()], "{mode:?}");
        assert_eq!(top.index_version, 1);
        assert_eq!(top.chunk_id, agentry_ingest::chunk_id(&top.text));
        assert!(top.score > 0.0);
    }
    let filtered = snap
        .search(
            &e,
            "references borrow",
            &SearchOptions { k: 3, mode: SearchMode::Hybrid, doc_prefix: Some("notes".into()) },
        )
        .expect("search");
    assert!(filtered.iter().all(|h| h.doc_id.as_str() == "notes.txt"));
}

fn reconcile_repairs_missing_and_orphan_vectors(s: &Store) {
    let e = HashingEmbedder::new();
    let mut r = s.open();
    r.ingest(items(&[("guide.md", GUIDE)]), &e, &opts()).expect("first");
    s.raw(&format!(
        "DELETE FROM embeddings WHERE hash IN (SELECT hash FROM embeddings ORDER BY hash LIMIT 2);
         INSERT INTO embeddings (hash, embedder, dim, vector, created_at) VALUES ('ab', 'x', 1, {}, 0);",
        s.blob_literal("00000000")
    ));
    assert!(matches!(r.snapshot(None), Err(Error::Corrupt { .. })));
    let rep = r.reconcile(&e).expect("reconcile");
    assert_eq!((rep.missing_vectors_repaired, rep.orphan_vectors_removed), (2, 1));
    assert_eq!(r.snapshot(None).expect("repaired").len(), 5);
    let again = r.reconcile(&e).expect("reconcile again");
    assert_eq!(again, agentry_ingest::ReconcileReport::default());
}

fn skipped_files_are_reported_and_keep_their_earlier_version(s: &Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("sub")).expect("mkdir");
    std::fs::write(src.join("a.md"), GUIDE).expect("write");
    std::fs::write(src.join("sub/b.txt"), NOTES).expect("write");
    let e = HashingEmbedder::new();
    let mut r = s.open();
    let rep = r.ingest_dir(&src, &e, &opts(), &mut |_| {}).expect("first");
    assert_eq!((rep.docs_new, rep.chunks_total), (2, 7));
    std::fs::write(src.join("sub/b.txt"), b"bin\0ary").expect("write");
    std::fs::write(src.join("bad.md"), [0xffu8, 0xfe, b'a']).expect("write");
    std::fs::write(src.join("huge.txt"), "x".repeat(300)).expect("write");
    let small = IngestOptions { max_file_bytes: 250, ..opts() };
    let rep = r.ingest_dir(&src, &e, &small, &mut |_| {}).expect("second");
    let mut reasons: Vec<String> = rep.skipped.iter().map(|s| s.reason.clone()).collect();
    reasons.sort();
    assert_eq!(
        reasons,
        vec![
            "300 bytes, larger than the limit of 250",
            "binary (contains NUL bytes)",
            "not valid UTF-8 at byte 0"
        ]
    );
    assert_eq!((rep.docs_deleted, rep.docs_unchanged, rep.chunks_total), (0, 1, 7));
    assert!(matches!(
        r.ingest_dir(&dir.path().join("missing"), &e, &opts(), &mut |_| {}),
        Err(Error::Io { .. })
    ));
}

fn readers_during_an_ingest_see_one_whole_version(s: &Store) {
    let e = HashingEmbedder::new();
    let old: Vec<(String, String)> =
        (0..60).map(|i| (format!("d{i:02}.md"), format!("# D{i}\n\nold text {i}\n"))).collect();
    let new: Vec<(String, String)> =
        (0..60).map(|i| (format!("d{i:02}.md"), format!("# D{i}\n\nnew text {i}\n\nmore {i}\n"))).collect();
    let pairs = |v: &[(String, String)]| -> Vec<agentry_ingest::SourceItem> {
        let p: Vec<(&str, &str)> = v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        items(&p)
    };
    let mut writer = s.open();
    writer.ingest(pairs(&old), &e, &opts()).expect("old");
    let (old_len, new_len) = (120, 180);
    let done = std::sync::atomic::AtomicBool::new(false);
    let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
    std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let mut reader = s.open();
            let mut seen = std::collections::BTreeSet::new();
            let mut started = Some(started_tx);
            while !done.load(std::sync::atomic::Ordering::Acquire) {
                let snap = reader.snapshot(None).expect("snapshot");
                assert!(
                    snap.len() == old_len || snap.len() == new_len,
                    "half a version: {} chunks",
                    snap.len()
                );
                seen.insert(snap.version());
                // The writer starts only once the reader holds a snapshot, so the old version is always seen.
                if let Some(tx) = started.take() {
                    tx.send(()).expect("the writer waits for the reader");
                }
            }
            seen
        });
        // A reader that fails before its first snapshot drops the sender: the writer then skips the ingest and
        // the join below reports the reader's failure.
        let result = started_rx.recv().map(|()| writer.ingest(pairs(&new), &e, &opts()));
        // Stop the reader before looking at the result, so a failed ingest fails the test instead of hanging it.
        done.store(true, std::sync::atomic::Ordering::Release);
        let seen = reader.join().expect("reader");
        result.expect("reader took its first snapshot").expect("new");
        assert!(seen.contains(&1), "reader never ran before the swap: {seen:?}");
        assert!(seen.iter().all(|v| [1, 2].contains(v)), "unexpected versions: {seen:?}");
    });
    assert_eq!(writer.snapshot(None).expect("current").len(), new_len);
}

/// A folder that cannot be listed is reported and skipped, the run goes on, and a full sync keeps the documents
/// under it. Permission bits do not stop root, so the folder is made unreadable by its path length instead: the
/// indexed tree moves under a long prefix until its deepest folder's path exceeds Linux's 4096-byte limit.
#[cfg(target_os = "linux")]
#[test]
fn an_unreadable_folder_is_skipped_and_its_documents_stay() {
    let s = Store::sqlite();
    let tmp = tempfile::tempdir().expect("tempdir");
    let e = HashingEmbedder::new();
    let level = |c: char| c.to_string().repeat(200);
    let short = tmp.path().join("r");
    let chain: std::path::PathBuf = ('a'..='k').map(level).collect();
    std::fs::create_dir_all(short.join(&chain)).expect("mkdir chain");
    std::fs::write(short.join("top.md"), GUIDE).expect("write");
    std::fs::write(short.join(&chain).join("deep.md"), NOTES).expect("write");
    let mut r = s.open();
    let rep = r.ingest_dir(&short, &e, &opts(), &mut |_| {}).expect("first");
    assert_eq!((rep.docs_new, rep.skipped.len()), (2, 0));

    let prefix: std::path::PathBuf = ('l'..='u').map(level).collect();
    std::fs::create_dir_all(tmp.path().join(&prefix)).expect("mkdir prefix");
    let long = tmp.path().join(&prefix).join("r");
    std::fs::rename(&short, &long).expect("move the tree");
    let deepest = long.join(&chain);
    assert!(
        std::fs::read_dir(&deepest).is_err(),
        "{} bytes long and still readable",
        deepest.as_os_str().len()
    );

    let rep = r.ingest_dir(&long, &e, &opts(), &mut |_| {}).expect("a run with an unreadable folder");
    let reasons: Vec<&str> = rep.skipped.iter().map(|f| f.reason.as_str()).collect();
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(reasons[0].starts_with("cannot read folder: "), "{reasons:?}");
    assert_eq!((rep.docs_unchanged, rep.docs_deleted, rep.index_version), (1, 0, 1));
    let snap = r.snapshot(None).expect("snapshot");
    let hits = snap.search(&e, "vectors and slices", &SearchOptions::default()).expect("search");
    assert!(hits.iter().any(|h| h.doc_id.as_str().ends_with("/deep.md")), "the deep document is gone");
}

/// Embeds like the hashing embedder, but its first call announces itself and waits to be let go, so a test can
/// act while an ingest is in the middle of its build.
struct Paused {
    inner: HashingEmbedder,
    entered: Mutex<Option<mpsc::Sender<()>>>,
    resume: Mutex<mpsc::Receiver<()>>,
}

impl Embedder for Paused {
    fn id(&self) -> &str {
        self.inner.id()
    }

    fn dim(&self) -> usize {
        self.inner.dim()
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, Error> {
        if let Some(entered) = self.entered.lock().expect("lock").take() {
            entered.send(()).expect("the test waits for the pause");
            // An error means the test thread failed and dropped the sender: go on, the test fails anyway.
            let _ = self.resume.lock().expect("lock").recv();
        }
        self.inner.embed(texts)
    }
}

/// How [`Error::WriterLocked`] names the store's registry.
fn registry_name(s: &Store) -> String {
    match s {
        Store::Sqlite { path, .. } => path.display().to_string(),
        #[cfg(feature = "postgres")]
        Store::Postgres { schema, .. } => format!("schema {}", schema.to_ascii_lowercase()),
    }
}

fn a_second_writer_is_refused_while_an_ingest_builds(s: &Store) {
    let e = HashingEmbedder::new();
    let mut first = s.open();
    first.ingest(items(&[("guide.md", GUIDE)]), &e, &opts()).expect("first");
    let (entered_tx, entered_rx) = mpsc::channel();
    let (resume_tx, resume_rx) = mpsc::channel();
    let paused =
        Paused { inner: e.clone(), entered: Mutex::new(Some(entered_tx)), resume: Mutex::new(resume_rx) };
    let other = [("other.md", "# Other\n\nSomething else.\n")];
    std::thread::scope(|scope| {
        let writer = scope
            .spawn(|| first.ingest(items(&[("guide.md", GUIDE), ("notes.txt", NOTES)]), &paused, &opts()));
        // A second registry on the same database, used while the first one's build is half written.
        let mut second = s.open();
        let during = entered_rx.recv().map(|()| {
            let guide = DocumentId::new("guide.md").expect("id");
            (
                second.ingest(items(&other), &e, &opts()),
                second.delete(&[guide], &e, &opts()),
                second.reconcile(&e).map(|_| ()),
                second.current_version(),
            )
        });
        // If the writer never paused it has already finished; the send then finds nobody listening.
        let _ = resume_tx.send(());
        let report = writer.join().expect("writer thread").expect("the paused ingest");
        let (ingest, delete, reconcile, current) = during.expect("the ingest paused in its embedder");
        let name = registry_name(s);
        for (what, refused) in
            [("ingest", ingest.map(|_| ())), ("delete", delete.map(|_| ())), ("reconcile", reconcile)]
        {
            match refused {
                Err(Error::WriterLocked { registry }) => assert_eq!(registry, name, "{what}"),
                other => panic!("{what} during another ingest: {other:?}"),
            }
        }
        assert_eq!(current.expect("readers are not locked out"), Some(1));
        assert_eq!((report.docs_new, report.index_version, report.promoted), (1, 2, true));
    });
    // The lock went with the first run: the second registry writes now.
    let rep = s.open().ingest(items(&[("guide.md", GUIDE), ("notes.txt", NOTES), other[0]]), &e, &opts());
    let rep = rep.expect("after the first writer finished");
    assert_eq!((rep.docs_new, rep.docs_unchanged, rep.index_version), (1, 2, 3));
}

/// Another connection's open transaction holding the locks a writer's transaction holds on the document and
/// chunk tables; released when dropped.
enum HeldWrite {
    Sqlite {
        _conn: rusqlite::Connection,
    },
    #[cfg(feature = "postgres")]
    Postgres {
        _conn: ::postgres::Client,
    },
}

fn hold_write_locks(s: &Store) -> HeldWrite {
    let sql = "DELETE FROM documents WHERE valid_to = -1; DELETE FROM chunks WHERE valid_to = -1;";
    match s {
        Store::Sqlite { path, .. } => {
            let c = rusqlite::Connection::open(path).expect("lock holder");
            c.execute_batch(&format!("BEGIN IMMEDIATE; {sql}")).expect("take the write lock");
            HeldWrite::Sqlite { _conn: c }
        }
        #[cfg(feature = "postgres")]
        Store::Postgres { url, schema } => {
            let mut c = ::postgres::Client::connect(url, ::postgres::NoTls).expect("lock holder");
            c.batch_execute(&format!("SET search_path TO {schema}; BEGIN; {sql}")).expect("take row locks");
            HeldWrite::Postgres { _conn: c }
        }
    }
}

/// Opens the store; on PostgreSQL with a lock timeout, so an open that would wait for a lock fails instead.
fn open_without_waiting(s: &Store) -> Result<agentry_ingest::Registry, Error> {
    match s {
        Store::Sqlite { .. } => Ok(s.open()),
        #[cfg(feature = "postgres")]
        Store::Postgres { url, schema } => {
            let sep = if url.contains('?') { '&' } else { '?' };
            agentry_ingest::Registry::open_postgres(
                &format!("{url}{sep}options=-c%20lock_timeout%3D10s"),
                schema,
            )
        }
    }
}

fn opening_does_not_wait_for_a_writer_transaction(s: &Store) {
    let e = HashingEmbedder::new();
    s.open().ingest(items(&[("guide.md", GUIDE)]), &e, &opts()).expect("ingest");
    let held = hold_write_locks(s);
    let mut r = open_without_waiting(s).expect("open while a writer holds its locks");
    assert_eq!(r.current_version().expect("current"), Some(1));
    drop(held);
}

macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        /// The registry tests on SQLite (a file in a temporary folder).
        mod sqlite {
            $(#[test]
            fn $name() {
                super::$name(&crate::common::Store::sqlite());
            })*
        }

        /// The same tests on PostgreSQL, each in its own schema, when `AGENTRY_PG_URL` is set.
        #[cfg(feature = "postgres")]
        mod postgres {
            $(#[test]
            fn $name() {
                let Some(store) = crate::common::Store::postgres() else {
                    eprintln!("AGENTRY_PG_URL is not set: PostgreSQL registry test skipped");
                    return;
                };
                super::$name(&store);
            })*
        }
    };
}

on_every_backend!(
    first_ingest_embeds_every_distinct_chunk_and_promotes,
    unchanged_input_embeds_nothing_and_keeps_the_version,
    an_edit_reembeds_only_the_edited_paragraph,
    an_insertion_before_everything_reembeds_one_chunk,
    full_sync_deletes_missing_documents_and_incremental_does_not,
    deleted_document_can_come_back,
    explicit_delete_builds_a_version_and_unknown_ids_are_errors,
    staged_version_is_invisible_until_promoted_and_rollback_returns,
    a_query_through_another_embedder_is_refused,
    a_new_embedder_embeds_unchanged_documents_into_a_new_version,
    validation_below_the_floor_fails_the_version_and_keeps_the_alias,
    validation_at_or_above_the_floor_promotes,
    retention_keeps_n_versions_and_alias_targets,
    hits_carry_ids_scores_headings_and_version,
    reconcile_repairs_missing_and_orphan_vectors,
    skipped_files_are_reported_and_keep_their_earlier_version,
    readers_during_an_ingest_see_one_whole_version,
    opening_does_not_wait_for_a_writer_transaction,
    a_second_writer_is_refused_while_an_ingest_builds,
    valid_from_stages_a_whole_version_until_its_clock_time,
    a_staged_version_is_served_whole_or_not_at_all,
    nothing_is_served_before_the_first_version_goes_live,
    the_fallback_is_what_was_served_not_a_staged_or_rolled_back_version,
    rollback_and_promote_keep_what_a_staged_version_falls_back_to,
    retention_keeps_what_a_staged_current_falls_back_to,
    an_interrupted_staged_build_leaves_no_schedule_behind,
    a_registry_without_the_schedule_table_gets_it_on_open,
);

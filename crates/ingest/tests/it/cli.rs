//! The command-line tool: JSON field names, version commands, skipped files.

use std::{path::Path, process::Command};

const BIN: &str = env!("CARGO_BIN_EXE_agentry-ingest");

fn run(db: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .arg("--db")
        .arg(db)
        .env_remove(agentry_ingest::FAILPOINT_ENV)
        .output()
        .expect("run the binary");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn index_query_delete_promote_rollback() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("docs");
    std::fs::create_dir_all(&src).expect("mkdir");
    std::fs::write(src.join("own.md"), "# Ownership\n\nEach value has an owner.\n").expect("write");
    std::fs::write(src.join("bor.md"), "# Borrowing\n\nReferences borrow values.\n").expect("write");
    std::fs::write(src.join("blob.bin"), b"\0\x01\x02").expect("write");
    let db = dir.path().join("r.db");
    let src_s = src.to_str().expect("utf-8 temp path");

    let (ok, out, err) = run(&db, &["index", src_s, "--json"]);
    assert!(ok, "{err}");
    let rep = json(&out);
    for (field, want) in [
        ("docs_new", 2),
        ("docs_changed", 0),
        ("docs_unchanged", 0),
        ("docs_deleted", 0),
        ("chunks_embedded", 4),
        ("chunks_reused", 0),
        ("index_version", 1),
    ] {
        assert_eq!(rep[field], want, "{field} in {out}");
    }
    assert_eq!(rep["skipped"][0]["reason"], "binary (contains NUL bytes)");

    let (ok, out, _) = run(&db, &["query", "borrow references", "--k", "2", "--json"]);
    assert!(ok);
    let q = json(&out);
    let hit = &q["hits"][0];
    assert_eq!(hit["doc_id"], "bor.md");
    assert_eq!(hit["index_version"], 1);
    assert!(hit["chunk_id"].as_str().is_some_and(|c| c.len() == 64), "{out}");
    assert!(hit["score"].as_f64().is_some_and(|s| s > 0.0));
    assert!(hit["source"].as_str().is_some_and(|s| s.ends_with("bor.md")));

    let (ok, out, _) = run(&db, &["delete", "bor.md", "--json"]);
    assert!(ok);
    assert_eq!(json(&out)["index_version"], 2);
    let (ok, _, err) = run(&db, &["delete", "bor.md"]);
    assert!(!ok);
    assert!(err.contains("no active document \"bor.md\""), "{err}");

    let (ok, out, _) = run(&db, &["status", "--json"]);
    assert!(ok);
    let st = json(&out);
    assert_eq!((st["current_version"].as_u64(), st["documents_active"].as_u64()), (Some(2), Some(1)));

    let (ok, out, _) = run(&db, &["rollback"]);
    assert!(ok);
    assert_eq!(out.trim(), "current -> 1");
    let (ok, _, _) = run(&db, &["promote", "2"]);
    assert!(ok);
    let (ok, out, _) = run(&db, &["versions", "--json"]);
    assert!(ok);
    let v = json(&out);
    assert_eq!(v[1]["current"], true);
    assert_eq!(v[1]["documents"], 1);

    let (ok, _, err) = run(&db, &["promote", "7"]);
    assert!(!ok);
    assert!(err.contains("no index version 7"), "{err}");
    let (ok, out, _) = run(&db, &["reconcile", "--json"]);
    assert!(ok);
    assert_eq!(json(&out)["builds_undone"], 0);
}

#[test]
fn no_promote_stages_and_query_on_empty_registry_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("docs");
    std::fs::create_dir_all(&src).expect("mkdir");
    std::fs::write(src.join("a.txt"), "alpha").expect("write");
    let db = dir.path().join("r.db");
    let (ok, _, err) = run(&db, &["query", "alpha"]);
    assert!(!ok);
    assert!(err.contains("no index version has been promoted yet"), "{err}");
    let (ok, out, _) = run(&db, &["index", src.to_str().expect("utf-8"), "--no-promote", "--json"]);
    assert!(ok);
    assert_eq!(json(&out)["promoted"], false);
    let (ok, _, _) = run(&db, &["query", "alpha"]);
    assert!(!ok);
    let (ok, _, _) = run(&db, &["promote", "1"]);
    assert!(ok);
    let (ok, out, _) = run(&db, &["query", "alpha", "--json"]);
    assert!(ok);
    assert_eq!(json(&out)["hits"][0]["doc_id"], "a.txt");
}

#[test]
fn valid_from_on_index_and_delete_and_at_on_query() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("docs");
    std::fs::create_dir_all(&src).expect("mkdir");
    std::fs::write(src.join("a.txt"), "alpha").expect("write");
    std::fs::write(src.join("b.txt"), "beta").expect("write");
    let db = dir.path().join("r.db");
    let src_s = src.to_str().expect("utf-8 temp path");
    assert!(run(&db, &["index", src_s]).0);
    std::fs::write(src.join("a.txt"), "alpha gamma").expect("write");
    let (ok, _, err) = run(&db, &["index", src_s, "--valid-from", "2999-01-01T00:00:00Z"]);
    assert!(ok, "{err}");
    let version_at = |at: &str, text: &str| {
        let (ok, out, err) = run(&db, &["query", text, "--at", at, "--mode", "lexical", "--json"]);
        assert!(ok, "{err}");
        let v = json(&out);
        (v["index_version"].as_u64(), v["hits"].as_array().map_or(0, Vec::len))
    };
    assert_eq!(version_at("2998-12-31T23:59:59Z", "gamma"), (Some(1), 0));
    assert_eq!(version_at("2999-01-01T00:00:00Z", "gamma"), (Some(2), 1));
    // Without --at the query runs now, before the clock time; --version ignores the schedule.
    let (ok, out, _) = run(&db, &["query", "gamma", "--json"]);
    assert!(ok);
    assert_eq!(json(&out)["index_version"], 1);
    let (ok, out, _) = run(&db, &["query", "gamma", "--version", "2", "--json"]);
    assert!(ok);
    assert_eq!(json(&out)["index_version"], 2);
    let (ok, out, _) = run(&db, &["status", "--json"]);
    assert!(ok);
    let status = json(&out);
    assert_eq!(
        (&status["current_version"], &status["current_live_from"], &status["live_version"]),
        (&serde_json::json!(2), &serde_json::json!("2999-01-01T00:00:00.000Z"), &serde_json::json!(1))
    );

    // A deletion staged for a later time than version 2's: b.txt is there until then.
    let (ok, _, err) = run(&db, &["delete", "b.txt", "--valid-from", "3000-01-01T00:00:00Z"]);
    assert!(ok, "{err}");
    assert_eq!(version_at("2999-06-01T00:00:00Z", "beta"), (Some(2), 1));
    assert_eq!(version_at("3000-01-01T00:00:00Z", "beta"), (Some(3), 0));

    for args in [
        &["index", src_s, "--valid-from", "tomorrow"][..],
        &["query", "alpha", "--at", "2999-13-01T00:00:00Z"][..],
        &["delete", "a.txt", "--valid-from", "2999-01-01"][..],
    ] {
        let (ok, _, err) = run(&db, args);
        assert!(!ok, "{args:?}");
        assert!(err.contains(args[args.len() - 1]) && err.contains("invalid timestamp"), "{args:?}: {err}");
    }
}

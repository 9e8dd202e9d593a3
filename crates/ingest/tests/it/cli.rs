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

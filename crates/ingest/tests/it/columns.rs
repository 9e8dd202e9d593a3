//! Column policy: the seed article's two runs as golden tests, adversarial columns, JSON Lines, the audit
//! log, the command line and (with `judge-anthropic`) the Messages API judge against a loopback server.
//!
//! Data files under tests/data/columns/ are the output of the generators in columns_data.rs; a test checks
//! they still are. `UPDATE_GOLDEN=1 cargo test -p agentry-ingest --test it columns` rewrites data and goldens.

#[path = "columns_data.rs"]
mod data;
#[path = "columns_props.rs"]
mod props;

use std::path::{Path, PathBuf};

use agentry_ingest::{
    Classifier, ColumnPolicy, ColumnReport, Decision, DltMode, JudgeError, ProfileOptions, Profiler,
    SqlDialect, ValueJudge, create_view_sql, profile_paths, write_audit,
};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/columns")
}

fn update() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some()
}

/// The committed data file `name`, checked against (or, under UPDATE_GOLDEN, rewritten from) its generator.
fn data_file(name: &str, generated: &str) -> PathBuf {
    let path = data_dir().join(name);
    if update() {
        std::fs::create_dir_all(data_dir()).expect("create data dir");
        std::fs::write(&path, generated).expect("write data");
    }
    let committed = std::fs::read_to_string(&path).expect("committed data file");
    assert_eq!(committed, generated, "{name} differs from its generator; rerun with UPDATE_GOLDEN=1");
    path
}

fn classify(paths: &[PathBuf]) -> ColumnReport {
    let policy = ColumnPolicy::builtin();
    let table = profile_paths(paths, ProfileOptions::default()).expect("profile");
    Classifier::new(&policy).classify_table(&table)
}

/// The report as the golden JSON: per column name, dtype, decision, escalated, dlt_mode, reason.
fn golden_json(report: &ColumnReport) -> String {
    let cols: Vec<serde_json::Value> = report
        .columns
        .iter()
        .map(|c| {
            serde_json::json!({
                "name": c.name,
                "dtype": c.stats.dtype,
                "decision": c.decision,
                "escalated": c.escalated,
                "dlt_mode": c.dlt_mode,
                "reason": c.reason,
            })
        })
        .collect();
    serde_json::to_string_pretty(&cols).expect("serialize") + "\n"
}

fn check_golden(name: &str, report: &ColumnReport) {
    let path = data_dir().join(name);
    let got = golden_json(report);
    if update() {
        std::fs::write(&path, &got).expect("write golden");
    }
    let want = std::fs::read_to_string(&path).expect("golden file");
    assert_eq!(got, want, "{name} changed; rerun with UPDATE_GOLDEN=1 and review the diff");
}

fn decisions(report: &ColumnReport) -> Vec<(&str, Decision, bool)> {
    report.columns.iter().map(|c| (c.name.as_str(), c.decision, c.escalated)).collect()
}

use Decision::{Pass, Reject};

#[test]
fn seed_run1() {
    let report = classify(&[data_file("run1.csv", &data::run1_csv())]);
    assert_eq!(
        decisions(&report),
        [
            ("id", Pass, false),
            ("full_name", Reject, false),
            ("email", Reject, false),
            ("transaction_volume_30d", Pass, false),
            ("kyc_status", Pass, false),
        ]
    );
    assert_eq!(report.safe_columns(), ["id", "transaction_volume_30d", "kyc_status"]);
    check_golden("run1.expected.json", &report);
}

#[test]
fn seed_run2_same_policy() {
    let report = classify(&[data_file("run2.csv", &data::run2_csv())]);
    assert_eq!(
        decisions(&report),
        [
            ("id", Pass, false),
            ("full_name", Reject, false),
            ("email", Reject, false),
            ("transaction_volume_30d", Pass, false),
            ("kyc_status", Pass, false),
            ("fraud_risk_score", Pass, false),
            ("outstanding_balance_usd", Pass, false),
            ("risk_tier", Pass, false),
            ("user_ref", Pass, true),
            ("phone_number", Reject, false),
        ]
    );
    let user_ref = &report.columns[8];
    assert!(user_ref.reason.contains("UUIDs"), "{}", user_ref.reason);
    assert_eq!(user_ref.dlt_mode, DltMode::Evolve);
    assert_eq!(report.columns[9].dlt_mode, DltMode::DiscardValue);
    check_golden("run2.expected.json", &report);
}

#[test]
fn adversarial_columns() {
    let report = classify(&[data_file("adversarial.csv", &data::adversarial_csv())]);
    assert_eq!(
        decisions(&report),
        [
            ("id", Pass, false),
            ("memo", Reject, true),
            ("ref_a", Reject, true),
            ("misc_number", Reject, true),
            ("payload", Reject, true),
            ("contact", Reject, true),
            ("origin", Reject, true),
            ("bank_ref", Reject, true),
            ("tax_ref", Reject, true),
            ("location", Reject, true),
            ("order_code", Pass, true),
            ("tracking_token", Pass, true),
            ("comment", Pass, true),
            ("unzipped_bytes", Pass, false),
        ]
    );
    let reason = |n: &str| report.columns.iter().find(|c| c.name == n).expect("column").reason.clone();
    for (col, word) in [
        ("memo", "email"),
        ("ref_a", "phone"),
        ("misc_number", "payment card"),
        ("payload", "payment card"),
        ("contact", "person names"),
        ("origin", "IP addresses"),
        ("bank_ref", "IBAN"),
        ("tax_ref", "social security"),
        ("location", "street addresses"),
        ("order_code", "short codes"),
        ("tracking_token", "hex identifiers"),
        ("comment", "non-personal description"),
    ] {
        assert!(reason(col).contains(word), "{col}: {}", reason(col));
    }
    check_golden("adversarial.expected.json", &report);
}

#[test]
fn bare_phone_numbers() {
    let report = classify(&[data_file("bare_phones.csv", &data::bare_phones_csv())]);
    assert_eq!(
        decisions(&report),
        [
            ("id", Pass, false),
            ("ref_b", Reject, true),
            ("ref_c", Reject, true),
            ("ref_d", Reject, true),
            ("ref_e", Reject, true),
            ("created_unix", Pass, false),
            ("created_ms", Pass, true),
            ("seq_ref", Pass, true),
            ("random_ref", Pass, true),
            ("order_no", Pass, false),
            ("padded_code", Pass, true),
        ]
    );
    let col = |n: &str| report.columns.iter().find(|c| c.name == n).expect("column");
    for name in ["ref_b", "ref_c", "ref_d", "ref_e"] {
        assert!(col(name).reason.contains("phone numbers"), "{name}: {}", col(name).reason);
    }
    assert_eq!(col("ref_b").stats.dtype, agentry_ingest::Dtype::Text);
    assert_eq!(col("ref_c").stats.dtype, agentry_ingest::Dtype::Integer);
    assert!(col("seq_ref").reason.contains("a run of identifiers"), "{}", col("seq_ref").reason);
    assert!(col("padded_code").reason.contains("short codes"), "{}", col("padded_code").reason);
    check_golden("bare_phones.expected.json", &report);
}

#[test]
fn bare_phone_numbers_in_jsonl() {
    // Typed JSON: the US numbers are JSON integers, the UK ones (leading 0) strings.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bare_phones.jsonl");
    std::fs::write(&path, data::csv_to_jsonl(&data::bare_phones_csv())).expect("write");
    assert_eq!(decisions(&classify(&[path])), decisions(&classify(&[data_dir().join("bare_phones.csv")])));
}

#[test]
fn jsonl_decides_like_csv() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("run2.jsonl");
    std::fs::write(&path, data::csv_to_jsonl(&data::run2_csv())).expect("write");
    let from_jsonl = classify(&[path]);
    let from_csv = classify(&[data_dir().join("run2.csv")]);
    assert_eq!(decisions(&from_jsonl), decisions(&from_csv));
}

#[test]
fn tsv_decides_like_csv() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("run1.tsv");
    // The generated run 1 has no commas or tabs inside fields, so swapping the delimiter is exact.
    std::fs::write(&path, data::run1_csv().replace(',', "\t")).expect("write");
    assert_eq!(decisions(&classify(&[path])), decisions(&classify(&[data_dir().join("run1.csv")])));
}

#[test]
fn unknown_extension_is_an_error() {
    let err = profile_paths(&[Path::new("data.xlsx")], ProfileOptions::default()).expect_err("xlsx");
    assert!(
        matches!(err, agentry_ingest::ProfileError::UnknownFormat { ref file } if file == "data.xlsx"),
        "{err}"
    );
}

#[test]
fn two_batches_form_one_table() {
    // Run 1 then run 2 as batches of one load: run 2's new columns are null in run 1's rows.
    let report = classify(&[data_dir().join("run1.csv"), data_dir().join("run2.csv")]);
    assert_eq!(report.rows, 2 * data::ROWS as u64);
    let user_ref = report.columns.iter().find(|c| c.name == "user_ref").expect("user_ref");
    assert_eq!(user_ref.stats.nulls, data::ROWS as u64);
    assert_eq!(user_ref.decision, Pass);
}

#[test]
fn view_over_safe_columns() {
    let report = classify(&[data_dir().join("run2.csv")]);
    let sql =
        create_view_sql("analytics.customers_safe", "run2", &report.safe_columns(), SqlDialect::Postgres)
            .expect("view");
    assert_eq!(
        sql,
        "DROP VIEW IF EXISTS \"analytics\".\"customers_safe\";\nCREATE VIEW \"analytics\".\"customers_safe\" AS\n\
         SELECT\n  \"id\",\n  \"transaction_volume_30d\",\n  \"kyc_status\",\n  \"fraud_risk_score\",\n  \
         \"outstanding_balance_usd\",\n  \"risk_tier\",\n  \"user_ref\"\nFROM \"run2\";\n"
    );
}

/// Creates `table` in SQLite with the CSV's header as columns and loads its rows.
fn sqlite_table(conn: &rusqlite::Connection, table: &str, csv_path: &Path) {
    let mut rdr = csv::Reader::from_path(csv_path).expect("csv");
    let header: Vec<String> = rdr.headers().expect("header").iter().map(str::to_owned).collect();
    let q = |c: &str| agentry_ingest::quote_ident(c, SqlDialect::Sqlite).expect("quotable");
    let cols = header.iter().map(|c| q(c)).collect::<Vec<_>>().join(", ");
    conn.execute_batch(&format!("CREATE TABLE {} ({cols});", q(table))).expect("create table");
    let marks = vec!["?"; header.len()].join(", ");
    let mut insert = conn.prepare(&format!("INSERT INTO {} VALUES ({marks})", q(table))).expect("prepare");
    for rec in rdr.records() {
        let rec = rec.expect("record");
        insert.execute(rusqlite::params_from_iter(rec.iter())).expect("insert");
    }
}

#[test]
fn sqlite_runs_the_view() {
    let path = data_dir().join("run2.csv");
    let report = classify(std::slice::from_ref(&path));
    let conn = rusqlite::Connection::open_in_memory().expect("sqlite");
    sqlite_table(&conn, "run2", &path);
    let sql = create_view_sql("main.customers_safe", "run2", &report.safe_columns(), SqlDialect::Sqlite)
        .expect("view");
    // Twice: the DROP VIEW IF EXISTS makes the statement rerunnable when the safe columns change.
    conn.execute_batch(&sql).expect("create view");
    conn.execute_batch(&sql).expect("recreate view");
    let mut stmt = conn.prepare("SELECT * FROM customers_safe ORDER BY CAST(id AS INTEGER)").expect("select");
    assert_eq!(stmt.column_names(), report.safe_columns());
    let rows: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get("id")?, r.get("user_ref")?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(rows.len(), data::ROWS);
    assert_eq!(rows[0].0, "1");
    assert_eq!(rows[0].1.len(), 36, "a UUID: {}", rows[0].1);
    // The rejected columns are not reachable through the view.
    for rejected in ["full_name", "email", "phone_number"] {
        let err = conn.prepare(&format!("SELECT {rejected} FROM customers_safe")).expect_err(rejected);
        assert!(err.to_string().contains("no such column"), "{err}");
    }
}

#[test]
fn sqlite_view_quotes_awkward_names() {
    // A keyword, an embedded quote, a space and mixed case all survive quoting as column names.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.csv");
    std::fs::write(&path, "select,\"a\"\"b\",kyc status,Amount\n1,x,ok,2.5\n").expect("write");
    let conn = rusqlite::Connection::open_in_memory().expect("sqlite");
    sqlite_table(&conn, "order", &path);
    let cols = ["select", "a\"b", "kyc status", "Amount"];
    let sql = create_view_sql("order view", "order", &cols, SqlDialect::Sqlite).expect("view");
    conn.execute_batch(&sql).expect("create view");
    let mut stmt = conn.prepare("SELECT * FROM \"order view\"").expect("select");
    assert_eq!(stmt.column_names(), cols);
    let row: (String, String, String, String) =
        stmt.query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).expect("one row");
    assert_eq!(row, ("1".into(), "x".into(), "ok".into(), "2.5".into()));
}

#[test]
fn audit_log_lines() {
    let report = classify(&[data_dir().join("run1.csv")]);
    let mut out = Vec::new();
    write_audit(&mut out, "run1.csv", &report).expect("write");
    let text = String::from_utf8(out).expect("utf-8");
    let lines: Vec<serde_json::Value> =
        text.lines().map(|l| serde_json::from_str(l).expect("each line is JSON")).collect();
    assert_eq!(lines.len(), 5);
    let email = &lines[2];
    assert_eq!(email["column"], "email");
    assert_eq!(email["decision"], "reject");
    assert_eq!(email["dlt_mode"], "discard_value");
    assert_eq!(email["judge"], serde_json::Value::Null);
    assert_eq!(email["policy_hash"], ColumnPolicy::builtin().hash());
    assert_eq!(email["stats"]["rows"], data::ROWS);
    assert!(email["at"].as_str().is_some_and(|t| t.parse::<agentry_types::Timestamp>().is_ok()));
    assert_eq!(email["source"], "run1.csv");
    assert_eq!(email["escalated"], false);
    assert_eq!(email["reason"], report.columns[2].reason.as_str());
    let reason = email["reason"].as_str().expect("reason");
    assert!(reason.starts_with("name matches personal-information fragment `email` (contact)"), "{reason}");
    let kyc = &lines[4];
    assert_eq!((kyc["column"].as_str(), kyc["decision"].as_str()), (Some("kyc_status"), Some("pass")));
    assert_eq!(kyc["escalated"], false);
    assert!(kyc["reason"].as_str().is_some_and(|r| r.starts_with("low-cardinality text")), "{kyc}");
    // The audit log carries statistics, never sampled values.
    assert!(!text.contains("@example"), "sampled values leaked into the audit log");
}

#[test]
fn audit_log_names_the_judge() {
    let policy = ColumnPolicy::builtin();
    let table =
        profile_paths(&[data_dir().join("adversarial.csv")], ProfileOptions::default()).expect("profile");
    let judge = Scripted(std::sync::Mutex::new(vec![Ok(
        r#"{"decision":"reject","reason":"free text about shipments to people"}"#.to_owned(),
    )]));
    let report = Classifier::new(&policy).with_judge(&judge, 3).classify_table(&table);
    let mut out = Vec::new();
    write_audit(&mut out, "adversarial.csv", &report).expect("write");
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), report.columns.len());
    let comment = lines.iter().find(|l| l["column"] == "comment").expect("comment");
    assert_eq!(comment["judge"], "scripted");
    assert_eq!(comment["decision"], "reject");
    assert_eq!(comment["escalated"], true);
    let reason = comment["reason"].as_str().expect("reason");
    assert!(reason.contains("judge scripted: free text about shipments to people"), "{reason}");
    // The columns the inspectors decided name no judge, escalated or not.
    for l in lines.iter().filter(|l| l["column"] != "comment") {
        assert_eq!(l["judge"], serde_json::Value::Null, "{l}");
    }
    let memo = lines.iter().find(|l| l["column"] == "memo").expect("memo");
    assert_eq!((memo["escalated"].as_bool(), memo["decision"].as_str()), (Some(true), Some("reject")));
}

#[test]
fn policy_file_changes_decisions() {
    // Short free text (two words: not prose, not one machine shape, no recognised personal information): the
    // built-in policy fails closed on it, and a policy file can say such text passes.
    let dir = tempfile::tempdir().expect("tempdir");
    let words = ["hold", "wait", "north", "dock", "blue", "late"];
    let mut csv = String::from("id,tag\n");
    for i in 0..1_000 {
        csv.push_str(&format!("{i},{} {}\n", words[i % words.len()], i * 7 % 997));
    }
    let path = dir.path().join("tags.csv");
    std::fs::write(&path, csv).expect("write");
    let table = profile_paths(&[path], ProfileOptions::default()).expect("profile");
    let tag = |policy: &ColumnPolicy| {
        let report = Classifier::new(policy).classify_table(&table);
        assert_eq!(report.policy_hash, policy.hash());
        report.columns.into_iter().find(|c| c.name == "tag").expect("tag")
    };
    let builtin = tag(&ColumnPolicy::builtin());
    assert_eq!((builtin.decision, builtin.escalated), (Reject, true), "{}", builtin.reason);
    assert!(builtin.reason.contains("fails closed"), "{}", builtin.reason);
    let text = agentry_ingest::BUILTIN_POLICY
        .replace("unrecognized_text = \"reject\"", "unrecognized_text = \"pass\"");
    assert_ne!(text, agentry_ingest::BUILTIN_POLICY);
    let lenient = ColumnPolicy::from_toml(&text, "lenient.toml").expect("valid");
    let passed = tag(&lenient);
    assert_eq!((passed.decision, passed.escalated), (Pass, true));
    assert!(passed.reason.contains("non-personal description"), "{}", passed.reason);
}

#[test]
fn prose_naming_a_person_is_not_a_description() {
    // The same notes pass as a description until some of them name somebody.
    let dir = tempfile::tempdir().expect("tempdir");
    let notes = ["parcel left at the depot", "customer asked for a refund", "label reprinted after damage"];
    let write = |name: &str, with_names: bool| {
        let mut csv = String::from("id,note\n");
        for i in 0..1_000 {
            let note = if with_names && i % 10 == 0 {
                format!("called Ivan Petrov about order {i}")
            } else {
                format!("{} {i}", notes[i % notes.len()])
            };
            csv.push_str(&format!("{i},{note}\n"));
        }
        let path = dir.path().join(name);
        std::fs::write(&path, csv).expect("write");
        let table = profile_paths(&[path], ProfileOptions::default()).expect("profile");
        let report = Classifier::new(&ColumnPolicy::builtin()).classify_table(&table);
        report.columns.into_iter().find(|c| c.name == "note").expect("note")
    };
    let plain = write("plain.csv", false);
    assert_eq!((plain.decision, plain.escalated), (Pass, true), "{}", plain.reason);
    assert!(plain.reason.contains("non-personal description"), "{}", plain.reason);
    let named = write("named.csv", true);
    assert_eq!((named.decision, named.escalated), (Reject, true), "{}", named.reason);
}

#[test]
fn sample_is_seeded_not_first_rows() {
    let opts = ProfileOptions { sample_size: 10, ..ProfileOptions::default() };
    let profile = |o: ProfileOptions| {
        let mut p = Profiler::new(o);
        p.read_path(&data_dir().join("run1.csv")).expect("read");
        p.finish()
    };
    let a = profile(opts);
    let b = profile(opts);
    let c = profile(ProfileOptions { seed: 99, ..opts });
    let ids = |t: &agentry_ingest::TableProfile| t.columns[0].sample.clone();
    assert_eq!(ids(&a), ids(&b));
    assert_ne!(ids(&a), ids(&c));
    let first: Vec<String> = (1..=10).map(|i| i.to_string()).collect();
    assert_ne!(ids(&a), first);
}

/// A judge that records the sampled values of each prompt and passes every column.
#[derive(Debug, Default)]
struct Recording(std::sync::Mutex<Vec<Vec<String>>>);

impl ValueJudge for Recording {
    fn name(&self) -> String {
        "recording".to_owned()
    }
    fn complete(&self, _: &str, prompt: &str) -> Result<String, JudgeError> {
        let line =
            prompt.lines().find_map(|l| l.strip_prefix("Sampled values (JSON): ")).expect("sample line");
        let sample: Vec<String> = serde_json::from_str(line).expect("sample is a JSON array of strings");
        self.0.lock().expect("lock").push(sample);
        Ok(r#"{"decision":"pass","reason":"recorded"}"#.to_owned())
    }
}

/// What the judge is shown of `comment` in adversarial.csv under a profile seed.
fn judge_sample(seed: u64) -> Vec<String> {
    let policy = ColumnPolicy::builtin();
    let opts = ProfileOptions { seed, ..ProfileOptions::default() };
    let table = profile_paths(&[data_dir().join("adversarial.csv")], opts).expect("profile");
    let judge = Recording::default();
    Classifier::new(&policy).with_judge(&judge, 1).classify_table(&table);
    let mut seen = judge.0.into_inner().expect("lock");
    assert_eq!(seen.len(), 1, "only `comment` reaches the judge");
    seen.remove(0)
}

#[test]
fn judge_sees_a_seeded_random_subset() {
    // 400 rows fit in the 1,000-value reservoir, so the sample holds them in row order: the judge must
    // not be shown the first 20 of them.
    let mut rdr = csv::Reader::from_path(data_dir().join("adversarial.csv")).expect("csv");
    let at = rdr.headers().expect("header").iter().position(|h| h == "comment").expect("comment");
    let comments: Vec<String> =
        rdr.records().map(|r| r.expect("record").get(at).expect("field").to_owned()).collect();
    let seed = ProfileOptions::default().seed;
    let shown = judge_sample(seed);
    assert_eq!(shown.len(), 20);
    assert_ne!(shown, comments[..20]);
    assert!(shown.iter().all(|v| comments.contains(v)), "{shown:?}");
    // Deterministic given the profile seed, and another seed draws another subset.
    assert_eq!(judge_sample(seed), shown);
    assert_ne!(judge_sample(seed ^ 1), shown);
    // Drawn from the whole table, not one end of it: some value comes from past the first half.
    let positions: Vec<usize> =
        shown.iter().map(|v| comments.iter().position(|c| c == v).expect("a comment")).collect();
    assert!(positions.iter().any(|&p| p >= comments.len() / 2), "{positions:?}");
}

/// A judge that answers from a script, to exercise retries and the fail-closed rule through the classifier.
#[derive(Debug)]
struct Scripted(std::sync::Mutex<Vec<Result<String, String>>>);

impl ValueJudge for Scripted {
    fn name(&self) -> String {
        "scripted".to_owned()
    }
    fn complete(&self, system: &str, prompt: &str) -> Result<String, JudgeError> {
        assert!(system.contains("JSON"));
        assert!(prompt.contains("Column: comment"), "{prompt}");
        let mut v = self.0.lock().expect("lock");
        match v.remove(0) {
            Ok(a) => Ok(a),
            Err(e) => Err(JudgeError::Transport(e)),
        }
    }
}

fn judged(script: Vec<Result<String, String>>) -> agentry_ingest::ColumnDecision {
    let policy = ColumnPolicy::builtin();
    let table =
        profile_paths(&[data_dir().join("adversarial.csv")], ProfileOptions::default()).expect("profile");
    let judge = Scripted(std::sync::Mutex::new(script));
    let report = Classifier::new(&policy).with_judge(&judge, 3).classify_table(&table);
    report.columns.into_iter().find(|c| c.name == "comment").expect("comment")
}

#[test]
fn judge_decides_unrecognized_text_only() {
    // Only `comment` reaches the judge (the Scripted judge asserts it); the inspectors decide the rest.
    let d = judged(vec![Ok(r#"{"decision":"reject","reason":"mentions customers"}"#.to_owned())]);
    assert_eq!((d.decision, d.escalated), (Reject, true));
    assert_eq!(d.judge.as_deref(), Some("scripted"));
    assert!(d.reason.contains("mentions customers"), "{}", d.reason);
}

#[test]
fn judge_retries_then_fails_closed() {
    let d = judged(vec![
        Err("connection reset".to_owned()),
        Ok("I think it is fine".to_owned()),
        Ok("{}".to_owned()),
    ]);
    assert_eq!(d.decision, Reject);
    assert!(d.reason.contains("failing closed"), "{}", d.reason);
}

#[cfg(feature = "cli")]
mod cli {
    use std::process::Command;

    use super::*;

    fn run(args: &[&str]) -> (i32, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_agentry-ingest"))
            .arg("columns")
            .args(args)
            .output()
            .expect("run");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn path(name: &str) -> String {
        data_dir().join(name).display().to_string()
    }

    #[test]
    fn json_output() {
        let (code, stdout, stderr) =
            run(&[&path("run2.csv"), "--json", "--sql-view", "safe", "--dialect", "sqlite"]);
        assert_eq!(code, 0, "{stderr}");
        let v: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
        let cols = v["columns"].as_array().expect("columns");
        assert_eq!(cols.len(), 10);
        let user_ref = &cols[8];
        assert_eq!(user_ref["name"], "user_ref");
        assert_eq!(user_ref["decision"], "pass");
        assert_eq!(user_ref["escalated"], true);
        assert_eq!(user_ref["dlt_mode"], "evolve");
        assert!(user_ref["reason"].as_str().is_some_and(|r| !r.is_empty()));
        assert!(v["view"].as_str().is_some_and(|s| s.starts_with("DROP VIEW IF EXISTS \"safe\";")));
        assert!(v["view"].as_str().is_some_and(|s| s.contains("FROM \"run2\"")));
    }

    #[test]
    fn strict_exits_1_and_freezes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let audit = dir.path().join("audit.jsonl");
        let audit_s = audit.display().to_string();
        let (code, stdout, _) = run(&[&path("run1.csv"), "--json", "--strict", "--audit", &audit_s]);
        assert_eq!(code, 1);
        let v: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
        assert_eq!(v["columns"][1]["dlt_mode"], "freeze");
        let lines = std::fs::read_to_string(&audit).expect("audit");
        assert_eq!(lines.lines().count(), 5);
        // Appends.
        run(&[&path("run1.csv"), "--audit", &audit_s]);
        assert_eq!(std::fs::read_to_string(&audit).expect("audit").lines().count(), 10);
    }

    #[test]
    fn human_output() {
        let (code, stdout, stderr) = run(&[&path("run2.csv")]);
        assert_eq!(code, 0, "{stderr}");
        assert!(stdout.contains("escalated->pass"), "{stdout}");
        assert!(stdout.contains("safe columns: id, transaction_volume_30d, kyc_status"), "{stdout}");
    }

    #[test]
    fn bad_policy_names_file_line_field() {
        let dir = tempfile::tempdir().expect("tempdir");
        let policy = dir.path().join("p.toml");
        let text = agentry_ingest::BUILTIN_POLICY.replace("reject_fraction = 0.05", "reject_fraction = 5");
        std::fs::write(&policy, &text).expect("write");
        let line = text.lines().position(|l| l.starts_with("reject_fraction =")).expect("line") + 1;
        let (code, _, stderr) = run(&[&path("run1.csv"), "--policy", &policy.display().to_string()]);
        assert_eq!(code, 2);
        assert!(stderr.contains(&format!("p.toml:{line}: field `inspection.reject_fraction`")), "{stderr}");
    }

    #[test]
    fn bad_data_names_file_and_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("bad.csv");
        std::fs::write(&f, "a,b\n1,2\n3\n").expect("write");
        let (code, _, stderr) = run(&[&f.display().to_string()]);
        assert_eq!(code, 2);
        assert!(stderr.contains("bad.csv:3:"), "{stderr}");
    }

    #[test]
    fn print_policy_round_trips() {
        let (code, stdout, _) = run(&["--print-policy"]);
        assert_eq!(code, 0);
        assert_eq!(stdout, agentry_ingest::BUILTIN_POLICY);
    }
}

#[cfg(feature = "judge-anthropic")]
mod anthropic {
    use std::{
        io::{BufRead, BufReader, Read, Write},
        net::TcpListener,
        sync::mpsc,
        thread,
    };

    use agentry_ingest::AnthropicJudge;

    use super::*;

    /// One captured request: request line, lowercase headers, body.
    type Captured = (String, Vec<(String, String)>, String);

    /// A loopback HTTP/1.1 server that answers each connection with the next scripted (status, body).
    fn serve(script: Vec<(u16, String)>) -> (String, mpsc::Receiver<Captured>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for (status, body) in script {
                let Ok((stream, _)) = listener.accept() else { return };
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut request_line = String::new();
                reader.read_line(&mut request_line).expect("request line");
                let mut headers = Vec::new();
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).expect("header");
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':') {
                        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
                    }
                }
                let len: usize = headers
                    .iter()
                    .find(|(k, _)| k == "content-length")
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0);
                let mut buf = vec![0; len];
                reader.read_exact(&mut buf).expect("body");
                let _ = tx.send((
                    request_line.trim_end().to_owned(),
                    headers,
                    String::from_utf8_lossy(&buf).into(),
                ));
                let mut stream = stream;
                let resp = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(resp.as_bytes());
            }
        });
        (format!("http://{addr}"), rx)
    }

    /// A loopback address whose listener stays bound and closes every connection it accepts: reliably
    /// unreachable for HTTP, with no window in which another process could take the port.
    fn closing_server() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("addr");
        thread::spawn(move || {
            for stream in listener.incoming() {
                drop(stream);
            }
        });
        format!("http://{addr}")
    }

    fn message(text: &str) -> String {
        serde_json::json!({
            "id": "msg_1", "type": "message", "role": "assistant", "model": "m",
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn", "usage": {"input_tokens": 1, "output_tokens": 1}
        })
        .to_string()
    }

    #[test]
    fn request_shape_and_answer() {
        let (url, rx) = serve(vec![(200, message(r#"{"decision":"pass","reason":"shipment notes"}"#))]);
        let judge = AnthropicJudge::new(&url, "test-key", "claude-test");
        let answer = judge.complete("sys", "prompt text").expect("answer");
        assert_eq!(answer, r#"{"decision":"pass","reason":"shipment notes"}"#);
        let (line, headers, body) = rx.recv().expect("captured");
        assert_eq!(line, "POST /v1/messages HTTP/1.1");
        let h = |k: &str| headers.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(h("x-api-key").as_deref(), Some("test-key"));
        assert_eq!(h("anthropic-version").as_deref(), Some("2023-06-01"));
        let body: serde_json::Value = serde_json::from_str(&body).expect("JSON body");
        assert_eq!(body["model"], "claude-test");
        assert_eq!(body["system"], "sys");
        assert_eq!(body["messages"][0]["role"], "user");
        assert_eq!(body["messages"][0]["content"], "prompt text");
        assert!(body["max_tokens"].as_u64().is_some());
    }

    #[test]
    fn classifier_retries_over_http_then_decides() {
        // An overloaded error, then prose, then a valid verdict: the third attempt decides.
        let (url, _rx) = serve(vec![
            (
                529,
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#.to_owned(),
            ),
            (200, message("The column looks fine to me.")),
            (200, message(r#"{"decision":"pass","reason":"operational shipment notes"}"#)),
        ]);
        let judge = AnthropicJudge::new(&url, "k", "claude-test");
        let policy = ColumnPolicy::builtin();
        let table =
            profile_paths(&[data_dir().join("adversarial.csv")], ProfileOptions::default()).expect("profile");
        let report = Classifier::new(&policy).with_judge(&judge, 3).classify_table(&table);
        let c = report.columns.iter().find(|c| c.name == "comment").expect("comment");
        assert_eq!(c.decision, Pass, "{}", c.reason);
        assert_eq!(c.judge.as_deref(), Some("anthropic:claude-test"));
    }

    #[cfg(feature = "cli")]
    #[test]
    fn cli_judge_flag() {
        let (url, rx) = serve(vec![(200, message(r#"{"decision":"reject","reason":"free-text remarks"}"#))]);
        // A proxy in the environment that would fail every request: the loopback judge must bypass it.
        let proxy = closing_server();
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_agentry-ingest"));
        cmd.args(["columns", &data_dir().join("adversarial.csv").display().to_string(), "--json"])
            .args(["--judge", "anthropic", "--judge-url", &url, "--judge-model", "claude-test"])
            .args(["--judge-attempts", "1"])
            .env("ANTHROPIC_API_KEY", "from-env")
            .env_remove("NO_PROXY")
            .env_remove("no_proxy");
        for var in ["ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] {
            cmd.env(var, &proxy);
        }
        let out = cmd.output().expect("run");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let cols = v["columns"].as_array().expect("columns");
        let comment = cols.iter().find(|c| c["name"] == "comment").expect("comment");
        assert_eq!(comment["decision"], "reject");
        assert_eq!(comment["judge"], "anthropic:claude-test");
        // The judge's own reason, not a fail-closed one: the request reached the server, not the proxy.
        assert!(comment["reason"].as_str().is_some_and(|r| r.contains("free-text remarks")), "{comment}");
        // Only the column the inspectors could not place reached the judge.
        assert_eq!(cols.iter().filter(|c| !c["judge"].is_null()).count(), 1);
        let (_, headers, _) = rx.recv().expect("one request");
        assert!(headers.contains(&("x-api-key".to_owned(), "from-env".to_owned())));
    }

    #[test]
    fn unreachable_server_fails_closed() {
        let judge = AnthropicJudge::new(&closing_server(), "k", "m");
        let policy = ColumnPolicy::builtin();
        let table =
            profile_paths(&[data_dir().join("adversarial.csv")], ProfileOptions::default()).expect("profile");
        let report = Classifier::new(&policy).with_judge(&judge, 2).classify_table(&table);
        let c = report.columns.iter().find(|c| c.name == "comment").expect("comment");
        assert_eq!(c.decision, Reject);
        assert!(c.reason.contains("failing closed"), "{}", c.reason);
    }
}

#[cfg(feature = "parquet")]
mod parquet_input {
    use std::sync::Arc;

    use parquet::{
        basic::Compression,
        data_type::{ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type},
        file::{properties::WriterProperties, writer::SerializedFileWriter},
        schema::parser::parse_message_type,
    };

    use super::*;

    /// Writes run 2 as a snappy-compressed Parquet file, typed (INT64, DOUBLE, UTF8), plus a DATE column.
    fn write_run2(path: &Path) {
        let mut rdr = csv::Reader::from_path(data_dir().join("run2.csv")).expect("run2.csv");
        let records: Vec<csv::StringRecord> = rdr.records().map(|r| r.expect("record")).collect();
        let schema = "message run2 {
            REQUIRED INT64 id;
            REQUIRED BYTE_ARRAY full_name (UTF8);
            REQUIRED BYTE_ARRAY email (UTF8);
            REQUIRED DOUBLE transaction_volume_30d;
            REQUIRED BYTE_ARRAY kyc_status (UTF8);
            REQUIRED DOUBLE fraud_risk_score;
            REQUIRED DOUBLE outstanding_balance_usd;
            REQUIRED BYTE_ARRAY risk_tier (UTF8);
            REQUIRED BYTE_ARRAY user_ref (UTF8);
            REQUIRED BYTE_ARRAY phone_number (UTF8);
            REQUIRED INT32 opened_on (DATE);
        }";
        let schema = Arc::new(parse_message_type(schema).expect("schema"));
        let props = Arc::new(WriterProperties::builder().set_compression(Compression::SNAPPY).build());
        let file = std::fs::File::create(path).expect("create");
        let mut writer = SerializedFileWriter::new(file, schema, props).expect("writer");
        let mut rg = writer.next_row_group().expect("row group");
        let mut i = 0;
        while let Some(mut col) = rg.next_column().expect("column") {
            let text = |r: &csv::StringRecord| r.get(i).expect("field").to_owned();
            match i {
                0 => {
                    let v: Vec<i64> = records.iter().map(|r| text(r).parse().expect("int")).collect();
                    col.typed::<Int64Type>().write_batch(&v, None, None).expect("write");
                }
                3 | 5 | 6 => {
                    let v: Vec<f64> = records.iter().map(|r| text(r).parse().expect("float")).collect();
                    col.typed::<DoubleType>().write_batch(&v, None, None).expect("write");
                }
                10 => {
                    // Days since 1970-01-01, spread over 2020-2025.
                    let v: Vec<i32> = (0..records.len() as i32).map(|d| 18_262 + d * 5).collect();
                    col.typed::<Int32Type>().write_batch(&v, None, None).expect("write");
                }
                _ => {
                    let v: Vec<ByteArray> =
                        records.iter().map(|r| ByteArray::from(text(r).as_str())).collect();
                    col.typed::<ByteArrayType>().write_batch(&v, None, None).expect("write");
                }
            }
            col.close().expect("close column");
            i += 1;
        }
        rg.close().expect("close row group");
        writer.close().expect("close file");
    }

    #[test]
    fn parquet_decides_like_csv() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("run2.parquet");
        write_run2(&path);
        let from_parquet = classify(&[path]);
        let from_csv = classify(&[data_dir().join("run2.csv")]);
        assert_eq!(decisions(&from_parquet)[..10], decisions(&from_csv)[..]);
        let dtype = |n: &str| from_parquet.columns.iter().find(|c| c.name == n).expect("column").stats.dtype;
        assert_eq!(dtype("id"), agentry_ingest::Dtype::Integer);
        assert_eq!(dtype("fraud_risk_score"), agentry_ingest::Dtype::Float);
        assert_eq!(dtype("opened_on"), agentry_ingest::Dtype::Date);
        assert_eq!(dtype("user_ref"), agentry_ingest::Dtype::Text);
    }
}

//! The command line: every command's `--json` document, and the golden table.

use std::{path::Path, process::Command};

use serde_json::Value;

fn run(args: &[&str]) -> (bool, String, String) {
    // No user configuration file reaches the tests: XDG_CONFIG_HOME points to a folder without one.
    let out = Command::new(env!("CARGO_BIN_EXE_agentry-cache-econ"))
        .env("XDG_CONFIG_HOME", data("no-config"))
        .args(args)
        .output()
        .expect("the binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(args: &[&str]) -> Value {
    let (ok, stdout, stderr) = run(args);
    assert!(ok, "{args:?}: {stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {stdout}"))
}

fn data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name).to_string_lossy().into_owned()
}

#[test]
fn table_matches_golden_file() {
    let got = json(&[
        "table",
        "--model",
        "claude-opus-4-7",
        "--prefix-tokens",
        "50000,100000,500000",
        "--idle-minutes",
        "5,30,60,90",
        "--json",
    ]);
    let path = data("table.json");
    let text = serde_json::to_string_pretty(&got).expect("serializes") + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).expect("golden file written");
    }
    let golden = std::fs::read_to_string(&path).expect("golden file exists (UPDATE_GOLDEN=1 writes it)");
    assert_eq!(text, golden);
    let row = &got["rows"][4];
    assert_eq!((row["prefix_tokens"].as_u64(), row["idle_minutes"].as_u64()), (Some(100_000), Some(5)));
    assert_eq!((row["refresh_usd"].as_str(), row["rewrite_usd"].as_str()), (Some("0.675"), Some("1.25")));
}

#[test]
fn breakeven_fields() {
    let v = json(&["breakeven", "--model", "claude-opus-4-7", "--json"]);
    assert_eq!((v["breakeven_minutes"].as_f64(), v["achievable_minutes"].as_f64()), (Some(62.5), Some(60.0)));
    let v = json(&["breakeven", "--model", "claude-opus-4-7", "--ping-interval", "4.5", "--json"]);
    assert_eq!(v["achievable_minutes"].as_f64(), Some(54.0));
}

#[test]
fn a_ping_costs_one_output_token_by_default() {
    // 100K on Opus 4.7: the read ($0.05) plus one output token at $25/MTok.
    let v = json(&["breakeven", "--json"]);
    assert_eq!(
        (v["ping"]["ping_usd"].as_str(), v["ping"]["output_tokens"].as_u64()),
        (Some("0.050025"), Some(1))
    );
    let v = json(&["breakeven", "--ping-output-tokens", "0", "--json"]);
    assert_eq!(v["ping"]["ping_usd"].as_str(), Some("0.05"));
    // Near the minimum a ping's tail matters: 2048 tokens, a 100-token tail at $6.25 and the output token
    // make a ping $0.001674 against $0.011776 saved by not rewriting: 7 pings, 40 minutes instead of 60.
    let v = json(&["breakeven", "--prefix-tokens", "2048", "--ping-tail-tokens", "100", "--json"]);
    assert_eq!(v["ping"]["ping_usd"].as_str(), Some("0.001674"));
    assert_eq!(v["ping"]["achievable_minutes"].as_f64(), Some(40.0));
    let v = json(&["simulate", "--prefix-tokens", "2048", "--ping-tail-tokens", "100", "--json"]);
    assert_eq!(v["what_if_ping_cost"]["achievable_minutes"].as_f64(), Some(40.0));
}

#[test]
fn tokenizer_what_if_to_another_model() {
    let v = json(&["simulate", "--json"]);
    let t = &v["what_if_tokenizer"];
    assert_eq!(
        (t["to_model"].as_str(), t["read_usd_after"].as_str()),
        (Some("claude-opus-4-7"), Some("0.0675"))
    );
    // 135,000 tokens on Sonnet 4.5: read at $0.30, write at $3.75.
    let v = json(&["simulate", "--to-model", "claude-sonnet-4-5", "--json"]);
    let t = &v["what_if_tokenizer"];
    assert_eq!(t["to_model"].as_str(), Some("claude-sonnet-4-5"));
    assert_eq!(
        (t["read_usd_after"].as_str(), t["write_usd_after"].as_str()),
        (Some("0.0405"), Some("0.50625"))
    );
    assert_eq!(t["prefix_tokens_after"].as_u64(), Some(135_000));
    let (ok, _, stderr) = run(&["simulate", "--to-model", "no-such-model"]);
    assert!(!ok && stderr.contains("no-such-model"), "{stderr}");
}

#[test]
fn compaction_fields() {
    let v = json(&["compaction", "--ratio", "10:1", "--json"]);
    let turns = v["breakeven_turns"].as_f64().expect("number");
    assert!((turns - 7.25 / 0.9).abs() < 1e-9, "{turns}");
}

#[test]
fn lint_findings_with_costs() {
    let v = json(&["lint", &data("request.json"), "--json"]);
    let kinds: Vec<&str> =
        v["findings"].as_array().expect("array").iter().filter_map(|f| f["kind"].as_str()).collect();
    assert!(
        kinds.contains(&"volatile-prefix")
            && kinds.contains(&"ttl-order")
            && kinds.contains(&"below-minimum"),
        "{kinds:?}"
    );
}

#[test]
fn analyze_fields() {
    let dir = tempfile::tempdir().expect("temp dir");
    let line = r#"{"type":"assistant","sessionId":"s","requestId":"r1","timestamp":"2026-11-24T10:00:00Z","message":{"id":"m1","model":"claude-opus-4-7","usage":{"input_tokens":10,"cache_creation_input_tokens":4000,"cache_read_input_tokens":0,"output_tokens":5}}}"#;
    std::fs::write(dir.path().join("a.jsonl"), format!("{line}\n{line}\nnot json\n")).expect("write");
    let v = json(&["analyze", &dir.path().to_string_lossy(), "--json"]);
    assert_eq!(v["requests"].as_u64(), Some(1));
    assert_eq!(v["malformed_lines"].as_u64(), Some(1));
    assert_eq!(v["cost_usd"].as_str(), Some("0.025175"));
    assert_eq!(v["avoidable_usd"].as_str(), Some("0.00"));
    assert_eq!(v["cause_counts"]["cold_start"].as_u64(), Some(1));
    assert_eq!(v["malformed"][0]["line"].as_u64(), Some(3));
}

#[test]
fn analyze_openai_usage() {
    // Chat Completions and Responses usage: cached tokens are a subset of the prompt (gpt-4o: $2.50 in,
    // $1.25 cached, $10 out).
    let dir = tempfile::tempdir().expect("temp dir");
    let chat = r#"{"id":"chatcmpl-1","object":"chat.completion","created":1763978400,"model":"gpt-4o","usage":{"prompt_tokens":2000,"completion_tokens":10,"total_tokens":2010,"prompt_tokens_details":{"cached_tokens":1536}}}"#;
    let responses = r#"{"id":"resp_1","object":"response","created":1763978520,"model":"gpt-4o","usage":{"input_tokens":3000,"input_tokens_details":{"cached_tokens":1024},"output_tokens":20,"total_tokens":3020}}"#;
    std::fs::write(dir.path().join("openai.jsonl"), format!("{chat}\n{responses}\n")).expect("write");
    let v = json(&["analyze", &dir.path().to_string_lossy(), "--json"]);
    assert_eq!((v["requests"].as_u64(), v["malformed_lines"].as_u64()), (Some(2), Some(0)));
    assert_eq!(v["usage"]["input_tokens"].as_u64(), Some(464 + 1976));
    assert_eq!(v["usage"]["cache_read_tokens"].as_u64(), Some(1536 + 1024));
    assert_eq!(v["usage"]["output_tokens"].as_u64(), Some(30));
    // 464 x $2.50 + 1536 x $1.25 + 10 x $10, and 1976 x $2.50 + 1024 x $1.25 + 20 x $10.
    assert_eq!(v["cost_usd"].as_str(), Some("0.0096"));
    assert_eq!(v["by_model"][0]["key"].as_str(), Some("gpt-4o"));
    assert_eq!(v["by_day"][0]["key"].as_str(), Some("2025-11-24"));
    assert_eq!(v["unpriced_requests"].as_u64(), Some(0));
}

#[test]
fn analyze_honours_claude_config_dir() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("projects/p")).expect("dirs");
    std::fs::write(dir.path().join("projects/p/s.jsonl"), "{}\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_agentry-cache-econ"))
        .args(["analyze", "--json"])
        .env("CLAUDE_CONFIG_DIR", dir.path())
        .output()
        .expect("runs");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!((v["files"].as_u64(), v["requests"].as_u64()), (Some(1), Some(0)));
}

#[test]
fn config_dir_entries_without_projects_are_skipped() {
    let (with, without) = (tempfile::tempdir().expect("temp dir"), tempfile::tempdir().expect("temp dir"));
    std::fs::create_dir_all(with.path().join("projects/p")).expect("dirs");
    let line = r#"{"type":"assistant","sessionId":"s","requestId":"r1","timestamp":"2026-11-24T10:00:00Z","message":{"id":"m1","model":"claude-opus-4-7","usage":{"input_tokens":10,"cache_creation_input_tokens":4000,"output_tokens":5}}}"#;
    std::fs::write(with.path().join("projects/p/s.jsonl"), format!("{line}\n")).expect("write");
    let dirs = format!("{},{}", without.path().display(), with.path().display());
    let out = Command::new(env!("CARGO_BIN_EXE_agentry-cache-econ"))
        .args(["analyze", "--json"])
        .env("CLAUDE_CONFIG_DIR", &dirs)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!((v["files"].as_u64(), v["requests"].as_u64()), (Some(1), Some(1)));
    let skipped = v["skipped_paths"].as_array().expect("array");
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    let missing = without.path().join("projects");
    assert_eq!(skipped[0]["path"].as_str(), missing.to_str());
    // The text report names it too.
    let out = Command::new(env!("CARGO_BIN_EXE_agentry-cache-econ"))
        .args(["analyze"])
        .env("CLAUDE_CONFIG_DIR", &dirs)
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains(&format!("skipped: {}", missing.display())), "{text}");
    // A path given by name that does not exist is still an error naming it.
    let (ok, _, stderr) = run(&["analyze", "no-such-folder", "--json"]);
    assert!(!ok && stderr.contains("no-such-folder"), "{stderr}");
}

#[test]
fn simulate_and_prices() {
    let v = json(&["simulate", "--json"]);
    assert!(v["competitive"]["best_deterministic_ratio"].as_f64().is_some_and(|r| (r - 1.875).abs() < 1e-9));
    // Money is exact decimal strings. The default gaps make the plan 9 pings: 50/12 expected reads of
    // $0.05 and 2/12 rewrites of $0.625 per gap; never pinging, 4/12 reads and 8/12 rewrites.
    assert_eq!(v["optimal_pings"].as_u64(), Some(9));
    assert_eq!(v["expected_idle_cost_usd"].as_str(), Some("0.3125"));
    assert_eq!(v["never_ping_idle_cost_usd"].as_str(), Some("0.433333333333"));
    // 20% never return, 30 idle minutes: W + 5 pings + 0.8 R, and W + 0.8 W.
    let what_if = &v["what_if_return_probability"];
    assert_eq!(what_if["refresh_usd"].as_str(), Some("0.915"));
    assert_eq!(what_if["rewrite_usd"].as_str(), Some("1.125"));
    let v = json(&["prices", "--model", "claude-3-haiku", "--json"]);
    assert_eq!(v["models"][0]["cache_write_5m"].as_str(), Some("0.30"));
}

#[test]
fn errors_name_the_input() {
    let (ok, _, stderr) = run(&["breakeven", "--model", "no-such-model", "--json"]);
    assert!(!ok && stderr.contains("no-such-model"), "{stderr}");
    let (ok, _, stderr) = run(&["lint", "missing.json"]);
    assert!(!ok && stderr.contains("missing.json"), "{stderr}");
    let (ok, _, stderr) = run(&["compaction", "--ratio", "1:10"]);
    assert!(!ok && stderr.contains("1:10"), "{stderr}");
}

#[test]
fn override_file_wins() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("prices.toml");
    std::fs::write(
        &path,
        r#"[[model]]
id = "claude-opus-4-7"
provider = "anthropic"
input = "5"
output = "25"
cache_write_5m = "6.25"
cache_read = "0.25"
ttl = "sliding"
ttl_minutes = 5
min_cacheable_tokens = 2048
usage = "disjoint"
source = "a negotiated contract"
"#,
    )
    .expect("write");
    let v = json(&["breakeven", "--prices", &path.to_string_lossy(), "--model", "claude-opus-4-7", "--json"]);
    assert_eq!(
        (v["breakeven_minutes"].as_f64(), v["achievable_minutes"].as_f64()),
        (Some(125.0), Some(120.0))
    );
    std::fs::write(&path, "[[model]]\nid = 3\n").expect("write");
    let (ok, _, stderr) = run(&["breakeven", "--prices", &path.to_string_lossy()]);
    assert!(!ok && stderr.contains("prices.toml"), "{stderr}");
}

fn reports_dir() -> String {
    data("claude-config/projects")
}

#[test]
fn reports_print_rows_and_totals_with_the_documented_fields() {
    let dir = reports_dir();
    let fields = [
        "requests",
        "input_tokens",
        "output_tokens",
        "cache_creation_tokens",
        "cache_creation_5m_tokens",
        "cache_creation_1h_tokens",
        "cache_read_tokens",
        "cost_usd",
        "models",
    ];
    for (command, key) in [
        ("daily", "date"),
        ("weekly", "week"),
        ("monthly", "month"),
        ("session", "session_id"),
        ("blocks", "block_start"),
    ] {
        let doc = json(&[command, &dir, "--json", "--timezone", "UTC", "--breakdown"]);
        let rows = doc["rows"].as_array().unwrap_or_else(|| panic!("{command}: {doc}"));
        assert!(!rows.is_empty(), "{command}");
        for row in rows {
            assert!(row[key].is_string(), "{command}: {row}");
            for f in fields {
                assert!(!row[f].is_null(), "{command}: no {f} in {row}");
            }
            assert!(row["cost_usd"].is_string() && row["breakdown"].is_array(), "{command}: {row}");
        }
        assert_eq!(doc["totals"]["cost_usd"], "2.61486275", "{command}");
        assert_eq!(doc["totals"]["cache_creation_tokens"], 244_617, "{command}");
    }
    let blocks = json(&["blocks", &dir, "--json", "--token-limit", "max"]);
    assert!(blocks["rows"][0]["block_end"].is_string() && blocks["rows"][0]["active"] == false);
    assert!(blocks["rows"][0]["token_limit"]["status"].is_string());
}

#[test]
fn report_flags_filter_and_group() {
    let dir = reports_dir();
    let doc =
        json(&["daily", &dir, "--json", "-z", "Asia/Tokyo", "--since", "2026-11-29", "--until", "20261130"]);
    let dates: Vec<&str> =
        doc["rows"].as_array().into_iter().flatten().filter_map(|r| r["date"].as_str()).collect();
    assert_eq!(dates, ["2026-11-29", "2026-11-30"]);
    let doc = json(&[
        "weekly",
        &dir,
        "--json",
        "-z",
        "UTC",
        "--start-of-week",
        "monday",
        "--project",
        "-home-ada-src-blog",
    ]);
    let weeks: Vec<&str> =
        doc["rows"].as_array().into_iter().flatten().filter_map(|r| r["week"].as_str()).collect();
    assert_eq!(weeks, ["2026-11-23", "2026-11-30"]);
    let doc = json(&["monthly", &dir, "--json", "-z", "UTC", "--instances", "--offline"]);
    assert!(doc["rows"].as_array().into_iter().flatten().all(|r| r["project"].is_string()));
}

#[test]
fn reports_reject_bad_zones_and_dates_by_name() {
    let dir = reports_dir();
    for (flag, value, word) in [("--timezone", "Mars/Olympus", "timezone"), ("--since", "2026-13-01", "date")]
    {
        let (ok, _, stderr) = run(&["daily", &dir, flag, value]);
        assert!(!ok && stderr.contains(word) && stderr.contains(value), "{flag}: {stderr}");
    }
    let (ok, _, stderr) = run(&["blocks", &dir, "--by-project"]);
    assert!(!ok && stderr.contains("--by-project does not apply"), "{stderr}");
    let (ok, _, stderr) = run(&["weekly", &dir, "--start-of-week", "someday"]);
    assert!(!ok && stderr.contains("someday"), "{stderr}");
}

#[test]
fn every_report_has_help() {
    for command in ["daily", "weekly", "monthly", "session", "blocks"] {
        let (ok, stdout, _) = run(&[command, "--help"]);
        assert!(ok && stdout.contains("--timezone") && stdout.contains("--json"), "{command}: {stdout}");
    }
}

fn statusline(session: &str, now: &str, cache: &str) -> String {
    use std::io::Write as _;
    let transcript = format!("{}/-home-ada-src-shop/{session}.jsonl", reports_dir());
    let input = serde_json::json!({
        "session_id": session,
        "transcript_path": transcript,
        "cwd": "/home/ada/src/shop",
        "model": { "id": "claude-opus-4-7", "display_name": "Opus 4.7" },
        "workspace": { "current_dir": "/home/ada/src/shop", "project_dir": "/home/ada/src/shop" },
        "version": "2.0.76",
    });
    let mut child = Command::new(env!("CARGO_BIN_EXE_agentry-cache-econ"))
        .env("XDG_CONFIG_HOME", data("no-config"))
        .args(["statusline", &reports_dir(), "--timezone", "UTC", "--now", now, "--cache", cache])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child.stdin.take().expect("stdin").write_all(input.to_string().as_bytes()).expect("writes stdin");
    let out = child.wait_with_output().expect("the binary ends");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(text.lines().count(), 1, "{text}");
    text
}

#[test]
fn statusline_counts_down_to_the_cache_expiry() {
    // The session's last request is at 02:00:36 UTC on 2026-11-29 and wrote 1-hour tokens.
    let session = "79281c19-cde3-47ab-a54c-5de6c3813ce6";
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = dir.path().join("statusline.json").to_string_lossy().into_owned();
    let warm = statusline(session, "2026-11-29T02:30:00Z", &cache);
    assert!(warm.starts_with("Opus 4.7 | today $"), "{warm}");
    assert!(warm.contains("session $1.00"), "{warm}");
    assert!(warm.contains("block $1.00"), "{warm}");
    assert!(warm.contains("cache 1h expires in 30m: next turn $0.025 warm / $0.51 cold (50.8K)"), "{warm}");
    let cold = statusline(session, "2026-11-29T03:20:00Z", &cache);
    assert!(cold.contains("cache 1h expired 19m ago: next turn rewrites 50.8K for $0.51"), "{cold}");
    // The second run read the session from the cache the first one wrote: the same line.
    assert!(std::fs::metadata(&cache).is_ok_and(|m| m.len() > 0));
    assert_eq!(statusline(session, "2026-11-29T02:30:00Z", &cache), warm);
}

#[test]
fn statusline_rejects_input_that_is_not_json() {
    let (ok, _, stderr) = run(&["statusline", "--now", "2026-11-29T02:30:00Z", "--help"]);
    assert!(ok, "{stderr}");
    let out = Command::new(env!("CARGO_BIN_EXE_agentry-cache-econ"))
        .args(["statusline", &reports_dir()])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("the binary runs");
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("statusline JSON"));
}

#[test]
fn a_folder_of_another_tools_logs_is_reported_not_read_as_zero() {
    let dir = tempfile::tempdir().expect("temp dir");
    let logs = dir.path().join("telemetry");
    std::fs::create_dir_all(&logs).expect("creates folders");
    // JSON lines of a format this crate does not read (telemetry events with their own token fields).
    std::fs::write(
        logs.join("events-2026-11-20.jsonl"),
        concat!(
            r#"{"event":"cli.config","attributes":{"model":"gemini-2.5-pro"}}"#,
            "\n",
            r#"{"event":"cli.api_response","attributes":{"model":"gemini-2.5-pro","input_token_count":1200,"cached_content_token_count":800,"output_token_count":50}}"#,
            "\n"
        ),
    )
    .expect("writes");
    let root = dir.path().to_string_lossy().into_owned();
    for command in [vec!["daily", &root, "--json"], vec!["analyze", &root, "--json", "--quiet"]] {
        let (ok, stdout, stderr) = run(&command);
        assert!(ok, "{stderr}");
        assert!(stderr.contains("1 files hold JSON lines of a format this tool does not read"), "{stderr}");
        assert!(stderr.contains("events-2026-11-20.jsonl"), "{stderr}");
        assert!(stdout.contains("unrecognized_files"), "{stdout}");
    }
    // Claude Code transcripts, even without a response yet, are not flagged.
    let (ok, _, stderr) = run(&["daily", &reports_dir(), "--json"]);
    assert!(ok && !stderr.contains("does not read"), "{stderr}");
}

#[test]
fn the_config_file_sets_defaults_that_flags_override() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("cache-econ.toml");
    std::fs::write(
        &config,
        "timezone = \"Asia/Tokyo\"\nstart_of_week = \"monday\"\n[project_aliases]\n\"-home-ada-src-shop\" = \"shop\"\n",
    )
    .expect("writes");
    let config = config.to_string_lossy().into_owned();
    let projects = reports_dir();
    let doc = json(&["daily", &projects, "--json", "--config", &config]);
    assert_eq!(doc["timezone"], "Asia/Tokyo");
    assert_eq!(doc["rows"].as_array().map(Vec::len), Some(4));
    let doc = json(&["daily", &projects, "--json", "--config", &config, "-z", "UTC"]);
    assert_eq!(doc["rows"].as_array().map(Vec::len), Some(6));
    let doc =
        json(&["monthly", &projects, "--json", "--config", &config, "--by-project", "--project", "shop"]);
    let projects_seen: Vec<&str> =
        doc["rows"].as_array().into_iter().flatten().filter_map(|r| r["project"].as_str()).collect();
    assert_eq!(projects_seen, ["shop", "shop"]);
    let doc = json(&["weekly", &reports_dir(), "--json", "--config", &config]);
    let weeks: Vec<&str> =
        doc["rows"].as_array().into_iter().flatten().filter_map(|r| r["week"].as_str()).collect();
    assert!(weeks.iter().all(|w| w.parse::<agentry_cache_econ::report::Day>().is_ok()), "{weeks:?}");
    assert!(weeks.contains(&"2026-11-23"), "weeks start on Monday: {weeks:?}");

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "timezone = \"UTC\"\ntime_zone = \"UTC\"\n").expect("writes");
    let (ok, _, stderr) = run(&["daily", &reports_dir(), "--config", &bad.to_string_lossy()]);
    assert!(!ok && stderr.contains("bad.toml") && stderr.contains("line 2"), "{stderr}");
}

#[test]
fn codex_home_is_a_default_folder_beside_claudes() {
    let out = Command::new(env!("CARGO_BIN_EXE_agentry-cache-econ"))
        .env("XDG_CONFIG_HOME", data("no-config"))
        .env("CLAUDE_CONFIG_DIR", data("claude-config"))
        .env("CODEX_HOME", data("codex-home"))
        .args(["monthly", "--json", "--timezone", "UTC"])
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    // The Claude folder's $2.61486275 and the Codex folder's $0.068925.
    assert_eq!(doc["totals"]["cost_usd"], "2.68378775");
    assert_eq!(doc["totals"]["requests"], 87);
}

//! `agentry-cache-econ`: analyzer throughput on generated Claude Code transcripts, against ccusage.
//!
//! The corpus (at least 100 MB, 20 MB under `--quick`) is generated at bench time under the target folder,
//! seeded, in the real transcript format. The anchors run as whole processes on the same files through
//! `CLAUDE_CONFIG_DIR`, installed by npm into a cache folder under the target folder:
//! - ccusage 18 (Node);
//! - ccusage 20, whose npm launcher runs a native binary (20.0.24: the newest release whose linux-x64
//!   binary package is published).
//!
//! Each is skipped, with a message, when node or npm is missing or the install fails. Before timing, every
//! tool's totals are compared with ours and with the generator's ground truth, and written to the report.
//!
//! The groups `cache-econ/daily-json-process` and `cache-econ/blocks-json-process` time whole processes:
//! our release binary (built by the bench with `$CARGO` into the same target folder) against
//! `ccusage claude daily|blocks --json --offline`, both in UTC, after checking that their totals agree.

use std::{
    hint::black_box,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use agentry_benches::{cache_econ::write_corpus, quick, report_extra};
use agentry_cache_econ::{AnalyzeOptions, PriceTable, analyze, find_logs, round_to};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};

fn target_dir() -> PathBuf {
    // The bench executable lives in <target>/release/deps/.
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent()?.parent()?.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("target"))
}

/// Installs `ccusage@{version}` under the target folder once and returns the path of `entry` inside
/// `node_modules`.
fn ccusage(target: &Path, version: &str, entry: &str) -> Option<PathBuf> {
    let node_ok = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    if !node_ok {
        eprintln!("cache-econ: node not found, skipping the ccusage anchor");
        return None;
    }
    let dir = target.join("cache-econ-anchors").join(format!("ccusage-{version}"));
    let script = dir.join("node_modules").join(entry);
    if !script.exists() {
        std::fs::create_dir_all(&dir).ok()?;
        let status = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
            .arg(&dir)
            .arg(format!("ccusage@{version}"))
            .status();
        if !status.is_ok_and(|s| s.success()) || !script.exists() {
            eprintln!("cache-econ: `npm install ccusage@{version}` failed, skipping that anchor");
            return None;
        }
    }
    Some(script)
}

fn run_ccusage(script: &Path, root: &Path) -> Option<serde_json::Value> {
    let mut cmd = if script.extension().is_some_and(|e| e == "js") {
        let mut c = Command::new("node");
        c.arg(script);
        c
    } else {
        Command::new(script)
    };
    let out = cmd
        .args(["daily", "--json", "--offline", "--mode", "calculate"])
        .env("CLAUDE_CONFIG_DIR", root)
        .env("NO_COLOR", "1")
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("cache-econ: ccusage failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

/// Builds our release binary into the bench's target folder and returns its path.
fn our_binary(target: &Path) -> Option<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "--quiet", "-p", "agentry-cache-econ", "--bin", "agentry-cache-econ"])
        .arg("--target-dir")
        .arg(target)
        .status();
    let bin = target.join("release").join("agentry-cache-econ");
    if !status.is_ok_and(|s| s.success()) || !bin.exists() {
        eprintln!("cache-econ: building agentry-cache-econ failed, skipping the whole-process groups");
        return None;
    }
    Some(bin)
}

/// `report` (`daily` or `blocks`) as one JSON document, from our binary or from ccusage 20.
fn run_report(program: &Path, ours: bool, report: &str, root: &Path) -> Option<serde_json::Value> {
    let mut cmd = if program.extension().is_some_and(|e| e == "js") {
        let mut c = Command::new("node");
        c.arg(program);
        c
    } else {
        Command::new(program)
    };
    if ours {
        // No user configuration file: XDG_CONFIG_HOME is the corpus folder, which has none.
        cmd.args([report, "--json", "--timezone", "UTC"])
            .arg(root.join("projects"))
            .env("XDG_CONFIG_HOME", root);
    } else {
        cmd.args(["claude", report, "--json", "--offline", "-z", "UTC"]).env("CLAUDE_CONFIG_DIR", root);
    }
    let out = cmd.env("NO_COLOR", "1").output().ok()?;
    if !out.status.success() {
        eprintln!(
            "cache-econ: {} {report} failed: {}",
            program.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

/// Tokens and cost (to the microdollar) of a report's totals: ours from `totals`, ccusage's from its
/// `totals` (`daily`) or the sum of its blocks (`blocks`, which has no totals).
fn report_totals(v: &serde_json::Value, ours: bool) -> (u64, String) {
    if ours {
        let t = &v["totals"];
        let cost: Option<agentry_types::Usd> = t["cost_usd"].as_str().and_then(|c| c.parse().ok());
        return (
            t["total_tokens"].as_u64().unwrap_or(0),
            cost.map(|c| round_to(c, 6).to_string()).unwrap_or_default(),
        );
    }
    let (tokens, cost) = match v["totals"].as_object() {
        Some(t) => (t["totalTokens"].as_u64().unwrap_or(0), t["totalCost"].as_f64().unwrap_or(0.0)),
        None => v["blocks"].as_array().into_iter().flatten().fold((0, 0.0), |(n, c), b| {
            (n + b["totalTokens"].as_u64().unwrap_or(0), c + b["costUSD"].as_f64().unwrap_or(0.0))
        }),
    };
    let cost: Option<agentry_types::Usd> = format!("{cost:.6}").parse().ok();
    (tokens, cost.map(|c| round_to(c, 6).to_string()).unwrap_or_default())
}

fn analyzer(c: &mut Criterion) {
    let target = target_dir();
    let size: u64 = if quick() { 20_000_000 } else { 110_000_000 };
    let root = target.join("cache-econ-corpus");
    let _ = std::fs::remove_dir_all(&root);
    let truth = write_corpus(&root, 42, size).expect("the corpus is written under the target folder");
    let files = find_logs(&[root.join("projects")]).expect("the corpus is listed");
    let prices = PriceTable::builtin();
    let options = AnalyzeOptions::default();
    let ours = analyze(&files, &prices, &options, None).expect("the corpus is analyzed");

    let u = &ours.usage;
    let mut rows = vec![[
        ("benchmark", "cache-econ/totals-vs-truth".to_owned()),
        ("ours", format!("{} requests, {} malformed", ours.requests, ours.malformed_lines)),
        ("anchor_name", "generator ground truth".to_owned()),
        ("anchor", format!("{} requests", truth.requests)),
        ("ratio", if ours.requests == truth.requests { "equal".to_owned() } else { "DIFFERENT".to_owned() }),
        (
            "note",
            format!(
                "tokens in/out/w5m/w1h/read ours {}/{}/{}/{}/{} truth {}/{}/{}/{}/{}",
                u.input_tokens,
                u.output_tokens,
                u.cache_write_5m_tokens,
                u.cache_write_1h_tokens,
                u.cache_read_tokens,
                truth.input_tokens,
                truth.output_tokens,
                truth.cache_write_5m_tokens,
                truth.cache_write_1h_tokens,
                truth.cache_read_tokens
            ),
        ),
    ]];
    eprintln!(
        "cache-econ: corpus {} MB in {} files; ours {} requests, cost ${}",
        truth.bytes / 1_000_000,
        files.len(),
        ours.requests,
        ours.cost_usd
    );

    let script = ccusage(&target, "18", "ccusage/dist/index.js");
    let native = ccusage(&target, "20.0.24", "ccusage/src/cli.js");
    if let Some(native) = &native
        && let Some(v) = run_ccusage(native, &root)
    {
        let t = &v["totals"];
        let get = |k: &str| t[k].as_u64().unwrap_or(0);
        let cache_creation = u.cache_write_5m_tokens + u.cache_write_1h_tokens;
        let cost: Option<agentry_types::Usd> =
            t["totalCost"].as_f64().and_then(|c| format!("{c:.6}").parse().ok());
        let equal = get("inputTokens") == u.input_tokens
            && get("outputTokens") == u.output_tokens
            && get("cacheCreationTokens") == cache_creation
            && get("cacheReadTokens") == u.cache_read_tokens
            && cost == Some(round_to(ours.cost_usd, 6));
        eprintln!("cache-econ: ccusage 20 totals {t}");
        rows.push([
            ("benchmark", "cache-econ/totals-vs-ccusage-20".to_owned()),
            (
                "ours",
                format!(
                    "in {} write {} read {} out {} cost ${}",
                    u.input_tokens, cache_creation, u.cache_read_tokens, u.output_tokens, ours.cost_usd
                ),
            ),
            ("anchor_name", "ccusage 20.0.24 (native)".to_owned()),
            (
                "anchor",
                format!(
                    "in {} write {} read {} out {} cost ${}",
                    get("inputTokens"),
                    get("cacheCreationTokens"),
                    get("cacheReadTokens"),
                    get("outputTokens"),
                    t["totalCost"]
                ),
            ),
            ("ratio", if equal { "all totals equal".to_owned() } else { "DIFFERENT".to_owned() }),
            ("note", "cost compared to the microdollar (ccusage sums floats)".to_owned()),
        ]);
    }
    if let Some(script) = &script
        && let Some(v) = run_ccusage(script, &root)
    {
        let t = &v["totals"];
        let get = |k: &str| t[k].as_u64().unwrap_or(0);
        let cache_creation = u.cache_write_5m_tokens + u.cache_write_1h_tokens;
        let same_prompt = get("inputTokens") == u.input_tokens
            && get("cacheCreationTokens") == cache_creation
            && get("cacheReadTokens") == u.cache_read_tokens;
        eprintln!("cache-econ: ccusage totals {t}");
        rows.push([
                ("benchmark", "cache-econ/totals-vs-ccusage-18".to_owned()),
                ("ours", format!("in {} write {} read {} out {} cost ${}", u.input_tokens, cache_creation, u.cache_read_tokens, u.output_tokens, ours.cost_usd)),
                ("anchor_name", "ccusage 18".to_owned()),
                (
                    "anchor",
                    format!(
                        "in {} write {} read {} out {} cost ${}",
                        get("inputTokens"),
                        get("cacheCreationTokens"),
                        get("cacheReadTokens"),
                        get("outputTokens"),
                        t["totalCost"]
                    ),
                ),
                ("ratio", if same_prompt { "prompt tokens equal".to_owned() } else { "prompt tokens DIFFERENT".to_owned() }),
                (
                    "note",
                    format!(
                        "output: ccusage 18 keeps each response's first streamed line ({} = the generator's first-line sum {}); cost: it prices 1-hour writes at the 5-minute rate",
                        get("outputTokens"),
                        truth.first_line_output_tokens
                    ),
                ),
            ]);
    }

    let bin = our_binary(&target);
    let mut processes = Vec::new();
    for report in ["daily", "blocks"] {
        let (Some(bin), Some(native)) = (&bin, &native) else { break };
        let (Some(a), Some(b)) =
            (run_report(bin, true, report, &root), run_report(native, false, report, &root))
        else {
            continue;
        };
        let (ours_t, anchor_t) = (report_totals(&a, true), report_totals(&b, false));
        rows.push([
            ("benchmark", format!("cache-econ/{report}-totals-vs-ccusage-20")),
            ("ours", format!("{} tokens, ${}", ours_t.0, ours_t.1)),
            ("anchor_name", format!("ccusage 20.0.24 claude {report} (native)")),
            ("anchor", format!("{} tokens, ${}", anchor_t.0, anchor_t.1)),
            ("ratio", if ours_t == anchor_t { "equal".to_owned() } else { "DIFFERENT".to_owned() }),
            ("note", "whole-process outputs in UTC; cost to the microdollar".to_owned()),
        ]);
        processes.push(report);
    }

    let mut g = c.benchmark_group("cache-econ/analyze");
    g.throughput(Throughput::Bytes(truth.bytes));
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(if quick() { 5 } else { 15 }));
    g.bench_function("agentry", |b| {
        b.iter(|| black_box(analyze(&files, &prices, &options, None)).map(|r| r.requests))
    });
    if let Some(script) = &script {
        g.bench_function("anchor-ccusage-18", |b| b.iter(|| black_box(run_ccusage(script, &root)).is_some()));
    }
    if let Some(native) = &native {
        g.bench_function("anchor-ccusage-20-native", |b| {
            b.iter(|| black_box(run_ccusage(native, &root)).is_some())
        });
    }
    g.finish();
    if let (Some(bin), Some(native)) = (&bin, &native) {
        for report in processes {
            let mut g = c.benchmark_group(format!("cache-econ/{report}-json-process"));
            g.throughput(Throughput::Bytes(truth.bytes));
            g.sampling_mode(SamplingMode::Flat);
            g.sample_size(10);
            g.warm_up_time(Duration::from_secs(1));
            g.measurement_time(Duration::from_secs(if quick() { 5 } else { 15 }));
            g.bench_function("agentry", |b| {
                b.iter(|| black_box(run_report(bin, true, report, &root)).is_some())
            });
            g.bench_function("anchor-ccusage-20-native", |b| {
                b.iter(|| black_box(run_report(native, false, report, &root)).is_some())
            });
            g.finish();
        }
    }
    if let Err(e) = report_extra("cache-econ", &rows) {
        eprintln!("cache-econ: cannot write the report rows: {e}");
    }
}

criterion_group!(benches, analyzer);
criterion_main!(benches);

//! `cargo xtask bench [--quick] [CRATE]`: run the criterion benchmarks and write the report.
//!
//! Every benchmark group is named `<crate>/<what>`. In a group, the function `agentry` (or `agentry-<variant>`)
//! is ours and every function `anchor-<name>` is an anchor measured in the same run. The report pairs each of
//! ours with each anchor of the same group and parameter: ratio = anchor time / our time, so above 1 means we
//! are faster. Figures that are not timings (dedup ratios, whole-process comparisons run outside criterion)
//! reach the report as JSON rows that the benches write into `$AGENTRY_REPORT_EXTRA_DIR`.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    fs,
    path::{Path, PathBuf},
    time::SystemTime,
};

use anyhow::{Context, bail};
use serde_json::Value;

use crate::cargo;

const CRATES: &[&str] = &["types", "cdc", "cache-econ", "hooks", "ingest"];

pub(crate) fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let mut quick = false;
    let mut only: Option<String> = None;
    for a in args {
        match a.as_str() {
            "--quick" => quick = true,
            "-h" | "--help" => {
                eprintln!("usage: cargo xtask bench [--quick] [CRATE]\ncrates: {}", CRATES.join(", "));
                return Ok(());
            }
            c if CRATES.contains(&c) => only = Some(c.to_owned()),
            other => bail!("unknown argument {other:?}: expected --quick or one of {}", CRATES.join(", ")),
        }
    }
    let target = target_dir(root);
    let report_dir = target.join("agentry-report");
    let extra_dir = report_dir.join("extra");
    if extra_dir.exists() {
        fs::remove_dir_all(&extra_dir).with_context(|| format!("clearing {}", extra_dir.display()))?;
    }
    fs::create_dir_all(&extra_dir).with_context(|| format!("creating {}", extra_dir.display()))?;

    let started = SystemTime::now();
    let mut cmd = cargo();
    cmd.args(["bench", "--package", "agentry-benches"]).current_dir(root);
    let benches: Vec<String> = match &only {
        Some(c) => vec![c.clone()],
        None => present_benches(root),
    };
    for b in &benches {
        cmd.args(["--bench", b]);
    }
    cmd.arg("--");
    if quick {
        cmd.arg("--quick");
        cmd.env("AGENTRY_BENCH_QUICK", "1");
    }
    cmd.env("AGENTRY_REPORT_EXTRA_DIR", &extra_dir);
    eprintln!("==> cargo bench ({})", benches.join(", "));
    let status = cmd.status().context("starting cargo bench")?;
    if !status.success() {
        bail!("cargo bench failed ({status})");
    }

    let results = collect(&target.join("criterion"), started)?;
    let extra = collect_extra(&extra_dir)?;
    let md = markdown(&results, &extra, quick);
    fs::write(report_dir.join("report.md"), &md).context("writing report.md")?;
    fs::write(report_dir.join("report.html"), html(&results, &extra)).context("writing report.html")?;
    eprintln!("wrote {}", report_dir.join("report.md").display());
    print!("{md}");
    Ok(())
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"))
}

/// The bench targets that exist, in the order of `CRATES`.
fn present_benches(root: &Path) -> Vec<String> {
    CRATES
        .iter()
        .filter(|c| root.join("benches/benches").join(format!("{c}.rs")).is_file())
        .map(|c| (*c).to_owned())
        .collect()
}

/// One criterion measurement.
#[derive(Debug, Clone)]
pub(crate) struct Measure {
    group: String,
    function: String,
    value: String,
    /// Mean time per iteration in nanoseconds.
    mean_ns: f64,
    /// Bytes or elements per iteration, when the group declared a throughput.
    throughput: Option<(f64, &'static str)>,
}

/// Reads every `new/benchmark.json` written since `since` under the criterion folder.
pub(crate) fn collect(criterion: &Path, since: SystemTime) -> anyhow::Result<Vec<Measure>> {
    let mut out = Vec::new();
    let mut stack = vec![criterion.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else { continue };
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let is_new = path.parent().and_then(Path::file_name).is_some_and(|n| n == "new");
            if !is_new || path.file_name().is_none_or(|n| n != "benchmark.json") {
                continue;
            }
            let fresh = fs::metadata(&path).and_then(|m| m.modified()).is_ok_and(|t| t >= since);
            if fresh && let Some(m) = read_measure(&path)? {
                out.push(m);
            }
        }
    }
    out.sort_by(|a, b| (&a.group, &a.value, &a.function).cmp(&(&b.group, &b.value, &b.function)));
    Ok(out)
}

fn read_measure(bench_json: &Path) -> anyhow::Result<Option<Measure>> {
    let read = |p: &Path| -> anyhow::Result<Value> {
        let text = fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", p.display()))
    };
    let b = read(bench_json)?;
    let e = read(&bench_json.with_file_name("estimates.json"))?;
    let Some(mean_ns) = e["mean"]["point_estimate"].as_f64() else { return Ok(None) };
    let throughput = match &b["throughput"] {
        Value::Object(t) => t.iter().find_map(|(k, v)| {
            let n = v.as_f64()?;
            Some((n, if k.starts_with("Bytes") { "bytes" } else { "elements" }))
        }),
        _ => None,
    };
    Ok(Some(Measure {
        group: b["group_id"].as_str().unwrap_or_default().to_owned(),
        function: b["function_id"].as_str().unwrap_or_default().to_owned(),
        value: b["value_str"].as_str().unwrap_or_default().to_owned(),
        mean_ns,
        throughput,
    }))
}

/// A row of figures that are not criterion timings, written by a bench as JSON.
#[derive(Debug, Clone)]
pub(crate) struct Extra {
    benchmark: String,
    ours: String,
    anchor_name: String,
    anchor: String,
    ratio: String,
    note: String,
}

fn collect_extra(dir: &Path) -> anyhow::Result<Vec<Extra>> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    let mut out = Vec::new();
    for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "json")) {
        let text = fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        let rows: Vec<Value> =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", f.display()))?;
        for r in rows {
            let s = |k: &str| match &r[k] {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                v => v.to_string(),
            };
            out.push(Extra {
                benchmark: s("benchmark"),
                ours: s("ours"),
                anchor_name: s("anchor_name"),
                anchor: s("anchor"),
                ratio: s("ratio"),
                note: s("note"),
            });
        }
    }
    Ok(out)
}

/// A paired row of the report.
#[derive(Debug, Clone)]
struct Row {
    benchmark: String,
    ours: String,
    anchor_name: String,
    anchor: String,
    ratio: String,
}

fn figure(m: &Measure) -> String {
    let time = human_time(m.mean_ns);
    match m.throughput {
        Some((n, "bytes")) => format!("{time} ({:.1} MB/s)", n / m.mean_ns * 1e3),
        // The benches declare element throughput only for table rows (the column profiler's 1M-row CSV).
        Some((n, _)) => format!("{time} ({:.2} M rows/s)", n / m.mean_ns * 1e3),
        None => time,
    }
}

fn human_time(ns: f64) -> String {
    match ns {
        t if t < 1e3 => format!("{t:.1} ns"),
        t if t < 1e6 => format!("{:.2} µs", t / 1e3),
        t if t < 1e9 => format!("{:.2} ms", t / 1e6),
        t => format!("{:.2} s", t / 1e9),
    }
}

fn rows(results: &[Measure]) -> Vec<Row> {
    let mut by_case: BTreeMap<(&str, &str), Vec<&Measure>> = BTreeMap::new();
    for m in results {
        by_case.entry((&m.group, &m.value)).or_default().push(m);
    }
    let mut out = Vec::new();
    for ((group, value), ms) in by_case {
        let name = if value.is_empty() { group.to_owned() } else { format!("{group} [{value}]") };
        let ours: Vec<&&Measure> = ms.iter().filter(|m| m.function.starts_with("agentry")).collect();
        let anchors: Vec<&&Measure> = ms.iter().filter(|m| m.function.starts_with("anchor")).collect();
        for o in &ours {
            let label = if o.function == "agentry" { name.clone() } else { format!("{name} {}", o.function) };
            if anchors.is_empty() {
                out.push(Row {
                    benchmark: label.clone(),
                    ours: figure(o),
                    anchor_name: "—".into(),
                    anchor: "—".into(),
                    ratio: "—".into(),
                });
            }
            for a in &anchors {
                out.push(Row {
                    benchmark: label.clone(),
                    ours: figure(o),
                    anchor_name: a.function.trim_start_matches("anchor-").to_owned(),
                    anchor: figure(a),
                    ratio: format!("{:.2}x", a.mean_ns / o.mean_ns),
                });
            }
        }
    }
    out
}

pub(crate) fn markdown(results: &[Measure], extra: &[Extra], quick: bool) -> String {
    let mut s = String::from("# agentry benchmark report\n\n");
    let _ = writeln!(
        s,
        "Criterion mean time per iteration; ratio = anchor time / our time (above 1: we are faster). \
         Anchors ran in the same run on the same data.{}\n",
        if quick { " Quick mode: fewer samples, wider error." } else { "" }
    );
    s.push_str("| benchmark | ours | anchor | anchor figure | ratio |\n|---|---|---|---|---|\n");
    for r in rows(results) {
        let _ =
            writeln!(s, "| {} | {} | {} | {} | {} |", r.benchmark, r.ours, r.anchor_name, r.anchor, r.ratio);
    }
    if !extra.is_empty() {
        s.push_str(
            "\n## Other measured figures\n\n| measure | ours | anchor | anchor figure | ratio | note |\n",
        );
        s.push_str("|---|---|---|---|---|---|\n");
        for e in extra {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                e.benchmark, e.ours, e.anchor_name, e.anchor, e.ratio, e.note
            );
        }
    }
    s
}

fn escape(t: &str) -> String {
    t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn html(results: &[Measure], extra: &[Extra]) -> String {
    let mut s = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>agentry benchmark report</title>\
         <style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}\
         td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#eee}\
         .fast{color:#060}.slow{color:#a00}</style></head><body><h1>agentry benchmark report</h1>\
         <p>ratio = anchor time / our time; above 1 means we are faster.</p><table>\
         <tr><th>benchmark</th><th>ours</th><th>anchor</th><th>anchor figure</th><th>ratio</th></tr>",
    );
    for r in rows(results) {
        let class = match r.ratio.trim_end_matches('x').parse::<f64>() {
            Ok(x) if x >= 1.0 => "fast",
            Ok(_) => "slow",
            Err(_) => "",
        };
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{class}\">{}</td></tr>",
            escape(&r.benchmark),
            escape(&r.ours),
            escape(&r.anchor_name),
            escape(&r.anchor),
            escape(&r.ratio)
        );
    }
    s.push_str("</table>");
    if !extra.is_empty() {
        s.push_str(
            "<h2>Other measured figures</h2><table><tr><th>measure</th><th>ours</th><th>anchor</th>\
             <th>anchor figure</th><th>ratio</th><th>note</th></tr>",
        );
        for e in extra {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&e.benchmark),
                escape(&e.ours),
                escape(&e.anchor_name),
                escape(&e.anchor),
                escape(&e.ratio),
                escape(&e.note)
            );
        }
        s.push_str("</table>");
    }
    s.push_str("</body></html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(group: &str, function: &str, mean_ns: f64) -> Measure {
        Measure {
            group: group.into(),
            function: function.into(),
            value: String::new(),
            mean_ns,
            throughput: Some((1e6, "bytes")),
        }
    }

    #[test]
    fn pairs_ours_with_anchor() {
        let md = markdown(&[m("cdc/scan", "agentry", 1e6), m("cdc/scan", "anchor-fastcdc", 3e6)], &[], false);
        assert!(
            md.contains("| cdc/scan | 1.00 ms (1000.0 MB/s) | fastcdc | 3.00 ms (333.3 MB/s) | 3.00x |"),
            "{md}"
        );
    }

    #[test]
    fn element_throughput_reads_as_rows() {
        let mut profile = m("ingest/columns-profile", "agentry", 5e8);
        profile.throughput = Some((1e6, "elements"));
        let md = markdown(&[profile], &[], false);
        assert!(md.contains("| ingest/columns-profile | 500.00 ms (2.00 M rows/s) | — | — | — |"), "{md}");
    }

    #[test]
    fn row_without_anchor() {
        let md = markdown(&[m("types/x", "agentry", 500.0)], &[], false);
        assert!(md.contains("| types/x | 500.0 ns (2000000.0 MB/s) | — | — | — |"), "{md}");
    }

    #[test]
    fn extra_rows_are_listed() {
        let e = Extra {
            benchmark: "cdc/dedup".into(),
            ours: "61%".into(),
            anchor_name: "fixed-size".into(),
            anchor: "12%".into(),
            ratio: "5.1x".into(),
            note: "avg 64 KiB".into(),
        };
        let md = markdown(&[], &[e], false);
        assert!(md.contains("| cdc/dedup | 61% | fixed-size | 12% | 5.1x | avg 64 KiB |"), "{md}");
    }

    #[test]
    fn reads_criterion_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let new = dir.path().join("types_digest-parse/agentry/new");
        fs::create_dir_all(&new).expect("mkdir");
        fs::write(
            new.join("benchmark.json"),
            r#"{"group_id":"types/digest-parse","function_id":"agentry","value_str":null,"throughput":{"Bytes":1000}}"#,
        )
        .expect("write");
        fs::write(new.join("estimates.json"), r#"{"mean":{"point_estimate":2000.0}}"#).expect("write");
        let got = collect(dir.path(), SystemTime::UNIX_EPOCH).expect("collect");
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].group.as_str(), got[0].mean_ns), ("types/digest-parse", 2000.0));
        assert_eq!(got[0].throughput, Some((1000.0, "bytes")));
    }
}

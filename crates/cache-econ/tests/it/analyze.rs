//! The analyzer on hand-built Claude Code transcripts, one request per cause.

use agentry_cache_econ::{AnalyzeOptions, PriceTable, Report, analyze, analyze_bytes, find_logs};
use agentry_types::Usd;

struct Line<'a> {
    session: &'a str,
    agent: Option<&'a str>,
    msg: &'a str,
    minute: u32,
    input: u64,
    output: u64,
    write: u64,
    read: u64,
    model: &'a str,
}

fn assistant(l: &Line<'_>) -> String {
    let side = match l.agent {
        Some(a) => format!(r#""isSidechain":true,"agentId":"{a}","#),
        None => r#""isSidechain":false,"#.to_owned(),
    };
    format!(
        r#"{{"parentUuid":null,{side}"sessionId":"{}","message":{{"model":"{}","id":"{}","type":"message","role":"assistant","content":[{{"type":"text","text":"ok \"usage\": {{}}"}}],"usage":{{"input_tokens":{},"cache_creation_input_tokens":{},"cache_read_input_tokens":{},"cache_creation":{{"ephemeral_5m_input_tokens":{},"ephemeral_1h_input_tokens":0}},"output_tokens":{}}}}},"requestId":"req_{}","type":"assistant","timestamp":"2026-11-24T{:02}:{:02}:00.000Z"}}"#,
        l.session,
        l.model,
        l.msg,
        l.input,
        l.write,
        l.read,
        l.write,
        l.output,
        l.msg,
        10 + l.minute / 60,
        l.minute % 60
    )
}

fn user(session: &str) -> String {
    format!(
        r#"{{"type":"user","sessionId":"{session}","message":{{"role":"user","content":[{{"type":"tool_result","content":"done"}}]}},"timestamp":"2026-11-24T10:00:00.000Z"}}"#
    )
}

fn line(session: &str, msg: &str, minute: u32, write: u64, read: u64) -> Line<'static> {
    let session: &'static str = Box::leak(session.to_owned().into_boxed_str());
    let msg: &'static str = Box::leak(msg.to_owned().into_boxed_str());
    Line { session, agent: None, msg, minute, input: 3, output: 100, write, read, model: "claude-opus-4-7" }
}

/// One transcript exercising every cause, a streamed response split over two lines, a malformed line and
/// a sidechain.
fn transcript() -> String {
    let mut out = Vec::new();
    let mut a = line("s1", "msg_a", 0, 20_000, 0);
    a.output = 1;
    out.push(assistant(&a)); // streaming placeholder
    a.output = 100;
    out.push(assistant(&a)); // final line of the same response
    out.push(user("s1"));
    out.push(assistant(&line("s1", "msg_b", 1, 500, 20_000))); // tail growth
    out.push("{not json".to_owned());
    out.push(assistant(&line("s1", "msg_c", 30, 20_800, 0))); // 29-minute gap: expiry
    out.push(assistant(&line("s1", "msg_d", 31, 11_000, 10_000))); // 1-minute gap, read dropped: prefix break
    for _ in 0..25 {
        out.push(user("s1"));
    }
    out.push(assistant(&line("s1", "msg_e", 32, 16_100, 5_000))); // 25 blocks later: lookback overflow
    let mut side = line("s1", "msg_f", 2, 8_000, 0);
    side.agent = Some("a1");
    out.push(assistant(&side)); // sidechain cold start
    let mut small = line("s2", "msg_g", 40, 0, 0);
    small.input = 500;
    out.push(assistant(&small)); // below the 2048-token minimum
    out.push(String::new());
    out.join("\n")
}

fn report() -> Report {
    analyze_bytes("t.jsonl", transcript().as_bytes(), &PriceTable::builtin(), &AnalyzeOptions::default())
}

fn usd(s: &str) -> Usd {
    s.parse().expect("amount")
}

#[test]
fn dedup_keeps_the_largest_line() {
    let r = report();
    assert_eq!(r.requests, 7);
    assert_eq!(r.duplicate_lines, 1);
    assert_eq!(r.usage.output_tokens, 7 * 100);
}

#[test]
fn malformed_line_is_counted_with_its_number() {
    let r = report();
    assert_eq!(r.malformed_lines, 1);
    assert_eq!(r.malformed[0].line, 5);
    assert_eq!(r.malformed[0].file.to_string_lossy(), "t.jsonl");
}

#[test]
fn every_cause() {
    let r = report();
    let counts: Vec<(&str, u64)> = r.cause_counts.iter().map(|(k, v)| (*k, *v)).collect();
    assert_eq!(
        counts,
        [
            ("below_minimum", 1),
            ("cold_start", 2),
            ("lookback_overflow", 1),
            ("prefix_break", 1),
            ("tail_growth", 1),
            ("ttl_expiry", 1)
        ]
    );
    assert_eq!(r.sidechain_requests, 1);
    assert_eq!(r.lineages, 3);
}

#[test]
fn avoidable_is_priced_exactly() {
    let r = report();
    // Expiry: 20,500 tokens rewritten at $6.25/MTok instead of 6 reads at $0.50/MTok.
    assert_eq!(r.causes["ttl_expiry"].avoidable_usd, usd("0.066625"));
    // Prefix break: 10,800 tokens at $6.25 - $0.50.
    assert_eq!(r.causes["prefix_break"].avoidable_usd, usd("0.0621"));
    // Lookback: 16,000 tokens at $5.75.
    assert_eq!(r.causes["lookback_overflow"].avoidable_usd, usd("0.092"));
    assert_eq!(r.avoidable_usd, usd("0.066625") + usd("0.0621") + usd("0.092"));
}

#[test]
fn total_cost_is_exact() {
    let r = report();
    let writes: u64 = 20_000 + 500 + 20_800 + 11_000 + 16_100 + 8_000;
    let reads: u64 = 20_000 + 10_000 + 5_000;
    let inputs: u64 = 6 * 3 + 500;
    let micros = |tokens: u64, per_mtok_cents: u64| tokens * per_mtok_cents; // tokens x cents/MTok = 1e-8 $
    let total_hundredth_micros =
        micros(writes, 625) + micros(reads, 50) + micros(inputs, 500) + micros(700, 2500);
    assert_eq!(r.cost_usd, Usd::from_picos(i128::from(total_hundredth_micros) * 10_000));
}

#[test]
fn policies_are_replayed() {
    let r = report();
    let names: Vec<&str> = r.policies.iter().map(|p| p.policy.as_str()).collect();
    assert_eq!(names, ["none", "fixed", "breakeven", "hazard", "optimal", "ttl_1h", "hybrid"]);
    let none = r.policies[0].cost_usd;
    let breakeven = r.policies[2].cost_usd;
    // The 29-minute gap is cheaper to bridge with pings than to rewrite.
    assert!(breakeven < none, "{breakeven} vs {none}");
}

#[test]
fn files_and_cross_file_duplicates() {
    let dir = tempfile::tempdir().expect("temp dir");
    let projects = dir.path().join("projects/-home-USER-p");
    std::fs::create_dir_all(projects.join("s1/subagents")).expect("dirs");
    std::fs::write(projects.join("s1.jsonl"), transcript()).expect("write");
    // A resumed session repeats the first response in a new file.
    std::fs::write(projects.join("s1-resumed.jsonl"), assistant(&line("s1", "msg_b", 1, 500, 20_000)))
        .expect("write");
    std::fs::write(projects.join("notes.txt"), "ignored").expect("write");
    let files = find_logs(&[dir.path().to_path_buf()]).expect("lists");
    assert_eq!(files.len(), 2);
    let r = analyze(&files, &PriceTable::builtin(), &AnalyzeOptions::default(), None).expect("analyzes");
    assert_eq!(r.requests, 7);
    assert_eq!(r.duplicate_lines, 2);
    assert!(find_logs(&[dir.path().join("missing")]).is_err());
}

#[test]
fn empty_and_garbage_inputs_never_fail() {
    let prices = PriceTable::builtin();
    let r = analyze_bytes("e", b"", &prices, &AnalyzeOptions::default());
    assert_eq!((r.requests, r.malformed_lines), (0, 0));
    let r =
        analyze_bytes("g", b"\xff\xfe\n{\"message\":{\"usage\":\n[]\n", &prices, &AnalyzeOptions::default());
    assert_eq!((r.requests, r.malformed_lines), (0, 3));
}

#[test]
fn extreme_timestamps_do_not_overflow() {
    // `created` seconds saturate to the ends of the microsecond range: gaps of i64::MAX - i64::MIN.
    let openai = |session: &str, id: &str, created: i64| {
        format!(
            r#"{{"sessionId":"{session}","id":"{id}","model":"gpt-4o","created":{created},"usage":{{"prompt_tokens":2000,"completion_tokens":10,"prompt_tokens_details":{{"cached_tokens":1536}}}}}}"#
        )
    };
    let log = [
        openai("a", "c1", i64::MIN),
        openai("a", "c2", i64::MAX),
        openai("b", "c3", i64::MIN),
        openai("b", "c4", 0),
    ]
    .join("\n");
    let r =
        analyze_bytes("extreme.jsonl", log.as_bytes(), &PriceTable::builtin(), &AnalyzeOptions::default());
    assert_eq!((r.requests, r.malformed_lines, r.lineages), (4, 0, 2));
    // Both returns come after gaps that saturate at i64::MAX microseconds (0 - i64::MIN overflows too),
    // and so does session b's open gap to the end of the log; session a's open gap is 0.
    let longest = i64::MAX as f64 / 60e6;
    assert_eq!((r.gaps.observed, r.gaps.censored), (2, 2));
    assert_eq!((r.gaps.survival_60m, r.gaps.median_minutes), (1.0, Some(longest)), "{:?}", r.gaps);
    assert!(r.policies.iter().all(|p| !p.cost_usd.is_negative()), "{:?}", r.policies);
}

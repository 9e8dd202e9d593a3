//! The analyzer on hand-built Claude Code transcripts, one request per cause.

use agentry_cache_econ::{
    AnalyzeOptions, Cause, PriceTable, Report, analyze, analyze_bytes, analyze_listing, find_logs, list_logs,
};
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
    let mut counts: Vec<(&str, u64)> = r.cause_counts.iter().map(|(k, v)| (k.name(), *v)).collect();
    counts.sort();
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
    assert_eq!(r.causes[&Cause::TtlExpiry].avoidable_usd, usd("0.066625"));
    // Prefix break: 10,800 tokens at $6.25 - $0.50.
    assert_eq!(r.causes[&Cause::PrefixBreak].avoidable_usd, usd("0.0621"));
    // Lookback: 16,000 tokens at $5.75.
    assert_eq!(r.causes[&Cause::LookbackOverflow].avoidable_usd, usd("0.092"));
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
    // The lenient listing skips the missing root and reports it.
    let listing = list_logs(&[dir.path().join("missing"), dir.path().to_path_buf()]);
    assert_eq!(listing.files, files);
    assert_eq!(listing.skipped.len(), 1);
    assert_eq!(listing.skipped[0].path, dir.path().join("missing"));
    let r = analyze_listing(&listing, &PriceTable::builtin(), &AnalyzeOptions::default(), None)
        .expect("analyzes");
    assert_eq!((r.requests, r.skipped_paths.len()), (7, 1));
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

/// One assistant line with both TTL buckets, on 2026-11-`day` at 10:00 plus `minute`.
#[allow(clippy::too_many_arguments)]
fn ttl_line(
    session: &str,
    msg: &str,
    model: &str,
    day: u32,
    minute: u32,
    (input, output): (u64, u64),
    (write_5m, write_1h, read): (u64, u64, u64),
) -> String {
    format!(
        r#"{{"type":"assistant","sessionId":"{session}","requestId":"req_{msg}","timestamp":"2026-11-{day:02}T{:02}:{:02}:00.000Z","message":{{"id":"{msg}","model":"{model}","usage":{{"input_tokens":{input},"cache_creation_input_tokens":{},"cache_read_input_tokens":{read},"cache_creation":{{"ephemeral_5m_input_tokens":{write_5m},"ephemeral_1h_input_tokens":{write_1h}}},"output_tokens":{output}}}}}}}"#,
        10 + minute / 60,
        minute % 60,
        write_5m + write_1h,
    )
}

/// Session `h` writes its prefix for an hour (Opus 4.7: $5 in, $6.25 5m, $10 1h, $0.50 read, $25 out);
/// session `k` starts on Sonnet 4.5 and returns a day later on Opus, so model, day and session group
/// the requests differently.
fn one_hour_transcript() -> String {
    let opus = "claude-opus-4-7";
    [
        ttl_line("h", "h1", opus, 24, 0, (3, 100), (0, 20_000, 0)), // cold start, at the 1h rate
        ttl_line("h", "h2", opus, 24, 30, (3, 100), (0, 500, 20_000)), // 30 min: still warm, tail growth
        ttl_line("h", "h3", opus, 24, 50, (3, 100), (0, 20_600, 0)), // 20 min, read dropped: a break
        ttl_line("h", "h4", opus, 24, 200, (3, 100), (0, 21_000, 0)), // 150 min: expired
        ttl_line("k", "k1", "claude-sonnet-4-5", 24, 10, (10, 50), (10_000, 0, 0)),
        ttl_line("k", "k2", opus, 25, 0, (10, 50), (10_000, 0, 0)), // a day later: expired
    ]
    .join("\n")
}

fn one_hour_report() -> Report {
    analyze_bytes(
        "h.jsonl",
        one_hour_transcript().as_bytes(),
        &PriceTable::builtin(),
        &AnalyzeOptions::default(),
    )
}

#[test]
fn one_hour_writes_are_priced_at_the_one_hour_rate() {
    let r = one_hour_report();
    assert_eq!((r.requests, r.malformed_lines, r.lineages), (6, 0, 2));
    assert_eq!((r.usage.cache_write_1h_tokens, r.usage.cache_write_5m_tokens), (62_100, 20_000));
    // The cold starts: 20,000 tokens at $10 (not $6.25) and 10,000 at Sonnet's $3.75.
    assert_eq!(r.causes[&Cause::ColdStart].write_usd, usd("0.2375"));
    // Every request: input, output, each bucket at its own rate.
    let h = usd("0.202515") + usd("0.017515") + usd("0.208515") + usd("0.212515");
    let (k1, k2) = (usd("0.03828"), usd("0.0638"));
    assert_eq!(r.cost_usd, h + k1 + k2);
}

#[test]
fn a_gap_under_an_hour_after_a_one_hour_write_is_not_an_expiry() {
    let r = one_hour_report();
    let mut counts: Vec<(&str, u64)> = r.cause_counts.iter().map(|(k, v)| (k.name(), *v)).collect();
    counts.sort();
    assert_eq!(
        counts,
        [
            ("below_minimum", 0),
            ("cold_start", 2),
            ("lookback_overflow", 0),
            ("prefix_break", 1),
            ("tail_growth", 1),
            ("ttl_expiry", 2)
        ]
    );
    // The 20-minute gap: 20,500 lost tokens, rewritten at $10 instead of read at $0.50.
    assert_eq!(r.causes[&Cause::PrefixBreak].avoidable_usd, usd("0.19475"));
    // The 150-minute gap: 20,600 tokens rewritten at $10 ($0.206) against three hourly reads ($0.0309);
    // k's day-long gap costs more in pings than its rewrite, so nothing is avoidable there.
    assert_eq!(r.causes[&Cause::TtlExpiry].avoidable_usd, usd("0.1751"));
}

#[test]
fn totals_by_model_day_and_session() {
    let r = one_hour_report();
    let h = usd("0.202515") + usd("0.017515") + usd("0.208515") + usd("0.212515");
    let (k1, k2) = (usd("0.03828"), usd("0.0638"));
    let groups = |g: &[agentry_cache_econ::GroupTotals]| -> Vec<(String, u64, Usd)> {
        g.iter().map(|g| (g.key.clone(), g.requests, g.cost_usd)).collect()
    };
    let row = |key: &str, n: u64, cost: Usd| (key.to_owned(), n, cost);
    assert_eq!(groups(&r.by_model), [row("claude-opus-4-7", 5, h + k2), row("claude-sonnet-4-5", 1, k1)]);
    assert_eq!(groups(&r.by_day), [row("2026-11-24", 5, h + k1), row("2026-11-25", 1, k2)]);
    assert_eq!(groups(&r.by_session), [row("h", 4, h), row("k", 2, k1 + k2)]);
    assert_eq!(r.by_session[0].usage.cache_write_1h_tokens, 62_100);
    assert_eq!(r.by_model[1].usage.cache_write_5m_tokens, 10_000);
    let without = analyze_bytes(
        "h.jsonl",
        one_hour_transcript().as_bytes(),
        &PriceTable::builtin(),
        &AnalyzeOptions { sessions: false, ..AnalyzeOptions::default() },
    );
    assert!(without.by_session.is_empty());
}

#[test]
fn one_hour_and_hybrid_replays_by_hand() {
    let r = one_hour_report();
    let cost = |name: &str| {
        r.policies.iter().find(|p| p.policy == name).map(|p| p.cost_usd).expect("policy replayed")
    };
    // ttl_1h: every write at $10 (Sonnet $6); a gap of an hour or less reads the prefix, a longer one
    // writes it again; the open gaps at the end cost nothing.
    let ttl_1h = [
        "0.2",     // h1: 20,000 x $10
        "0.015",   // h2: tail 500 x $10 + 30 min, read 20,000 x $0.50
        "0.01125", // h3: tail 100 x $10 + 20 min, read 20,500 x $0.50
        "0.21",    // h4: tail 400 x $10 + 150 min, rewrite 20,600 x $10
        "0.06",    // k1: 10,000 x Sonnet's $6
        "0.1",     // k2: a day, rewrite 10,000 x $10 (no tail)
    ];
    assert_eq!(cost("ttl_1h"), ttl_1h.iter().map(|s| usd(s)).sum());
    // hybrid: the first prefix (20,000; k's 10,000) at 1 hour, everything after it at 5 minutes.
    let hybrid = [
        "0.2",      // h1: 20,000 x $10
        "0.013125", // h2: tail 500 x $6.25 + stable read 20,000 x $0.50
        "0.01375",  // h3: tail 100 x $6.25 + stable read $0.01 + the 500 tail part rewritten at $6.25
        "0.20625",  // h4: tail 400 x $6.25 + stable rewrite 20,000 x $10 + 600 x $6.25
        "0.06",     // k1
        "0.1",      // k2: stable rewrite 10,000 x $10
    ];
    assert_eq!(cost("hybrid"), hybrid.iter().map(|s| usd(s)).sum());
    assert_eq!((cost("ttl_1h"), cost("hybrid")), (usd("0.59625"), usd("0.593125")));
}

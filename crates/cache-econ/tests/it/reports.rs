//! The usage reports on `tests/data/claude-config`, a Claude Code config folder as Claude Code writes it:
//! `projects/<project>/<session>.jsonl` and `<session>/subagents/agent-<id>.jsonl`, streamed responses
//! split over one line per content block, tool results, summaries, file-history snapshots and a
//! `<synthetic>` line. The expected rows are ccusage 20.0.24's on the same folder
//! (`CLAUDE_CONFIG_DIR=tests/data/claude-config ccusage claude <report> --json --offline -z <zone>`),
//! tokens exact and cost to the microdollar.

use std::path::{Path, PathBuf};

use agentry_cache_econ::{
    PriceTable, format_usd, list_logs,
    report::{
        BlockOptions, Day, LimitStatus, Period, ReportOptions, Requests, TokenLimit, Totals, Weekday, Zone,
    },
};
use agentry_types::Timestamp;

/// Key, input, output, cache creation (both lifetimes), cache read, cost rounded to six decimals.
type Row = (&'static str, u64, u64, u64, u64, &'static str);

fn config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/claude-config/projects")
}

fn with_requests(f: impl FnOnce(&Requests<'_>)) {
    let prices = PriceTable::builtin();
    let listing = list_logs(&[config()]);
    assert_eq!(listing.files.len(), 10, "{:?}", listing.skipped);
    let requests = Requests::load(&listing, &prices, None);
    assert_eq!(requests.malformed_lines(), 0);
    f(&requests);
}

fn row_of(key: &str, t: &Totals) -> (String, u64, u64, u64, u64, String) {
    let u = &t.usage;
    (
        key.to_owned(),
        u.input_tokens,
        u.output_tokens,
        u.cache_write_tokens(),
        u.cache_read_tokens,
        format_usd(t.cost_usd, 6),
    )
}

fn owned(rows: &[Row]) -> Vec<(String, u64, u64, u64, u64, String)> {
    let mut v: Vec<_> = rows.iter().map(|r| (r.0.to_owned(), r.1, r.2, r.3, r.4, r.5.to_owned())).collect();
    v.sort();
    v
}

fn check(period: Period, zone: &str, want: &[Row]) {
    with_requests(|requests| {
        let zone = Zone::named(zone).expect("zone");
        let report = requests.report(&ReportOptions::new(period, zone));
        let mut got: Vec<_> = report.rows.iter().map(|r| row_of(&r.key, &r.totals)).collect();
        got.sort();
        assert_eq!(got, owned(want), "{period:?}");
        let total = row_of("", &report.totals);
        assert_eq!((total.1, total.2, total.3, total.4), (347, 34150, 244617, 1655950));
        assert_eq!(report.totals.cost_usd.to_string(), "2.61486275");
    });
}

#[test]
fn daily_in_utc_equals_ccusage() {
    check(
        Period::Day,
        "UTC",
        &[
            ("2026-10-30", 77, 6546, 42397, 249280, "0.574088"),
            ("2026-10-31", 3, 480, 2275, 29427, "0.049479"),
            ("2026-11-28", 67, 3994, 55790, 185942, "0.504765"),
            ("2026-11-29", 136, 14446, 89876, 853914, "1.009128"),
            ("2026-11-30", 37, 5281, 27913, 217499, "0.415416"),
            ("2026-12-01", 27, 3403, 26366, 119888, "0.061988"),
        ],
    );
}

#[test]
fn daily_in_tokyo_equals_ccusage() {
    check(
        Period::Day,
        "Asia/Tokyo",
        &[
            ("2026-10-31", 80, 7026, 44672, 278707, "0.623566"),
            ("2026-11-29", 174, 13276, 119459, 897267, "1.295292"),
            ("2026-11-30", 66, 10445, 54120, 360088, "0.634016"),
            ("2026-12-01", 27, 3403, 26366, 119888, "0.061988"),
        ],
    );
}

#[test]
fn weekly_in_new_york_equals_ccusage() {
    check(
        Period::Week(Weekday::Sunday),
        "America/New_York",
        &[
            ("2026-10-25", 80, 7026, 44672, 278707, "0.623566"),
            ("2026-11-22", 108, 7537, 74933, 620393, "1.002200"),
            ("2026-11-29", 159, 19587, 125012, 756850, "0.989096"),
        ],
    );
}

#[test]
fn monthly_equals_ccusage() {
    check(
        Period::Month,
        "UTC",
        &[
            ("2026-10", 80, 7026, 44672, 278707, "0.623566"),
            ("2026-11", 240, 23721, 173579, 1257355, "1.929308"),
            ("2026-12", 27, 3403, 26366, 119888, "0.061988"),
        ],
    );
}

#[test]
fn sessions_equal_ccusage_and_include_their_subagents() {
    check(
        Period::Session,
        "UTC",
        &[
            ("79281c19-cde3-47ab-a54c-5de6c3813ce6", 108, 7537, 74933, 620393, "1.002200"),
            ("6513270e-269e-4d37-b2a7-4de452e6b438", 80, 7026, 44672, 278707, "0.623566"),
            ("f9994f18-5845-4b3a-81a5-008adf7a9c99", 37, 5281, 27913, 217499, "0.415416"),
            ("1a555522-71b7-467c-b3e0-90aa3d05a4cb", 66, 5739, 44526, 276874, "0.293092"),
            ("148a223a-a061-4bc7-94c4-064f9a45a3c6", 29, 5164, 26207, 142589, "0.218600"),
            ("54b1e39d-9331-4ed1-9a00-6f57fb3c8f31", 27, 3403, 26366, 119888, "0.061988"),
        ],
    );
}

fn blocks_options() -> BlockOptions {
    BlockOptions { zone: Zone::utc(), since: None, until: None, project: None, token_limit: None }
}

#[test]
fn blocks_equal_ccusage() {
    let want: &[Row] = &[
        ("2026-10-30T22:00:00Z", 80, 7026, 44672, 278707, "0.623566"),
        ("2026-11-28T23:00:00Z", 108, 7537, 74933, 620393, "1.002200"),
        ("2026-11-29T09:00:00Z", 66, 5739, 44526, 276874, "0.293092"),
        ("2026-11-29T16:00:00Z", 29, 5164, 26207, 142589, "0.218600"),
        ("2026-11-30T03:00:00Z", 37, 5281, 27913, 217499, "0.415416"),
        ("2026-12-01T12:00:00Z", 27, 3403, 26366, 119888, "0.061988"),
    ];
    with_requests(|requests| {
        let now = Timestamp::from_unix_seconds(1_800_000_000); // 2027: every block is finished
        let report = requests.blocks(&blocks_options(), now);
        let mut got: Vec<_> = report
            .rows
            .iter()
            .map(|b| row_of(&b.start.to_string().replace(".000Z", "Z"), &b.totals))
            .collect();
        got.sort();
        assert_eq!(got, owned(want));
        for b in &report.rows {
            assert!(!b.active && b.projection.is_none());
            assert_eq!(b.end.unix_micros() - b.start.unix_micros(), 5 * 3_600_000_000);
            assert!(b.burn_rate.is_some(), "every block spans more than one instant");
        }
    });
}

#[test]
fn the_block_of_a_recent_request_is_active_and_projected() {
    with_requests(|requests| {
        // Thirty minutes after the last request of the block that opened at 2026-12-01T12:00Z.
        let blocks = requests.blocks(&blocks_options(), Timestamp::from_unix_micros(0));
        let last = blocks.rows.last().and_then(|b| b.totals.last_request).expect("a last request");
        let now = Timestamp::from_unix_micros(last.unix_micros() + 30 * 60_000_000);
        let options = BlockOptions { token_limit: Some(TokenLimit::Max), ..blocks_options() };
        let report = requests.blocks(&options, now);
        let active: Vec<_> = report.rows.iter().filter(|b| b.active).collect();
        assert_eq!(active.len(), 1);
        let b = active[0];
        let p = b.projection.expect("the active block is projected");
        assert!(p.total_tokens > b.totals.total_tokens() && p.cost_usd > b.totals.cost_usd);
        assert!(p.remaining_minutes < 300);
        // `max` is the largest finished block: the 2026-11-28 one, 702,971 tokens.
        let limit = b.limit.expect("a limit");
        assert_eq!(limit.limit, 702_971);
        assert_eq!(limit.tokens, p.total_tokens);
        let biggest = report.rows.iter().find(|b| b.totals.total_tokens() == 702_971).expect("max block");
        // At exactly the limit: above 80% of it, not above it.
        assert_eq!(biggest.limit.map(|l| l.status), Some(LimitStatus::Warning));
    });
}

#[test]
fn since_until_and_project_filter_and_group() {
    with_requests(|requests| {
        let day = |s: &str| s.parse::<Day>().ok();
        let mut options = ReportOptions::new(Period::Day, Zone::utc());
        options.since = day("20261129");
        options.until = day("2026-11-30");
        let report = requests.report(&options);
        let keys: Vec<_> = report.rows.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["2026-11-29", "2026-11-30"]);
        assert_eq!(format_usd(report.totals.cost_usd, 6), "1.424543");

        let mut options = ReportOptions::new(Period::Month, Zone::utc());
        options.project = Some("-home-ada-src-blog".to_owned());
        let blog = requests.report(&options);
        assert!(blog.rows.iter().all(|r| r.project.is_none()));
        assert_eq!(blog.totals.usage.input_tokens, 66 + 29 + 27);

        options.project = None;
        options.by_project = true;
        let grouped = requests.report(&options);
        let keys: Vec<_> =
            grouped.rows.iter().map(|r| (r.project.clone().unwrap_or_default(), r.key.clone())).collect();
        assert_eq!(
            keys,
            [
                ("-home-ada-src-blog".to_owned(), "2026-11".to_owned()),
                ("-home-ada-src-blog".to_owned(), "2026-12".to_owned()),
                ("-home-ada-src-shop".to_owned(), "2026-10".to_owned()),
                ("-home-ada-src-shop".to_owned(), "2026-11".to_owned()),
            ]
        );
        assert_eq!(grouped.totals, requests.report(&ReportOptions::new(Period::Month, Zone::utc())).totals);
    });
}

#[test]
fn synthetic_lines_and_streamed_duplicates_are_not_requests() {
    with_requests(|requests| {
        let report = requests.report(&ReportOptions::new(Period::Month, Zone::utc()));
        assert_eq!(report.totals.requests, 80);
        assert!(report.totals.models().all(|m| m != "<synthetic>"));
        assert!(requests.unpriced_models().is_empty());
    });
}

#[test]
fn breakdown_sums_to_the_row() {
    with_requests(|requests| {
        let report = requests.report(&ReportOptions::new(Period::Day, Zone::utc()));
        for r in &report.rows {
            let cost: agentry_types::Usd = r.totals.breakdown.iter().map(|m| m.cost_usd).sum();
            let requests: u64 = r.totals.breakdown.iter().map(|m| m.requests).sum();
            assert_eq!((cost, requests), (r.totals.cost_usd, r.totals.requests), "{}", r.key);
        }
    });
}

#[test]
fn cache_state_follows_the_last_main_chain_request() {
    with_requests(|requests| {
        let c = requests.cache_state(Some("79281c19-cde3-47ab-a54c-5de6c3813ce6")).expect("a cached session");
        assert_eq!(c.model, "claude-opus-4-7");
        assert_eq!(c.ttl, agentry_cache_econ::Ttl::OneHour);
        assert_eq!(c.last_request.to_string(), "2026-11-29T02:00:36.000Z"); // a streamed response's first line
        assert_eq!(c.expires_at.unix_micros() - c.last_request.unix_micros(), 3_600_000_000);
        // Opus 4.7: a read at $0.50/MTok, a 1-hour write at $10/MTok, so cold is 20 times warm.
        assert_eq!(c.cold_usd.picos(), 20 * c.warm_usd.picos());
        assert_eq!(
            c.seconds_left(Timestamp::from_unix_micros(c.last_request.unix_micros() + 600_000_000)),
            3000
        );
        // 19 hourly reads cost less than one 1-hour write.
        assert_eq!(c.keep_warm_minutes, 19.0 * 60.0);
        assert!(requests.cache_state(Some("no-such-session")).is_none());
    });
}

/// ccusage 20.0.24 on `tests/data/claude-probes` (`claude daily --json --offline -z UTC --breakdown`):
/// the fast request $0.3018 as `claude-opus-4-6-fast`; the parent message once in `daily` ($0.32505) but
/// twice in `session` and `blocks` ($0.6501); Fable 5.2 at $0, an unknown model to its price snapshot.
#[test]
fn fast_mode_subagent_replays_and_new_models_are_priced_as_billed() {
    let prices = PriceTable::builtin();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/claude-probes/projects");
    let requests = Requests::load(&list_logs(&[dir]), &prices, None);
    for period in [Period::Day, Period::Session] {
        let report = requests.report(&ReportOptions::new(period, Zone::utc()));
        let models: Vec<_> = report
            .totals
            .breakdown
            .iter()
            .map(|m| (m.model.as_str(), m.cost_usd.to_string(), m.requests))
            .collect();
        assert_eq!(
            models,
            [
                ("claude-fable-5-2", "0.02048".to_owned(), 1),
                ("claude-opus-4-6-fast", "0.3018".to_owned(), 1),
                ("claude-opus-4-7", "0.32505".to_owned(), 1),
            ],
            "{period:?}"
        );
    }
    let blocks = requests.blocks(&blocks_options(), Timestamp::from_unix_seconds(1_800_000_000));
    assert_eq!(blocks.totals.cost_usd.to_string(), "0.64733");
    let report = agentry_cache_econ::analyze(
        &list_logs(&[Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/claude-probes/projects")]).files,
        &prices,
        &agentry_cache_econ::AnalyzeOptions::default(),
        None,
    )
    .expect("analyzes");
    assert_eq!((report.requests, report.subagent_replays, report.duplicate_lines), (3, 1, 1));
}

/// ccusage 20.0.24 on `tests/data/codex-home` (`CODEX_HOME=<it> ccusage codex daily --json --offline -z UTC`):
/// 30,900 uncached input, 45,600 cached, 2,460 output tokens, $0.068925; the session without a
/// `turn_context` priced as gpt-5, the repeated token count and the one without `info` adding nothing.
#[test]
fn codex_rollouts_equal_ccusage() {
    let prices = PriceTable::builtin();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/codex-home/sessions");
    let requests = Requests::load(&list_logs(&[dir]), &prices, None);
    assert_eq!((requests.malformed_lines(), requests.unrecognized_files().len()), (0, 0));
    let report = requests.report(&ReportOptions::new(Period::Day, Zone::utc()));
    assert_eq!(owned(&[("2026-11-20", 30900, 2460, 0, 45600, "0.068925")]), {
        let mut rows: Vec<_> = report.rows.iter().map(|r| row_of(&r.key, &r.totals)).collect();
        rows.sort();
        rows
    });
    assert_eq!(report.totals.requests, 7);
    let mut sessions = ReportOptions::new(Period::Session, Zone::utc());
    sessions.by_project = true;
    let rows: Vec<_> = requests
        .report(&sessions)
        .rows
        .iter()
        .map(|r| (r.project.clone().unwrap_or_default(), r.totals.models().collect::<Vec<_>>().join(",")))
        .collect();
    assert_eq!(
        rows,
        [
            ("-home-ada-src-blog".to_owned(), "gpt-5".to_owned()),
            ("-home-ada-src-shop".to_owned(), "gpt-5-codex".to_owned()),
        ]
    );
}

/// Web searches ($10 per 1,000 on the Claude API) and US-only inference (1.1x the token charges on Opus
/// 4.6 and later), from the fields Claude Code copies from the API's usage object. ccusage 20.0.24 bills
/// neither.
#[test]
fn web_searches_and_us_inference_are_billed() {
    let prices = PriceTable::builtin();
    let line = |id: &str, extra: &str| {
        format!(
            r#"{{"type":"assistant","sessionId":"s","requestId":"r-{id}","timestamp":"2026-11-20T10:00:00Z","message":{{"id":"m-{id}","model":"claude-opus-4-7","usage":{{"input_tokens":1000,"output_tokens":100,"cache_read_input_tokens":100000{extra}}}}}}}"#
        )
    };
    let log = [
        line("plain", ""),
        line("search", r#","server_tool_use":{"web_search_requests":10,"web_fetch_requests":0}"#),
        line("us", r#","inference_geo":"us""#),
        line("global", r#","inference_geo":"global""#),
    ]
    .join("\n");
    let requests = Requests::from_bytes("s.jsonl", log.as_bytes(), &prices);
    let report = requests.report(&ReportOptions::new(Period::Session, Zone::utc()));
    // 1,000 input at $5, 100 output at $25 and 100,000 read at $0.50 per million: $0.0575.
    let plain = "0.0575";
    let costs: Vec<String> = [plain, "0.1575", "0.06325", plain].iter().map(|s| (*s).to_owned()).collect();
    let each: Vec<String> = ["plain", "search", "us", "global"]
        .iter()
        .map(|id| {
            let one = Requests::from_bytes(
                "s.jsonl",
                line(
                    id,
                    match *id {
                        "search" => r#","server_tool_use":{"web_search_requests":10}"#,
                        "us" => r#","inference_geo":"us""#,
                        "global" => r#","inference_geo":"global""#,
                        _ => "",
                    },
                )
                .as_bytes(),
                &prices,
            );
            one.report(&ReportOptions::new(Period::Session, Zone::utc())).totals.cost_usd.to_string()
        })
        .collect();
    assert_eq!(each, costs);
    assert_eq!(report.totals.cost_usd.to_string(), "0.33575");
    assert_eq!(report.totals.usage.web_search_requests, 10);
}

/// ccusage 20.0.24 on `tests/data/gemini-tmp` (`GEMINI_DATA_DIR=<it> ccusage gemini daily --json --offline -z UTC`):
/// 16,740 input, 24,500 cached, 42,810 tokens in all, $0.035852. ccusage shows 1,220 output tokens and the
/// 350 thought tokens apart; both bill them as output, which is where they count here.
#[test]
fn gemini_chats_equal_ccusage() {
    let prices = PriceTable::builtin();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/gemini-tmp");
    let listing = list_logs(&[dir]);
    assert_eq!(listing.files.len(), 1, "the chat file, not the README");
    let requests = Requests::load(&listing, &prices, None);
    assert_eq!((requests.malformed_lines(), requests.unrecognized_files().len()), (0, 0));
    let report = requests.report(&ReportOptions::new(Period::Day, Zone::utc()));
    assert_eq!(
        report.rows.iter().map(|r| row_of(&r.key, &r.totals)).collect::<Vec<_>>(),
        owned(&[("2026-11-21", 16740, 1570, 0, 24500, "0.035852")])
    );
    assert_eq!((report.totals.requests, report.totals.total_tokens()), (3, 42810));
}

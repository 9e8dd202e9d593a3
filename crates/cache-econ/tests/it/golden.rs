//! The article's table and rules, to the cent.

use agentry_cache_econ::{PriceTable, Ttl, breakeven, compaction, format_usd, table};

fn rows(prefix: u64) -> Vec<(String, String)> {
    let prices = PriceTable::builtin();
    let opus = prices.get("claude-opus-4-7", None).expect("row");
    table(opus, Ttl::FiveMinutes, &[prefix], &[5.0, 30.0, 60.0, 90.0], 5.0)
        .expect("valid")
        .into_iter()
        .map(|r| (r.refresh_usd.to_string(), r.rewrite_usd.to_string()))
        .collect()
}

fn check(prefix: u64, refresh: [&str; 4], rewrite: &str) {
    let got = rows(prefix);
    let want: Vec<(String, String)> = refresh.iter().map(|r| ((*r).to_owned(), rewrite.to_owned())).collect();
    assert_eq!(got, want, "prefix {prefix}");
}

#[test]
fn article_100k() {
    check(100_000, ["0.675", "0.925", "1.225", "1.525"], "1.25");
}

#[test]
fn article_500k() {
    check(500_000, ["3.375", "4.625", "6.125", "7.625"], "6.25");
}

#[test]
fn article_50k_exact_and_rounded() {
    check(50_000, ["0.3375", "0.4625", "0.6125", "0.7625"], "0.625");
    let rounded: Vec<String> =
        rows(50_000).iter().map(|(r, _)| format_usd(r.parse().expect("amount"), 3)).collect();
    assert_eq!(rounded, ["0.338", "0.463", "0.613", "0.763"]);
}

#[test]
fn rule_and_compaction() {
    let prices = PriceTable::builtin();
    let opus = prices.get("claude-opus-4-7", None).expect("row");
    let b = breakeven(opus, Ttl::FiveMinutes, 5.0).expect("valid");
    assert_eq!((b.breakeven_minutes, b.achievable_minutes), (62.5, 60.0));
    let turns = |r: f64| compaction(opus, Ttl::FiveMinutes, r, true).expect("valid").breakeven_turns.round();
    assert_eq!([turns(0.1), turns(0.05), turns(0.2), turns(0.5)], [8.0, 4.0, 17.0, 65.0]);
}

//! Property tests of the column policy's public API. Case count: `PROPTEST_CASES` (proptest reads it; 64 when
//! unset here, to keep CI quick).

use agentry_ingest::{
    ColumnPolicy, HyperLogLog, ProfileOptions, Profiler, SqlDialect, inspect, name_tokens, personal_kinds,
    quote_ident, shape,
};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

/// Undoes `quote_ident`: strips the outer quotes and halves doubled quotes.
fn unquote(q: &str) -> Option<String> {
    let inner = q.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            // Inside a quoted identifier a quote only appears doubled.
            if chars.next() != Some('"') {
                return None;
            }
        }
        out.push(c);
    }
    Some(out)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn quoting_round_trips(ident in "[^\u{0}]{1,40}") {
        for dialect in [SqlDialect::DuckDb, SqlDialect::Sqlite, SqlDialect::Postgres] {
            match quote_ident(&ident, dialect) {
                Ok(q) => prop_assert_eq!(unquote(&q), Some(ident.clone())),
                Err(_) => prop_assert!(dialect == SqlDialect::Postgres && ident.len() > 63),
            }
        }
    }

    #[test]
    fn tokens_are_lowercase_alphanumeric(name in "\\PC{0,40}") {
        for t in name_tokens(&name) {
            prop_assert!(!t.is_empty());
            prop_assert!(t.chars().all(char::is_alphanumeric), "{t:?}");
            prop_assert_eq!(t.to_lowercase(), t.clone());
        }
    }

    #[test]
    fn matching_ignores_separators_and_case(a in "[a-z]{1,8}", b in "[a-z]{1,8}") {
        // snake, kebab and camel spellings of one name are the same name.
        let policy = ColumnPolicy::builtin();
        let camel = format!("{a}{}{}", b[..1].to_uppercase(), &b[1..]);
        let snake = format!("{a}_{b}");
        let kebab = format!("{a}-{b}");
        let m = |n: &str| policy.match_name(n).map(|m| m.fragment);
        prop_assert_eq!(m(&snake), m(&kebab));
        prop_assert_eq!(m(&snake), m(&camel));
    }

    #[test]
    fn inspectors_never_panic(v in "\\PC{0,80}") {
        let _ = personal_kinds(&v);
        let _ = shape(&v);
        let ins = inspect(&[v]);
        prop_assert_eq!(ins.sampled, 1);
    }

    #[test]
    fn policy_parser_never_panics(text in "\\PC{0,200}") {
        let _ = ColumnPolicy::from_toml(&text, "p.toml");
    }

    #[test]
    fn csv_profile_counts(rows in proptest::collection::vec(("[a-c]{0,3}", "[0-9]{0,4}"), 0..60), k in 1usize..20) {
        let mut text = String::from("a,b\n");
        for (x, y) in &rows {
            text.push_str(&format!("{x},{y}\n"));
        }
        let mut p = Profiler::new(ProfileOptions { sample_size: k, ..ProfileOptions::default() });
        p.read_csv(text.as_bytes(), b',', "p.csv").expect("valid csv");
        let t = p.finish();
        // A row of empty fields is the line ",", a record of nulls, not a blank line.
        prop_assert_eq!(t.rows, rows.len() as u64);
        let a = &t.columns[0];
        let non_null: Vec<&String> = rows.iter().map(|(x, _)| x).filter(|x| !x.is_empty()).collect();
        prop_assert_eq!(a.non_null(), non_null.len() as u64);
        let distinct: std::collections::HashSet<&String> = non_null.iter().copied().collect();
        prop_assert_eq!(a.distinct, distinct.len() as u64);
        prop_assert_eq!(a.sample.len(), non_null.len().min(k));
        prop_assert!(a.sample.iter().all(|s| distinct.contains(s)));
    }

    #[test]
    fn hll_is_close(n in 1000u64..60_000) {
        let mut h = HyperLogLog::new();
        for i in 0..n {
            h.insert(format!("value-{i}").as_bytes());
        }
        let err = (h.estimate() as f64 - n as f64).abs() / n as f64;
        // 0.8% standard error; 4% is five standard errors.
        prop_assert!(err < 0.04, "n {n}, estimate {}", h.estimate());
    }
}

//! Property tests on the public API. Case count from PROPTEST_CASES (default 64).

use agentry_cache_econ::{
    AnalyzeOptions, PriceTable, Ttl, Usage, analyze_bytes, breakeven, expected_usd, parse_line, refresh_cost,
    rewrite_cost, solve_keepalive,
};
use agentry_types::Usd;
use proptest::prelude::*;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(64);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

fn usage() -> impl Strategy<Value = Usage> {
    (0u64..2_000_000, 0u64..100_000, 0u64..1_000_000, 0u64..1_000_000, 0u64..2_000_000).prop_map(
        |(i, o, w5, w1, r)| Usage {
            input_tokens: i,
            output_tokens: o,
            cache_write_5m_tokens: w5,
            cache_write_1h_tokens: w1,
            cache_read_tokens: r,
            ..Usage::default()
        },
    )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn costs_never_negative_and_monotone_in_tokens(u in usage(), extra in 0u64..500_000, which in 0usize..5, row in 0usize..64) {
        let table = PriceTable::builtin();
        let model = &table.rows()[row % table.rows().len()];
        let base = model.cost(&u);
        prop_assert!(base >= Usd::ZERO);
        let mut more = u;
        match which {
            0 => more.input_tokens += extra,
            1 => more.output_tokens += extra,
            2 => more.cache_write_5m_tokens += extra,
            3 => more.cache_write_1h_tokens += extra,
            _ => more.cache_read_tokens += extra,
        }
        prop_assert!(model.cost(&more) >= base, "{} {:?} -> {:?}", model.id, u, more);
    }

    #[test]
    fn a_hit_never_costs_more_than_a_miss(tokens in 0u64..5_000_000, row in 0usize..64) {
        let table = PriceTable::builtin();
        let model = &table.rows()[row % table.rows().len()];
        let read = Usage { cache_read_tokens: tokens, ..Usage::default() };
        let write = Usage { cache_write_5m_tokens: tokens, ..Usage::default() };
        let plain = Usage { input_tokens: tokens, ..Usage::default() };
        prop_assert!(model.cost(&read) <= model.cost(&write));
        prop_assert!(model.cost(&read) <= model.cost(&plain));
    }

    #[test]
    fn refresh_is_monotone_in_time(prefix in 0u64..1_000_000, a in 0.0f64..600.0, b in 0.0f64..600.0, tau in 0.5f64..5.0) {
        let table = PriceTable::builtin();
        let m = table.get("claude-opus-4-7", None).expect("row");
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let c_lo = refresh_cost(m, Ttl::FiveMinutes, prefix, lo, tau).expect("valid");
        let c_hi = refresh_cost(m, Ttl::FiveMinutes, prefix, hi, tau).expect("valid");
        prop_assert!(c_lo <= c_hi && c_lo >= Usd::ZERO);
    }

    #[test]
    fn breakeven_agrees_with_the_curves(prefix in 10_000u64..1_000_000, tau in prop::sample::select(vec![1.0, 2.5, 4.0, 4.5, 5.0]), row in 0usize..64) {
        let table = PriceTable::builtin();
        let m = &table.rows()[row % table.rows().len()];
        prop_assume!(m.rates.cache_read > Usd::ZERO && m.rates.cache_write_5m > m.rates.cache_read);
        let b = breakeven(m, Ttl::FiveMinutes, tau).expect("valid");
        let rewrite = rewrite_cost(m, Ttl::FiveMinutes, prefix);
        // Exactly at the achievable time refreshing is cheaper (up to per-bucket rounding of a picodollar),
        // one ping interval later it no longer is.
        let at = refresh_cost(m, Ttl::FiveMinutes, prefix, b.achievable_minutes, tau).expect("valid");
        let after = refresh_cost(m, Ttl::FiveMinutes, prefix, b.achievable_minutes + tau, tau).expect("valid");
        prop_assert!(at <= rewrite, "{}: {at} vs {rewrite}", m.id);
        prop_assert!(after + Usd::from_picos(2) >= rewrite, "{}: {after} vs {rewrite}", m.id);
        // The continuous rule: W + R * T* / TTL = 2W.
        let mult = m.multipliers(Ttl::FiveMinutes);
        let lhs = mult.write + mult.read * b.breakeven_minutes / 5.0;
        prop_assert!((lhs - 2.0 * mult.write).abs() < 1e-9 * mult.write.max(1.0));
    }

    #[test]
    fn the_parser_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse_line(&bytes);
        let r = analyze_bytes("p", &bytes, &PriceTable::builtin(), &AnalyzeOptions::default());
        prop_assert!(r.malformed_lines <= r.lines);
    }

    #[test]
    fn more_allowed_pings_never_cost_more(mean in 1.0f64..300.0, shape in 0.3f64..3.0, never in 0.0f64..0.5, k in 0u32..30) {
        // Weibull-like survival with an abandoned share: the solver's cost never exceeds never pinging, and
        // allowing more pings never makes the optimum worse.
        let s = |t: f64| never + (1.0 - never) * (-(t / mean).powf(shape)).exp();
        let a = solve_keepalive(s, never, 1.25, 0.1, 5.0, k).expect("valid");
        let b = solve_keepalive(s, never, 1.25, 0.1, 5.0, k + 1).expect("valid");
        prop_assert!(a.expected_cost <= a.never_ping_cost + 1e-12);
        prop_assert!(b.expected_cost <= a.expected_cost + 1e-12, "{} > {}", b.expected_cost, a.expected_cost);
    }
}

proptest! {
    #![proptest_config(config())]

    /// An expected amount lies between zero and the amount for a probability, grows with it, and is the
    /// exact product rounded half up: within half a picodollar of a wide-integer reference.
    #[test]
    fn expected_money_is_bounded_monotone_and_rounded_once(picos in 0i64..i64::MAX, p in 0.0f64..=1.0, q in 0.0f64..=1.0) {
        let amount = Usd::from_picos(i128::from(picos));
        let at = |w: f64| expected_usd(&[(amount, w)]).expect("fits");
        let (lo, hi) = if p <= q { (p, q) } else { (q, p) };
        prop_assert!(Usd::ZERO <= at(lo) && at(lo) <= at(hi) && at(hi) <= amount);
        prop_assert_eq!(at(1.0), amount);
        // p = m / 2^53 after scaling to 53 bits: compare against amount x m / 2^53 rounded half up.
        let m = (p * (1u64 << 53) as f64) as u64;
        if m as f64 == p * (1u64 << 53) as f64 {
            let exact = (picos as u128) * u128::from(m);
            let rounded = (exact + (1u128 << 52)) >> 53;
            prop_assert_eq!(at(p).picos() as u128, rounded);
        }
    }
}

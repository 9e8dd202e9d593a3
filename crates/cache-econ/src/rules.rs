use agentry_types::Usd;
use serde::Serialize;

use crate::{
    decide::KeepAlivePlan,
    error::Error,
    money::{cost_of, expected_usd, ratio},
    pricing::{ModelPrice, Ttl},
};

/// The keep-alive versus rewrite break-even of one model and lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Breakeven {
    /// The lifetime in minutes.
    pub ttl_minutes: f64,
    /// The ping interval in minutes (at most the lifetime).
    pub ping_interval_minutes: f64,
    /// Write multiplier w.
    pub write_multiplier: f64,
    /// Read multiplier rho.
    pub read_multiplier: f64,
    /// The continuous break-even `T* = TTL * w / rho`: refreshing beats rewriting for shorter idle times.
    pub breakeven_minutes: f64,
    /// The longest idle time for which refreshing with discrete pings is strictly cheaper than rewriting:
    /// `k * tau` with `k` the most reads that still cost less than one write.
    pub achievable_minutes: f64,
    /// That `k`: the reads (pings plus the returning request) one write pays for.
    pub reads_per_write: u64,
}

/// Computes [`Breakeven`] for `model`'s base band at lifetime `ttl` and ping interval `tau` minutes.
pub fn breakeven(model: &ModelPrice, ttl: Ttl, tau: f64) -> Result<Breakeven, Error> {
    check_tau(tau, ttl)?;
    let rates = &model.rates;
    let (write, read) = (rates.write(ttl), rates.cache_read);
    if read <= Usd::ZERO {
        return Err(Error::param("model", &model.id, "has a zero cache-read price: keep-alive is free"));
    }
    let m = rates.multipliers(ttl);
    // Largest k with k * read < write, in exact integers.
    let k = ((write.picos() - 1).max(0) / read.picos()) as u64;
    Ok(Breakeven {
        ttl_minutes: ttl.minutes(),
        ping_interval_minutes: tau,
        write_multiplier: m.write,
        read_multiplier: m.read,
        breakeven_minutes: ttl.minutes() * write.picos() as f64 / read.picos() as f64,
        achievable_minutes: k as f64 * tau,
        reads_per_write: k,
    })
}

fn check_tau(tau: f64, ttl: Ttl) -> Result<(), Error> {
    if !(tau > 0.0 && tau <= ttl.minutes()) {
        return Err(Error::param("ping interval", tau, "must be above 0 and at most the lifetime"));
    }
    Ok(())
}

fn check_minutes(idle: f64) -> Result<(), Error> {
    if !(idle.is_finite() && idle >= 0.0) {
        return Err(Error::param("idle minutes", idle, "must be a finite number of minutes, 0 or more"));
    }
    Ok(())
}

/// For explicit caches that charge rent instead of refreshing on reads (Gemini): the hours for which keeping
/// a cache entry costs less than writing it again, `(write - read) / storage per hour`, per token and so for
/// any prefix size. `None` when the model charges no rent.
pub fn rent_breakeven_hours(model: &ModelPrice) -> Option<f64> {
    let rent = model.storage_per_mtok_hour.filter(|r| *r > Usd::ZERO)?;
    let saved = model.rates.cache_write_5m - model.rates.cache_read;
    Some((saved.picos().max(0)) as f64 / rent.picos() as f64)
}

/// Reads needed to cover `idle` minutes with pings every `tau` minutes: the pings before the return plus
/// the returning request itself, which reads from the cache (at least one).
pub fn reads_to_cover(idle: f64, tau: f64) -> u64 {
    ((idle / tau) - 1e-9).ceil().max(1.0) as u64
}

/// The cost of writing a prefix once and keeping it alive through `idle` minutes with pings every `tau`
/// minutes, including the returning request's read: `W + R * ceil(T / tau)`.
pub fn refresh_cost(
    model: &ModelPrice,
    ttl: Ttl,
    prefix_tokens: u64,
    idle: f64,
    tau: f64,
) -> Result<Usd, Error> {
    check_tau(tau, ttl)?;
    check_minutes(idle)?;
    let rates = &model.rates;
    let w = cost_of(prefix_tokens, rates.write(ttl));
    let r = cost_of(prefix_tokens, rates.cache_read);
    Ok(w + r.checked_mul(reads_to_cover(idle, tau)).unwrap_or(Usd::from_picos(i128::MAX / 2)))
}

/// The cost of writing a prefix, letting it expire and writing it again: `2W`, whatever the idle time.
pub fn rewrite_cost(model: &ModelPrice, ttl: Ttl, prefix_tokens: u64) -> Usd {
    let w = cost_of(prefix_tokens, model.rates.write(ttl));
    w + w
}

/// One row of the refresh-versus-rewrite table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableRow {
    /// Prefix size.
    pub prefix_tokens: u64,
    /// Idle time in minutes (as given). JSON has a number: an integer for whole minutes (`5`), else the
    /// shortest decimal that reads back as the same `f64` (`4.5`).
    #[serde(serialize_with = "minutes_number")]
    pub idle_minutes: f64,
    /// Write once, refresh through the idle time, read on return.
    pub refresh_usd: Usd,
    /// Write, let expire, write again.
    pub rewrite_usd: Usd,
    /// Whether refreshing is strictly cheaper.
    pub refresh_wins: bool,
}

/// The article's table: every prefix size against every idle time, pinging at the lifetime (`tau = TTL`).
pub fn table(
    model: &ModelPrice,
    ttl: Ttl,
    prefixes: &[u64],
    idle_minutes: &[f64],
    tau: f64,
) -> Result<Vec<TableRow>, Error> {
    let mut rows = Vec::with_capacity(prefixes.len() * idle_minutes.len());
    for &p in prefixes {
        for &t in idle_minutes {
            let refresh = refresh_cost(model, ttl, p, t, tau)?;
            let rewrite = rewrite_cost(model, ttl, p);
            rows.push(TableRow {
                prefix_tokens: p,
                idle_minutes: t,
                refresh_usd: refresh,
                rewrite_usd: rewrite,
                refresh_wins: refresh < rewrite,
            });
        }
    }
    Ok(rows)
}

fn minutes_number<S: serde::Serializer>(t: &f64, s: S) -> Result<S::Ok, S::Error> {
    // Whole minutes as an integer (`5`, not `5.0`); `table` rejects negative and non-finite times.
    if t.fract() == 0.0 && *t >= 0.0 && *t < 1e15 { s.serialize_u64(*t as u64) } else { s.serialize_f64(*t) }
}

/// Minutes as short text: `5`, `4.5`.
pub fn format_minutes(t: f64) -> String {
    if t.fract() == 0.0 && t.abs() < 1e15 { format!("{}", t as i64) } else { format!("{t}") }
}

/// The compaction break-even: how many further turns must reuse a prefix compacted from `N` to `S = rN`
/// tokens before the compaction has paid for itself.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Compaction {
    /// r = S / N.
    pub ratio: f64,
    /// rho_c: the read multiplier of the compaction call (rho when warm, w when the cache had expired).
    pub compaction_read_multiplier: f64,
    /// o.
    pub output_multiplier: f64,
    /// w.
    pub write_multiplier: f64,
    /// rho.
    pub read_multiplier: f64,
    /// `N* = (rho_c + (o + w) r) / (rho (1 - r))`.
    pub breakeven_turns: f64,
}

/// Computes [`Compaction`] for ratio `r` in (0, 1): at Anthropic's standard multipliers (o = 5, w = 1.25,
/// rho = 0.1) and a warm cache this is `(1 + 62.5 r) / (1 - r)`.
pub fn compaction(model: &ModelPrice, ttl: Ttl, r: f64, warm: bool) -> Result<Compaction, Error> {
    if !(r > 0.0 && r < 1.0) {
        return Err(Error::param(
            "ratio",
            r,
            "must be strictly between 0 and 1 (summary tokens / original tokens)",
        ));
    }
    let m = model.multipliers(ttl);
    if m.read <= 0.0 {
        return Err(Error::param("model", &model.id, "has a zero cache-read price"));
    }
    let rho_c = if warm { m.read } else { m.write };
    Ok(Compaction {
        ratio: r,
        compaction_read_multiplier: rho_c,
        output_multiplier: m.output,
        write_multiplier: m.write,
        read_multiplier: m.read,
        breakeven_turns: (rho_c + (m.output + m.write) * r) / (m.read * (1.0 - r)),
    })
}

/// Parses a compaction ratio: `10:1` (ten tokens into one), `0.1`, or a bare `10` meaning `10:1`.
pub fn parse_ratio(text: &str) -> Result<f64, Error> {
    let bad = || Error::param("ratio", text, "expected `N:S` such as `10:1`, or a fraction such as `0.1`");
    let value = match text.split_once(':') {
        Some((n, s)) => {
            let n: f64 = n.trim().parse().map_err(|_| bad())?;
            let s: f64 = s.trim().parse().map_err(|_| bad())?;
            s / n
        }
        None => {
            let v: f64 = text.trim().parse().map_err(|_| bad())?;
            if v > 1.0 { 1.0 / v } else { v }
        }
    };
    if value > 0.0 && value < 1.0 { Ok(value) } else { Err(bad()) }
}

/// What-if: the keep-alive break-even when each ping carries its own cost besides the prefix read (an
/// output token, a small uncached tail that may itself be written to the cache).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PingCost {
    /// One ping: prefix read plus tail input written at the lifetime's rate plus output.
    pub ping_usd: Usd,
    /// The prefix read alone.
    pub read_usd: Usd,
    /// The largest idle time, in minutes, at which pinging still beats rewriting with these pings.
    pub achievable_minutes: f64,
}

/// Computes [`PingCost`]: pings every `tau` minutes each cost `R + tail * write + out * output`; the returning
/// request reads the prefix (`R`). Refresh over `k` reads costs `W + (k - 1) * ping + R`.
pub fn ping_cost(
    model: &ModelPrice,
    ttl: Ttl,
    prefix_tokens: u64,
    tail_tokens: u64,
    output_tokens: u64,
    tau: f64,
) -> Result<PingCost, Error> {
    check_tau(tau, ttl)?;
    let rates = &model.rates;
    let w = cost_of(prefix_tokens, rates.write(ttl));
    let r = cost_of(prefix_tokens, rates.cache_read);
    let ping = r + cost_of(tail_tokens, rates.write(ttl)) + cost_of(output_tokens, rates.output);
    // Refresh with k reads: W + (k-1) ping + R < 2W  <=>  (k-1) ping < W - R.
    let budget = (w - r).picos();
    let pings = if budget <= 0 {
        0
    } else if ping.picos() <= 0 {
        u64::MAX / 2
    } else {
        ((budget - 1) / ping.picos()) as u64
    };
    let achievable = if budget <= 0 { 0.0 } else { (pings + 1) as f64 * tau };
    Ok(PingCost { ping_usd: ping, read_usd: r, achievable_minutes: achievable })
}

/// What-if: expected costs over an idle time when the session returns only with probability `q`.
///
/// The amounts are exact up to one rounding: `q` times a price is rounded half up to the picodollar (see
/// [`crate::expected_usd`]); the rest is whole prices.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Uncertain {
    /// Probability that the session returns after the idle time.
    pub return_probability: f64,
    /// Expected cost of pinging through the idle time: `W + pings x R + q x R` (the pings are paid either
    /// way, the read only on a return).
    pub refresh_usd: Usd,
    /// Expected cost of letting the cache expire: `W + q x W`.
    pub rewrite_usd: Usd,
    /// The return probability above which pinging through this idle time pays: `pings x R / (W - R)`.
    pub breakeven_probability: f64,
}

fn too_large(prefix_tokens: u64) -> Error {
    Error::param("prefix tokens", prefix_tokens, "too large: the expected cost does not fit")
}

/// Computes [`Uncertain`] for a prefix, an idle time and a return probability `q` in [0, 1].
pub fn with_return_probability(
    model: &ModelPrice,
    ttl: Ttl,
    prefix_tokens: u64,
    idle: f64,
    tau: f64,
    q: f64,
) -> Result<Uncertain, Error> {
    check_tau(tau, ttl)?;
    check_minutes(idle)?;
    if !(0.0..=1.0).contains(&q) {
        return Err(Error::param("return probability", q, "must be between 0 and 1"));
    }
    let rates = &model.rates;
    let w = cost_of(prefix_tokens, rates.write(ttl));
    let r = cost_of(prefix_tokens, rates.cache_read);
    let pings = reads_to_cover(idle, tau) - 1;
    let ping_total = r.checked_mul(pings).ok_or_else(|| too_large(prefix_tokens))?;
    let expected = |amount: Usd| expected_usd(&[(amount, q)]).ok_or_else(|| too_large(prefix_tokens));
    let threshold = if w > r { ratio(ping_total, w - r) } else { f64::INFINITY };
    Ok(Uncertain {
        return_probability: q,
        refresh_usd: w + ping_total + expected(r)?,
        rewrite_usd: w + expected(w)?,
        breakeven_probability: threshold,
    })
}

/// A keep-alive plan's expected idle cost per gap, in money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PlanCost {
    /// Under the plan: `expected_reads x R + expected_rewrites x W`.
    pub expected_usd: Usd,
    /// Never pinging: `never_ping_reads x R + never_ping_rewrites x W`.
    pub never_ping_usd: Usd,
}

/// Prices a [`KeepAlivePlan`] for a prefix of `prefix_tokens` on `model` at lifetime `ttl`: the prefix read
/// `R` and write `W` are exact, and `reads x R + rewrites x W` is rounded half up to the picodollar once
/// (see [`crate::expected_usd`]).
pub fn plan_cost(
    model: &ModelPrice,
    ttl: Ttl,
    prefix_tokens: u64,
    plan: &KeepAlivePlan,
) -> Result<PlanCost, Error> {
    let rates = &model.rates;
    let w = cost_of(prefix_tokens, rates.write(ttl));
    let r = cost_of(prefix_tokens, rates.cache_read);
    let price = |reads: f64, rewrites: f64| {
        expected_usd(&[(r, reads), (w, rewrites)]).ok_or_else(|| {
            Error::param(
                "keep-alive plan",
                format!("reads {reads}, rewrites {rewrites}"),
                "needs finite expectations, 0 or more, that fit",
            )
        })
    };
    Ok(PlanCost {
        expected_usd: price(plan.expected_reads, plan.expected_rewrites)?,
        never_ping_usd: price(plan.never_ping_reads, plan.never_ping_rewrites)?,
    })
}

/// What-if: the same prompt on another model whose tokenizer counts `inflation` more tokens (0.35 = +35%).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelChange {
    /// Prefix tokens on the old model.
    pub prefix_tokens_before: u64,
    /// Prefix tokens on the new model.
    pub prefix_tokens_after: u64,
    /// A cached turn (one read of the prefix) before.
    pub read_usd_before: Usd,
    /// A cached turn after.
    pub read_usd_after: Usd,
    /// A full write of the prefix before.
    pub write_usd_before: Usd,
    /// A full write after.
    pub write_usd_after: Usd,
    /// Whether the prefix falls under the new model's cacheable minimum.
    pub below_minimum_after: bool,
}

/// Computes [`ModelChange`].
pub fn model_change(
    from: &ModelPrice,
    to: &ModelPrice,
    ttl: Ttl,
    prefix_tokens: u64,
    inflation: f64,
) -> Result<ModelChange, Error> {
    if !(inflation.is_finite() && inflation > -1.0) {
        return Err(Error::param(
            "tokenizer inflation",
            inflation,
            "must be a fraction above -1 (0.35 = +35%)",
        ));
    }
    let after = (prefix_tokens as f64 * (1.0 + inflation)).round() as u64;
    Ok(ModelChange {
        prefix_tokens_before: prefix_tokens,
        prefix_tokens_after: after,
        read_usd_before: cost_of(prefix_tokens, from.rates.cache_read),
        read_usd_after: cost_of(after, to.rates.cache_read),
        write_usd_before: cost_of(prefix_tokens, from.rates.write(ttl)),
        write_usd_after: cost_of(after, to.rates.write(ttl)),
        below_minimum_after: after < to.min_cacheable_tokens,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::PriceTable;

    fn opus() -> ModelPrice {
        PriceTable::builtin().get("claude-opus-4-7", None).expect("row").clone()
    }

    fn check_breakeven(model: &str, tau: f64, t_star: f64, achievable: f64) {
        let table = PriceTable::builtin();
        let b = breakeven(table.get(model, None).expect("row"), Ttl::FiveMinutes, tau).expect("valid");
        assert_eq!((b.breakeven_minutes, b.achievable_minutes), (t_star, achievable), "{model} tau {tau}");
    }

    fn check_compaction(r: f64, expected: f64) {
        let c = compaction(&opus(), Ttl::FiveMinutes, r, true).expect("valid");
        assert!((c.breakeven_turns - expected).abs() < 1e-9, "{r}: {}", c.breakeven_turns);
        assert!((c.breakeven_turns - (1.0 + 62.5 * r) / (1.0 - r)).abs() < 1e-9);
    }

    #[test]
    fn rule_of_62_5() {
        check_breakeven("claude-opus-4-7", 5.0, 62.5, 60.0);
        check_breakeven("claude-opus-4-7", 4.5, 62.5, 54.0);
        check_breakeven("claude-opus-4-7", 4.0, 62.5, 48.0);
    }
    #[test]
    fn other_read_multipliers() {
        check_breakeven("claude-opus-5-5", 5.0, 125.0, 120.0);
        check_breakeven("claude-fable-5-1", 5.0, 250.0, 245.0);
        check_breakeven("claude-3-haiku", 5.0, 50.0, 45.0);
    }
    #[test]
    fn tau_above_ttl_is_rejected() {
        assert!(breakeven(&opus(), Ttl::FiveMinutes, 6.0).is_err());
        assert!(breakeven(&opus(), Ttl::FiveMinutes, 0.0).is_err());
    }
    #[test]
    fn gemini_rent() {
        let table = PriceTable::builtin();
        let pro = table.get("gemini-2.5-pro", None).expect("row");
        // ($1.25 - $0.125) / $4.50 per hour = 0.25 h.
        assert_eq!(rent_breakeven_hours(pro), Some(0.25));
        assert_eq!(rent_breakeven_hours(&opus()), None);
    }
    #[test]
    fn compaction_examples() {
        check_compaction(0.1, 7.25 / 0.9);
        check_compaction(0.05, 4.125 / 0.95);
        check_compaction(0.2, 13.5 / 0.8);
        check_compaction(0.5, 64.5);
    }
    #[test]
    fn ratios_parse() {
        assert_eq!(parse_ratio("10:1").ok(), Some(0.1));
        assert_eq!(parse_ratio("4").ok(), Some(0.25));
        assert_eq!(parse_ratio("0.5").ok(), Some(0.5));
        assert!(parse_ratio("1:10").is_err());
        assert!(parse_ratio("x").is_err());
        assert!(parse_ratio("0").is_err());
    }
    #[test]
    fn ping_with_its_own_cost_shortens_the_window() {
        let free = ping_cost(&opus(), Ttl::FiveMinutes, 100_000, 0, 0, 5.0).expect("valid");
        assert_eq!(free.achievable_minutes, 60.0);
        let costly = ping_cost(&opus(), Ttl::FiveMinutes, 100_000, 2000, 1, 5.0).expect("valid");
        assert!(costly.achievable_minutes < 60.0, "{costly:?}");
    }
    fn check_uncertain(q: f64, refresh: &str, rewrite: &str) {
        let u = with_return_probability(&opus(), Ttl::FiveMinutes, 100_000, 30.0, 5.0, q).expect("valid");
        assert_eq!(
            (u.refresh_usd.to_string(), u.rewrite_usd.to_string()),
            (refresh.into(), rewrite.into()),
            "q {q}"
        );
        // 5 pings of 0.05 against 0.575 saved per return.
        assert!((u.breakeven_probability - 0.25 / 0.575).abs() < 1e-12);
    }

    #[test]
    fn never_returning_sessions() {
        // W = 0.625, R = 0.05, 5 pings: refresh = W + 0.25 + q R, rewrite = W + q W.
        check_uncertain(0.5, "0.90", "0.9375");
        check_uncertain(1.0 - 0.2, "0.915", "1.125");
        check_uncertain(0.0, "0.875", "0.625");
        check_uncertain(1.0, "0.925", "1.25");
        // A third of a picodollar-exact amount rounds half up once: 0.05 / 3 = 0.016666666666|67.
        check_uncertain(1.0 / 3.0, "0.891666666667", "0.833333333333");
        // u64::MAX tokens: half of the write fits, a third of it (a 53-bit mantissa) does not.
        assert!(with_return_probability(&opus(), Ttl::FiveMinutes, u64::MAX, 30.0, 5.0, 0.5).is_ok());
        let huge = with_return_probability(&opus(), Ttl::FiveMinutes, u64::MAX, 30.0, 5.0, 1.0 / 3.0);
        assert!(matches!(huge, Err(Error::InvalidParameter { name: "prefix tokens", .. })), "{huge:?}");
    }
    #[test]
    fn plans_are_priced_in_exact_money() {
        let plan = KeepAlivePlan {
            pings: 2,
            expected_cost: 0.0,
            never_ping_cost: 0.0,
            hazards: Vec::new(),
            expected_reads: 1.5,
            expected_rewrites: 0.25,
            never_ping_reads: 0.5,
            never_ping_rewrites: 0.5,
        };
        let c = plan_cost(&opus(), Ttl::FiveMinutes, 100_000, &plan).expect("valid");
        // 1.5 x 0.05 + 0.25 x 0.625 and 0.5 x 0.05 + 0.5 x 0.625.
        assert_eq!(
            (c.expected_usd.to_string(), c.never_ping_usd.to_string()),
            ("0.23125".into(), "0.3375".into())
        );
        let bad = KeepAlivePlan { expected_reads: f64::NAN, ..plan };
        assert!(plan_cost(&opus(), Ttl::FiveMinutes, 100_000, &bad).is_err());
    }
    #[test]
    fn table_minutes_are_json_numbers() {
        let rows = table(&opus(), Ttl::FiveMinutes, &[100_000], &[5.0, 4.5, 0.1], 5.0).expect("valid");
        let v = serde_json::to_value(&rows).expect("serializes");
        let minutes: Vec<String> = (0..3).map(|i| v[i]["idle_minutes"].to_string()).collect();
        assert_eq!(minutes, ["5", "4.5", "0.1"]);
        assert_eq!(v[0]["idle_minutes"].as_u64(), Some(5));
    }
    #[test]
    fn tokenizer_inflation() {
        let m = opus();
        let c = model_change(&m, &m, Ttl::FiveMinutes, 100_000, 0.35).expect("valid");
        assert_eq!(c.prefix_tokens_after, 135_000);
        assert_eq!(c.read_usd_after.to_string(), "0.0675");
    }
}

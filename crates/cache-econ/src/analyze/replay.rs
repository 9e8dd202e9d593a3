//! Classifying each cache write within its lineage, and replaying keep-alive policies on the gaps.

use std::collections::BTreeMap;

use agentry_types::Usd;

use super::{AnalyzeOptions, Cause, CauseTotals, PolicyCost, scan_file::Record};
use crate::{
    decide::{KaplanMeier, hazard_rule_pings, solve_keepalive},
    money::cost_of,
    pricing::{ModelPrice, Rates, Ttl, Usage},
    rules::reads_to_cover,
};

/// One idle gap in a lineage, with what the replay needs to price it.
#[derive(Debug, Clone)]
pub(super) struct Gap {
    pub(super) minutes: f64,
    pub(super) returned: bool,
    /// Tokens cached before the gap.
    pub(super) prefix: u64,
    /// The lineage's first prefix (tools and system prompt): the stable part the hybrid policy caches for 1h.
    pub(super) stable: u64,
    /// Tokens added by the returning request (written in every policy).
    pub(super) tail: u64,
    /// Whether this gap opens the lineage (its `prefix` is the cold-start write).
    pub(super) first: bool,
    pub(super) rates: Rates,
}

fn write_rate_cost(u: &Usage, rates: &Rates, tokens: u64) -> Usd {
    let total = u.cache_write_tokens();
    if total == 0 || tokens == 0 {
        return Usd::ZERO;
    }
    let all = cost_of(u.cache_write_5m_tokens, rates.cache_write_5m)
        + cost_of(u.cache_write_1h_tokens, rates.write_1h());
    Usd::from_picos(crate::money::div_round_half_up(all.picos() * tokens.min(total) as i128, total as i128))
}

pub(super) fn classify_lineage(
    order: &[usize],
    records: &[Record],
    priced: &[Option<&ModelPrice>],
    end_of_log: i64,
    causes: &mut BTreeMap<Cause, CauseTotals>,
    gaps: &mut Vec<Gap>,
) {
    let mut prev: Option<usize> = None;
    let mut ttl_1h = false;
    let mut stable = 0u64;
    for &i in order {
        let r = &records[i];
        let Some(price) = priced[i] else {
            prev = Some(i);
            continue;
        };
        let rates = price.rates_for(r.usage.prompt_tokens());
        let u = &r.usage;
        let written = u.cache_write_tokens();
        let write_cost = cost_of(u.cache_write_5m_tokens, rates.cache_write_5m)
            + cost_of(u.cache_write_1h_tokens, rates.write_1h());
        let cached_now = u.cache_read_tokens + written;
        let mut classify = |cause: Cause, tokens: u64, avoidable: Usd| {
            let t = causes.entry(cause).or_default();
            t.count += 1;
            t.tokens += tokens;
            t.write_usd += if cause == Cause::BelowMinimum { Usd::ZERO } else { write_cost };
            t.avoidable_usd += avoidable.max(Usd::ZERO);
        };
        if written == 0 && u.cache_read_tokens == 0 {
            let prompt = u.prompt_tokens();
            if prompt > 0 && prompt < price.min_cacheable_tokens {
                classify(Cause::BelowMinimum, prompt, Usd::ZERO);
            }
            prev = Some(i);
            continue;
        }
        match prev.filter(|&p| priced[p].is_some()) {
            None => {
                if written > 0 {
                    classify(Cause::ColdStart, written, Usd::ZERO);
                }
                stable = cached_now;
                gaps.push(Gap {
                    minutes: 0.0,
                    returned: true,
                    prefix: 0,
                    stable,
                    tail: cached_now,
                    first: true,
                    rates: *rates,
                });
            }
            Some(p) => {
                let pr = &records[p];
                let prefix = pr.usage.cache_read_tokens + pr.usage.cache_write_tokens();
                let minutes = match (pr.ts, r.ts) {
                    // Saturating: `created` seconds at the ends of i64 must not overflow.
                    (Some(a), Some(b)) => b.saturating_sub(a).max(0) as f64 / 60e6,
                    _ => 0.0,
                };
                let ttl = if ttl_1h { 60.0 } else { 5.0 };
                let lost = prefix.saturating_sub(u.cache_read_tokens);
                let dropped = lost >= 256 && lost * 20 > prefix;
                let rewritten = lost.min(written);
                if written > 0 {
                    if !dropped {
                        classify(Cause::TailGrowth, written, Usd::ZERO);
                    } else if minutes > ttl {
                        let rewrite = write_rate_cost(u, rates, rewritten);
                        let keep = cost_of(rewritten, rates.cache_read)
                            .checked_mul(reads_to_cover(minutes, ttl))
                            .unwrap_or(rewrite);
                        classify(Cause::TtlExpiry, written, rewrite - keep);
                    } else {
                        let blocks = if pr.file == r.file {
                            (pr.last_line - pr.line + 1)
                                + r.user_lines_before.saturating_sub(pr.user_lines_before)
                        } else {
                            0
                        };
                        let avoid =
                            write_rate_cost(u, rates, rewritten) - cost_of(rewritten, rates.cache_read);
                        let cause = if blocks > crate::lint::LOOKBACK_BLOCKS as u64 {
                            Cause::LookbackOverflow
                        } else {
                            Cause::PrefixBreak
                        };
                        classify(cause, written, avoid);
                    }
                }
                gaps.push(Gap {
                    minutes,
                    returned: true,
                    prefix,
                    stable: stable.min(prefix),
                    tail: cached_now.saturating_sub(prefix),
                    first: false,
                    rates: *rates,
                });
            }
        }
        if u.cache_write_1h_tokens > 0 {
            ttl_1h = true;
        } else if u.cache_write_5m_tokens > 0 {
            ttl_1h = false;
        }
        prev = Some(i);
    }
    // The open gap after the lineage's last request, censored at the end of the log.
    if let Some(p) = prev.filter(|&p| priced[p].is_some()) {
        let pr = &records[p];
        let prefix = pr.usage.cache_read_tokens + pr.usage.cache_write_tokens();
        let minutes = pr.ts.map_or(0.0, |t| end_of_log.saturating_sub(t).max(0) as f64 / 60e6);
        let rates = priced[p].map(|m| *m.rates_for(pr.usage.prompt_tokens()));
        if let Some(rates) = rates {
            gaps.push(Gap {
                minutes,
                returned: false,
                prefix,
                stable: stable.min(prefix),
                tail: 0,
                first: false,
                rates,
            });
        }
    }
}

fn keep_alive_cost(g: &Gap, pings: u32, tau: f64) -> Usd {
    let read = cost_of(g.prefix, g.rates.cache_read);
    let ttl = Ttl::FiveMinutes.minutes();
    let made = if g.minutes <= 0.0 {
        0
    } else {
        ((g.minutes / tau - 1e-9).ceil() as u64).saturating_sub(1).min(u64::from(pings))
    };
    let ping_cost = read.checked_mul(made).unwrap_or(Usd::ZERO);
    if !g.returned {
        return ping_cost;
    }
    let warm_until = f64::from(pings) * tau + ttl;
    ping_cost + if g.minutes <= warm_until { read } else { cost_of(g.prefix, g.rates.cache_write_5m) }
}

pub(super) fn replay(
    gaps: &[Gap],
    km: &KaplanMeier,
    w: f64,
    rho: f64,
    options: &AnalyzeOptions,
) -> Vec<PolicyCost> {
    let tau = options.ping_interval_minutes;
    let base = |g: &Gap, tail_rate: Usd, first_rate: Usd| {
        if g.first { cost_of(g.tail, first_rate) } else { cost_of(g.tail, tail_rate) }
    };
    let ping_policy = |name: &str, pings: Option<u32>, per_gap: &dyn Fn(&Gap) -> u32| {
        let cost = gaps
            .iter()
            .map(|g| {
                base(g, g.rates.cache_write_5m, g.rates.cache_write_5m)
                    + if g.first { Usd::ZERO } else { keep_alive_cost(g, per_gap(g), tau) }
            })
            .sum();
        PolicyCost { policy: name.to_owned(), pings, cost_usd: cost }
    };
    let breakeven_pings = |g: &Gap| {
        let (wr, rd) = (g.rates.cache_write_5m.picos(), g.rates.cache_read.picos());
        if rd <= 0 {
            options.max_pings
        } else {
            (((wr - 1).max(0) / rd) as u32).saturating_sub(1).min(options.max_pings)
        }
    };
    let plan =
        solve_keepalive(|t| km.survival_at(t), 0.0, w, rho, Ttl::FiveMinutes.minutes(), options.max_pings);
    let (optimal, hazard) = match &plan {
        Ok(p) => (p.pings, hazard_rule_pings(&p.hazards, w, rho)),
        Err(_) => (0, 0),
    };
    let first_be = gaps.first().map(breakeven_pings);
    let mut out = vec![
        ping_policy("none", Some(0), &|_| 0),
        ping_policy("fixed", Some(options.fixed_pings), &|_| options.fixed_pings),
        ping_policy("breakeven", first_be, &breakeven_pings),
        ping_policy("hazard", Some(hazard), &|_| hazard),
        ping_policy("optimal", Some(optimal), &|_| optimal),
    ];
    let one_hour: Usd = gaps
        .iter()
        .map(|g| {
            let w1 = g.rates.write_1h();
            let idle = if g.first || !g.returned {
                Usd::ZERO
            } else if g.minutes <= 60.0 {
                cost_of(g.prefix, g.rates.cache_read)
            } else {
                cost_of(g.prefix, w1)
            };
            cost_of(g.tail, w1) + idle
        })
        .sum();
    out.push(PolicyCost { policy: "ttl_1h".to_owned(), pings: Some(0), cost_usd: one_hour });
    let hybrid: Usd = gaps
        .iter()
        .map(|g| {
            let (w1, w5, rd) = (g.rates.write_1h(), g.rates.cache_write_5m, g.rates.cache_read);
            if g.first {
                let stable = g.stable.min(g.tail);
                return cost_of(stable, w1) + cost_of(g.tail - stable, w5);
            }
            let tail_part = g.prefix - g.stable.min(g.prefix);
            let stable = g.prefix - tail_part;
            let idle = if !g.returned {
                Usd::ZERO
            } else if g.minutes <= 5.0 {
                cost_of(g.prefix, rd)
            } else if g.minutes <= 60.0 {
                cost_of(stable, rd) + cost_of(tail_part, w5)
            } else {
                cost_of(stable, w1) + cost_of(tail_part, w5)
            };
            cost_of(g.tail, w5) + idle
        })
        .sum();
    out.push(PolicyCost { policy: "hybrid".to_owned(), pings: Some(0), cost_usd: hybrid });
    out
}

use serde::Serialize;

use crate::error::Error;

/// The one-step hazard threshold `rho / (w - rho)`: at an expiry point, one more ping pays when the chance
/// that the session returns within the next lifetime exceeds it (about 8.7% for a 5-minute write at 1.25
/// and a read at 0.1).
pub fn hazard_threshold(write: f64, read: f64) -> f64 {
    if write > read { read / (write - read) } else { f64::INFINITY }
}

/// One observed idle gap: its length, and whether the session really returned (`false` when the log ended
/// first, so the gap is only known to be at least that long).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GapObservation {
    /// Minutes.
    pub minutes: f64,
    /// Whether the return was observed (not censored).
    pub returned: bool,
}

/// The Kaplan-Meier estimate of the survival function `S(t) = P(gap > t)` from censored observations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KaplanMeier {
    /// Distinct times with at least one observed return, ascending.
    pub times: Vec<f64>,
    /// `S` just after each time.
    pub survival: Vec<f64>,
    /// Observations used.
    pub observations: usize,
    /// How many of them were censored.
    pub censored: usize,
}

impl KaplanMeier {
    /// Fits the estimate. Negative or non-finite gaps are rejected.
    pub fn fit(observations: &[GapObservation]) -> Result<Self, Error> {
        if let Some(bad) = observations.iter().find(|o| !(o.minutes.is_finite() && o.minutes >= 0.0)) {
            return Err(Error::param("gap", bad.minutes, "must be a finite number of minutes, 0 or more"));
        }
        let mut obs = observations.to_vec();
        // At equal times, returns come before censorings (the usual convention).
        obs.sort_by(|a, b| a.minutes.total_cmp(&b.minutes).then(b.returned.cmp(&a.returned)));
        let mut at_risk = obs.len();
        let mut s = 1.0;
        let (mut times, mut survival) = (Vec::new(), Vec::new());
        let mut i = 0;
        while i < obs.len() {
            let t = obs[i].minutes;
            let (mut events, mut leaving) = (0usize, 0usize);
            while i < obs.len() && obs[i].minutes == t {
                events += usize::from(obs[i].returned);
                leaving += 1;
                i += 1;
            }
            if events > 0 {
                s *= 1.0 - events as f64 / at_risk as f64;
                times.push(t);
                survival.push(s);
            }
            at_risk -= leaving;
        }
        let censored = observations.iter().filter(|o| !o.returned).count();
        Ok(Self { times, survival, observations: observations.len(), censored })
    }

    /// `S(t)`: the estimated probability that a gap lasts longer than `t` minutes.
    pub fn survival_at(&self, t: f64) -> f64 {
        match self.times.partition_point(|&x| x <= t) {
            0 => 1.0,
            n => self.survival[n - 1],
        }
    }

    /// The mass never seen to return: `S` after the last observed return (sessions that ended, or
    /// returned later than anything observed).
    pub fn tail_mass(&self) -> f64 {
        self.survival.last().copied().unwrap_or(1.0)
    }
}

/// A keep-alive plan: how many pings to send after a request, and what it costs in expectation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeepAlivePlan {
    /// Pings to send, one just before each of the first `pings` expiry points, then stop.
    pub pings: u32,
    /// Expected idle cost per gap, in units of base input price times prefix tokens.
    pub expected_cost: f64,
    /// Expected cost of never pinging, in the same units.
    pub never_ping_cost: f64,
    /// `expected_cost` split by what is paid: expected reads of the prefix per gap (pings and the returning
    /// request's read), so that the cost in money is `reads x R + rewrites x W` for a prefix read `R` and
    /// write `W` (see [`crate::plan_cost`]).
    pub expected_reads: f64,
    /// Expected rewrites of the prefix per gap under the plan.
    pub expected_rewrites: f64,
    /// Expected reads per gap when never pinging.
    pub never_ping_reads: f64,
    /// Expected rewrites per gap when never pinging.
    pub never_ping_rewrites: f64,
    /// The one-step hazard at each expiry point `k` (chance of return within the next lifetime).
    pub hazards: Vec<f64>,
}

/// The optimal number of pings by backward induction over a survival function (`survival(t) = P(G > t)`,
/// with `survival(infinity) = never_returns`), for write `w`, read `rho`, and expiry points every `ttl`
/// minutes up to `max_pings`. Works for any hazard shape, not only decreasing ones.
pub fn solve_keepalive(
    survival: impl Fn(f64) -> f64,
    never_returns: f64,
    write: f64,
    read: f64,
    ttl: f64,
    max_pings: u32,
) -> Result<KeepAlivePlan, Error> {
    if ttl.is_nan() || ttl <= 0.0 {
        return Err(Error::param("ttl", ttl, "must be above 0 minutes"));
    }
    if !(0.0..=1.0).contains(&never_returns) {
        return Err(Error::param("never-return probability", never_returns, "must be between 0 and 1"));
    }
    let n = max_pings as usize;
    let s: Vec<f64> = (0..=n + 1).map(|k| survival(k as f64 * ttl).clamp(never_returns, 1.0)).collect();
    // value[k]: expected remaining cost given the gap exceeded k*ttl, cache alive until then; unconditional
    // form (multiplied by s[k]) keeps the recursion stable when s[k] is tiny.
    let rewrites = |k: usize| s[k] - never_returns;
    let stop = |k: usize| write * rewrites(k);
    // The expected cost of the best continuation, and its reads and rewrites.
    let (mut value, mut value_reads, mut value_rewrites) = (stop(n + 1), 0.0, rewrites(n + 1));
    let mut best_pings = vec![0u32; n + 2];
    for k in (1..=n).rev() {
        // Ping at k: pay rho for everyone still idle, returns in (k, k+1] read, the rest continue.
        let reads = s[k] + (s[k] - s[k + 1]);
        let ping = read * reads + value;
        let stop_now = stop(k);
        if ping < stop_now {
            value = ping;
            value_reads += reads;
            best_pings[k] = best_pings[k + 1] + 1;
        } else {
            (value, value_reads, value_rewrites) = (stop_now, 0.0, rewrites(k));
            best_pings[k] = 0;
        }
    }
    let pings = if n == 0 { 0 } else { best_pings[1] };
    let first_reads = s[0] - s[1];
    let first_window = read * first_reads;
    let hazards = (1..=n).map(|k| if s[k] > 0.0 { (s[k] - s[k + 1]) / s[k] } else { 0.0 }).collect();
    Ok(KeepAlivePlan {
        pings,
        expected_cost: first_window + if n == 0 { stop(1) } else { value },
        never_ping_cost: first_window + stop(1),
        hazards,
        expected_reads: first_reads + value_reads,
        expected_rewrites: value_rewrites,
        never_ping_reads: first_reads,
        never_ping_rewrites: rewrites(1),
    })
}

/// The pings of the one-step rule: keep pinging while the hazard exceeds [`hazard_threshold`].
pub fn hazard_rule_pings(hazards: &[f64], write: f64, read: f64) -> u32 {
    let p = hazard_threshold(write, read);
    hazards.iter().take_while(|&&h| h > p).count() as u32
}

/// Worst-case ratio ALG/OPT of the deterministic policy "ping `k` times, then let it expire", over the idle
/// cost only (the first write is paid by both), with pings at every expiry point.
pub fn deterministic_ratio(write: f64, read: f64, k: u32) -> f64 {
    // The adversary returns just after the cache expires at (k+1) TTL: we paid k pings and a rewrite,
    // the optimum paid min(k+2 reads, one write).
    let alg = k as f64 * read + write;
    let opt = ((k + 2) as f64 * read).min(write);
    alg / opt
}

/// Ski-rental comparison of keep-alive policies.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Competitive {
    /// B = w / rho: a rewrite in units of pings.
    pub rent_units_per_buy: f64,
    /// Ratio of never pinging.
    pub never_ping_ratio: f64,
    /// The best deterministic number of pings.
    pub best_deterministic_pings: u32,
    /// Its worst-case ratio.
    pub best_deterministic_ratio: f64,
    /// Pings of the break-even policy (refresh while strictly cheaper than a rewrite).
    pub breakeven_pings: u32,
    /// Its ratio.
    pub breakeven_ratio: f64,
    /// Worst-case expected ratio of the randomized policy that stops after `k` pings with probability
    /// proportional to `(B / (B - 1))^k` (the discrete form of Karlin et al.'s `e^{t/B}` density).
    pub randomized_ratio: f64,
    /// The continuous randomized bound e/(e-1).
    pub randomized_bound: f64,
}

/// Computes [`Competitive`] for write `w` and read `rho`.
pub fn competitive(write: f64, read: f64) -> Result<Competitive, Error> {
    if !(read > 0.0 && write > read) {
        return Err(Error::param("multipliers", format!("w={write} rho={read}"), "need w > rho > 0"));
    }
    let b = write / read;
    let max_k = (b.ceil() as u32).saturating_mul(2).max(4);
    let (best_k, best_ratio) = (0..=max_k)
        .map(|k| (k, deterministic_ratio(write, read, k)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((0, f64::INFINITY));
    // Break-even: k reads strictly under a write, i.e. k-1 pings plus the return.
    let reads = ((write / read) - 1e-12).ceil() as u32 - 1;
    let be_pings = reads.saturating_sub(1);
    // Randomized over k in 0..n, n = ceil(B).
    let n = b.ceil().max(1.0) as u32;
    let base = if b > 1.0 { b / (b - 1.0) } else { 2.0 };
    let weights: Vec<f64> = (0..n).map(|k| base.powi(k as i32)).collect();
    let total: f64 = weights.iter().sum();
    let mut worst: f64 = 1.0;
    for j in 0..=(n + 2) {
        // Gap in ((j+1) TTL, (j+2) TTL].
        let opt = ((j + 2) as f64 * read).min(write);
        let alg: f64 = weights
            .iter()
            .enumerate()
            .map(|(k, wgt)| {
                let k = k as u32;
                let cost = if k > j { (j + 2) as f64 * read } else { k as f64 * read + write };
                wgt / total * cost
            })
            .sum();
        worst = worst.max(alg / opt);
    }
    Ok(Competitive {
        rent_units_per_buy: b,
        never_ping_ratio: deterministic_ratio(write, read, 0),
        best_deterministic_pings: best_k,
        best_deterministic_ratio: best_ratio,
        breakeven_pings: be_pings,
        breakeven_ratio: deterministic_ratio(write, read, be_pings),
        randomized_ratio: worst,
        randomized_bound: std::f64::consts::E / (std::f64::consts::E - 1.0),
    })
}

/// The single-gap condition for a 1-hour write to beat a 5-minute write without pings: the chance of a
/// return between 5 and 60 minutes must exceed `(w1 - w5) / (w5 - rho)` (65% at Anthropic's multipliers).
pub fn one_hour_threshold(write_5m: f64, write_1h: f64, read: f64) -> f64 {
    (write_1h - write_5m) / (write_5m - read)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    fn check_ratio(k: u32, expected: f64) {
        let r = deterministic_ratio(1.25, 0.1, k);
        assert!((r - expected).abs() < 0.005, "k={k}: {r}");
    }

    #[test]
    fn threshold_is_8_7_percent() {
        assert!(close(hazard_threshold(1.25, 0.1), 0.1 / 1.15));
        assert!(close(hazard_threshold(2.0, 0.1), 0.1 / 1.9));
    }
    #[test]
    fn ski_rental_table() {
        check_ratio(0, 6.25);
        check_ratio(5, 2.5);
        check_ratio(10, 1.875);
        check_ratio(11, 1.88);
        check_ratio(12, 1.96);
    }
    #[test]
    fn best_deterministic_and_randomized() {
        let c = competitive(1.25, 0.1).expect("valid");
        assert_eq!(c.best_deterministic_pings, 10);
        assert!(close(c.best_deterministic_ratio, 1.875));
        assert_eq!(c.breakeven_pings, 11);
        assert!(c.randomized_ratio < c.best_deterministic_ratio, "{c:?}");
        assert!(c.randomized_ratio >= c.randomized_bound - 0.05, "{c:?}");
    }
    #[test]
    fn kaplan_meier_with_censoring() {
        let obs = [(1.0, true), (2.0, false), (3.0, true), (4.0, true)]
            .map(|(minutes, returned)| GapObservation { minutes, returned });
        let km = KaplanMeier::fit(&obs).expect("valid");
        assert!(close(km.survival_at(0.5), 1.0));
        assert!(close(km.survival_at(1.0), 0.75));
        assert!(close(km.survival_at(3.0), 0.375));
        assert!(close(km.survival_at(10.0), 0.0));
        assert!(KaplanMeier::fit(&[GapObservation { minutes: -1.0, returned: true }]).is_err());
    }
    #[test]
    fn memoryless_gaps_ping_all_or_nothing() {
        // Mean 20 minutes: hazard per 5 minutes is 1 - e^{-1/4} = 22% > 8.7%: ping to the horizon.
        let plan = solve_keepalive(|t| (-t / 20.0).exp(), 0.0, 1.25, 0.1, 5.0, 24).expect("valid");
        assert_eq!(plan.pings, 24);
        assert!(plan.expected_cost < plan.never_ping_cost);
        // Mean 120 minutes: hazard 4% < 8.7%: never ping.
        let plan = solve_keepalive(|t| (-t / 120.0).exp(), 0.0, 1.25, 0.1, 5.0, 24).expect("valid");
        assert_eq!(plan.pings, 0);
        assert_eq!(hazard_rule_pings(&plan.hazards, 1.25, 0.1), 0);
    }
    #[test]
    fn reads_and_rewrites_add_up_to_the_expected_cost() {
        for mean in [3.0, 20.0, 45.0, 120.0] {
            let plan = solve_keepalive(|t| (-t / mean).exp(), 0.0, 1.25, 0.1, 5.0, 24).expect("valid");
            let split = 0.1 * plan.expected_reads + 1.25 * plan.expected_rewrites;
            assert!(close(split, plan.expected_cost), "mean {mean}: {plan:?}");
            let never = 0.1 * plan.never_ping_reads + 1.25 * plan.never_ping_rewrites;
            assert!(close(never, plan.never_ping_cost), "mean {mean}: {plan:?}");
        }
    }
    #[test]
    fn abandoned_sessions_stop_pinging() {
        // Half never return, the rest return at exactly 12 minutes: ping twice to cover them.
        let s = |t: f64| if t < 12.0 { 1.0 } else { 0.5 };
        let plan = solve_keepalive(s, 0.5, 1.25, 0.1, 5.0, 24).expect("valid");
        assert_eq!(plan.pings, 2);
    }
    #[test]
    fn one_hour_needs_65_percent() {
        assert!(close(one_hour_threshold(1.25, 2.0, 0.1), 0.75 / 1.15));
    }
}

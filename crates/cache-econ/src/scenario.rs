//! A prompt-cache situation built and checked once, with the rules as its methods: the same results as
//! the free functions of the rules, without five positional numbers at each call.

use agentry_types::{TokenCount, Usd};

use crate::{
    decide::KeepAlivePlan,
    error::Error,
    pricing::{ModelPrice, Ttl},
    rules::{
        Breakeven, Compaction, ModelChange, PingCost, PlanCost, TableRow, Uncertain, breakeven, compaction,
        model_change, ping_cost, plan_cost, refresh_cost, rewrite_cost, table, with_return_probability,
    },
};

/// Whether the cache is still warm when a compaction runs: its call then reads the prefix, else writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Warmth {
    /// The prefix is cached: the compaction call reads it.
    Warm,
    /// The cache expired: the compaction call writes the prefix again.
    Cold,
}

/// A model's prices, a cache lifetime, a prefix size and a keep-alive ping interval, checked once.
///
/// ```
/// use agentry_cache_econ::{PriceTable, Scenario, Ttl, Warmth};
/// use agentry_types::TokenCount;
///
/// let prices = PriceTable::builtin();
/// let opus = Scenario::new(prices.get("claude-opus-4-7", None)?, Ttl::FiveMinutes, TokenCount(100_000))?;
/// assert_eq!(opus.breakeven()?.achievable_minutes, 60.0);
/// assert_eq!(opus.refresh_cost(30.0)?.to_string(), "0.925");
/// assert_eq!(opus.rewrite_cost().to_string(), "1.25");
/// assert_eq!(opus.with_ping_interval(4.5)?.breakeven()?.achievable_minutes, 54.0);
/// assert_eq!(opus.compaction(0.1, Warmth::Warm)?.breakeven_turns.round(), 8.0);
/// # Ok::<(), agentry_cache_econ::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scenario<'p> {
    model: &'p ModelPrice,
    ttl: Ttl,
    prefix: TokenCount,
    ping_interval: f64,
}

impl<'p> Scenario<'p> {
    /// `prefix` tokens cached on `model` for `ttl`, pinged once per lifetime. A prefix of no tokens is an
    /// error: nothing would be cached.
    pub fn new(model: &'p ModelPrice, ttl: Ttl, prefix: TokenCount) -> Result<Self, Error> {
        if prefix.0 == 0 {
            return Err(Error::param("prefix tokens", 0, "must be at least one token"));
        }
        Ok(Self { model, ttl, prefix, ping_interval: ttl.minutes() })
    }

    /// The same with a ping every `minutes` (above 0, at most the lifetime).
    pub fn with_ping_interval(self, minutes: f64) -> Result<Self, Error> {
        if !(minutes > 0.0 && minutes <= self.ttl.minutes()) {
            return Err(Error::param("ping interval", minutes, "must be above 0 and at most the lifetime"));
        }
        Ok(Self { ping_interval: minutes, ..self })
    }

    /// The model's price row.
    pub fn model(&self) -> &'p ModelPrice {
        self.model
    }

    /// The cache lifetime.
    pub fn ttl(&self) -> Ttl {
        self.ttl
    }

    /// The cached prefix.
    pub fn prefix(&self) -> TokenCount {
        self.prefix
    }

    /// Minutes between pings.
    pub fn ping_interval(&self) -> f64 {
        self.ping_interval
    }

    /// Keep-alive against rewrite: the continuous and the achievable break-even (see [`breakeven`]).
    pub fn breakeven(&self) -> Result<Breakeven, Error> {
        breakeven(self.model, self.ttl, self.ping_interval)
    }

    /// Writing the prefix and keeping it through `idle_minutes` of pings (see [`refresh_cost`]).
    pub fn refresh_cost(&self, idle_minutes: f64) -> Result<Usd, Error> {
        refresh_cost(self.model, self.ttl, self.prefix.0, idle_minutes, self.ping_interval)
    }

    /// Writing the prefix, letting it expire and writing it again (see [`rewrite_cost`]).
    pub fn rewrite_cost(&self) -> Usd {
        rewrite_cost(self.model, self.ttl, self.prefix.0)
    }

    /// Refresh against rewrite for each idle time (see [`table`]).
    pub fn table(&self, idle_minutes: &[f64]) -> Result<Vec<TableRow>, Error> {
        table(self.model, self.ttl, &[self.prefix.0], idle_minutes, self.ping_interval)
    }

    /// Turns after which compacting to `ratio` of the prefix pays back (see [`compaction`]).
    pub fn compaction(&self, ratio: f64, warmth: Warmth) -> Result<Compaction, Error> {
        compaction(self.model, self.ttl, ratio, warmth == Warmth::Warm)
    }

    /// The achievable break-even when each ping also writes `tail` tokens and generates `output` tokens
    /// (see [`ping_cost`]).
    pub fn ping_cost(&self, tail: TokenCount, output: TokenCount) -> Result<PingCost, Error> {
        ping_cost(self.model, self.ttl, self.prefix.0, tail.0, output.0, self.ping_interval)
    }

    /// Whether pinging through `idle_minutes` pays when the session returns with probability
    /// `return_probability` (see [`with_return_probability`]).
    pub fn with_return_probability(
        &self,
        idle_minutes: f64,
        return_probability: f64,
    ) -> Result<Uncertain, Error> {
        with_return_probability(
            self.model,
            self.ttl,
            self.prefix.0,
            idle_minutes,
            self.ping_interval,
            return_probability,
        )
    }

    /// The expected idle cost of a keep-alive plan (see [`plan_cost`]).
    pub fn plan_cost(&self, plan: &KeepAlivePlan) -> Result<PlanCost, Error> {
        plan_cost(self.model, self.ttl, self.prefix.0, plan)
    }

    /// Moving the prefix to `to`, whose tokenizer counts `inflation` more tokens (see [`model_change`]).
    pub fn model_change(&self, to: &ModelPrice, inflation: f64) -> Result<ModelChange, Error> {
        model_change(self.model, to, self.ttl, self.prefix.0, inflation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::PriceTable;

    #[test]
    fn methods_equal_the_free_rules() {
        let prices = PriceTable::builtin();
        let m = prices.get("claude-opus-4-7", None).expect("row");
        let s = Scenario::new(m, Ttl::FiveMinutes, TokenCount(50_000)).expect("valid");
        assert_eq!(s.refresh_cost(90.0).ok(), refresh_cost(m, Ttl::FiveMinutes, 50_000, 90.0, 5.0).ok());
        assert_eq!(s.table(&[5.0, 30.0]).ok(), table(m, Ttl::FiveMinutes, &[50_000], &[5.0, 30.0], 5.0).ok());
        let cold = s.compaction(0.2, Warmth::Cold).expect("valid").breakeven_turns;
        assert_eq!(Some(cold), compaction(m, Ttl::FiveMinutes, 0.2, false).ok().map(|c| c.breakeven_turns));
    }

    #[test]
    fn invalid_scenarios_are_refused_once() {
        let prices = PriceTable::builtin();
        let m = prices.get("claude-opus-4-7", None).expect("row");
        assert!(Scenario::new(m, Ttl::FiveMinutes, TokenCount(0)).is_err());
        let s = Scenario::new(m, Ttl::FiveMinutes, TokenCount(1)).expect("valid");
        for bad in [0.0, -1.0, 5.5, f64::NAN] {
            assert!(s.with_ping_interval(bad).is_err(), "{bad}");
        }
        assert!(
            Scenario::new(m, Ttl::OneHour, TokenCount(1)).and_then(|s| s.with_ping_interval(30.0)).is_ok()
        );
    }
}

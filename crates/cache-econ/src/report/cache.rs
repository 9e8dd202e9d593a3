//! The state of a session's prompt cache after its last request: when it expires, what the next turn
//! costs warm or cold, and whether keeping it warm pays.

use agentry_types::{Timestamp, Usd};

use super::Requests;
use crate::{money::cost_of, pricing::Ttl, rules::breakeven};

/// A session's prompt cache as its last main-chain request left it.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheState {
    /// The model of that request.
    pub model: String,
    /// When it was made (a read or a write restarts the cache's lifetime).
    pub last_request: Timestamp,
    /// The lifetime of the newest cache write in the session: 1 hour when it wrote 1-hour tokens.
    pub ttl: Ttl,
    /// `last_request + ttl`.
    pub expires_at: Timestamp,
    /// Tokens in the cache: that request's reads and writes.
    pub cached_tokens: u64,
    /// The next turn's cost for the cached prefix if it comes before `expires_at`: a read.
    pub warm_usd: Usd,
    /// The same if it comes after: the prefix written again at `ttl`'s rate.
    pub cold_usd: Usd,
    /// One keep-alive ping: a read of the prefix.
    pub ping_usd: Usd,
    /// Pinging once per lifetime beats letting the cache expire and writing it again for idle times up to
    /// this many minutes (the achievable break-even at the session's lifetime: 60 for 5 minutes at Opus
    /// prices); 0 when the model has no cache-read price.
    pub keep_warm_minutes: f64,
}

impl CacheState {
    /// Seconds until the cache expires (negative once it has).
    pub fn seconds_left(&self, now: Timestamp) -> i64 {
        (self.expires_at.unix_micros() - now.unix_micros()).div_euclid(1_000_000)
    }
}

impl Requests<'_> {
    /// The cache state of `session` (its id), or of the newest session when `None`: taken from its last
    /// priced main-chain request that read or wrote the cache. Subagents have caches of their own and
    /// are left out.
    pub fn cache_state(&self, session: Option<&str>) -> Option<CacheState> {
        let data = &self.data;
        let in_session = |i: usize| {
            let r = &data.records[i];
            !r.sidechain && session.is_none_or(|s| data.strings[r.session as usize] == s)
        };
        let mut order: Vec<usize> = (0..data.records.len())
            .filter(|&i| in_session(i) && data.records[i].ts.is_some() && data.priced[i].is_some())
            .filter(|&i| {
                data.records[i].usage.cache_read_tokens + data.records[i].usage.cache_write_tokens() > 0
            })
            .collect();
        order.sort_by_key(|&i| data.records[i].ts);
        let &last = order.last()?;
        let ttl =
            order.iter().rev().map(|&i| &data.records[i].usage).find(|u| u.cache_write_tokens() > 0).map_or(
                Ttl::FiveMinutes,
                |u| {
                    if u.cache_write_1h_tokens > 0 { Ttl::OneHour } else { Ttl::FiveMinutes }
                },
            );
        let r = &data.records[last];
        let price = data.priced[last]?;
        let rates = price.rates_for(r.usage.prompt_tokens());
        let cached = r.usage.cache_read_tokens + r.usage.cache_write_tokens();
        let at = r.ts?;
        let ttl_micros = if ttl == Ttl::OneHour { 3_600_000_000 } else { 300_000_000 };
        Some(CacheState {
            model: data.strings[r.model as usize].clone(),
            last_request: Timestamp::from_unix_micros(at),
            ttl,
            expires_at: Timestamp::from_unix_micros(at + ttl_micros),
            cached_tokens: cached,
            warm_usd: cost_of(cached, rates.cache_read),
            cold_usd: cost_of(cached, rates.write(ttl)),
            ping_usd: cost_of(cached, rates.cache_read),
            keep_warm_minutes: breakeven(price, ttl, ttl.minutes()).map_or(0.0, |b| b.achievable_minutes),
        })
    }
}

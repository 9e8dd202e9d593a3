//! Claude's 5-hour billing windows: a block opens at the hour of its first request and closes five hours
//! later, or earlier when no request came for five hours.

use agentry_types::{Timestamp, Usd};

use super::{Acc, Day, Requests, Totals, Zone};
use crate::money::div_round_half_up;

/// A block's length, in microseconds.
const BLOCK_MICROS: i64 = 5 * 3_600_000_000;
const HOUR_MICROS: i64 = 3_600_000_000;
/// The share of a token limit above which a block is flagged as near it.
const WARNING_SHARE: f64 = 0.8;

/// The token budget a block is checked against (`--token-limit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenLimit {
    /// A fixed number of tokens.
    Tokens(u64),
    /// The most tokens any finished block used.
    Max,
}

impl std::str::FromStr for TokenLimit {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, crate::Error> {
        if s == "max" {
            return Ok(Self::Max);
        }
        s.replace('_', "")
            .parse()
            .map(Self::Tokens)
            .map_err(|_| crate::Error::param("token limit", s, "expected a token count or `max`"))
    }
}

/// Options of [`Requests::blocks`].
#[derive(Debug, Clone)]
pub struct BlockOptions {
    /// The zone `since` and `until` are days of.
    pub zone: Zone,
    /// Keep blocks starting on this day or later.
    pub since: Option<Day>,
    /// Keep blocks starting on this day or earlier.
    pub until: Option<Day>,
    /// Keep only this project's requests.
    pub project: Option<String>,
    /// Check each block against a token budget.
    pub token_limit: Option<TokenLimit>,
}

/// Tokens per minute and cost per hour between a block's first and last request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurnRate {
    /// All tokens (input, output, cache writes and reads) per minute.
    pub tokens_per_minute: f64,
    /// Cost per hour, exact to the picodollar (rounded half up).
    pub cost_per_hour_usd: Usd,
}

/// Where the active block ends if requests go on at its burn rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Projection {
    /// Whole minutes until the block ends (rounded).
    pub remaining_minutes: u64,
    /// Tokens at the block's end.
    pub total_tokens: u64,
    /// Cost at the block's end.
    pub cost_usd: Usd,
}

/// How a block stands against the token limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitStatus {
    /// At most 80% of the limit.
    Ok,
    /// Above 80% of it.
    Warning,
    /// Above it.
    Exceeds,
}

impl LimitStatus {
    /// `ok`, `warning` or `exceeds`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Warning => "warning",
            Self::Exceeds => "exceeds",
        }
    }
}

/// A block's tokens (projected ones for the active block) against the limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LimitCheck {
    /// The limit in tokens.
    pub limit: u64,
    /// The tokens checked: the projection for the active block, else the block's own.
    pub tokens: u64,
    /// `tokens` as a percentage of `limit`.
    pub percent_used: f64,
    /// Where that stands.
    pub status: LimitStatus,
}

/// One 5-hour block.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// The hour (UTC) of its first request.
    pub start: Timestamp,
    /// Five hours after `start`.
    pub end: Timestamp,
    /// Whether it is still open: its end and five hours after its last request are both ahead.
    pub active: bool,
    /// Its requests together.
    pub totals: Totals,
    /// Absent when its requests all came at one instant.
    pub burn_rate: Option<BurnRate>,
    /// For the active block only.
    pub projection: Option<Projection>,
    /// When a limit was asked for and is known.
    pub limit: Option<LimitCheck>,
}

/// Blocks in time order and the totals of all of them.
#[derive(Debug, Clone, PartialEq)]
pub struct BlocksReport {
    /// The blocks.
    pub rows: Vec<Block>,
    /// Every kept request together.
    pub totals: Totals,
}

fn burn_rate(t: &Totals) -> Option<(BurnRate, i64)> {
    let span = t.last_request?.unix_micros() - t.first_request?.unix_micros();
    if span <= 0 {
        return None;
    }
    let minutes = span as f64 / 60e6;
    let per_hour = div_round_half_up(t.cost_usd.picos() * i128::from(HOUR_MICROS), i128::from(span));
    Some((
        BurnRate {
            tokens_per_minute: t.total_tokens() as f64 / minutes,
            cost_per_hour_usd: Usd::from_picos(per_hour),
        },
        span,
    ))
}

impl Requests<'_> {
    /// The 5-hour blocks of the kept requests; `now` decides which block is active.
    pub fn blocks(&self, options: &BlockOptions, now: Timestamp) -> BlocksReport {
        let order = self.timed(options.project.as_deref());
        let ts = |i: usize| self.data.records[i].ts.unwrap_or_default();
        let mut groups: Vec<(i64, Vec<usize>)> = Vec::new();
        for i in order {
            let t = ts(i);
            let opens = match groups.last() {
                None => true,
                Some((start, members)) => {
                    let last = members.last().map_or(*start, |&j| ts(j));
                    t - start > BLOCK_MICROS || t - last > BLOCK_MICROS
                }
            };
            if opens {
                groups.push((t - t.rem_euclid(HOUR_MICROS), Vec::new()));
            }
            if let Some((_, members)) = groups.last_mut() {
                members.push(i);
            }
        }
        let now = now.unix_micros();
        let mut all = Acc::default();
        let mut rows = Vec::new();
        for (start, members) in groups {
            let day = options.zone.day_of(Timestamp::from_unix_micros(start));
            if options.since.is_some_and(|s| day < s) || options.until.is_some_and(|u| day > u) {
                continue;
            }
            let mut acc = Acc::default();
            for &i in &members {
                acc.add(&self.data, i);
                all.add(&self.data, i);
            }
            let totals = acc.finish();
            let end = start + BLOCK_MICROS;
            let last = totals.last_request.map_or(start, |t| t.unix_micros());
            let active = start <= now && now - last < BLOCK_MICROS && now < end;
            let rate = burn_rate(&totals);
            let projection = rate.filter(|_| active).map(|(rate, span)| {
                let remaining_minutes = ((end - now) as f64 / 60e6).round().max(0.0) as u64;
                let remaining = i128::from(remaining_minutes) * 60_000_000;
                let extra = div_round_half_up(totals.cost_usd.picos() * remaining, i128::from(span));
                Projection {
                    remaining_minutes,
                    total_tokens: (totals.total_tokens() as f64
                        + rate.tokens_per_minute * remaining_minutes as f64)
                        .round() as u64,
                    cost_usd: totals.cost_usd + Usd::from_picos(extra),
                }
            });
            rows.push(Block {
                start: Timestamp::from_unix_micros(start),
                end: Timestamp::from_unix_micros(end),
                active,
                totals,
                burn_rate: rate.map(|(r, _)| r),
                projection,
                limit: None,
            });
        }
        if let Some(limit) = options.token_limit {
            let limit = match limit {
                TokenLimit::Tokens(n) => Some(n),
                TokenLimit::Max => rows
                    .iter()
                    .filter(|b| !b.active)
                    .map(|b| b.totals.total_tokens())
                    .max()
                    .filter(|&n| n > 0),
            };
            for b in rows.iter_mut() {
                let Some(limit) = limit.filter(|&l| l > 0) else { break };
                let tokens = b.projection.map_or(b.totals.total_tokens(), |p| p.total_tokens);
                let status = if tokens > limit {
                    LimitStatus::Exceeds
                } else if tokens as f64 > limit as f64 * WARNING_SHARE {
                    LimitStatus::Warning
                } else {
                    LimitStatus::Ok
                };
                b.limit = Some(LimitCheck {
                    limit,
                    tokens,
                    percent_used: 100.0 * tokens as f64 / limit as f64,
                    status,
                });
            }
        }
        BlocksReport { rows, totals: all.finish() }
    }
}

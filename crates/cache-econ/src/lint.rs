use agentry_types::Usd;
use serde::Serialize;
use serde_json::Value;

use crate::{
    error::Error,
    money::cost_of,
    pricing::{PriceTable, Ttl},
};

/// Anthropic's limit on `cache_control` breakpoints in one request.
pub const MAX_BREAKPOINTS: usize = 4;
/// How many blocks back from a breakpoint Anthropic looks for an earlier cache entry.
pub const LOOKBACK_BLOCKS: usize = 20;

/// What the linter found wrong with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// The cached prefix is shorter than the model's minimum: nothing is cached, and no error says so.
    BelowMinimum,
    /// More than 20 blocks between two breakpoints: an earlier turn's entry is out of the lookback window.
    LookbackOverflow,
    /// More than 4 breakpoints: the API rejects the request.
    TooManyBreakpoints,
    /// A 1-hour breakpoint after a 5-minute one: the API requires 1-hour entries first.
    TtlOrder,
    /// A timestamp, UUID or request id inside the cached prefix: the prefix changes every request.
    VolatilePrefix,
}

/// One finding with what it costs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The kind.
    pub kind: FindingKind,
    /// Index of the offending block in prefix order (tools, system, messages), from 0.
    pub block: usize,
    /// What is wrong, in words.
    pub message: String,
    /// The extra cost of each request that repeats this prefix, when it has a price.
    pub cost_per_request_usd: Option<Usd>,
    /// How that cost is counted.
    pub cost_basis: String,
}

/// The linter's answer for one request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LintReport {
    /// The model the costs are priced for.
    pub model: String,
    /// Blocks in prefix order.
    pub blocks: usize,
    /// Breakpoints found (explicit `cache_control`, plus the top-level automatic one).
    pub breakpoints: usize,
    /// Estimated tokens up to the last breakpoint (bytes of JSON / 4).
    pub cached_prefix_tokens: u64,
    /// Findings, in block order.
    pub findings: Vec<Finding>,
}

struct Block {
    tokens: u64,
    ttl: Option<Ttl>,
    text: String,
}

/// Lints an Anthropic Messages request (`model`, `tools`, `system`, `messages`, optional top-level
/// `cache_control`). Token counts are estimated as a quarter of each block's JSON bytes; `model` overrides
/// the request's own model for pricing.
pub fn lint(
    request: &str,
    origin: &str,
    prices: &PriceTable,
    model: Option<&str>,
) -> Result<LintReport, Error> {
    let bad = |reason: String| Error::Request { origin: origin.to_owned(), reason };
    let v: Value = serde_json::from_str(request).map_err(|e| bad(format!("not JSON: {e}")))?;
    let obj = v.as_object().ok_or_else(|| bad("not a JSON object".to_owned()))?;
    let model_id = match model {
        Some(m) => m.to_owned(),
        None => obj
            .get("model")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("no `model` field (pass --model)".to_owned()))?
            .to_owned(),
    };
    let price = prices.get(&model_id, None)?;
    let mut blocks = Vec::new();
    let mut push = |value: &Value| {
        let text = value.to_string();
        let ttl = value.get("cache_control").and_then(|cc| {
            if cc.is_null() {
                return None;
            }
            Some(if cc.get("ttl").and_then(Value::as_str) == Some("1h") {
                Ttl::OneHour
            } else {
                Ttl::FiveMinutes
            })
        });
        blocks.push(Block { tokens: (text.len() as u64).div_ceil(4), ttl, text });
    };
    if let Some(tools) = obj.get("tools").and_then(Value::as_array) {
        tools.iter().for_each(&mut push);
    }
    match obj.get("system") {
        Some(Value::Array(items)) => items.iter().for_each(&mut push),
        Some(s @ Value::String(_)) => push(s),
        _ => {}
    }
    let messages =
        obj.get("messages").and_then(Value::as_array).ok_or_else(|| bad("no `messages` array".to_owned()))?;
    for m in messages {
        match m.get("content") {
            Some(Value::Array(items)) => items.iter().for_each(&mut push),
            Some(other) => push(other),
            None => return Err(bad("a message without `content`".to_owned())),
        }
    }
    let mut breakpoints: Vec<(usize, Ttl)> =
        blocks.iter().enumerate().filter_map(|(i, b)| b.ttl.map(|t| (i, t))).collect();
    if let Some(cc) = obj.get("cache_control").filter(|c| !c.is_null())
        && !blocks.is_empty()
    {
        let ttl =
            if cc.get("ttl").and_then(Value::as_str) == Some("1h") { Ttl::OneHour } else { Ttl::FiveMinutes };
        let last = blocks.len() - 1;
        if breakpoints.last().map(|b| b.0) != Some(last) {
            breakpoints.push((last, ttl));
        }
    }
    let prefix_until = |end: usize| blocks[..=end].iter().map(|b| b.tokens).sum::<u64>();
    let rates = &price.rates;
    let mut findings = Vec::new();
    let cached = breakpoints.last().map_or(0, |&(i, _)| prefix_until(i));
    if let Some(&(last, _)) = breakpoints.last()
        && cached < price.min_cacheable_tokens
    {
        findings.push(Finding {
            kind: FindingKind::BelowMinimum,
            block: last,
            message: format!(
                "cached prefix of about {cached} tokens is below {}'s minimum of {}: nothing is cached",
                price.id, price.min_cacheable_tokens
            ),
            cost_per_request_usd: Some(cost_of(cached, rates.input) - cost_of(cached, rates.cache_read)),
            cost_basis: "the prefix is billed as input instead of a cache read on every repeat".to_owned(),
        });
    }
    let mut previous = None;
    for &(i, ttl) in &breakpoints {
        let start = previous.map_or(0, |(p, _)| p + 1);
        if let Some((p, _)) = previous
            && i - p > LOOKBACK_BLOCKS
        {
            let between: u64 = blocks[start..=i].iter().map(|b| b.tokens).sum();
            findings.push(Finding {
                    kind: FindingKind::LookbackOverflow,
                    block: i,
                    message: format!("{} blocks between breakpoints at blocks {p} and {i}: more than the {LOOKBACK_BLOCKS}-block lookback", i - p),
                    cost_per_request_usd: Some(cost_of(between, rates.write(ttl)) - cost_of(between, rates.cache_read)),
                    cost_basis: "an entry cached between the two breakpoints is not found: those tokens are written again instead of read".to_owned(),
                });
        }
        if ttl == Ttl::OneHour && breakpoints.iter().any(|&(j, t)| j < i && t == Ttl::FiveMinutes) {
            findings.push(Finding {
                kind: FindingKind::TtlOrder,
                block: i,
                message: format!(
                    "1-hour breakpoint at block {i} after a 5-minute one: 1-hour entries must come first"
                ),
                cost_per_request_usd: None,
                cost_basis: "the API rejects the request".to_owned(),
            });
        }
        previous = Some((i, ttl));
    }
    if breakpoints.len() > MAX_BREAKPOINTS {
        findings.push(Finding {
            kind: FindingKind::TooManyBreakpoints,
            block: breakpoints[MAX_BREAKPOINTS].0,
            message: format!("{} breakpoints; the limit is {MAX_BREAKPOINTS}", breakpoints.len()),
            cost_per_request_usd: None,
            cost_basis: "the API rejects the request".to_owned(),
        });
    }
    if let Some(&(last, ttl)) = breakpoints.last()
        && let Some((i, what)) =
            blocks[..=last].iter().enumerate().find_map(|(i, b)| volatile(&b.text).map(|w| (i, w)))
    {
        let from_here: u64 = blocks[i..=last].iter().map(|b| b.tokens).sum();
        findings.push(Finding {
                kind: FindingKind::VolatilePrefix,
                block: i,
                message: format!("{what} in block {i}, inside the cached prefix: if it changes, every later block is written again"),
                cost_per_request_usd: Some(cost_of(from_here, rates.write(ttl)) - cost_of(from_here, rates.cache_read)),
                cost_basis: format!("about {from_here} tokens from block {i} to the last breakpoint are rewritten instead of read"),
            });
    }
    findings.sort_by_key(|f| f.block);
    Ok(LintReport {
        model: price.id.clone(),
        blocks: blocks.len(),
        breakpoints: breakpoints.len(),
        cached_prefix_tokens: cached,
        findings,
    })
}

/// The first volatile-looking value in `text`: a UUID, an ISO date-time, a request or message id, or a
/// Unix timestamp in seconds or milliseconds.
pub(crate) fn volatile(text: &str) -> Option<&'static str> {
    let b = text.as_bytes();
    let hex = |c: u8| c.is_ascii_hexdigit();
    let dig = |c: u8| c.is_ascii_digit();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    for i in 0..b.len() {
        if i > 0 && word(b[i - 1]) {
            continue;
        }
        let rest = &b[i..];
        let shape = |pat: &[u8]| {
            rest.len() >= pat.len()
                && pat.iter().zip(rest).all(|(&p, &c)| match p {
                    b'h' => hex(c),
                    b'd' => dig(c),
                    b'*' => c == b'T' || c == b' ',
                    other => c == other,
                })
        };
        if shape(b"hhhhhhhh-hhhh-hhhh-hhhh-hhhhhhhhhhhh") {
            return Some("a UUID");
        }
        if shape(b"dddd-dd-dd*dd:dd") {
            return Some("a date-time");
        }
        for prefix in [&b"req_"[..], b"msg_", b"request_id"] {
            if rest.starts_with(prefix) && rest[prefix.len()..].iter().take_while(|&&c| word(c)).count() >= 10
            {
                return Some("a request id");
            }
        }
        if rest.len() >= 10 && rest[0] == b'1' && (b'6'..=b'9').contains(&rest[1]) {
            let n = rest.iter().take_while(|&&c| dig(c)).count();
            if (n == 10 || n == 13) && rest.get(n).is_none_or(|&c| !word(c)) {
                return Some("a Unix timestamp");
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(request: &str) -> Vec<FindingKind> {
        lint(request, "test", &PriceTable::builtin(), None)
            .expect("lints")
            .findings
            .iter()
            .map(|f| f.kind)
            .collect()
    }

    fn big(n: usize) -> String {
        "lorem ipsum ".repeat(n)
    }

    #[test]
    fn clean_request() {
        let r = format!(
            r#"{{"model":"claude-opus-4-7","system":[{{"type":"text","text":"{}","cache_control":{{"type":"ephemeral"}}}}],"messages":[{{"role":"user","content":"hi"}}]}}"#,
            big(2000)
        );
        assert_eq!(kinds(&r), vec![]);
    }
    #[test]
    fn below_minimum() {
        let r = r#"{"model":"claude-opus-4-7","system":[{"type":"text","text":"short","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"hi"}]}"#;
        assert_eq!(kinds(r), vec![FindingKind::BelowMinimum]);
    }
    #[test]
    fn volatile_prefix() {
        let r = format!(
            r#"{{"model":"claude-opus-4-7","system":[{{"type":"text","text":"Now: 2026-11-24T13:00:00Z {}","cache_control":{{"type":"ephemeral"}}}}],"messages":[{{"role":"user","content":"hi"}}]}}"#,
            big(2000)
        );
        assert_eq!(kinds(&r), vec![FindingKind::VolatilePrefix]);
    }
    #[test]
    fn order_count_and_lookback() {
        let mut msgs = Vec::new();
        for i in 0..30 {
            let cc = match i {
                0 | 25 | 26 | 27 => r#","cache_control":{"type":"ephemeral"}"#,
                28 => r#","cache_control":{"type":"ephemeral","ttl":"1h"}"#,
                _ => "",
            };
            msgs.push(format!(
                r#"{{"role":"user","content":[{{"type":"text","text":"{}"{cc}}}]}}"#,
                big(300)
            ));
        }
        let r = format!(r#"{{"model":"claude-opus-4-7","messages":[{}]}}"#, msgs.join(","));
        let k = kinds(&r);
        assert!(k.contains(&FindingKind::LookbackOverflow), "{k:?}");
        assert!(k.contains(&FindingKind::TooManyBreakpoints), "{k:?}");
        assert!(k.contains(&FindingKind::TtlOrder), "{k:?}");
    }
    #[test]
    fn not_a_request() {
        assert!(lint("[]", "x.json", &PriceTable::builtin(), None).is_err());
        assert!(lint("{", "x.json", &PriceTable::builtin(), None).is_err());
    }
    #[test]
    fn volatile_shapes() {
        assert_eq!(volatile("id 123e4567-e89b-12d3-a456-426614174000"), Some("a UUID"));
        assert_eq!(volatile("at 1732456789 now"), Some("a Unix timestamp"));
        assert_eq!(volatile("req_011CY4TRHLYkp2wmETF8ujUf"), Some("a request id"));
        assert_eq!(volatile("plain text 12345"), None);
    }
}

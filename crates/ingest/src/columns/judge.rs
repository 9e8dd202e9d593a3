//! Value judges: a language model (or anything else) asked whether sampled values are personal information.
//! Answers must be one JSON object; anything else is retried, and after the last attempt the column is
//! rejected (fail closed).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::columns::{
    classify::Decision,
    profile::{ColumnProfile, SplitMix64, fmix64},
};

/// A judge that could not give a usable answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JudgeError {
    /// The transport failed (connection, HTTP status, unreadable body).
    #[error("judge transport failed: {0}")]
    Transport(String),
    /// The answer is not the JSON object the protocol asks for.
    #[error("judge answer is not valid: {message} (answer: {answer:?})")]
    InvalidAnswer {
        /// What is wrong.
        message: String,
        /// The answer text, cut to 200 characters.
        answer: String,
    },
}

/// What a judge is shown about one column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JudgeRequest {
    /// Column name.
    pub column: String,
    /// Inferred dtype.
    pub dtype: String,
    /// Rows.
    pub rows: u64,
    /// Distinct values over non-null values.
    pub distinct_ratio: f64,
    /// A seeded random subset of the column's sample (`judge_subset`).
    pub sample: Vec<String>,
    /// The policy's inspection rule, in plain English.
    pub rule: String,
}

impl JudgeRequest {
    /// A request from a column profile, with at most `max_sample` sampled values drawn at random from the
    /// profile's sample (`judge_subset`).
    pub fn new(col: &ColumnProfile, rule: &str, max_sample: usize) -> Self {
        Self {
            column: col.name.clone(),
            dtype: col.dtype.to_string(),
            rows: col.rows,
            distinct_ratio: col.distinct_ratio(),
            sample: judge_subset(&col.sample, col.sample_seed, max_sample),
            rule: rule.to_owned(),
        }
    }

    /// The user prompt: the rule, the column's statistics and its sampled values, and the answer format.
    pub fn prompt(&self) -> String {
        let sample = serde_json::to_string(&self.sample).unwrap_or_else(|_| "[]".to_owned());
        format!(
            "Rule: {rule}\n\nColumn: {col}\nDtype: {dtype}\nRows: {rows}\nDistinct ratio: {ratio:.4}\nSampled values (JSON): {sample}\n\n\
             Decide whether this column may reach analytics. Answer with one JSON object and nothing else: \
             {{\"decision\": \"pass\" | \"reject\", \"reason\": \"<one sentence>\"}}. \
             Reject personal information (names, contact details, financial or government identifiers, free text about a person); \
             pass identifiers, codes, machine-generated strings and non-personal descriptions.",
            rule = self.rule,
            col = self.column,
            dtype = self.dtype,
            rows = self.rows,
            ratio = self.distinct_ratio,
        )
    }
}

/// Mixed into a column's sample seed so the judge's draw is a stream of its own, not the reservoir's.
const JUDGE_STREAM: u64 = 0x6a75_6467_655f_7375;

/// Up to `n` values of `sample`, chosen uniformly at random without replacement (a partial Fisher-Yates
/// shuffle seeded from `seed`), in the order drawn. A reservoir holds a small table's values in row order, so
/// its first values would be the table's first rows; this subset is not, and the same seed draws it again.
pub(crate) fn judge_subset(sample: &[String], seed: u64, n: usize) -> Vec<String> {
    let n = n.min(sample.len());
    let mut idx: Vec<usize> = (0..sample.len()).collect();
    let mut rng = SplitMix64(fmix64(seed ^ JUDGE_STREAM));
    for i in 0..n {
        let j = i + rng.below((idx.len() - i) as u64) as usize;
        idx.swap(i, j);
    }
    idx[..n].iter().map(|&i| sample[i].clone()).collect()
}

/// The system prompt every judge should send with `JudgeRequest::prompt`.
pub const JUDGE_SYSTEM_PROMPT: &str = "You classify database columns for a data-protection policy. You answer with exactly one JSON object with the keys \"decision\" (\"pass\" or \"reject\") and \"reason\" (one sentence), with no other text.";

/// A judge of sampled values: returns its raw answer text for a prompt. Parsing, validation, retries and the
/// fail-closed rule live in the classifier, so every judge gets them the same way.
pub trait ValueJudge: fmt::Debug {
    /// The judge's name for reasons and the audit log (`anthropic:<model>`).
    fn name(&self) -> String;

    /// Sends the system prompt and user prompt, returns the answer text.
    fn complete(&self, system: &str, prompt: &str) -> Result<String, JudgeError>;
}

/// A validated judge answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JudgeVerdict {
    /// Pass or reject.
    pub decision: Decision,
    /// The judge's one-sentence reason.
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVerdict {
    decision: String,
    reason: String,
}

fn cut(s: &str) -> String {
    s.chars().take(200).collect()
}

/// Validates a judge answer: exactly one JSON object `{"decision": "pass"|"reject", "reason": "..."}` with a
/// non-empty reason and no other keys; surrounding whitespace is allowed, surrounding prose is not.
pub fn parse_verdict(answer: &str) -> Result<JudgeVerdict, JudgeError> {
    let invalid = |message: String| JudgeError::InvalidAnswer { message, answer: cut(answer) };
    let raw: RawVerdict = serde_json::from_str(answer.trim()).map_err(|e| invalid(e.to_string()))?;
    let decision = match raw.decision.as_str() {
        "pass" => Decision::Pass,
        "reject" => Decision::Reject,
        other => return Err(invalid(format!("decision {other:?} is neither \"pass\" nor \"reject\""))),
    };
    let reason = raw.reason.trim();
    if reason.is_empty() {
        return Err(invalid("empty reason".to_owned()));
    }
    Ok(JudgeVerdict { decision, reason: cut(reason) })
}

/// Asks a judge up to `attempts` times for a valid verdict; after the last failure the answer is reject.
pub(crate) fn ask_judge(judge: &dyn ValueJudge, req: &JudgeRequest, attempts: u32) -> (Decision, String) {
    let prompt = req.prompt();
    let mut last = String::new();
    for _ in 0..attempts.max(1) {
        match judge.complete(JUDGE_SYSTEM_PROMPT, &prompt).and_then(|a| parse_verdict(&a)) {
            Ok(v) => return (v.decision, v.reason),
            Err(e) => last = e.to_string(),
        }
    }
    (
        Decision::Reject,
        format!("no valid answer after {} attempt(s), failing closed; last error: {last}", attempts.max(1)),
    )
}

/// A judge backed by the Anthropic Messages API (`POST {base}/v1/messages`), over blocking HTTP.
#[cfg(feature = "judge-anthropic")]
#[derive(Debug, Clone)]
pub struct AnthropicJudge {
    base_url: String,
    api_key: String,
    model: String,
    max_tokens: u32,
    agent: ureq::Agent,
}

#[cfg(feature = "judge-anthropic")]
impl AnthropicJudge {
    /// The API version header the request shape follows.
    pub const API_VERSION: &'static str = "2023-06-01";

    /// A judge for `model` at `base_url` (`https://api.anthropic.com`), with a 60 s request timeout.
    ///
    /// The proxy of the environment (`ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY`, minus `NO_PROXY`) is used,
    /// except for a loopback `base_url` (`localhost`, `127.0.0.0/8`, `::1`), which is always reached
    /// directly: a proxy elsewhere would connect to its own loopback, not this machine's.
    pub fn new(base_url: &str, api_key: &str, model: &str) -> Self {
        let mut config = ureq::Agent::config_builder()
            .timeout_global(Some(std::time::Duration::from_secs(60)))
            .http_status_as_error(false);
        if is_loopback_url(base_url) {
            config = config.proxy(None);
        }
        let config = config.build();
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key: api_key.to_owned(),
            model: model.to_owned(),
            max_tokens: 256,
            agent: ureq::Agent::new_with_config(config),
        }
    }
}

/// Whether a URL's host is `localhost` or a loopback IP address.
#[cfg(feature = "judge-anthropic")]
fn is_loopback_url(url: &str) -> bool {
    let Ok(uri) = url.parse::<ureq::http::Uri>() else { return false };
    let Some(host) = uri.host() else { return false };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(feature = "judge-anthropic")]
impl ValueJudge for AnthropicJudge {
    fn name(&self) -> String {
        format!("anthropic:{}", self.model)
    }

    fn complete(&self, system: &str, prompt: &str) -> Result<String, JudgeError> {
        let body = serde_json::json!({
            "model": self.model,
            "max_tokens": self.max_tokens,
            "system": system,
            "messages": [{"role": "user", "content": prompt}],
        });
        let url = format!("{}/v1/messages", self.base_url);
        let mut resp = self
            .agent
            .post(&url)
            .header("x-api-key", &self.api_key)
            .header("anthropic-version", Self::API_VERSION)
            .header("content-type", "application/json")
            .send(body.to_string())
            .map_err(|e| JudgeError::Transport(format!("POST {url}: {e}")))?;
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .read_to_string()
            .map_err(|e| JudgeError::Transport(format!("reading the response of {url}: {e}")))?;
        if status != 200 {
            return Err(JudgeError::Transport(format!("POST {url}: HTTP {status}: {}", cut(&text))));
        }
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| JudgeError::Transport(format!("response of {url} is not JSON: {e}")))?;
        let content =
            v.get("content").and_then(|c| c.as_array()).ok_or_else(|| JudgeError::InvalidAnswer {
                message: "response has no content array".to_owned(),
                answer: cut(&text),
            })?;
        let answer: String = content
            .iter()
            .filter(|b| b.get("type").and_then(|t| t.as_str()) == Some("text"))
            .filter_map(|b| b.get("text").and_then(|t| t.as_str()))
            .collect();
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(answer: &str, expected: Option<Decision>) {
        assert_eq!(parse_verdict(answer).ok().map(|v| v.decision), expected, "{answer}");
    }

    #[test]
    fn valid() {
        check(r#"{"decision":"pass","reason":"order codes"}"#, Some(Decision::Pass));
        check(" {\"decision\": \"reject\", \"reason\": \"names\"}\n", Some(Decision::Reject));
    }
    #[test]
    fn prose_around_json() {
        check(r#"Sure! {"decision":"pass","reason":"x"}"#, None);
    }
    #[test]
    fn extra_key() {
        check(r#"{"decision":"pass","reason":"x","confidence":0.9}"#, None);
    }
    #[test]
    fn bad_decision() {
        check(r#"{"decision":"maybe","reason":"x"}"#, None);
    }
    #[test]
    fn empty_reason() {
        check(r#"{"decision":"pass","reason":" "}"#, None);
    }

    #[derive(Debug)]
    struct Scripted(std::cell::RefCell<Vec<&'static str>>);

    impl ValueJudge for Scripted {
        fn name(&self) -> String {
            "scripted".to_owned()
        }
        fn complete(&self, _: &str, _: &str) -> Result<String, JudgeError> {
            let mut v = self.0.borrow_mut();
            if v.is_empty() {
                Err(JudgeError::Transport("no more answers".to_owned()))
            } else {
                Ok(v.remove(0).to_owned())
            }
        }
    }

    fn req() -> JudgeRequest {
        JudgeRequest {
            column: "c".into(),
            dtype: "text".into(),
            rows: 1,
            distinct_ratio: 1.0,
            sample: vec![],
            rule: "r".into(),
        }
    }

    fn values(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("v{i}")).collect()
    }

    #[test]
    fn subset_is_seeded_and_not_the_first_values() {
        let sample = values(60);
        let a = judge_subset(&sample, 7, 20);
        assert_eq!(a, judge_subset(&sample, 7, 20));
        assert_ne!(a, judge_subset(&sample, 8, 20));
        assert_eq!(a.len(), 20);
        assert_ne!(a, sample[..20]);
        let mut sorted = a.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 20, "drawn without replacement: {a:?}");
        assert!(a.iter().all(|v| sample.contains(v)));
    }

    #[test]
    fn subset_of_a_small_sample_is_all_of_it() {
        let sample = values(5);
        let mut a = judge_subset(&sample, 7, 20);
        a.sort();
        assert_eq!(a, sample);
        assert!(judge_subset(&[], 7, 20).is_empty());
        assert!(judge_subset(&sample, 7, 0).is_empty());
    }

    #[test]
    fn subset_reaches_the_whole_sample() {
        // Over many seeds every position is drawn, the last ones included.
        let sample = values(60);
        let mut seen = std::collections::HashSet::new();
        for seed in 0..200 {
            seen.extend(judge_subset(&sample, seed, 20));
        }
        assert_eq!(seen.len(), 60);
    }

    #[cfg(feature = "judge-anthropic")]
    fn check_loopback(url: &str, expected: bool) {
        assert_eq!(is_loopback_url(url), expected, "{url}");
    }

    #[cfg(feature = "judge-anthropic")]
    #[test]
    fn loopback_urls() {
        check_loopback("http://127.0.0.1:8080", true);
        check_loopback("http://127.3.4.5", true);
        check_loopback("http://LOCALHOST:1234/x", true);
        check_loopback("http://[::1]:8080", true);
        check_loopback("https://api.anthropic.com", false);
        check_loopback("http://10.0.0.1:80", false);
        check_loopback("http://localhost.example.com", false);
        check_loopback("not a url", false);
    }

    #[cfg(feature = "judge-anthropic")]
    #[test]
    fn loopback_judge_has_no_proxy() {
        let judge = AnthropicJudge::new("http://127.0.0.1:9", "k", "m");
        assert!(judge.agent.config().proxy().is_none());
    }

    #[test]
    fn retries_then_accepts() {
        let j = Scripted(std::cell::RefCell::new(vec!["nope", r#"{"decision":"pass","reason":"codes"}"#]));
        assert_eq!(ask_judge(&j, &req(), 3), (Decision::Pass, "codes".to_owned()));
    }

    #[test]
    fn fails_closed() {
        let j = Scripted(std::cell::RefCell::new(vec![
            "nope",
            "still no",
            r#"{"decision":"pass","reason":"late"}"#,
        ]));
        let (d, reason) = ask_judge(&j, &req(), 2);
        assert_eq!(d, Decision::Reject);
        assert!(reason.contains("failing closed"), "{reason}");
    }
}

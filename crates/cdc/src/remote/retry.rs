//! Retries: capped attempts with exponential backoff and jitter, on the four transient codes only, and a
//! budget per client that stops retrying when most calls fail (gRPC's retry throttling, proposal A6).

use std::{sync::Mutex, time::Duration};

/// How a failed call is retried.
///
/// Only `UNAVAILABLE`, `RESOURCE_EXHAUSTED`, `DEADLINE_EXCEEDED` and `ABORTED` are retried: they say the call
/// may succeed later. The wait before retry `n` (1-based) is drawn uniformly from the upper half of
/// `min(initial_backoff * multiplier^(n-1), max_backoff)`, so clients that failed together do not retry
/// together.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts per call, the first included (1: never retry).
    pub max_attempts: u32,
    /// The wait before the first retry, before jitter.
    pub initial_backoff: Duration,
    /// The longest wait, before jitter.
    pub max_backoff: Duration,
    /// How much each wait grows.
    pub multiplier: f64,
    /// The retry budget's base size. The client starts with this many tokens plus two per call it may have in
    /// flight (so one burst of calls failing together does not use it up), loses one per failed attempt, gains
    /// `token_ratio` per success, and retries only while it holds more than half of them.
    pub max_tokens: f64,
    /// Tokens a successful call earns back.
    pub token_ratio: f64,
}

impl Default for RetryPolicy {
    /// Five attempts, 100 ms doubling to at most 5 s, and gRPC's default throttling (10 tokens, ratio 0.1).
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            multiplier: 2.0,
            max_tokens: 10.0,
            token_ratio: 0.1,
        }
    }
}

impl RetryPolicy {
    /// Whether a call that failed with `code` may succeed if made again.
    pub fn is_retryable(code: tonic::Code) -> bool {
        use tonic::Code::*;
        matches!(code, Unavailable | ResourceExhausted | DeadlineExceeded | Aborted)
    }

    /// The wait before retry number `retry` (1 for the first retry), jitter included.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let exp = self.multiplier.max(1.0).powi(retry.saturating_sub(1).min(64) as i32);
        let base = (self.initial_backoff.as_secs_f64() * exp).min(self.max_backoff.as_secs_f64());
        Duration::from_secs_f64(base * (0.5 + 0.5 * fastrand::f64()))
    }
}

/// The token bucket behind [`RetryPolicy::max_tokens`], shared by every call of one client.
#[derive(Debug)]
pub(crate) struct RetryBudget {
    tokens: Mutex<f64>,
    max: f64,
    ratio: f64,
}

impl RetryBudget {
    pub(crate) fn new(policy: &RetryPolicy, concurrency: usize) -> Self {
        let max = policy.max_tokens.max(0.0) + 2.0 * concurrency as f64;
        Self { tokens: Mutex::new(max), max, ratio: policy.token_ratio.max(0.0) }
    }

    fn with<T>(&self, f: impl FnOnce(&mut f64) -> T) -> T {
        let mut guard = self.tokens.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }

    pub(crate) fn success(&self) {
        let (max, ratio) = (self.max, self.ratio);
        self.with(|t| *t = (*t + ratio).min(max));
    }

    /// Records a transient failure and says whether a retry is still allowed.
    pub(crate) fn failure_allows_retry(&self) -> bool {
        let max = self.max;
        self.with(|t| {
            *t = (*t - 1.0).max(0.0);
            *t > max / 2.0
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_transient_codes_retry() {
        use tonic::Code::*;
        for code in [Unavailable, ResourceExhausted, DeadlineExceeded, Aborted] {
            assert!(RetryPolicy::is_retryable(code), "{code:?}");
        }
        for code in
            [InvalidArgument, NotFound, AlreadyExists, Unimplemented, Internal, PermissionDenied, Unknown]
        {
            assert!(!RetryPolicy::is_retryable(code), "{code:?}");
        }
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let p = RetryPolicy::default();
        for retry in 1..=20 {
            let full = (0.1 * 2f64.powi(retry as i32 - 1)).min(5.0);
            let b = p.backoff(retry).as_secs_f64();
            assert!(
                b >= full / 2.0 - 1e-9 && b <= full + 1e-9,
                "retry {retry}: {b} not in [{}, {full}]",
                full / 2.0
            );
        }
    }

    #[test]
    fn budget_stops_retries_when_most_calls_fail() {
        let b = RetryBudget::new(&RetryPolicy::default(), 0);
        // 10 tokens: failures 1..=4 leave 9..=6 (> 5), the fifth leaves 5, which is not more than half.
        let allowed: Vec<bool> = (0..6).map(|_| b.failure_allows_retry()).collect();
        assert_eq!(allowed, [true, true, true, true, false, false]);
        // Six failures left 4 tokens; 21 successes earn 2.1 back, enough for one more retry (6.1 -> 5.1).
        for _ in 0..21 {
            b.success();
        }
        assert!(b.failure_allows_retry());
        assert!(!b.failure_allows_retry());
    }

    #[test]
    fn budget_outlasts_one_burst_of_calls_in_flight() {
        // 16 calls fail together: all may retry; the next few failures after that stop retries.
        let b = RetryBudget::new(&RetryPolicy::default(), 16);
        assert!((0..16).all(|_| b.failure_allows_retry()));
        assert!((0..5).any(|_| !b.failure_allows_retry()));
    }
}

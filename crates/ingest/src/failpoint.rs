//! Test-only crash injection.
//!
//! When the environment variable `AGENTRY_INGEST_FAILPOINT` is set, the process aborts (no destructors, no
//! database close, like a power cut for everything not yet committed) at a chosen point of an ingest:
//! `NAME` aborts at the first hit of the named point, `NAME:N` at its N-th hit, `*:N` at the N-th hit of any
//! point. The crash-injection test walks N upwards until a run completes. Unset, a failpoint costs one
//! relaxed atomic load after the first call.

use std::sync::{
    OnceLock,
    atomic::{AtomicU64, Ordering},
};

/// The variable that arms the failpoints.
pub const FAILPOINT_ENV: &str = "AGENTRY_INGEST_FAILPOINT";

struct Spec {
    name: String,
    nth: u64,
}

fn spec() -> Option<&'static Spec> {
    static SPEC: OnceLock<Option<Spec>> = OnceLock::new();
    SPEC.get_or_init(|| {
        let raw = std::env::var(FAILPOINT_ENV).ok()?;
        let (name, nth) = match raw.split_once(':') {
            Some((name, n)) => (name.to_owned(), n.parse().ok()?),
            None => (raw, 1),
        };
        Some(Spec { name, nth })
    })
    .as_ref()
}

/// Marks a point where a crash is survivable by design; aborts the process when armed for it.
pub(crate) fn hit(name: &str) {
    static HITS: AtomicU64 = AtomicU64::new(0);
    let Some(spec) = spec() else { return };
    if spec.name != "*" && spec.name != name {
        return;
    }
    if HITS.fetch_add(1, Ordering::Relaxed) + 1 == spec.nth {
        eprintln!("agentry-ingest: failpoint {name} reached, aborting");
        std::process::abort();
    }
}

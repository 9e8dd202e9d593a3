//! Test-only crash injection for the filesystem store's atomic writes.
//!
//! When the environment variable `AGENTRY_CDC_FAILPOINT` is set to `NAME` or `NAME:N`, the process aborts
//! (`std::process::abort`: no destructors, no cleanup, like a crash) at the N-th time (default: the first)
//! an atomic write of `FsStore` reaches the point `NAME`:
//!
//! - `mid-write`: the temporary file holds the first half of the bytes;
//! - `after-temp-write`: the temporary file holds all the bytes and is synced, but is not yet renamed into place.
//!
//! Every atomic write counts (objects, layouts and the store's marker file), in the order the process makes
//! them. This exists so that a test can kill a writer at an exact point instead of racing a signal against it;
//! it is not a configuration knob. Unset, a failpoint costs one `OnceLock` read.

use std::sync::{
    OnceLock,
    atomic::{AtomicU64, Ordering},
};

/// The variable that arms the failpoints.
pub(crate) const FAILPOINT_ENV: &str = "AGENTRY_CDC_FAILPOINT";

#[derive(Debug)]
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

/// Marks a point where a crash must be survivable; aborts the process when armed for it.
pub(crate) fn hit(name: &str) {
    static HITS: AtomicU64 = AtomicU64::new(0);
    let Some(spec) = spec() else { return };
    if spec.name != name {
        return;
    }
    if HITS.fetch_add(1, Ordering::Relaxed) + 1 == spec.nth {
        // The test that arms the failpoint checks for this line, so it knows the abort came from here.
        eprintln!("agentry-cdc: failpoint {name} reached, aborting");
        std::process::abort();
    }
}

//! How many calls may be in flight: starts at four (or the configured concurrency if lower) and doubles after
//! each window of successes up to the configured concurrency (slow start, as in TCP), halves when the server pushes back
//! (`RESOURCE_EXHAUSTED`: BuildGrid, for one, refuses calls beyond its worker count), and grows by one per
//! window of successes back to the configured ceiling (additive increase, multiplicative decrease). As in TCP,
//! it halves at most once per window: pushback on calls that started before the last decrease is the same
//! congestion, already answered. A server's refusal also marks how many calls it took at once (the calls still in
//! flight then); the window grows past that mark four times more slowly, so it settles just under a fixed server
//! limit instead of hitting it again every few windows, yet still finds room that opens later.

use std::sync::Mutex;

use tokio::sync::Notify;

#[derive(Debug)]
pub(crate) struct Window {
    state: Mutex<State>,
    ceiling: usize,
    released: Notify,
}

#[derive(Debug)]
struct State {
    limit: usize,
    in_flight: usize,
    successes: usize,
    /// Counts decreases; a slot remembers the value when it was taken.
    epoch: u64,
    /// The calls in flight at the last pushback: above it, growth is slower.
    mark: usize,
    /// Doubling per window of successes, until the first pushback or the ceiling.
    slow_start: bool,
}

/// Calls allowed in flight before any answer came back. A full 16 at once can exceed what a server takes before
/// any answer shows it (BuildGrid refuses calls beyond its worker count, 10 on two cores), and each refused call
/// waits 50 to 100 ms before its retry; slow start reaches 16 within two windows on a server that takes them.
const INITIAL: usize = 4;

/// A slot in the window, given back when dropped.
#[derive(Debug)]
pub(crate) struct Slot<'a> {
    window: &'a Window,
    epoch: u64,
}

impl Slot<'_> {
    /// The window's decrease count when this slot was taken.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.window.with(|s| s.in_flight -= 1);
        self.window.released.notify_waiters();
    }
}

impl Window {
    pub(crate) fn new(ceiling: usize) -> Self {
        let ceiling = ceiling.max(1);
        Self {
            state: Mutex::new(State {
                limit: ceiling.min(INITIAL),
                in_flight: 0,
                successes: 0,
                epoch: 0,
                mark: ceiling,
                slow_start: ceiling > INITIAL,
            }),
            ceiling,
            released: Notify::new(),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Waits for a slot.
    pub(crate) async fn acquire(&self) -> Slot<'_> {
        loop {
            let released = self.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            let got = self.with(|s| {
                if s.in_flight < s.limit {
                    s.in_flight += 1;
                    Some(s.epoch)
                } else {
                    None
                }
            });
            if let Some(epoch) = got {
                return Slot { window: self, epoch };
            }
            released.await;
        }
    }

    pub(crate) fn success(&self) {
        let grew = self.with(|s| {
            s.successes += 1;
            if s.slow_start {
                if s.successes >= s.limit {
                    s.limit = (2 * s.limit).min(self.ceiling);
                    s.successes = 0;
                    s.slow_start = s.limit < self.ceiling;
                    return true;
                }
                return false;
            }
            let needed = if s.limit >= s.mark { 4 * s.limit } else { s.limit };
            if s.successes >= needed && s.limit < self.ceiling {
                s.limit += 1;
                s.successes = 0;
                return true;
            }
            false
        });
        if grew {
            self.released.notify_waiters();
        }
    }

    /// The server pushed back on a call that held a slot taken at `epoch`.
    pub(crate) fn overloaded(&self, epoch: u64) {
        self.with(|s| {
            if epoch < s.epoch {
                return;
            }
            // The refused call has given its slot back: those still in flight are what the server took.
            s.mark = s.in_flight.max(1);
            s.slow_start = false;
            s.limit = (s.limit / 2).max(1);
            s.successes = 0;
            s.epoch += 1;
        });
    }

    #[cfg(test)]
    fn limit(&self) -> usize {
        self.with(|s| s.limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A window that slow start has grown to its ceiling.
    fn grown(ceiling: usize) -> Window {
        let w = Window::new(ceiling);
        for _ in 0..1000 {
            w.success();
        }
        assert_eq!(w.limit(), ceiling);
        w
    }

    #[test]
    fn starts_small_and_doubles_per_window_until_the_ceiling() {
        let w = Window::new(16);
        assert_eq!(w.limit(), 4);
        for _ in 0..3 {
            w.success();
        }
        assert_eq!(w.limit(), 4);
        w.success();
        assert_eq!(w.limit(), 8);
        for _ in 0..8 {
            w.success();
        }
        assert_eq!(w.limit(), 16);
        // A low ceiling is where it starts.
        assert_eq!(Window::new(2).limit(), 2);
    }

    #[test]
    fn pushback_ends_slow_start() {
        let w = Window::new(16);
        w.with(|s| s.in_flight = 4);
        w.overloaded(0);
        w.with(|s| s.in_flight = 0);
        assert_eq!(w.limit(), 2);
        // From here on, one step per window of successes.
        for _ in 0..2 {
            w.success();
        }
        assert_eq!(w.limit(), 3);
    }

    #[test]
    fn halves_on_pushback_and_grows_back_by_one_per_window() {
        let w = grown(16);
        // Pushback with all sixteen in flight: the mark stays at the ceiling.
        w.with(|s| s.in_flight = 16);
        w.overloaded(0);
        assert_eq!(w.limit(), 8);
        // More pushback on calls from before that decrease changes nothing.
        w.overloaded(0);
        assert_eq!(w.limit(), 8);
        for epoch in 1..5 {
            w.overloaded(epoch);
        }
        w.with(|s| s.in_flight = 0);
        assert_eq!(w.limit(), 1);
        for _ in 0..1 {
            w.success();
        }
        assert_eq!(w.limit(), 2);
        for _ in 0..2 {
            w.success();
        }
        assert_eq!(w.limit(), 3);
        for _ in 0..1000 {
            w.success();
        }
        assert_eq!(w.limit(), 16);
    }

    #[test]
    fn grows_slowly_past_the_level_the_server_refused() {
        // Eleven calls were in flight and the server refused one: ten is what it takes.
        let w = grown(16);
        w.with(|s| s.in_flight = 10);
        w.overloaded(0);
        w.with(|s| s.in_flight = 0);
        assert_eq!(w.limit(), 8);
        // Up to the mark, one window of successes per step: 8 + 9 successes reach 10.
        for _ in 0..(8 + 9) {
            w.success();
        }
        assert_eq!(w.limit(), 10);
        // Past it, four windows per step.
        for _ in 0..39 {
            w.success();
        }
        assert_eq!(w.limit(), 10);
        w.success();
        assert_eq!(w.limit(), 11);
    }

    #[test]
    fn waits_for_a_slot() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            let w = Window::new(2);
            let a = w.acquire().await;
            let _b = w.acquire().await;
            let third = w.acquire();
            tokio::pin!(third);
            assert!(
                tokio::time::timeout(std::time::Duration::from_millis(20), third.as_mut()).await.is_err()
            );
            drop(a);
            let _c = tokio::time::timeout(std::time::Duration::from_secs(5), third)
                .await
                .expect("a slot came free");
        });
    }
}

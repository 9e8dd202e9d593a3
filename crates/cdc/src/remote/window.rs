//! How many calls may be in flight: starts at the configured concurrency, halves when the server pushes back
//! (`RESOURCE_EXHAUSTED`: BuildGrid, for one, refuses calls beyond its worker count), and grows by one per
//! window of successes back to the configured ceiling (additive increase, multiplicative decrease).

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
}

/// A slot in the window, given back when dropped.
#[derive(Debug)]
pub(crate) struct Slot<'a>(&'a Window);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.with(|s| s.in_flight -= 1);
        self.0.released.notify_waiters();
    }
}

impl Window {
    pub(crate) fn new(ceiling: usize) -> Self {
        let ceiling = ceiling.max(1);
        Self {
            state: Mutex::new(State { limit: ceiling, in_flight: 0, successes: 0 }),
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
                    true
                } else {
                    false
                }
            });
            if got {
                return Slot(self);
            }
            released.await;
        }
    }

    pub(crate) fn success(&self) {
        let grew = self.with(|s| {
            s.successes += 1;
            if s.successes >= s.limit && s.limit < self.ceiling {
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

    pub(crate) fn overloaded(&self) {
        self.with(|s| {
            s.limit = (s.limit / 2).max(1);
            s.successes = 0;
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

    #[test]
    fn halves_on_pushback_and_grows_back_by_one_per_window() {
        let w = Window::new(16);
        w.overloaded();
        assert_eq!(w.limit(), 8);
        w.overloaded();
        w.overloaded();
        w.overloaded();
        w.overloaded();
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

//! A hybrid logical clock (Kulkarni et al., 2014).
//!
//! Boats' clocks are wrong. An [`Hlc`] orders events causally (an event is always later than
//! everything its author had seen) while staying close to physical time for display. The
//! physical part is milliseconds since the Unix epoch, passed in by the caller: the core never
//! reads a clock. Nothing is ever rejected for its timestamp: a remote time far in the future
//! only advances the logical part of this clock by a bounded amount (see [`Clock::observe`]).

use serde::{Deserialize, Serialize};

/// How far ahead of our own physical clock a remote timestamp may pull our clock. Beyond this,
/// we keep our clock (the remote event is still accepted and ordered by its own timestamp):
/// one boat with a clock a year ahead must not drag the whole fleet's clocks a year ahead.
pub const MAX_FORWARD_DRIFT_MS: u64 = 24 * 60 * 60 * 1000;

/// A timestamp: physical milliseconds plus a logical counter. Ordered by `(ms, logical)`;
/// ties between authors are broken by event id where an order must be total.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Hlc {
    /// Milliseconds since the Unix epoch (as the author's clock saw it, corrected by HLC).
    pub ms: u64,
    /// Logical counter for events within the same millisecond, or when the clock lags.
    pub logical: u32,
}

impl Hlc {
    /// A timestamp at exactly `ms` with a zero counter.
    pub fn at(ms: u64) -> Self {
        Hlc { ms, logical: 0 }
    }
}

/// One node's clock state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Clock {
    last: Hlc,
}

impl Clock {
    /// A clock that has seen nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The latest timestamp this clock issued or observed.
    pub fn last(&self) -> Hlc {
        self.last
    }

    /// A fresh timestamp for a local event, given the wall clock `now_ms`.
    /// Always strictly greater than every timestamp this clock issued or observed.
    pub fn tick(&mut self, now_ms: u64) -> Hlc {
        self.last = if now_ms > self.last.ms {
            Hlc::at(now_ms)
        } else {
            self.successor(self.last)
        };
        self.last
    }

    /// Takes a remote timestamp into account so that later local events order after it.
    /// A remote time more than [`MAX_FORWARD_DRIFT_MS`] ahead of `now_ms` is ignored for
    /// the clock (not for ordering of that event itself).
    pub fn observe(&mut self, remote: Hlc, now_ms: u64) {
        if remote.ms > now_ms.saturating_add(MAX_FORWARD_DRIFT_MS) {
            return;
        }
        if remote > self.last {
            self.last = remote;
        }
    }

    fn successor(&self, t: Hlc) -> Hlc {
        match t.logical.checked_add(1) {
            Some(logical) => Hlc { ms: t.ms, logical },
            None => Hlc::at(t.ms.saturating_add(1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tick_is_monotonic_when_wall_clock_goes_back() {
        let mut c = Clock::new();
        let a = c.tick(1_000);
        let b = c.tick(500);
        let d = c.tick(1_000);
        assert!(a < b && b < d);
        assert_eq!(b.ms, 1_000);
    }

    #[test]
    fn observe_orders_local_after_remote_but_bounds_far_future() {
        let mut c = Clock::new();
        c.observe(
            Hlc {
                ms: 2_000,
                logical: 5,
            },
            1_000,
        );
        assert!(
            c.tick(1_000)
                > Hlc {
                    ms: 2_000,
                    logical: 5
                }
        );
        let far = Hlc::at(1_000 + MAX_FORWARD_DRIFT_MS + 1);
        let before = c.last();
        c.observe(far, 1_000);
        assert_eq!(c.last(), before);
    }

    proptest! {
        #[test]
        fn ticks_strictly_increase(walls in proptest::collection::vec(0u64..10_000, 1..200),
                                   remotes in proptest::collection::vec((0u64..20_000, 0u32..4), 0..50)) {
            let mut c = Clock::new();
            let mut prev = Hlc::default();
            for (i, w) in walls.iter().enumerate() {
                if let Some((ms, logical)) = remotes.get(i) {
                    c.observe(Hlc { ms: *ms, logical: *logical }, *w);
                }
                let t = c.tick(*w);
                prop_assert!(t > prev);
                prev = t;
            }
        }
    }
}

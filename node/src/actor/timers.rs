//! The actor's timer queue: the sync core's timers ([`OutEvent::SetTimer`]) and the actor's
//! own (join grace, redials, join deadlines), in one ordered map polled with one
//! `sleep_until`.
//!
//! [`OutEvent::SetTimer`]: flotilla_protocol::sync::OutEvent::SetTimer

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use flotilla_protocol::sync;
use libp2p::PeerId;
use tokio::time::Instant;

/// What a timer is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Timer {
    /// A sync core timer.
    Sync(sync::Timer),
    /// The join grace of a peer that was not a member when it connected.
    Grace(PeerId),
    /// Redial static peer `i` of the config.
    Redial(usize),
    /// Wake up a peer discovery found (redial it if disconnected; see `found`).
    Found(PeerId),
    /// Give up join attempt `id`.
    JoinDeadline(u64),
    /// The file service's tick while downloads run (timeouts, new requests).
    Files,
}

/// Pending timers, earliest first. Bounded by what sets them: one per sync timer kind, one
/// per connected peer, one per static peer, one per join attempt, about one per found peer
/// (a wake-up superseded by an earlier one stays queued until it is due, then is ignored).
#[derive(Debug, Default)]
pub(crate) struct Timers {
    queue: BTreeMap<(Instant, u64), Timer>,
    seq: u64,
    /// Sync timers replace a pending one of the same kind.
    sync: HashMap<sync::Timer, (Instant, u64)>,
}

/// How far away "never" is when nothing is pending (the select arm must have a deadline).
const IDLE: Duration = Duration::from_secs(3600);

impl Timers {
    /// Fires `timer` after `after`.
    pub(crate) fn set(&mut self, after: Duration, timer: Timer) {
        let key = (Instant::now() + after, self.seq);
        self.seq += 1;
        if let Timer::Sync(kind) = timer
            && let Some(old) = self.sync.insert(kind, key)
        {
            self.queue.remove(&old);
        }
        self.queue.insert(key, timer);
    }

    /// When the next timer is due (an hour away if none).
    pub(crate) fn next_deadline(&self) -> Instant {
        self.queue
            .keys()
            .next()
            .map_or_else(|| Instant::now() + IDLE, |(at, _)| *at)
    }

    /// Removes and returns the timers due at `now`.
    pub(crate) fn due(&mut self, now: Instant) -> Vec<Timer> {
        let mut out = Vec::new();
        while let Some(entry) = self.queue.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let timer = entry.remove();
            if let Timer::Sync(kind) = &timer {
                self.sync.remove(kind);
            }
            out.push(timer);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_fire_in_order_and_sync_timers_replace() {
        let mut t = Timers::default();
        t.set(Duration::from_secs(5), Timer::Redial(1));
        t.set(Duration::from_secs(1), Timer::Sync(sync::Timer::Resync));
        t.set(Duration::from_secs(3), Timer::Sync(sync::Timer::Resync));
        t.set(Duration::from_secs(2), Timer::JoinDeadline(7));
        assert!(t.due(Instant::now()).is_empty());
        let fired = t.due(Instant::now() + Duration::from_secs(10));
        assert_eq!(
            fired,
            vec![
                Timer::JoinDeadline(7),
                Timer::Sync(sync::Timer::Resync),
                Timer::Redial(1)
            ]
        );
    }
}

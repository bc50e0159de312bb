//! A node operator's figures (`flotilla status [--json]` over the admin socket): per
//! flotilla the events stored, channels, members and boats connected, and for the node its
//! ingest rate and store size. Everything here is O(flotillas + peers): counts come from the
//! store's per-flotilla counters and the ledger in memory, never from a walk of history.
//!
//! The ingest rate counts events accepted (received or local) over the last
//! [`RATE_WINDOW_SECS`] seconds, in one bucket per second (a bounded ring).

use std::collections::VecDeque;

use flotilla_protocol::PublicKey;
use flotilla_protocol::id::FlotillaId;

/// Seconds the ingest rate is averaged over (and buckets kept, at most).
pub const RATE_WINDOW_SECS: u64 = 10;

/// Events accepted per second, over the last [`RATE_WINDOW_SECS`] seconds.
#[derive(Debug, Default, Clone)]
pub struct IngestMeter {
    /// `(second, events accepted in it)`, oldest first, at most [`RATE_WINDOW_SECS`].
    buckets: VecDeque<(u64, u64)>,
    /// Events accepted since the node started.
    total: u64,
}

impl IngestMeter {
    /// Counts `n` events accepted at `now_ms` (ms since the Unix epoch).
    pub fn add(&mut self, now_ms: u64, n: u64) {
        let sec = now_ms / 1000;
        self.total += n;
        match self.buckets.back_mut() {
            Some((s, count)) if *s == sec => *count += n,
            _ => self.buckets.push_back((sec, n)),
        }
        self.expire(sec);
    }

    fn expire(&mut self, sec: u64) {
        while let Some((s, _)) = self.buckets.front() {
            if s + RATE_WINDOW_SECS <= sec || self.buckets.len() > RATE_WINDOW_SECS as usize {
                self.buckets.pop_front();
            } else {
                break;
            }
        }
    }

    /// Events per second over the window ending at `now_ms`.
    pub fn rate(&self, now_ms: u64) -> f64 {
        let sec = now_ms / 1000;
        let n: u64 = self
            .buckets
            .iter()
            .filter(|(s, _)| s + RATE_WINDOW_SECS > sec && *s <= sec)
            .map(|(_, c)| c)
            .sum();
        n as f64 / RATE_WINDOW_SECS as f64
    }

    /// Events accepted since the node started.
    pub fn total(&self) -> u64 {
        self.total
    }
}

/// The node's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeStatus {
    /// The node key.
    pub node: PublicKey,
    /// The node's name.
    pub name: String,
    /// Events accepted per second over the last [`RATE_WINDOW_SECS`] s.
    pub ingest_rate: f64,
    /// Events accepted since the node started.
    pub ingested: u64,
    /// Bytes the store takes on disk.
    pub store_bytes: u64,
    /// Boats connected (any flotilla).
    pub peers_connected: usize,
    /// One entry per followed flotilla.
    pub flotillas: Vec<FlotillaStatus>,
}

/// One flotilla's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlotillaStatus {
    /// Its id.
    pub id: FlotillaId,
    /// Its name (empty while joining).
    pub name: String,
    /// Is this node an active member?
    pub member: bool,
    /// Events stored and synced (revoked ones left out).
    pub events: usize,
    /// Channels (the control channel left out).
    pub channels: usize,
    /// Active users.
    pub members: usize,
    /// Active boats (nodes).
    pub boats: usize,
    /// Active boats other than this one with a live connection.
    pub boats_connected: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_averages_the_window_and_forgets_older_seconds() {
        let mut m = IngestMeter::default();
        assert!(m.rate(0).abs() < f64::EPSILON);
        for s in 0..5u64 {
            m.add(s * 1000 + 10, 200);
            m.add(s * 1000 + 900, 100);
        }
        assert!((m.rate(4_500) - 150.0).abs() < 1e-9, "{}", m.rate(4_500));
        assert_eq!(m.total(), 1500);
        // Ten seconds later the window holds none of it.
        assert!(m.rate(14_000).abs() < f64::EPSILON);
        m.add(100_000, 7);
        assert!(m.buckets.len() <= RATE_WINDOW_SECS as usize);
        assert!((m.rate(100_000) - 0.7).abs() < 1e-9);
        assert_eq!(m.total(), 1507);
    }

    #[test]
    fn the_ring_stays_bounded_whatever_the_clock_does() {
        let mut m = IngestMeter::default();
        // A clock that jumps back and forth must not grow the ring.
        for i in 0..1000u64 {
            m.add((i % 37) * 1000 + (i * 7919) % 100_000, 1);
            assert!(m.buckets.len() <= RATE_WINDOW_SECS as usize + 1);
        }
        assert_eq!(m.total(), 1000);
    }
}

//! [`FoundPeers`]: when to dial the peers discovery found, pure (no swarm, `now` and
//! "connected?" are arguments), so the rules are unit-tested without a network.
//!
//! Rules (see the module docs of `crate::discovery` for why):
//! - when a peer is found (or found again) and we are not connected to it, the smaller peer id
//!   ([`discovery::should_dial`]) dials at once; the larger one waits [`FALLBACK`] and dials
//!   then if it is still not connected, so a one-sided mDNS view still connects;
//! - while a found peer is disconnected it is redialled at its known addresses with a
//!   doubling backoff ([`REDIAL_INITIAL`] up to [`REDIAL_MAX`], the larger id [`FALLBACK`]
//!   later). After a link cut the boats that kept their link see no mDNS event at all (their
//!   caches outlive the cut), so this redial is what brings them back together;
//! - the backoff restarts when the peer is found again or becomes welcome (a member of a
//!   shared flotilla), so an outsider the join grace keeps closing is dialled less and less;
//! - `Lost` forgets the peer: no more redials (its addresses stay in the peer table);
//! - at most [`MAX_FOUND`] peers are remembered; the one found longest ago goes first.
//!
//! Each peer has at most one wake-up that counts (`due`); the actor's timer queue may hold
//! older ones, which [`FoundPeers::wake`] ignores.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use libp2p::{Multiaddr, PeerId};

use super::{REDIAL_INITIAL, REDIAL_MAX};
use crate::discovery;

/// How long the larger peer id waits before dialling a found peer itself.
pub(crate) const FALLBACK: Duration = Duration::from_secs(3);
/// Found peers remembered, at most (as many as discovery tracks).
pub(crate) const MAX_FOUND: usize = discovery::tracker::MAX_TRACKED_PEERS;

/// What the actor should do now.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Dial the peer at these addresses now.
    pub(crate) dial: Option<Vec<Multiaddr>>,
    /// Wake this peer up ([`FoundPeers::wake`]) after this long.
    pub(crate) wake_after: Option<Duration>,
}

#[derive(Debug)]
struct FoundPeer {
    addrs: Vec<Multiaddr>,
    backoff: Duration,
    due: Option<Instant>,
    found_at: Instant,
}

/// The peers discovery found and whether to dial them. See the module docs.
#[derive(Debug)]
pub(crate) struct FoundPeers {
    me: String,
    peers: HashMap<PeerId, FoundPeer>,
}

impl FoundPeers {
    /// The table of node `me`.
    pub(crate) fn new(me: PeerId) -> Self {
        Self {
            me: me.to_base58(),
            peers: HashMap::new(),
        }
    }

    fn dials_first(&self, peer: &PeerId) -> bool {
        discovery::should_dial(&self.me, &peer.to_base58())
    }

    /// How many peers are remembered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.peers.len()
    }

    /// `peer` was found at `addrs`.
    pub(crate) fn found(
        &mut self,
        peer: PeerId,
        addrs: Vec<Multiaddr>,
        connected: bool,
        now: Instant,
    ) -> Plan {
        if addrs.is_empty() || peer.to_base58() == self.me {
            return Plan::default();
        }
        if !self.peers.contains_key(&peer) && self.peers.len() >= MAX_FOUND {
            self.evict_oldest();
        }
        let entry = self.peers.entry(peer).or_insert(FoundPeer {
            addrs: Vec::new(),
            backoff: REDIAL_INITIAL,
            due: None,
            found_at: now,
        });
        entry.addrs = addrs;
        entry.backoff = REDIAL_INITIAL;
        entry.found_at = now;
        if connected {
            return Plan::default();
        }
        if self.dials_first(&peer) {
            let dial = self.peers.get(&peer).map(|p| p.addrs.clone());
            let wake_after = self.arm(&peer, REDIAL_INITIAL, now);
            Plan { dial, wake_after }
        } else {
            let wake_after = self.arm(&peer, FALLBACK, now);
            Plan {
                dial: None,
                wake_after,
            }
        }
    }

    /// The addresses `peer` was last found at (empty if not remembered).
    pub(crate) fn addrs(&self, peer: &PeerId) -> Vec<Multiaddr> {
        self.peers
            .get(peer)
            .map(|p| p.addrs.clone())
            .unwrap_or_default()
    }

    /// Discovery lost `peer`: stop redialling it.
    pub(crate) fn lost(&mut self, peer: &PeerId) {
        self.peers.remove(peer);
    }

    /// `peer` is welcome (a member of a shared flotilla): its next redial comes quickly.
    pub(crate) fn welcome(&mut self, peer: &PeerId) {
        if let Some(p) = self.peers.get_mut(peer) {
            p.backoff = REDIAL_INITIAL;
        }
    }

    /// Our last connection with `peer` closed: redial it after its backoff.
    pub(crate) fn disconnected(&mut self, peer: &PeerId, now: Instant) -> Plan {
        let Some(p) = self.peers.get(peer) else {
            return Plan::default();
        };
        let mut after = p.backoff;
        if !self.dials_first(peer) {
            after += FALLBACK;
        }
        Plan {
            dial: None,
            wake_after: self.arm(peer, after, now),
        }
    }

    /// A wake-up of `peer` is due: dial it if still disconnected, and check again after the
    /// (doubled) backoff.
    pub(crate) fn wake(&mut self, peer: &PeerId, connected: bool, now: Instant) -> Plan {
        let Some(p) = self.peers.get_mut(peer) else {
            return Plan::default();
        };
        if p.due.is_none_or(|due| due > now) {
            return Plan::default(); // superseded by an earlier or later wake-up
        }
        p.due = None;
        if connected {
            return Plan::default();
        }
        let after = p.backoff;
        p.backoff = (p.backoff * 2).min(REDIAL_MAX);
        let dial = Some(p.addrs.clone());
        Plan {
            dial,
            wake_after: self.arm(peer, after, now),
        }
    }

    /// Makes `peer` due `after` from `now`, unless it is due sooner already.
    fn arm(&mut self, peer: &PeerId, after: Duration, now: Instant) -> Option<Duration> {
        let p = self.peers.get_mut(peer)?;
        let at = now + after;
        if p.due.is_some_and(|due| due <= at) {
            return None;
        }
        p.due = Some(at);
        Some(after)
    }

    fn evict_oldest(&mut self) {
        let oldest = self
            .peers
            .iter()
            .min_by_key(|(_, p)| p.found_at)
            .map(|(k, _)| *k);
        if let Some(k) = oldest {
            self.peers.remove(&k);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Two peer ids, the smaller first (as `should_dial` compares them).
    fn pair() -> (PeerId, PeerId) {
        let (a, b) = (PeerId::random(), PeerId::random());
        if a.to_base58() < b.to_base58() {
            (a, b)
        } else {
            (b, a)
        }
    }

    fn addr(peer: PeerId) -> Vec<Multiaddr> {
        let a: Multiaddr = "/ip4/10.0.0.2/tcp/7171".parse().unwrap();
        vec![a.with_p2p(peer).unwrap()]
    }

    #[test]
    fn the_smaller_id_dials_at_once_the_larger_after_the_fallback() {
        let (small, large) = pair();
        let now = Instant::now();
        let mut s = FoundPeers::new(small);
        let plan = s.found(large, addr(large), false, now);
        assert_eq!(plan.dial, Some(addr(large)));
        assert_eq!(plan.wake_after, Some(REDIAL_INITIAL));

        let mut l = FoundPeers::new(large);
        let plan = l.found(small, addr(small), false, now);
        assert_eq!(plan.dial, None);
        assert_eq!(plan.wake_after, Some(FALLBACK));
        // Still not connected at the fallback (a one-sided view): the larger id dials.
        let plan = l.wake(&small, false, now + FALLBACK);
        assert_eq!(plan.dial, Some(addr(small)));
        // Connected by then: nothing to do.
        let mut l = FoundPeers::new(large);
        l.found(small, addr(small), false, now);
        assert_eq!(l.wake(&small, true, now + FALLBACK), Plan::default());
    }

    #[test]
    fn connected_self_and_empty_finds_dial_nothing() {
        let (a, b) = pair();
        let now = Instant::now();
        let mut t = FoundPeers::new(a);
        assert_eq!(t.found(b, addr(b), true, now), Plan::default());
        assert_eq!(t.found(a, addr(a), false, now), Plan::default());
        assert_eq!(t.found(b, vec![], false, now), Plan::default());
        assert_eq!(
            t.len(),
            1,
            "b is remembered for redials even though connected"
        );
    }

    #[test]
    fn a_disconnected_peer_is_redialled_with_a_doubling_bounded_backoff() {
        let (a, b) = pair();
        let mut t = FoundPeers::new(a);
        let mut now = Instant::now();
        t.found(b, addr(b), true, now);
        let plan = t.disconnected(&b, now);
        assert_eq!(plan.wake_after, Some(REDIAL_INITIAL));
        let mut waits = Vec::new();
        let mut after = plan.wake_after.unwrap();
        for _ in 0..12 {
            now += after;
            let plan = t.wake(&b, false, now);
            assert_eq!(plan.dial, Some(addr(b)), "redials the known address");
            after = plan.wake_after.unwrap();
            waits.push(after.as_secs());
        }
        assert_eq!(&waits[..4], &[1, 2, 4, 8]);
        assert_eq!(*waits.last().unwrap(), REDIAL_MAX.as_secs());
        // Back, then welcome: the backoff restarts.
        now += after;
        assert_eq!(t.wake(&b, true, now), Plan::default());
        t.welcome(&b);
        assert_eq!(t.disconnected(&b, now).wake_after, Some(REDIAL_INITIAL));
    }

    #[test]
    fn the_larger_id_redials_a_fallback_later() {
        let (a, b) = pair();
        let now = Instant::now();
        let mut t = FoundPeers::new(b);
        t.found(a, addr(a), true, now);
        assert_eq!(
            t.disconnected(&a, now).wake_after,
            Some(REDIAL_INITIAL + FALLBACK)
        );
    }

    #[test]
    fn stale_and_early_wake_ups_are_ignored() {
        let (a, b) = pair();
        let now = Instant::now();
        let mut t = FoundPeers::new(a);
        t.found(b, addr(b), true, now);
        // Disconnected twice in a row: one wake-up counts.
        assert!(t.disconnected(&b, now).wake_after.is_some());
        assert_eq!(t.disconnected(&b, now).wake_after, None);
        assert_eq!(t.wake(&b, false, now), Plan::default(), "too early");
        assert!(t.wake(&b, false, now + REDIAL_INITIAL).dial.is_some());
        assert_eq!(
            t.wake(&b, false, now + REDIAL_INITIAL),
            Plan::default(),
            "the same wake-up twice"
        );
    }

    #[test]
    fn found_again_restarts_the_backoff_and_lost_stops_the_redials() {
        let (a, b) = pair();
        let mut now = Instant::now();
        let mut t = FoundPeers::new(a);
        t.found(b, addr(b), true, now);
        t.disconnected(&b, now);
        for _ in 0..5 {
            now += Duration::from_secs(40);
            t.wake(&b, false, now);
        }
        // Rediscovered (a boat coming back): dial now, check again soon.
        let plan = t.found(b, addr(b), false, now);
        assert!(plan.dial.is_some());
        assert_eq!(plan.wake_after, Some(REDIAL_INITIAL));
        t.lost(&b);
        assert_eq!(
            t.wake(&b, false, now + REDIAL_MAX),
            Plan::default(),
            "lost: no more redials"
        );
        assert_eq!(t.disconnected(&b, now), Plan::default());
    }

    #[test]
    fn the_table_is_bounded() {
        let me = PeerId::random();
        let mut t = FoundPeers::new(me);
        let t0 = Instant::now();
        let first = PeerId::random();
        t.found(first, addr(first), true, t0);
        for i in 0..MAX_FOUND {
            let p = PeerId::random();
            t.found(p, addr(p), true, t0 + Duration::from_millis(i as u64 + 1));
        }
        assert_eq!(t.len(), MAX_FOUND);
        assert_eq!(t.disconnected(&first, t0), Plan::default(), "evicted");
    }
}

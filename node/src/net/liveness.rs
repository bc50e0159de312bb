//! [`Liveness`]: which connections to close, pure (no swarm; `now` is an argument), so the
//! rules are unit-tested without a network.
//!
//! A boat's Wi-Fi drops without a goodbye: its TCP connections stay "established" on both
//! ends, with nothing crossing them, until TCP gives up (many minutes). libp2p's ping only
//! reports failures; it closes nothing. Two rules close such connections:
//!
//! - **Missed pings.** A connection whose pings fail [`super::Timeouts::missed_pings`] times
//!   in a row (libp2p's ping keeps the first failure of a run to itself, so this counts the
//!   *reported* ones) is closed. Each failure takes one ping interval plus one ping timeout,
//!   so a dead path is closed about `(missed + 1) × (interval + timeout)` after its last
//!   answered ping: ~9 s on `lan`, ~75 s on `halow` (see [`super::LAN`], [`super::HALOW`]).
//! - **The newest path wins.** When a new connection to a peer is established, its
//!   handshake (TCP, Noise, Yamux) has just crossed the path: it works now. Every other
//!   connection to that peer established more than [`SIMULTANEOUS`] before it is closed
//!   (the old one may be a dead path, and libp2p spreads requests over all connections).
//!   Connections established within [`SIMULTANEOUS`] of each other (both boats dialling at
//!   once) are all kept: each end sees them in its own order, so closing "the older" could
//!   close a different one on each end and leave none.
//!
//! Both ends apply the same rules, so a connection closed on one end is also closed on the
//! other (by its own pings) even when the close itself never crosses the dead path.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use libp2p::multiaddr::Protocol;
use libp2p::swarm::ConnectionId;
use libp2p::{Multiaddr, PeerId};

/// Connections to one peer established within this long of each other are all kept.
pub const SIMULTANEOUS: Duration = Duration::from_secs(2);

/// Connections tracked at most (bounded like the swarm's own connection count): beyond it,
/// new connections are not tracked (their pings are not counted) rather than growing the map.
pub const MAX_TRACKED_CONNECTIONS: usize = 4096;

#[derive(Debug, Clone)]
struct Conn {
    peer: PeerId,
    ip: Option<IpAddr>,
    established: Instant,
    failures: u32,
}

/// The live connections and their missed pings. See the module docs.
#[derive(Debug)]
pub struct Liveness {
    missed_pings: u32,
    conns: HashMap<ConnectionId, Conn>,
}

impl Liveness {
    /// Closes a connection after `missed_pings` reported ping failures in a row (at least 1).
    pub fn new(missed_pings: u32) -> Self {
        Self {
            missed_pings: missed_pings.max(1),
            conns: HashMap::new(),
        }
    }

    /// Connection `conn` to `peer`, whose remote end is `remote`, was established at `now`.
    /// Returns the older connections to `peer` to close (see "the newest path wins").
    pub fn established(
        &mut self,
        peer: PeerId,
        conn: ConnectionId,
        remote: &Multiaddr,
        now: Instant,
    ) -> Vec<ConnectionId> {
        let stale: Vec<ConnectionId> = self
            .conns
            .iter()
            .filter(|(_, c)| c.peer == peer && c.established + SIMULTANEOUS < now)
            .map(|(id, _)| *id)
            .collect();
        if self.conns.len() < MAX_TRACKED_CONNECTIONS {
            let c = Conn {
                peer,
                ip: ip_of(remote),
                established: now,
                failures: 0,
            };
            self.conns.insert(conn, c);
        }
        stale
    }

    /// Connection `conn` closed.
    pub fn closed(&mut self, conn: ConnectionId) {
        self.conns.remove(&conn);
    }

    /// A ping on `conn` was answered (`ok`) or failed. Returns `true` when `conn` missed too
    /// many pings in a row and should be closed.
    pub fn ping(&mut self, conn: ConnectionId, ok: bool) -> bool {
        let Some(c) = self.conns.get_mut(&conn) else {
            return false;
        };
        if ok {
            c.failures = 0;
            return false;
        }
        c.failures += 1;
        c.failures >= self.missed_pings
    }

    /// The remote IP addresses of our connections to `peer`.
    pub fn ips(&self, peer: &PeerId) -> Vec<IpAddr> {
        self.conns
            .values()
            .filter(|c| c.peer == *peer)
            .filter_map(|c| c.ip)
            .collect()
    }
}

/// The IP address of a multiaddr (`/ip4/…` or `/ip6/…`), if it has one.
pub fn ip_of(addr: &Multiaddr) -> Option<IpAddr> {
    addr.iter().find_map(|p| match p {
        Protocol::Ip4(ip) => Some(IpAddr::V4(ip)),
        Protocol::Ip6(ip) => Some(IpAddr::V6(ip)),
        _ => None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn addr(s: &str) -> Multiaddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_connection_is_closed_after_the_missed_pings_only() {
        let mut l = Liveness::new(2);
        let (peer, c) = (PeerId::random(), ConnectionId::new_unchecked(1));
        let now = Instant::now();
        assert!(
            l.established(peer, c, &addr("/ip4/10.0.0.1/tcp/1"), now)
                .is_empty()
        );
        assert!(!l.ping(c, false), "one miss is tolerated");
        assert!(!l.ping(c, true), "an answer resets the count");
        assert!(!l.ping(c, false));
        assert!(l.ping(c, false), "two misses in a row close it");
        l.closed(c);
        assert!(!l.ping(c, false), "a closed connection is forgotten");
    }

    #[test]
    fn the_newest_path_closes_older_ones_but_not_simultaneous_ones() {
        let mut l = Liveness::new(3);
        let peer = PeerId::random();
        let other = PeerId::random();
        let t0 = Instant::now();
        let (old, twin, fresh, elsewhere) = (
            ConnectionId::new_unchecked(1),
            ConnectionId::new_unchecked(2),
            ConnectionId::new_unchecked(3),
            ConnectionId::new_unchecked(4),
        );
        l.established(peer, old, &addr("/ip4/10.77.1.2/tcp/7171"), t0);
        l.established(other, elsewhere, &addr("/ip4/10.77.1.3/tcp/7171"), t0);
        // Both ends dialled at once: both connections stay.
        let t1 = t0 + Duration::from_millis(500);
        assert!(
            l.established(peer, twin, &addr("/ip4/10.77.1.2/tcp/4000"), t1)
                .is_empty()
        );
        // Minutes later, a new path: the two old connections go, the other peer's stays.
        let t2 = t0 + Duration::from_secs(120);
        let mut stale = l.established(peer, fresh, &addr("/ip4/10.78.1.2/tcp/7171"), t2);
        stale.sort_by_key(|c| format!("{c:?}"));
        assert_eq!(stale, vec![old, twin]);
        let ips = l.ips(&peer);
        assert!(ips.contains(&"10.78.1.2".parse().unwrap()) && ips.len() == 3);
        assert_eq!(l.ips(&other), vec!["10.77.1.3".parse::<IpAddr>().unwrap()]);
    }

    #[test]
    fn ips_come_from_ip4_and_ip6_multiaddrs() {
        assert_eq!(
            ip_of(&addr("/ip6/fe80::1/tcp/1")),
            Some("fe80::1".parse().unwrap())
        );
        assert_eq!(ip_of(&addr("/dns4/example.org/tcp/1")), None);
    }
}

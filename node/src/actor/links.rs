//! Following the boats' links: the actor's side of [`crate::net::liveness`].
//!
//! - every connection is tracked; one that misses its pings is closed, and a new connection
//!   to a peer closes the older ones (the newest path works: its handshake just crossed it);
//! - a peer discovery finds at an address we are not connected through, and did not
//!   advertise before (a new hotspot, a cable, a HaLow dongle, a new DHCP lease), is dialled
//!   even while an older connection exists: the old one may be a dead path nobody closed;
//! - a peer that stays connected while one of its connections opens or closes is greeted
//!   again at once ([`InEvent::PeerUp`]: a Hello per shared flotilla), so what was written
//!   while the old path was dead crosses as soon as the new one exists, not at the next
//!   periodic Hello.

use std::net::IpAddr;

use libp2p::core::ConnectedPoint;
use libp2p::swarm::ConnectionId;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::{Multiaddr, PeerId, ping};

use super::Actor;
use crate::net::{self, liveness};
use flotilla_protocol::sync::InEvent;

impl Actor {
    /// A connection opened: track it and close the older connections to the same peer.
    pub(super) fn link_up(&mut self, peer: PeerId, conn: ConnectionId, point: &ConnectedPoint) {
        let remote = point.get_remote_address();
        let now = std::time::Instant::now();
        for stale in self.liveness.established(peer, conn, remote, now) {
            tracing::info!(%peer, %remote, "a newer connection replaces an older one");
            self.swarm.close_connection(stale);
        }
    }

    /// A connection closed.
    pub(super) fn link_down(&mut self, conn: ConnectionId) {
        self.liveness.closed(conn);
    }

    /// One of `peer`'s connections opened or closed while others stay: greet it again at
    /// once (catch-up after any reconnection).
    pub(super) fn regreet(&mut self, peer: &PeerId) {
        if let Some(key) = net::node_key(peer) {
            self.drive(InEvent::PeerUp(key));
        }
    }

    /// A ping answered or missed; too many missed in a row close the connection.
    pub(super) fn on_ping(&mut self, ev: ping::Event) {
        let ok = ev.result.is_ok();
        if self.liveness.ping(ev.connection, ok) {
            tracing::info!(peer = %ev.peer, "closing a connection that missed its pings");
            self.swarm.close_connection(ev.connection);
        }
    }

    /// Discovery found connected `peer` at `addrs` (it advertised `before` until now): dial
    /// the new paths, even though a connection exists.
    pub(super) fn dial_new_paths(
        &mut self,
        peer: PeerId,
        before: &[Multiaddr],
        addrs: &[Multiaddr],
    ) {
        let fresh = new_paths(addrs, before, &self.liveness.ips(&peer));
        if fresh.is_empty() {
            return;
        }
        tracing::info!(%peer, addrs = ?fresh, "dialling a connected peer at a new address");
        let opts = DialOpts::peer_id(peer)
            .addresses(fresh)
            .condition(PeerCondition::Always)
            .build();
        if let Err(e) = self.swarm.dial(opts) {
            tracing::debug!(%peer, %e, "cannot dial a new path");
        }
    }
}

/// The addresses of `found` on an IP that we are not connected through (`via`) and that the
/// peer did not advertise `before`.
pub(crate) fn new_paths(
    found: &[Multiaddr],
    before: &[Multiaddr],
    via: &[IpAddr],
) -> Vec<Multiaddr> {
    let known: Vec<IpAddr> = before.iter().filter_map(liveness::ip_of).collect();
    found
        .iter()
        .filter(|a| liveness::ip_of(a).is_some_and(|ip| !via.contains(&ip) && !known.contains(&ip)))
        .cloned()
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn addrs(list: &[&str]) -> Vec<Multiaddr> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn only_new_unused_addresses_are_new_paths() {
        let lan = "/ip4/10.77.1.2/tcp/7171";
        let hotspot = "/ip4/10.78.1.2/tcp/7171";
        let via: Vec<IpAddr> = vec!["10.77.1.2".parse().unwrap()];
        // The peer now also advertises a hotspot address: dial it.
        assert_eq!(
            new_paths(&addrs(&[lan, hotspot]), &addrs(&[lan]), &via),
            addrs(&[hotspot])
        );
        // Lost and found again (the entry was forgotten): the LAN one is in use, not new.
        assert_eq!(
            new_paths(&addrs(&[lan, hotspot]), &[], &via),
            addrs(&[hotspot])
        );
        // Advertised before (a multi-homed boat re-announced): no churn.
        assert!(new_paths(&addrs(&[lan, hotspot]), &addrs(&[lan, hotspot]), &via).is_empty());
        assert!(new_paths(&addrs(&[lan]), &[], &via).is_empty());
    }
}

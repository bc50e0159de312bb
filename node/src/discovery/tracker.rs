//! [`Tracker`]: turns mdns-sd [`ServiceEvent`]s into [`DiscoveryEvent`]s, pure (no IO, `now`
//! is an argument), so the dedupe rules are unit-tested without a network.
//!
//! Rules:
//! - a resolved service without a `peer` TXT property, or with an empty address set (mdns-sd
//!   #327), is ignored;
//! - our own peer id is ignored (our own service shows up in our own browse);
//! - a peer is forwarded when first seen, when its address set changes (mdns-sd resolves an
//!   instance several times as IPv4 and IPv6 records arrive, #391), or when the last forward is
//!   older than the re-forward interval;
//! - `ServiceRemoved` of an instance we forwarded gives [`DiscoveryEvent::Lost`] and forgets the
//!   peer, so that its next resolution is forwarded again;
//! - at most [`MAX_TRACKED_PEERS`] peers are remembered; the least recently forwarded one is
//!   forgotten to make room (it is forwarded again if it resolves again).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, SocketAddrV6};
use std::time::{Duration, Instant};

use mdns_sd::{ResolvedService, ScopedIp, ServiceEvent};

use super::{Discovered, DiscoveryEvent, TXT_PEER};

/// How many peers the tracker remembers. A flotilla is a few dozen boats; this bounds the
/// memory an mDNS-flooding stranger on the same Wi-Fi can make us use.
pub const MAX_TRACKED_PEERS: usize = 256;

/// What the tracker remembers of a forwarded peer.
#[derive(Debug, Clone)]
struct Seen {
    /// The mDNS instance full name the peer was resolved under.
    fullname: String,
    /// The address set last forwarded (canonical order, see [`socket_addrs`]).
    addrs: Vec<SocketAddr>,
    /// When it was last forwarded.
    forwarded_at: Instant,
}

/// The dedupe state of one browse (see the module docs).
#[derive(Debug)]
pub struct Tracker {
    me: String,
    reforward_after: Duration,
    peers: HashMap<String, Seen>,
}

impl Tracker {
    /// A tracker for the node whose peer id is `me`, forwarding an unchanged peer again after
    /// `reforward_after`.
    pub fn new(me: impl Into<String>, reforward_after: Duration) -> Self {
        Self {
            me: me.into(),
            reforward_after,
            peers: HashMap::new(),
        }
    }

    /// Handles one mdns-sd event; returns the event to forward, if any.
    ///
    /// The caller must call [`Tracker::forget`] if it could not deliver a
    /// [`DiscoveryEvent::Discovered`], so that the peer is forwarded at its next resolution.
    pub fn on_service_event(&mut self, ev: &ServiceEvent, now: Instant) -> Option<DiscoveryEvent> {
        match ev {
            ServiceEvent::ServiceResolved(info) => self.on_resolved(info, now),
            ServiceEvent::ServiceRemoved(_, fullname) => self.on_removed(fullname),
            _ => None,
        }
    }

    /// Forgets `peer_id`: its next resolution is forwarded even if unchanged.
    pub fn forget(&mut self, peer_id: &str) {
        self.peers.remove(peer_id);
    }

    /// How many peers are remembered.
    pub fn len(&self) -> usize {
        self.peers.len()
    }

    /// Whether no peer is remembered.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    fn on_resolved(&mut self, info: &ResolvedService, now: Instant) -> Option<DiscoveryEvent> {
        let peer_id = info.get_property_val_str(TXT_PEER)?;
        if peer_id.is_empty() || peer_id == self.me {
            return None;
        }
        let addrs = socket_addrs(info);
        if addrs.is_empty() {
            return None;
        }
        if let Some(seen) = self.peers.get(peer_id)
            && seen.addrs == addrs
            && now.saturating_duration_since(seen.forwarded_at) < self.reforward_after
        {
            return None;
        }
        if !self.peers.contains_key(peer_id) && self.peers.len() >= MAX_TRACKED_PEERS {
            self.evict_oldest();
        }
        let seen = Seen {
            fullname: info.get_fullname().to_owned(),
            addrs: addrs.clone(),
            forwarded_at: now,
        };
        self.peers.insert(peer_id.to_owned(), seen);
        Some(DiscoveryEvent::Discovered(Discovered {
            peer_id: peer_id.to_owned(),
            addrs,
            seen_at: now,
        }))
    }

    fn on_removed(&mut self, fullname: &str) -> Option<DiscoveryEvent> {
        let peer_id = self
            .peers
            .iter()
            .find(|(_, seen)| seen.fullname.eq_ignore_ascii_case(fullname))
            .map(|(peer_id, _)| peer_id.clone())?;
        self.peers.remove(&peer_id);
        Some(DiscoveryEvent::Lost { peer_id })
    }

    fn evict_oldest(&mut self) {
        let oldest = self
            .peers
            .iter()
            .min_by_key(|(_, seen)| seen.forwarded_at)
            .map(|(peer_id, _)| peer_id.clone());
        if let Some(peer_id) = oldest {
            self.peers.remove(&peer_id);
        }
    }
}

/// The addresses of a resolved service with its port, in a canonical order: IPv4 before IPv6,
/// and within each family non-loopback before loopback, then by address. IPv6 link-local
/// addresses carry the interface index they were seen on as scope id.
pub fn socket_addrs(info: &ResolvedService) -> Vec<SocketAddr> {
    let port = info.get_port();
    let mut addrs: Vec<SocketAddr> = info
        .get_addresses()
        .iter()
        .map(|ip| socket_addr(ip, port))
        .collect();
    addrs.sort_by_key(|a| (a.is_ipv6(), a.ip().is_loopback(), *a));
    addrs.dedup();
    addrs
}

fn socket_addr(ip: &ScopedIp, port: u16) -> SocketAddr {
    match (ip, ip.to_ip_addr()) {
        (ScopedIp::V6(v6), IpAddr::V6(addr)) if is_unicast_link_local(&addr) => {
            SocketAddr::V6(SocketAddrV6::new(addr, port, 0, v6.scope_id().index))
        }
        (_, addr) => SocketAddr::new(addr, port),
    }
}

/// `Ipv6Addr::is_unicast_link_local` (fe80::/10), spelled out for our MSRV.
fn is_unicast_link_local(addr: &std::net::Ipv6Addr) -> bool {
    (addr.segments()[0] & 0xffc0) == 0xfe80
}

#[cfg(test)]
mod tests {
    use super::*;
    use mdns_sd::ServiceInfo;

    const TTL: Duration = Duration::from_secs(60);

    fn resolved(instance: &str, peer: &str, ips: &str, port: u16) -> ServiceEvent {
        let props = [(TXT_PEER, peer), ("v", "1")];
        let info = ServiceInfo::new(
            "_flotilla._udp.local.",
            instance,
            "host.local.",
            ips,
            port,
            &props[..],
        )
        .expect("valid service info");
        ServiceEvent::ServiceResolved(Box::new(info.as_resolved_service()))
    }

    fn removed(instance: &str) -> ServiceEvent {
        ServiceEvent::ServiceRemoved(
            "_flotilla._udp.local.".into(),
            format!("{instance}._flotilla._udp.local."),
        )
    }

    fn discovered(ev: Option<DiscoveryEvent>) -> Discovered {
        match ev {
            Some(DiscoveryEvent::Discovered(d)) => d,
            other => panic!("expected Discovered, got {other:?}"),
        }
    }

    #[test]
    fn first_resolution_is_forwarded_with_v4_first() {
        let mut t = Tracker::new("me", TTL);
        let now = Instant::now();
        let ev = resolved("b", "them", "fe80::1,127.0.0.1,10.0.0.2", 7171);
        let d = discovered(t.on_service_event(&ev, now));
        assert_eq!(d.peer_id, "them");
        let addrs: Vec<String> = d.addrs.iter().map(ToString::to_string).collect();
        assert_eq!(addrs, ["10.0.0.2:7171", "127.0.0.1:7171", "[fe80::1]:7171"]);
        assert_eq!(d.seen_at, now);
    }

    #[test]
    fn own_peer_id_is_ignored() {
        let mut t = Tracker::new("me", TTL);
        let ev = resolved("a", "me", "10.0.0.1", 7171);
        assert!(t.on_service_event(&ev, Instant::now()).is_none());
        assert!(t.is_empty());
    }

    #[test]
    fn service_without_peer_property_is_ignored() {
        let mut t = Tracker::new("me", TTL);
        let props = [("v", "1")];
        let info = ServiceInfo::new(
            "_flotilla._udp.local.",
            "x",
            "x.local.",
            "10.0.0.9",
            7171,
            &props[..],
        )
        .expect("valid service info");
        let ev = ServiceEvent::ServiceResolved(Box::new(info.as_resolved_service()));
        assert!(t.on_service_event(&ev, Instant::now()).is_none());
    }

    #[test]
    fn service_without_addresses_is_ignored() {
        let mut t = Tracker::new("me", TTL);
        let ev = resolved("b", "them", "", 7171);
        assert!(t.on_service_event(&ev, Instant::now()).is_none());
    }

    #[test]
    fn repeated_identical_resolution_is_forwarded_once_until_the_ttl() {
        let mut t = Tracker::new("me", TTL);
        let t0 = Instant::now();
        let ev = resolved("b", "them", "10.0.0.2", 7171);
        discovered(t.on_service_event(&ev, t0));
        assert!(
            t.on_service_event(&ev, t0 + Duration::from_secs(1))
                .is_none()
        );
        assert!(
            t.on_service_event(&ev, t0 + TTL - Duration::from_millis(1))
                .is_none()
        );
        let again = discovered(t.on_service_event(&ev, t0 + TTL));
        assert_eq!(again.seen_at, t0 + TTL);
        // The TTL restarts from the last forward.
        assert!(
            t.on_service_event(&ev, t0 + TTL + Duration::from_secs(1))
                .is_none()
        );
    }

    #[test]
    fn changed_address_set_is_forwarded_at_once() {
        let mut t = Tracker::new("me", TTL);
        let now = Instant::now();
        discovered(t.on_service_event(&resolved("b", "them", "10.0.0.2", 7171), now));
        let grown = resolved("b", "them", "10.0.0.2,fe80::2", 7171);
        assert_eq!(discovered(t.on_service_event(&grown, now)).addrs.len(), 2);
        let moved_port = resolved("b", "them", "10.0.0.2,fe80::2", 7172);
        assert_eq!(
            discovered(t.on_service_event(&moved_port, now)).addrs[0].port(),
            7172
        );
        assert!(t.on_service_event(&moved_port, now).is_none());
    }

    #[test]
    fn removal_reports_lost_and_the_next_resolution_is_forwarded() {
        let mut t = Tracker::new("me", TTL);
        let now = Instant::now();
        let ev = resolved("b", "them", "10.0.0.2", 7171);
        discovered(t.on_service_event(&ev, now));
        match t.on_service_event(&removed("b"), now) {
            Some(DiscoveryEvent::Lost { peer_id }) => assert_eq!(peer_id, "them"),
            other => panic!("expected Lost, got {other:?}"),
        }
        assert!(t.on_service_event(&removed("b"), now).is_none());
        discovered(t.on_service_event(&ev, now));
    }

    #[test]
    fn removal_of_an_unknown_instance_is_ignored() {
        let mut t = Tracker::new("me", TTL);
        assert!(t.on_service_event(&removed("zz"), Instant::now()).is_none());
    }

    #[test]
    fn forget_makes_the_next_resolution_forwarded() {
        let mut t = Tracker::new("me", TTL);
        let now = Instant::now();
        let ev = resolved("b", "them", "10.0.0.2", 7171);
        discovered(t.on_service_event(&ev, now));
        t.forget("them");
        discovered(t.on_service_event(&ev, now));
    }

    #[test]
    fn tracked_peers_are_bounded_and_the_oldest_is_evicted() {
        let mut t = Tracker::new("me", TTL);
        let t0 = Instant::now();
        for i in 0..MAX_TRACKED_PEERS + 1 {
            let at = t0 + Duration::from_millis(i as u64);
            let ev = resolved(&format!("n{i}"), &format!("peer{i}"), "10.0.0.2", 7171);
            discovered(t.on_service_event(&ev, at));
        }
        assert_eq!(t.len(), MAX_TRACKED_PEERS);
        // peer0 was evicted, so it is new again; peer1 is still remembered.
        let late = t0 + Duration::from_secs(1);
        let peer1 = resolved("n1", "peer1", "10.0.0.2", 7171);
        assert!(t.on_service_event(&peer1, late).is_none());
        let peer0 = resolved("n0", "peer0", "10.0.0.2", 7171);
        discovered(t.on_service_event(&peer0, late));
    }
}

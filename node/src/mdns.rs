//! The glue between [`crate::discovery`] (mDNS, plain strings and socket addresses) and the
//! node actor (libp2p peer ids and multiaddrs), started by [`crate::Node`] when
//! `config.mdns` is on.
//!
//! ```text
//! Discovery ──DiscoveryEvent──▶ glue task ──DiscoveryUpdate (NodeHandle::discovered)──▶ actor
//! ```
//! The task waits for the node's first TCP listen address, advertises that port with the
//! node's peer id, and turns each [`DiscoveryEvent`] into a [`DiscoveryUpdate`]: the peer id
//! parsed, each address made a `/ip4|ip6/…/tcp/<port>/p2p/<id>` multiaddr ([`multiaddrs`]).
//! The actor decides when to dial (see `actor::found`). [`Mdns::shutdown`] withdraws the
//! advertisement (peers get a goodbye) before the node stops.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;

use crate::discovery::{Discovery, DiscoveryConfig, DiscoveryEvent};
use crate::handle::{Discovered, DiscoveryUpdate, Event, NodeHandle};

/// How long [`Mdns::shutdown`] waits for the goodbye (discovery waits up to 2 s per step).
const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);

/// The running glue task. Dropping it aborts the task (discovery's own drop still sends the
/// goodbye, without waiting).
#[derive(Debug)]
pub(crate) struct Mdns {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

/// Starts mDNS discovery for the node behind `handle` (on the standard mDNS port unless
/// `mdns_port` says otherwise).
pub(crate) fn start(handle: NodeHandle, mdns_port: Option<u16>) -> Mdns {
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(run(handle, mdns_port, stopped));
    Mdns {
        stop: Some(stop),
        task,
    }
}

impl Mdns {
    /// Withdraws the advertisement and stops browsing.
    pub(crate) async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(()); // the task may have ended already
        }
        if tokio::time::timeout(SHUTDOWN_WAIT, &mut self.task)
            .await
            .is_err()
        {
            tracing::warn!("mDNS discovery did not stop in time");
        }
    }
}

impl Drop for Mdns {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run(handle: NodeHandle, mdns_port: Option<u16>, mut stop: oneshot::Receiver<()>) {
    let port = tokio::select! {
        port = tcp_port(&handle) => port,
        _ = &mut stop => return,
    };
    let Some(port) = port else {
        tracing::warn!("no TCP listen address: mDNS discovery is off");
        return;
    };
    let me = handle.peer_id();
    let mut cfg = DiscoveryConfig::new(me.to_base58(), port);
    cfg.mdns_port = mdns_port;
    let (disc, mut events) = match Discovery::start(cfg) {
        Ok(started) => started,
        Err(e) => {
            tracing::warn!(%e, "cannot start mDNS discovery");
            return;
        }
    };
    tracing::info!(port, name = disc.fullname(), "mDNS discovery started");
    let to_actor = handle.discovered();
    loop {
        let ev = tokio::select! {
            ev = events.recv() => ev,
            _ = &mut stop => break,
        };
        let Some(ev) = ev else { break };
        let Some(update) = update(ev) else { continue };
        tracing::debug!(?update, "mDNS");
        let sent = tokio::select! {
            sent = to_actor.send(update) => sent.is_ok(),
            _ = &mut stop => break,
        };
        if !sent {
            break; // the actor is gone
        }
    }
    if let Err(e) = disc.shutdown().await {
        tracing::debug!(%e, "mDNS shutdown");
    }
}

/// The port of the node's first TCP listen address, once it listens; `None` if the actor
/// stops first.
async fn tcp_port(handle: &NodeHandle) -> Option<u16> {
    let mut events = handle.subscribe();
    loop {
        // Asked after subscribing, so an address that appears in between is not missed.
        let listeners = handle.listeners().await.ok()?;
        if let Some(port) = listeners.iter().find_map(tcp_port_of) {
            return Some(port);
        }
        loop {
            match events.recv().await {
                Ok(Event::Listening(addr)) => {
                    if let Some(port) = tcp_port_of(&addr) {
                        return Some(port);
                    }
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => break, // ask again
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

fn tcp_port_of(addr: &Multiaddr) -> Option<u16> {
    addr.iter().find_map(|p| match p {
        Protocol::Tcp(port) if port != 0 => Some(port),
        _ => None,
    })
}

/// A discovery event as the actor wants it; `None` for a peer id that does not parse.
fn update(ev: DiscoveryEvent) -> Option<DiscoveryUpdate> {
    match ev {
        DiscoveryEvent::Discovered(found) => {
            let peer: PeerId = found.peer_id.parse().ok()?;
            let addrs = multiaddrs(&found.addrs, peer);
            if addrs.is_empty() {
                return None;
            }
            Some(DiscoveryUpdate::Found(Discovered { peer, addrs }))
        }
        DiscoveryEvent::Lost { peer_id } => Some(DiscoveryUpdate::Lost(peer_id.parse().ok()?)),
    }
}

/// The dialable multiaddrs (`/ip4|ip6/…/tcp/<port>/p2p/<peer>`) of a peer's advertised
/// socket addresses, in their order:
/// - IPv6 link-local addresses are skipped: they need their scope (interface), which
///   libp2p's TCP transport drops (it reads only the `ip6` and `tcp` parts, and a
///   `/ip6zone/…` prefix does not reach the socket), so a dial would fail. The peer's IPv4
///   or global IPv6 addresses are advertised too;
/// - unspecified and multicast addresses are skipped;
/// - loopback addresses are kept only if there is nothing else (two nodes on one host with
///   only `lo`): otherwise `127.0.0.1` would reach whoever listens on that port *here*.
pub(crate) fn multiaddrs(addrs: &[SocketAddr], peer: PeerId) -> Vec<Multiaddr> {
    let usable: Vec<&SocketAddr> = addrs
        .iter()
        .filter(|a| {
            let ip = a.ip();
            !ip.is_unspecified() && !ip.is_multicast() && !is_ipv6_link_local(&ip) && a.port() != 0
        })
        .collect();
    let only_loopback = usable.iter().all(|a| a.ip().is_loopback());
    usable
        .into_iter()
        .filter(|a| only_loopback || !a.ip().is_loopback())
        .map(|a| {
            Multiaddr::empty()
                .with(Protocol::from(a.ip()))
                .with(Protocol::Tcp(a.port()))
                .with(Protocol::P2p(peer))
        })
        .collect()
}

fn is_ipv6_link_local(ip: &IpAddr) -> bool {
    matches!(ip, IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::discovery;

    fn strings(addrs: &[Multiaddr]) -> Vec<String> {
        addrs.iter().map(ToString::to_string).collect()
    }

    fn sock(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn addresses_become_p2p_multiaddrs_without_link_local_or_foreign_loopback() {
        let peer = PeerId::random();
        let addrs = [
            sock("10.0.0.2:7171"),
            sock("127.0.0.1:7171"),
            sock("[2001:db8::2]:7171"),
            sock("[fe80::1%2]:7171"),
            sock("[::1]:7171"),
            sock("0.0.0.0:7171"),
            sock("224.0.0.251:5353"),
        ];
        assert_eq!(
            strings(&multiaddrs(&addrs, peer)),
            [
                format!("/ip4/10.0.0.2/tcp/7171/p2p/{peer}"),
                format!("/ip6/2001:db8::2/tcp/7171/p2p/{peer}"),
            ]
        );
    }

    #[test]
    fn loopback_only_is_kept_and_link_local_only_gives_nothing() {
        let peer = PeerId::random();
        let lo = [sock("127.0.0.1:7272")];
        assert_eq!(
            strings(&multiaddrs(&lo, peer)),
            [format!("/ip4/127.0.0.1/tcp/7272/p2p/{peer}")]
        );
        assert!(multiaddrs(&[sock("[fe80::1%3]:7171")], peer).is_empty());
        assert!(multiaddrs(&[], peer).is_empty());
    }

    #[test]
    fn discovery_events_become_updates() {
        let peer = PeerId::random();
        let found = DiscoveryEvent::Discovered(discovery::Discovered {
            peer_id: peer.to_base58(),
            addrs: vec![sock("10.0.0.3:7171")],
            seen_at: std::time::Instant::now(),
        });
        match update(found) {
            Some(DiscoveryUpdate::Found(d)) => {
                assert_eq!(d.peer, peer);
                assert_eq!(
                    strings(&d.addrs),
                    [format!("/ip4/10.0.0.3/tcp/7171/p2p/{peer}")]
                );
            }
            other => panic!("expected Found, got {other:?}"),
        }
        let lost = DiscoveryEvent::Lost {
            peer_id: peer.to_base58(),
        };
        assert_eq!(update(lost), Some(DiscoveryUpdate::Lost(peer)));
        let bad = DiscoveryEvent::Lost {
            peer_id: "not-a-peer-id".into(),
        };
        assert_eq!(update(bad), None);
        let unusable = DiscoveryEvent::Discovered(discovery::Discovered {
            peer_id: peer.to_base58(),
            addrs: vec![sock("[fe80::9%1]:7171")],
            seen_at: std::time::Instant::now(),
        });
        assert_eq!(update(unusable), None);
    }

    #[test]
    fn the_advertised_port_is_the_first_tcp_one() {
        let a: Multiaddr = "/ip4/0.0.0.0/tcp/0".parse().unwrap();
        assert_eq!(tcp_port_of(&a), None);
        let b: Multiaddr =
            "/ip4/10.0.0.1/tcp/7171/p2p/12D3KooWGzH1TSb4LUqv5UKv3rU4u7XJNfNYrGBVGpkAs5YJbqP7"
                .parse()
                .unwrap();
        assert_eq!(tcp_port_of(&b), Some(7171));
    }
}

//! The libp2p side of a node: identities, the swarm, link-profile timeouts and topics.
//!
//! A node's libp2p identity is its ed25519 node key, so a [`PeerId`] *is* a node key:
//! [`peer_id`] and [`node_key`] convert between the two (an ed25519 peer id is the identity
//! multihash of the protobuf-encoded public key). The sync core never sees a `PeerId`.
//!
//! # Layout
//! - [`behaviour`]: the protocols ([`Behaviour`]) and the gossipsub settings.
//! - [`codec`]: the request-response codec of `/flotilla/sync/4`.
//! - [`liveness`]: which connections to close (missed pings, a newer path to the same peer).

// The NetworkBehaviour derive generates `BehaviourEvent` without docs.
#[allow(missing_docs)]
pub mod behaviour;
pub mod codec;
pub mod liveness;

use std::time::Duration;

use flotilla_protocol as proto;
use libp2p::{PeerId, Swarm, gossipsub, identity, noise, tcp, yamux};
use proto::id::FlotillaId;
use proto::{PublicKey, SecretKey};
use serde::Deserialize;

pub use behaviour::{Behaviour, BehaviourEvent};

/// The prefix of a flotilla's gossip topic: `flotilla/<flotilla id hex>`.
pub const TOPIC_PREFIX: &str = "flotilla/";

/// A flotilla's gossip topic.
pub fn topic(flotilla: &FlotillaId) -> gossipsub::IdentTopic {
    gossipsub::IdentTopic::new(format!("{TOPIC_PREFIX}{flotilla}"))
}

/// The libp2p keypair of a node key (the same ed25519 key).
///
/// # Panics
/// Never: a 32-byte seed is always a valid ed25519 secret key.
pub fn keypair(key: &SecretKey) -> identity::Keypair {
    #[allow(clippy::expect_used)] // any 32 bytes are an ed25519 seed
    identity::Keypair::ed25519_from_bytes(key.to_bytes()).expect("32-byte ed25519 seed")
}

/// The peer id of a node key; `None` if the bytes are not an ed25519 point.
pub fn peer_id(key: &PublicKey) -> Option<PeerId> {
    let ed = identity::ed25519::PublicKey::try_from_bytes(&key.0).ok()?;
    Some(PeerId::from_public_key(&identity::PublicKey::from(ed)))
}

/// The node key inside a peer id; `None` for a peer id that is not an inlined ed25519 key
/// (another kind of libp2p node: it can never be a member).
pub fn node_key(peer: &PeerId) -> Option<PublicKey> {
    /// The multihash code of the identity hash (the key is inlined, not hashed).
    const IDENTITY: u64 = 0x00;
    let mh = peer.as_ref();
    if mh.code() != IDENTITY {
        return None;
    }
    let key = identity::PublicKey::try_decode_protobuf(mh.digest()).ok()?;
    Some(PublicKey(key.try_into_ed25519().ok()?.to_bytes()))
}

/// How the links to other boats behave: selects the mesh timeouts (see [`Timeouts`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LinkProfile {
    /// Marina or anchorage Wi-Fi: fast, lossy only at the edges.
    #[default]
    Lan,
    /// 802.11ah / Wi-Fi HaLow: long range, 0.15–4 Mbit/s; smaller batches, longer timers.
    Halow,
}

/// Timeouts and queue durations of a link profile. Each number says where it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP connect + Noise + Yamux.
    pub connection: Duration,
    /// A request-response round trip.
    pub request: Duration,
    /// How long gossipsub keeps our own message queued for a slow peer.
    pub publish_queue: Duration,
    /// How long gossipsub keeps a forwarded message queued for a slow peer.
    pub forward_queue: Duration,
    /// Ping interval.
    pub ping_interval: Duration,
    /// How long a ping waits for its answer.
    pub ping_timeout: Duration,
    /// Reported ping failures in a row after which a connection is closed ([`liveness`]).
    pub missed_pings: u32,
    /// Idle connections are closed after this.
    pub idle: Duration,
    /// How long a peer that is not a member may stay connected (to send a join request).
    pub join_grace: Duration,
}

/// LAN (marina Wi-Fi): libp2p's defaults where they fit. The handshake, identify and
/// subscribe exchange took ~10 ms on an unshaped veth (research/tech.md §1.6), so 10 s
/// (libp2p's default connection and request timeouts) is generous; gossipsub's defaults are
/// 5 s / 1 s of queueing. The idle timeout is 60 s, not the 10 s default: gossipsub keeps
/// only mesh peers alive (§1.2).
///
/// Liveness (issue 9): a ping every second (32 bytes each way: nothing on a LAN) with a 2 s
/// timeout, and a connection closed after 2 reported failures (3 missed pings, the first of a
/// run being silent in libp2p): a dead path is closed ~9 s after its last answer, instead of
/// when TCP gives up (minutes). A Wi-Fi hiccup of a second or two costs one missed ping.
pub const LAN: Timeouts = Timeouts {
    connection: Duration::from_secs(10),
    request: Duration::from_secs(10),
    publish_queue: Duration::from_secs(5),
    forward_queue: Duration::from_secs(1),
    ping_interval: Duration::from_secs(1),
    ping_timeout: Duration::from_secs(2),
    missed_pings: 2,
    idle: Duration::from_secs(60),
    join_grace: Duration::from_secs(10),
};

/// HaLow and other slow IP links (0.15–4 Mbit/s, lossy at range). Measured with `tc tbf`
/// (research/tech.md §1.6): at 9.6 kbit/s identify and subscribe took 4 s; at 1.2 kbit/s the
/// dial failed with the 10 s default and needed a 120 s connection timeout (connected at
/// ~28 s, subscribed at ~50 s). A full 1 MiB sync frame at 150 kbit/s takes ~56 s, hence the
/// 120 s request timeout. Queues hold messages 60 s / 30 s instead of dropping them after
/// 5 s / 1 s. The join grace covers the ~50 s to a first subscription.
///
/// Liveness: a ping every 15 s with a 10 s timeout (a 32-byte ping queued behind a sync
/// frame on a loaded 150 kbit/s link can wait seconds), closed after 2 reported failures: a
/// dead path is closed ~75 s after its last answer.
pub const HALOW: Timeouts = Timeouts {
    connection: Duration::from_secs(120),
    request: Duration::from_secs(120),
    publish_queue: Duration::from_secs(60),
    forward_queue: Duration::from_secs(30),
    ping_interval: Duration::from_secs(15),
    ping_timeout: Duration::from_secs(10),
    missed_pings: 2,
    idle: Duration::from_secs(300),
    join_grace: Duration::from_secs(120),
};

impl Timeouts {
    /// The timeouts of a link profile.
    pub fn of(profile: LinkProfile) -> Self {
        match profile {
            LinkProfile::Lan => LAN,
            LinkProfile::Halow => HALOW,
        }
    }
}

/// A swarm failure at start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The transport could not be built.
    #[error("transport: {0}")]
    Transport(String),
    /// The protocols could not be configured.
    #[error("behaviour: {0}")]
    Behaviour(String),
    /// A listen address is not a multiaddr, or cannot be listened on.
    #[error("cannot listen on {addr}: {reason}")]
    Listen {
        /// The address.
        addr: String,
        /// Why.
        reason: String,
    },
}

/// Builds the swarm of node `key`: TCP (no Nagle delay) + Noise + Yamux, the [`Behaviour`],
/// the profile's timeouts. Must run inside a tokio runtime.
///
/// Outbound streams use multistream-select's `V1Lazy`: a stream with a single protocol is
/// usable at once, without waiting a round trip for the other end's confirmation. Besides
/// saving that round trip, it keeps ping's timeout meaningful on a dead path: with `V1`, each
/// new ping stream would wait for the 10 s stream-negotiation timeout before failing.
/// Yamux 0.13 has no keep-alive of its own, and libp2p's TCP transport sets no
/// `TCP_USER_TIMEOUT`: the pings ([`liveness`]) are what notice a dead path.
///
/// # Errors
/// [`Error::Transport`] or [`Error::Behaviour`].
pub fn build_swarm(key: &SecretKey, t: &Timeouts) -> Result<Swarm<Behaviour>, Error> {
    let t = *t;
    let swarm = libp2p::SwarmBuilder::with_existing_identity(keypair(key))
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| Error::Transport(e.to_string()))?
        .with_behaviour(|k| {
            Behaviour::new(k, &t)
                .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { e.into() })
        })
        .map_err(|e| Error::Behaviour(e.to_string()))?
        .with_swarm_config(|c| {
            c.with_idle_connection_timeout(t.idle)
                .with_substream_upgrade_protocol_override(libp2p::core::upgrade::Version::V1Lazy)
        })
        .with_connection_timeout(t.connection)
        .build();
    Ok(swarm)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proto::entropy::SeededEntropy;

    use super::*;

    #[test]
    fn a_peer_id_is_the_node_key() {
        let key = SecretKey::generate(&mut SeededEntropy::new(1));
        let pid = peer_id(&key.public()).unwrap();
        assert_eq!(pid, keypair(&key).public().to_peer_id());
        assert_eq!(node_key(&pid), Some(key.public()));
        assert_eq!(
            node_key(&PeerId::random()),
            None,
            "a hashed (non-inline) id"
        );
    }

    #[test]
    fn topics_name_the_flotilla() {
        let f = FlotillaId([0xab; 16]);
        assert_eq!(
            topic(&f).to_string(),
            format!("flotilla/{}", "ab".repeat(16))
        );
    }

    #[test]
    fn slow_links_wait_longer() {
        let (lan, halow) = (
            Timeouts::of(LinkProfile::Lan),
            Timeouts::of(LinkProfile::Halow),
        );
        assert!(lan.idle >= Duration::from_secs(60));
        assert!(halow.connection >= Duration::from_secs(120));
        assert!(halow.request > lan.request && halow.publish_queue > lan.publish_queue);
        // A dead path is noticed in seconds on lan, in tens of seconds on halow.
        let detect = |t: Timeouts| (t.ping_interval + t.ping_timeout) * (t.missed_pings + 1);
        assert!(detect(lan) <= Duration::from_secs(10), "{:?}", detect(lan));
        assert!(detect(halow) <= Duration::from_secs(90) && detect(halow) > detect(lan));
        assert!(lan.ping_timeout < lan.request && halow.ping_timeout < halow.request);
    }
}

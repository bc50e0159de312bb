//! [`Behaviour`]: the libp2p protocols a node runs, and their configuration.

use std::time::Duration;

use flotilla_protocol as proto;
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::NetworkBehaviour;
use libp2p::{allow_block_list, gossipsub, identify, identity, ping};

use super::Timeouts;
use super::codec::{self, Codec};

/// The identify protocol version: peers of other applications are told apart by it.
pub const IDENTIFY_PROTOCOL: &str = "/flotilla/1";
/// Gossipsub mesh sizes for a fleet of 2–30 boats (research/tech.md §1.2: the rust defaults
/// 6/5/12 leave a 3-boat fleet permanently "mesh low"; calimero's 2–20 peer clusters use
/// these). Rule checked in a test: `outbound_min <= low`, `2 * outbound_min <= n`.
pub const MESH_N: usize = 4;
/// See [`MESH_N`].
pub const MESH_N_LOW: usize = 2;
/// See [`MESH_N`].
pub const MESH_N_HIGH: usize = 8;
/// See [`MESH_N`].
pub const MESH_OUTBOUND_MIN: usize = 1;
/// First heartbeat after start: the default 5 s delays the first mesh repair for nothing
/// (research/tech.md §1.2 advises 0.5–1 s).
pub const HEARTBEAT_INITIAL_DELAY: Duration = Duration::from_millis(500);
/// Gossipsub's largest message: one event ([`proto::event::MAX_EVENT_SIZE`]) plus the
/// protobuf wrapper, signature, key and topic (well under 1 KiB).
pub const MAX_TRANSMIT_SIZE: usize = proto::event::MAX_EVENT_SIZE + 4096;
/// How long gossipsub remembers a message id: 10 minutes rather than 60 s, so that an event
/// coming back through a slow path is not delivered twice (research/tech.md §1.2).
pub const DUPLICATE_CACHE_TIME: Duration = Duration::from_secs(600);

/// Peer scores: a peer that is not a member of any flotilla we share (an outsider, or a
/// joiner not yet admitted) gets [`OUTSIDER_SCORE`], below the publish and gossip thresholds:
/// gossipsub never sends it our messages, never grafts it into a mesh and never gossips to
/// it. Its RPCs are still read (the graylist threshold is far lower), so that its
/// subscriptions are known when it becomes a member and its score returns to 0.
pub const OUTSIDER_SCORE: f64 = -10_000.0;

/// The protocols of a node.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Refuses and closes connections of blocked peers (partitions in tests; bans later).
    pub block: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    /// Live push: one topic per flotilla.
    pub gossipsub: gossipsub::Behaviour,
    /// Sync messages and join requests.
    pub sync: request_response::Behaviour<Codec>,
    /// Listen addresses and protocol versions of peers.
    pub identify: identify::Behaviour,
    /// Liveness and round-trip times; the actor closes connections that miss pings
    /// ([`super::liveness`]).
    pub ping: ping::Behaviour,
}

impl std::fmt::Debug for Behaviour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Behaviour").finish_non_exhaustive()
    }
}

/// The gossipsub message id: BLAKE3 of the message data (the event bytes), so the same event
/// has the same id whoever publishes it.
pub fn message_id(msg: &gossipsub::Message) -> gossipsub::MessageId {
    gossipsub::MessageId::from(blake3::hash(&msg.data).as_bytes().to_vec())
}

/// The gossipsub configuration for small fleets.
///
/// # Errors
/// A description if the builder refuses the values (not expected).
pub fn gossipsub_config(t: &Timeouts) -> Result<gossipsub::Config, String> {
    gossipsub::ConfigBuilder::default()
        .mesh_n(MESH_N)
        .mesh_n_low(MESH_N_LOW)
        .mesh_n_high(MESH_N_HIGH)
        .mesh_outbound_min(MESH_OUTBOUND_MIN)
        .gossip_lazy(MESH_N)
        .flood_publish(true)
        .heartbeat_initial_delay(HEARTBEAT_INITIAL_DELAY)
        .max_transmit_size(MAX_TRANSMIT_SIZE)
        .duplicate_cache_time(DUPLICATE_CACHE_TIME)
        .validation_mode(gossipsub::ValidationMode::Strict)
        .validate_messages()
        .message_id_fn(message_id)
        .publish_queue_duration(t.publish_queue)
        .forward_queue_duration(t.forward_queue)
        .build()
        .map_err(|e| e.to_string())
}

fn score_params() -> (gossipsub::PeerScoreParams, gossipsub::PeerScoreThresholds) {
    let params = gossipsub::PeerScoreParams {
        app_specific_weight: 1.0,
        // Boats behind one access point, and every test node on 127.0.0.1, share an IP.
        ip_colocation_factor_weight: 0.0,
        ..Default::default()
    };
    let thresholds = gossipsub::PeerScoreThresholds {
        gossip_threshold: OUTSIDER_SCORE / 10.0,
        publish_threshold: OUTSIDER_SCORE / 10.0,
        graylist_threshold: OUTSIDER_SCORE * 1000.0,
        ..Default::default()
    };
    (params, thresholds)
}

impl Behaviour {
    /// The protocols of the node with identity `key`.
    ///
    /// # Errors
    /// A description if gossipsub refuses its configuration (not expected).
    pub fn new(key: &identity::Keypair, t: &Timeouts) -> Result<Self, String> {
        let auth = gossipsub::MessageAuthenticity::Signed(key.clone());
        let mut gossipsub = gossipsub::Behaviour::new(auth, gossipsub_config(t)?)?;
        let (params, thresholds) = score_params();
        gossipsub.with_peer_score(params, thresholds)?;
        let sync = request_response::Behaviour::with_codec(
            Codec,
            [(codec::PROTOCOL, ProtocolSupport::Full)],
            request_response::Config::default().with_request_timeout(t.request),
        );
        let identify = identify::Behaviour::new(
            identify::Config::new(IDENTIFY_PROTOCOL.into(), key.public())
                .with_agent_version(format!("flotilla/{}", env!("CARGO_PKG_VERSION"))),
        );
        let ping = ping::Behaviour::new(
            ping::Config::new()
                .with_interval(t.ping_interval)
                .with_timeout(t.ping_timeout),
        );
        Ok(Behaviour {
            block: allow_block_list::Behaviour::default(),
            gossipsub,
            sync,
            identify,
            ping,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::assertions_on_constants)]
    fn mesh_sizes_keep_gossipsubs_rules() {
        // gossipsub 0.50 does not check these for the global config (research/tech.md §1.2).
        assert!(MESH_N_LOW <= MESH_N && MESH_N <= MESH_N_HIGH);
        assert!(MESH_OUTBOUND_MIN <= MESH_N_LOW && MESH_OUTBOUND_MIN * 2 <= MESH_N);
        let (params, thresholds) = score_params();
        assert!(params.validate().is_ok() && thresholds.validate().is_ok());
        assert!(OUTSIDER_SCORE < thresholds.publish_threshold);
        assert!(OUTSIDER_SCORE > thresholds.graylist_threshold);
    }
}

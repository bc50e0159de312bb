//! The sans-IO sync state machine: how two nodes that were apart agree again.
//!
//! # What is exchanged, and when
//! A node holds, per flotilla it belongs to, a [`Ledger`] (control DAG and membership state),
//! a [`Keyring`] and an HLC [`Clock`]; events live in the [`Store`]. It talks to a peer only
//! about flotillas the peer is an *active node* of in its own ledger (the membership gate;
//! outsiders get nothing, not even a summary). The one exception is joining: while this
//! node is not yet in its own ledger of a flotilla, it answers any peer that offered that
//! flotilla in a `Hello` — everything it receives is still verified against the genesis id
//! it was given.
//!
//! 1. **Live.** Every newly accepted event is returned as [`OutEvent::Publish`] (`local` for
//!    events written here). The node publishes local ones on gossipsub, which forwards by
//!    itself; the simulator floods them, and those it accepted from a gossip frame, to its
//!    neighbours. Events fetched by catch-up are not gossiped again (step 3).
//! 2. **Hello.** On [`InEvent::PeerUp`] and every [`Config::resync_interval_ms`] (with
//!    jitter), a node sends each member peer a [`PeerMsg::Hello`] per shared flotilla: for
//!    every non-empty channel, its event count and negentropy's 16-byte fingerprint of the
//!    channel's `(hlc ms, id)` set. A peer that has not greeted back yet answers with its own.
//! 3. **Reconcile.** Channels whose summaries differ are reconciled with range-based set
//!    reconciliation (Meyer; Hoyte's negentropy protocol, crate `negentropy`). The peer with
//!    the smaller public key initiates one session per differing channel, the control channel
//!    first (its id sorts first), at most [`Config::max_sessions_per_peer`] at a time, the rest
//!    queued. The responder is stateless: it answers each [`PeerMsg::Reconcile`] from its
//!    channel's (cached) item set. The initiator learns `have` (ids the peer lacks), which it
//!    announces with [`PeerMsg::Have`], and `need` (ids it lacks). Each side pulls what it
//!    lacks with [`PeerMsg::Want`]: ids wait in a bounded per-peer backlog and at most
//!    [`MAX_WANTS_IN_FLIGHT`] are asked for at a time, topped up as [`PeerMsg::Events`] arrive,
//!    so the receiver sets the pace. A session ends when negentropy has nothing more to say; when
//!    a peer's last session for a flotilla ends (or the Hellos already matched), the node
//!    reports [`Event::Synced`]. A channel found differing again while its session runs (either
//!    side gained events since it started) is reconciled once more when that session ends.
//!    **Relay:** when the pull window from a peer empties after events fetched from it, the
//!    node sends a Hello to every other member peer of that flotilla, so what it carried from
//!    one side crosses to the other at once instead of at the next periodic Hello (a boat
//!    back between two that were apart: A–B–C with B away).
//! 4. **Ingest.** Every event, local or received, is decoded and verified, then judged by
//!    [`Ledger::check`] against the membership state of its own causal past. Accepted events
//!    are stored (a batch with one durability barrier), control events update the ledger and
//!    open keys sealed to this node. An event whose control deps are unknown waits in a
//!    bounded pending buffer while the deps are wanted from its sender; it is judged again
//!    whenever a control event is accepted. A rejected event is reported and never stored.
//!    Content of private channels this node cannot read is stored and relayed like any other
//!    event: validation needs no decryption (store-and-forward).
//! 6. **Rekey.** With each Hello, a node that may hold group keys it lacks (an epoch or a
//!    private channel key sealed while it was unknown to the sealer, e.g. a rotation that
//!    raced its admission) sends [`PeerMsg::KeyWant`]; a member holding them answers with
//!    [`PeerMsg::Keys`], sealed to the asker's node and limited to keys the asker may hold.
//!    The asker keeps a key only if it matches the commitment its introducing event
//!    published, and never replaces one it holds.
//! 5. **Removal.** Accepting a node or user removal revokes the events of that author stamped
//!    at or after the removal that this node accepted before it knew (a stale peer relayed
//!    them): they leave the reconciled set (so they are never offered again) and are reported
//!    as [`Event::Revoked`]. Nodes that learn of the removal first reject them outright.
//!
//! # Why it converges
//! Accepting is a function of the event and the set of control events (not of arrival
//! order), so two connected members hold, after one Hello round, the union of their accepted
//! sets in every channel: negentropy finds exactly the symmetric difference, and both halves
//! are transferred. Missing deps are control events, reconciled first and fetched on demand.
//! Anything lost on the way (a dropped frame, a pending event evicted from the full buffer, a
//! want over budget) is found again by the next periodic Hello. Over a connected graph, the
//! union spreads hop by hop, so a line A–B–C converges through B: at once by the relay Hello,
//! at worst at the next periodic one. The relay stops by itself: a peer greeted with a summary
//! equal to its own answers `Synced` and fetches nothing, so nothing is relayed further.
//!
//! # What is bounded
//! Frames ([`wire::MAX_FRAME_SIZE`] and the per-list bounds in [`wire`]), the negentropy frame
//! size ([`Config::frame_size_limit`], 0 or at least 4096 as the crate requires), concurrent
//! sessions and queued channels per peer, wanted ids in flight per peer
//! ([`MAX_WANTS_IN_FLIGHT`]), pending events ([`Config::max_pending`], oldest dropped) and
//! pending joins ([`MAX_JOINS`]). Cost grows with the difference, not the history.

mod ingest;
mod reconcile;
mod rekey;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use negentropy::NegentropyStorageVector;

use crate::author::{self, AuthorError};
use crate::crypto::{PublicKey, SecretKey};
use crate::entropy::Entropy;
use crate::event::{InvalidEvent, SignedEvent};
use crate::hlc::Clock;
use crate::id::{ChannelId, EventId, FlotillaId};
use crate::keyring::Keyring;
use crate::membership::{AuthError, Ledger};
use crate::store::{Store, StoreError};
use crate::wire::{self, PeerMsg};

/// Default interval between Hello rounds with every peer: one minute, short enough that a
/// lost frame costs little, long enough that idle links stay quiet (a Hello is ~40 bytes per
/// channel).
pub const DEFAULT_RESYNC_INTERVAL_MS: u64 = 60_000;
/// Default age after which an unanswered reconciliation session is dropped.
pub const DEFAULT_SESSION_TIMEOUT_MS: u64 = 30_000;
/// Default concurrent reconciliation sessions per peer (one per channel).
pub const DEFAULT_MAX_SESSIONS_PER_PEER: usize = 4;
/// Default negentropy frame size limit: 60 KB. The crate requires 0 or at least 4096; 4096
/// made scattered differences cost hundreds of round trips (research/tech.md §7), unlimited
/// could exceed our frame size on a large difference.
pub const DEFAULT_FRAME_SIZE_LIMIT: u64 = 60_000;
/// Default bound on events waiting for their control deps.
pub const DEFAULT_MAX_PENDING: usize = 1024;
/// The most ids wanted from one peer and not yet received (the pull window). More wait in
/// the peer's backlog and are asked for as events arrive, so a large catch-up is paced by
/// the receiver: 1024 events is about a quarter second of storing on a Pi-class node, far
/// inside a request timeout, where pushing a whole difference at once timed out and
/// stalled a 100k cold sync until the next resync (docs/performance.md).
pub const MAX_WANTS_IN_FLIGHT: usize = 1024;
/// The most ids waiting to be wanted from one peer (8 MiB of ids); beyond that, the next
/// reconciliation round finds them again.
pub const MAX_WANT_BACKLOG: usize = 1 << 18;
/// The most channels queued for reconciliation with one peer.
pub const MAX_QUEUED_SESSIONS: usize = 4096;
/// The most flotillas being joined at once (genesis known, not yet received).
pub const MAX_JOINS: usize = 16;

/// Tuning of the sync state machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Interval between Hello rounds with every connected member peer.
    pub resync_interval_ms: u64,
    /// Age after which an unanswered reconciliation session is dropped.
    pub session_timeout_ms: u64,
    /// Concurrent reconciliation sessions per peer.
    pub max_sessions_per_peer: usize,
    /// Negentropy frame size limit: 0 (none) or 4096..=[`wire::MAX_RECONCILE_BYTES`].
    pub frame_size_limit: u64,
    /// Events waiting for their control deps, at most.
    pub max_pending: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            resync_interval_ms: DEFAULT_RESYNC_INTERVAL_MS,
            session_timeout_ms: DEFAULT_SESSION_TIMEOUT_MS,
            max_sessions_per_peer: DEFAULT_MAX_SESSIONS_PER_PEER,
            frame_size_limit: DEFAULT_FRAME_SIZE_LIMIT,
            max_pending: DEFAULT_MAX_PENDING,
        }
    }
}

/// A [`Config`] value that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The negentropy frame size limit is neither 0 nor within 4096..=MAX_RECONCILE_BYTES.
    #[error("frame_size_limit {0} must be 0 or within 4096..={max}", max = wire::MAX_RECONCILE_BYTES)]
    FrameSizeLimit(u64),
    /// A field that must be positive is zero.
    #[error("{0} must be positive")]
    Zero(&'static str),
}

impl Config {
    /// Checks the values.
    ///
    /// # Errors
    /// [`ConfigError`] naming the bad field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let limit = self.frame_size_limit;
        if limit != 0 && !(4096..=wire::MAX_RECONCILE_BYTES as u64).contains(&limit) {
            return Err(ConfigError::FrameSizeLimit(limit));
        }
        if self.resync_interval_ms == 0 {
            return Err(ConfigError::Zero("resync_interval_ms"));
        }
        if self.max_sessions_per_peer == 0 {
            return Err(ConfigError::Zero("max_sessions_per_peer"));
        }
        if self.max_pending == 0 {
            return Err(ConfigError::Zero("max_pending"));
        }
        Ok(())
    }
}

/// A timer the state machine asked for with [`OutEvent::SetTimer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timer {
    /// Send Hellos to every member peer, expire stale sessions, re-arm.
    Resync,
}

/// Input to the sync state machine.
#[derive(Debug, Clone)]
pub enum InEvent {
    /// The network layer connected a peer.
    PeerUp(PublicKey),
    /// The network layer lost a peer.
    PeerDown(PublicKey),
    /// A wire message arrived from `peer`.
    Recv {
        /// Who sent it.
        peer: PublicKey,
        /// The message.
        msg: PeerMsg,
    },
    /// The events of a [`PeerMsg::Events`] from `peer`, already decoded and verified by the
    /// driver off the state machine ([`SignedEvent::decode`] on each frame, for instance on
    /// a pool of threads; check [`State::accepts_events`] first): judged and stored like
    /// the frames of [`InEvent::Recv`], without verifying them again.
    Verified {
        /// Who sent them.
        peer: PublicKey,
        /// The flotilla of the message.
        flotilla: FlotillaId,
        /// Each frame's decoding, in order.
        events: Vec<Result<SignedEvent, InvalidEvent>>,
    },
    /// A local event, built with [`State::with_ctx`]: ingest, store and publish it.
    Publish(SignedEvent),
    /// A timer previously requested with [`OutEvent::SetTimer`] fired.
    TimerFired(Timer),
    /// Start following the flotilla founded by `genesis` (from an invite code) while the
    /// ledger is still empty: the first member peer that offers it provides the genesis.
    Join {
        /// The flotilla's genesis event id.
        genesis: EventId,
    },
}

/// Output of the sync state machine; the driver executes these in order.
#[derive(Debug, Clone)]
pub enum OutEvent {
    /// Send `msg` to `peer` (request-response on the node).
    Send {
        /// The recipient.
        peer: PublicKey,
        /// The message.
        msg: PeerMsg,
    },
    /// A newly accepted event, for live gossip on the flotilla's topic.
    Publish {
        /// The flotilla (gossip topic).
        flotilla: FlotillaId,
        /// The event.
        event: SignedEvent,
        /// Written here (the node publishes only these; gossipsub forwards the rest).
        local: bool,
    },
    /// Fire `timer` after `after_ms` milliseconds (replaces a pending one of the same kind).
    SetTimer {
        /// Delay.
        after_ms: u64,
        /// Which timer.
        timer: Timer,
    },
    /// Something for the application.
    Deliver(Event),
}

/// What the application hears about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// An event was accepted and stored.
    Accepted {
        /// Its flotilla.
        flotilla: FlotillaId,
        /// Its id.
        id: EventId,
        /// Its channel.
        channel: ChannelId,
        /// A control event?
        control: bool,
    },
    /// An event was refused by the membership rules; nothing was stored.
    Rejected {
        /// The peer that sent it (`None` for a local event).
        from: Option<PublicKey>,
        /// Its id.
        id: EventId,
        /// Why.
        reason: AuthError,
    },
    /// A peer sent bytes that are not a valid event.
    Invalid {
        /// The peer.
        from: PublicKey,
        /// What is wrong.
        error: InvalidEvent,
    },
    /// An event accepted earlier was written by its author after the author's removal
    /// (learned since): it is no longer synced and should not be shown.
    Revoked {
        /// Its flotilla.
        flotilla: FlotillaId,
        /// Its id.
        id: EventId,
    },
    /// This node and `peer` held the same events of `flotilla` (as of the last round).
    Synced {
        /// The peer.
        peer: PublicKey,
        /// The flotilla.
        flotilla: FlotillaId,
    },
    /// The store failed; the events of that step were not stored.
    StoreFailed(StoreError),
    /// A member re-sealed group keys this node lacked (see the rekey exchange).
    Rekeyed {
        /// The flotilla.
        flotilla: FlotillaId,
        /// How many keys were added.
        keys: usize,
    },
}

/// Per-flotilla state.
#[derive(Debug)]
struct Flotilla {
    ledger: Ledger,
    keyring: Keyring,
    clock: Clock,
    /// Accepted before their author's removal was known; excluded from sync.
    revoked: BTreeSet<EventId>,
}

/// Per-peer state.
#[derive(Debug, Default)]
struct Peer {
    /// Flotillas the peer sent us a Hello for.
    offered: BTreeSet<FlotillaId>,
    /// Flotillas we sent a Hello for in this round.
    greeted: BTreeSet<FlotillaId>,
    /// Running sessions (we initiate): channel → the round awaiting its answer.
    sessions: BTreeMap<(FlotillaId, ChannelId), Round>,
    /// Channels waiting for a session slot.
    queue: VecDeque<(FlotillaId, ChannelId)>,
    /// Channels found differing again while their session was running (the peer or we
    /// gained events since it started): reconciled once more when it ends.
    again: BTreeSet<(FlotillaId, ChannelId)>,
    /// Ids asked for and not received yet (at most [`MAX_WANTS_IN_FLIGHT`]).
    wanted: HashMap<EventId, FlotillaId>,
    /// Ids to ask for once the window has room, oldest first (at most [`MAX_WANT_BACKLOG`]).
    backlog: VecDeque<(FlotillaId, EventId)>,
    /// The ids in `backlog`, for deduplication.
    backlogged: HashSet<EventId>,
    /// Flotillas of which events wanted from this peer arrived since its pull window last
    /// emptied: when it empties, the other peers are greeted ([`State::relay`]).
    fetched: BTreeSet<FlotillaId>,
}

/// The round of a running reconciliation session that awaits the peer's answer.
#[derive(Debug, Clone, Copy)]
struct Round {
    /// Its number (unique per node), echoed by the answer.
    number: u64,
    /// When it was sent (ms), for the session timeout.
    sent_ms: u64,
}

/// An event waiting for its control deps.
#[derive(Debug)]
struct Pending {
    event: SignedEvent,
    from: Option<PublicKey>,
    local: bool,
}

/// A channel's reconciliation set, sealed, with its summary.
#[derive(Debug)]
struct ChannelCache {
    storage: NegentropyStorageVector,
    count: u64,
    fingerprint: [u8; 16],
}

/// A channel's reconciliation items, kept in memory once read, and their sealed form
/// (`None` after a change, sealed again when next needed).
#[derive(Debug)]
struct ChannelSet {
    items: BTreeSet<crate::store::Item>,
    sealed: Option<ChannelCache>,
}

impl ChannelSet {
    fn insert(&mut self, item: crate::store::Item) {
        if self.items.insert(item) {
            self.sealed = None;
        }
    }
}

/// The sync state machine of one node. Performs no I/O: feed it [`InEvent`]s with the time,
/// execute the [`OutEvent`]s it returns.
#[derive(Debug)]
pub struct State<S: Store, R: Entropy> {
    node_key: SecretKey,
    me: PublicKey,
    config: Config,
    store: S,
    rng: R,
    flotillas: BTreeMap<FlotillaId, Flotilla>,
    joins: BTreeSet<EventId>,
    peers: BTreeMap<PublicKey, Peer>,
    pending: VecDeque<Pending>,
    pending_ids: HashSet<EventId>,
    cache: HashMap<(FlotillaId, ChannelId), ChannelSet>,
    outbox: Vec<OutEvent>,
    timer_armed: bool,
    /// The last reconciliation round number given out.
    rounds: u64,
}

impl<S: Store, R: Entropy> State<S, R> {
    /// A node with identity `node_key`, storing events in `store`.
    ///
    /// # Panics
    /// If `config` is invalid (see [`Config::validate`]).
    pub fn new(node_key: SecretKey, config: Config, store: S, rng: R) -> Self {
        if let Err(e) = config.validate() {
            panic!("invalid sync::Config: {e}");
        }
        State {
            me: node_key.public(),
            node_key,
            config,
            store,
            rng,
            flotillas: BTreeMap::new(),
            joins: BTreeSet::new(),
            peers: BTreeMap::new(),
            pending: VecDeque::new(),
            pending_ids: HashSet::new(),
            cache: HashMap::new(),
            outbox: Vec::new(),
            timer_armed: false,
            rounds: 0,
        }
    }

    /// Processes one input at wall-clock time `now_ms` (ms since the Unix epoch) and returns
    /// what to do, in order.
    pub fn handle(&mut self, event: InEvent, now_ms: u64) -> impl Iterator<Item = OutEvent> + '_ {
        if !self.timer_armed {
            self.arm_resync();
        }
        match event {
            InEvent::PeerUp(peer) => self.on_peer_up(peer),
            InEvent::PeerDown(peer) => {
                self.peers.remove(&peer);
            }
            InEvent::Recv { peer, msg } => self.on_recv(peer, msg, now_ms),
            InEvent::Verified {
                peer,
                flotilla,
                events,
            } => self.on_decoded(peer, flotilla, events, now_ms),
            InEvent::Publish(event) => self.on_publish(event, now_ms),
            InEvent::TimerFired(Timer::Resync) => self.on_resync(now_ms),
            InEvent::Join { genesis } => self.on_join(genesis),
        }
        self.outbox.drain(..)
    }

    /// This node's public key.
    pub fn me(&self) -> PublicKey {
        self.me
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The flotillas this node follows (joined ones once their genesis arrived).
    pub fn flotillas(&self) -> impl Iterator<Item = &FlotillaId> {
        self.flotillas.keys()
    }

    /// A flotilla's ledger.
    pub fn ledger(&self, flotilla: &FlotillaId) -> Option<&Ledger> {
        self.flotillas.get(flotilla).map(|f| &f.ledger)
    }

    /// A flotilla's keyring (the keys this node holds).
    pub fn keyring(&self, flotilla: &FlotillaId) -> Option<&Keyring> {
        self.flotillas.get(flotilla).map(|f| &f.keyring)
    }

    /// Was this event accepted, then revoked by its author's removal?
    pub fn is_revoked(&self, flotilla: &FlotillaId, id: &EventId) -> bool {
        self.flotillas
            .get(flotilla)
            .is_some_and(|f| f.revoked.contains(id))
    }

    /// How many stored events of `flotilla` are revoked.
    pub fn revoked_len(&self, flotilla: &FlotillaId) -> usize {
        self.flotillas.get(flotilla).map_or(0, |f| f.revoked.len())
    }

    /// Every event id of `flotilla` this node syncs (stored and not revoked).
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    pub fn event_ids(&self, flotilla: &FlotillaId) -> Result<BTreeSet<EventId>, StoreError> {
        let mut ids = BTreeSet::new();
        for channel in self.store.channels(flotilla)? {
            for (_, id) in self.store.channel_items(flotilla, &channel)? {
                if !self.is_revoked(flotilla, &id) {
                    ids.insert(id);
                }
            }
        }
        Ok(ids)
    }

    /// Forgets what the core keeps in memory about `flotilla`'s stored events (the
    /// reconciliation sets), for a driver that wrote to the store directly (a bulk load):
    /// they are read from the store again when next needed.
    pub fn store_written(&mut self, flotilla: &FlotillaId) {
        self.cache.retain(|(f, _), _| f != flotilla);
    }

    /// How many received events wait for their control deps.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// May this node send anything of `flotilla` to `peer`? (The membership gate; the node's
    /// gossip layer uses it too.)
    pub fn may_sync(&self, flotilla: &FlotillaId, peer: &PublicKey) -> bool {
        let Some(f) = self.flotillas.get(flotilla) else {
            return false;
        };
        let state = f.ledger.state();
        if state.is_active_node(peer) {
            return true;
        }
        // Joining: we are not in our own ledger yet, so we cannot judge the peer; it offered
        // the flotilla, and everything it sends is verified against the genesis.
        !state.nodes.contains_key(&self.me)
            && self
                .peers
                .get(peer)
                .is_some_and(|p| p.offered.contains(flotilla))
    }

    /// Does this node take `Events` of `flotilla` from `peer`? A member peer of a followed
    /// flotilla, or, while joining it, a peer that offered it. Drivers that verify events
    /// off the state machine ([`InEvent::Verified`]) ask first, so outsiders cost nothing.
    pub fn accepts_events(&self, peer: &PublicKey, flotilla: &FlotillaId) -> bool {
        if self.flotillas.contains_key(flotilla) {
            self.may_sync(flotilla, peer)
        } else {
            !self.joins.is_empty()
                && self
                    .peers
                    .get(peer)
                    .is_some_and(|p| p.offered.contains(flotilla))
        }
    }

    /// Runs `f` with a builder context for `flotilla` and this node's key, to write local
    /// events (then pass them to [`InEvent::Publish`]). `None` if the flotilla is unknown.
    pub fn with_ctx<T>(
        &mut self,
        flotilla: &FlotillaId,
        now_ms: u64,
        f: impl FnOnce(&mut author::Ctx<'_, R>, &SecretKey) -> T,
    ) -> Option<T> {
        let fl = self.flotillas.get_mut(flotilla)?;
        let mut ctx = author::Ctx {
            ledger: &mut fl.ledger,
            keyring: &fl.keyring,
            clock: &mut fl.clock,
            now_ms,
            rng: &mut self.rng,
        };
        Some(f(&mut ctx, &self.node_key))
    }

    /// Founds a flotilla on this node (see [`author::found`]) with `admin` as its first admin,
    /// stores its first events, and returns its id with the outputs (publish them).
    ///
    /// # Errors
    /// [`AuthorError`] if a name breaks a limit.
    pub fn found(
        &mut self,
        node_name: &str,
        admin: &SecretKey,
        username: &str,
        name: &str,
        now_ms: u64,
    ) -> Result<(FlotillaId, Vec<OutEvent>), AuthorError> {
        let mut clock = Clock::new();
        let founded = author::found(
            &self.node_key,
            node_name,
            admin,
            username,
            name,
            &mut clock,
            now_ms,
            &mut self.rng,
        )?;
        let flotilla = founded.flotilla;
        self.flotillas.insert(
            flotilla,
            Flotilla {
                ledger: founded.ledger,
                keyring: founded.keyring,
                clock,
                revoked: BTreeSet::new(),
            },
        );
        let events = founded.events.into_iter().map(|e| (e, true)).collect();
        self.commit(flotilla, events, now_ms);
        Ok((flotilla, self.outbox.drain(..).collect()))
    }

    /// Follows `flotilla` (founded by `genesis`) again, for a node restarting on its store:
    /// rebuilds the ledger, keyring, clock and revocations from the stored events. A
    /// flotilla whose genesis never arrived (a join interrupted by the restart) starts with an
    /// empty ledger and is joined like after [`InEvent::Join`]. Does nothing for a flotilla
    /// already followed.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails; the flotilla is then not followed.
    pub fn resume(&mut self, genesis: EventId, flotilla: FlotillaId) -> Result<(), StoreError> {
        if self.flotillas.contains_key(&flotilla) {
            return Ok(());
        }
        self.flotillas.insert(
            flotilla,
            Flotilla {
                ledger: Ledger::new(genesis),
                keyring: Keyring::new(),
                clock: Clock::new(),
                revoked: BTreeSet::new(),
            },
        );
        let res = self.reload(flotilla);
        if res.is_err() {
            self.flotillas.remove(&flotilla);
        }
        res
    }

    fn arm_resync(&mut self) {
        let interval = self.config.resync_interval_ms;
        let jitter = self.rng.next_u64() % (interval / 4).max(1);
        self.timer_armed = true;
        self.outbox.push(OutEvent::SetTimer {
            after_ms: interval - interval / 8 + jitter,
            timer: Timer::Resync,
        });
    }

    fn deliver(&mut self, event: Event) {
        self.outbox.push(OutEvent::Deliver(event));
    }

    fn send(&mut self, peer: PublicKey, msg: PeerMsg) {
        self.outbox.push(OutEvent::Send { peer, msg });
    }

    fn on_peer_up(&mut self, peer: PublicKey) {
        self.peers.insert(peer, Peer::default());
        self.greet(peer);
    }

    /// Sends `peer` a Hello for every flotilla we may sync with it.
    fn greet(&mut self, peer: PublicKey) {
        let shared: Vec<FlotillaId> = self
            .flotillas
            .keys()
            .filter(|f| self.may_sync(f, &peer))
            .copied()
            .collect();
        for f in shared {
            self.send_hello(peer, f);
        }
    }

    fn on_recv(&mut self, peer: PublicKey, msg: PeerMsg, now_ms: u64) {
        if !self.peers.contains_key(&peer) {
            return; // not connected (a late frame after PeerDown)
        }
        match msg {
            PeerMsg::Hello {
                flotilla,
                summaries,
            } => self.on_hello(peer, flotilla, summaries, now_ms),
            PeerMsg::Reconcile {
                flotilla,
                channel,
                round,
                msg,
            } => self.on_reconcile(peer, (flotilla, channel), round, &msg, now_ms),
            PeerMsg::Want { flotilla, ids } => self.on_want(peer, flotilla, &ids),
            PeerMsg::Have { flotilla, ids } => self.on_have(peer, flotilla, ids),
            PeerMsg::Events { flotilla, events } => self.on_events(peer, flotilla, &events, now_ms),
            PeerMsg::KeyWant { flotilla, ids } => self.on_key_want(peer, flotilla, &ids),
            PeerMsg::Keys { flotilla, sealed } => self.on_keys(peer, flotilla, &sealed),
        }
    }

    fn on_publish(&mut self, event: SignedEvent, now_ms: u64) {
        let flotilla = event.envelope().flotilla;
        if !self.flotillas.contains_key(&flotilla) {
            let id = event.id();
            self.deliver(Event::Rejected {
                from: None,
                id,
                reason: AuthError::WrongFlotilla,
            });
            return;
        }
        self.ingest(flotilla, vec![event], None, true, now_ms);
    }

    fn on_join(&mut self, genesis: EventId) {
        let known = self
            .flotillas
            .values()
            .any(|f| f.ledger.genesis() == genesis);
        if !known && self.joins.len() < MAX_JOINS {
            self.joins.insert(genesis);
        }
    }

    fn on_resync(&mut self, now_ms: u64) {
        self.timer_armed = false;
        self.arm_resync();
        let timeout = self.config.session_timeout_ms;
        let peers: Vec<PublicKey> = self.peers.keys().copied().collect();
        for peer in peers {
            if let Some(p) = self.peers.get_mut(&peer) {
                p.greeted.clear();
                // Answers lost with a dropped connection or a timed-out request: ask again.
                p.wanted.clear();
                p.sessions
                    .retain(|_, round| now_ms.saturating_sub(round.sent_ms) < timeout);
                let sessions = &p.sessions;
                p.again.retain(|key| sessions.contains_key(key));
            }
            self.pump_wants(peer);
            self.greet(peer);
            self.pump(peer, now_ms);
        }
    }
}

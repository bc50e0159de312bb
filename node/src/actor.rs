//! The node actor: one task per node that owns the libp2p swarm, the sync core
//! ([`proto::sync::State`] over the sled store) and the timers, and serves [`Command`]s.
//!
//! ```text
//! NodeHandle ──Command (mpsc, CMD_CAP, oneshot reply)──┐
//! discovery ──DiscoveryUpdate (mpsc, DISCOVERED_CAP)───┤
//! timers ──Timers (one sleep_until)────────────────────┼─► Actor ─► State::handle(InEvent)
//! swarm ──SwarmEvent (gossipsub, request-response)─────┘      │
//!                     Event (broadcast, EVENT_CAP) ◄──────────┘ OutEvents: Send → request,
//!                                                               Publish → gossipsub/outbox
//! ```
//! The loop is `biased`: shutdown, then local commands, then timers, discovery and the
//! swarm (local work first, as libp2p advises: a busy network cannot starve the API).
//! Every handler is a small `on_*` method; none awaits, so one slow peer cannot stall the
//! node. Store reads and writes are synchronous sled calls on the actor task (sub-ms, flushed
//! once per ingest batch).

mod cache;
mod channels;
mod chat;
mod chat_commands;
mod commands;
mod files;
mod found;
mod group;
mod import;
mod join;
mod links;
mod load;
mod lora;
mod members;
mod moves;
mod peers;
mod posts;
mod search;
mod timers;
mod unread;
mod verify;
mod views;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use flotilla_protocol as proto;
use futures::StreamExt;
use libp2p::swarm::SwarmEvent;
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::{Multiaddr, PeerId, Swarm, gossipsub};
use proto::PublicKey;
use proto::SecretKey;
use proto::entropy::Entropy;
use proto::event::Content;
use proto::id::{EventId, FlotillaId};
use proto::sync::{self, InEvent, OutEvent, State};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::Error;
use crate::handle::{Command, DiscoveryUpdate, Event, Message, NodeHandle};
use crate::net::{self, Behaviour, BehaviourEvent, Timeouts, codec};
use crate::store::SledStore;
use crate::users::Users;
use found::{FoundPeers, Plan};
use timers::{Timer, Timers};

/// Events per flotilla kept for gossip while no peer is subscribed to its topic (gossipsub
/// does not queue them: research/tech.md §1.6). Oldest dropped first: whatever is dropped
/// reaches peers with the next reconciliation.
pub(crate) const OUTBOX_CAP: usize = 256;
/// Peers remembered (connected or not), at most; the longest unseen is forgotten first.
pub(crate) const MAX_KNOWN_PEERS: usize = 1024;
/// First redial of a lost static peer.
pub(crate) const REDIAL_INITIAL: Duration = Duration::from_secs(1);
/// Longest wait between redials of a static peer (backoff doubles up to this).
pub(crate) const REDIAL_MAX: Duration = Duration::from_secs(300);

/// The operating system's randomness, for the sync core.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill(&mut self, buf: &mut [u8]) {
        // Without OS randomness no key, nonce or id can be made safely: stop rather than
        // continue with predictable bytes.
        #[allow(clippy::expect_used)]
        getrandom::fill(buf).expect("the operating system's random number generator failed");
    }
}

/// Wall clock in ms since the Unix epoch (the sync core takes time as an argument).
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// What the actor needs to start.
#[derive(Debug)]
pub(crate) struct Setup {
    pub(crate) key: SecretKey,
    pub(crate) name: String,
    pub(crate) store: SledStore,
    pub(crate) timeouts: Timeouts,
    pub(crate) listen: Vec<Multiaddr>,
    pub(crate) peers: Vec<Multiaddr>,
    pub(crate) lora: crate::lora::LoraConfig,
    pub(crate) attachments: crate::files::Attachments,
    /// Refuses posts and uploads on a full disk.
    pub(crate) disk: crate::disk::DiskGuard,
}

/// A peer as the actor tracks it.
#[derive(Debug, Default)]
struct PeerEntry {
    addrs: Vec<Multiaddr>,
    connections: usize,
    last_seen_ms: u64,
    /// May talk about some flotilla we share (or is helping us join).
    welcome: bool,
}

/// A configured peer, redialled with backoff.
#[derive(Debug)]
struct StaticPeer {
    addr: Multiaddr,
    peer: Option<PeerId>,
    backoff: Duration,
}

/// A join in progress (joiner side).
#[derive(Debug)]
struct JoinAttempt {
    genesis: EventId,
    reply: Option<oneshot::Sender<Result<FlotillaId, Error>>>,
    /// Requests not answered yet.
    outstanding: usize,
    /// The last refusal or failure.
    last_error: Option<Error>,
    /// The flotilla, once a member said "joined".
    flotilla: Option<FlotillaId>,
    /// Peers asked (welcome while the join runs).
    via: Vec<PeerId>,
    /// What the joiner sends to a member (a proof bound to this node; no secret).
    request: crate::net::codec::JoinRequest,
    /// Probes not answered yet: which peer each went to.
    probes: HashMap<libp2p::request_response::OutboundRequestId, PeerId>,
}

/// The actor. See the module docs.
pub(crate) struct Actor {
    key: SecretKey,
    me: PublicKey,
    name: String,
    timeouts: Timeouts,
    swarm: Swarm<Behaviour>,
    state: State<SledStore, OsEntropy>,
    store: SledStore,
    users: Users,
    rng: OsEntropy,
    timers: Timers,
    cmd_rx: mpsc::Receiver<Command>,
    discovered_rx: mpsc::Receiver<DiscoveryUpdate>,
    events: broadcast::Sender<Event>,
    connected: Arc<AtomicUsize>,
    peers: HashMap<PeerId, PeerEntry>,
    /// Peers discovery found, redialled while disconnected.
    found: FoundPeers,
    statics: Vec<StaticPeer>,
    /// Dials of static peers in flight: connection id → static index.
    static_dials: HashMap<libp2p::swarm::ConnectionId, usize>,
    topics: HashMap<gossipsub::TopicHash, FlotillaId>,
    outbox: BTreeMap<FlotillaId, VecDeque<Vec<u8>>>,
    joins: BTreeMap<u64, JoinAttempt>,
    join_requests: HashMap<libp2p::request_response::OutboundRequestId, u64>,
    next_join: u64,
    listeners: Vec<Multiaddr>,
    stop_reply: Option<oneshot::Sender<Result<(), Error>>>,
    /// One chat fold per followed flotilla.
    cache: cache::FoldCache,
    /// Where attachments go, and their limits.
    files: crate::files::Attachments,
    /// Chunk transfers, "have" sets, GRIB previews.
    fsvc: files::FileService,
    /// Live connections and their missed pings ([`links`]).
    liveness: net::liveness::Liveness,
    /// The LoRa bridge, when radios are configured.
    lora: Option<lora::LoraLink>,
    /// Events that crossed the radio and boats heard by it, for the UI.
    lora_marks: crate::lora::marks::Marks,
    /// The full-text indexes, one per flotilla (see [`crate::search`]).
    search: crate::search::Search,
    /// Local posts written and not yet flushed (see [`group`]).
    group: group::Group,
    /// Received events verified off the actor (see [`verify`]).
    verified_tx: mpsc::Sender<verify::Verified>,
    verified_rx: mpsc::Receiver<verify::Verified>,
    /// Imported posts already in each flotilla, for idempotent imports.
    imported: crate::import::Seen,
    /// Events accepted per second, for `flotilla status` ([`crate::status`]).
    ingest: crate::status::IngestMeter,
}

impl std::fmt::Debug for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Actor")
            .field("me", &self.me.fmt_short())
            .finish_non_exhaustive()
    }
}

/// Starts the actor on the current tokio runtime; returns its handle and its task.
///
/// # Errors
/// [`Error::Net`] if the swarm cannot be built or a listen address refused,
/// [`Error::Store`] / [`Error::CoreStore`] if resuming the stored flotillas fails.
pub(crate) fn spawn(setup: Setup) -> Result<(NodeHandle, tokio::task::JoinHandle<()>), Error> {
    let (cmd_tx, cmd_rx) = mpsc::channel(crate::handle::CMD_CAP);
    let (disc_tx, discovered_rx) = mpsc::channel(crate::handle::DISCOVERED_CAP);
    let (events, _) = broadcast::channel(crate::handle::EVENT_CAP);
    let connected = Arc::new(AtomicUsize::new(0));
    let disk = setup.disk.clone();
    let actor = Actor::new(
        setup,
        cmd_rx,
        discovered_rx,
        events.clone(),
        connected.clone(),
    )?;
    let handle = NodeHandle {
        cmd: cmd_tx,
        events,
        discovered: disc_tx,
        connected,
        id: actor.me,
        peer_id: *actor.swarm.local_peer_id(),
        disk,
    };
    let task = tokio::spawn(actor.run());
    Ok((handle, task))
}

impl Actor {
    fn new(
        setup: Setup,
        cmd_rx: mpsc::Receiver<Command>,
        discovered_rx: mpsc::Receiver<DiscoveryUpdate>,
        events: broadcast::Sender<Event>,
        connected: Arc<AtomicUsize>,
    ) -> Result<Self, Error> {
        let Setup {
            key,
            name,
            store,
            timeouts,
            listen,
            peers,
            lora: lora_config,
            attachments,
            disk: _,
        } = setup;
        let mut swarm = net::build_swarm(&key, &timeouts)?;
        let local_peer = *swarm.local_peer_id();
        for addr in &listen {
            swarm
                .listen_on(addr.clone())
                .map_err(|e| net::Error::Listen {
                    addr: addr.to_string(),
                    reason: e.to_string(),
                })?;
        }
        let users = Users::load(&store, &key)?;
        let (verified_tx, verified_rx) = verify::channel();
        let state = State::new(
            key.clone(),
            sync::Config::default(),
            store.clone(),
            OsEntropy,
        );
        let statics = peers
            .into_iter()
            .map(|addr| StaticPeer {
                peer: peer_of(&addr),
                addr,
                backoff: REDIAL_INITIAL,
            })
            .collect();
        let mut actor = Actor {
            me: key.public(),
            key,
            name,
            timeouts,
            swarm,
            state,
            store,
            users,
            rng: OsEntropy,
            timers: Timers::default(),
            cmd_rx,
            discovered_rx,
            events,
            connected,
            peers: HashMap::new(),
            found: FoundPeers::new(local_peer),
            statics,
            static_dials: HashMap::new(),
            topics: HashMap::new(),
            outbox: BTreeMap::new(),
            joins: BTreeMap::new(),
            join_requests: HashMap::new(),
            next_join: 0,
            listeners: Vec::new(),
            stop_reply: None,
            cache: cache::FoldCache::default(),
            fsvc: files::FileService::load(&attachments, &timeouts),
            search: crate::search::Search::new(crate::search::dir_for(&attachments.dir)),
            files: attachments,
            liveness: net::liveness::Liveness::new(timeouts.missed_pings),
            lora: lora::LoraLink::start(lora_config),
            lora_marks: crate::lora::marks::Marks::default(),
            group: group::Group::default(),
            verified_tx,
            verified_rx,
            imported: crate::import::Seen::default(),
            ingest: crate::status::IngestMeter::default(),
        };
        actor.resume_all()?;
        for i in 0..actor.statics.len() {
            actor.dial_static(i);
        }
        Ok(actor)
    }

    /// Follows again every flotilla recorded in the store.
    fn resume_all(&mut self) -> Result<(), Error> {
        for (flotilla, genesis) in self.store.geneses()? {
            self.state.resume(genesis, flotilla)?;
            self.follow_topic(flotilla);
        }
        Ok(())
    }

    async fn run(mut self) {
        loop {
            let deadline = self.timers.next_deadline();
            tokio::select! {
                biased;
                Some(cmd) = self.cmd_rx.recv() => self.on_commands(cmd),
                () = tokio::time::sleep_until(deadline) => self.on_timers(),
                Some(batch) = self.verified_rx.recv() => self.on_verified(batch),
                Some(done) = self.fsvc.done.recv() => self.on_files_done(done),
                Some(found) = self.discovered_rx.recv() => self.on_discovered(found),
                Some(input) = lora::recv(&mut self.lora) => self.on_lora(input),
                ev = self.swarm.select_next_some() => self.on_swarm_event(ev),
            }
            if self.stop_reply.is_some() {
                break;
            }
        }
        self.search.commit_all();
        let res = self.store.flush().map_err(Error::from);
        if let Some(reply) = self.stop_reply.take() {
            let _ = reply.send(res); // the caller may have given up waiting
        }
        tracing::info!(node = %self.me.fmt_short(), "actor stopped");
    }

    /// Feeds one input to the sync core and returns its outputs (not yet executed).
    fn step(&mut self, ev: InEvent) -> Vec<OutEvent> {
        let t = std::time::Instant::now();
        let outs = self.state.handle(ev, now_ms()).collect();
        crate::profile::add(crate::profile::Stage::Core, t);
        outs
    }

    /// Feeds one input to the sync core and executes its outputs.
    fn drive(&mut self, ev: InEvent) {
        let outs = self.step(ev);
        self.execute(outs);
    }

    fn execute(&mut self, outs: Vec<OutEvent>) {
        for out in outs {
            match out {
                OutEvent::Send { peer, msg } => self.send_sync(&peer, msg),
                OutEvent::Publish {
                    flotilla,
                    event,
                    local,
                } => {
                    self.lora_local(&event);
                    if local {
                        self.publish_local(flotilla, event.bytes().to_vec());
                    }
                }
                OutEvent::SetTimer { after_ms, timer } => self
                    .timers
                    .set(Duration::from_millis(after_ms), Timer::Sync(timer)),
                OutEvent::Deliver(ev) => self.on_sync_event(ev),
            }
        }
    }

    fn send_sync(&mut self, peer: &PublicKey, msg: proto::wire::PeerMsg) {
        if let Some(pid) = net::peer_id(peer)
            && self.swarm.is_connected(&pid)
        {
            self.swarm
                .behaviour_mut()
                .sync
                .send_request(&pid, codec::Request::Sync(msg));
        }
    }

    fn emit(&self, ev: Event) {
        let _ = self.events.send(ev); // no subscriber is fine
    }

    fn on_sync_event(&mut self, ev: sync::Event) {
        if matches!(ev, sync::Event::Accepted { .. }) {
            self.ingest.add(now_ms(), 1);
        }
        match &ev {
            sync::Event::Accepted {
                flotilla,
                id,
                control: true,
                ..
            } => {
                tracing::debug!(flotilla = %flotilla.fmt_short(), id = %id.fmt_short(), "control event accepted");
                self.refresh_welcome();
                self.check_joins();
                self.on_control_accepted(*flotilla, *id);
            }
            sync::Event::Accepted {
                flotilla,
                id,
                control: false,
                ..
            } => {
                self.on_content_accepted(*flotilla, *id);
            }
            sync::Event::Revoked { flotilla, .. } => self.drop_fold(flotilla),
            sync::Event::Rejected { from, id, reason } => {
                tracing::debug!(id = %id.fmt_short(), from = ?from.map(|k| k.fmt_short()), %reason, "event rejected");
            }
            _ => {}
        }
        self.emit(Event::Sync(ev));
    }

    /// Tells subscribers about an accepted post (decrypted once, by the caller).
    fn announce_post(&self, flotilla: FlotillaId, event: &proto::SignedEvent, content: &Content) {
        let Some(ledger) = self.state.ledger(&flotilla) else {
            return;
        };
        let Content::Post { text, root, .. } = content else {
            return;
        };
        let env = event.envelope();
        let message = Message {
            id: event.id(),
            channel: env.channel,
            author: chat::username(ledger.state(), &env.author),
            author_deleted: views::author_deleted(ledger.state(), &env.author),
            text: text.clone(),
            root_id: *root,
            created_at: env.hlc.ms,
        };
        self.emit(Event::Post { flotilla, message });
    }

    /// Subscribes to a flotilla's gossip topic.
    fn follow_topic(&mut self, flotilla: FlotillaId) {
        let topic = net::topic(&flotilla);
        self.topics.insert(topic.hash(), flotilla);
        if let Err(e) = self.swarm.behaviour_mut().gossipsub.subscribe(&topic) {
            tracing::warn!(%e, "cannot subscribe to the flotilla topic");
        }
    }

    /// Publishes a local event on gossip, or keeps it in the outbox until a peer subscribes.
    fn publish(&mut self, flotilla: FlotillaId, data: Vec<u8>) {
        let topic = net::topic(&flotilla);
        match self
            .swarm
            .behaviour_mut()
            .gossipsub
            .publish(topic, data.clone())
        {
            Ok(_) | Err(gossipsub::PublishError::Duplicate) => {}
            Err(
                gossipsub::PublishError::NoPeersSubscribedToTopic
                | gossipsub::PublishError::AllQueuesFull(_),
            ) => {
                let queue = self.outbox.entry(flotilla).or_default();
                if queue.len() == OUTBOX_CAP {
                    queue.pop_front();
                }
                queue.push_back(data);
            }
            Err(e) => tracing::warn!(%e, "gossip publish failed"),
        }
    }

    /// A peer subscribed to `topic`: publish what waited for one.
    fn flush_outbox(&mut self, topic: &gossipsub::TopicHash) {
        let Some(flotilla) = self.topics.get(topic).copied() else {
            return;
        };
        let Some(queue) = self.outbox.remove(&flotilla) else {
            return;
        };
        for data in queue {
            self.publish(flotilla, data);
        }
    }

    fn on_timers(&mut self) {
        for timer in self.timers.due(tokio::time::Instant::now()) {
            match timer {
                Timer::Sync(t) => self.drive(InEvent::TimerFired(t)),
                Timer::Grace(peer) => self.on_grace(peer),
                Timer::Redial(i) => self.dial_static(i),
                Timer::Found(peer) => {
                    let connected = self.swarm.is_connected(&peer);
                    let plan = self.found.wake(&peer, connected, std::time::Instant::now());
                    self.follow_plan(peer, plan);
                }
                Timer::JoinDeadline(id) => self.on_join_deadline(id),
                Timer::Files => self.on_files_tick(),
            }
        }
    }

    /// Discovery found or lost a peer. A found peer is remembered in the peer table (its
    /// addresses and when it was seen) and dialled as [`found`] decides.
    fn on_discovered(&mut self, update: DiscoveryUpdate) {
        match update {
            DiscoveryUpdate::Found(found) => {
                let peer = found.peer;
                if peer == *self.swarm.local_peer_id() {
                    return;
                }
                let before = self.found.addrs(&peer);
                self.forget_old_peers();
                let entry = self.peers.entry(peer).or_default();
                entry.last_seen_ms = now_ms();
                for addr in &found.addrs {
                    if !entry.addrs.contains(addr) && entry.addrs.len() < 8 {
                        entry.addrs.push(addr.clone());
                    }
                }
                let connected = self.swarm.is_connected(&peer);
                if connected {
                    self.dial_new_paths(peer, &before, &found.addrs);
                }
                let now = std::time::Instant::now();
                let plan = self.found.found(peer, found.addrs, connected, now);
                self.follow_plan(peer, plan);
            }
            DiscoveryUpdate::Lost(peer) => {
                tracing::debug!(%peer, "discovery lost a peer");
                self.found.lost(&peer);
            }
        }
    }

    /// Dials and sets the wake-up a [`Plan`] asks for.
    fn follow_plan(&mut self, peer: PeerId, plan: Plan) {
        if let Some(addrs) = plan.dial {
            tracing::debug!(%peer, ?addrs, "dialling a discovered peer");
            let opts = DialOpts::peer_id(peer)
                .addresses(addrs)
                .condition(libp2p::swarm::dial_opts::PeerCondition::DisconnectedAndNotDialing)
                .build();
            if let Err(e) = self.swarm.dial(opts) {
                tracing::debug!(%peer, %e, "cannot dial a discovered peer");
            }
        }
        if let Some(after) = plan.wake_after {
            self.timers.set(after, Timer::Found(peer));
        }
    }

    fn dial_static(&mut self, i: usize) {
        let Some(sp) = self.statics.get(i) else {
            return;
        };
        if sp.peer.is_some_and(|p| self.swarm.is_connected(&p)) {
            return;
        }
        let opts = DialOpts::unknown_peer_id().address(sp.addr.clone()).build();
        let id = opts.connection_id();
        match self.swarm.dial(opts) {
            Ok(()) => {
                self.static_dials.insert(id, i);
            }
            Err(e) => {
                tracing::debug!(addr = %sp.addr, %e, "cannot dial a configured peer");
                self.schedule_redial(i);
            }
        }
    }

    fn schedule_redial(&mut self, i: usize) {
        let Some(sp) = self.statics.get_mut(i) else {
            return;
        };
        let after = sp.backoff;
        sp.backoff = (sp.backoff * 2).min(REDIAL_MAX);
        self.timers.set(after, Timer::Redial(i));
    }

    fn set_connected_count(&self) {
        let n = self.peers.values().filter(|p| p.connections > 0).count();
        self.connected.store(n, Ordering::Relaxed);
    }

    /// Is `peer` allowed to talk flotilla business with us?
    fn is_welcome(&self, peer: &PeerId) -> bool {
        if self.joins.values().any(|j| j.via.contains(peer)) {
            return true;
        }
        let Some(key) = net::node_key(peer) else {
            return false;
        };
        self.state.flotillas().any(|f| self.state.may_sync(f, &key))
    }

    /// Recomputes who is welcome after the membership changed; gossipsub scores follow.
    fn refresh_welcome(&mut self) {
        let connected: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.connections > 0)
            .map(|(k, _)| *k)
            .collect();
        for peer in connected {
            let welcome = self.is_welcome(&peer);
            self.set_welcome(peer, welcome);
        }
    }

    fn set_welcome(&mut self, peer: PeerId, welcome: bool) {
        let score = if welcome {
            0.0
        } else {
            net::behaviour::OUTSIDER_SCORE
        };
        self.swarm
            .behaviour_mut()
            .gossipsub
            .set_application_score(&peer, score);
        if let Some(p) = self.peers.get_mut(&peer) {
            p.welcome = welcome;
        }
        if welcome {
            self.found.welcome(&peer);
        }
        if welcome {
            self.files_peer_up(peer); // a member is in reach: exchange "have" sets
        }
    }

    fn on_grace(&mut self, peer: PeerId) {
        if self.swarm.is_connected(&peer) && !self.is_welcome(&peer) {
            tracing::info!(%peer, "closing the connection of a peer that is not a member");
            let _ = self.swarm.disconnect_peer_id(peer);
        }
    }

    fn on_swarm_event(&mut self, ev: SwarmEvent<BehaviourEvent>) {
        match ev {
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(ev)) => self.on_gossip(ev),
            SwarmEvent::Behaviour(BehaviourEvent::Sync(ev)) => self.on_request_response(ev),
            SwarmEvent::Behaviour(BehaviourEvent::Identify(ev)) => self.on_identify(ev),
            SwarmEvent::Behaviour(BehaviourEvent::Ping(ev)) => self.on_ping(ev),
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                endpoint,
                num_established,
                ..
            } => self.on_connected(peer_id, connection_id, &endpoint, num_established.get()),
            SwarmEvent::ConnectionClosed {
                peer_id,
                connection_id,
                num_established,
                ..
            } => {
                self.link_down(connection_id);
                self.on_disconnected(peer_id, num_established);
            }
            SwarmEvent::OutgoingConnectionError {
                connection_id,
                error,
                ..
            } => {
                if let Some(i) = self.static_dials.remove(&connection_id) {
                    tracing::debug!(%error, "configured peer unreachable; redialling later");
                    self.schedule_redial(i);
                }
            }
            SwarmEvent::NewListenAddr { address, .. } => self.on_listening(address),
            _ => {}
        }
    }

    fn on_listening(&mut self, address: Multiaddr) {
        let full = address
            .with_p2p(*self.swarm.local_peer_id())
            .unwrap_or_else(|a| a);
        tracing::info!(addr = %full, "listening");
        self.listeners.push(full.clone());
        self.emit(Event::Listening(full));
    }

    fn on_gossip(&mut self, ev: gossipsub::Event) {
        match ev {
            gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            } => self.on_gossip_message(propagation_source, &message_id, message),
            gossipsub::Event::Subscribed { topic, .. } => self.flush_outbox(&topic),
            _ => {}
        }
    }

    /// A gossip message: judged by the sync core as events from the neighbour that
    /// forwarded it (the author may be hops away, and the core talks only to connected
    /// peers); forwarded further only if accepted.
    fn on_gossip_message(
        &mut self,
        from: PeerId,
        message_id: &gossipsub::MessageId,
        message: gossipsub::Message,
    ) {
        use gossipsub::MessageAcceptance as A;
        let verdict = self.judge_gossip(from, message);
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(message_id, &from, verdict.unwrap_or(A::Ignore));
    }

    fn judge_gossip(
        &mut self,
        from: PeerId,
        message: gossipsub::Message,
    ) -> Option<gossipsub::MessageAcceptance> {
        use gossipsub::MessageAcceptance as A;
        let flotilla = *self.topics.get(&message.topic)?;
        let peer = net::node_key(&from)?;
        if !self.state.may_sync(&flotilla, &peer) {
            return Some(A::Ignore); // outsiders (and not-yet-known members) are not heard
        }
        // Only the id here (no signature check): the core decodes and verifies the event once.
        let Ok(id) = proto::SignedEvent::id_of(&message.data) else {
            return Some(A::Reject);
        };
        let msg = proto::wire::PeerMsg::Events {
            flotilla,
            events: vec![message.data],
        };
        let outs = self.step(InEvent::Recv { peer, msg });
        let verdict = outs.iter().find_map(|o| match o {
            OutEvent::Deliver(sync::Event::Accepted { id: a, .. }) if *a == id => Some(A::Accept),
            OutEvent::Deliver(sync::Event::Rejected { id: r, .. }) if *r == id => Some(A::Reject),
            OutEvent::Deliver(sync::Event::Invalid { .. }) => Some(A::Reject),
            _ => None,
        });
        self.execute(outs);
        Some(verdict.unwrap_or(A::Ignore))
    }

    fn on_identify(&mut self, ev: libp2p::identify::Event) {
        if let libp2p::identify::Event::Received { peer_id, info, .. } = ev
            && let Some(p) = self.peers.get_mut(&peer_id)
        {
            for addr in info.listen_addrs.into_iter().take(8) {
                if !p.addrs.contains(&addr) && p.addrs.len() < 8 {
                    p.addrs.push(addr);
                }
            }
        }
    }
}

/// The peer id at the end of a multiaddr (`/p2p/<id>`), if any.
pub(crate) fn peer_of(addr: &Multiaddr) -> Option<PeerId> {
    addr.iter().find_map(|p| match p {
        libp2p::multiaddr::Protocol::P2p(id) => Some(id),
        _ => None,
    })
}

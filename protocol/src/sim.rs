//! A deterministic multi-node simulator for [`crate::sync`]: no sockets, no tokio, no sleeps.
//!
//! Nodes are [`sync::State`]s over a [`MemStore`] and [`SeededEntropy`]. Time is virtual
//! (milliseconds); messages wait in one queue ordered by delivery time, each with its own
//! random latency (which reorders them), optionally duplicated or delayed further. Links go
//! up and down ([`Network::connect`], [`Network::partition`], [`Network::heal`]); a frame in
//! flight on a link that went down is lost, as on a closed connection. Timers fire in virtual
//! time. Gossip is modelled as flooding, the way the node drives gossipsub: an event written
//! on a node, or accepted from a gossip frame, is sent to every neighbour the node may sync
//! with; an event fetched by catch-up (a `Want` answered) is not flooded again. Every frame is encoded with [`wire::encode`], and its bytes counted by
//! message type ([`Network::stats`]).
//!
//! Everything derives from one seed: [`seeds`] reads `SEED` from the environment, and
//! [`SeedGuard`] prints the seed of a failing run. The flotilla helpers (founding, admitting,
//! users, posts, convergence checks) are in `sim/flotilla.rs`.

mod flotilla;

use std::collections::{BTreeMap, BTreeSet};

pub use flotilla::Divergence;

use crate::crypto::{PublicKey, SecretKey};
use crate::entropy::{Entropy, SeededEntropy};
use crate::id::FlotillaId;
use crate::store::MemStore;
use crate::sync::{self, Event, InEvent, OutEvent, Timer};
use crate::wire::{self, PeerMsg};

/// Virtual time 0, as a wall clock (ms since the Unix epoch) the nodes see.
pub const BASE_MS: u64 = 1_750_000_000_000;
/// How often (virtual ms) [`Network::run_until`] evaluates its predicate.
pub const CHECK_EVERY_MS: u64 = 50;

/// The simulated node type.
pub type Node = sync::State<MemStore, SeededEntropy>;

/// Link behaviour.
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// Latency of each frame, uniformly random in `min..=max` ms.
    pub latency_ms: (u64, u64),
    /// Probability that a frame is delivered twice.
    pub duplicate: f64,
    /// Probability that a frame is held back by up to ten times the maximum latency.
    pub reorder: f64,
    /// The nodes' sync configuration.
    pub sync: sync::Config,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            latency_ms: (5, 80),
            duplicate: 0.02,
            reorder: 0.05,
            sync: sync::Config {
                resync_interval_ms: 5_000,
                session_timeout_ms: 4_000,
                ..sync::Config::default()
            },
        }
    }
}

/// One simulated node: its state machine, its key, the users it holds, what it was told.
#[derive(Debug)]
pub struct SimNode {
    /// The sync state machine.
    pub state: Node,
    /// The node's secret key.
    pub secret: SecretKey,
    /// Users whose keys this node holds (index 0 of the founder is the first admin).
    pub users: Vec<SecretKey>,
    /// Every [`Event`] delivered to the application, in order.
    pub log: Vec<Event>,
    /// Frames received.
    pub received: u64,
    timer_gen: u64,
}

/// Bytes and frames sent, by message type (`hello`, `reconcile`, `want`, `events`, and
/// `gossip` for flooded events).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Encoded bytes by type.
    pub bytes: BTreeMap<&'static str, u64>,
    /// Frames by type.
    pub frames: BTreeMap<&'static str, u64>,
}

impl Stats {
    /// All bytes of all types.
    pub fn total_bytes(&self) -> u64 {
        self.bytes.values().sum()
    }

    /// Bytes of request-response sync traffic (everything but gossip).
    pub fn sync_bytes(&self) -> u64 {
        self.bytes
            .iter()
            .filter(|(k, _)| **k != "gossip")
            .map(|(_, v)| v)
            .sum()
    }

    fn count(&mut self, kind: &'static str, len: usize) {
        *self.bytes.entry(kind).or_default() += len as u64;
        *self.frames.entry(kind).or_default() += 1;
    }
}

#[derive(Debug)]
enum Item {
    Frame {
        from: usize,
        to: usize,
        epoch: u64,
        msg: PeerMsg,
        /// A flooded event (gossip), which the receiver forwards once accepted.
        gossip: bool,
    },
    Timer {
        node: usize,
        generation: u64,
        timer: Timer,
    },
}

/// The simulated network.
#[derive(Debug)]
pub struct Network {
    seed: u64,
    config: NetConfig,
    rng: SeededEntropy,
    now: u64,
    seq: u64,
    queue: BTreeMap<(u64, u64), Item>,
    nodes: Vec<SimNode>,
    index: BTreeMap<PublicKey, usize>,
    /// Links wanted (a < b) → epoch, bumped each time the link comes up.
    links: BTreeMap<(usize, usize), u64>,
    cut: BTreeSet<(usize, usize)>,
    stats: Stats,
    /// A gossip frame is being delivered: events it makes a node accept are flooded on.
    forwarding: bool,
    /// The flotilla founded with [`Network::found`], if any.
    pub flotilla: Option<FlotillaId>,
}

/// The seeds to run: `SEED` from the environment if set, else `0..count`.
pub fn seeds(count: u64) -> Vec<u64> {
    match std::env::var("SEED").ok().and_then(|s| s.parse().ok()) {
        Some(seed) => vec![seed],
        None => (0..count).collect(),
    }
}

/// Prints the seed when dropped during a panic (a failing scenario).
#[derive(Debug)]
pub struct SeedGuard(pub u64);

impl Drop for SeedGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "scenario failed with SEED={} (rerun with SEED={} cargo test ...)",
                self.0, self.0
            );
        }
    }
}

impl Network {
    /// An empty network whose every random choice derives from `seed`.
    pub fn new(seed: u64) -> Self {
        Self::with_config(seed, NetConfig::default())
    }

    /// An empty network with the given link behaviour.
    pub fn with_config(seed: u64, config: NetConfig) -> Self {
        Network {
            seed,
            config,
            rng: SeededEntropy::new(seed),
            now: 0,
            seq: 0,
            queue: BTreeMap::new(),
            nodes: Vec::new(),
            index: BTreeMap::new(),
            links: BTreeMap::new(),
            cut: BTreeSet::new(),
            stats: Stats::default(),
            forwarding: false,
            flotilla: None,
        }
    }

    /// Adds `n` nodes; returns the index of the first.
    pub fn add_nodes(&mut self, n: usize) -> usize {
        let first = self.nodes.len();
        for i in first..first + n {
            let mut rng =
                SeededEntropy::new(self.seed.wrapping_mul(1_000_003).wrapping_add(i as u64));
            let secret = SecretKey::generate(&mut rng);
            let state = sync::State::new(
                secret.clone(),
                self.config.sync.clone(),
                MemStore::new(),
                rng,
            );
            self.index.insert(secret.public(), i);
            self.nodes.push(SimNode {
                state,
                secret,
                users: Vec::new(),
                log: Vec::new(),
                received: 0,
                timer_gen: 0,
            });
        }
        first
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Virtual time, ms since the start.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// The wall clock the nodes see now.
    pub fn now_ms(&self) -> u64 {
        BASE_MS + self.now
    }

    /// The nodes.
    pub fn nodes(&self) -> &[SimNode] {
        &self.nodes
    }

    /// One node.
    pub fn node(&self, i: usize) -> &SimNode {
        &self.nodes[i]
    }

    /// One node, mutably (to build events with [`sync::State::with_ctx`]).
    pub fn node_mut(&mut self, i: usize) -> &mut SimNode {
        &mut self.nodes[i]
    }

    /// How many nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// No nodes?
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Traffic so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Forgets the traffic counted so far.
    pub fn reset_stats(&mut self) {
        self.stats = Stats::default();
    }

    /// A random number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.rng.next_u64() % (hi - lo + 1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.rng.next_u64() >> 11) as f64) / ((1u64 << 53) as f64) < p
    }

    fn key(a: usize, b: usize) -> (usize, usize) {
        (a.min(b), a.max(b))
    }

    /// Is the link between `a` and `b` up?
    pub fn is_up(&self, a: usize, b: usize) -> bool {
        let k = Self::key(a, b);
        self.links.contains_key(&k) && !self.cut.contains(&k)
    }

    /// Connects `a` and `b` (both get `PeerUp`).
    pub fn connect(&mut self, a: usize, b: usize) {
        let k = Self::key(a, b);
        if a == b || self.links.contains_key(&k) {
            return;
        }
        self.links.insert(k, 0);
        if !self.cut.contains(&k) {
            self.link_up(k);
        }
    }

    /// Disconnects `a` and `b` for good (both get `PeerDown`).
    pub fn disconnect(&mut self, a: usize, b: usize) {
        let k = Self::key(a, b);
        let was_up = self.is_up(a, b);
        self.links.remove(&k);
        self.cut.remove(&k);
        if was_up {
            self.link_down(k);
        }
    }

    /// Cuts every link between a node of `left` and a node of `right` until [`Self::heal`].
    pub fn partition(&mut self, left: &[usize], right: &[usize]) {
        for &a in left {
            for &b in right {
                let k = Self::key(a, b);
                if self.is_up(a, b) {
                    self.cut.insert(k);
                    self.link_down(k);
                } else if a != b {
                    self.cut.insert(k);
                }
            }
        }
    }

    /// Restores every link cut by [`Self::partition`].
    pub fn heal(&mut self) {
        let cut = std::mem::take(&mut self.cut);
        for k in cut {
            if self.links.contains_key(&k) {
                self.link_up(k);
            }
        }
    }

    fn link_up(&mut self, (a, b): (usize, usize)) {
        self.seq += 1;
        if let Some(epoch) = self.links.get_mut(&(a, b)) {
            *epoch = self.seq; // unique: frames of an earlier connection stay lost
        }
        let (ka, kb) = (self.nodes[a].secret.public(), self.nodes[b].secret.public());
        self.drive(a, InEvent::PeerUp(kb));
        self.drive(b, InEvent::PeerUp(ka));
    }

    fn link_down(&mut self, (a, b): (usize, usize)) {
        let (ka, kb) = (self.nodes[a].secret.public(), self.nodes[b].secret.public());
        self.drive(a, InEvent::PeerDown(kb));
        self.drive(b, InEvent::PeerDown(ka));
    }

    /// Feeds one input to node `i` now and executes its outputs.
    pub fn drive(&mut self, i: usize, event: InEvent) {
        let now = self.now_ms();
        let outs: Vec<OutEvent> = self.nodes[i].state.handle(event, now).collect();
        self.execute(i, outs);
    }

    /// Executes outputs of node `i` (also those returned by [`sync::State::found`]).
    pub fn execute(&mut self, i: usize, outs: Vec<OutEvent>) {
        for out in outs {
            match out {
                OutEvent::Send { peer, msg } => {
                    if let Some(&j) = self.index.get(&peer) {
                        self.transmit(i, j, msg, None);
                    }
                }
                OutEvent::Publish {
                    flotilla,
                    event,
                    local,
                } => {
                    if local || self.forwarding {
                        self.flood(i, flotilla, event.bytes());
                    }
                }
                OutEvent::SetTimer { after_ms, timer } => {
                    let node = &mut self.nodes[i];
                    node.timer_gen += 1;
                    let generation = node.timer_gen;
                    self.enqueue(
                        self.now + after_ms,
                        Item::Timer {
                            node: i,
                            generation,
                            timer,
                        },
                    );
                }
                OutEvent::Deliver(event) => self.nodes[i].log.push(event),
            }
        }
    }

    fn flood(&mut self, i: usize, flotilla: FlotillaId, bytes: &[u8]) {
        let neighbours: Vec<usize> = (0..self.nodes.len())
            .filter(|&j| j != i && self.is_up(i, j))
            .filter(|&j| {
                let peer = self.nodes[j].secret.public();
                self.nodes[i].state.may_sync(&flotilla, &peer)
            })
            .collect();
        for j in neighbours {
            let msg = PeerMsg::Events {
                flotilla,
                events: vec![bytes.to_vec()],
            };
            self.transmit(i, j, msg, Some("gossip"));
        }
    }

    /// Sends `msg` from `i` to `j` over their link (lost if the link is down).
    pub fn transmit(&mut self, i: usize, j: usize, msg: PeerMsg, label: Option<&'static str>) {
        let Some(&epoch) = self.links.get(&Self::key(i, j)) else {
            return;
        };
        if !self.is_up(i, j) {
            return;
        }
        let len = match wire::encode(&msg) {
            Ok(frame) => frame.len(),
            Err(_) => {
                self.stats.count("unencodable", 0);
                return;
            }
        };
        self.stats.count(label.unwrap_or(msg.kind()), len);
        let copies = if self.chance(self.config.duplicate) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let (lo, hi) = self.config.latency_ms;
            let mut delay = self.range(lo, hi);
            if self.chance(self.config.reorder) {
                delay += self.range(0, 10 * hi);
            }
            let item = Item::Frame {
                from: i,
                to: j,
                epoch,
                msg: msg.clone(),
                gossip: label == Some("gossip"),
            };
            self.enqueue(self.now + delay, item);
        }
    }

    fn enqueue(&mut self, at: u64, item: Item) {
        self.seq += 1;
        self.queue.insert((at, self.seq), item);
    }

    /// Processes the next queued item if it is due by `deadline`; false if none is.
    pub fn step(&mut self, deadline: u64) -> bool {
        let Some(entry) = self.queue.first_entry() else {
            return false;
        };
        if entry.key().0 > deadline {
            return false;
        }
        let ((at, _), item) = entry.remove_entry();
        self.now = self.now.max(at);
        match item {
            Item::Frame {
                from,
                to,
                epoch,
                msg,
                gossip,
            } => {
                let live =
                    self.links.get(&Self::key(from, to)) == Some(&epoch) && self.is_up(from, to);
                if live {
                    self.nodes[to].received += 1;
                    let peer = self.nodes[from].secret.public();
                    self.forwarding = gossip;
                    self.drive(to, InEvent::Recv { peer, msg });
                    self.forwarding = false;
                }
            }
            Item::Timer {
                node,
                generation,
                timer,
            } => {
                if self.nodes[node].timer_gen == generation {
                    self.drive(node, InEvent::TimerFired(timer));
                }
            }
        }
        true
    }

    /// Runs for `ms` of virtual time.
    pub fn run_for(&mut self, ms: u64) {
        let deadline = self.now + ms;
        while self.step(deadline) {}
        self.now = deadline;
    }

    /// Runs until `pred` holds (checked every [`CHECK_EVERY_MS`] of virtual time) or
    /// `max_virtual_ms` pass. Returns whether `pred` held.
    pub fn run_until(
        &mut self,
        mut pred: impl FnMut(&Network) -> bool,
        max_virtual_ms: u64,
    ) -> bool {
        let end = self.now + max_virtual_ms;
        while self.now < end {
            if pred(self) {
                return true;
            }
            self.run_for(CHECK_EVERY_MS.min(end - self.now));
        }
        pred(self)
    }
}

//! Test helpers for this crate and the `flotilla-tests` crate (feature `test-utils`):
//! valid signed events made from a seed ([`EventMaker`]), and [`TestNet`], real nodes in
//! this process.
//!
//! [`TestNet`] nodes listen on 127.0.0.1 port 0 (TCP), keep their data in temp dirs, have
//! mDNS off and only connect where a test dials. Partitions use libp2p's
//! `allow_block_list` (each side blocks the other's peer id: connections close at once and
//! dials are refused both ways); [`TestNet::heal`] unblocks and redials the links the test
//! made. Waiting is always for an observable condition with a bound ([`eventually`],
//! [`wait_for`]), never a bare sleep.

use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use libp2p::{Multiaddr, PeerId};
use tokio::sync::broadcast;

use crate::config::Config;
use crate::handle::{Event, NodeHandle};
use crate::node::Node;

use flotilla_protocol as proto;
use proto::entropy::{Entropy, SeededEntropy};
use proto::event::{ENVELOPE_VERSION, Envelope, Kind, Sealed, SignedEvent};
use proto::hlc::Hlc;
use proto::id::{ChannelId, EventId, FlotillaId};
use proto::{PublicKey, SecretKey};

/// Makes sealed content events (random ciphertext) signed by one key, in one flotilla.
#[derive(Debug)]
pub struct EventMaker {
    key: SecretKey,
    flotilla: FlotillaId,
    rng: SeededEntropy,
}

impl EventMaker {
    /// A maker whose key, flotilla and ciphertexts all derive from `seed`.
    pub fn new(seed: u64) -> Self {
        let mut rng = SeededEntropy::new(seed);
        let key = SecretKey::generate(&mut rng);
        let flotilla = FlotillaId(rng.array());
        EventMaker { key, flotilla, rng }
    }

    /// The signing key's public half.
    pub fn author(&self) -> PublicKey {
        self.key.public()
    }

    /// The flotilla every event belongs to.
    pub fn flotilla(&self) -> FlotillaId {
        self.flotilla
    }

    /// The `n`th test channel of the flotilla (never the control channel).
    pub fn channel(&self, n: u32) -> ChannelId {
        ChannelId::derived(&self.flotilla, &format!("test-{n}"))
    }

    /// A signed sealed event in `channel` at `hlc`, with 16..80 bytes of random ciphertext.
    ///
    /// # Panics
    /// If signing fails, which only a bug in this helper can cause.
    pub fn event(&mut self, channel: ChannelId, hlc: Hlc) -> SignedEvent {
        self.numbered(channel, hlc, 1)
    }

    /// [`Self::event`] with the author's sequence number `seq` (at least 1); its `prev` is
    /// a made-up id (none for 1): these events are stored, never judged by a ledger.
    ///
    /// # Panics
    /// If signing fails (`seq` 0, or a bug in this helper).
    pub fn numbered(&mut self, channel: ChannelId, hlc: Hlc, seq: u64) -> SignedEvent {
        let len = 16 + (self.rng.next_u64() % 64) as usize;
        let mut ciphertext = vec![0; len];
        self.rng.fill(&mut ciphertext);
        let sealed = Sealed {
            key: EventId([1; 32]),
            nonce: self.rng.array(),
            ciphertext,
        };
        let envelope = Envelope {
            v: ENVELOPE_VERSION,
            flotilla: self.flotilla,
            channel,
            author: self.key.public(),
            hlc,
            seq,
            prev: (seq > 1).then_some(EventId([3; 32])),
            deps: vec![EventId([2; 32])],
            kind: Kind::SEALED,
            payload: postcard::to_stdvec(&sealed).expect("a Sealed always encodes"),
        };
        SignedEvent::sign(envelope, &self.key).expect("test envelope is valid")
    }
}

/// How often [`eventually`] polls.
const POLL: Duration = Duration::from_millis(25);
/// How long [`TestNet`] waits for a connection or a disconnection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The join grace of test nodes: short, so that outsider tests are quick.
pub const TEST_JOIN_GRACE: Duration = Duration::from_secs(3);

/// Polls `check` until it returns true, or fails with `what` after `timeout`.
///
/// # Errors
/// On timeout, naming `what`.
pub async fn eventually<F, Fut>(timeout: Duration, what: &str, mut check: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            anyhow::bail!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Waits for an event for which `pred` returns `Some`, or fails with `what` after
/// `timeout` (swarm-test's `wait`). Lagging is tolerated (missed events are skipped).
///
/// # Errors
/// On timeout or a closed channel, naming `what`.
pub async fn wait_for<T>(
    rx: &mut broadcast::Receiver<Event>,
    what: &str,
    timeout: Duration,
    mut pred: impl FnMut(&Event) -> Option<T>,
) -> anyhow::Result<T> {
    let wait = async {
        loop {
            match rx.recv().await {
                Ok(ev) => {
                    if let Some(t) = pred(&ev) {
                        return Ok(t);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => {
                    anyhow::bail!("event channel closed waiting for {what}")
                }
            }
        }
    };
    tokio::time::timeout(timeout, wait)
        .await
        .with_context(|| format!("timed out after {timeout:?} waiting for {what}"))?
}

/// One real node of a [`TestNet`].
#[derive(Debug)]
pub struct TestNode {
    node: Option<Node>,
    handle: NodeHandle,
    addr: Multiaddr,
    dir: tempfile::TempDir,
}

impl TestNode {
    async fn start(dir: tempfile::TempDir, i: usize) -> anyhow::Result<Self> {
        let mut config = Config::for_tests(dir.path());
        config.name = Some(format!("boat{i}"));
        config.join_grace = Some(TEST_JOIN_GRACE);
        let node = Node::start(config).await.context("start a test node")?;
        let handle = node.handle().clone();
        eventually(CONNECT_TIMEOUT, "a listen address", || async {
            handle.listeners().await.is_ok_and(|a| !a.is_empty())
        })
        .await?;
        let addr = handle
            .listeners()
            .await?
            .into_iter()
            .next()
            .context("listen address")?;
        Ok(TestNode {
            node: Some(node),
            handle,
            addr,
            dir,
        })
    }
}

/// N real nodes in this process. See the module docs.
#[derive(Debug)]
pub struct TestNet {
    nodes: Vec<TestNode>,
    links: BTreeSet<(usize, usize)>,
    blocked: BTreeSet<(usize, usize)>,
}

/// Logs to the test's captured output, filtered by `RUST_LOG` (default: warnings). Once per
/// process; later calls do nothing.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

impl TestNet {
    /// Starts `n` nodes (`boat0`…), unconnected.
    ///
    /// # Errors
    /// If a node cannot start.
    pub async fn spawn(n: usize) -> anyhow::Result<Self> {
        init_tracing();
        let mut nodes = Vec::with_capacity(n);
        for i in 0..n {
            nodes.push(TestNode::start(tempfile::tempdir()?, i).await?);
        }
        Ok(TestNet {
            nodes,
            links: BTreeSet::new(),
            blocked: BTreeSet::new(),
        })
    }

    /// How many nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Node `i`'s handle.
    pub fn node(&self, i: usize) -> &NodeHandle {
        &self.nodes[i].handle
    }

    /// Node `i`'s listen address, with `/p2p/<peer id>`.
    pub fn addr(&self, i: usize) -> Multiaddr {
        self.nodes[i].addr.clone()
    }

    /// Node `i`'s store, while it runs.
    pub fn store(&self, i: usize) -> Option<crate::store::SledStore> {
        self.nodes[i].node.as_ref().map(|n| n.store().clone())
    }

    /// Node `i`'s data directory.
    pub fn data_dir(&self, i: usize) -> &std::path::Path {
        self.nodes[i].dir.path()
    }

    /// Node `i`'s peer id.
    pub fn peer(&self, i: usize) -> PeerId {
        self.nodes[i].handle.peer_id()
    }

    /// Is `a` connected to `b` (as `a` sees it)?
    ///
    /// # Errors
    /// If the node stopped.
    pub async fn connected(&self, a: usize, b: usize) -> anyhow::Result<bool> {
        let peer = self.peer(b);
        let peers = self.node(a).peers().await?;
        Ok(peers.iter().any(|p| p.peer == peer && p.connected))
    }

    /// `a` dials `b` and both see the connection (remembered for [`Self::heal`] and
    /// [`Self::restart`]).
    ///
    /// # Errors
    /// If the connection is not up within [`CONNECT_TIMEOUT`].
    pub async fn connect(&mut self, a: usize, b: usize) -> anyhow::Result<()> {
        self.links.insert((a.min(b), a.max(b)));
        self.node(a).dial(self.addr(b)).await?;
        eventually(
            CONNECT_TIMEOUT,
            &format!("{a} and {b} connected"),
            || async {
                self.connected(a, b).await.unwrap_or(false)
                    && self.connected(b, a).await.unwrap_or(false)
            },
        )
        .await
    }

    /// Connects 0–1, 1–2, …: a line.
    ///
    /// # Errors
    /// See [`Self::connect`].
    pub async fn connect_line(&mut self) -> anyhow::Result<()> {
        for i in 1..self.len() {
            self.connect(i - 1, i).await?;
        }
        Ok(())
    }

    /// Connects every pair.
    ///
    /// # Errors
    /// See [`Self::connect`].
    pub async fn connect_all(&mut self) -> anyhow::Result<()> {
        for a in 0..self.len() {
            for b in a + 1..self.len() {
                self.connect(a, b).await?;
            }
        }
        Ok(())
    }

    /// Cuts every link between a node of `a` and a node of `b` (both block each other),
    /// and waits until those connections are closed.
    ///
    /// # Errors
    /// If a node stopped or a connection stays up past [`CONNECT_TIMEOUT`].
    pub async fn partition(&mut self, a: &[usize], b: &[usize]) -> anyhow::Result<()> {
        for &i in a {
            for &j in b {
                self.node(i).block(self.peer(j), true).await?;
                self.node(j).block(self.peer(i), true).await?;
                self.blocked.insert((i, j));
            }
        }
        for &i in a {
            for &j in b {
                eventually(CONNECT_TIMEOUT, &format!("{i} and {j} apart"), || async {
                    !self.connected(i, j).await.unwrap_or(true)
                        && !self.connected(j, i).await.unwrap_or(true)
                })
                .await?;
            }
        }
        Ok(())
    }

    /// Lifts every partition and reconnects the links the test made.
    ///
    /// # Errors
    /// See [`Self::connect`].
    pub async fn heal(&mut self) -> anyhow::Result<()> {
        for (i, j) in std::mem::take(&mut self.blocked) {
            self.node(i).block(self.peer(j), false).await?;
            self.node(j).block(self.peer(i), false).await?;
        }
        for (a, b) in self.links.clone() {
            self.connect(a, b).await?;
        }
        Ok(())
    }

    /// Stops node `i` (no reconnection).
    ///
    /// # Errors
    /// If the node fails to shut down.
    pub async fn stop(&mut self, i: usize) -> anyhow::Result<()> {
        if let Some(node) = self.nodes[i].node.take() {
            node.shutdown().await?;
        }
        Ok(())
    }

    /// Starts node `i` again on its data dir (stopping it first if it runs) and redials the
    /// links the test made with it.
    ///
    /// # Errors
    /// If the node cannot stop, start or reconnect.
    pub async fn restart(&mut self, i: usize) -> anyhow::Result<()> {
        self.stop(i).await?;
        let dir = std::mem::replace(&mut self.nodes[i].dir, tempfile::tempdir()?);
        self.nodes[i] = TestNode::start(dir, i).await?;
        for (a, b) in self.links.clone() {
            if a == i || b == i {
                self.connect(a, b).await?;
            }
        }
        Ok(())
    }
}

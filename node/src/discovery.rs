//! Finding other boats on the same LAN with mDNS (mdns-sd), without libp2p types.
//!
//! [`Discovery::start`] advertises this node as an instance of `_flotilla._udp.local.` with
//! TXT `peer=<libp2p PeerId, base58>` and `v=1`, on every interface address (mdns-sd's
//! `enable_addr_auto`, which follows address changes), and browses for the other instances.
//! Resolved instances come out of a bounded channel as [`DiscoveryEvent`]s:
//!
//! ```text
//! mdns-sd thread ──flume (mdns-sd's own, 1000)──▶ forwarder task (Tracker: self filter, dedupe)
//!                                                   └─try_send──▶ mpsc(DISCOVERY_CAP) ──▶ actor
//! ```
//!
//! The seam for the node actor is narrow: start it once the TCP listen port is known, select on
//! the receiver, and for each [`Discovered`] dial `/ip4/{ip}/tcp/{port}` if [`should_dial`]
//! says so (the smaller peer id dials, so two boats do not dial each other at once).
//! Peer ids are plain strings here; the actor parses them into `libp2p::PeerId`.
//!
//! Why this shape (see research/tech.md §1.5, §2):
//! - mdns-sd runs its own OS thread and hands events over a bounded flume channel; when that
//!   channel fills, it closes the subscription **silently**. The forwarder drains it at once
//!   and never waits on the actor (it uses `try_send` and counts what it drops), and it
//!   browses again when the subscription closes.
//! - `ServiceResolved` fires several times per instance as records arrive, so the forwarder
//!   only passes a peer on when its address set changes, or again after
//!   [`DEFAULT_REFORWARD_AFTER`] (see [`tracker`]).
//! - our own service appears in our own browse: it is filtered by peer id.
//!
//! # When a boat drifts out of range and comes back
//! Measured in network namespaces (tests/integration/netns.rs; docs/performance.md):
//! - the boat whose link went down sees its own interface go down at mdns-sd's next interface
//!   check (every 5 s), drops what it learned there and reports every peer
//!   [`DiscoveryEvent::Lost`]; when the link comes back it re-queries at the next check and
//!   reports them [`DiscoveryEvent::Discovered`] again (about 5 s each way);
//! - the boats that stayed see no interface change: they keep the far boat's records until
//!   they expire (mdns-sd's record TTLs, minutes), so they report nothing, neither on the cut
//!   nor on the return.
//!
//! So the actor must not wait for a new `Discovered` to reconnect: it keeps the last
//! addresses of each discovered peer and re-dials them itself (with backoff) when the
//! connection closes, until `Lost`; the peer that lost its link re-discovers and dials too.
//! A node does exactly this: `crate::mdns` feeds the actor, whose `found` table redials.
//!
//! # Example
//! ```no_run
//! # async fn run() -> Result<(), flotilla_node::discovery::Error> {
//! use flotilla_node::discovery::{self, Discovery, DiscoveryConfig, DiscoveryEvent};
//! let me = "12D3KooWExample";
//! let (disc, mut events) = Discovery::start(DiscoveryConfig::new(me, 7171))?;
//! while let Some(ev) = events.recv().await {
//!     if let DiscoveryEvent::Discovered(found) = ev
//!         && discovery::should_dial(me, &found.peer_id)
//!     {
//!         println!("dial {} at {:?}", found.peer_id, found.addrs);
//!     }
//! }
//! disc.shutdown().await
//! # }
//! ```

pub mod tracker;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mdns_sd::{ServiceDaemon, ServiceEvent, ServiceInfo};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use tracker::Tracker;

/// The mDNS service type flotilla nodes advertise and browse.
pub const SERVICE_TYPE: &str = "_flotilla._udp.local.";

/// Capacity of the channel to the actor. Discovery events are rare (a few per boat per
/// minute); 64 absorbs a whole anchorage arriving at once while the actor is busy. Beyond
/// that, events are dropped and counted rather than stalling mDNS.
pub const DISCOVERY_CAP: usize = 64;

/// After this long, a peer whose addresses did not change is forwarded again when it is
/// resolved again, so an actor that lost its connection gets a reminder to re-dial.
pub const DEFAULT_REFORWARD_AFTER: Duration = Duration::from_secs(60);

/// The longest instance name we advertise. mdns-sd's default limit for service names is 15
/// bytes; we keep instance names as short so they fit any limit a boat's stack applies.
pub const MAX_INSTANCE_LEN: usize = 15;

/// The TXT key holding the libp2p peer id.
pub const TXT_PEER: &str = "peer";
/// The TXT key holding the discovery record version.
pub const TXT_VERSION: &str = "v";
/// The discovery record version we advertise.
pub const RECORD_VERSION: &str = "1";

/// How long [`Discovery::shutdown`] waits for mdns-sd to confirm each step.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(2);
/// First and longest pause between two attempts to browse again.
const REBROWSE_DELAY: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(5));

/// What [`Discovery::start`] needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryConfig {
    /// The service type, `_flotilla._udp.local.` ([`SERVICE_TYPE`]) outside tests.
    pub service: String,
    /// This node's instance name, ≤ [`MAX_INSTANCE_LEN`] bytes, no dots
    /// (see [`instance_name`]).
    pub instance: String,
    /// This node's libp2p peer id (base58), advertised in TXT and filtered from results.
    pub peer_id: String,
    /// The libp2p TCP port to advertise.
    pub tcp_port: u16,
    /// The mDNS UDP port; `None` is the standard 5353. Tests may use another one (both ends
    /// must agree).
    pub mdns_port: Option<u16>,
}

impl DiscoveryConfig {
    /// The standard configuration for `peer_id` listening on `tcp_port`.
    pub fn new(peer_id: impl Into<String>, tcp_port: u16) -> Self {
        let peer_id = peer_id.into();
        Self {
            service: SERVICE_TYPE.to_owned(),
            instance: instance_name(&peer_id),
            peer_id,
            tcp_port,
            mdns_port: None,
        }
    }
}

/// The instance name for a peer id: `fl-` and the last 12 alphanumeric characters of the id
/// (libp2p ed25519 ids all start with `12D3KooW`, so the tail is what differs). A clash only
/// costs a renamed instance: peers are told apart by the `peer` TXT property.
pub fn instance_name(peer_id: &str) -> String {
    let tail: Vec<char> = peer_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let start = tail.len().saturating_sub(MAX_INSTANCE_LEN - 3);
    let tail: String = tail[start..].iter().collect();
    format!("fl-{tail}")
}

/// Whether `me` should dial `them` when both discover each other: only the smaller peer id
/// dials, so the two sides never dial at the same time (no duplicate connections).
pub fn should_dial(me: &str, them: &str) -> bool {
    me < them
}

/// A peer found on the LAN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    /// Its libp2p peer id (base58), as advertised; not yet checked to parse.
    pub peer_id: String,
    /// Its libp2p TCP addresses: IPv4 first, loopback last in each family, never empty.
    pub addrs: Vec<SocketAddr>,
    /// When this was resolved.
    pub seen_at: Instant,
}

/// What discovery tells the actor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscoveryEvent {
    /// A peer appeared, changed addresses, or is reminded (see [`DEFAULT_REFORWARD_AFTER`]).
    Discovered(Discovered),
    /// A peer's advertisement was withdrawn or expired, or the interface we saw it on went
    /// down. It is forwarded again if it comes back.
    Lost {
        /// Its peer id.
        peer_id: String,
    },
}

/// Counters of a running [`Discovery`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Events dropped because the channel to the actor was full.
    pub dropped: u64,
    /// Times the browse subscription closed and was opened again.
    pub rebrowsed: u64,
}

/// A discovery failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The instance name is empty, too long or contains a dot.
    #[error("invalid mDNS instance name {name:?} (1 to {max} bytes, no dots)")]
    InvalidInstance {
        /// The name given.
        name: String,
        /// [`MAX_INSTANCE_LEN`].
        max: usize,
    },
    /// The peer id is empty.
    #[error("empty peer id")]
    EmptyPeerId,
    /// [`Discovery::start`] was called outside a tokio runtime.
    #[error("discovery must be started inside a tokio runtime")]
    NoRuntime,
    /// mdns-sd refused (bad service type, daemon gone, command queue full...).
    #[error("mDNS: {0}")]
    Mdns(#[from] mdns_sd::Error),
}

/// A running advertisement and browse. Dropping it stops both (best effort; prefer
/// [`Discovery::shutdown`], which waits for the goodbye to go out).
pub struct Discovery {
    daemon: ServiceDaemon,
    fullname: String,
    forwarder: JoinHandle<()>,
    counters: Arc<Counters>,
    stopped: bool,
}

impl std::fmt::Debug for Discovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Discovery")
            .field("fullname", &self.fullname)
            .field("stats", &self.stats())
            .field("stopped", &self.stopped)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct Counters {
    dropped: AtomicU64,
    rebrowsed: AtomicU64,
}

impl Discovery {
    /// Starts the mDNS daemon, advertises this node and browses for others.
    ///
    /// # Errors
    /// [`Error::InvalidInstance`] / [`Error::EmptyPeerId`] for a bad config,
    /// [`Error::NoRuntime`] outside tokio, [`Error::Mdns`] if mdns-sd refuses. Socket
    /// problems (port in use, no multicast) are not reported here: mdns-sd binds lazily and
    /// logs them; discovery then simply finds nobody.
    pub fn start(cfg: DiscoveryConfig) -> Result<(Self, mpsc::Receiver<DiscoveryEvent>), Error> {
        validate(&cfg)?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        let daemon = match cfg.mdns_port {
            Some(port) => ServiceDaemon::new_with_port(port)?,
            None => ServiceDaemon::new()?,
        };
        match Self::advertise_and_browse(&daemon, &cfg) {
            Ok((fullname, browse)) => {
                let (tx, rx) = mpsc::channel(DISCOVERY_CAP);
                let counters = Arc::new(Counters::default());
                let forwarder = Forwarder {
                    daemon: daemon.clone(),
                    service: cfg.service.clone(),
                    tracker: Tracker::new(cfg.peer_id.clone(), DEFAULT_REFORWARD_AFTER),
                    tx,
                    counters: counters.clone(),
                };
                let forwarder = runtime.spawn(forwarder.run(browse));
                let disc = Self {
                    daemon,
                    fullname,
                    forwarder,
                    counters,
                    stopped: false,
                };
                Ok((disc, rx))
            }
            Err(e) => {
                let _ = daemon.shutdown();
                Err(e)
            }
        }
    }

    fn advertise_and_browse(
        daemon: &ServiceDaemon,
        cfg: &DiscoveryConfig,
    ) -> Result<(String, mdns_sd::Receiver<ServiceEvent>), Error> {
        let props = [
            (TXT_PEER, cfg.peer_id.as_str()),
            (TXT_VERSION, RECORD_VERSION),
        ];
        let host = format!("{}.local.", cfg.instance);
        let info = ServiceInfo::new(
            &cfg.service,
            &cfg.instance,
            &host,
            "",
            cfg.tcp_port,
            &props[..],
        )?
        .enable_addr_auto();
        let fullname = info.get_fullname().to_owned();
        daemon.register(info)?;
        let browse = daemon.browse(&cfg.service)?;
        Ok((fullname, browse))
    }

    /// The advertised instance's full name (`fl-…._flotilla._udp.local.`).
    pub fn fullname(&self) -> &str {
        &self.fullname
    }

    /// Counters since start.
    pub fn stats(&self) -> Stats {
        Stats {
            dropped: self.counters.dropped.load(Ordering::Relaxed),
            rebrowsed: self.counters.rebrowsed.load(Ordering::Relaxed),
        }
    }

    /// Withdraws the advertisement (peers get a goodbye and report [`DiscoveryEvent::Lost`]),
    /// stops browsing and stops the mDNS thread. The event receiver then ends.
    ///
    /// # Errors
    /// [`Error::Mdns`] if mdns-sd's command queue refuses the request.
    ///
    /// # Cancel safety
    /// Dropping the future part-way leaves the rest to `Drop`, which finishes the job without
    /// waiting.
    pub async fn shutdown(mut self) -> Result<(), Error> {
        self.forwarder.abort();
        let unregistered = self.daemon.unregister(&self.fullname)?;
        let _ = tokio::time::timeout(SHUTDOWN_WAIT, unregistered.recv_async()).await;
        let status = self.daemon.shutdown()?;
        self.stopped = true;
        let _ = tokio::time::timeout(SHUTDOWN_WAIT, status.recv_async()).await;
        Ok(())
    }
}

impl Drop for Discovery {
    fn drop(&mut self) {
        self.forwarder.abort();
        if !self.stopped {
            // Commands run in order on the mDNS thread: the goodbye goes out before it exits.
            let _ = self.daemon.unregister(&self.fullname);
            let _ = self.daemon.shutdown();
        }
    }
}

fn validate(cfg: &DiscoveryConfig) -> Result<(), Error> {
    let name = &cfg.instance;
    if name.is_empty() || name.len() > MAX_INSTANCE_LEN || name.contains('.') {
        return Err(Error::InvalidInstance {
            name: name.clone(),
            max: MAX_INSTANCE_LEN,
        });
    }
    if cfg.peer_id.is_empty() {
        return Err(Error::EmptyPeerId);
    }
    Ok(())
}

/// The task between mdns-sd's channel and the actor's.
struct Forwarder {
    daemon: ServiceDaemon,
    service: String,
    tracker: Tracker,
    tx: mpsc::Sender<DiscoveryEvent>,
    counters: Arc<Counters>,
}

impl Forwarder {
    async fn run(mut self, mut browse: mdns_sd::Receiver<ServiceEvent>) {
        loop {
            let ev = tokio::select! {
                ev = browse.recv_async() => ev,
                () = self.tx.closed() => return,
            };
            match ev {
                Ok(ev) => self.forward(&ev),
                Err(_) => match self.browse_again().await {
                    Some(rx) => browse = rx,
                    None => return,
                },
            }
        }
    }

    fn forward(&mut self, ev: &ServiceEvent) {
        forward(
            &mut self.tracker,
            &self.tx,
            &self.counters,
            ev,
            Instant::now(),
        );
    }

    /// mdns-sd closed our subscription (we fell behind, see the module docs): browse again,
    /// retrying with backoff while its command queue is full. `None` once the daemon is gone.
    async fn browse_again(&mut self) -> Option<mdns_sd::Receiver<ServiceEvent>> {
        let (mut delay, max) = REBROWSE_DELAY;
        loop {
            tokio::time::sleep(delay).await;
            match self.daemon.browse(&self.service) {
                Ok(rx) => {
                    self.counters.rebrowsed.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!("discovery: browse subscription closed, browsing again");
                    return Some(rx);
                }
                Err(mdns_sd::Error::DaemonShutdown) => return None,
                Err(e) => tracing::warn!("discovery: cannot browse again: {e}"),
            }
            delay = (delay * 2).min(max);
        }
    }
}

/// Passes what `tracker` makes of `ev` to the actor without ever waiting: when the channel is
/// full (or closed) the event is dropped and counted, and a dropped peer is forgotten so that
/// its next resolution goes through.
fn forward(
    tracker: &mut Tracker,
    tx: &mpsc::Sender<DiscoveryEvent>,
    counters: &Counters,
    ev: &ServiceEvent,
    now: Instant,
) {
    let Some(out) = tracker.on_service_event(ev, now) else {
        return;
    };
    if let Err(e) = tx.try_send(out) {
        let (mpsc::error::TrySendError::Full(out) | mpsc::error::TrySendError::Closed(out)) = e;
        counters.dropped.fetch_add(1, Ordering::Relaxed);
        if let DiscoveryEvent::Discovered(d) = out {
            tracker.forget(&d.peer_id);
        }
        tracing::debug!("discovery: channel to the node full, event dropped");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_smaller_peer_id_dials() {
        let (a, b) = ("12D3KooWAaaa", "12D3KooWBbbb");
        assert!(should_dial(a, b));
        assert!(!should_dial(b, a));
        assert!(!should_dial(a, a), "never dial ourselves");
        // Exactly one side dials, for any pair of distinct ids.
        for (x, y) in [("a", "b"), ("12D3KooWz", "12D3KooWzz"), ("Qm1", "12D3")] {
            assert!(should_dial(x, y) ^ should_dial(y, x));
        }
    }

    #[test]
    fn instance_name_is_short_and_uses_the_tail_of_the_id() {
        let id = "12D3KooWGzH1TSb4LUqv5UKv3rU4u7XJNfNYrGBVGpkAs5YJbqP7";
        let name = instance_name(id);
        assert_eq!(name, "fl-GpkAs5YJbqP7");
        assert!(name.len() <= MAX_INSTANCE_LEN);
        assert_eq!(instance_name("ab.c"), "fl-abc");
        assert_eq!(instance_name(""), "fl-");
    }

    #[test]
    fn config_is_validated() {
        let mut cfg = DiscoveryConfig::new("12D3KooWx", 7171);
        assert!(validate(&cfg).is_ok());
        cfg.instance = "much-too-long-name".into();
        assert!(matches!(validate(&cfg), Err(Error::InvalidInstance { .. })));
        cfg.instance = "a.b".into();
        assert!(validate(&cfg).is_err());
        cfg.instance = "ok".into();
        cfg.peer_id.clear();
        assert!(matches!(validate(&cfg), Err(Error::EmptyPeerId)));
    }

    fn resolved(peer: &str) -> ServiceEvent {
        let props = [(TXT_PEER, peer)];
        let info = ServiceInfo::new(SERVICE_TYPE, peer, "h.local.", "10.0.0.2", 7171, &props[..])
            .expect("valid service info");
        ServiceEvent::ServiceResolved(Box::new(info.as_resolved_service()))
    }

    #[test]
    fn a_full_channel_drops_and_counts_and_the_peer_comes_through_later() {
        let mut tracker = Tracker::new("me", DEFAULT_REFORWARD_AFTER);
        let counters = Counters::default();
        let (tx, mut rx) = mpsc::channel(1);
        let now = Instant::now();
        forward(&mut tracker, &tx, &counters, &resolved("a"), now);
        forward(&mut tracker, &tx, &counters, &resolved("b"), now);
        assert_eq!(counters.dropped.load(Ordering::Relaxed), 1);
        let first = rx.try_recv().expect("a was delivered");
        assert!(matches!(first, DiscoveryEvent::Discovered(d) if d.peer_id == "a"));
        // "a" is deduped; "b" was dropped, so it is forwarded at its next resolution.
        forward(&mut tracker, &tx, &counters, &resolved("a"), now);
        forward(&mut tracker, &tx, &counters, &resolved("b"), now);
        let second = rx.try_recv().expect("b was delivered");
        assert!(matches!(second, DiscoveryEvent::Discovered(d) if d.peer_id == "b"));
        assert_eq!(counters.dropped.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn start_outside_a_runtime_is_an_error() {
        let cfg = DiscoveryConfig::new("12D3KooWx", 7171);
        assert!(matches!(Discovery::start(cfg), Err(Error::NoRuntime)));
    }
}

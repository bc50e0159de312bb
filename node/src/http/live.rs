//! The live hub: one task that turns the node's events into what the WebSocket connections
//! ([`super::ws`]) push, once for all of them.
//!
//! A new or changed post is what comes by the hundred per second, so it is done here, not
//! per connection: the hub takes the node's events in batches (at most [`MAX_LIVE_BATCH`]),
//! asks the actor once per batch for each post as every connected reader sees it (the
//! readers who may not read its channel are left out by the actor, with the same check as
//! the HTTP API), with their unread counts (kept as counters by the actor, not walked),
//! renders each post once per reader and serializes its `post` and `unread` messages once.
//! A connection then only picks its user's messages from the shared [`Live::Post`] and sends
//! them: no actor round trip, no rendering, no JSON per socket. (Before, each socket asked
//! the actor twice per post: with 50 sockets on a boat receiving 500 posts/s the actor could
//! not answer, and the sockets fell behind; see docs/performance.md.)
//!
//! Other events (deletions, channels, read markers, peers, files, members) are rare; they
//! are passed on as [`Live::Event`] and each connection turns them into its own messages.
//!
//! Queues: an intake task drains the node's broadcast as fast as it comes, keeps only the
//! events the connections use (most node events are sync bookkeeping) and queues them for
//! the hub, at most [`HUB_INTAKE`]; so a busy actor slows the hub's round trips without the
//! hub losing its place in the node's broadcast ([`EVENT_CAP`], under half a second of a
//! busy sync). If the intake overflows or lags anyway, the hub broadcasts [`Live::Resync`]
//! and every connection is told to `resync`. The hub's own broadcast holds [`LIVE_CAP`]
//! items; a connection that falls that far behind is told to `resync`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::extract::ws::Utf8Bytes;
use flotilla_protocol::id::{ChannelId, EventId, FlotillaId};
use serde_json::json;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::mpsc;

use super::dto::Post;
use super::render::Renderer;
use crate::handle::views::LiveView;
use crate::handle::{EVENT_CAP, Event, NodeHandle};

/// Items the hub's broadcast holds for a connection before it lags (and is told to
/// `resync`): a few seconds of a busy mesh (~800 posts/s in `load::full`). The items are
/// shared by every connection, so this costs memory once (a few MiB at most), not per socket.
pub const LIVE_CAP: usize = 4 * EVENT_CAP;
/// Node events taken at once, whose posts are asked of the actor in one round trip.
pub const MAX_LIVE_BATCH: usize = 256;
/// Events the connections use, queued between the intake task and the hub: seconds of a
/// busy mesh, so the hub's batches absorb a slow actor answer instead of lagging.
pub const HUB_INTAKE: usize = 16 * EVENT_CAP;
/// Renderers kept (one per flotilla and connected reader); all dropped when full.
pub const MAX_LIVE_RENDERERS: usize = 256;

/// What the hub broadcasts to every connection.
#[derive(Debug)]
pub enum Live {
    /// A post new or changed: its messages per reader (local username) who may read it.
    Post(HashMap<String, Pushed>),
    /// Any other event: each connection makes its own messages of it.
    Event(Event),
    /// The hub fell behind the node's events: every connection must resync.
    Resync,
}

/// One post's messages for one reader, serialized once for all their sockets.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// The post's flotilla and channel (a socket keeps only the last `unread` of each).
    pub channel: (FlotillaId, ChannelId),
    /// The `post` message.
    pub post: Utf8Bytes,
    /// The `unread` message of the post's channel.
    pub unread: Utf8Bytes,
}

/// The hub: its broadcast, and the users with a live connection (whom the posts are
/// rendered for).
#[derive(Debug)]
pub struct Hub {
    tx: broadcast::Sender<Arc<Live>>,
    readers: Mutex<BTreeMap<String, usize>>,
}

/// One connection's subscription: its receiver, and its user counted as a reader until it
/// is dropped.
#[derive(Debug)]
pub struct Subscription {
    /// What the hub broadcasts.
    pub events: broadcast::Receiver<Arc<Live>>,
    hub: Arc<Hub>,
    user: String,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut readers = self.hub.lock_readers();
        if let Some(n) = readers.get_mut(&self.user) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                readers.remove(&self.user);
            }
        }
    }
}

impl Hub {
    /// Starts the hub's task on the current runtime; it ends with the node's events.
    pub fn start(node: NodeHandle) -> Arc<Hub> {
        let (tx, _) = broadcast::channel(LIVE_CAP);
        let hub = Arc::new(Hub {
            tx,
            readers: Mutex::default(),
        });
        let (queue, taken) = tokio::sync::mpsc::channel(HUB_INTAKE);
        tokio::spawn(intake(node.subscribe(), queue));
        tokio::spawn(run(Arc::clone(&hub), node, taken));
        hub
    }

    /// Subscribes a connection of `user`.
    pub fn subscribe(self: &Arc<Self>, user: &str) -> Subscription {
        *self.lock_readers().entry(user.to_owned()).or_default() += 1;
        Subscription {
            events: self.tx.subscribe(),
            hub: Arc::clone(self),
            user: user.to_owned(),
        }
    }

    fn lock_readers(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, usize>> {
        self.readers.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn readers(&self) -> Vec<String> {
        self.lock_readers().keys().cloned().collect()
    }
}

/// A node event as the hub took it.
enum Taken {
    Event(Event),
    Lagged,
}

/// Drains the node's broadcast into the hub's queue, keeping the events the hub uses; a lag
/// of either queue becomes one [`Taken::Lagged`]. Ends with the node's events or the hub.
async fn intake(mut events: broadcast::Receiver<Event>, queue: mpsc::Sender<Taken>) {
    let mut lagged = false;
    loop {
        let taken = match events.recv().await {
            Ok(e) if pushed(&e) || stales_event(&e) => Taken::Event(e),
            Ok(_) => continue,
            Err(RecvError::Lagged(_)) => Taken::Lagged,
            Err(RecvError::Closed) => return,
        };
        if lagged {
            match queue.try_send(Taken::Lagged) {
                Ok(()) => lagged = false,
                Err(mpsc::error::TrySendError::Full(_)) => continue,
                Err(mpsc::error::TrySendError::Closed(_)) => return,
            }
        }
        match queue.try_send(taken) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => lagged = true,
            Err(mpsc::error::TrySendError::Closed(_)) => return,
        }
    }
}

async fn run(hub: Arc<Hub>, node: NodeHandle, mut events: mpsc::Receiver<Taken>) {
    let mut renderers = Renderers::default();
    loop {
        let (batch, closed) = take_batch(&mut events).await;
        if hub.tx.receiver_count() > 0 {
            for live in shape(&hub, &node, batch, &mut renderers).await {
                let _ = hub.tx.send(Arc::new(live)); // every connection may have left
            }
        } else if batch.iter().any(stales) {
            renderers.clear();
        }
        if closed {
            return;
        }
    }
}

/// Waits for one node event, then takes those already queued, up to [`MAX_LIVE_BATCH`].
/// Also says whether the node's events have ended.
async fn take_batch(events: &mut mpsc::Receiver<Taken>) -> (Vec<Taken>, bool) {
    let mut batch = Vec::new();
    match events.recv().await {
        Some(t) => batch.push(t),
        None => return (batch, true),
    }
    while batch.len() < MAX_LIVE_BATCH {
        match events.try_recv() {
            Ok(t) => batch.push(t),
            Err(mpsc::error::TryRecvError::Empty) => break,
            Err(mpsc::error::TryRecvError::Disconnected) => return (batch, true),
        }
    }
    (batch, false)
}

/// May this event change what a [`Renderer`] knows (usernames, channel names)?
fn stales(taken: &Taken) -> bool {
    matches!(taken, Taken::Event(e) if stales_event(e))
}

/// See [`stales`].
fn stales_event(event: &Event) -> bool {
    matches!(
        event,
        Event::ChannelChanged { .. }
            | Event::Joined(_)
            | Event::Sync(flotilla_protocol::sync::Event::Accepted { control: true, .. })
    )
}

/// Is this event one the connections turn into messages (the rest are not broadcast)?
fn pushed(event: &Event) -> bool {
    matches!(
        event,
        Event::PostChanged { .. }
            | Event::PostDeleted { .. }
            | Event::ChannelChanged { .. }
            | Event::ReadChanged { .. }
            | Event::PeerConnected(_)
            | Event::PeerDisconnected(_)
            | Event::Joined(_)
            | Event::FileChanged { .. }
            | Event::Sync(flotilla_protocol::sync::Event::Accepted { control: true, .. })
    )
}

/// The batch as broadcast items, in the node's order: its posts asked of the actor at once.
async fn shape(
    hub: &Hub,
    node: &NodeHandle,
    batch: Vec<Taken>,
    renderers: &mut Renderers,
) -> Vec<Live> {
    if batch.iter().any(stales) {
        renderers.clear();
    }
    let posts: Vec<(FlotillaId, EventId)> = batch
        .iter()
        .filter_map(|t| match t {
            Taken::Event(Event::PostChanged { flotilla, post, .. }) => Some((*flotilla, *post)),
            _ => None,
        })
        .collect();
    let readers = hub.readers();
    let views = if posts.is_empty() || readers.is_empty() {
        Vec::new()
    } else {
        node.live_posts(posts, readers).await.unwrap_or_else(|e| {
            tracing::debug!(%e, "posts not pushed: the node has stopped");
            Vec::new()
        })
    };
    let mut views = views.into_iter();
    let mut out = Vec::with_capacity(batch.len());
    for taken in batch {
        match taken {
            Taken::Lagged => out.push(Live::Resync),
            Taken::Event(Event::PostChanged { flotilla, .. }) => {
                let seen = views.next().unwrap_or_default();
                out.push(Live::Post(renderers.push(node, flotilla, seen).await));
            }
            Taken::Event(e) if pushed(&e) => out.push(Live::Event(e)),
            Taken::Event(_) => {}
        }
    }
    out
}

/// The renderers of the connected readers, per flotilla.
#[derive(Default)]
struct Renderers(HashMap<(FlotillaId, String), Renderer>);

impl Renderers {
    fn clear(&mut self) {
        self.0.clear();
    }

    /// One post's messages for each reader who may read it.
    async fn push(
        &mut self,
        node: &NodeHandle,
        flotilla: FlotillaId,
        seen: Vec<LiveView>,
    ) -> HashMap<String, Pushed> {
        let mut out = HashMap::with_capacity(seen.len());
        for v in seen {
            let Some(renderer) = self.get(node, flotilla, &v.user).await else {
                continue;
            };
            let channel = v.post.channel;
            let post = json!({
                "type": "post", "flotilla": flotilla.to_string(),
                "post": Post::new(v.post, renderer),
            });
            let unread = json!({
                "type": "unread", "flotilla": flotilla.to_string(), "channel": channel.to_string(),
                "unread": v.unread.unread, "mentions": v.unread.mentions,
            });
            out.insert(
                v.user,
                Pushed {
                    channel: (flotilla, channel),
                    post: post.to_string().into(),
                    unread: unread.to_string().into(),
                },
            );
        }
        out
    }

    async fn get(
        &mut self,
        node: &NodeHandle,
        flotilla: FlotillaId,
        user: &str,
    ) -> Option<&Renderer> {
        let key = (flotilla, user.to_owned());
        if !self.0.contains_key(&key) {
            let r = match Renderer::load_from(node, flotilla, user).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(?e, user, "post not pushed: no renderer");
                    return None;
                }
            };
            if self.0.len() >= MAX_LIVE_RENDERERS {
                self.0.clear();
            }
            self.0.insert(key.clone(), r);
        }
        self.0.get(&key)
    }
}

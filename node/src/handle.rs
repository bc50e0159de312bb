//! [`NodeHandle`]: the cheap, clonable way to talk to a node's actor, and the types it speaks.
//!
//! Every method sends one [`Command`] on a bounded channel ([`CMD_CAP`]) and waits for the
//! actor's answer on a oneshot. If the actor is gone, methods fail with
//! [`Error::ActorGone`]. Node events are a broadcast ([`EVENT_CAP`]): a subscriber that
//! falls behind gets `RecvError::Lagged` instead of slowing the node down.
//!
//! # Cancel safety
//! Dropping a method's future before it completes is safe: the command may still run in the
//! actor (a post may still be published), only its answer is lost.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use flotilla_protocol as proto;
use libp2p::{Multiaddr, PeerId};
use proto::author::InviteCode;
use proto::id::{ChannelId, EventId, FlotillaId, InviteId};
#[cfg(any(test, feature = "test-utils"))]
use proto::wire::PeerMsg;
use proto::{PublicKey, sync};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::Error;

mod chat;
mod chat_command;
mod files;
mod members;
pub mod search;
pub mod views;

pub use chat_command::{Acting, ChannelChange, ChatCommand, NewChannel};
pub use members::{MembersCommand, ProfileChange};

/// Commands waiting for the actor, at most. Each caller waits for its answer, so this bounds
/// concurrent API calls (an HTTP request waits for a slot), not memory per call.
pub const CMD_CAP: usize = 64;
/// Node events buffered per subscriber before it lags (a busy minute of chat).
pub const EVENT_CAP: usize = 1024;
/// Discovered peers waiting for the actor; discovery drops or retries when full.
pub const DISCOVERED_CAP: usize = 64;

/// A post or reply as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Its event id.
    pub id: EventId,
    /// Its channel.
    pub channel: ChannelId,
    /// The author's username (or a short key if the author is unknown).
    pub author: String,
    /// Is the author a removed or deleted user (their posts stay)?
    pub author_deleted: bool,
    /// The text, after edits.
    pub text: String,
    /// The thread root, for a reply.
    pub root_id: Option<EventId>,
    /// When it was written (HLC milliseconds since the Unix epoch).
    pub created_at: u64,
}

/// A channel as the API lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelInfo {
    /// Its id.
    pub id: ChannelId,
    /// Its name (empty until its info event is known).
    pub name: String,
    /// Private (members only)?
    pub private: bool,
}

/// A flotilla this node follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlotillaInfo {
    /// Its id.
    pub id: FlotillaId,
    /// Its genesis event.
    pub genesis: EventId,
    /// Its name (empty while joining).
    pub name: String,
    /// Is this node an active member (false while joining)?
    pub member: bool,
    /// Active nodes.
    pub nodes: usize,
    /// Events synced.
    pub events: usize,
}

/// A local user as the API lists it (never its key or password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalUser {
    /// Login name.
    pub username: String,
    /// Its public key.
    pub key: PublicKey,
    /// Made by `user create` (it has a password)?
    pub account: bool,
    /// A node admin?
    pub admin: bool,
    /// Deactivated (`user deactivate`): cannot log in.
    pub deactivated: bool,
}

/// A peer this node knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// Its libp2p id.
    pub peer: PeerId,
    /// Its node key.
    pub node: Option<PublicKey>,
    /// Addresses it was reached at or announced.
    pub addresses: Vec<Multiaddr>,
    /// Connected now?
    pub connected: bool,
    /// Last connection or message (ms since the Unix epoch).
    pub last_seen_ms: u64,
}

/// A peer found by discovery (mDNS, later the radio bridge): the actor dials it if it is not
/// connected, and redials its addresses with backoff while it is disconnected, until it is
/// [`DiscoveryUpdate::Lost`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    /// Its peer id.
    pub peer: PeerId,
    /// Where to reach it.
    pub addrs: Vec<Multiaddr>,
}

/// What discovery tells the actor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscoveryUpdate {
    /// A peer appeared, changed addresses, or is still there.
    Found(Discovered),
    /// A peer withdrew its advertisement (or we lost the link we saw it on): stop redialling
    /// it. A connection that is still up stays up.
    Lost(PeerId),
}

/// What subscribers hear.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Listening on a new address (with `/p2p/<peer id>`).
    Listening(Multiaddr),
    /// A peer connected.
    PeerConnected(PeerId),
    /// A peer's last connection closed.
    PeerDisconnected(PeerId),
    /// A post or reply was accepted and decrypted (local or remote).
    Post {
        /// Its flotilla.
        flotilla: FlotillaId,
        /// The post.
        message: Message,
    },
    /// This node became an active member of a flotilla it joined.
    Joined(FlotillaId),
    /// A post or reply is new, edited, reacted to, pinned or unpinned (local or remote).
    PostChanged {
        /// Its flotilla.
        flotilla: FlotillaId,
        /// Its channel.
        channel: ChannelId,
        /// The post.
        post: EventId,
        /// Its thread root, for a reply.
        root: Option<EventId>,
    },
    /// A post or reply was deleted.
    PostDeleted {
        /// Its flotilla.
        flotilla: FlotillaId,
        /// Its channel.
        channel: ChannelId,
        /// The post.
        post: EventId,
        /// Its thread root, for a reply.
        root: Option<EventId>,
    },
    /// A channel was created, renamed, re-described, archived, or gained or lost a member.
    ChannelChanged {
        /// Its flotilla.
        flotilla: FlotillaId,
        /// The channel.
        channel: ChannelId,
    },
    /// A local user's read marker moved.
    ReadChanged {
        /// Its flotilla.
        flotilla: FlotillaId,
        /// The channel.
        channel: ChannelId,
        /// The local username.
        user: String,
    },
    /// A file's state changed on this boat (fetch progress, arrival).
    FileChanged {
        /// Its flotilla.
        flotilla: FlotillaId,
        /// The file.
        file: proto::id::FileId,
    },
    /// What the sync core reported.
    Sync(sync::Event),
}

type Reply<T> = oneshot::Sender<Result<T, Error>>;

/// A request to the actor.
#[derive(Debug)]
#[non_exhaustive]
pub enum Command {
    /// Writes one imported post unless it is there already (see [`crate::import`]).
    ImportPost {
        /// Its author (a local user) and flotilla.
        who: Acting,
        /// Its channel.
        channel: ChannelId,
        /// The post.
        post: crate::import::NewPost,
        /// The post as its author sees it, and whether it was written now (`false`: it was
        /// imported before).
        reply: Reply<(views::PostView, bool)>,
    },
    /// Registers a local user (idempotent by username).
    AddUser {
        /// Login name.
        username: String,
        /// Its public key.
        reply: Reply<PublicKey>,
    },
    /// Makes a local account: the user's key (unless it exists) and its password hash. The
    /// user is added to every flotilla this node is an active member of.
    CreateAccount {
        /// Login name.
        username: String,
        /// argon2id PHC string (hashed by the caller, off the actor task).
        password_phc: String,
        /// A node admin?
        admin: bool,
        /// Its public key.
        reply: Reply<PublicKey>,
    },
    /// Replaces an account's password hash.
    SetPassword {
        /// Whose.
        username: String,
        /// argon2id PHC string (hashed by the caller, off the actor task).
        password_phc: String,
        /// Done.
        reply: Reply<()>,
    },
    /// Deactivates an account (it cannot log in) or activates it again.
    SetDeactivated {
        /// Whose.
        username: String,
        /// Deactivated (true) or active.
        deactivated: bool,
        /// The user, after the change.
        reply: Reply<LocalUser>,
    },
    /// Deletes an account: removes the user from every flotilla this node is an active
    /// member of (as another local admin; its posts stay), then forgets its account and key.
    DeleteAccount {
        /// Whose.
        username: String,
        /// The user as it was, and how many flotillas it was removed from.
        reply: Reply<(LocalUser, usize)>,
    },
    /// The local users.
    Users {
        /// The users, by username.
        reply: Reply<Vec<LocalUser>>,
    },
    /// Founds a flotilla with `admin` (a local user, created if new) as first admin.
    CreateFlotilla {
        /// The flotilla's name.
        name: String,
        /// The first admin's username.
        admin: String,
        /// The new flotilla.
        reply: Reply<FlotillaId>,
    },
    /// Creates an invite, signed by a local admin of the flotilla.
    Invite {
        /// The flotilla.
        flotilla: FlotillaId,
        /// Admissions allowed (`None`: unlimited).
        uses: Option<u32>,
        /// Expiry, ms since the Unix epoch.
        expires_ms: Option<u64>,
        /// The code to hand to the joiner.
        reply: Reply<InviteCode>,
    },
    /// Renames a flotilla, signed by a local admin of it.
    RenameFlotilla {
        /// The flotilla.
        flotilla: FlotillaId,
        /// The new name.
        name: String,
        /// Done.
        reply: Reply<()>,
    },
    /// The invites of a flotilla still open: not revoked, expired or used up.
    OpenInvites {
        /// The flotilla.
        flotilla: FlotillaId,
        /// Their ids.
        reply: Reply<Vec<InviteId>>,
    },
    /// Revokes an invite, signed by a local admin of its flotilla.
    InviteRevoke {
        /// The invite.
        invite: InviteId,
        /// Its flotilla (`None`: the followed flotilla that has it).
        flotilla: Option<FlotillaId>,
        /// The invite's flotilla.
        reply: Reply<FlotillaId>,
    },
    /// Joins with an invite code through `via` (else through every connected peer).
    Join {
        /// The code.
        code: InviteCode,
        /// A member's multiaddr with `/p2p/<peer id>`.
        via: Option<Multiaddr>,
        /// The flotilla, once this node is an active member.
        reply: Reply<FlotillaId>,
    },
    /// Creates a channel named `name` (a private one has the creator as only member).
    CreateChannel {
        /// The flotilla.
        flotilla: FlotillaId,
        /// The local user creating it.
        as_user: String,
        /// Its name.
        name: String,
        /// Members only, with its own key?
        private: bool,
        /// The new channel.
        reply: Reply<ChannelId>,
    },
    /// Posts (or replies, with `reply_to`).
    Post {
        /// The flotilla.
        flotilla: FlotillaId,
        /// The channel.
        channel: ChannelId,
        /// The local user posting.
        as_user: String,
        /// The text.
        text: String,
        /// The thread root, for a reply.
        reply_to: Option<EventId>,
        /// The post's id.
        reply: Reply<EventId>,
    },
    /// The newest `limit` posts of a channel, oldest first.
    Messages {
        /// The flotilla.
        flotilla: FlotillaId,
        /// The channel.
        channel: ChannelId,
        /// At most this many.
        limit: usize,
        /// The posts.
        reply: Reply<Vec<Message>>,
    },
    /// A flotilla's channels.
    Channels {
        /// The flotilla.
        flotilla: FlotillaId,
        /// The channels.
        reply: Reply<Vec<ChannelInfo>>,
    },
    /// The flotillas this node follows.
    Flotillas {
        /// The flotillas.
        reply: Reply<Vec<FlotillaInfo>>,
    },
    /// The node's figures (`flotilla status`).
    Status {
        /// The figures.
        reply: Reply<crate::status::NodeStatus>,
    },
    /// Known peers.
    Peers {
        /// The peers.
        reply: Reply<Vec<PeerInfo>>,
    },
    /// The addresses this node listens on (with `/p2p/<peer id>`).
    Listeners {
        /// The addresses.
        reply: Reply<Vec<Multiaddr>>,
    },
    /// Dials a multiaddr.
    Dial {
        /// The address.
        addr: Multiaddr,
        /// Ok once the dial started.
        reply: Reply<()>,
    },
    /// Closes and refuses every connection with `peer` (`block: false` lifts it).
    Block {
        /// The peer.
        peer: PeerId,
        /// Block or unblock.
        block: bool,
        /// Done.
        reply: Reply<()>,
    },
    /// Sends a raw sync message to a peer (tests: an outsider trying its luck).
    #[cfg(any(test, feature = "test-utils"))]
    SendRaw {
        /// The peer.
        peer: PeerId,
        /// The message.
        msg: PeerMsg,
        /// Done.
        reply: Reply<()>,
    },
    /// Publishes raw bytes on a flotilla's gossip topic (tests).
    #[cfg(any(test, feature = "test-utils"))]
    GossipRaw {
        /// The topic's flotilla.
        flotilla: FlotillaId,
        /// The bytes.
        data: Vec<u8>,
        /// Done (publish errors are ignored).
        reply: Reply<()>,
    },
    /// Writes `count` posts straight to the store in batches of 1000, without gossip
    /// (benchmarks: a big history, fast). Restart the node afterwards so that every cache
    /// is rebuilt from the store.
    #[cfg(any(test, feature = "test-utils"))]
    BulkPost {
        /// The flotilla.
        flotilla: FlotillaId,
        /// The channel.
        channel: ChannelId,
        /// The local user posting.
        as_user: String,
        /// How many posts (texts `bulk 0`, `bulk 1`, …).
        count: usize,
        /// How many were written.
        reply: Reply<usize>,
    },
    /// Feeds wire events to the sync core as if `from` had sent them in one `Events` frame,
    /// without the network (the ingest benchmark); replies with how many events are stored.
    #[cfg(any(test, feature = "test-utils"))]
    IngestRaw {
        /// The member node the frame is attributed to.
        from: PublicKey,
        /// Tell the core first that `from` is connected (once, before the first frame).
        connect: bool,
        /// The flotilla.
        flotilla: FlotillaId,
        /// Encoded events.
        frames: Vec<Vec<u8>>,
        /// Done.
        reply: Reply<()>,
    },
    /// A chat request (see [`ChatCommand`]).
    Chat(ChatCommand),
    /// A roles or removal request (see [`MembersCommand`]).
    Members(MembersCommand),
    /// A file-service request (see [`crate::files::command::FileCommand`]).
    Files(crate::files::command::FileCommand),
    /// A search request (see [`search::SearchCommand`]).
    Search(search::SearchCommand),
    /// Stops the actor (the store is flushed first).
    Shutdown {
        /// Done.
        reply: Reply<()>,
    },
}

/// A cheap, clonable handle on a node's actor.
#[derive(Debug, Clone)]
pub struct NodeHandle {
    pub(crate) cmd: mpsc::Sender<Command>,
    pub(crate) events: broadcast::Sender<Event>,
    pub(crate) discovered: mpsc::Sender<DiscoveryUpdate>,
    pub(crate) connected: Arc<AtomicUsize>,
    pub(crate) id: PublicKey,
    pub(crate) peer_id: PeerId,
    /// Refuses posts and uploads on a full disk ([`crate::disk`]).
    pub(crate) disk: crate::disk::DiskGuard,
}

impl NodeHandle {
    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, Error> {
        let (tx, rx) = oneshot::channel();
        self.cmd
            .send(make(tx))
            .await
            .map_err(|_| Error::ActorGone)?;
        rx.await.map_err(|_| Error::ActorGone)?
    }

    /// The node's key.
    pub fn id(&self) -> PublicKey {
        self.id
    }

    /// The node's libp2p peer id (the same key).
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// Peers connected now (no round trip to the actor).
    pub fn connected_peers(&self) -> usize {
        self.connected.load(Ordering::Relaxed)
    }

    /// Node events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// The seam for discovery: send found and lost peers here (bounded by
    /// [`DISCOVERED_CAP`]).
    pub fn discovered(&self) -> mpsc::Sender<DiscoveryUpdate> {
        self.discovered.clone()
    }

    /// Registers a local user; returns its key (the same key for an existing username).
    ///
    /// # Errors
    /// [`Error::Invalid`] for a bad username, [`Error::Store`], [`Error::ActorGone`].
    pub async fn add_user(&self, username: &str) -> Result<PublicKey, Error> {
        let username = username.to_owned();
        self.ask(|reply| Command::AddUser { username, reply }).await
    }

    /// Makes a local account (see [`Command::CreateAccount`]); `password_phc` comes from
    /// hashing the password off the actor task.
    ///
    /// # Errors
    /// [`Error::Invalid`] (username), [`Error::Exists`], [`Error::Store`],
    /// [`Error::ActorGone`].
    pub async fn create_account(
        &self,
        username: &str,
        password_phc: String,
        admin: bool,
    ) -> Result<PublicKey, Error> {
        let username = username.to_owned();
        self.ask(|reply| Command::CreateAccount {
            username,
            password_phc,
            admin,
            reply,
        })
        .await
    }

    /// Replaces `username`'s password hash (see `create_account`).
    ///
    /// # Errors
    /// [`Error::NotFound`] without such an account, [`Error::Store`], [`Error::ActorGone`].
    pub async fn set_password(&self, username: &str, password_phc: String) -> Result<(), Error> {
        let username = username.to_owned();
        self.ask(|reply| Command::SetPassword {
            username,
            password_phc,
            reply,
        })
        .await
    }

    /// Deactivates `username`'s account (it cannot log in), or activates it again. Ending
    /// its sessions and tokens is the caller's part (see `crate::accounts`).
    ///
    /// # Errors
    /// [`Error::NotFound`] without such an account, [`Error::Forbidden`] for the last active
    /// node admin, [`Error::Store`], [`Error::ActorGone`].
    pub async fn set_deactivated(
        &self,
        username: &str,
        deactivated: bool,
    ) -> Result<LocalUser, Error> {
        let username = username.to_owned();
        self.ask(|reply| Command::SetDeactivated {
            username,
            deactivated,
            reply,
        })
        .await
    }

    /// Deletes `username`'s account (see [`Command::DeleteAccount`]).
    ///
    /// # Errors
    /// [`Error::NotFound`] without such an account, [`Error::Forbidden`] for the last active
    /// node admin, [`Error::Author`] when a flotilla refuses the removal (its last admin),
    /// [`Error::Store`], [`Error::ActorGone`].
    pub async fn delete_account(&self, username: &str) -> Result<(LocalUser, usize), Error> {
        let username = username.to_owned();
        self.ask(|reply| Command::DeleteAccount { username, reply })
            .await
    }

    /// The local users, by username.
    ///
    /// # Errors
    /// [`Error::ActorGone`].
    pub async fn users(&self) -> Result<Vec<LocalUser>, Error> {
        self.ask(|reply| Command::Users { reply }).await
    }

    /// Founds a flotilla named `name`, with local user `admin_user` as its first admin.
    ///
    /// # Errors
    /// [`Error::Author`] for a bad name, [`Error::Store`], [`Error::ActorGone`].
    pub async fn create_flotilla(&self, name: &str, admin_user: &str) -> Result<FlotillaId, Error> {
        let (name, admin) = (name.to_owned(), admin_user.to_owned());
        self.ask(|reply| Command::CreateFlotilla { name, admin, reply })
            .await
    }

    /// Creates an invite with at most `uses` admissions, expiring at `expires_ms`.
    ///
    /// # Errors
    /// [`Error::NotFound`] (flotilla, or no local admin), [`Error::Author`],
    /// [`Error::ActorGone`].
    pub async fn invite(
        &self,
        flotilla: FlotillaId,
        uses: Option<u32>,
        expires_ms: Option<u64>,
    ) -> Result<InviteCode, Error> {
        self.ask(|reply| Command::Invite {
            flotilla,
            uses,
            expires_ms,
            reply,
        })
        .await
    }

    /// Renames `flotilla` (a signed control event by a local admin of it).
    ///
    /// # Errors
    /// [`Error::NotFound`] (flotilla, or no local admin), [`Error::Author`] (a bad name),
    /// [`Error::ActorGone`].
    pub async fn rename_flotilla(&self, flotilla: FlotillaId, name: &str) -> Result<(), Error> {
        let name = name.to_owned();
        self.ask(|reply| Command::RenameFlotilla {
            flotilla,
            name,
            reply,
        })
        .await
    }

    /// The invites of `flotilla` still open (not revoked, expired or used up).
    ///
    /// # Errors
    /// [`Error::NotFound`] (flotilla), [`Error::ActorGone`].
    pub async fn open_invites(&self, flotilla: FlotillaId) -> Result<Vec<InviteId>, Error> {
        self.ask(|reply| Command::OpenInvites { flotilla, reply })
            .await
    }

    /// Revokes an invite (in `flotilla`, or in whichever followed flotilla has it), signed by
    /// a local admin of the flotilla. Returns the flotilla.
    ///
    /// # Errors
    /// [`Error::NotFound`] (invite, or no local admin), [`Error::Author`],
    /// [`Error::ActorGone`].
    pub async fn revoke_invite(
        &self,
        invite: InviteId,
        flotilla: Option<FlotillaId>,
    ) -> Result<FlotillaId, Error> {
        self.ask(|reply| Command::InviteRevoke {
            invite,
            flotilla,
            reply,
        })
        .await
    }

    /// Joins a flotilla with an invite code, through the member at `via` (a multiaddr ending
    /// in `/p2p/<peer id>`) or through the peers connected now. Returns once this node is an
    /// active member (it has its admission and the keys).
    ///
    /// # Errors
    /// [`Error::JoinRefused`] (bad, revoked, expired or used-up invite), [`Error::Join`]
    /// (no peer, timeout, unreachable), [`Error::ActorGone`].
    pub async fn join(
        &self,
        code: &InviteCode,
        via: Option<Multiaddr>,
    ) -> Result<FlotillaId, Error> {
        let code = code.clone();
        self.ask(|reply| Command::Join { code, via, reply }).await
    }

    /// Creates a public channel.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Author`], [`Error::ActorGone`].
    pub async fn create_channel(
        &self,
        flotilla: FlotillaId,
        as_user: &str,
        name: &str,
    ) -> Result<ChannelId, Error> {
        self.create_channel_with(flotilla, as_user, name, false)
            .await
    }

    /// Creates a channel, private (members only: the creator, with its own key) or public.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Author`], [`Error::ActorGone`].
    pub async fn create_channel_with(
        &self,
        flotilla: FlotillaId,
        as_user: &str,
        name: &str,
        private: bool,
    ) -> Result<ChannelId, Error> {
        let (as_user, name) = (as_user.to_owned(), name.to_owned());
        self.ask(|reply| Command::CreateChannel {
            flotilla,
            as_user,
            name,
            private,
            reply,
        })
        .await
    }

    /// Posts `text` in a channel as local user `as_user` (a reply if `reply_to` is set).
    /// The user is added to the flotilla first if it is not in it yet. Returns once the post
    /// is stored (flushed).
    ///
    /// # Errors
    /// [`Error::NotFound`] (flotilla or user), [`Error::Author`] (not a member yet, unknown
    /// channel, text too long), [`Error::ActorGone`].
    pub async fn post(
        &self,
        flotilla: FlotillaId,
        channel: ChannelId,
        as_user: &str,
        text: &str,
        reply_to: Option<EventId>,
    ) -> Result<EventId, Error> {
        self.disk.check(text.len() as u64)?;
        let (as_user, text) = (as_user.to_owned(), text.to_owned());
        self.ask(|reply| Command::Post {
            flotilla,
            channel,
            as_user,
            text,
            reply_to,
            reply,
        })
        .await
    }

    /// The newest `limit` posts and replies of a channel, oldest first.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::CoreStore`], [`Error::ActorGone`].
    pub async fn messages(
        &self,
        flotilla: FlotillaId,
        channel: ChannelId,
        limit: usize,
    ) -> Result<Vec<Message>, Error> {
        self.ask(|reply| Command::Messages {
            flotilla,
            channel,
            limit,
            reply,
        })
        .await
    }

    /// A flotilla's channels.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::ActorGone`].
    pub async fn channels(&self, flotilla: FlotillaId) -> Result<Vec<ChannelInfo>, Error> {
        self.ask(|reply| Command::Channels { flotilla, reply })
            .await
    }

    /// The flotillas this node follows.
    ///
    /// # Errors
    /// [`Error::ActorGone`].
    pub async fn flotillas(&self) -> Result<Vec<FlotillaInfo>, Error> {
        self.ask(|reply| Command::Flotillas { reply }).await
    }

    /// The node's figures for its operator: per flotilla events, channels, members, boats
    /// connected; the node's ingest rate and store size ([`crate::status`]).
    ///
    /// # Errors
    /// [`Error::ActorGone`].
    pub async fn status(&self) -> Result<crate::status::NodeStatus, Error> {
        self.ask(|reply| Command::Status { reply }).await
    }

    /// Known peers.
    ///
    /// # Errors
    /// [`Error::ActorGone`].
    pub async fn peers(&self) -> Result<Vec<PeerInfo>, Error> {
        self.ask(|reply| Command::Peers { reply }).await
    }

    /// The addresses this node listens on, with `/p2p/<peer id>`.
    ///
    /// # Errors
    /// [`Error::ActorGone`].
    pub async fn listeners(&self) -> Result<Vec<Multiaddr>, Error> {
        self.ask(|reply| Command::Listeners { reply }).await
    }

    /// Dials `addr`.
    ///
    /// # Errors
    /// [`Error::Dial`], [`Error::ActorGone`].
    pub async fn dial(&self, addr: Multiaddr) -> Result<(), Error> {
        self.ask(|reply| Command::Dial { addr, reply }).await
    }

    /// Closes and refuses every connection with `peer` (`block = false` lifts it).
    ///
    /// # Errors
    /// [`Error::ActorGone`].
    pub async fn block(&self, peer: PeerId, block: bool) -> Result<(), Error> {
        self.ask(|reply| Command::Block { peer, block, reply })
            .await
    }

    /// Sends a raw sync message to `peer` (tests).
    ///
    /// # Errors
    /// [`Error::ActorGone`].
    #[cfg(any(test, feature = "test-utils"))]
    pub async fn send_raw(&self, peer: PeerId, msg: PeerMsg) -> Result<(), Error> {
        self.ask(|reply| Command::SendRaw { peer, msg, reply })
            .await
    }

    /// Publishes raw bytes on a flotilla's topic (tests).
    ///
    /// # Errors
    /// [`Error::ActorGone`].
    #[cfg(any(test, feature = "test-utils"))]
    pub async fn gossip_raw(&self, flotilla: FlotillaId, data: Vec<u8>) -> Result<(), Error> {
        self.ask(|reply| Command::GossipRaw {
            flotilla,
            data,
            reply,
        })
        .await
    }

    /// Writes `count` posts straight to the store (benchmarks; see [`Command::BulkPost`]).
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Author`], [`Error::CoreStore`], [`Error::ActorGone`].
    #[cfg(any(test, feature = "test-utils"))]
    pub async fn bulk_post(
        &self,
        flotilla: FlotillaId,
        channel: ChannelId,
        as_user: &str,
        count: usize,
    ) -> Result<usize, Error> {
        let as_user = as_user.to_owned();
        self.ask(|reply| Command::BulkPost {
            flotilla,
            channel,
            as_user,
            count,
            reply,
        })
        .await
    }

    /// Feeds encoded events to the sync core as if `from` sent them (benchmarks; see
    /// [`Command::IngestRaw`]).
    ///
    /// # Errors
    /// [`Error::ActorGone`].
    #[cfg(any(test, feature = "test-utils"))]
    pub async fn ingest_raw(
        &self,
        from: PublicKey,
        connect: bool,
        flotilla: FlotillaId,
        frames: Vec<Vec<u8>>,
    ) -> Result<(), Error> {
        self.ask(|reply| Command::IngestRaw {
            from,
            connect,
            flotilla,
            frames,
            reply,
        })
        .await
    }

    /// Writes an imported post (see [`Command::ImportPost`]).
    ///
    /// # Errors
    /// [`Error::Invalid`] (text), [`Error::Forbidden`] (archived channel, private channel
    /// not joined), [`Error::NotFound`] (channel, root, user), [`Error::ActorGone`].
    pub async fn import_post(
        &self,
        who: Acting,
        channel: ChannelId,
        post: crate::import::NewPost,
    ) -> Result<(views::PostView, bool), Error> {
        self.ask(|reply| Command::ImportPost {
            who,
            channel,
            post,
            reply,
        })
        .await
    }

    /// Stops the actor after flushing the store.
    ///
    /// # Errors
    /// [`Error::ActorGone`] if it was already stopped.
    pub async fn shutdown(&self) -> Result<(), Error> {
        self.ask(|reply| Command::Shutdown { reply }).await
    }
}

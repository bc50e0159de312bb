//! The chat commands ([`ChatCommand`]): one per chat method of [`super::NodeHandle`], each
//! answered on the actor through its oneshot `reply`.

use std::path::PathBuf;

use flotilla_protocol as proto;
use proto::id::{ChannelId, EventId, FileId, FlotillaId};

use super::Reply;
use super::views::{
    BoatInfo, ChannelView, Cursor, FileInfo, FileTarget, LiveView, MemberInfo, PostPage, PostView,
    RadioInfo, UnreadCounts,
};
use crate::files::StoredFile;

/// Who acts, where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acting {
    /// The flotilla.
    pub flotilla: FlotillaId,
    /// The local username.
    pub as_user: String,
}

/// A new channel's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChannel {
    /// `[a-z0-9_-]{1,64}`, unique among the flotilla's channels (DMs aside).
    pub name: String,
    /// Members only?
    pub private: bool,
    /// Shown above the timeline.
    pub header: String,
    /// What it is for.
    pub purpose: String,
}

/// Changes to a channel's settings; `None` keeps a field. The name, display name and
/// privacy are for its creator or a flotilla admin; header and purpose for any member.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelChange {
    /// New short name (a rename): `[a-z0-9_-]{1,64}`, unique in the flotilla.
    pub name: Option<String>,
    /// New display name (empty: none).
    pub display_name: Option<String>,
    /// New header.
    pub header: Option<String>,
    /// New purpose.
    pub purpose: Option<String>,
    /// Private (true) or public (false).
    pub private: Option<bool>,
}

/// A chat request to the actor (see the module docs for the rules).
#[derive(Debug)]
#[non_exhaustive]
pub enum ChatCommand {
    /// Every public channel, and the private channels and DMs the user is in.
    Channels {
        /// Who asks.
        who: Acting,
        /// The channels.
        reply: Reply<Vec<ChannelView>>,
    },
    /// One channel.
    Channel {
        /// Who asks.
        who: Acting,
        /// The channel.
        channel: ChannelId,
        /// The channel.
        reply: Reply<ChannelView>,
    },
    /// Creates a channel with its info.
    CreateChannel {
        /// Who creates it.
        who: Acting,
        /// Its fields.
        new: NewChannel,
        /// The channel.
        reply: Reply<ChannelView>,
    },
    /// Changes a channel's settings (name, display name, header, purpose, privacy).
    SetChannelInfo {
        /// Who.
        who: Acting,
        /// The channel.
        channel: ChannelId,
        /// What changes.
        change: ChannelChange,
        /// The channel.
        reply: Reply<ChannelView>,
    },
    /// Joins a public channel.
    Join {
        /// Who.
        who: Acting,
        /// The channel.
        channel: ChannelId,
        /// The channel.
        reply: Reply<ChannelView>,
    },
    /// Leaves a channel.
    Leave {
        /// Who.
        who: Acting,
        /// The channel.
        channel: ChannelId,
        /// Done.
        reply: Reply<()>,
    },
    /// Adds a user to a private channel (or a public one).
    AddMember {
        /// Who adds.
        who: Acting,
        /// The channel.
        channel: ChannelId,
        /// Who is added (username).
        username: String,
        /// The channel.
        reply: Reply<ChannelView>,
    },
    /// Archives or unarchives a channel (creator or flotilla admin).
    Archive {
        /// Who.
        who: Acting,
        /// The channel.
        channel: ChannelId,
        /// Archive (true) or unarchive.
        archived: bool,
        /// The channel.
        reply: Reply<ChannelView>,
    },
    /// The DM of the user and `usernames` (2–8 people in all), made if new.
    OpenDm {
        /// Who.
        who: Acting,
        /// The other people.
        usernames: Vec<String>,
        /// The DM, and whether it was made now.
        reply: Reply<(ChannelView, bool)>,
    },
    /// A page of root posts.
    Posts {
        /// Who reads.
        who: Acting,
        /// The channel.
        channel: ChannelId,
        /// Older than this (the newest page if `None`).
        before: Option<Cursor>,
        /// At most this many (clamped to 1..=200).
        limit: usize,
        /// The page.
        reply: Reply<PostPage>,
    },
    /// One post or reply.
    Post {
        /// Who reads.
        who: Acting,
        /// The post.
        post: EventId,
        /// The post.
        reply: Reply<PostView>,
    },
    /// A thread: its root and replies, oldest first.
    Thread {
        /// Who reads.
        who: Acting,
        /// The root (or any reply of the thread).
        root: EventId,
        /// Root and replies.
        reply: Reply<(PostView, Vec<PostView>)>,
    },
    /// A channel's pinned posts, oldest first.
    Pins {
        /// Who reads.
        who: Acting,
        /// The channel.
        channel: ChannelId,
        /// The posts.
        reply: Reply<Vec<PostView>>,
    },
    /// Posts or replies.
    CreatePost {
        /// Who writes.
        who: Acting,
        /// The channel.
        channel: ChannelId,
        /// Markdown text; `@username` words become mentions.
        text: String,
        /// The thread root, for a reply.
        root: Option<EventId>,
        /// Attached files (from `put_file` in this channel).
        files: Vec<FileId>,
        /// The post.
        reply: Reply<PostView>,
    },
    /// Edits a post (its author or a flotilla admin).
    EditPost {
        /// Who.
        who: Acting,
        /// The post.
        post: EventId,
        /// The new text.
        text: String,
        /// The post.
        reply: Reply<PostView>,
    },
    /// Moves a post's thread to another channel (flotilla admins).
    MoveThread {
        /// Who.
        who: Acting,
        /// The post (or a reply of the thread).
        post: EventId,
        /// The target channel.
        to: ChannelId,
        /// The root's copy.
        reply: Reply<PostView>,
    },
    /// Deletes a post (its author or a flotilla admin).
    DeletePost {
        /// Who.
        who: Acting,
        /// The post.
        post: EventId,
        /// Done.
        reply: Reply<()>,
    },
    /// Adds or removes the user's reaction.
    React {
        /// Who.
        who: Acting,
        /// The post.
        post: EventId,
        /// Shortcode `[a-z0-9_+-]{1,32}`.
        emoji: String,
        /// Add (true) or remove.
        add: bool,
        /// The post.
        reply: Reply<PostView>,
    },
    /// Pins or unpins a post.
    SetPinned {
        /// Who.
        who: Acting,
        /// The post.
        post: EventId,
        /// Pin (true) or unpin.
        pinned: bool,
        /// The post.
        reply: Reply<PostView>,
    },
    /// Moves the user's read marker to the newest post or reply of the channel.
    MarkRead {
        /// Who.
        who: Acting,
        /// The channel.
        channel: ChannelId,
        /// Done.
        reply: Reply<()>,
    },
    /// The user's unread counts in a channel.
    Unread {
        /// Who.
        who: Acting,
        /// The channel.
        channel: ChannelId,
        /// The counts.
        reply: Reply<UnreadCounts>,
    },
    /// Posts as each of `readers` (local usernames) sees them, with their unread counts in
    /// the post's channel: one ask per batch of pushed posts for every live socket
    /// ([`crate::http::live`]). A reader who may not read a post is left out of its list.
    LivePosts {
        /// The posts, with their flotilla (a batch of the live hub, bounded by it).
        posts: Vec<(FlotillaId, EventId)>,
        /// The local usernames with a live socket.
        readers: Vec<String>,
        /// Per post, in order: the readers who may read it, with their view.
        reply: Reply<Vec<Vec<LiveView>>>,
    },
    /// Every active user of a flotilla.
    Members {
        /// The flotilla.
        flotilla: FlotillaId,
        /// The users.
        reply: Reply<Vec<MemberInfo>>,
    },
    /// Every active node of a flotilla, with what this node knows of its link.
    Boats {
        /// The flotilla.
        flotilla: FlotillaId,
        /// The boats.
        reply: Reply<Vec<BoatInfo>>,
    },
    /// This node's LoRa radios that may carry a flotilla.
    Radios {
        /// The flotilla.
        flotilla: FlotillaId,
        /// The radios.
        reply: Reply<Vec<RadioInfo>>,
    },
    /// Is the local user a flotilla admin?
    IsAdmin {
        /// Who.
        who: Acting,
        /// The answer.
        reply: Reply<bool>,
    },
    /// May the user attach a file in this channel, and up to what size? (First half of
    /// `put_file`; the bytes are then written off the actor.)
    FileTarget {
        /// Who.
        who: Acting,
        /// The channel.
        channel: ChannelId,
        /// The limit and the files directory.
        reply: Reply<FileTarget>,
    },
    /// Publishes the manifest of a file already stored (second half of `put_file`).
    PublishFile {
        /// Who.
        who: Acting,
        /// The channel.
        channel: ChannelId,
        /// The stored file.
        file: StoredFile,
        /// Its info.
        reply: Reply<FileInfo>,
    },
    /// A file's info and where its bytes are.
    File {
        /// Who reads.
        who: Acting,
        /// The file.
        file: FileId,
        /// Its info and path.
        reply: Reply<(FileInfo, PathBuf)>,
    },
}

//! The plain view types the chat API returns ([`super::NodeHandle`]'s chat methods): what the
//! HTTP layer maps to JSON. No serde here; every id stays typed.

use std::path::PathBuf;

use flotilla_protocol as proto;
use proto::PublicKey;
use proto::hlc::Hlc;
use proto::id::{ChannelId, EventId, FileId, FlotillaId};

pub use proto::fold::{Cursor, MAX_PAGE_POSTS};

use crate::Error;

/// What kind of channel it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelKind {
    /// Every flotilla member may read and write it.
    Public,
    /// Members only, with its own key.
    Private,
    /// A DM or group DM: a private channel whose name is [`DM_NAME`].
    Dm,
}

/// The `ChannelInfo` name that marks a private channel as a DM or group DM. API-made channel
/// names are `[a-z0-9_-]`, so none can take it.
pub const DM_NAME: &str = "@dm";

/// A channel as one user sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelView {
    /// Its id.
    pub id: ChannelId,
    /// Its flotilla.
    pub flotilla: FlotillaId,
    /// Its name (`@dm` for DMs; empty until its info event is known).
    pub name: String,
    /// Shown instead of the name when not empty (set by its creator or an admin).
    pub display_name: String,
    /// Public, private or DM.
    pub kind: ChannelKind,
    /// Shown above the timeline.
    pub header: String,
    /// What it is for.
    pub purpose: String,
    /// Read-only?
    pub archived: bool,
    /// The creator's username.
    pub creator: String,
    /// Members' usernames (private channels and DMs; empty for public ones).
    pub members: Vec<String>,
    /// Has the user joined it (always true for the default channels and readable private
    /// ones)?
    pub member: bool,
    /// Posts and replies by others after the user's read marker.
    pub unread: u32,
    /// Those of them that mention the user (every one of them in a DM).
    pub mentions: u32,
    /// When the newest visible post or reply was written (ms since the Unix epoch).
    pub last_post_at: Option<u64>,
}

/// One emoji's reactions on a post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaction {
    /// The shortcode, without colons (`thumbsup`).
    pub emoji: String,
    /// Who reacted, by username.
    pub users: Vec<String>,
    /// Did the user asking react with it?
    pub me: bool,
}

/// A file attached to posts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// BLAKE3 of its bytes.
    pub id: FileId,
    /// Its name.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its MIME type.
    pub mime: String,
    /// Its state on this boat (available, fetching…, GRIB preview).
    pub state: crate::files::FileState,
}

/// A post or reply as one user sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostView {
    /// Its event id.
    pub id: EventId,
    /// Its channel.
    pub channel: ChannelId,
    /// The author's username.
    pub author: String,
    /// The author's key.
    pub author_key: PublicKey,
    /// Is the author a removed or deleted user (their posts stay)?
    pub author_deleted: bool,
    /// The markdown text, after edits.
    pub text: String,
    /// The thread root, for a reply.
    pub root_id: Option<EventId>,
    /// When it was written (ms since the Unix epoch).
    pub created_at: u64,
    /// Was it edited?
    pub edited: bool,
    /// Visible replies (root posts).
    pub reply_count: u32,
    /// Pinned to its channel?
    pub pinned: bool,
    /// Reactions, by emoji.
    pub reactions: Vec<Reaction>,
    /// Attached files (a file whose manifest is not known yet has an empty name).
    pub files: Vec<FileInfo>,
    /// Users mentioned by key.
    pub mentions: Vec<PublicKey>,
    /// Does it mention the user asking (`@username`, `@channel`, `@all`, `@here`)?
    pub mentions_me: bool,
    /// Its position, for paging.
    pub cursor: Cursor,
    /// Did it come or leave by LoRa, and in how many hops?
    pub lora: Option<LoraMark>,
    /// For a thread root moved away by an admin: where it went.
    pub moved_to: Option<MovedTo>,
    /// For a post moved here: the username of the admin who moved it.
    pub moved_by: Option<String>,
}

/// Where a moved thread went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovedTo {
    /// The channel.
    pub channel: ChannelId,
    /// Its short (URL) name.
    pub name: String,
    /// The root's copy there.
    pub root: EventId,
}

/// How an event crossed this node's radio ([`crate::lora::marks`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoraMark {
    /// Heard on air (true) or sent on air (false).
    pub inbound: bool,
    /// Hops it took to reach this node (1 = heard from its origin); 0 when sent.
    pub hops: u8,
}

/// One LoRa radio of this node, as of now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RadioInfo {
    /// Its position in the `--lora` order.
    pub index: usize,
    /// Its spec (`kiss:/dev/ttyUSB0`, `meshtastic:tcp:HOST:4403`…).
    pub spec: String,
    /// Airtime used in the last hour, in ms.
    pub airtime_ms_this_hour: u64,
    /// Airtime allowed per hour by the duty cycle, in ms.
    pub duty_budget_ms: u64,
    /// Frames waiting to be sent.
    pub queue: usize,
    /// Frames sent since start.
    pub frames_sent: u64,
    /// Frames heard since start.
    pub frames_heard: u64,
}

/// A page of root posts: oldest first inside the page; `next` gives the older page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostPage {
    /// The posts, oldest first.
    pub posts: Vec<PostView>,
    /// Pass as `before` for the older page; `None` when there is none.
    pub next: Option<Cursor>,
}

/// A user's unread counts in one channel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnreadCounts {
    /// Posts and replies by others after the read marker.
    pub unread: u32,
    /// Those of them that mention the user (all of them in a DM).
    pub mentions: u32,
}

/// A post as one local reader sees it, for the live sockets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveView {
    /// The reader's local username.
    pub user: String,
    /// The post as they see it.
    pub post: PostView,
    /// Their unread counts in its channel.
    pub unread: UnreadCounts,
}

/// A user of a flotilla, on any boat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberInfo {
    /// Login name (unique per boat).
    pub username: String,
    /// Its key.
    pub key: PublicKey,
    /// Its nickname, if set.
    pub display_name: Option<String>,
    /// Its full name, if set.
    pub full_name: Option<String>,
    /// Its position on board, if set.
    pub position: Option<String>,
    /// Its profile picture (a file of the flotilla), if set.
    pub picture: Option<FileId>,
    /// Its home node.
    pub node: PublicKey,
    /// A flotilla admin?
    pub admin: bool,
    /// How it is shown: the username, or `name@boat` when another boat has the name.
    pub display: String,
    /// Its home boat's name.
    pub boat: String,
    /// Its key's fingerprint ([`crate::identity::fingerprint`]).
    pub fingerprint: String,
}

/// An active node of a flotilla.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoatInfo {
    /// The node's key.
    pub key: PublicKey,
    /// The boat's name.
    pub name: String,
    /// This node?
    pub me: bool,
    /// Connected now?
    pub connected: bool,
    /// Last connection or message (ms since the Unix epoch); `None` if never seen.
    pub last_seen_ms: Option<u64>,
    /// Heard by LoRa within the last hour and not connected over IP.
    pub lora_only: bool,
    /// Hops of the last event heard from it by LoRa, within the last hour.
    pub lora_hops: Option<u8>,
}

/// Where `put_file` may write and how much (the actor's answer before the bytes are stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileTarget {
    /// The flotilla's attachment limit in bytes.
    pub limit: u64,
    /// The node's files directory.
    pub dir: PathBuf,
    /// The channel's files key (chunks are encrypted with it before they leave this node).
    pub files_key: flotilla_protocol::crypto::SymmetricKey,
    /// The key id it was derived from (the manifest must be sealed with the same one).
    pub key_id: flotilla_protocol::id::EventId,
}

/// A cursor as an opaque string for URLs: `<ms>-<logical>-<id hex>`.
pub fn cursor_to_string(c: &Cursor) -> String {
    format!("{}-{}-{}", c.hlc.ms, c.hlc.logical, c.id)
}

/// Parses [`cursor_to_string`]'s form.
///
/// # Errors
/// [`Error::Invalid`] for anything else.
pub fn parse_cursor(s: &str) -> Result<Cursor, Error> {
    let bad = || Error::Invalid {
        what: "cursor",
        reason: format!("`{s}` is not a cursor from a previous page"),
    };
    let mut parts = s.splitn(3, '-');
    let ms = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let logical = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let id = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    Ok(Cursor {
        hlc: Hlc { ms, logical },
        id,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_invalid() {
        let c = Cursor {
            hlc: Hlc { ms: 17, logical: 3 },
            id: EventId([0xab; 32]),
        };
        assert_eq!(parse_cursor(&cursor_to_string(&c)).unwrap(), c);
        for bad in ["", "1-2", "x-1-00", "1-2-zz", "1-2-3-4"] {
            assert!(
                matches!(parse_cursor(bad), Err(Error::Invalid { .. })),
                "{bad}"
            );
        }
    }
}

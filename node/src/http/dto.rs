//! The JSON shapes of the chat API (see `docs/api.md`), built from the node's views. Posts
//! carry their markdown rendered for the reader ([`super::render::Renderer`]).

use serde::Serialize;
use utoipa::ToSchema;

use super::error::ApiError;
use super::render::Renderer;
use crate::handle::FlotillaInfo;
use crate::handle::views::{
    BoatInfo, ChannelKind, ChannelView, Cursor, FileInfo, LoraMark, MemberInfo, PostView, RadioInfo,
};

/// A flotilla this node follows.
#[derive(Debug, Serialize, ToSchema)]
pub struct Flotilla {
    /// Its id.
    pub id: String,
    /// Its name (empty while joining).
    pub name: String,
    /// Is this node an active member (false while joining)?
    pub member: bool,
    /// Active boats.
    pub nodes: usize,
    /// Is the caller a flotilla admin?
    pub admin: bool,
}

impl Flotilla {
    /// The API shape of `info`, for a caller who is (`admin`) a flotilla admin or not.
    pub fn new(info: FlotillaInfo, admin: bool) -> Self {
        Flotilla {
            id: info.id.to_string(),
            name: info.name,
            member: info.member,
            nodes: info.nodes,
            admin,
        }
    }
}

/// A user of a flotilla, on any boat.
#[derive(Debug, Serialize, ToSchema)]
pub struct Member {
    /// Username.
    pub username: String,
    /// Public key, hex.
    pub key: String,
    /// Nickname, if set.
    pub display_name: Option<String>,
    /// Full name, if set.
    pub full_name: Option<String>,
    /// Position on board, if set.
    pub position: Option<String>,
    /// Their profile picture's file id (hex), if set: the bytes are at
    /// `/api/v1/flotillas/{f}/members/{key}/picture`.
    pub picture: Option<String>,
    /// Their home boat's key, hex.
    pub node: String,
    /// A flotilla admin?
    pub admin: bool,
    /// How to show them: the username, or `name@boat` when another boat has the name.
    pub display: String,
    /// Their home boat's name.
    pub boat: String,
    /// Their key's fingerprint (six groups of five digits), to compare out of band.
    pub fingerprint: String,
}

impl From<MemberInfo> for Member {
    fn from(m: MemberInfo) -> Self {
        Member {
            username: m.username,
            key: m.key.to_string(),
            display_name: m.display_name,
            full_name: m.full_name,
            position: m.position,
            picture: m.picture.map(|p| p.to_string()),
            node: m.node.to_string(),
            admin: m.admin,
            display: m.display,
            boat: m.boat,
            fingerprint: m.fingerprint,
        }
    }
}

/// A boat of a flotilla.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Boat {
    /// Its node key, hex.
    pub key: String,
    /// Its name.
    pub name: String,
    /// This node?
    pub me: bool,
    /// Connected now?
    pub connected: bool,
    /// Last seen (ms since the Unix epoch), if ever.
    pub last_seen_ms: Option<u64>,
    /// Heard by LoRa within the last hour and not connected over IP: reachable only by LoRa.
    pub lora_only: bool,
    /// Hops of the last event heard from it by LoRa within the last hour, if any.
    pub lora_hops: Option<u8>,
}

impl From<BoatInfo> for Boat {
    fn from(b: BoatInfo) -> Self {
        Boat {
            key: b.key.to_string(),
            name: b.name,
            me: b.me,
            connected: b.connected,
            last_seen_ms: b.last_seen_ms,
            lora_only: b.lora_only,
            lora_hops: b.lora_hops,
        }
    }
}

/// A channel as the caller sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Channel {
    /// Its id.
    pub id: String,
    /// Its flotilla.
    pub flotilla: String,
    /// Its name (`@dm` for a DM).
    pub name: String,
    /// Shown instead of `name` when not empty.
    pub display_name: String,
    /// `public`, `private` or `dm`.
    pub kind: &'static str,
    /// Shown above the timeline.
    pub header: String,
    /// What it is for.
    pub purpose: String,
    /// Read-only?
    pub archived: bool,
    /// Who made it.
    pub creator: String,
    /// Has the caller joined?
    pub member: bool,
    /// Usernames of a private channel or DM (empty for public ones).
    pub members: Vec<String>,
    /// Posts and replies by others since the caller's read marker.
    pub unread: u32,
    /// Those of them that mention the caller (all of them in a DM).
    pub mentions: u32,
    /// The newest post (ms since the Unix epoch).
    pub last_post_at: Option<u64>,
}

impl From<ChannelView> for Channel {
    fn from(c: ChannelView) -> Self {
        Channel {
            id: c.id.to_string(),
            flotilla: c.flotilla.to_string(),
            name: c.name,
            display_name: c.display_name,
            kind: match c.kind {
                ChannelKind::Public => "public",
                ChannelKind::Private => "private",
                ChannelKind::Dm => "dm",
            },
            header: c.header,
            purpose: c.purpose,
            archived: c.archived,
            creator: c.creator,
            member: c.member,
            members: c.members,
            unread: c.unread,
            mentions: c.mentions,
            last_post_at: c.last_post_at,
        }
    }
}

/// A reaction on a post.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reaction {
    /// Shortcode without colons.
    pub emoji: String,
    /// How many reacted.
    pub count: usize,
    /// Who.
    pub users: Vec<String>,
    /// Did the caller?
    pub me: bool,
}

/// An attached file.
#[derive(Debug, Serialize, ToSchema)]
pub struct File {
    /// Its id (BLAKE3 of its bytes), hex.
    pub id: String,
    /// File name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// MIME type.
    pub mime: String,
    /// Are the bytes on this boat?
    pub available: bool,
    /// `available`, `fetching`, `waiting` (no boat in reach has it) or `on_demand`.
    pub state: &'static str,
    /// Share of the chunks on this boat, 0–1.
    pub progress: f64,
    /// Boats known to hold it (this one included when available).
    pub sources: u32,
    /// The weather preview of a GRIB file.
    pub grib: Option<super::files::Grib>,
    /// Why a GRIB file has no preview ("not a readable GRIB: …").
    pub grib_error: Option<String>,
}

impl From<FileInfo> for File {
    fn from(f: FileInfo) -> Self {
        let (grib, grib_error) = super::files::grib_fields(&f.state);
        File {
            id: f.id.to_string(),
            name: f.name,
            size: f.size,
            mime: f.mime,
            available: f.state.available(),
            state: f.state.status.as_str(),
            progress: f.state.progress(),
            sources: f.state.sources,
            grib,
            grib_error,
        }
    }
}

/// A post or reply.
#[derive(Debug, Serialize, ToSchema)]
pub struct Post {
    /// Its id.
    pub id: String,
    /// Its channel.
    pub channel: String,
    /// The author's username.
    pub author: String,
    /// The author's key, hex.
    pub author_key: String,
    /// Is the author a removed or deleted user? Their posts stay; the UI shows
    /// "(deleted user)" beside the name.
    pub author_deleted: bool,
    /// Markdown source, after edits.
    pub text: String,
    /// Sanitized HTML rendering of `text` for the caller.
    pub html: String,
    /// The thread root, for a reply.
    pub root_id: Option<String>,
    /// Written at (ms since the Unix epoch).
    pub created_at: u64,
    /// Edited since?
    pub edited: bool,
    /// Replies in its thread.
    pub reply_count: u32,
    /// Pinned to its channel?
    pub pinned: bool,
    /// Reactions.
    pub reactions: Vec<Reaction>,
    /// Attached files.
    pub files: Vec<File>,
    /// Does it mention the caller?
    pub mentions_me: bool,
    /// Did it come to this boat or leave it by LoRa? Null when it did not (or the node has
    /// restarted since: the marks are kept in memory).
    pub lora: Option<LoraPost>,
    /// For a thread root an admin moved to another channel: where it went (the UI shows
    /// "thread moved to ~name" instead of the text). Its replies are no longer listed here.
    pub moved_to: Option<MovedTo>,
    /// For a post an admin moved here from another channel: that admin's username (`author`
    /// and `created_at` are the original's).
    pub moved_by: Option<String>,
}

/// Where a moved thread went.
#[derive(Debug, Serialize, ToSchema)]
pub struct MovedTo {
    /// The channel's id.
    pub channel: String,
    /// The channel's short (URL) name.
    pub name: String,
    /// The id of the root's copy there.
    pub root_id: String,
}

/// How a post crossed this boat's LoRa radio.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LoraPost {
    /// `in` (heard on air) or `out` (sent on air from this boat).
    pub direction: &'static str,
    /// Hops it took to reach this boat (1 = heard from the boat that sent it first); 0 for
    /// `out`.
    pub hops: u8,
}

impl From<LoraMark> for LoraPost {
    fn from(m: LoraMark) -> Self {
        LoraPost {
            direction: if m.inbound { "in" } else { "out" },
            hops: m.hops,
        }
    }
}

/// One LoRa radio of this boat.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Radio {
    /// Its position in the `--lora` order.
    pub index: usize,
    /// Its spec (`kiss:/dev/ttyUSB0`, `meshtastic:tcp:HOST:4403`…).
    pub spec: String,
    /// Airtime used in the last hour (sliding window), in ms.
    pub airtime_ms_this_hour: u64,
    /// Airtime the duty cycle allows per hour, in ms.
    pub duty_budget_ms: u64,
    /// Frames waiting to be sent.
    pub queue: usize,
    /// Frames sent since the node started.
    pub frames_sent: u64,
    /// Frames heard since the node started.
    pub frames_heard: u64,
}

impl From<RadioInfo> for Radio {
    fn from(r: RadioInfo) -> Self {
        Radio {
            index: r.index,
            spec: r.spec,
            airtime_ms_this_hour: r.airtime_ms_this_hour,
            duty_budget_ms: r.duty_budget_ms,
            queue: r.queue,
            frames_sent: r.frames_sent,
            frames_heard: r.frames_heard,
        }
    }
}

impl Post {
    /// The API shape of `p`, rendered by `r`.
    pub fn new(p: PostView, r: &Renderer) -> Self {
        Post {
            id: p.id.to_string(),
            channel: p.channel.to_string(),
            html: r.render(&p.text),
            author: p.author,
            author_key: p.author_key.to_string(),
            author_deleted: p.author_deleted,
            text: p.text,
            root_id: p.root_id.map(|id| id.to_string()),
            created_at: p.created_at,
            edited: p.edited,
            reply_count: p.reply_count,
            pinned: p.pinned,
            reactions: p
                .reactions
                .into_iter()
                .map(|x| Reaction {
                    emoji: x.emoji,
                    count: x.users.len(),
                    users: x.users,
                    me: x.me,
                })
                .collect(),
            files: p.files.into_iter().map(File::from).collect(),
            mentions_me: p.mentions_me,
            lora: p.lora.map(LoraPost::from),
            moved_to: p.moved_to.map(|m| MovedTo {
                channel: m.channel.to_string(),
                name: m.name,
                root_id: m.root.to_string(),
            }),
            moved_by: p.moved_by,
        }
    }
}

/// A page of a channel's timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostPage {
    /// Root posts, oldest first.
    pub posts: Vec<Post>,
    /// Pass as `before` for the older page; null on the last.
    pub next: Option<String>,
}

/// A thread.
#[derive(Debug, Serialize, ToSchema)]
pub struct Thread {
    /// The root post.
    pub root: Post,
    /// Its replies, oldest first.
    pub replies: Vec<Post>,
}

pub use crate::handle::views::cursor_to_string;

/// Parses an API cursor.
///
/// # Errors
/// 400 for anything [`cursor_to_string`] does not make.
pub fn cursor_from_str(s: &str) -> Result<Cursor, ApiError> {
    crate::handle::views::parse_cursor(s)
        .map_err(|_| ApiError::bad_request("malformed cursor: pass back a `next` value as is"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use flotilla_protocol::EventId;
    use flotilla_protocol::hlc::Hlc;

    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_a_400() {
        let c = Cursor {
            hlc: Hlc {
                ms: 1_700_000_000_000,
                logical: 3,
            },
            id: EventId([7; 32]),
        };
        assert_eq!(cursor_from_str(&cursor_to_string(&c)).unwrap(), c);
        for bad in ["", "1", "1-2", "x-1-00", "1-2-zz"] {
            assert_eq!(
                cursor_from_str(bad).unwrap_err().status(),
                axum::http::StatusCode::BAD_REQUEST
            );
        }
    }
}

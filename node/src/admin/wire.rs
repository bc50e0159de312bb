//! The admin socket's JSON: [`Request`], [`Response`], the views in `ok`, [`ErrorCode`].

use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// One request line. Tagged by `cmd`; unknown fields are refused, so a typo is an error, not
/// a silently ignored flag. `flotilla` (an id or a name) may be left out while the node is
/// in exactly one flotilla.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Request {
    /// Makes a local account; answers [`UserView`].
    UserCreate {
        /// Login name.
        username: String,
        /// The password (hashed with argon2id by the node; never stored as is).
        password: String,
        /// A node admin?
        #[serde(default)]
        admin: bool,
    },
    /// Founds a flotilla with the node admin as first admin; answers [`FlotillaView`].
    FlotillaCreate {
        /// Its name.
        name: String,
    },
    /// Joins with an invite code through the connected peers; answers [`FlotillaView`].
    FlotillaJoin {
        /// The code (`fl2…`).
        code: String,
    },
    /// The flotillas this node follows; answers `[FlotillaView]`.
    FlotillaList {},
    /// Makes an invite; answers [`InviteView`].
    InviteCreate {
        /// The flotilla.
        #[serde(default)]
        flotilla: Option<String>,
        /// Admissions allowed (none: unlimited).
        #[serde(default)]
        uses: Option<u32>,
        /// Valid for this many seconds (none: no expiry).
        #[serde(default)]
        expires_secs: Option<u64>,
    },
    /// Revokes an invite, by code or invite id; answers [`RevokedView`].
    InviteRevoke {
        /// The code (`fl2…`) or the invite id (32 hex characters).
        code_or_id: String,
    },
    /// Makes a channel as the node admin; answers [`ChannelView`].
    ChannelCreate {
        /// Its name.
        name: String,
        /// Members only?
        #[serde(default)]
        private: bool,
        /// The flotilla.
        #[serde(default)]
        flotilla: Option<String>,
    },
    /// A flotilla's channels; answers `[ChannelView]`.
    ChannelList {
        /// The flotilla.
        #[serde(default)]
        flotilla: Option<String>,
    },
    /// Posts as a local user; answers [`PostView`].
    Post {
        /// The local user.
        as_user: String,
        /// The channel: a name (`town-square`) or an id.
        channel: String,
        /// The text.
        text: String,
        /// The thread root, for a reply.
        #[serde(default)]
        reply_to: Option<String>,
        /// The flotilla.
        #[serde(default)]
        flotilla: Option<String>,
    },
    /// The newest posts of a channel, oldest first; answers `[MessageView]`.
    Messages {
        /// The channel: a name or an id.
        channel: String,
        /// At most this many (default `DEFAULT_MESSAGES_LIMIT`).
        #[serde(default)]
        limit: Option<usize>,
        /// The flotilla.
        #[serde(default)]
        flotilla: Option<String>,
    },
    /// Known peers; answers `[PeerView]`.
    Peers {},
    /// The node's figures; answers [`StatusView`].
    Status {},
    /// The flotilla's users, on every boat; answers `[MemberView]`.
    MemberList {
        /// The flotilla.
        #[serde(default)]
        flotilla: Option<String>,
    },
    /// Removes a user (username, `name@boat` or key); answers [`MemberView`].
    MemberRemove {
        /// Who.
        user: String,
        /// The flotilla.
        #[serde(default)]
        flotilla: Option<String>,
    },
    /// The flotilla's boats; answers `[NodeView]`.
    NodeList {
        /// The flotilla.
        #[serde(default)]
        flotilla: Option<String>,
    },
    /// Removes a boat (key or name) and its users; answers [`NodeView`].
    NodeRemove {
        /// Which boat.
        node: String,
        /// The flotilla.
        #[serde(default)]
        flotilla: Option<String>,
    },
    /// Sets a role: `admin` or `member` (flotilla admin or not; answers [`MemberView`]), or
    /// `system_admin` (a local user becomes a node admin; answers [`UserView`]).
    Roles {
        /// `admin`, `member` or `system_admin`.
        role: String,
        /// Who (a local username for `system_admin`).
        user: String,
        /// The flotilla.
        #[serde(default)]
        flotilla: Option<String>,
    },
    /// The flotilla's files as the node admin sees them, with their state on this boat;
    /// answers `[File]` (the HTTP API's file object).
    FileList {
        /// The flotilla.
        #[serde(default)]
        flotilla: Option<String>,
    },
    /// Fetches a file now, whatever the link policy; answers `File`.
    FileFetch {
        /// The file id.
        id: String,
        /// The flotilla.
        #[serde(default)]
        flotilla: Option<String>,
    },
    /// Posts matching a search that a local user may read, newest first; answers
    /// `[MessageView]`.
    Search {
        /// The local user searching.
        as_user: String,
        /// The query (the search syntax).
        query: String,
        /// At most this many (default `DEFAULT_SEARCH_LIMIT`).
        #[serde(default)]
        limit: Option<usize>,
        /// The flotilla.
        #[serde(default)]
        flotilla: Option<String>,
    },
    /// Rebuilds the search indexes; answers `[RebuiltView]`.
    IndexRebuild {},
    /// One batch of a bulk import (`flotilla import bulk`); answers
    /// [`BatchReport`](crate::import::BatchReport).
    ImportBatch {
        /// The flotilla.
        #[serde(default)]
        flotilla: Option<String>,
        /// What to import.
        batch: crate::import::Batch,
    },
    /// The local accounts (`user list`); answers `[UserView]`.
    UserList {},
    /// Archives or unarchives a channel as the node admin; answers [`ChannelView`].
    ChannelArchive {
        /// The channel: a name or an id.
        channel: String,
        /// True to archive, false to unarchive.
        archived: bool,
        /// The flotilla.
        #[serde(default)]
        flotilla: Option<String>,
    },
    /// Renames a channel, sets its display name, or switches it between public and private,
    /// as the node admin (`channel rename`, `channel modify`); answers [`ChannelView`].
    ChannelModify {
        /// The channel: a name or an id.
        channel: String,
        /// The new name (`[a-z0-9_-]{1,64}`).
        #[serde(default)]
        name: Option<String>,
        /// The new display name (empty: none).
        #[serde(default)]
        display_name: Option<String>,
        /// Private (true) or public (false).
        #[serde(default)]
        private: Option<bool>,
        /// The flotilla.
        #[serde(default)]
        flotilla: Option<String>,
    },
    /// Revokes every open invite of the flotilla and makes a new one (`invite regenerate`);
    /// answers [`InviteView`] with `revoked` set.
    InviteRegenerate {
        /// The flotilla.
        #[serde(default)]
        flotilla: Option<String>,
        /// Admissions allowed by the new invite.
        #[serde(default)]
        uses: Option<u32>,
        /// The new invite is valid for this many seconds.
        #[serde(default)]
        expires_secs: Option<u64>,
    },
    /// Renames a flotilla (`flotilla rename`); answers [`FlotillaView`].
    FlotillaRename {
        /// The new name.
        name: String,
        /// The flotilla.
        #[serde(default)]
        flotilla: Option<String>,
    },
    /// Deletes a post as the node admin (`post delete`); answers [`PostView`].
    PostDelete {
        /// The post's id (hex).
        id: String,
        /// The flotilla.
        #[serde(default)]
        flotilla: Option<String>,
    },
    /// Moves a post's thread to another channel as the node's admin user (`post move`);
    /// answers [`PostView`] with the id of the root's copy.
    PostMove {
        /// The post's id (hex): the root or a reply of the thread.
        id: String,
        /// The target channel (name or id).
        channel: String,
        /// The flotilla.
        #[serde(default)]
        flotilla: Option<String>,
    },
    /// Sets a local account's password (`user password`); answers [`UserView`].
    UserPassword {
        /// The local user.
        username: String,
        /// The new password (at least 8 characters; hashed with argon2id).
        password: String,
    },
    /// Deactivates a local account (`user deactivate`): it cannot log in, its sessions and
    /// tokens end; answers [`UserView`].
    UserDeactivate {
        /// The local user.
        username: String,
    },
    /// Activates a deactivated account again (`user activate`); answers [`UserView`].
    UserActivate {
        /// The local user.
        username: String,
    },
    /// Deletes a local account (`user delete --confirm`): removed from every flotilla this
    /// node is in (its posts stay, shown as a deleted user), its account and key forgotten;
    /// answers [`UserDeletedView`].
    UserDelete {
        /// The local user.
        username: String,
        /// Must be true: deleting cannot be undone.
        #[serde(default)]
        confirm: bool,
    },
    /// Clears a local account's HTTP login rate limit (`user unlock`); answers
    /// [`UnlockedView`].
    UserUnlock {
        /// The local user.
        username: String,
    },
    /// Writes a flotilla as a Mattermost bulk file (`flotilla export bulk`); answers
    /// [`ExportReport`](crate::import::ExportReport).
    ExportBulk {
        /// The flotilla.
        #[serde(default)]
        flotilla: Option<String>,
        /// The file to write (absolute: the node may run in another directory).
        file: std::path::PathBuf,
        /// Copy attachments to `data/` beside the file?
        #[serde(default)]
        attachments: bool,
    },
}

/// One response line: `{"ok": …}` or `{"error": code, "message": text}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Response {
    /// Success, with the request's view.
    Ok {
        /// The view.
        ok: serde_json::Value,
    },
    /// Failure.
    Error {
        /// What went wrong, for programs.
        error: ErrorCode,
        /// What went wrong, for people.
        message: String,
    },
}

/// Why a request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// The line is not a valid request (JSON, `cmd`, fields).
    BadRequest,
    /// The line is longer than `MAX_REQUEST_BYTES`.
    TooLarge,
    /// Too many connections; try again.
    Busy,
    /// An argument is invalid (name, code, id, limit, password).
    Invalid,
    /// A flotilla, channel, user, invite or admin this node does not know.
    NotFound,
    /// It exists already (user, channel name).
    Exists,
    /// Not allowed or not possible now (the protocol's rules).
    Refused,
    /// The member refused the join (bad, revoked, expired or used-up invite).
    JoinRefused,
    /// The join did not complete (no peer, timeout).
    JoinFailed,
    /// The node is stopping.
    Unavailable,
    /// Something failed inside the node (the log has the cause).
    Internal,
}

/// A local user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    /// Login name.
    pub username: String,
    /// Its public key (hex).
    pub user_key: String,
    /// A node admin?
    pub admin: bool,
    /// Deactivated (`user deactivate`): cannot log in.
    #[serde(default)]
    pub deactivated: bool,
}

/// A deleted account (`user delete`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDeletedView {
    /// Login name it had.
    pub username: String,
    /// The key it had (hex): its posts keep it.
    pub user_key: String,
    /// How many flotillas it was removed from.
    pub flotillas: usize,
}

/// A login rate limit cleared (`user unlock`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnlockedView {
    /// Login name.
    pub username: String,
    /// Was it locked out (too many failed logins in the window)?
    pub was_locked: bool,
}

/// A flotilla.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlotillaView {
    /// Its id (hex).
    pub id: String,
    /// Its name (empty while joining).
    pub name: String,
    /// Is this node an active member?
    pub member: bool,
}

/// A new invite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteView {
    /// The invite id (hex): what `invite revoke` also takes.
    pub invite_id: String,
    /// Its flotilla (hex).
    pub flotilla: String,
    /// The code to hand over (`fl2…`).
    pub code: String,
    /// Admissions allowed (none: unlimited).
    pub uses: Option<u32>,
    /// Expiry (RFC 3339 UTC), if any.
    pub expires_at: Option<String>,
    /// `invite regenerate`: how many open invites were revoked first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<usize>,
}

/// A revoked invite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedView {
    /// The invite id (hex).
    pub invite_id: String,
    /// Its flotilla (hex).
    pub flotilla: String,
}

/// A channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelView {
    /// Its id (hex).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Shown instead of the name when not empty.
    #[serde(default)]
    pub display_name: String,
    /// Members only?
    pub private: bool,
    /// Its flotilla (hex).
    pub flotilla: String,
}

/// A new post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostView {
    /// Its id (hex).
    pub id: String,
}

/// A post or reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    /// Its id (hex).
    pub id: String,
    /// Its channel's name.
    pub channel: String,
    /// The author's username.
    pub author: String,
    /// Is the author a removed or deleted user (`user delete`; their posts stay)?
    #[serde(default)]
    pub author_deleted: bool,
    /// The text, after edits.
    pub text: String,
    /// The thread root (hex), for a reply.
    pub root_id: Option<String>,
    /// When it was written: RFC 3339 UTC, from the HLC milliseconds.
    pub created_at: String,
}

/// The node's figures (`flotilla status`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusView {
    /// The node key (hex).
    pub node: String,
    /// The node's name.
    pub name: String,
    /// Events accepted per second (received or local), averaged over the last
    /// `crate::status::RATE_WINDOW_SECS` seconds.
    pub ingest_rate: f64,
    /// Events accepted since the node started.
    pub ingested: u64,
    /// Bytes the store takes on disk.
    pub store_bytes: u64,
    /// Boats connected now.
    pub peers_connected: usize,
    /// One entry per flotilla followed.
    pub flotillas: Vec<FlotillaStatusView>,
}

/// One flotilla in [`StatusView`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlotillaStatusView {
    /// Its id (hex).
    pub id: String,
    /// Its name (empty while joining).
    pub name: String,
    /// Is this node an active member?
    pub member: bool,
    /// Events stored and synced (revoked ones left out).
    pub events: usize,
    /// Channels.
    pub channels: usize,
    /// Active users.
    pub members: usize,
    /// Active boats.
    pub boats: usize,
    /// Active boats, other than this one, connected now.
    pub boats_connected: usize,
}

/// A peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerView {
    /// Its libp2p peer id.
    pub peer_id: String,
    /// Its node key (hex), when the peer id carries it.
    pub node_key: Option<String>,
    /// Addresses it was reached at or announced.
    pub addresses: Vec<String>,
    /// Connected now?
    pub connected: bool,
    /// Last connection or message (RFC 3339 UTC), if any.
    pub last_seen: Option<String>,
}

/// A user of a flotilla.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    /// Login name (unique per boat).
    pub username: String,
    /// How it is shown: the username, or `name@boat` when two boats have it.
    pub display: String,
    /// Its key (hex).
    pub user_key: String,
    /// Its home boat's name.
    pub home_boat: String,
    /// Its home boat's key (hex).
    pub home_node: String,
    /// A flotilla admin?
    pub admin: bool,
    /// The key's fingerprint, to compare out of band.
    pub fingerprint: String,
}

/// A boat of a flotilla.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeView {
    /// Its node key (hex).
    pub id: String,
    /// Its name.
    pub name: String,
    /// This node?
    pub me: bool,
    /// Connected now?
    pub connected: bool,
    /// Last connection or message (RFC 3339 UTC), if any.
    pub last_seen: Option<String>,
}

/// Parses one request line (without its newline).
///
/// # Errors
/// `(ErrorCode::BadRequest, why)` for anything that is not a [`Request`].
pub fn parse_request(line: &[u8]) -> Result<Request, (ErrorCode, String)> {
    serde_json::from_slice(line).map_err(|e| (ErrorCode::BadRequest, e.to_string()))
}

/// Milliseconds since the Unix epoch as RFC 3339 UTC with milliseconds
/// (`2024-05-01T12:00:00.000Z`).
pub fn rfc3339(ms: u64) -> String {
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_with_defaults_and_refuse_unknown_fields() {
        let req = parse_request(br#"{"cmd":"channel_create","name":"x"}"#).unwrap();
        assert_eq!(
            req,
            Request::ChannelCreate {
                name: "x".into(),
                private: false,
                flotilla: None
            }
        );
        let req = parse_request(br#"{"cmd":"peers"}"#).unwrap();
        assert_eq!(req, Request::Peers {});
        for bad in [
            &br#"{"cmd":"channel_create","name":"x","privat":true}"#[..],
            br#"{"cmd":"nope"}"#,
            br#"{"name":"x"}"#,
            br#"{"cmd":"post","as_user":"a","channel":"c"}"#,
            b"not json",
            b"",
        ] {
            let (code, _) = parse_request(bad).unwrap_err();
            assert_eq!(
                code,
                ErrorCode::BadRequest,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn requests_round_trip() {
        let req = Request::Post {
            as_user: "anne".into(),
            channel: "town-square".into(),
            text: "line\n\"two\"".into(),
            reply_to: Some("ab".into()),
            flotilla: None,
        };
        let line = serde_json::to_vec(&req).unwrap();
        assert!(!line.contains(&b'\n'), "one request is one line");
        assert_eq!(parse_request(&line).unwrap(), req);
    }

    #[test]
    fn responses_are_ok_or_error() {
        let ok: Response = serde_json::from_str(r#"{"ok":{"id":"ab"}}"#).unwrap();
        assert_eq!(
            ok,
            Response::Ok {
                ok: serde_json::json!({"id": "ab"})
            }
        );
        let err = Response::Error {
            error: ErrorCode::NotFound,
            message: "no".into(),
        };
        assert_eq!(
            serde_json::to_string(&err).unwrap(),
            r#"{"error":"not_found","message":"no"}"#
        );
    }

    #[test]
    fn rfc3339_formats_utc_with_milliseconds() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_714_564_800_123), "2024-05-01T12:00:00.123Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}

//! Mattermost's bulk JSONL lines as serde types (research/mattermost.md §2.2). Only the
//! fields flotilla uses are named; unknown fields are ignored, as Mattermost ignores them.

use serde::Deserialize;

/// One line: `{"type": "<t>", "<t>": {…}}`.
#[derive(Debug, Deserialize)]
pub(super) struct Line {
    #[serde(rename = "type")]
    pub kind: String,
    pub version: Option<u64>,
    pub team: Option<Team>,
    pub channel: Option<Channel>,
    pub user: Option<User>,
    pub post: Option<Post>,
    pub direct_channel: Option<DirectChannel>,
    pub direct_post: Option<Post>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Team {
    pub name: String,
    pub display_name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Channel {
    pub team: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub header: Option<String>,
    pub purpose: Option<String>,
    pub deleted_at: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub(super) struct User {
    pub username: String,
    pub roles: Option<String>,
    #[serde(default)]
    pub teams: Vec<UserTeam>,
}

#[derive(Debug, Deserialize)]
pub(super) struct UserTeam {
    pub name: String,
    #[serde(default)]
    pub channels: Vec<UserChannel>,
}

#[derive(Debug, Deserialize)]
pub(super) struct UserChannel {
    pub name: String,
}

/// A `post` (with `team` and `channel`) or a `direct_post` (with `channel_members`).
#[derive(Debug, Deserialize)]
pub(super) struct Post {
    pub team: Option<String>,
    pub channel: Option<String>,
    pub channel_members: Option<Vec<String>>,
    pub user: String,
    #[serde(default)]
    pub message: String,
    pub create_at: i64,
    #[serde(default)]
    pub reactions: Vec<Reaction>,
    #[serde(default)]
    pub replies: Vec<Reply>,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    #[serde(default)]
    pub is_pinned: bool,
    #[serde(default)]
    pub flagged_by: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Reply {
    pub user: String,
    #[serde(default)]
    pub message: String,
    pub create_at: i64,
    #[serde(default)]
    pub reactions: Vec<Reaction>,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    #[serde(default)]
    pub is_pinned: bool,
    #[serde(default)]
    pub flagged_by: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Reaction {
    pub user: String,
    pub emoji_name: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct Attachment {
    pub path: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct DirectChannel {
    pub members: Option<Vec<String>>,
    pub participants: Option<Vec<Participant>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Participant {
    pub username: String,
}

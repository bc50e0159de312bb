//! Bulk import of a Mattermost bulk export (`flotilla import bulk FILE`).
//!
//! The file is Mattermost's JSONL bulk format (one `{"type": …}` object per line, the first
//! a `version` line; docs/operator-guide.md "Migrating from Mattermost"). The import runs in
//! three stages, each its own module:
//! - `format`: the lines as serde types (unknown fields and line types are tolerated).
//! - `validate`: pure: every line is parsed and checked (JSON, version line, known team,
//!   channel before its posts, user before its posts, names, lengths, emoji), every problem
//!   reported with its line number; a clean file becomes a [`Plan`]: users, then per team its
//!   channels, posts (with their replies, reactions and pins) and archived channels.
//! - `apply`: on the node, behind the admin socket: one [`Batch`] of [`Item`]s at a time,
//!   each idempotent (a channel or post already there is skipped), so an import that stopped
//!   half way is resumed by running it again. Posts become [`Content::ImportedPost`]
//!   events signed by the node with their author's key and shown at their original time.
//! - `run`: the CLI side: reads the file, validates, creates the flotillas and accounts
//!   (temporary passwords in a 0600 file), sends the batches and shows progress.
//! - `export`: `flotilla export bulk`, the same format back out, in Mattermost's order; a
//!   round trip import → export → import gives the same channels, users and posts.
//!
//! [`Content::ImportedPost`]: flotilla_protocol::Content::ImportedPost

mod apply;
mod export;
mod format;
mod run;
mod seen;
mod validate;

pub use apply::{
    Batch, BatchReport, ChannelItem, Item, ItemError, PostItem, ReactionItem, ReplyItem, Target,
    apply,
};
pub use export::{ExportReport, export, team_name};
pub use run::{ImportArgs, check, run, summary};
pub use seen::{NewPost, PostKey, Seen, check_text};
pub use validate::{Plan, Problem, TeamPlan, UserPlan, validate};

/// Items per admin request; a batch is also cut before it passes [`MAX_BATCH_BYTES`].
pub const MAX_BATCH_ITEMS: usize = 200;
/// The largest batch, in JSON bytes: below the admin socket's request limit.
pub const MAX_BATCH_BYTES: usize = 96 * 1024;

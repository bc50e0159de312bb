//! What the actor keeps to make imports idempotent: the keys of the posts already there.

use std::collections::HashMap;

use flotilla_protocol as proto;
use proto::PublicKey;
use proto::event::MAX_POST_CHARS;
use proto::id::{ChannelId, EventId, FileId, FlotillaId};

use crate::Error;

/// An imported post, as the actor writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPost {
    /// Markdown text.
    pub text: String,
    /// The thread root, for a reply.
    pub root: Option<EventId>,
    /// Attached files (already published in the channel).
    pub files: Vec<FileId>,
    /// Its original time (ms since the Unix epoch).
    pub created_ms: u64,
}

/// A post's identity across imports: channel, author, original time, root and text hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PostKey {
    channel: ChannelId,
    author: PublicKey,
    created_ms: u64,
    root: Option<EventId>,
    text: [u8; 32],
}

impl PostKey {
    /// The key of a post.
    pub fn new(
        channel: ChannelId,
        author: PublicKey,
        created_ms: u64,
        root: Option<EventId>,
        text: &str,
    ) -> Self {
        PostKey {
            channel,
            author,
            created_ms,
            root,
            text: *blake3::hash(text.as_bytes()).as_bytes(),
        }
    }
}

/// The posts of each flotilla by [`PostKey`], read from the fold on first use.
#[derive(Debug, Default)]
pub struct Seen {
    by_flotilla: HashMap<FlotillaId, HashMap<PostKey, EventId>>,
}

impl Seen {
    /// Has this flotilla been indexed?
    pub fn has(&self, flotilla: &FlotillaId) -> bool {
        self.by_flotilla.contains_key(flotilla)
    }

    /// Replaces a flotilla's index.
    pub fn set(&mut self, flotilla: FlotillaId, keys: HashMap<PostKey, EventId>) {
        self.by_flotilla.insert(flotilla, keys);
    }

    /// The post with this key, if known.
    pub fn get(&self, flotilla: &FlotillaId, key: &PostKey) -> Option<EventId> {
        self.by_flotilla.get(flotilla)?.get(key).copied()
    }

    /// Records a post just written.
    pub fn insert(&mut self, flotilla: FlotillaId, key: PostKey, id: EventId) {
        self.by_flotilla
            .entry(flotilla)
            .or_default()
            .insert(key, id);
    }
}

/// An imported text: at most [`MAX_POST_CHARS`] characters (it may be empty when the
/// original post only carried files).
///
/// # Errors
/// [`Error::Invalid`].
pub fn check_text(text: &str) -> Result<(), Error> {
    let len = text.chars().count();
    if len > MAX_POST_CHARS {
        return Err(Error::Invalid {
            what: "text",
            reason: format!("{len} characters, more than {MAX_POST_CHARS}"),
        });
    }
    Ok(())
}

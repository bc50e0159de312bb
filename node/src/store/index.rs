//! The node's post indexes: channel timelines, threads and per-user read markers.
//!
//! The core stores posts encrypted; only the node, after decrypting one, knows it is a post,
//! whether it is a reply, and to which root. It then calls [`SledStore::index_post`]. These
//! indexes are derived data: the events remain the source of truth.

use std::ops::Bound;

use flotilla_protocol as proto;
use proto::PublicKey;
use proto::hlc::Hlc;
use proto::id::{ChannelId, EventId, FlotillaId};
use sled::transaction::{ConflictableTransactionError, Transactional};

use super::{Error, SledStore, corrupt, from_tx, keys};

/// The most ids one page returns, whatever the caller asks.
pub const MAX_PAGE: usize = 500;

/// What the node learned about a post by decrypting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostIndex {
    /// Its flotilla.
    pub flotilla: FlotillaId,
    /// Its channel.
    pub channel: ChannelId,
    /// The post's event id.
    pub id: EventId,
    /// The post's timestamp.
    pub hlc: Hlc,
    /// The thread root, for a reply.
    pub root: Option<EventId>,
    /// Who wrote it.
    pub author: PublicKey,
}

/// A position in a timeline or a thread: the `(hlc, id)` of a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cursor {
    /// The post's timestamp.
    pub hlc: Hlc,
    /// The post's id (breaks ties between equal timestamps).
    pub id: EventId,
}

/// One page of post ids, and where the next page starts (`None`: this was the last).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// Post ids, in the order the query promises.
    pub ids: Vec<EventId>,
    /// Pass this back to get the next page.
    pub next: Option<Cursor>,
}

impl SledStore {
    /// Records a decrypted post in the timeline (root posts) or its thread (replies), and
    /// in the channel's post list used for unread counts. Idempotent. Flushed before `Ok`.
    ///
    /// # Errors
    /// [`Error::Sled`] if sled fails.
    pub fn index_post(&self, post: &PostIndex) -> Result<(), Error> {
        self.write_post(post)?;
        self.flush()
    }

    /// [`Self::index_post`] for several posts, with one flush.
    ///
    /// # Errors
    /// [`Error::Sled`] if sled fails.
    pub fn index_posts(&self, posts: &[PostIndex]) -> Result<(), Error> {
        posts.iter().try_for_each(|p| self.write_post(p))?;
        self.flush()
    }

    fn write_post(&self, post: &PostIndex) -> Result<(), Error> {
        let chan = keys::channel(&post.flotilla, &post.channel);
        let (thread_tree, thread_key) = match post.root {
            None => (&self.roots, keys::at(&chan, post.hlc, &post.id)),
            Some(root) => (&self.replies, keys::at(&root.0, post.hlc, &post.id)),
        };
        let post_key = keys::at(&chan, post.hlc, &post.id);
        let res = (thread_tree, &self.posts).transaction(|(thread, posts)| {
            thread.insert(thread_key.as_slice(), &[][..])?;
            posts.insert(post_key.as_slice(), &post.author.0[..])?;
            Ok::<_, ConflictableTransactionError<()>>(())
        });
        res.map_err(from_tx)
    }

    /// Root posts of a channel, newest first: the page before `before` (or the newest page).
    ///
    /// # Errors
    /// [`Error::Sled`] if sled fails, [`Error::Corrupt`] for an undecodable key.
    pub fn timeline(
        &self,
        flotilla: &FlotillaId,
        channel: &ChannelId,
        before: Option<Cursor>,
        limit: usize,
    ) -> Result<Page, Error> {
        let prefix = keys::channel(flotilla, channel);
        let iter = match before {
            Some(c) => self
                .roots
                .range(prefix.clone()..keys::at(&prefix, c.hlc, &c.id)),
            None => self.roots.scan_prefix(&prefix),
        };
        page(iter.rev(), limit)
    }

    /// Replies of a thread, oldest first: the page after `after` (or the first page).
    ///
    /// # Errors
    /// [`Error::Sled`] if sled fails, [`Error::Corrupt`] for an undecodable key.
    pub fn thread(
        &self,
        root: &EventId,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<Page, Error> {
        let prefix = root.0;
        let iter = match after {
            Some(c) => {
                let start = Bound::Excluded(keys::at(&prefix, c.hlc, &c.id));
                self.replies.range::<Vec<u8>, _>((start, Bound::Unbounded))
            }
            None => self.replies.scan_prefix(prefix),
        };
        page(
            iter.take_while(move |kv| kv.as_ref().map_or(true, |(k, _)| k.starts_with(&prefix))),
            limit,
        )
    }

    /// Moves `user`'s read marker for a channel to `upto`. Never moves it back: a phone that
    /// was offline and reports an old position must not make read posts unread again.
    /// Not flushed: losing the last half second of read markers in a crash is harmless.
    ///
    /// # Errors
    /// [`Error::Sled`] if sled fails.
    pub fn mark_read(
        &self,
        user: &PublicKey,
        flotilla: &FlotillaId,
        channel: &ChannelId,
        upto: Hlc,
    ) -> Result<(), Error> {
        let key = keys::read_marker(user, flotilla, channel);
        self.read
            .fetch_and_update(key, |old| match old.and_then(keys::decode_hlc) {
                Some(prev) if prev >= upto => old.map(<[u8]>::to_vec),
                _ => Some(keys::hlc(upto).to_vec()),
            })?;
        Ok(())
    }

    /// `user`'s read marker for a channel, if any.
    ///
    /// # Errors
    /// [`Error::Sled`] if sled fails, [`Error::Corrupt`] for an undecodable marker.
    pub fn read_marker(
        &self,
        user: &PublicKey,
        flotilla: &FlotillaId,
        channel: &ChannelId,
    ) -> Result<Option<Hlc>, Error> {
        let Some(raw) = self.read.get(keys::read_marker(user, flotilla, channel))? else {
            return Ok(None);
        };
        keys::decode_hlc(&raw)
            .map(Some)
            .ok_or_else(|| corrupt("read marker"))
    }

    /// Posts and replies by others in a channel after `user`'s read marker (all of them if
    /// the user never read it). Scans the unread part of the channel.
    ///
    /// # Errors
    /// [`Error::Sled`] if sled fails.
    pub fn unread_count(
        &self,
        user: &PublicKey,
        flotilla: &FlotillaId,
        channel: &ChannelId,
    ) -> Result<u64, Error> {
        let prefix = keys::channel(flotilla, channel);
        let start = match self.read_marker(user, flotilla, channel)? {
            Some(upto) => Bound::Excluded(keys::at(&prefix, upto, &EventId([0xff; 32]))),
            None => Bound::Included(prefix.clone()),
        };
        let mut count = 0;
        for kv in self.posts.range::<Vec<u8>, _>((start, Bound::Unbounded)) {
            let (k, author) = kv?;
            if !k.starts_with(&prefix) {
                break;
            }
            count += u64::from(author.as_ref() != user.0.as_slice());
        }
        Ok(count)
    }
}

/// Takes up to `limit` (capped by [`MAX_PAGE`]) ids from `iter`, and a cursor when more follow.
fn page(
    iter: impl Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>,
    limit: usize,
) -> Result<Page, Error> {
    let limit = limit.clamp(1, MAX_PAGE);
    let mut out = Page::default();
    let mut last = None;
    for kv in iter {
        let (k, _) = kv?;
        let (hlc, id) = keys::decode_at(&k).ok_or_else(|| corrupt("post index key"))?;
        if out.ids.len() == limit {
            out.next = last;
            break;
        }
        out.ids.push(id);
        last = Some(Cursor { hlc, id });
    }
    Ok(out)
}

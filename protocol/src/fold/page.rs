//! Views of a [`ChatState`] that cost O(page), not O(channel): a node keeps one fold per
//! flotilla and answers every request from it, so no query may walk a whole channel.
//!
//! - [`ChatState::roots_page`]: root posts, newest first, before a [`Cursor`];
//! - [`ChatState::pins`]: the pinned posts (found through the channel's pin targets);
//! - [`ChatState::unread`]: posts and replies after a position, by others, and how many
//!   mention a user;
//! - [`ChatState::newest`]: the position of a channel's newest visible post or reply.
//!
//! Hidden (removed author) and deleted posts are skipped as the full views skip them.

use std::ops::Bound;

use super::{ChatState, Post, PostView};
use crate::crypto::PublicKey;
use crate::hlc::Hlc;
use crate::id::{ChannelId, EventId};
use crate::membership::AuthState;
use crate::mention;

/// The most posts one page holds, whatever the caller asks.
pub const MAX_PAGE_POSTS: usize = 200;

/// A position in a channel: the `(hlc, id)` of a post, the timeline order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cursor {
    /// The post's timestamp.
    pub hlc: Hlc,
    /// The post's id (breaks ties between equal timestamps).
    pub id: EventId,
}

impl Cursor {
    fn key(self) -> (Hlc, EventId) {
        (self.hlc, self.id)
    }
}

/// One page of root posts, newest first, and where the next (older) page starts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Page {
    /// The posts, newest first.
    pub posts: Vec<PostView>,
    /// Pass as `before` for the older page; `None` when no older visible root post exists.
    pub next: Option<Cursor>,
}

/// Unread posts and replies of a channel for one user.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Unread {
    /// Visible posts and replies by others after the position.
    pub posts: u32,
    /// Those of them that mention the user (all of them if `every_post_mentions`).
    pub mentions: u32,
}

impl ChatState {
    /// Visible root posts of `channel` strictly older than `before` (or the newest), newest
    /// first, at most `limit` (clamped to `1..=`[`MAX_PAGE_POSTS`]). Walks only the posts it
    /// returns, the hidden ones between them, and up to the next visible root.
    pub fn roots_page(
        &self,
        auth: &AuthState,
        channel: &ChannelId,
        before: Option<Cursor>,
        limit: usize,
    ) -> Page {
        let limit = limit.clamp(1, MAX_PAGE_POSTS);
        let mut roots = self
            .posts_before(channel, before)
            .filter(|p| p.root.is_none());
        let mut posts = Vec::with_capacity(limit);
        for post in roots.by_ref() {
            if let Some(view) = self.view(auth, post) {
                posts.push(view);
                if posts.len() == limit {
                    break;
                }
            }
        }
        let more = posts.len() == limit && roots.any(|p| self.visible(auth, p));
        let next = more
            .then(|| {
                posts.last().map(|v| Cursor {
                    hlc: v.hlc,
                    id: v.id,
                })
            })
            .flatten();
        Page { posts, next }
    }

    /// A channel's pinned visible posts, oldest first by `(hlc, id)`. Costs O(posts ever
    /// pinned or unpinned in the channel).
    pub fn pins(&self, auth: &AuthState, channel: &ChannelId) -> Vec<PostView> {
        let Some(c) = self.channels.get(channel) else {
            return Vec::new();
        };
        let mut out: Vec<PostView> = c
            .pin_targets
            .iter()
            .filter_map(|id| self.posts.get(id))
            .filter(|p| p.stamp.channel == *channel)
            .filter_map(|p| self.view(auth, p))
            .filter(|v| v.pinned)
            .collect();
        out.sort_by_key(|v| (v.hlc, v.id));
        out
    }

    /// Visible posts and replies of `channel` after `after` (all if `None`) not written by
    /// `user`, and how many of them mention `user` (see [`mention::mentions`]); with
    /// `every_post_mentions` (a DM) each one counts as a mention. Costs O(posts after).
    pub fn unread(
        &self,
        auth: &AuthState,
        channel: &ChannelId,
        after: Option<Cursor>,
        user: &PublicKey,
        every_post_mentions: bool,
    ) -> Unread {
        let Some(c) = self.channels.get(channel) else {
            return Unread::default();
        };
        let start = after.map_or(Bound::Unbounded, |a| Bound::Excluded(a.key()));
        let mut out = Unread::default();
        let others = c
            .posts
            .range((start, Bound::Unbounded))
            .filter_map(|(_, id)| self.posts.get(id))
            .filter(|p| p.author != *user && self.visible(auth, p));
        for post in others {
            out.posts = out.posts.saturating_add(1);
            if every_post_mentions || mention::mentions(&post.text, &post.mentions, user) {
                out.mentions = out.mentions.saturating_add(1);
            }
        }
        out
    }

    /// The position of the newest visible post or reply of `channel`.
    pub fn newest(&self, auth: &AuthState, channel: &ChannelId) -> Option<Cursor> {
        self.posts_before(channel, None)
            .find(|p| self.visible(auth, p))
            .map(|p| Cursor {
                hlc: p.at,
                id: p.stamp.id,
            })
    }

    /// The channel of a post or reply, visible or not, if it has been applied.
    pub fn channel_of(&self, post: &EventId) -> Option<ChannelId> {
        self.posts.get(post).map(|p| p.stamp.channel)
    }

    /// The thread root named by a reply (`None` for a root post or an unknown id).
    pub fn root_of(&self, post: &EventId) -> Option<EventId> {
        self.posts.get(post).and_then(|p| p.root)
    }

    /// The ids of the replies naming `root` as their root, in any channel, visible or not,
    /// oldest first.
    pub fn reply_ids(&self, root: &EventId) -> Vec<EventId> {
        self.replies
            .get(root)
            .map(|r| r.iter().map(|(_, id)| *id).collect())
            .unwrap_or_default()
    }

    /// The author of a post or reply, visible or not.
    pub fn author_of(&self, post: &EventId) -> Option<PublicKey> {
        self.posts.get(post).map(|p| p.author)
    }

    /// Posts and replies of a channel strictly before `before`, newest first.
    fn posts_before<'a>(
        &'a self,
        channel: &ChannelId,
        before: Option<Cursor>,
    ) -> impl Iterator<Item = &'a Post> + 'a {
        let end = before.map_or(Bound::Unbounded, |b| Bound::Excluded(b.key()));
        self.channels
            .get(channel)
            .into_iter()
            .flat_map(move |c| c.posts.range((Bound::Unbounded, end)).rev())
            .filter_map(|(_, id)| self.posts.get(id))
    }
}

#[cfg(test)]
mod tests;

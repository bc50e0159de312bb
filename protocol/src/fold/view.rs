//! Views of a [`ChatState`]: what a user sees, judged against an [`AuthState`].
//!
//! Every view is computed from the registers and op sets the fold keeps, so it is a function
//! of the set of events applied and of the membership state passed in, never of arrival
//! order. See the [`super`] module docs for the rules.

use std::collections::{BTreeMap, BTreeSet};

use super::{ChatState, Info, Ops, Post, Stamp};
use crate::crypto::PublicKey;
use crate::hlc::Hlc;
use crate::id::{ChannelId, EventId, FileId};
use crate::membership::AuthState;

/// A post or reply as shown: its text after edits, its reactions, replies and pin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostView {
    /// The post's event id.
    pub id: EventId,
    /// Its channel.
    pub channel: ChannelId,
    /// Who wrote it.
    pub author: PublicKey,
    /// When it was written (the timeline order, with `id` breaking ties).
    pub hlc: Hlc,
    /// The text of the winning edit, or the original text.
    pub text: String,
    /// Whether a valid edit replaced the original text.
    pub edited: bool,
    /// The thread root, for a reply.
    pub root: Option<EventId>,
    /// Attached files.
    pub files: Vec<FileId>,
    /// Users mentioned.
    pub mentions: Vec<PublicKey>,
    /// Emoji to the users whose latest word on it is "add". Emoji nobody holds are absent.
    pub reactions: BTreeMap<String, BTreeSet<PublicKey>>,
    /// Visible replies in the same channel naming this post as their root.
    pub reply_count: usize,
    /// Whether the post is pinned to its channel.
    pub pinned: bool,
    /// For a thread root moved away: the channel it went to and the root's copy there.
    pub moved_to: Option<(ChannelId, EventId)>,
    /// For a moved copy: the admin who moved it (`author` is the original's).
    pub moved_by: Option<PublicKey>,
}

/// A channel as shown: its fields and pinned posts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChannelView {
    /// Short name; empty until a valid channel info event is known.
    pub name: String,
    /// Shown instead of the short name when not empty.
    pub display_name: String,
    /// Shown above the timeline; empty if never set.
    pub header: String,
    /// What the channel is for; empty if never set.
    pub purpose: String,
    /// Whether the channel is archived (read-only in clients).
    pub archived: bool,
    /// Pinned visible posts, oldest first by `(hlc, id)`.
    pub pinned: Vec<EventId>,
}

/// One channel's complete view: its fields and its whole timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelSnapshot {
    /// The channel's fields.
    pub view: ChannelView,
    /// Every visible post, as [`ChatState::timeline`] gives it.
    pub timeline: Vec<PostView>,
}

/// Every channel's complete view: two nodes that hold the same events and membership state
/// have equal snapshots. Compare them directly, or by [`Snapshot::digest`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Each channel the fold has seen content for.
    pub channels: BTreeMap<ChannelId, ChannelSnapshot>,
}

impl ChatState {
    /// A visible post or reply by id: `None` if unknown, deleted or by a removed author.
    pub fn post(&self, auth: &AuthState, id: &EventId) -> Option<PostView> {
        self.view(auth, self.posts.get(id)?)
    }

    /// A channel's visible posts and replies, oldest first by `(hlc, id)`. Replies appear in
    /// the channel too, as Mattermost shows them; a reply's `root` names its thread.
    pub fn timeline(&self, auth: &AuthState, channel: &ChannelId) -> Vec<PostView> {
        self.channels
            .get(channel)
            .map(|c| self.views(auth, c.posts.iter()))
            .unwrap_or_default()
    }

    /// A thread: its root (unless deleted or hidden), then its visible replies in the root's
    /// channel, oldest first by `(hlc, id)`. Empty while the root itself is unknown: replies
    /// that arrived first wait for it.
    pub fn thread(&self, auth: &AuthState, root: &EventId) -> Vec<PostView> {
        let Some(post) = self.posts.get(root) else {
            return Vec::new();
        };
        let mut out: Vec<PostView> = self.view(auth, post).into_iter().collect();
        out.extend(
            self.replies_of(post)
                .filter_map(|reply| self.view(auth, reply)),
        );
        out
    }

    /// A channel's fields and pins; `None` if no content of that channel has been applied.
    /// Walks the channel for its pins: [`Self::channel_fields`] and [`Self::pins`] are the
    /// cheap halves.
    pub fn channel(&self, auth: &AuthState, channel: &ChannelId) -> Option<ChannelView> {
        let mut view = self.channel_fields(auth, channel)?;
        let c = self.channels.get(channel)?;
        view.pinned = c
            .posts
            .iter()
            .filter_map(|(_, id)| self.posts.get(id))
            .filter(|p| self.visible(auth, p) && self.pinned(auth, p))
            .map(|p| p.stamp.id)
            .collect();
        Some(view)
    }

    /// A channel's name, display name, header, purpose and archive flag, with `pinned` left empty: costs
    /// O(writes to those registers), not O(channel).
    pub fn channel_fields(&self, auth: &AuthState, channel: &ChannelId) -> Option<ChannelView> {
        let c = self.channels.get(channel)?;
        let info = c
            .info
            .winner(|s| !s.excluded(auth))
            .map(|(_, i)| i.clone())
            .unwrap_or_default();
        let name = c
            .info
            .winner(|s| may_archive(auth, s))
            .map(|(_, i)| i.name.clone())
            .unwrap_or(info.name);
        let archived = c
            .archived
            .winner(|s| may_archive(auth, s))
            .is_some_and(|(_, a)| *a);
        let display_name = c
            .display_name
            .winner(|s| may_archive(auth, s))
            .map(|(_, d)| d.clone())
            .unwrap_or_default();
        let Info {
            header, purpose, ..
        } = info;
        Some(ChannelView {
            name,
            display_name,
            header,
            purpose,
            archived,
            pinned: Vec::new(),
        })
    }

    /// Every channel's view and timeline, for convergence checks.
    pub fn snapshot(&self, auth: &AuthState) -> Snapshot {
        let channels = self
            .channels
            .keys()
            .filter_map(|id| {
                let view = self.channel(auth, id)?;
                let timeline = self.timeline(auth, id);
                Some((*id, ChannelSnapshot { view, timeline }))
            })
            .collect();
        Snapshot { channels }
    }

    /// Shorthand for `self.snapshot(auth).digest()`.
    pub fn digest(&self, auth: &AuthState) -> [u8; 32] {
        self.snapshot(auth).digest()
    }

    fn views<'a>(
        &self,
        auth: &AuthState,
        keys: impl Iterator<Item = &'a (Hlc, EventId)>,
    ) -> Vec<PostView> {
        keys.filter_map(|(_, id)| self.posts.get(id))
            .filter_map(|p| self.view(auth, p))
            .collect()
    }

    pub(super) fn view(&self, auth: &AuthState, post: &Post) -> Option<PostView> {
        if !self.visible(auth, post) {
            return None;
        }
        let (text, edited) = self.text(auth, post);
        Some(PostView {
            id: post.stamp.id,
            channel: post.stamp.channel,
            author: post.author,
            hlc: post.at,
            text,
            edited,
            root: post.root,
            files: post.files.clone(),
            mentions: post.mentions.clone(),
            reactions: self.reactions(auth, post),
            reply_count: self
                .replies_of(post)
                .filter(|r| self.visible(auth, r))
                .count(),
            pinned: self.pinned(auth, post),
            moved_to: self.moved_to(auth, post),
            moved_by: post.copy_of.map(|_| post.stamp.author),
        })
    }

    fn ops_of(&self, post: &Post) -> Option<&Ops> {
        self.ops.get(&post.stamp.id)
    }

    /// Replies naming `post` as root, in its channel, oldest first (visible or not).
    fn replies_of<'a>(&'a self, post: &'a Post) -> impl Iterator<Item = &'a Post> + 'a {
        self.replies
            .get(&post.stamp.id)
            .into_iter()
            .flatten()
            .filter_map(|(_, id)| self.posts.get(id))
            .filter(move |r| r.stamp.channel == post.stamp.channel)
    }

    /// Not by a removed author, not deleted, not a reply of a thread moved away, and (for a
    /// moved copy) moved by an admin and true to the original where it is held.
    pub(super) fn visible(&self, auth: &AuthState, post: &Post) -> bool {
        !post.stamp.excluded(auth)
            && !self.deleted(auth, post)
            && self.valid_copy(auth, post)
            && !self.moved_away(auth, post)
    }

    fn valid_copy(&self, auth: &AuthState, post: &Post) -> bool {
        let Some(original) = post.copy_of else {
            return true;
        };
        let faithful = self
            .posts
            .get(&original)
            .is_none_or(|o| o.author == post.author && o.at == post.at);
        faithful && post.stamp.by_admin(auth)
    }

    /// A reply whose root (in the same channel) was moved to another channel.
    fn moved_away(&self, auth: &AuthState, post: &Post) -> bool {
        post.root
            .and_then(|root| self.posts.get(&root))
            .is_some_and(|root| {
                root.stamp.channel == post.stamp.channel && self.moved_to(auth, root).is_some()
            })
    }

    /// The latest valid move marker on `post`: in its channel, by an admin, to another
    /// channel of this flotilla.
    fn moved_to(&self, auth: &AuthState, post: &Post) -> Option<(ChannelId, EventId)> {
        let ops = self.ops_of(post)?;
        ops.moves
            .winner_with(|m, (to, _)| {
                acts_on(auth, m, post)
                    && m.by_admin(auth)
                    && *to != post.stamp.channel
                    && auth.channels.contains_key(to)
            })
            .map(|(_, v)| *v)
    }

    fn deleted(&self, auth: &AuthState, post: &Post) -> bool {
        self.ops_of(post).is_some_and(|ops| {
            ops.deletes
                .values()
                .any(|d| acts_on(auth, d, post) && (d.author == post.author || d.by_admin(auth)))
        })
    }

    /// The winning edit's text, or the original; and whether an edit won.
    fn text(&self, auth: &AuthState, post: &Post) -> (String, bool) {
        let edit = self.ops_of(post).and_then(|ops| {
            ops.edits.winner(|e| {
                acts_on(auth, e, post)
                    && (e.author == post.author || e.by_admin(auth))
                    && e.order() > post.stamp.order()
            })
        });
        match edit {
            Some((_, text)) => (text.clone(), true),
            None => (post.text.clone(), false),
        }
    }

    fn reactions(&self, auth: &AuthState, post: &Post) -> BTreeMap<String, BTreeSet<PublicKey>> {
        let mut out: BTreeMap<String, BTreeSet<PublicKey>> = BTreeMap::new();
        let Some(ops) = self.ops_of(post) else {
            return out;
        };
        for ((user, emoji), register) in &ops.reactions {
            let held = register
                .winner(|r| acts_on(auth, r, post))
                .is_some_and(|(_, add)| *add);
            if held {
                out.entry(emoji.clone()).or_default().insert(*user);
            }
        }
        out
    }

    fn pinned(&self, auth: &AuthState, post: &Post) -> bool {
        self.ops_of(post).is_some_and(|ops| {
            ops.pins
                .winner(|p| acts_on(auth, p, post))
                .is_some_and(|(_, pinned)| *pinned)
        })
    }
}

/// An operation counts for a post only if it is in the post's channel and is not beyond its
/// author's removal cut.
fn acts_on(auth: &AuthState, op: &Stamp, post: &Post) -> bool {
    op.channel == post.stamp.channel && !op.excluded(auth)
}

/// Archive and unarchive count from an admin or the channel's creator.
fn may_archive(auth: &AuthState, op: &Stamp) -> bool {
    let creator = auth
        .channels
        .get(&op.channel)
        .is_some_and(|c| c.creator == op.author);
    !op.excluded(auth) && (creator || op.by_admin(auth))
}

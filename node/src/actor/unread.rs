//! Unread counters: each user's unread posts and mentions per channel, counted once by
//! walking the channel after the read marker ([`ChatState::unread`], O(posts after)) and
//! then kept up to date as posts arrive, so the live pushes (one per post per reader) do not
//! walk the channel again: under load the readers never read, and each walk grew with the
//! channel.
//!
//! A counter remembers the read marker it was counted from: a moved marker makes it stale
//! (recounted on the next read). An edit or a delete in the channel drops the channel's
//! counters (a mention may have come or gone); a control event drops the flotilla's (who
//! is excluded may have changed); a rebuilt fold starts without any.
//!
//! [`ChatState::unread`]: flotilla_protocol::fold::ChatState::unread

use std::collections::HashMap;

use flotilla_protocol as proto;
use proto::PublicKey;
use proto::fold::{ChatState, Cursor};
use proto::id::{ChannelId, EventId};
use proto::membership::AuthState;

use crate::handle::views::UnreadCounts;

/// Counters kept per flotilla, at most; when full they are all dropped (and recounted on
/// demand), so a boat with many users and channels costs walks again, never unbounded memory.
pub(super) const MAX_UNREAD_COUNTERS: usize = 4096;

/// One user's counter in one channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counter {
    /// Counted after this position (`None`: the user never read the channel).
    after: Option<Cursor>,
    /// A DM (every post counts as a mention)?
    dm: bool,
    counts: UnreadCounts,
}

/// A flotilla's counters, by channel and user.
#[derive(Debug, Default)]
pub(super) struct UnreadCounters {
    counters: HashMap<ChannelId, HashMap<PublicKey, Counter>>,
    /// Counters held, across channels.
    len: usize,
}

impl UnreadCounters {
    /// The counts of `user` in `channel` after `after`, from its counter if it was counted
    /// from the same marker, else walked and kept.
    pub(super) fn get_or_count(
        &mut self,
        chat: &ChatState,
        auth: &AuthState,
        channel: &ChannelId,
        after: Option<Cursor>,
        user: &PublicKey,
        dm: bool,
    ) -> UnreadCounts {
        if let Some(c) = self.counters.get(channel).and_then(|c| c.get(user))
            && c.after == after
            && c.dm == dm
        {
            return c.counts;
        }
        let u = chat.unread(auth, channel, after, user, dm);
        let counts = UnreadCounts {
            unread: u.posts,
            mentions: u.mentions,
        };
        if self.len >= MAX_UNREAD_COUNTERS {
            self.clear();
        }
        let fresh = Counter { after, dm, counts };
        if self
            .counters
            .entry(*channel)
            .or_default()
            .insert(*user, fresh)
            .is_none()
        {
            self.len += 1;
        }
        counts
    }

    /// A new post or reply was folded in: each reader's counter in its channel counts it if
    /// it is visible, by someone else, and after the reader's marker. A post that arrives
    /// already edited (its edit came first) drops the channel's counters instead: the mention
    /// check must see the text the walk would see.
    pub(super) fn on_new_post(&mut self, chat: &ChatState, auth: &AuthState, post: &EventId) {
        let Some(view) = chat.post(auth, post) else {
            return; // not visible (deleted first, author excluded): counted by nobody
        };
        if view.edited {
            self.on_changed(&view.channel);
            return;
        }
        let at = Cursor {
            hlc: view.hlc,
            id: view.id,
        };
        let Some(readers) = self.counters.get_mut(&view.channel) else {
            return;
        };
        for (user, c) in readers {
            if *user == view.author || c.after.is_some_and(|a| at <= a) {
                continue;
            }
            c.counts.unread = c.counts.unread.saturating_add(1);
            if c.dm || proto::mention::mentions(&view.text, &view.mentions, user) {
                c.counts.mentions = c.counts.mentions.saturating_add(1);
            }
        }
    }

    /// An edit or delete in `channel`: its counters are recounted on the next read.
    pub(super) fn on_changed(&mut self, channel: &ChannelId) {
        if let Some(gone) = self.counters.remove(channel) {
            self.len -= gone.len();
        }
    }

    /// A control event (who is excluded, who may read): everything is recounted.
    pub(super) fn clear(&mut self) {
        self.counters.clear();
        self.len = 0;
    }
}

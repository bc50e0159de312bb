//! Chat state as a fold of content events: timelines, threads, edits, deletes, reactions,
//! pins and channel fields (DESIGN §4).
//!
//! [`ChatState::apply`] records one decrypted content event. The state is a function of the
//! *set* of events applied: applying the same events in any order, any number of times, gives
//! the same state. It gets there by never deciding anything at apply time:
//! - every event is filed by its id, so a duplicate overwrites itself with the same value;
//! - operations aimed at a post (edit, delete, reaction, pin) are filed under the target's
//!   id whether or not the post has arrived, so an edit that overtook its post waits there;
//! - every last-writer-wins register keeps all of its writes, ordered by `(hlc, id)`, and
//!   picks its winner when a view is asked for.
//!
//! Authority is judged at view time, against the [`AuthState`] the caller passes in, so a
//! removal or a role learnt later changes what views show without refolding:
//! - content by a removed author that is not on its hash chain ending at the removal's cut
//!   (the last of the author's events the remover had seen: [`AuthState::counts`]) is left
//!   out of every view and every register, even if it was applied before the removal was
//!   known, and whatever timestamp or number it carries: events after the cut, and forks of
//!   the author's numbering (a reused or skipped number). An earlier event of the chain
//!   whose successor this node does not hold yet is left out until it arrives;
//! - an edit counts only if it is by the post's author or by a user holding the admin role
//!   for it (moderation), in the post's channel, and later than the post; the latest such
//!   edit by `(hlc, id)` sets the text;
//! - a delete counts if it is by the post's author or by a user holding the admin role for
//!   it ([`AuthState::admin_for`]: after a grant, within a revocation's cut). It
//!   beats every edit, whatever their times. A deleted post is left out of timelines, threads
//!   and reply counts;
//! - reactions are one add/remove register per `(post, user, emoji)`; pins one pin/unpin
//!   register per post; channel info (name, header, purpose) and archive one register each
//!   per channel. Archive and unarchive count only from an admin or the channel's creator;
//!   so do the display name and the name (a rename): the name is the latest channel info's
//!   written by the creator or an admin, header and purpose the latest anyone's;
//! - a thread move ([`Content::ThreadMoved`] on the root, in the root's channel, and
//!   [`Content::MovedPost`] copies in the target channel) counts only from a user holding the
//!   admin role for it, and the marker only if its target is a channel of this flotilla (one
//!   the membership state knows) other than the root's. A moved root stays in its timeline
//!   as a marker naming the target (the latest valid marker wins); its replies are left out
//!   there. A copy is shown under the original's author and time; if the original is held
//!   here, the copy counts only if that author and time match, so an admin cannot pass off
//!   a held post as someone else's. Edits of a copy count from that author; deletes from
//!   that author or an admin.
//!
//! Keeping every write costs memory in proportion to the content events held, which the
//! store holds anyway; it is what lets a late removal or an old edit be judged correctly.
//! Operations whose channel differs from their target post's channel are ignored (a channel's
//! key holders may only act on that channel's posts).
//!
//! Views: [`ChatState::timeline`] (every visible post, replies included as Mattermost shows
//! them), [`ChatState::thread`], [`ChatState::post`], [`ChatState::channel`], and
//! [`ChatState::snapshot`] with [`Snapshot::digest`] for convergence checks. Views that cost
//! O(page) rather than O(channel), for a node that keeps one fold per flotilla, are in
//! `page`: [`ChatState::roots_page`], [`ChatState::pins`], [`ChatState::unread`],
//! [`ChatState::newest`].

mod digest;
#[cfg(test)]
mod move_tests;
mod page;
#[cfg(test)]
mod tests;
mod view;

use std::collections::{BTreeMap, BTreeSet};

pub use page::{Cursor, MAX_PAGE_POSTS, Page};
pub use view::{ChannelSnapshot, ChannelView, PostView, Snapshot};

use crate::crypto::PublicKey;
use crate::event::{Content, SignedEvent};
use crate::hlc::Hlc;
use crate::id::{ChannelId, EventId, FileId};
use crate::membership::AuthState;

/// Who wrote an event, where and when: what the rules need to judge it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Stamp {
    id: EventId,
    channel: ChannelId,
    author: PublicKey,
    hlc: Hlc,
    seq: u64,
}

impl Stamp {
    fn of(event: &SignedEvent) -> Self {
        let env = event.envelope();
        Stamp {
            id: event.id(),
            channel: env.channel,
            author: env.author,
            hlc: env.hlc,
            seq: env.seq,
        }
    }

    /// The total order of writes: HLC, ties broken by event id.
    fn order(&self) -> (Hlc, EventId) {
        (self.hlc, self.id)
    }

    /// Is this event beyond its author's removal cut?
    fn excluded(&self, auth: &AuthState) -> bool {
        auth.cut_of(&self.author)
            .is_some_and(|cut| !auth.counts(&cut, &self.id, self.seq))
    }

    /// Did its author hold the admin role for it?
    fn by_admin(&self, auth: &AuthState) -> bool {
        auth.admin_for(&self.author, self.hlc, self.seq, &self.id)
    }
}

/// A last-writer-wins register that keeps every write, so its winner can be chosen among the
/// writes that are valid at view time. Idempotent and order-free: writes are keyed by
/// `(hlc, id)`.
#[derive(Clone, Debug)]
struct Lww<T> {
    writes: BTreeMap<(Hlc, EventId), (Stamp, T)>,
}

impl<T> Default for Lww<T> {
    fn default() -> Self {
        Lww {
            writes: BTreeMap::new(),
        }
    }
}

impl<T> Lww<T> {
    fn write(&mut self, stamp: Stamp, value: T) {
        self.writes.insert(stamp.order(), (stamp, value));
    }

    /// The latest write that `valid` accepts.
    fn winner(&self, valid: impl Fn(&Stamp) -> bool) -> Option<(&Stamp, &T)> {
        self.winner_with(|s, _| valid(s))
    }

    /// The latest write that `valid` accepts, judging its value too.
    fn winner_with(&self, valid: impl Fn(&Stamp, &T) -> bool) -> Option<(&Stamp, &T)> {
        self.writes
            .values()
            .rev()
            .find(|(s, v)| valid(s, v))
            .map(|(s, v)| (s, v))
    }
}

/// A post or reply as written.
#[derive(Clone, Debug)]
struct Post {
    stamp: Stamp,
    /// Who it is shown as written by: the signer, or a moved copy's original author.
    author: PublicKey,
    /// For a moved copy, the post it copies.
    copy_of: Option<EventId>,
    /// Where it is shown and ordered: its HLC, or an imported post's original time.
    at: Hlc,
    text: String,
    root: Option<EventId>,
    files: Vec<FileId>,
    mentions: Vec<PublicKey>,
}

/// Everything aimed at one post, kept whether or not the post has arrived.
#[derive(Clone, Debug, Default)]
struct Ops {
    edits: Lww<String>,
    deletes: BTreeMap<EventId, Stamp>,
    reactions: BTreeMap<(PublicKey, String), Lww<bool>>,
    pins: Lww<bool>,
    /// Thread-move markers on a root: (target channel, copy of the root there).
    moves: Lww<(ChannelId, EventId)>,
}

/// A channel's name, header and purpose.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Info {
    name: String,
    header: String,
    purpose: String,
}

/// One channel: its posts in timeline order and its field registers.
#[derive(Clone, Debug, Default)]
struct Channel {
    posts: BTreeSet<(Hlc, EventId)>,
    /// Posts a pin or unpin in this channel aimed at, so pins are found without a scan.
    pin_targets: BTreeSet<EventId>,
    info: Lww<Info>,
    archived: Lww<bool>,
    display_name: Lww<String>,
}

/// The chat state of one flotilla: a fold of its decrypted content events. See the module
/// docs for the rules.
#[derive(Clone, Debug, Default)]
pub struct ChatState {
    posts: BTreeMap<EventId, Post>,
    ops: BTreeMap<EventId, Ops>,
    replies: BTreeMap<EventId, BTreeSet<(Hlc, EventId)>>,
    channels: BTreeMap<ChannelId, Channel>,
}

impl ChatState {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Folds in one content event; `content` is its decrypted payload (the caller decrypts,
    /// with [`crate::keyring::Keyring::open_content`]; events that do not decrypt are never
    /// applied). Applying an event again changes nothing. File manifests are not chat state
    /// and are ignored here.
    pub fn apply(&mut self, event: &SignedEvent, content: &Content) {
        let stamp = Stamp::of(event);
        let channel = self.channels.entry(stamp.channel).or_default();
        match content {
            Content::ChannelInfo {
                name,
                header,
                purpose,
            } => channel.info.write(stamp, info(name, header, purpose)),
            Content::ChannelArchive { archived } => channel.archived.write(stamp, *archived),
            Content::ChannelDisplayName { display_name } => {
                channel.display_name.write(stamp, display_name.clone())
            }
            Content::Post {
                text,
                root,
                files,
                mentions,
            } => {
                let at = stamp.hlc;
                let author = stamp.author;
                self.on_post(stamp, at, author, text, *root, files, mentions)
            }
            Content::ImportedPost {
                text,
                root,
                files,
                created_ms,
            } => {
                let author = stamp.author;
                self.on_post(stamp, Hlc::at(*created_ms), author, text, *root, files, &[])
            }
            Content::Edit { target, text } => self.ops(target).edits.write(stamp, text.clone()),
            Content::Delete { target } => {
                self.ops(target).deletes.insert(stamp.id, stamp);
            }
            Content::ReactionAdd { target, emoji } => self.on_reaction(target, stamp, emoji, true),
            Content::ReactionRemove { target, emoji } => {
                self.on_reaction(target, stamp, emoji, false)
            }
            Content::Pin { target } => {
                channel.pin_targets.insert(*target);
                self.ops(target).pins.write(stamp, true);
            }
            Content::Unpin { target } => {
                channel.pin_targets.insert(*target);
                self.ops(target).pins.write(stamp, false);
            }
            Content::FileManifest { .. } => {}
            Content::MovedPost {
                original,
                author,
                at,
                text,
                root,
                files,
            } => {
                let id = stamp.id;
                self.on_post(stamp, *at, *author, text, *root, files, &[]);
                if let Some(post) = self.posts.get_mut(&id) {
                    post.copy_of = Some(*original);
                }
            }
            Content::ThreadMoved { root, to, new_root } => {
                self.ops(root).moves.write(stamp, (*to, *new_root));
            }
        }
    }

    /// How many posts and replies have been applied (deleted and hidden ones included).
    pub fn post_count(&self) -> usize {
        self.posts.len()
    }

    fn ops(&mut self, target: &EventId) -> &mut Ops {
        self.ops.entry(*target).or_default()
    }

    #[allow(clippy::too_many_arguments)]
    fn on_post(
        &mut self,
        stamp: Stamp,
        at: Hlc,
        author: PublicKey,
        text: &str,
        root: Option<EventId>,
        files: &[FileId],
        mentions: &[PublicKey],
    ) {
        let key = (at, stamp.id);
        let channel = self.channels.entry(stamp.channel).or_default();
        channel.posts.insert(key);
        if let Some(root) = root {
            self.replies.entry(root).or_default().insert(key);
        }
        let post = Post {
            stamp,
            author,
            copy_of: None,
            at,
            text: text.to_owned(),
            root,
            files: files.to_vec(),
            mentions: mentions.to_vec(),
        };
        self.posts.insert(post.stamp.id, post);
    }

    fn on_reaction(&mut self, target: &EventId, stamp: Stamp, emoji: &str, add: bool) {
        let key = (stamp.author, emoji.to_owned());
        self.ops(target)
            .reactions
            .entry(key)
            .or_default()
            .write(stamp, add);
    }
}

fn info(name: &str, header: &str, purpose: &str) -> Info {
    Info {
        name: name.to_owned(),
        header: header.to_owned(),
        purpose: purpose.to_owned(),
    }
}

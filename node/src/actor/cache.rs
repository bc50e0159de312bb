//! The cached fold: one [`ChatState`] per followed flotilla, with the file manifests of its
//! channels, loaded from the store lazily, channel by channel, and updated as each content
//! event is accepted (local writes and remote events alike go through
//! [`Actor::on_content_accepted`]).
//!
//! A channel's views depend only on that channel's events (the fold ignores operations whose
//! channel differs from their target's), so a fold holding some channels answers for those
//! exactly as a whole one does. [`Actor::refresh_channel`] loads one channel (the newest page
//! after a start reads and decrypts that channel only); [`Actor::refresh_fold`] loads every
//! channel (what flotilla-wide views need). An accepted event of a channel not loaded yet
//! loads that channel (which holds the event: it is stored before it is announced).
//!
//! A fold is stale when the keyring changed since it was built (a key that arrived later
//! opens content that was stored undecryptable: a private channel joined, a rekey) or when
//! an event was revoked; a stale fold is dropped and its channels loaded again on the next
//! read. Removals need no reload: the fold judges authors against the ledger at view time.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use flotilla_protocol as proto;
use proto::fold::ChatState;
use proto::id::{ChannelId, EventId, FileId, FlotillaId};
use proto::store::Store;
use proto::{Content, Control, SignedEvent};

use super::Actor;
use crate::Error;
use crate::handle::Event;
use crate::handle::views::FileInfo;

/// One flotilla's fold.
#[derive(Debug, Default)]
pub(super) struct Folded {
    /// The chat state.
    pub(super) chat: ChatState,
    /// File manifests (the fold ignores them): file → its channel and info.
    pub(super) files: BTreeMap<FileId, (ChannelId, FileInfo)>,
    /// The chunk lists and key ids of those manifests (for the file service).
    pub(super) manifests: BTreeMap<FileId, super::files::ManifestRef>,
    /// The keyring size the fold was built with.
    keys: usize,
    /// The channels whose events were applied (every one once `all`).
    loaded: BTreeSet<ChannelId>,
    /// Every channel of the flotilla is loaded (new channels load as their events arrive).
    all: bool,
    /// Unread counters, kept as posts arrive ([`super::unread`]); behind a `RefCell` because
    /// reading a counter may count it first, from the actor's `&self` views.
    pub(super) unread: std::cell::RefCell<super::unread::UnreadCounters>,
}

impl Folded {
    fn apply(&mut self, event: &SignedEvent, content: &Content) {
        if let Content::FileManifest {
            file,
            name,
            size,
            mime,
            chunk_size,
            chunks,
        } = content
        {
            if let Some(sealed) = event.sealed() {
                self.manifests
                    .entry(*file)
                    .or_insert_with(|| super::files::ManifestRef {
                        channel: event.envelope().channel,
                        key_id: sealed.key,
                        chunk_size: *chunk_size,
                        size: *size,
                        chunks: chunks.clone(),
                        name: name.clone(),
                        mime: mime.clone(),
                    });
            }
            let info = FileInfo {
                id: *file,
                name: name.clone(),
                size: *size,
                mime: mime.clone(),
                state: crate::files::FileState::default(),
            };
            self.files
                .entry(*file)
                .or_insert((event.envelope().channel, info));
        }
        self.chat.apply(event, content);
    }

    /// Keeps the unread counters up to date with an event just applied.
    fn count_unread(
        &self,
        auth: &proto::membership::AuthState,
        event: &SignedEvent,
        content: &Content,
    ) {
        let mut unread = self.unread.borrow_mut();
        match content {
            Content::Post { .. } | Content::ImportedPost { .. } => {
                unread.on_new_post(&self.chat, auth, &event.id());
            }
            Content::Edit { .. }
            | Content::Delete { .. }
            | Content::MovedPost { .. }
            | Content::ThreadMoved { .. } => {
                unread.on_changed(&event.envelope().channel);
            }
            _ => {}
        }
    }
}

/// The folds of every followed flotilla, built lazily.
#[derive(Debug, Default)]
pub(super) struct FoldCache {
    folds: BTreeMap<FlotillaId, Folded>,
}

impl Actor {
    fn keyring_len(&self, flotilla: &FlotillaId) -> Result<usize, Error> {
        self.state
            .keyring(flotilla)
            .map(|k| k.len())
            .ok_or_else(|| Self::not_followed(flotilla))
    }

    /// Makes sure the flotilla's fold exists, is fresh and holds every channel (loading the
    /// channels it lacks).
    pub(super) fn refresh_fold(&mut self, flotilla: &FlotillaId) -> Result<(), Error> {
        self.fresh_fold(flotilla)?;
        if self.cache.folds.get(flotilla).is_some_and(|f| f.all) {
            return Ok(());
        }
        let channels = self.store.channels(flotilla)?;
        self.load_channels(flotilla, &channels)?;
        if let Some(f) = self.cache.folds.get_mut(flotilla) {
            f.all = true;
        }
        Ok(())
    }

    /// Makes sure the flotilla's fold exists, is fresh and holds `channel` (loading only that
    /// channel if it lacks it): what a view of one channel needs.
    pub(super) fn refresh_channel(
        &mut self,
        flotilla: &FlotillaId,
        channel: &ChannelId,
    ) -> Result<(), Error> {
        self.fresh_fold(flotilla)?;
        self.load_channels(flotilla, std::slice::from_ref(channel))
    }

    /// Makes sure the flotilla's fold exists and was built with the current keyring; a stale
    /// one is replaced by an empty one that loads the same channels again.
    fn fresh_fold(&mut self, flotilla: &FlotillaId) -> Result<(), Error> {
        let keys = self.keyring_len(flotilla)?;
        let (all, loaded) = match self.cache.folds.get(flotilla) {
            Some(f) if f.keys == keys => return Ok(()),
            Some(f) => (f.all, f.loaded.iter().copied().collect()),
            None => (false, Vec::new()),
        };
        let folded = Folded {
            keys,
            ..Folded::default()
        };
        self.cache.folds.insert(*flotilla, folded);
        self.search.mark_stale(flotilla);
        if all {
            return self.refresh_fold(flotilla);
        }
        self.load_channels(flotilla, &loaded)
    }

    /// Loads into the (fresh) fold those of `channels` it does not hold yet.
    fn load_channels(
        &mut self,
        flotilla: &FlotillaId,
        channels: &[ChannelId],
    ) -> Result<(), Error> {
        let Some(folded) = self.cache.folds.get(flotilla) else {
            return Ok(());
        };
        let missing: Vec<ChannelId> = channels
            .iter()
            .filter(|c| !c.is_control() && !folded.loaded.contains(c))
            .copied()
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let keyring = self
            .state
            .keyring(flotilla)
            .ok_or_else(|| Self::not_followed(flotilla))?;
        let started = Instant::now();
        let (mut events, mut fold_ms) = (0, 0.0);
        for channel in &missing {
            let ids: Vec<EventId> = self
                .store
                .channel_items(flotilla, channel)?
                .into_iter()
                .map(|(_, id)| id)
                .filter(|id| !self.state.is_revoked(flotilla, id))
                .collect();
            // A window at a time: the decrypted events held at once stay bounded.
            for window in ids.chunks(super::load::LOAD_WINDOW) {
                let opened = super::load::open_all(&self.store, keyring, window)?;
                let t = Instant::now();
                if let Some(folded) = self.cache.folds.get_mut(flotilla) {
                    for (event, content) in &opened {
                        folded.apply(event, content);
                    }
                }
                fold_ms += t.elapsed().as_secs_f64() * 1e3;
                events += opened.len();
            }
        }
        let Some(folded) = self.cache.folds.get_mut(flotilla) else {
            return Ok(());
        };
        folded.loaded.extend(missing.iter().copied());
        // Counters taken while a channel was not loaded saw none of its posts: count again.
        for channel in &missing {
            folded.unread.borrow_mut().on_changed(channel);
        }
        tracing::debug!(
            flotilla = %flotilla.fmt_short(),
            channels = missing.len(),
            events,
            read_ms = started.elapsed().as_secs_f64() * 1e3 - fold_ms,
            fold_ms,
            "chat fold: channels loaded"
        );
        self.files_restate_all(flotilla);
        Ok(())
    }

    /// The flotilla's fold; call [`Self::refresh_fold`] (or [`Self::refresh_channel`] for a
    /// view of one channel) first.
    pub(super) fn fold_of(&self, flotilla: &FlotillaId) -> Result<&Folded, Error> {
        self.cache
            .folds
            .get(flotilla)
            .ok_or_else(|| Self::not_followed(flotilla))
    }

    /// The flotilla's fold, if built (the file service writes file states into it).
    pub(super) fn folded_mut(&mut self, flotilla: &FlotillaId) -> Option<&mut Folded> {
        self.cache.folds.get_mut(flotilla)
    }

    /// Forgets a flotilla's fold (an event was revoked): rebuilt on the next read.
    pub(super) fn drop_fold(&mut self, flotilla: &FlotillaId) {
        self.cache.folds.remove(flotilla);
    }

    /// Folds in an accepted content event: applied if its channel is loaded in a fresh fold,
    /// else its channel is loaded (the event is stored, so it comes with it).
    fn fold_accepted(&mut self, flotilla: &FlotillaId, event: &SignedEvent, content: &Content) {
        let keys = self.keyring_len(flotilla).unwrap_or(0);
        let channel = event.envelope().channel;
        if let Some(f) = self.cache.folds.get_mut(flotilla)
            && f.keys == keys
            && f.loaded.contains(&channel)
        {
            f.apply(event, content);
            if let Some(ledger) = self.state.ledger(flotilla) {
                f.count_unread(ledger.state(), event, content);
            }
            return;
        }
        if let Err(e) = self.refresh_channel(flotilla, &channel) {
            tracing::warn!(%e, "cannot load the chat fold");
        }
    }

    /// An accepted content event: folded in (or the fold rebuilt if stale), then announced.
    pub(super) fn on_content_accepted(&mut self, flotilla: FlotillaId, id: EventId) {
        use crate::profile::{Stage, add};
        let t = Instant::now();
        let Ok(Some(event)) = self.store.get(&id) else {
            return;
        };
        add(Stage::Read, t);
        let t = Instant::now();
        let Some(Ok(content)) = self
            .state
            .keyring(&flotilla)
            .map(|k| k.open_content(&event))
        else {
            return;
        };
        add(Stage::Open, t);
        let t = Instant::now();
        self.fold_accepted(&flotilla, &event, &content);
        if matches!(content, Content::FileManifest { .. }) {
            self.files_index(&flotilla);
        }
        add(Stage::Fold, t);
        let t = Instant::now();
        self.index_accepted(flotilla, &event, &content);
        add(Stage::Index, t);
        let t = Instant::now();
        self.announce_content(flotilla, &event, &content);
        self.announce_post(flotilla, &event, &content);
        add(Stage::Announce, t);
    }

    fn announce_content(&self, flotilla: FlotillaId, event: &SignedEvent, content: &Content) {
        let channel = event.envelope().channel;
        let root_of = |post: &EventId| {
            self.cache
                .folds
                .get(&flotilla)
                .and_then(|f| f.chat.root_of(post))
        };
        let ev = match content {
            Content::Post { root, .. } | Content::ImportedPost { root, .. } => Event::PostChanged {
                flotilla,
                channel,
                post: event.id(),
                root: *root,
            },
            Content::Edit { target, .. }
            | Content::ReactionAdd { target, .. }
            | Content::ReactionRemove { target, .. }
            | Content::Pin { target }
            | Content::Unpin { target } => Event::PostChanged {
                flotilla,
                channel,
                post: *target,
                root: root_of(target),
            },
            Content::Delete { target } => Event::PostDeleted {
                flotilla,
                channel,
                post: *target,
                root: root_of(target),
            },
            Content::ChannelInfo { .. }
            | Content::ChannelArchive { .. }
            | Content::ChannelDisplayName { .. } => Event::ChannelChanged { flotilla, channel },
            Content::FileManifest { .. } => return,
            Content::MovedPost { root, .. } => Event::PostChanged {
                flotilla,
                channel,
                post: event.id(),
                root: *root,
            },
            Content::ThreadMoved { root, .. } => {
                self.announce_moved_away(flotilla, channel, root);
                Event::PostChanged {
                    flotilla,
                    channel,
                    post: *root,
                    root: None,
                }
            }
        };
        self.emit(ev);
    }

    /// A thread moved away: its replies leave the source channel's timeline.
    fn announce_moved_away(&self, flotilla: FlotillaId, channel: ChannelId, root: &EventId) {
        let replies = self
            .cache
            .folds
            .get(&flotilla)
            .map(|f| f.chat.reply_ids(root))
            .unwrap_or_default();
        for post in replies {
            self.emit(Event::PostDeleted {
                flotilla,
                channel,
                post,
                root: Some(*root),
            });
        }
    }

    /// An accepted control event: unread counters are recounted (who is excluded may have
    /// changed), channel structure changes are announced.
    pub(super) fn on_control_accepted(&self, flotilla: FlotillaId, id: EventId) {
        if let Some(f) = self.cache.folds.get(&flotilla) {
            f.unread.borrow_mut().clear();
        }
        let Ok(Some(event)) = self.store.get(&id) else {
            return;
        };
        let Some(
            Control::ChannelCreate { channel, .. }
            | Control::ChannelMemberAdd { channel, .. }
            | Control::ChannelMemberRemove { channel, .. }
            | Control::ChannelPrivacy { channel, .. },
        ) = event.control()
        else {
            return;
        };
        self.emit(Event::ChannelChanged { flotilla, channel });
    }
}

//! The cached fold: one [`ChatState`] per followed flotilla, with the file manifests of its
//! channels, built once from the store and updated as each content event is accepted (local
//! writes and remote events alike go through [`Actor::on_content_accepted`]).
//!
//! A fold is stale when the keyring changed since it was built (a key that arrived later
//! opens content that was stored undecryptable: a private channel joined, a rekey) or when
//! an event was revoked; a stale fold is dropped and rebuilt on the next read. Removals need
//! no rebuild: the fold judges authors against the ledger at view time.

use std::collections::BTreeMap;

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
            Content::Edit { .. } | Content::Delete { .. } => {
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

    /// Makes sure the flotilla's fold exists and is fresh (rebuilding it if not).
    pub(super) fn refresh_fold(&mut self, flotilla: &FlotillaId) -> Result<(), Error> {
        let keys = self.keyring_len(flotilla)?;
        let fresh = self
            .cache
            .folds
            .get(flotilla)
            .is_some_and(|f| f.keys == keys);
        if !fresh {
            let folded = self.build_fold(flotilla, keys)?;
            self.cache.folds.insert(*flotilla, folded);
            self.files_restate_all(flotilla);
            self.search.mark_stale(flotilla);
        }
        Ok(())
    }

    /// The flotilla's fold; call [`Self::refresh_fold`] first.
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

    fn build_fold(&self, flotilla: &FlotillaId, keys: usize) -> Result<Folded, Error> {
        let keyring = self
            .state
            .keyring(flotilla)
            .ok_or_else(|| Self::not_followed(flotilla))?;
        let mut folded = Folded {
            keys,
            ..Folded::default()
        };
        for channel in self.store.channels(flotilla)? {
            if channel.is_control() {
                continue;
            }
            for (_, id) in self.store.channel_items(flotilla, &channel)? {
                if self.state.is_revoked(flotilla, &id) {
                    continue;
                }
                if let Some(event) = self.store.get(&id)?
                    && let Ok(content) = keyring.open_content(&event)
                {
                    folded.apply(&event, &content);
                }
            }
        }
        tracing::debug!(flotilla = %flotilla.fmt_short(), posts = folded.chat.post_count(), "chat fold built");
        Ok(folded)
    }

    /// An accepted content event: folded in (or the fold rebuilt if stale), then announced.
    pub(super) fn on_content_accepted(&mut self, flotilla: FlotillaId, id: EventId) {
        let Ok(Some(event)) = self.store.get(&id) else {
            return;
        };
        let Some(Ok(content)) = self
            .state
            .keyring(&flotilla)
            .map(|k| k.open_content(&event))
        else {
            return;
        };
        let keys = self.keyring_len(&flotilla).unwrap_or(0);
        match self.cache.folds.get_mut(&flotilla) {
            Some(f) if f.keys == keys => {
                f.apply(&event, &content);
                if let Some(ledger) = self.state.ledger(&flotilla) {
                    f.count_unread(ledger.state(), &event, &content);
                }
            }
            _ => {
                if let Err(e) = self.refresh_fold(&flotilla) {
                    tracing::warn!(%e, "cannot rebuild the chat fold");
                }
            }
        }
        if matches!(content, Content::FileManifest { .. }) {
            self.files_index(&flotilla);
        }
        self.index_accepted(flotilla, &event, &content);
        self.announce_content(flotilla, &event, &content);
        self.announce_post(flotilla, &event, &content);
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
        };
        self.emit(ev);
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

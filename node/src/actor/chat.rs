//! Reading chat state: decrypt a flotilla's content events and fold them
//! ([`proto::fold::ChatState`]), then shape views for the API.
//!
//! Each query folds the channel(s) it reads from the store: correct (edits, deletes,
//! removals are judged as the fold does), linear in the channel's size. Paging through the
//! store's timeline index comes with the web UI.

use flotilla_protocol as proto;
use proto::fold::ChatState;
use proto::id::{ChannelId, FlotillaId};
use proto::membership::AuthState;
use proto::store::Store;
use proto::{Content, PublicKey};

use super::Actor;
use crate::Error;
use crate::handle::{ChannelInfo, FlotillaInfo, Message};

/// How a key is shown: its username, else its node's name, else a short key.
pub(crate) fn username(auth: &AuthState, key: &PublicKey) -> String {
    if let Some(u) = auth.users.get(key) {
        return u.info.username.clone();
    }
    if let Some(n) = auth.nodes.get(key) {
        return n.info.name.clone();
    }
    key.fmt_short()
}

impl Actor {
    fn not_followed(flotilla: &FlotillaId) -> Error {
        Error::NotFound(format!("flotilla {}", flotilla.fmt_short()))
    }

    /// Folds the readable content of `channels` of a flotilla.
    fn fold(&self, flotilla: &FlotillaId, channels: &[ChannelId]) -> Result<ChatState, Error> {
        let keyring = self
            .state
            .keyring(flotilla)
            .ok_or_else(|| Self::not_followed(flotilla))?;
        let mut chat = ChatState::new();
        for channel in channels {
            for (_, id) in self.store.channel_items(flotilla, channel)? {
                if self.state.is_revoked(flotilla, &id) {
                    continue;
                }
                if let Some(event) = self.store.get(&id)?
                    && let Ok(content) = keyring.open_content(&event)
                {
                    chat.apply(&event, &content);
                }
            }
        }
        Ok(chat)
    }

    pub(super) fn messages(
        &self,
        flotilla: &FlotillaId,
        channel: &ChannelId,
        limit: usize,
    ) -> Result<Vec<Message>, Error> {
        let auth = self
            .state
            .ledger(flotilla)
            .ok_or_else(|| Self::not_followed(flotilla))?
            .state();
        let chat = self.fold(flotilla, &[*channel])?;
        let timeline = chat.timeline(auth, channel);
        let skip = timeline.len().saturating_sub(limit);
        Ok(timeline
            .into_iter()
            .skip(skip)
            .map(|p| Message {
                id: p.id,
                channel: p.channel,
                author: username(auth, &p.author),
                text: p.text,
                root_id: p.root,
                created_at: p.hlc.ms,
            })
            .collect())
    }

    pub(super) fn channels(&self, flotilla: &FlotillaId) -> Result<Vec<ChannelInfo>, Error> {
        let auth = self
            .state
            .ledger(flotilla)
            .ok_or_else(|| Self::not_followed(flotilla))?
            .state();
        let ids: Vec<ChannelId> = auth.channels.keys().copied().collect();
        let chat = self.fold(flotilla, &ids)?;
        Ok(auth
            .channels
            .iter()
            .map(|(id, c)| ChannelInfo {
                id: *id,
                name: chat.channel(auth, id).map(|v| v.name).unwrap_or_default(),
                private: c.private,
            })
            .collect())
    }

    pub(super) fn flotilla_list(&self) -> Vec<FlotillaInfo> {
        self.state
            .flotillas()
            .filter_map(|f| {
                let ledger = self.state.ledger(f)?;
                let auth = ledger.state();
                Some(FlotillaInfo {
                    id: *f,
                    genesis: ledger.genesis(),
                    name: auth.name.clone(),
                    member: auth.is_active_node(&self.me),
                    nodes: auth.active_nodes().len(),
                    events: self.state.event_ids(f).map_or(0, |ids| ids.len()),
                })
            })
            .collect()
    }

    /// The content to post, checked against the thread root if it is a reply.
    pub(super) fn post_content(text: String, root: Option<proto::EventId>) -> Content {
        Content::Post {
            text,
            root,
            files: vec![],
            mentions: vec![],
        }
    }
}

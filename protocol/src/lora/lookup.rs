//! [`StoreLookup`]: the [`Lookup`] of a node (or a simulated one) from its ledgers, keyrings
//! and store.

use crate::crypto::PublicKey;
use crate::event::SignedEvent;
use crate::id::{ChannelId, EventId, FlotillaId};
use crate::keyring::Keyring;
use crate::membership::Ledger;
use crate::store::{Item, Store};

use super::compact::Lookup;
use super::frame::RadioKey;

/// The largest private channel counted as a (group) DM.
pub const MAX_DM_MEMBERS: usize = 8;

/// A [`Lookup`] over the flotillas allowed on the radio.
#[derive(Debug)]
pub struct StoreLookup<'a, S: Store> {
    /// Each allowed flotilla with its ledger and keyring.
    pub flotillas: Vec<(FlotillaId, &'a Ledger, &'a Keyring)>,
    /// The node's store.
    pub store: &'a S,
}

impl<S: Store> StoreLookup<'_, S> {
    fn ledger(&self, flotilla: &FlotillaId) -> Option<&Ledger> {
        self.flotillas
            .iter()
            .find(|(f, _, _)| f == flotilla)
            .map(|(_, l, _)| *l)
    }
}

impl<S: Store> Lookup for StoreLookup<'_, S> {
    fn radio_keys(&self) -> Vec<RadioKey> {
        self.flotillas
            .iter()
            .flat_map(|(f, ledger, keyring)| {
                ledger
                    .state()
                    .epochs
                    .iter()
                    .rev()
                    .filter_map(|id| keyring.get(id))
                    .map(|k| RadioKey::derive(*f, k))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    fn members(&self, flotilla: &FlotillaId) -> Vec<PublicKey> {
        self.ledger(flotilla).map_or_else(Vec::new, |l| {
            let s = l.state();
            s.nodes.keys().chain(s.users.keys()).copied().collect()
        })
    }

    fn channels(&self, flotilla: &FlotillaId) -> Vec<ChannelId> {
        self.ledger(flotilla)
            .map_or_else(Vec::new, |l| l.state().channels.keys().copied().collect())
    }

    fn key_ids(&self, flotilla: &FlotillaId) -> Vec<EventId> {
        self.ledger(flotilla).map_or_else(Vec::new, |l| {
            let s = l.state();
            let mut ids = s.epochs.clone();
            ids.extend(s.channels.values().flat_map(|c| c.keys.iter().copied()));
            ids
        })
    }

    fn keyring(&self, flotilla: &FlotillaId) -> Option<&Keyring> {
        self.flotillas
            .iter()
            .find(|(f, _, _)| f == flotilla)
            .map(|(_, _, k)| *k)
    }

    fn items(&self, flotilla: &FlotillaId, channel: &ChannelId) -> Vec<Item> {
        self.store
            .channel_items(flotilla, channel)
            .unwrap_or_default()
    }

    fn event(&self, id: &EventId) -> Option<SignedEvent> {
        self.store.get(id).ok().flatten()
    }

    fn is_dm(&self, flotilla: &FlotillaId, channel: &ChannelId) -> bool {
        self.ledger(flotilla)
            .and_then(|l| {
                l.state()
                    .channels
                    .get(channel)
                    .map(|c| c.private && c.members.len() <= MAX_DM_MEMBERS)
            })
            .unwrap_or(false)
    }
}

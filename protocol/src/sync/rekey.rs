//! The rekey exchange: a node that may hold group keys it lacks asks its member peers, and
//! any member holding them re-seals them to it.
//!
//! A node *may hold* an epoch key while it is an active node, and a private channel's keys
//! while one of the channel's active members lives on it (the same rule the ledger applies
//! to the seals of control events). A responder seals only such keys; the asker keeps only
//! such keys, and only when they match the commitment the introducing event published
//! ([`crate::keyring::key_commitment`]), so a responder can neither hand out keys to a node
//! that may not have them nor slip a wrong key in.

use super::{Event, State};
use crate::crypto::{PublicKey, SealedBox};
use crate::entropy::Entropy;
use crate::id::{EventId, FlotillaId};
use crate::keyring::key_commitment;
use crate::membership::AuthState;
use crate::store::Store;
use crate::wire::{MAX_KEY_WANT, PeerMsg};

/// May `node` hold the group key `id` in `state`?
pub(super) fn entitled(state: &AuthState, node: &PublicKey, id: &EventId) -> bool {
    if !state.is_active_node(node) {
        return false;
    }
    state.epochs.contains(id)
        || state.channels.values().any(|c| {
            c.private
                && c.keys.contains(id)
                && c.members
                    .iter()
                    .any(|m| state.is_active_user(m) && state.home_of(m) == Some(*node))
        })
}

/// The key ids `node` may hold in `state`, at most [`MAX_KEY_WANT`], newest first.
fn keys_for(state: &AuthState, node: &PublicKey) -> Vec<EventId> {
    let mut ids: Vec<EventId> = state.epochs.iter().rev().copied().collect();
    for c in state.channels.values() {
        if c.private && c.keys.iter().any(|k| entitled(state, node, k)) {
            ids.extend(c.keys.iter().rev().copied());
        }
    }
    ids
}

impl<S: Store, R: Entropy> State<S, R> {
    /// Asks `peer` for the keys of `flotilla` this node may hold and lacks, if any.
    pub(super) fn want_keys(&mut self, peer: PublicKey, flotilla: FlotillaId) {
        let Some(f) = self.flotillas.get(&flotilla) else {
            return;
        };
        let state = f.ledger.state();
        let ids: Vec<EventId> = keys_for(state, &self.me)
            .into_iter()
            .filter(|id| !f.keyring.contains(id))
            .take(MAX_KEY_WANT)
            .collect();
        if !ids.is_empty() && state.is_active_node(&peer) {
            self.send(peer, PeerMsg::KeyWant { flotilla, ids });
        }
    }

    /// A member peer lacks keys: seal to it those it may hold and this node holds.
    pub(super) fn on_key_want(&mut self, peer: PublicKey, flotilla: FlotillaId, ids: &[EventId]) {
        if !self.may_sync(&flotilla, &peer) {
            return;
        }
        let Some(f) = self.flotillas.get(&flotilla) else {
            return;
        };
        let state = f.ledger.state();
        let Some(x25519) = state.nodes.get(&peer).map(|n| n.info.x25519) else {
            return;
        };
        let give: Vec<EventId> = ids
            .iter()
            .take(MAX_KEY_WANT)
            .filter(|id| entitled(state, &peer, id))
            .copied()
            .collect();
        // Nothing held to give, or sealing failed (not expected with a published key):
        // only this answer is lost, and the next Hello asks again.
        if let Ok(Some(sealed)) = f
            .keyring
            .seal_existing(&flotilla, &give, &x25519, &mut self.rng)
        {
            self.send(peer, PeerMsg::Keys { flotilla, sealed });
        }
    }

    /// Keys from a member: keep those this node may hold that match their commitments.
    pub(super) fn on_keys(&mut self, peer: PublicKey, flotilla: FlotillaId, sealed: &SealedBox) {
        if !self.may_sync(&flotilla, &peer) {
            return;
        }
        let me = self.me;
        let Some(f) = self.flotillas.get_mut(&flotilla) else {
            return;
        };
        let state = f.ledger.state();
        let added = f
            .keyring
            .absorb_sealed(&flotilla, sealed, &self.node_key, |id, key| {
                entitled(state, &me, id)
                    && state
                        .key_commits
                        .get(id)
                        .is_some_and(|c| *c == key_commitment(key))
            });
        if added > 0 {
            self.deliver(Event::Rekeyed {
                flotilla,
                keys: added,
            });
        }
    }
}

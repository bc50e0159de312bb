//! Flotilla helpers for the simulator: founding on one node, admitting the others, adding
//! users, posting, and checking convergence.

use std::collections::BTreeMap;

use super::{Network, SimNode};
use crate::author::{AuthorError, Ctx};
use crate::crypto::SecretKey;
use crate::entropy::SeededEntropy;
use crate::event::{Content, NodeInfo, SignedEvent};
use crate::fold::ChatState;
use crate::id::{ChannelId, EventId, FlotillaId};
use crate::sync::{Event, InEvent};

/// Why a set of nodes has not converged (the first difference found).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Divergence {
    /// This node does not follow the flotilla (yet).
    NoFlotilla(usize),
    /// Two nodes sync different event sets.
    Events {
        /// First node.
        a: usize,
        /// Second node.
        b: usize,
        /// How many ids only `a` has.
        only_a: usize,
        /// How many ids only `b` has.
        only_b: usize,
    },
    /// Two nodes' membership states differ.
    Ledger {
        /// First node.
        a: usize,
        /// Second node.
        b: usize,
    },
    /// Two nodes' chat states differ.
    Chat {
        /// First node.
        a: usize,
        /// Second node.
        b: usize,
    },
}

impl Network {
    /// Founds a flotilla on `node` with a first admin (its user 0); returns its id.
    ///
    /// # Panics
    /// If founding fails (fixed names; not expected).
    pub fn found(&mut self, node: usize) -> FlotillaId {
        let now = self.now_ms();
        let admin = SecretKey::generate(&mut SeededEntropy::new(self.range(0, u64::MAX - 1)));
        let name = format!("boat{node}");
        let found = self.nodes[node]
            .state
            .found(&name, &admin, "admin", "Rallye", now);
        let (flotilla, outs) = found.expect("founding with fixed names");
        self.nodes[node].users.push(admin);
        self.execute(node, outs);
        self.flotilla = Some(flotilla);
        flotilla
    }

    /// The flotilla founded with [`Self::found`].
    ///
    /// # Panics
    /// If none was founded.
    pub fn flotilla_id(&self) -> FlotillaId {
        self.flotilla.expect("found a flotilla first")
    }

    /// The flotilla's genesis id.
    ///
    /// # Panics
    /// If no node follows the flotilla.
    pub fn genesis(&self) -> EventId {
        let f = self.flotilla_id();
        self.nodes
            .iter()
            .find_map(|n| n.state.ledger(&f).map(|l| l.genesis()))
            .expect("a node follows the flotilla")
    }

    /// The flotilla's town-square channel.
    pub fn town_square(&self) -> ChannelId {
        ChannelId::derived(&self.flotilla_id(), "town-square")
    }

    /// Builds an event on `node` with its builder context, its node key and its users' keys,
    /// then publishes it there (ingest, store, gossip).
    ///
    /// # Errors
    /// What the builder returns.
    pub fn publish_with(
        &mut self,
        node: usize,
        build: impl FnOnce(
            &mut Ctx<'_, SeededEntropy>,
            &SecretKey,
            &[SecretKey],
        ) -> Result<SignedEvent, AuthorError>,
    ) -> Result<SignedEvent, AuthorError> {
        let (f, now) = (self.flotilla_id(), self.now_ms());
        let SimNode { state, users, .. } = &mut self.nodes[node];
        let event = state
            .with_ctx(&f, now, |ctx, key| build(ctx, key, users))
            .ok_or(AuthorError::NotReady("node does not follow the flotilla"))??;
        self.drive(node, InEvent::Publish(event.clone()));
        Ok(event)
    }

    /// `by`'s first user (an admin) admits `node` directly; `node` starts joining.
    ///
    /// # Errors
    /// [`AuthorError`] if `by` cannot admit (not an admin, not ready).
    pub fn admit(&mut self, by: usize, node: usize) -> Result<SignedEvent, AuthorError> {
        let info = NodeInfo {
            key: self.nodes[node].secret.public(),
            x25519: self.nodes[node].secret.x25519_public(),
            name: format!("boat{node}"),
        };
        let proof =
            crate::proof::prove_admission(&self.genesis(), None, &self.nodes[node].secret, &info);
        let event = self.publish_with(by, |ctx, _, users| {
            let admin = users.first().ok_or(AuthorError::NotReady("no admin"))?;
            ctx.admit(admin, info, proof)
        })?;
        let genesis = self.genesis();
        self.drive(node, InEvent::Join { genesis });
        Ok(event)
    }

    /// Adds a user to `node` (a `UserAdd` signed by the node); returns its index there.
    ///
    /// # Errors
    /// [`AuthorError`] if the node is not (yet) an active member.
    pub fn add_user(&mut self, node: usize, username: &str) -> Result<usize, AuthorError> {
        let user = SecretKey::generate(&mut SeededEntropy::new(self.range(0, u64::MAX - 1)));
        self.publish_with(node, |ctx, key, _| ctx.add_user(key, &user, username))?;
        self.nodes[node].users.push(user);
        Ok(self.nodes[node].users.len() - 1)
    }

    /// User `user` of `node` posts `text` in `channel`.
    ///
    /// # Errors
    /// [`AuthorError`] (not a member, no key, unknown channel).
    pub fn post(
        &mut self,
        node: usize,
        user: usize,
        channel: ChannelId,
        text: &str,
    ) -> Result<SignedEvent, AuthorError> {
        let content = Content::Post {
            text: text.to_owned(),
            root: None,
            files: vec![],
            mentions: vec![],
        };
        self.publish_with(node, |ctx, _, users| {
            let author = users
                .get(user)
                .ok_or(AuthorError::NotReady("no such user"))?;
            ctx.content(author, channel, &content)
        })
    }

    /// Does `node` see every node of `nodes` as an active member?
    pub fn sees_members(&self, node: usize, nodes: &[usize]) -> bool {
        let f = self.flotilla_id();
        self.nodes[node].state.ledger(&f).is_some_and(|l| {
            nodes
                .iter()
                .all(|&j| l.state().is_active_node(&self.nodes[j].secret.public()))
        })
    }

    /// Does `node` sync the event `id`?
    pub fn has_event(&self, node: usize, id: &EventId) -> bool {
        let f = self.flotilla_id();
        let state = &self.nodes[node].state;
        !state.is_revoked(&f, id)
            && crate::store::Store::contains(state.store(), id).unwrap_or(false)
    }

    /// `node`'s chat state folded from every synced content event of the public channels it
    /// can decrypt (every member reads those; private channels differ by design between
    /// members and relays). `None` if the node does not follow the flotilla.
    pub fn public_chat(&self, node: usize) -> Option<ChatState> {
        let f = self.flotilla_id();
        let state = &self.nodes[node].state;
        let (ledger, keyring) = (state.ledger(&f)?, state.keyring(&f)?);
        let auth = ledger.state();
        let public = |c: &ChannelId| auth.channels.get(c).is_some_and(|ch| !ch.private);
        let mut chat = ChatState::new();
        for id in state.event_ids(&f).ok()? {
            let Ok(Some(event)) = crate::store::Store::get(state.store(), &id) else {
                continue;
            };
            if !public(&event.envelope().channel) {
                continue;
            }
            if let Ok(content) = keyring.open_content(&event) {
                chat.apply(&event, &content);
            }
        }
        Some(chat)
    }

    /// The digest of [`Self::public_chat`], judged with `node`'s membership state.
    pub fn chat_digest(&self, node: usize) -> Option<[u8; 32]> {
        let auth = self.nodes[node].state.ledger(&self.flotilla_id())?.state();
        Some(self.public_chat(node)?.digest(auth))
    }

    /// The texts of a channel's timeline as `node` folds it, oldest first.
    pub fn timeline_texts(&self, node: usize, channel: &ChannelId) -> Vec<String> {
        let Some(ledger) = self.nodes[node].state.ledger(&self.flotilla_id()) else {
            return vec![];
        };
        let chat = self.public_chat(node).unwrap_or_default();
        chat.timeline(ledger.state(), channel)
            .into_iter()
            .map(|p| p.text)
            .collect()
    }

    /// Ids `node` reported as accepted more than once.
    pub fn duplicate_accepts(&self, node: usize) -> Vec<EventId> {
        let mut counts: BTreeMap<EventId, usize> = BTreeMap::new();
        for e in &self.nodes[node].log {
            if let Event::Accepted { id, .. } = e {
                *counts.entry(*id).or_default() += 1;
            }
        }
        counts
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(id, _)| id)
            .collect()
    }

    /// The first difference between `nodes` (event sets, membership state, chat digest).
    pub fn divergence(&self, nodes: &[usize]) -> Option<Divergence> {
        let f = self.flotilla_id();
        let mut first = None;
        for &i in nodes {
            let state = &self.nodes[i].state;
            let Some(ledger) = state.ledger(&f) else {
                return Some(Divergence::NoFlotilla(i));
            };
            let ids = state.event_ids(&f).unwrap_or_default();
            let digest = self.chat_digest(i);
            let Some((a, a_ids, a_ledger, a_digest)) = &first else {
                first = Some((i, ids, ledger, digest));
                continue;
            };
            if *a_ids != ids {
                let (a, b) = (*a, i);
                let only_a = a_ids.difference(&ids).count();
                let only_b = ids.difference(a_ids).count();
                return Some(Divergence::Events {
                    a,
                    b,
                    only_a,
                    only_b,
                });
            }
            if a_ledger.state() != ledger.state() {
                return Some(Divergence::Ledger { a: *a, b: i });
            }
            if *a_digest != digest {
                return Some(Divergence::Chat { a: *a, b: i });
            }
        }
        None
    }

    /// Have `nodes` converged (same events, same membership state, same chat state)?
    pub fn converged(&self, nodes: &[usize]) -> bool {
        self.divergence(nodes).is_none()
    }
}

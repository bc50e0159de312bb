//! [`AuthState`]: who is in a flotilla, with which roles, which invites and channels exist,
//! and which keys are current; and the rules for applying one control event to it.

use std::collections::{BTreeMap, BTreeSet};

use crate::crypto::{PublicKey, Signature};
use crate::event::{
    ChannelRotation, Control, Cut, Envelope, KeyCommit, NodeInfo, NodeSeal, Role, SignedEvent,
    UserInfo,
};
use crate::hlc::Hlc;
use crate::id::{ChannelId, EventId, FileId, FlotillaId, InviteId};
use crate::keyring::rotated_key_id;
use crate::proof::{self, AdmitProof, ProofError};

/// Why an event is not allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The event belongs to another flotilla.
    #[error("event of another flotilla")]
    WrongFlotilla,
    /// A genesis other than the one this ledger is pinned to.
    #[error("not this flotilla's genesis")]
    NotOurGenesis,
    /// The event's HLC is not after its deps' (it cannot have been written after them).
    #[error("timestamp not after its dependencies")]
    ClockBeforeDeps,
    /// The author is not an active member as of the event's causal past.
    #[error("author is not a member")]
    NotMember,
    /// The author was removed at or before the event's time.
    #[error("author was removed")]
    Removed,
    /// The action needs the admin role.
    #[error("admin role required")]
    NotAdmin,
    /// The action needs a node key (or a user key).
    #[error("wrong kind of author for this action")]
    WrongAuthor,
    /// The node or user already exists.
    #[error("already a member")]
    AlreadyMember,
    /// The target node, user, invite or channel is unknown or inactive.
    #[error("unknown target: {0}")]
    UnknownTarget(&'static str),
    /// The invite is unknown, revoked, expired or used up.
    #[error("invite not usable: {0}")]
    InviteUnusable(&'static str),
    /// The username is taken on that home node.
    #[error("username taken")]
    UsernameTaken,
    /// Removing or demoting the last admin.
    #[error("the flotilla must keep an admin")]
    LastAdmin,
    /// A removed member would receive the new key, or a required seal is missing.
    #[error("bad key distribution: {0}")]
    BadSeals(&'static str),
    /// The author is not a member of this (private) channel.
    #[error("not a member of the channel")]
    NotChannelMember,
    /// The channel id is taken.
    #[error("channel exists")]
    ChannelExists,
    /// The content is encrypted with a key this channel does not use.
    #[error("wrong content key")]
    WrongKey,
    /// An admission or user proof does not verify.
    #[error("bad proof: {0}")]
    BadProof(#[from] ProofError),
    /// Only the founder's admin creates the default channels.
    #[error("default channels belong to the founder")]
    DefaultChannel,
}

/// A node of the flotilla.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeState {
    /// Its key, X25519 key and name.
    pub info: NodeInfo,
    /// When it was removed, if it was.
    pub removed: Option<Hlc>,
}

/// A user of the flotilla.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserState {
    /// Its key, username and home node.
    pub info: UserInfo,
    /// Its roles.
    pub roles: BTreeSet<Role>,
    /// Its nickname, if set ([`Control::Profile`]).
    pub display_name: Option<String>,
    /// The rest of its profile ([`Control::Profile`]).
    pub profile: Profile,
    /// When it held the admin role: from the grant's HLC, until the revocation's cut (the
    /// last of the user's sequence numbers that still counts), oldest first; an open period
    /// has no cut. Lets the fold judge an admin's act by the role held when it acted, with
    /// the end decided by the sequence number the revoker had seen, not by a timestamp.
    pub admin_periods: Vec<(Hlc, Option<Cut>)>,
    /// When it was removed, if it was.
    pub removed: Option<Hlc>,
}

/// A user's profile beyond its nickname, from its last [`Control::Profile`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    /// Full name, if set.
    pub full_name: Option<String>,
    /// Position on board, if set.
    pub position: Option<String>,
    /// The profile picture (a file of the flotilla), if set.
    pub picture: Option<FileId>,
}

/// An invite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteState {
    /// The invite's public key (admissions are signed by its secret key).
    pub key: PublicKey,
    /// Expiry (ms since the Unix epoch).
    pub expires_ms: Option<u64>,
    /// Admission limit.
    pub max_uses: Option<u32>,
    /// Admissions so far.
    pub uses: u32,
    /// Revoked?
    pub revoked: bool,
}

/// A channel's structure as the control DAG knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelAuth {
    /// Private (members only) or public.
    pub private: bool,
    /// Who created it.
    pub creator: PublicKey,
    /// Members (explicit joins for public channels; the access list for private ones).
    pub members: BTreeSet<PublicKey>,
    /// Private channels: every key id, oldest first; the last is current.
    pub keys: Vec<EventId>,
    /// Has it ever switched between public and private ([`Control::ChannelPrivacy`])? Then
    /// both the epoch keys and its own keys are keys of its history.
    pub switched: bool,
    /// After a private-to-public switch: the posts written before it are shown only to
    /// these users (see [`ChannelAuth::hides`]).
    pub private_history: Option<PrivateHistory>,
}

/// What was written while a channel was private, once it is public: before `until`, shown
/// only to `readers` (its members when it was switched, and, after several switches, only
/// those who were members at every private-to-public switch: never more than could read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateHistory {
    /// The switch's time: posts ordered before it belong to the private history.
    pub until: Hlc,
    /// Who may read that history.
    pub readers: BTreeSet<PublicKey>,
}

impl ChannelAuth {
    /// Is a post at `at` (its timeline time) of this channel hidden from `user`: written
    /// while the channel was private, and `user` was not a member then?
    pub fn hides(&self, user: &PublicKey, at: Hlc) -> bool {
        self.private_history
            .as_ref()
            .is_some_and(|h| at < h.until && !h.readers.contains(user))
    }
}

/// The membership state of a flotilla.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthState {
    /// The genesis event id (admission and user proofs are bound to it).
    pub genesis: Option<EventId>,
    /// The flotilla id.
    pub flotilla: Option<FlotillaId>,
    /// The founder's first admin (the only creator of the default channels).
    pub founder_admin: Option<PublicKey>,
    /// Removed keys (users and nodes): the last event of theirs that counts.
    pub cuts: BTreeMap<PublicKey, Cut>,
    /// For each cut head (removals and demotions): the events on the hash chain that ends
    /// there, as far down as this node holds it, with their sequence numbers. Not part of
    /// the resolution: [`super::Ledger`] fills it from the events it has seen.
    pub chains: BTreeMap<EventId, BTreeMap<EventId, u64>>,
    /// Removed keys: who removed them (a removal of one of these is a mutual removal).
    pub removers: BTreeMap<PublicKey, BTreeSet<PublicKey>>,
    /// Channel ids claimed concurrently by different authors: nobody owns them.
    pub void_channels: BTreeSet<ChannelId>,
    /// The commitment to every group key, by key id (published by the introducing event).
    pub key_commits: BTreeMap<EventId, KeyCommit>,
    /// The flotilla's name.
    pub name: String,
    /// Nodes ever admitted.
    pub nodes: BTreeMap<PublicKey, NodeState>,
    /// Users ever added.
    pub users: BTreeMap<PublicKey, UserState>,
    /// Invites ever created.
    pub invites: BTreeMap<InviteId, InviteState>,
    /// Channels.
    pub channels: BTreeMap<ChannelId, ChannelAuth>,
    /// Epoch key ids, oldest first; the last is current.
    pub epochs: Vec<EventId>,
    /// Set when the current epoch or a channel key reached a node that was removed, or missed
    /// an active node (concurrent membership changes): some admin should rotate again.
    pub needs_rekey: bool,
}

impl AuthState {
    /// The current epoch key id.
    pub fn epoch(&self) -> Option<EventId> {
        self.epochs.last().copied()
    }

    /// Is `key` an active node?
    pub fn is_active_node(&self, key: &PublicKey) -> bool {
        self.nodes.get(key).is_some_and(|n| n.removed.is_none())
    }

    /// Is `key` an active user (not removed, home node active)?
    pub fn is_active_user(&self, key: &PublicKey) -> bool {
        self.users
            .get(key)
            .is_some_and(|u| u.removed.is_none() && self.is_active_node(&u.info.home))
    }

    /// Is `key` an active admin?
    pub fn is_admin(&self, key: &PublicKey) -> bool {
        self.is_active_user(key)
            && self
                .users
                .get(key)
                .is_some_and(|u| u.roles.contains(&Role::Admin))
    }

    /// Did `key` hold the admin role for its act stamped `at` with sequence number `seq`?
    /// The act must be later than a grant and within the revocation's cut, if any: a
    /// demoted admin's later acts do not count, whatever timestamps they carry. A removed
    /// admin keeps its history, so what it did before its cut stands.
    /// Within a cut means on the hash chain that ends at the cut's head (`id` is the act's).
    pub fn admin_for(&self, key: &PublicKey, at: Hlc, seq: u64, id: &EventId) -> bool {
        if self.cut_of(key).is_some_and(|c| !self.counts(&c, id, seq)) {
            return false;
        }
        self.users.get(key).is_some_and(|u| {
            u.admin_periods
                .iter()
                .any(|(from, cut)| *from <= at && cut.is_none_or(|c| self.counts(&c, id, seq)))
        })
    }

    /// The cut of a removed key (user or node; a user also by its home node's removal).
    pub fn cut_of(&self, key: &PublicKey) -> Option<Cut> {
        self.cuts.get(key).copied()
    }

    /// Does the author's event `id` numbered `seq` count under `cut`? Only if it is on the
    /// hash chain that ends at the cut's head: the head itself, or the `prev` of an event
    /// that counts (as far as this node holds the chain; see [`Self::chains`]). A reused or
    /// skipped number (a fork of the author's numbering) never does.
    pub fn counts(&self, cut: &Cut, id: &EventId, seq: u64) -> bool {
        let Some(head) = cut.head.filter(|_| seq <= cut.seq) else {
            return false;
        };
        match self.chains.get(&head) {
            Some(chain) => chain.get(id) == Some(&seq),
            None => head == *id && seq == cut.seq,
        }
    }

    /// Every cut head (removals and demotions) with its author and number.
    pub fn cut_heads(&self) -> BTreeMap<EventId, (PublicKey, u64)> {
        let mut heads = BTreeMap::new();
        for (key, cut) in &self.cuts {
            if let Some(h) = cut.head {
                heads.insert(h, (*key, cut.seq));
            }
        }
        for (key, u) in &self.users {
            for cut in u.admin_periods.iter().filter_map(|p| p.1) {
                if let Some(h) = cut.head {
                    heads.insert(h, (*key, cut.seq));
                }
            }
        }
        heads
    }

    /// Is `control` by `author` a removal of one of the author's removers (a mutual removal,
    /// which counts for both sides)?
    pub fn is_mutual_removal(&self, author: &PublicKey, control: &Control) -> bool {
        let mut removers: BTreeSet<PublicKey> = BTreeSet::new();
        for k in [Some(*author), self.home_of(author)].into_iter().flatten() {
            if let Some(r) = self.removers.get(&k) {
                removers.extend(r.iter().copied());
            }
        }
        match control {
            Control::UserRemove { user, .. } => removers.contains(user),
            Control::NodeRemove { node, .. } => {
                removers.contains(node) || removers.iter().any(|r| self.home_of(r) == Some(*node))
            }
            _ => false,
        }
    }

    /// Active nodes with their X25519 keys.
    pub fn active_nodes(&self) -> Vec<&NodeInfo> {
        self.nodes
            .values()
            .filter(|n| n.removed.is_none())
            .map(|n| &n.info)
            .collect()
    }

    /// When `key` (user or node) was removed; a user also counts as removed with its home node.
    pub fn removed_at(&self, key: &PublicKey) -> Option<Hlc> {
        if let Some(n) = self.nodes.get(key) {
            return n.removed;
        }
        let u = self.users.get(key)?;
        let home = self.nodes.get(&u.info.home).and_then(|n| n.removed);
        match (u.removed, home) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Ok if `author` is an active node or user.
    ///
    /// # Errors
    /// [`AuthError::NotMember`].
    pub fn check_member(&self, author: &PublicKey) -> Result<(), AuthError> {
        if self.is_active_node(author) || self.is_active_user(author) {
            Ok(())
        } else {
            Err(AuthError::NotMember)
        }
    }

    /// Checks a content event without decrypting it: the author is a member (of the channel,
    /// if private), the channel exists, and the key is one this channel uses.
    ///
    /// # Errors
    /// [`AuthError`] naming the broken rule.
    pub fn check_content(&self, event: &SignedEvent) -> Result<(), AuthError> {
        let env = event.envelope();
        self.check_member(&env.author)?;
        let channel = self
            .channels
            .get(&env.channel)
            .ok_or(AuthError::UnknownTarget("channel"))?;
        if channel.private && !channel.members.contains(&env.author) {
            return Err(AuthError::NotChannelMember);
        }
        let key = event.sealed().map(|s| s.key).ok_or(AuthError::WrongKey)?;
        let own = channel.keys.contains(&key);
        let epoch = self.epochs.contains(&key);
        let known = if channel.switched {
            own || epoch
        } else if channel.private {
            own
        } else {
            epoch
        };
        if known {
            Ok(())
        } else {
            Err(AuthError::WrongKey)
        }
    }

    /// Applies a control event if it is allowed, as part of a fold; a refused one is
    /// skipped. Returns whether it applied.
    pub(crate) fn apply_lenient(&mut self, id: EventId, env: &Envelope, c: &Control) -> bool {
        // Every rule checks before it changes anything, except removals (which mark the
        // removed key before checking the rotation's seals): only those need a copy.
        if !matches!(c, Control::NodeRemove { .. } | Control::UserRemove { .. }) {
            return self.apply_with(id, env, c, Proofs::Trusted).is_ok();
        }
        let mut next = self.clone();
        if next.apply_with(id, env, c, Proofs::Trusted).is_ok() {
            *self = next;
            true
        } else {
            false
        }
    }

    /// Applies a mutual removal or demotion: its author, removed or demoted concurrently by
    /// the act's target, acts with the rights it had before (then stays removed or demoted).
    pub(crate) fn apply_mutual(&mut self, id: EventId, env: &Envelope, c: &Control) -> bool {
        let author = env.author;
        let home = self.home_of(&author);
        let saved_user = self.users.get(&author).cloned();
        let saved_home = home.and_then(|h| self.nodes.get(&h).cloned());
        let saved_cut = self.cuts.get(&author).copied();
        let mut next = self.clone();
        if let Some(u) = next.users.get_mut(&author) {
            u.removed = None;
            if !u.admin_periods.is_empty() {
                u.roles.insert(Role::Admin);
            }
        }
        if let Some(n) = home.and_then(|h| next.nodes.get_mut(&h)) {
            n.removed = None;
        }
        if next.apply_with(id, env, c, Proofs::Trusted).is_err() {
            return false;
        }
        if let Some(u) = saved_user {
            next.users.insert(author, u);
        }
        if let (Some(h), Some(n)) = (home, saved_home) {
            next.nodes.insert(h, n);
        }
        if let Some(cut) = saved_cut {
            next.cuts.insert(author, cut);
        }
        *self = next;
        true
    }

    /// Applies one control event after checking the author's right to it.
    ///
    /// # Errors
    /// [`AuthError`] naming the broken rule; `self` may be partly changed, so callers apply
    /// to a copy.
    pub fn apply(
        &mut self,
        id: EventId,
        env: &Envelope,
        control: &Control,
    ) -> Result<(), AuthError> {
        self.apply_with(id, env, control, Proofs::Verify)
    }

    /// [`Self::apply`]; with [`Proofs::Trusted`], admission and user proofs are not verified
    /// again (resolution folds over events the ledger verified when it accepted them).
    fn apply_with(
        &mut self,
        id: EventId,
        env: &Envelope,
        control: &Control,
        proofs: Proofs,
    ) -> Result<(), AuthError> {
        let uncommitted = match control {
            Control::ChannelCreate {
                private: true,
                commit: None,
                ..
            } => true,
            Control::ChannelMemberRemove {
                channel,
                commit: None,
                ..
            } => self.channels.get(channel).is_some_and(|c| c.private),
            Control::ChannelPrivacy {
                private: true,
                commit: None,
                ..
            } => true,
            _ => false,
        };
        if uncommitted {
            return Err(AuthError::BadSeals("a new key without its commitment"));
        }
        self.apply_rules(id, env, control, proofs)?;
        self.record_commits(id, control);
        Ok(())
    }

    /// Records the commitments to the keys `control` (event `id`) introduces.
    fn record_commits(&mut self, id: EventId, control: &Control) {
        match control {
            Control::Genesis { commit, .. } => {
                self.key_commits.insert(id, *commit);
            }
            Control::NodeRemove {
                commit, channels, ..
            }
            | Control::UserRemove {
                commit, channels, ..
            } => {
                self.key_commits.insert(id, *commit);
                for c in channels {
                    self.key_commits
                        .insert(rotated_key_id(&id, &c.channel), c.commit);
                }
            }
            Control::ChannelCreate {
                commit: Some(c), ..
            }
            | Control::ChannelMemberRemove {
                commit: Some(c), ..
            }
            | Control::ChannelPrivacy {
                commit: Some(c), ..
            } => {
                self.key_commits.insert(id, *c);
            }
            _ => {}
        }
    }

    fn apply_rules(
        &mut self,
        id: EventId,
        env: &Envelope,
        control: &Control,
        proofs: Proofs,
    ) -> Result<(), AuthError> {
        let author = env.author;
        match control {
            Control::Genesis {
                name,
                founder,
                admin,
                ..
            } => self.genesis(id, env, name, founder, admin),
            Control::NodeAdmit { node, proof, .. } => {
                self.admit(author, node, proof, env.hlc, proofs)
            }
            Control::NodeRemove {
                node,
                cuts,
                rotation,
                channels,
                ..
            } => {
                let removal = Removal {
                    id,
                    author,
                    rotation,
                    channels,
                    at: env.hlc,
                };
                self.remove_node(&removal, node, cuts)
            }
            Control::UserAdd { user, sig } => self.add_user(author, user, sig, proofs),
            Control::UserRemove {
                user,
                cut,
                rotation,
                channels,
                ..
            } => {
                let removal = Removal {
                    id,
                    author,
                    rotation,
                    channels,
                    at: env.hlc,
                };
                self.remove_user(&removal, user, *cut)
            }
            Control::RoleGrant { user, role } => self.grant(author, user, *role, env.hlc),
            Control::RoleRevoke { user, role, cut } => self.revoke(author, user, *role, *cut),
            Control::InviteCreate {
                invite,
                key,
                expires_ms,
                max_uses,
            } => {
                self.require_admin(&author)?;
                if self.invites.contains_key(invite) {
                    return Err(AuthError::AlreadyMember);
                }
                let state = InviteState {
                    key: *key,
                    expires_ms: *expires_ms,
                    max_uses: *max_uses,
                    uses: 0,
                    revoked: false,
                };
                self.invites.insert(*invite, state);
                Ok(())
            }
            Control::InviteRevoke { invite } => {
                self.require_admin(&author)?;
                let inv = self
                    .invites
                    .get_mut(invite)
                    .ok_or(AuthError::UnknownTarget("invite"))?;
                inv.revoked = true;
                Ok(())
            }
            Control::ChannelCreate {
                channel,
                private,
                members,
                keys,
                ..
            } => self.create_channel(id, author, *channel, *private, members, keys),
            Control::ChannelMemberAdd {
                channel,
                user,
                keys,
            } => self.add_channel_member(author, channel, user, keys),
            Control::ChannelMemberRemove {
                channel,
                user,
                rotation,
                ..
            } => self.remove_channel_member(id, author, channel, user, rotation),
            Control::FlotillaRename { name } => {
                self.require_admin(&author)?;
                self.name = name.clone();
                Ok(())
            }
            Control::ChannelPrivacy {
                channel,
                private,
                keys,
                ..
            } => self.set_privacy(id, author, env.hlc, channel, *private, keys),
            Control::Profile {
                display_name,
                full_name,
                position,
                picture,
            } => {
                self.require_user(&author)?;
                let set = |s: &String| (!s.is_empty()).then(|| s.clone());
                if let Some(u) = self.users.get_mut(&author) {
                    u.display_name = set(display_name);
                    u.profile = Profile {
                        full_name: set(full_name),
                        position: set(position),
                        picture: *picture,
                    };
                }
                Ok(())
            }
        }
    }

    fn require_admin(&self, author: &PublicKey) -> Result<(), AuthError> {
        if self.is_admin(author) {
            Ok(())
        } else if self.check_member(author).is_ok() {
            Err(AuthError::NotAdmin)
        } else {
            Err(AuthError::NotMember)
        }
    }

    fn require_user(&self, author: &PublicKey) -> Result<(), AuthError> {
        if self.is_active_user(author) {
            Ok(())
        } else if self.is_active_node(author) {
            Err(AuthError::WrongAuthor)
        } else {
            Err(AuthError::NotMember)
        }
    }

    fn genesis(
        &mut self,
        id: EventId,
        env: &Envelope,
        name: &str,
        founder: &NodeInfo,
        admin: &UserInfo,
    ) -> Result<(), AuthError> {
        if !self.nodes.is_empty() || founder.key != env.author {
            return Err(AuthError::WrongAuthor);
        }
        self.name = name.to_owned();
        self.genesis = Some(id);
        self.flotilla = Some(env.flotilla);
        self.founder_admin = Some(admin.key);
        self.nodes.insert(
            founder.key,
            NodeState {
                info: founder.clone(),
                removed: None,
            },
        );
        let roles = BTreeSet::from([Role::Admin]);
        self.users.insert(
            admin.key,
            UserState {
                info: admin.clone(),
                roles,
                display_name: None,
                profile: Profile::default(),
                admin_periods: vec![(env.hlc, None)],
                removed: None,
            },
        );
        self.epochs.push(id);
        Ok(())
    }

    fn admit(
        &mut self,
        author: PublicKey,
        node: &NodeInfo,
        proof: &AdmitProof,
        at: Hlc,
        proofs: Proofs,
    ) -> Result<(), AuthError> {
        if self.nodes.contains_key(&node.key) || self.users.contains_key(&node.key) {
            return Err(AuthError::AlreadyMember);
        }
        let genesis = self.genesis.ok_or(AuthError::UnknownTarget("genesis"))?;
        let invite_key = proof
            .invite_id()
            .and_then(|i| self.invites.get(&i))
            .map(|i| i.key);
        match proof.invite_id() {
            None => {
                self.require_admin(&author)?;
                if proofs == Proofs::Verify {
                    proof::verify_admission(&genesis, node, proof, None)?;
                }
            }
            Some(inv) => {
                let inv = &inv;
                if !self.is_active_node(&author) {
                    return Err(if self.is_active_user(&author) {
                        AuthError::WrongAuthor
                    } else {
                        AuthError::NotMember
                    });
                }
                if invite_key.is_none() {
                    return Err(AuthError::InviteUnusable("unknown"));
                }
                if proofs == Proofs::Verify {
                    proof::verify_admission(&genesis, node, proof, invite_key.as_ref())?;
                }
                let state = self
                    .invites
                    .get_mut(inv)
                    .ok_or(AuthError::InviteUnusable("unknown"))?;
                if state.revoked {
                    return Err(AuthError::InviteUnusable("revoked"));
                }
                if state.expires_ms.is_some_and(|e| at.ms >= e) {
                    return Err(AuthError::InviteUnusable("expired"));
                }
                if state.max_uses.is_some_and(|m| state.uses >= m) {
                    return Err(AuthError::InviteUnusable("used up"));
                }
                state.uses += 1;
            }
        }
        self.nodes.insert(
            node.key,
            NodeState {
                info: node.clone(),
                removed: None,
            },
        );
        Ok(())
    }

    fn remove_node(
        &mut self,
        r: &Removal<'_>,
        node: &PublicKey,
        cuts: &[(PublicKey, Cut)],
    ) -> Result<(), AuthError> {
        let author = r.author;
        self.require_admin(&author)?;
        if !self.is_active_node(node) {
            return Err(AuthError::UnknownTarget("node"));
        }
        let admins_left = self
            .users
            .iter()
            .filter(|(k, u)| self.is_admin(k) && u.info.home != *node)
            .count();
        if admins_left == 0 {
            return Err(AuthError::LastAdmin);
        }
        let users: BTreeSet<PublicKey> = self
            .users
            .iter()
            .filter(|(_, u)| u.info.home == *node && u.removed.is_none())
            .map(|(k, _)| *k)
            .collect();
        if let Some(n) = self.nodes.get_mut(node) {
            n.removed = Some(r.at);
        }
        for k in users.iter().chain([node]) {
            let cut = cuts
                .iter()
                .find(|(c, _)| c == k)
                .map_or(Cut::NONE, |(_, s)| *s);
            self.cut(*k, cut, author);
        }
        self.rotate_epoch(r.id, r.rotation)?;
        self.rotate_channels(r, &users)
    }

    /// Records a removal's cut (the lowest wins when several removals name the key; at the
    /// same number, the lowest head id).
    fn cut(&mut self, key: PublicKey, cut: Cut, by: PublicKey) {
        let c = self.cuts.entry(key).or_insert(cut);
        *c = (*c).min(cut);
        self.removers.entry(key).or_default().insert(by);
    }

    /// Takes removed users out of every channel; each private channel they were in gets
    /// the new key the removal carries for it (sealed only to remaining members' nodes).
    fn rotate_channels(
        &mut self,
        r: &Removal<'_>,
        removed: &BTreeSet<PublicKey>,
    ) -> Result<(), AuthError> {
        let affected: Vec<ChannelId> = self
            .channels
            .iter()
            .filter(|(_, c)| c.members.iter().any(|m| removed.contains(m)))
            .map(|(id, _)| *id)
            .collect();
        for rot in r.channels {
            if !affected.contains(&rot.channel) {
                return Err(AuthError::BadSeals("rotation of an unaffected channel"));
            }
        }
        for channel in affected {
            let Some(ch) = self.channels.get(&channel) else {
                continue;
            };
            let remaining: BTreeSet<PublicKey> = ch.members.difference(removed).copied().collect();
            let private = ch.private;
            let homes = self.member_homes(&remaining);
            let rot = r.channels.iter().find(|c| c.channel == channel);
            let mut key = None;
            if private {
                match rot {
                    Some(rot) => {
                        self.check_seals(&rot.seals, |_, k| homes.contains(k))?;
                        if homes
                            .iter()
                            .any(|h| !rot.seals.iter().any(|s| s.node == *h))
                        {
                            self.needs_rekey = true;
                        }
                        key = Some(rotated_key_id(&r.id, &channel));
                    }
                    None => self.needs_rekey = true,
                }
            }
            if let Some(ch) = self.channels.get_mut(&channel) {
                ch.members = remaining;
                ch.keys.extend(key);
            }
        }
        Ok(())
    }

    fn add_user(
        &mut self,
        author: PublicKey,
        user: &UserInfo,
        sig: &Signature,
        proofs: Proofs,
    ) -> Result<(), AuthError> {
        if !self.is_active_node(&author) {
            return Err(if self.is_active_user(&author) {
                AuthError::WrongAuthor
            } else {
                AuthError::NotMember
            });
        }
        if user.home != author {
            return Err(AuthError::WrongAuthor);
        }
        if self.users.contains_key(&user.key) || self.nodes.contains_key(&user.key) {
            return Err(AuthError::AlreadyMember);
        }
        let genesis = self.genesis.ok_or(AuthError::UnknownTarget("genesis"))?;
        if proofs == Proofs::Verify {
            proof::verify_user(&genesis, user, sig)?;
        }
        let taken = self.users.values().any(|u| {
            u.info.home == user.home && u.info.username == user.username && u.removed.is_none()
        });
        if taken {
            return Err(AuthError::UsernameTaken);
        }
        self.users.insert(
            user.key,
            UserState {
                info: user.clone(),
                roles: BTreeSet::new(),
                display_name: None,
                profile: Profile::default(),
                admin_periods: vec![],
                removed: None,
            },
        );
        Ok(())
    }

    fn remove_user(
        &mut self,
        r: &Removal<'_>,
        user: &PublicKey,
        cut: Cut,
    ) -> Result<(), AuthError> {
        let author = r.author;
        let target = self
            .users
            .get(user)
            .filter(|_| self.is_active_user(user))
            .ok_or(AuthError::UnknownTarget("user"))?;
        let allowed = self.is_admin(&author) || author == *user || author == target.info.home;
        if !allowed {
            self.require_admin(&author)?;
        }
        if self.is_admin(user) && self.admin_count() == 1 {
            return Err(AuthError::LastAdmin);
        }
        if let Some(u) = self.users.get_mut(user) {
            u.removed = Some(r.at);
        }
        self.cut(*user, cut, author);
        self.rotate_epoch(r.id, r.rotation)?;
        self.rotate_channels(r, &BTreeSet::from([*user]))
    }

    /// Role changes: by an admin, to an active user.
    fn require_admin_over(&self, author: &PublicKey, user: &PublicKey) -> Result<(), AuthError> {
        self.require_admin(author)?;
        if !self.is_active_user(user) {
            return Err(AuthError::UnknownTarget("user"));
        }
        Ok(())
    }

    fn admin_count(&self) -> usize {
        self.users.keys().filter(|k| self.is_admin(k)).count()
    }

    fn grant(
        &mut self,
        author: PublicKey,
        user: &PublicKey,
        role: Role,
        at: Hlc,
    ) -> Result<(), AuthError> {
        self.require_admin_over(&author, user)?;
        if let Some(u) = self.users.get_mut(user) {
            let newly = u.roles.insert(role);
            if newly && role == Role::Admin {
                u.admin_periods.push((at, None));
            }
        }
        Ok(())
    }

    fn revoke(
        &mut self,
        author: PublicKey,
        user: &PublicKey,
        role: Role,
        cut: Cut,
    ) -> Result<(), AuthError> {
        self.require_admin_over(&author, user)?;
        if role == Role::Admin && self.is_admin(user) && self.admin_count() == 1 {
            return Err(AuthError::LastAdmin);
        }
        if let Some(u) = self.users.get_mut(user) {
            let held = u.roles.remove(&role);
            if held
                && role == Role::Admin
                && let Some(open) = u.admin_periods.last_mut().filter(|p| p.1.is_none())
            {
                open.1 = Some(cut);
            }
        }
        Ok(())
    }

    /// A rotation must not reach a removed node; missing an active node only flags a rekey
    /// (a concurrent admission the remover had not seen must not undo the removal).
    fn rotate_epoch(&mut self, id: EventId, rotation: &[NodeSeal]) -> Result<(), AuthError> {
        self.check_seals(rotation, |s, k| s.is_active_node(k))?;
        let covered: BTreeSet<&PublicKey> = rotation.iter().map(|s| &s.node).collect();
        if self
            .active_nodes()
            .iter()
            .any(|n| !covered.contains(&n.key))
        {
            self.needs_rekey = true;
        }
        self.epochs.push(id);
        Ok(())
    }

    fn check_seals(
        &self,
        seals: &[NodeSeal],
        allowed: impl Fn(&Self, &PublicKey) -> bool,
    ) -> Result<(), AuthError> {
        if seals.iter().any(|s| !allowed(self, &s.node)) {
            return Err(AuthError::BadSeals("sealed to a node that may not have it"));
        }
        Ok(())
    }

    pub(crate) fn home_of(&self, user: &PublicKey) -> Option<PublicKey> {
        self.users.get(user).map(|u| u.info.home)
    }

    fn member_homes(&self, members: &BTreeSet<PublicKey>) -> BTreeSet<PublicKey> {
        members.iter().filter_map(|m| self.home_of(m)).collect()
    }

    fn create_channel(
        &mut self,
        id: EventId,
        author: PublicKey,
        channel: ChannelId,
        private: bool,
        members: &[PublicKey],
        keys: &[NodeSeal],
    ) -> Result<(), AuthError> {
        self.require_user(&author)?;
        if channel.is_control()
            || self.channels.contains_key(&channel)
            || self.void_channels.contains(&channel)
        {
            return Err(AuthError::ChannelExists);
        }
        let is_default = self.flotilla.is_some_and(|f| {
            crate::author::DEFAULT_CHANNELS
                .iter()
                .any(|n| ChannelId::derived(&f, n) == channel)
        });
        if is_default && self.founder_admin != Some(author) {
            return Err(AuthError::DefaultChannel);
        }
        let members: BTreeSet<PublicKey> = members.iter().copied().collect();
        if private {
            if !members.contains(&author) {
                return Err(AuthError::NotChannelMember);
            }
            if members.iter().any(|m| !self.is_active_user(m)) {
                return Err(AuthError::UnknownTarget("member"));
            }
            let homes = self.member_homes(&members);
            self.check_seals(keys, |_, k| homes.contains(k))?;
            if homes.iter().any(|h| !keys.iter().any(|s| s.node == *h)) {
                return Err(AuthError::BadSeals("a member's node gets no key"));
            }
        }
        let keys = if private { vec![id] } else { vec![] };
        let members = if private {
            members
        } else {
            BTreeSet::from([author])
        };
        self.channels.insert(
            channel,
            ChannelAuth {
                private,
                creator: author,
                members,
                keys,
                switched: false,
                private_history: None,
            },
        );
        Ok(())
    }

    /// [`Control::ChannelPrivacy`]: its creator or an admin; not a default channel.
    fn set_privacy(
        &mut self,
        id: EventId,
        author: PublicKey,
        at: Hlc,
        channel: &ChannelId,
        private: bool,
        keys: &[NodeSeal],
    ) -> Result<(), AuthError> {
        self.require_user(&author)?;
        let is_default = self.flotilla.is_some_and(|f| {
            crate::author::DEFAULT_CHANNELS
                .iter()
                .any(|n| ChannelId::derived(&f, n) == *channel)
        });
        if is_default {
            return Err(AuthError::DefaultChannel);
        }
        let is_admin = self.is_admin(&author);
        let ch = self
            .channels
            .get(channel)
            .ok_or(AuthError::UnknownTarget("channel"))?;
        if ch.creator != author && !is_admin {
            return Err(AuthError::NotAdmin);
        }
        if ch.private == private {
            return Err(AuthError::UnknownTarget("a change of privacy"));
        }
        let mut members = ch.members.clone();
        if private {
            members.retain(|m| self.is_active_user(m));
            members.insert(author);
            let homes = self.member_homes(&members);
            self.check_seals(keys, |_, k| homes.contains(k))?;
            if homes.iter().any(|h| !keys.iter().any(|s| s.node == *h)) {
                self.needs_rekey = true;
            }
        } else if !keys.is_empty() {
            return Err(AuthError::BadSeals("public channels carry no keys"));
        }
        if let Some(ch) = self.channels.get_mut(channel) {
            ch.switched = true;
            ch.private = private;
            if private {
                ch.keys.push(id);
            } else {
                let readers = match &ch.private_history {
                    Some(h) => members.intersection(&h.readers).copied().collect(),
                    None => members.clone(),
                };
                ch.private_history = Some(PrivateHistory { until: at, readers });
            }
            ch.members = members;
        }
        Ok(())
    }

    fn add_channel_member(
        &mut self,
        author: PublicKey,
        channel: &ChannelId,
        user: &PublicKey,
        keys: &[NodeSeal],
    ) -> Result<(), AuthError> {
        self.require_user(&author)?;
        if !self.is_active_user(user) {
            return Err(AuthError::UnknownTarget("user"));
        }
        let is_admin = self.is_admin(&author);
        let home = self.home_of(user);
        let ch = self
            .channels
            .get_mut(channel)
            .ok_or(AuthError::UnknownTarget("channel"))?;
        if ch.private {
            if !ch.members.contains(&author) && !is_admin {
                return Err(AuthError::NotChannelMember);
            }
            if keys.iter().any(|s| Some(s.node) != home) || keys.is_empty() {
                return Err(AuthError::BadSeals(
                    "channel keys must go to the new member's node",
                ));
            }
        } else if !keys.is_empty() {
            return Err(AuthError::BadSeals("public channels carry no keys"));
        }
        ch.members.insert(*user);
        Ok(())
    }

    fn remove_channel_member(
        &mut self,
        id: EventId,
        author: PublicKey,
        channel: &ChannelId,
        user: &PublicKey,
        rotation: &[NodeSeal],
    ) -> Result<(), AuthError> {
        self.require_user(&author)?;
        let is_admin = self.is_admin(&author);
        let ch = self
            .channels
            .get(channel)
            .ok_or(AuthError::UnknownTarget("channel"))?;
        if !ch.members.contains(user) {
            return Err(AuthError::UnknownTarget("channel member"));
        }
        if author != *user && author != ch.creator && !is_admin {
            return Err(AuthError::NotAdmin);
        }
        let mut remaining = ch.members.clone();
        remaining.remove(user);
        let private = ch.private;
        if private {
            let homes = self.member_homes(&remaining);
            self.check_seals(rotation, |_, k| homes.contains(k))?;
            if homes.iter().any(|h| !rotation.iter().any(|s| s.node == *h)) {
                self.needs_rekey = true;
            }
        } else if !rotation.is_empty() {
            return Err(AuthError::BadSeals("public channels carry no keys"));
        }
        if let Some(ch) = self.channels.get_mut(channel) {
            ch.members = remaining;
            if private {
                ch.keys.push(id);
            }
        }
        Ok(())
    }
}

/// What a removal (of a user or a node) carries, for the rules.
struct Removal<'a> {
    id: EventId,
    author: PublicKey,
    rotation: &'a [NodeSeal],
    channels: &'a [ChannelRotation],
    at: Hlc,
}

/// Whether [`AuthState::apply_with`] verifies admission and user proofs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proofs {
    /// Verify them (judging an incoming event).
    Verify,
    /// The ledger verified them when it accepted the event (a resolution fold).
    Trusted,
}

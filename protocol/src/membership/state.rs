//! [`AuthState`]: who is in a flotilla, with which roles, which invites and channels exist,
//! and which keys are current; and the rules for applying one control event to it.

use std::collections::{BTreeMap, BTreeSet};

use crate::crypto::PublicKey;
use crate::event::{Control, Envelope, NodeInfo, NodeSeal, Role, SignedEvent, UserInfo};
use crate::hlc::Hlc;
use crate::id::{ChannelId, EventId, InviteId};

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
    /// Its display name, if set.
    pub display_name: Option<String>,
    /// When it held the admin role: `[from, until)` by HLC, oldest first; an open period has
    /// no end. Lets the fold judge an admin's act by the role held *when* it acted.
    pub admin_periods: Vec<(Hlc, Option<Hlc>)>,
    /// When it was removed, if it was.
    pub removed: Option<Hlc>,
}

/// An invite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteState {
    /// BLAKE3 of the secret.
    pub secret_hash: [u8; 32],
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
}

/// The membership state of a flotilla.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthState {
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

    /// Did `key` hold the admin role at `at` (by the grants and revocations known)? A removed
    /// admin keeps its history, so what it did before its removal stands.
    pub fn was_admin_at(&self, key: &PublicKey, at: Hlc) -> bool {
        self.users.get(key).is_some_and(|u| {
            u.admin_periods
                .iter()
                .any(|(from, until)| *from <= at && until.is_none_or(|u| at < u))
        })
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
        let known = if channel.private {
            &channel.keys
        } else {
            &self.epochs
        };
        if known.contains(&key) {
            Ok(())
        } else {
            Err(AuthError::WrongKey)
        }
    }

    /// Applies a control event if it is allowed, as part of a fold; a refused one is skipped.
    pub(crate) fn apply_lenient(&mut self, event: &SignedEvent) {
        if let Some(c) = event.control() {
            let mut next = self.clone();
            if next.apply(event.id(), event.envelope(), &c).is_ok() {
                *self = next;
            }
        }
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
        let author = env.author;
        match control {
            Control::Genesis {
                name,
                founder,
                admin,
                ..
            } => self.genesis(id, env, name, founder, admin),
            Control::NodeAdmit { node, invite, .. } => {
                self.admit(author, node, invite.as_ref(), env.hlc)
            }
            Control::NodeRemove { node, rotation } => {
                self.remove_node(id, author, node, rotation, env.hlc)
            }
            Control::UserAdd(user) => self.add_user(author, user),
            Control::UserRemove { user, rotation } => {
                self.remove_user(id, author, user, rotation, env.hlc)
            }
            Control::RoleGrant { user, role } => self.grant(author, user, *role, env.hlc),
            Control::RoleRevoke { user, role } => self.revoke(author, user, *role, env.hlc),
            Control::InviteCreate {
                invite,
                secret_hash,
                expires_ms,
                max_uses,
            } => {
                self.require_admin(&author)?;
                if self.invites.contains_key(invite) {
                    return Err(AuthError::AlreadyMember);
                }
                let state = InviteState {
                    secret_hash: *secret_hash,
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
            } => self.remove_channel_member(id, author, channel, user, rotation),
            Control::Profile { display_name } => {
                self.require_user(&author)?;
                if let Some(u) = self.users.get_mut(&author) {
                    u.display_name = (!display_name.is_empty()).then(|| display_name.clone());
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
        invite: Option<&InviteId>,
        at: Hlc,
    ) -> Result<(), AuthError> {
        if self.nodes.contains_key(&node.key) || self.users.contains_key(&node.key) {
            return Err(AuthError::AlreadyMember);
        }
        match invite {
            None => self.require_admin(&author)?,
            Some(inv) => {
                if !self.is_active_node(&author) {
                    return Err(if self.is_active_user(&author) {
                        AuthError::WrongAuthor
                    } else {
                        AuthError::NotMember
                    });
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
        id: EventId,
        author: PublicKey,
        node: &PublicKey,
        rotation: &[NodeSeal],
        at: Hlc,
    ) -> Result<(), AuthError> {
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
        if let Some(n) = self.nodes.get_mut(node) {
            n.removed = Some(at);
        }
        self.rotate_epoch(id, rotation)
    }

    fn add_user(&mut self, author: PublicKey, user: &UserInfo) -> Result<(), AuthError> {
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
                admin_periods: vec![],
                removed: None,
            },
        );
        Ok(())
    }

    fn remove_user(
        &mut self,
        id: EventId,
        author: PublicKey,
        user: &PublicKey,
        rotation: &[NodeSeal],
        at: Hlc,
    ) -> Result<(), AuthError> {
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
            u.removed = Some(at);
        }
        self.rotate_epoch(id, rotation)
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
        at: Hlc,
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
                open.1 = Some(at);
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

    fn home_of(&self, user: &PublicKey) -> Option<PublicKey> {
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
        if channel.is_control() || self.channels.contains_key(&channel) {
            return Err(AuthError::ChannelExists);
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
            },
        );
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

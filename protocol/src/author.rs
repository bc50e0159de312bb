//! Building and signing events of every kind, for a node that holds the author's key.
//!
//! Each builder names the ledger's current heads as deps, stamps an HLC later than them,
//! seals any new group key to the nodes that must hold it, signs, and then judges the event
//! with [`Ledger::check`] so that a caller never publishes an event peers would reject.
//! Builders do not insert into the ledger or keyring: the caller ingests the event like any
//! other (see [`crate::sync`]), which also opens the keys sealed to its own node.

use std::fmt;
use std::str::FromStr;

use crate::crypto::{CryptoError, PublicKey, SecretKey, SymmetricKey};
use crate::entropy::Entropy;
use crate::event::{
    Content, Control, ENVELOPE_VERSION, Envelope, InvalidEvent, Kind, NodeInfo, SignedEvent,
    UserInfo,
};
use crate::hlc::{Clock, Hlc};
use crate::id::{ChannelId, EventId, FlotillaId, InviteId, from_hex, to_hex};
use crate::keyring::{KeyBundle, Keyring, OpenError, seal_bundle, seal_to_nodes};
use crate::membership::{AuthError, Ledger, Verdict};

/// The default channels every flotilla starts with (Mattermost's town-square and off-topic).
pub const DEFAULT_CHANNELS: [&str; 2] = ["town-square", "off-topic"];

/// Why an event could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorError {
    /// The event breaks a structural rule or limit.
    #[error(transparent)]
    Invalid(#[from] InvalidEvent),
    /// Sealing failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The content key is missing, or the content breaks a limit.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// The author may not do this.
    #[error("refused: {0}")]
    Refused(#[from] AuthError),
    /// The ledger lacks something the event needs (its genesis, a dep, a channel).
    #[error("not ready: {0}")]
    NotReady(&'static str),
}

/// Everything a builder needs from the node: the flotilla's ledger and keyring, the node's
/// clock, the wall clock reading, and entropy.
#[derive(Debug)]
pub struct Ctx<'a, R: Entropy> {
    /// The flotilla's control DAG.
    pub ledger: &'a mut Ledger,
    /// The keys this node holds.
    pub keyring: &'a Keyring,
    /// This node's hybrid logical clock.
    pub clock: &'a mut Clock,
    /// Wall clock, ms since the Unix epoch.
    pub now_ms: u64,
    /// Randomness.
    pub rng: &'a mut R,
}

impl<R: Entropy> Ctx<'_, R> {
    fn stamp(&mut self, deps: &[EventId]) -> Hlc {
        let floor = self.ledger.max_hlc(deps);
        self.clock.observe(floor, self.now_ms);
        let t = self.clock.tick(self.now_ms);
        if t > floor {
            t
        } else {
            self.clock.tick(floor.ms)
        }
    }

    fn flotilla(&self) -> Result<FlotillaId, AuthorError> {
        self.ledger
            .flotilla()
            .ok_or(AuthorError::NotReady("no genesis"))
    }

    fn sign(
        &mut self,
        key: &SecretKey,
        channel: ChannelId,
        kind: Kind,
        payload: Vec<u8>,
    ) -> Result<SignedEvent, AuthorError> {
        let deps = self.ledger.heads();
        let hlc = self.stamp(&deps);
        let env = Envelope {
            v: ENVELOPE_VERSION,
            flotilla: self.flotilla()?,
            channel,
            author: key.public(),
            hlc,
            deps,
            kind,
            payload,
        };
        let event = SignedEvent::sign(env, key)?;
        match self.ledger.check(&event) {
            Verdict::Accept => Ok(event),
            Verdict::Reject(e) => Err(AuthorError::Refused(e)),
            Verdict::MissingDeps(_) => Err(AuthorError::NotReady("missing deps")),
        }
    }

    /// Signs a control event with no keys to seal (roles, invites, profile, user add,
    /// public channel membership).
    ///
    /// # Errors
    /// [`AuthorError`].
    pub fn control(
        &mut self,
        key: &SecretKey,
        control: &Control,
    ) -> Result<SignedEvent, AuthorError> {
        let payload =
            postcard::to_stdvec(control).map_err(|_| InvalidEvent::Malformed("control"))?;
        self.sign(key, ChannelId::CONTROL, Kind::CONTROL, payload)
    }

    /// Encrypts and signs content for `channel` with the channel's current key.
    ///
    /// # Errors
    /// [`AuthorError`]: unknown channel, missing key, content over a limit, not allowed.
    pub fn content(
        &mut self,
        key: &SecretKey,
        channel: ChannelId,
        content: &Content,
    ) -> Result<SignedEvent, AuthorError> {
        let flotilla = self.flotilla()?;
        let state = self.ledger.state();
        let ch = state
            .channels
            .get(&channel)
            .ok_or(AuthorError::NotReady("unknown channel"))?;
        let key_id = if ch.private {
            ch.keys.last().copied()
        } else {
            state.epoch()
        };
        let key_id = key_id.ok_or(AuthorError::NotReady("no key"))?;
        let sealed = self.keyring.seal_content(
            &flotilla,
            &channel,
            key_id,
            &key.public(),
            content,
            self.rng,
        )?;
        let payload =
            postcard::to_stdvec(&sealed).map_err(|_| InvalidEvent::Malformed("sealed"))?;
        self.sign(key, channel, Kind::SEALED, payload)
    }

    /// The channel's structure as the ledger knows it.
    fn channel(&self, channel: &ChannelId) -> Result<crate::membership::ChannelAuth, AuthorError> {
        let state = self.ledger.state();
        let ch = state
            .channels
            .get(channel)
            .ok_or(AuthorError::NotReady("unknown channel"))?;
        Ok(ch.clone())
    }

    /// Admits `node` (by `invite`, signed by a member node; or directly, signed by an admin),
    /// sealing every epoch key to it.
    ///
    /// # Errors
    /// [`AuthorError`].
    pub fn admit(
        &mut self,
        key: &SecretKey,
        node: NodeInfo,
        invite: Option<InviteId>,
    ) -> Result<SignedEvent, AuthorError> {
        let flotilla = self.flotilla()?;
        let bundle = self.keyring.bundle(&self.ledger.state().epochs, None);
        let keys = seal_bundle(&flotilla, &bundle, &node.x25519, self.rng)?;
        self.control(key, &Control::NodeAdmit { node, invite, keys })
    }

    fn rotation_to(
        &mut self,
        recipients: Vec<(PublicKey, crate::crypto::X25519Public)>,
    ) -> Result<Vec<crate::event::NodeSeal>, AuthorError> {
        let flotilla = self.flotilla()?;
        let bundle = KeyBundle {
            existing: vec![],
            new: Some(SymmetricKey::generate(self.rng)),
        };
        Ok(seal_to_nodes(&flotilla, &bundle, &recipients, self.rng)?)
    }

    fn active_nodes_except(
        &self,
        removed: Option<&PublicKey>,
    ) -> Vec<(PublicKey, crate::crypto::X25519Public)> {
        let state = self.ledger.state();
        state
            .active_nodes()
            .into_iter()
            .filter(|n| Some(&n.key) != removed)
            .map(|n| (n.key, n.x25519))
            .collect()
    }

    /// Removes a node (admin), rotating the epoch key to the remaining nodes.
    ///
    /// # Errors
    /// [`AuthorError`].
    pub fn remove_node(
        &mut self,
        admin: &SecretKey,
        node: PublicKey,
    ) -> Result<SignedEvent, AuthorError> {
        let rotation = self.rotation_to(self.active_nodes_except(Some(&node)))?;
        self.control(admin, &Control::NodeRemove { node, rotation })
    }

    /// Removes a user (admin, the user, or its home node), rotating the epoch key.
    ///
    /// # Errors
    /// [`AuthorError`].
    pub fn remove_user(
        &mut self,
        key: &SecretKey,
        user: PublicKey,
    ) -> Result<SignedEvent, AuthorError> {
        let rotation = self.rotation_to(self.active_nodes_except(None))?;
        self.control(key, &Control::UserRemove { user, rotation })
    }

    fn homes(&self, members: &[PublicKey]) -> Vec<(PublicKey, crate::crypto::X25519Public)> {
        let state = self.ledger.state();
        let mut homes: Vec<_> = members
            .iter()
            .filter_map(|m| state.users.get(m))
            .filter_map(|u| state.nodes.get(&u.info.home))
            .map(|n| (n.info.key, n.info.x25519))
            .collect();
        homes.sort_by_key(|(k, _)| *k);
        homes.dedup_by_key(|(k, _)| *k);
        homes
    }

    /// Creates a channel; a private one gets its own key sealed to its members' nodes.
    ///
    /// # Errors
    /// [`AuthorError`].
    pub fn create_channel(
        &mut self,
        user: &SecretKey,
        channel: ChannelId,
        private: bool,
        members: &[PublicKey],
    ) -> Result<SignedEvent, AuthorError> {
        let (members, keys) = if private {
            let mut all = members.to_vec();
            all.push(user.public());
            all.sort();
            all.dedup();
            let keys = self.rotation_to(self.homes(&all))?;
            (all, keys)
        } else {
            (vec![], vec![])
        };
        self.control(
            user,
            &Control::ChannelCreate {
                channel,
                private,
                members,
                keys,
            },
        )
    }

    /// Adds `user` to `channel`; for a private channel, seals every channel key to its node.
    ///
    /// # Errors
    /// [`AuthorError`].
    pub fn add_channel_member(
        &mut self,
        author: &SecretKey,
        channel: ChannelId,
        user: PublicKey,
    ) -> Result<SignedEvent, AuthorError> {
        let flotilla = self.flotilla()?;
        let ch = self.channel(&channel)?;
        let keys = if ch.private {
            let bundle = self.keyring.bundle(&ch.keys, None);
            if bundle.existing.is_empty() {
                return Err(AuthorError::NotReady("no channel key held"));
            }
            seal_to_nodes(&flotilla, &bundle, &self.homes(&[user]), self.rng)?
        } else {
            vec![]
        };
        self.control(
            author,
            &Control::ChannelMemberAdd {
                channel,
                user,
                keys,
            },
        )
    }

    /// Removes `user` from `channel` (or `user` leaves); a private channel rotates its key.
    ///
    /// # Errors
    /// [`AuthorError`].
    pub fn remove_channel_member(
        &mut self,
        author: &SecretKey,
        channel: ChannelId,
        user: PublicKey,
    ) -> Result<SignedEvent, AuthorError> {
        let ch = self.channel(&channel)?;
        let rotation = if ch.private {
            let remaining: Vec<PublicKey> =
                ch.members.iter().filter(|m| **m != user).copied().collect();
            self.rotation_to(self.homes(&remaining))?
        } else {
            vec![]
        };
        self.control(
            author,
            &Control::ChannelMemberRemove {
                channel,
                user,
                rotation,
            },
        )
    }

    /// Creates an invite (admin) and returns it with the code to hand to the joiner.
    ///
    /// # Errors
    /// [`AuthorError`].
    pub fn invite(
        &mut self,
        admin: &SecretKey,
        expires_ms: Option<u64>,
        max_uses: Option<u32>,
    ) -> Result<(SignedEvent, InviteCode), AuthorError> {
        let code = InviteCode {
            genesis: self.ledger.genesis(),
            invite: InviteId(self.rng.array()),
            secret: self.rng.array(),
        };
        let control = Control::InviteCreate {
            invite: code.invite,
            secret_hash: code.secret_hash(),
            expires_ms,
            max_uses,
        };
        Ok((self.control(admin, &control)?, code))
    }
}

/// What founding a flotilla produced.
#[derive(Debug)]
pub struct Founded {
    /// The new flotilla's id.
    pub flotilla: FlotillaId,
    /// The genesis event id (pins the ledger; part of invite codes).
    pub genesis: EventId,
    /// The events to ingest and publish, in order: genesis, the default channels' creation,
    /// and their names.
    pub events: Vec<SignedEvent>,
    /// The ledger with the control events in.
    pub ledger: Ledger,
    /// The founder node's keyring (epoch key 0).
    pub keyring: Keyring,
}

/// Founds a flotilla named `name` on the node `node` (named `node_name`), with `admin`
/// (username `username`) as its first admin, and creates the default channels.
///
/// # Errors
/// [`AuthorError`] if a name breaks a limit.
#[allow(clippy::too_many_arguments)] // each is a distinct input of founding; a struct adds nothing
pub fn found(
    node: &SecretKey,
    node_name: &str,
    admin: &SecretKey,
    username: &str,
    name: &str,
    clock: &mut Clock,
    now_ms: u64,
    rng: &mut impl Entropy,
) -> Result<Founded, AuthorError> {
    let flotilla = FlotillaId(rng.array());
    let founder = NodeInfo {
        key: node.public(),
        x25519: node.x25519_public(),
        name: node_name.to_owned(),
    };
    let admin_info = UserInfo {
        key: admin.public(),
        username: username.to_owned(),
        home: node.public(),
    };
    let epoch0 = KeyBundle {
        existing: vec![],
        new: Some(SymmetricKey::generate(rng)),
    };
    let keys = seal_bundle(&flotilla, &epoch0, &founder.x25519, rng)?;
    let control = Control::Genesis {
        name: name.to_owned(),
        founder,
        admin: admin_info,
        keys,
    };
    let payload = postcard::to_stdvec(&control).map_err(|_| InvalidEvent::Malformed("control"))?;
    let hlc = clock.tick(now_ms);
    let env = Envelope {
        v: ENVELOPE_VERSION,
        flotilla,
        channel: ChannelId::CONTROL,
        author: node.public(),
        hlc,
        deps: vec![],
        kind: Kind::CONTROL,
        payload,
    };
    let genesis = SignedEvent::sign(env, node)?;
    let mut ledger = Ledger::new(genesis.id());
    ledger.insert(&genesis);
    let mut keyring = Keyring::new();
    keyring.absorb(&genesis, node);
    let mut events = vec![genesis.clone()];
    for channel_name in DEFAULT_CHANNELS {
        let channel = ChannelId::derived(&flotilla, channel_name);
        let mut ctx = Ctx {
            ledger: &mut ledger,
            keyring: &keyring,
            clock,
            now_ms,
            rng,
        };
        let create = ctx.create_channel(admin, channel, false, &[])?;
        ctx.ledger.insert(&create);
        let info = Content::ChannelInfo {
            name: channel_name.to_owned(),
            header: String::new(),
            purpose: String::new(),
        };
        let named = ctx.content(admin, channel, &info)?;
        events.extend([create, named]);
    }
    Ok(Founded {
        flotilla,
        genesis: genesis.id(),
        events,
        ledger,
        keyring,
    })
}

/// An invite code: which flotilla (by its genesis), which invite, and the secret proving the
/// holder was given it. Text form: `fl1` followed by 128 hex characters.
#[derive(Clone, PartialEq, Eq)]
pub struct InviteCode {
    /// The flotilla's genesis event.
    pub genesis: EventId,
    /// The invite.
    pub invite: InviteId,
    /// The secret; only its hash is published.
    pub secret: [u8; 16],
}

impl InviteCode {
    /// BLAKE3 of the secret, as published in the invite event.
    pub fn secret_hash(&self) -> [u8; 32] {
        *blake3::hash(&self.secret).as_bytes()
    }
}

impl fmt::Debug for InviteCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "InviteCode(invite={}, secret=<redacted>)",
            self.invite.fmt_short()
        )
    }
}

impl fmt::Display for InviteCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "fl1{}{}{}",
            to_hex(&self.genesis.0),
            to_hex(&self.invite.0),
            to_hex(&self.secret)
        )
    }
}

impl FromStr for InviteCode {
    type Err = crate::id::ParseIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex = s
            .trim()
            .strip_prefix("fl1")
            .ok_or(crate::id::ParseIdError::Char(0))?;
        if hex.len() != 128 || !hex.is_ascii() {
            return Err(crate::id::ParseIdError::Length {
                expected: 131,
                got: s.trim().len(),
            });
        }
        Ok(InviteCode {
            genesis: EventId(from_hex::<32>(&hex[..64])?),
            invite: InviteId(from_hex::<16>(&hex[64..96])?),
            secret: from_hex::<16>(&hex[96..])?,
        })
    }
}

//! Building and signing events of every kind, for a node that holds the author's key.
//!
//! Each builder names the ledger's current heads as deps, stamps an HLC later than them,
//! seals any new group key to the nodes that must hold it, signs, and then judges the event
//! with [`Ledger::check`] so that a caller never publishes an event peers would reject.
//! Builders do not insert into the ledger or keyring: the caller ingests the event like any
//! other (see [`crate::sync`]), which also opens the keys sealed to its own node.

use std::fmt;
use std::str::FromStr;

use crate::crypto::{CryptoError, PublicKey, SecretKey, SymmetricKey, X25519Public};
use crate::entropy::Entropy;
use crate::event::{
    ChannelRotation, Content, Control, ENVELOPE_VERSION, Envelope, InvalidEvent, KeyCommit, Kind,
    NodeInfo, NodeSeal, Role, SignedEvent, UserInfo,
};
use crate::hlc::{Clock, Hlc};
use crate::id::{ChannelId, EventId, FlotillaId, InviteId, from_hex, to_hex};
use crate::keyring::{
    KeyBundle, Keyring, OpenError, content_nonce, key_commitment, seal_bundle, seal_to_nodes,
};
use crate::membership::removal::{self, Recipient, Target};
use crate::membership::{AuthError, Ledger, Verdict};
use crate::proof::{self, AdmitProof};

/// The default channels every flotilla starts with (Mattermost's town-square and off-topic).
pub const DEFAULT_CHANNELS: [&str; 2] = ["town-square", "off-topic"];
/// How long an invite is valid unless its creator says otherwise: 7 days.
pub const DEFAULT_INVITE_TTL_MS: u64 = 7 * 24 * 3_600_000;
/// How many admissions an invite allows unless its creator says otherwise (a rally's
/// boats; "regenerate the link" is `invite revoke` and a new code).
pub const DEFAULT_INVITE_USES: u32 = 25;

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
        let flotilla = self.flotilla()?;
        let last = self.ledger.head_of(&key.public());
        let env = Envelope {
            v: ENVELOPE_VERSION,
            flotilla,
            channel,
            author: key.public(),
            hlc,
            seq: last.seq + 1,
            prev: last.head,
            deps,
            kind,
            payload,
        };
        let event = SignedEvent::sign(env, key)?;
        match self.ledger.check(&event) {
            Verdict::Accept => {
                // Counted at once: the author's next event chains after this one.
                self.ledger.observe(&event);
                Ok(event)
            }
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
        // The nonce of the number `sign` gives this event (seq + 1 after the author's head).
        let seq = self.ledger.head_of(&key.public()).seq + 1;
        let nonce = content_nonce(&flotilla, &channel, &key_id, &key.public(), seq);
        let sealed = self.keyring.seal_content_with(
            &flotilla,
            &channel,
            key_id,
            &key.public(),
            content,
            nonce,
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

    /// Admits `node` with the proof it made (by an invite, signed by a member node; or
    /// directly, signed by an admin), sealing every epoch key to it.
    ///
    /// # Errors
    /// [`AuthorError`]; [`AuthError::BadProof`] if the proof does not hold.
    pub fn admit(
        &mut self,
        key: &SecretKey,
        node: NodeInfo,
        proof: AdmitProof,
    ) -> Result<SignedEvent, AuthorError> {
        let flotilla = self.flotilla()?;
        let bundle = self.keyring.bundle(&self.ledger.state().epochs, None);
        let keys = seal_bundle(&flotilla, &bundle, &node.x25519, self.rng)?;
        self.control(key, &Control::NodeAdmit { node, proof, keys })
    }

    /// Adds the user `user` (whose key this node holds) to the flotilla, as a user of the
    /// node `node`, with the user key's signature over the binding.
    ///
    /// # Errors
    /// [`AuthorError`].
    pub fn add_user(
        &mut self,
        node: &SecretKey,
        user: &SecretKey,
        username: &str,
    ) -> Result<SignedEvent, AuthorError> {
        let info = UserInfo {
            key: user.public(),
            username: username.to_owned(),
            home: node.public(),
        };
        let sig = user.sign(&proof::user_statement(&self.ledger.genesis(), &info));
        self.control(node, &Control::UserAdd { user: info, sig })
    }

    /// Revokes `role` from `user` (admin), cut at the last of the user's events seen here.
    ///
    /// # Errors
    /// [`AuthorError`].
    pub fn revoke_role(
        &mut self,
        admin: &SecretKey,
        user: PublicKey,
        role: Role,
    ) -> Result<SignedEvent, AuthorError> {
        let cut = self.ledger.head_of(&user);
        self.control(admin, &Control::RoleRevoke { user, role, cut })
    }

    /// A new key sealed to `recipients`, with its commitment.
    fn rotation_to(
        &mut self,
        recipients: Vec<Recipient>,
    ) -> Result<(Vec<NodeSeal>, KeyCommit), AuthorError> {
        let flotilla = self.flotilla()?;
        let key = SymmetricKey::generate(self.rng);
        let commit = key_commitment(&key);
        let bundle = KeyBundle {
            existing: vec![],
            new: Some(key),
        };
        Ok((
            seal_to_nodes(&flotilla, &bundle, &recipients, self.rng)?,
            commit,
        ))
    }

    /// The new keys of a removal plan, sealed.
    fn seal_plan(
        &mut self,
        plan: &removal::Plan,
    ) -> Result<(Vec<NodeSeal>, KeyCommit, Vec<ChannelRotation>), AuthorError> {
        let (rotation, commit) = self.rotation_to(plan.epoch.clone())?;
        let mut channels = Vec::with_capacity(plan.channels.len());
        for (channel, recipients) in &plan.channels {
            let (seals, commit) = self.rotation_to(recipients.clone())?;
            channels.push(ChannelRotation {
                channel: *channel,
                seals,
                commit,
            });
        }
        Ok((rotation, commit, channels))
    }

    /// Removes a node (admin): rotates the epoch key to the remaining nodes and the key of
    /// every private channel its users were in (see [`removal::plan`]).
    ///
    /// # Errors
    /// [`AuthorError`].
    pub fn remove_node(
        &mut self,
        admin: &SecretKey,
        node: PublicKey,
    ) -> Result<SignedEvent, AuthorError> {
        let plan = removal::plan(self.ledger.state(), Target::Node(node));
        let (rotation, commit, channels) = self.seal_plan(&plan)?;
        let cuts = plan
            .users
            .iter()
            .chain([&node])
            .map(|k| (*k, self.ledger.head_of(k)))
            .collect();
        self.control(
            admin,
            &Control::NodeRemove {
                node,
                cuts,
                rotation,
                commit,
                channels,
            },
        )
    }

    /// Removes a user (admin, the user, or its home node): rotates the epoch key and the
    /// key of every private channel and DM the user was in (see [`removal::plan`]).
    ///
    /// # Errors
    /// [`AuthorError`].
    pub fn remove_user(
        &mut self,
        key: &SecretKey,
        user: PublicKey,
    ) -> Result<SignedEvent, AuthorError> {
        let plan = removal::plan(self.ledger.state(), Target::User(user));
        let (rotation, commit, channels) = self.seal_plan(&plan)?;
        let cut = self.ledger.head_of(&user);
        self.control(
            key,
            &Control::UserRemove {
                user,
                cut,
                rotation,
                commit,
                channels,
            },
        )
    }

    fn homes(&self, members: &[PublicKey]) -> Vec<(PublicKey, X25519Public)> {
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
        let (members, keys, commit) = if private {
            let mut all = members.to_vec();
            all.push(user.public());
            all.sort();
            all.dedup();
            let (keys, commit) = self.rotation_to(self.homes(&all))?;
            (all, keys, Some(commit))
        } else {
            (vec![], vec![], None)
        };
        self.control(
            user,
            &Control::ChannelCreate {
                channel,
                private,
                members,
                keys,
                commit,
            },
        )
    }

    /// Switches `channel` to private (a new key sealed to its members' and the author's
    /// nodes) or to public.
    ///
    /// # Errors
    /// [`AuthorError`].
    pub fn set_channel_privacy(
        &mut self,
        author: &SecretKey,
        channel: ChannelId,
        private: bool,
    ) -> Result<SignedEvent, AuthorError> {
        let ch = self.channel(&channel)?;
        let (keys, commit) = if private {
            let state = self.ledger.state();
            let mut members: Vec<PublicKey> = ch
                .members
                .iter()
                .filter(|m| state.is_active_user(m))
                .copied()
                .collect();
            members.push(author.public());
            members.sort();
            members.dedup();
            let (keys, commit) = self.rotation_to(self.homes(&members))?;
            (keys, Some(commit))
        } else {
            (vec![], None)
        };
        self.control(
            author,
            &Control::ChannelPrivacy {
                channel,
                private,
                keys,
                commit,
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
        let (rotation, commit) = if ch.private {
            let remaining: Vec<PublicKey> =
                ch.members.iter().filter(|m| **m != user).copied().collect();
            let (seals, commit) = self.rotation_to(self.homes(&remaining))?;
            (seals, Some(commit))
        } else {
            (vec![], None)
        };
        self.control(
            author,
            &Control::ChannelMemberRemove {
                channel,
                user,
                rotation,
                commit,
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
            secret: SecretKey::generate(self.rng),
        };
        let control = Control::InviteCreate {
            invite: code.invite,
            key: code.secret.public(),
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
    let key0 = SymmetricKey::generate(rng);
    let commit = key_commitment(&key0);
    let epoch0 = KeyBundle {
        existing: vec![],
        new: Some(key0),
    };
    let keys = seal_bundle(&flotilla, &epoch0, &founder.x25519, rng)?;
    let control = Control::Genesis {
        name: name.to_owned(),
        founder,
        admin: admin_info,
        keys,
        commit,
    };
    let payload = postcard::to_stdvec(&control).map_err(|_| InvalidEvent::Malformed("control"))?;
    let hlc = clock.tick(now_ms);
    let env = Envelope {
        v: ENVELOPE_VERSION,
        flotilla,
        channel: ChannelId::CONTROL,
        author: node.public(),
        hlc,
        seq: 1,
        prev: None,
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

/// An invite code: which flotilla (by its genesis), which invite, and the invite's secret
/// key, with which the joiner signs its admission statement (see [`crate::proof`]); the
/// key never leaves the joiner. Text form: `fl2` followed by 160 hex characters.
#[derive(Clone)]
pub struct InviteCode {
    /// The flotilla's genesis event.
    pub genesis: EventId,
    /// The invite.
    pub invite: InviteId,
    /// The invite's secret key; `InviteCreate` publishes only its public key.
    pub secret: SecretKey,
}

impl PartialEq for InviteCode {
    fn eq(&self, other: &Self) -> bool {
        self.genesis == other.genesis
            && self.invite == other.invite
            && self.secret.public() == other.secret.public()
    }
}

impl Eq for InviteCode {}

impl InviteCode {
    /// The joiner's admission proof for its node `node` (whose key is `node_key`).
    pub fn prove(&self, node_key: &SecretKey, node: &NodeInfo) -> AdmitProof {
        proof::prove_admission(
            &self.genesis,
            Some((self.invite, &self.secret)),
            node_key,
            node,
        )
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
        let secret = zeroize::Zeroizing::new(self.secret.to_bytes());
        write!(
            f,
            "fl2{}{}{}",
            to_hex(&self.genesis.0),
            to_hex(&self.invite.0),
            to_hex(&secret[..])
        )
    }
}

impl FromStr for InviteCode {
    type Err = crate::id::ParseIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex = s
            .trim()
            .strip_prefix("fl2")
            .ok_or(crate::id::ParseIdError::Char(0))?;
        if hex.len() != 160 || !hex.is_ascii() {
            return Err(crate::id::ParseIdError::Length {
                expected: 163,
                got: s.trim().len(),
            });
        }
        let seed = zeroize::Zeroizing::new(from_hex::<32>(&hex[96..])?);
        Ok(InviteCode {
            genesis: EventId(from_hex::<32>(&hex[..64])?),
            invite: InviteId(from_hex::<16>(&hex[64..96])?),
            secret: SecretKey::from_bytes(&seed),
        })
    }
}

//! Events: the unit of everything, immutable and signed.
//!
//! An event travels as a [`SignedEvent`]: the canonical postcard bytes of an [`Envelope`] plus
//! an ed25519 signature by the envelope's author over `"flotilla/v1 event" ++ id`, where
//! `id = BLAKE3(envelope bytes)` ([`EventId::of`]). Changing any byte changes the id or breaks
//! the signature, so a flipped byte is always detected.
//!
//! The envelope is versioned and carries its payload as opaque bytes tagged by a [`Kind`], so a
//! node stores and forwards kinds it does not know (a newer node's events) without decoding
//! them. Two kinds are defined:
//! - [`Kind::CONTROL`]: a [`Control`] payload in clear: membership, roles, invites, channel
//!   structure. Every member validates these; they form the control DAG through `deps`.
//! - [`Kind::SEALED`]: a [`Sealed`] payload: [`Content`] (posts, edits, reactions, …)
//!   encrypted with the channel's key (see [`crate::keyring`]).
//!
//! Every event names in `deps` the control events (heads of the control DAG) its author had
//! seen: authorization is judged against the membership state of that causal past
//! ([`crate::membership`]).

use serde::{Deserialize, Serialize};

use crate::crypto::{
    CryptoError, NONCE_LEN, PublicKey, SealedBox, SecretKey, Signature, X25519Public,
};
use crate::hlc::Hlc;
use crate::id::{ChannelId, EventId, FileId, FlotillaId, InviteId};
use crate::proof::AdmitProof;

/// The envelope format this code writes.
/// Version 2 added the per-author sequence number (`seq`), invite keypairs and admission
/// proofs, user key proofs, removal cuts and the rotation of private channel keys on removal.
/// Version 3 added the per-author hash chain (`prev`) and the head id in every cut ([`Cut`]).
pub const ENVELOPE_VERSION: u8 = 3;
/// The largest encoded event (envelope + signature) accepted anywhere.
pub const MAX_EVENT_SIZE: usize = 64 * 1024;
/// The longest post text, in characters (Mattermost's limit).
pub const MAX_POST_CHARS: usize = 16_383;
/// The most control-DAG heads an event may name.
pub const MAX_DEPS: usize = 32;
/// The longest name (flotilla, channel, node, username, emoji, file name), in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// The longest position in a user's profile, in characters (Mattermost's limit).
pub const MAX_POSITION_CHARS: usize = 128;
/// The longest channel header or purpose, in characters (Mattermost: 1024 / 250).
pub const MAX_HEADER_CHARS: usize = 1024;
/// The most sealed boxes or members listed in one control event.
pub const MAX_RECIPIENTS: usize = 256;
/// The most file references or mentions in one post.
pub const MAX_REFS: usize = 64;

const SIGNING_DOMAIN: &[u8] = b"flotilla/v1 event";

/// What an envelope's payload is. Unknown kinds are stored and forwarded, never folded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Kind(pub u16);

impl Kind {
    /// A [`Control`] event in clear.
    pub const CONTROL: Kind = Kind(1);
    /// A [`Sealed`] content event.
    pub const SEALED: Kind = Kind(2);
}

/// The signed part of an event, in its canonical field order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// Envelope format version ([`ENVELOPE_VERSION`]).
    pub v: u8,
    /// The flotilla this event belongs to.
    pub flotilla: FlotillaId,
    /// The channel (or [`ChannelId::CONTROL`] for control events).
    pub channel: ChannelId,
    /// The node or user that signed it.
    pub author: PublicKey,
    /// When, by the author's hybrid logical clock.
    pub hlc: Hlc,
    /// The author's sequence number in this flotilla: 1 for its first event, then one more
    /// for each event it signs. A removal records how far it had seen the removed author
    /// (its cut); later numbers are refused whatever their timestamps.
    pub seq: u64,
    /// The id of the author's event numbered `seq - 1` in this flotilla (`None` iff `seq` is
    /// 1): the author's events form a hash chain, so a removal's cut names one history and
    /// a fork of the numbering (a reused or skipped number) never counts after it (§5.3).
    pub prev: Option<EventId>,
    /// The control-DAG heads the author had seen (sorted, deduplicated).
    pub deps: Vec<EventId>,
    /// What `payload` is.
    pub kind: Kind,
    /// The payload: postcard of [`Control`] or [`Sealed`], or opaque for unknown kinds.
    pub payload: Vec<u8>,
}

/// The wire and storage form of an event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct RawEvent {
    envelope: Vec<u8>,
    signature: Signature,
}

/// A decoded event whose signature has been verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedEvent {
    id: EventId,
    envelope: Envelope,
    bytes: Vec<u8>,
}

/// Why an event was refused before any membership check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidEvent {
    /// The encoded event is larger than [`MAX_EVENT_SIZE`].
    #[error("event is {len} bytes, more than the {max} allowed")]
    TooLarge {
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The bytes do not decode, or decode to a non-canonical form.
    #[error("malformed event: {0}")]
    Malformed(&'static str),
    /// An envelope version this node cannot read at all.
    #[error("unsupported envelope version {0}")]
    UnsupportedVersion(u8),
    /// The signature does not verify against the author.
    #[error("signature does not verify: {0}")]
    Signature(#[from] CryptoError),
    /// Too many deps, or deps not sorted and unique.
    #[error("bad deps: {0}")]
    BadDeps(&'static str),
    /// A field breaks a size limit.
    #[error("{field} is {len} long, more than the {max} allowed")]
    FieldTooLong {
        /// Which field.
        field: &'static str,
        /// Its length (characters or items).
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A field has a value that can never be right.
    #[error("invalid {0}")]
    BadField(&'static str),
}

impl SignedEvent {
    /// Signs `envelope` with `key`; the envelope's author must be `key`'s public key.
    ///
    /// # Errors
    /// [`InvalidEvent`] if the envelope breaks a structural rule or the size limit.
    pub fn sign(mut envelope: Envelope, key: &SecretKey) -> Result<Self, InvalidEvent> {
        if envelope.author != key.public() {
            return Err(InvalidEvent::BadField("author (not the signing key)"));
        }
        envelope.deps.sort_unstable();
        envelope.deps.dedup();
        check_envelope(&envelope)?;
        let env_bytes =
            postcard::to_stdvec(&envelope).map_err(|_| InvalidEvent::Malformed("encode"))?;
        let id = EventId::of(&env_bytes);
        let signature = key.sign(&signing_message(&id));
        let bytes = postcard::to_stdvec(&RawEvent {
            envelope: env_bytes,
            signature,
        })
        .map_err(|_| InvalidEvent::Malformed("encode"))?;
        if bytes.len() > MAX_EVENT_SIZE {
            return Err(InvalidEvent::TooLarge {
                len: bytes.len(),
                max: MAX_EVENT_SIZE,
            });
        }
        Ok(SignedEvent {
            id,
            envelope,
            bytes,
        })
    }

    /// Decodes and verifies an event from its wire bytes. Never panics.
    ///
    /// # Errors
    /// [`InvalidEvent`]: too large, malformed, non-canonical, bad signature, bad structure.
    pub fn decode(bytes: &[u8]) -> Result<Self, InvalidEvent> {
        if bytes.len() > MAX_EVENT_SIZE {
            return Err(InvalidEvent::TooLarge {
                len: bytes.len(),
                max: MAX_EVENT_SIZE,
            });
        }
        let (raw, rest): (RawEvent, _) =
            postcard::take_from_bytes(bytes).map_err(|_| InvalidEvent::Malformed("event"))?;
        if !rest.is_empty() {
            return Err(InvalidEvent::Malformed("trailing bytes"));
        }
        let envelope: Envelope = decode_exact(&raw.envelope, "envelope")?;
        if envelope.v != ENVELOPE_VERSION {
            return Err(InvalidEvent::UnsupportedVersion(envelope.v));
        }
        let canonical =
            postcard::to_stdvec(&envelope).map_err(|_| InvalidEvent::Malformed("envelope"))?;
        if canonical != raw.envelope {
            return Err(InvalidEvent::Malformed("non-canonical envelope"));
        }
        let id = EventId::of(&raw.envelope);
        envelope
            .author
            .verify(&signing_message(&id), &raw.signature)?;
        check_envelope(&envelope)?;
        Ok(SignedEvent {
            id,
            envelope,
            bytes: bytes.to_vec(),
        })
    }

    /// Decodes an event this node verified before and stored itself (the store's own
    /// bytes, checked by sled's checksums): the signature and the canonical form are not
    /// checked again. Never use it on bytes from outside the node: [`Self::decode`] is the
    /// only way in.
    ///
    /// # Errors
    /// [`InvalidEvent::Malformed`] if the bytes do not decode.
    pub fn decode_stored(bytes: &[u8]) -> Result<Self, InvalidEvent> {
        let (raw, rest): (RawEvent, _) =
            postcard::take_from_bytes(bytes).map_err(|_| InvalidEvent::Malformed("event"))?;
        if !rest.is_empty() {
            return Err(InvalidEvent::Malformed("trailing bytes"));
        }
        let envelope: Envelope = decode_exact(&raw.envelope, "envelope")?;
        Ok(SignedEvent {
            id: EventId::of(&raw.envelope),
            envelope,
            bytes: bytes.to_vec(),
        })
    }

    /// The id of the event encoded in `bytes`, without decoding the envelope or checking
    /// anything: to match a verdict to bytes that [`Self::decode`] checks elsewhere.
    ///
    /// # Errors
    /// [`InvalidEvent::Malformed`] if the bytes are not an event's outer form.
    pub fn id_of(bytes: &[u8]) -> Result<EventId, InvalidEvent> {
        let (raw, _): (RawEvent, _) =
            postcard::take_from_bytes(bytes).map_err(|_| InvalidEvent::Malformed("event"))?;
        Ok(EventId::of(&raw.envelope))
    }

    /// The event id.
    pub fn id(&self) -> EventId {
        self.id
    }

    /// The signed envelope.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The wire bytes (what [`Self::decode`] takes).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Shorthand for the envelope's author.
    pub fn author(&self) -> PublicKey {
        self.envelope.author
    }

    /// Shorthand for the envelope's timestamp.
    pub fn hlc(&self) -> Hlc {
        self.envelope.hlc
    }

    /// The control payload, if this is a control event of a variant this node knows.
    pub fn control(&self) -> Option<Control> {
        (self.envelope.kind == Kind::CONTROL)
            .then(|| decode_exact(&self.envelope.payload, "control").ok())?
    }

    /// The sealed payload, if this is a content event.
    pub fn sealed(&self) -> Option<Sealed> {
        (self.envelope.kind == Kind::SEALED)
            .then(|| decode_exact(&self.envelope.payload, "sealed").ok())?
    }
}

fn signing_message(id: &EventId) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGNING_DOMAIN.len() + 32);
    m.extend_from_slice(SIGNING_DOMAIN);
    m.extend_from_slice(&id.0);
    m
}

/// Decodes a whole postcard value, refusing trailing bytes.
pub(crate) fn decode_exact<'a, T: Deserialize<'a>>(
    bytes: &'a [u8],
    what: &'static str,
) -> Result<T, InvalidEvent> {
    match postcard::take_from_bytes(bytes) {
        Ok((v, [])) => Ok(v),
        _ => Err(InvalidEvent::Malformed(what)),
    }
}

fn check_envelope(env: &Envelope) -> Result<(), InvalidEvent> {
    if env.deps.len() > MAX_DEPS {
        return Err(InvalidEvent::FieldTooLong {
            field: "deps",
            len: env.deps.len(),
            max: MAX_DEPS,
        });
    }
    if env.deps.windows(2).any(|w| w[0] >= w[1]) {
        return Err(InvalidEvent::BadDeps("not sorted and unique"));
    }
    if env.seq == 0 {
        return Err(InvalidEvent::BadField("seq (zero)"));
    }
    if (env.seq == 1) != env.prev.is_none() {
        return Err(InvalidEvent::BadField("prev (set iff seq > 1)"));
    }
    let is_control_channel = env.channel.is_control();
    match env.kind {
        Kind::CONTROL => {
            if !is_control_channel {
                return Err(InvalidEvent::BadField(
                    "channel (control event outside the control channel)",
                ));
            }
            let control: Control = decode_exact(&env.payload, "control payload")?;
            control.check()?;
            if env.deps.is_empty() != matches!(control, Control::Genesis { .. }) {
                return Err(InvalidEvent::BadDeps("only a genesis has no deps"));
            }
        }
        Kind::SEALED => {
            if is_control_channel {
                return Err(InvalidEvent::BadField(
                    "channel (content in the control channel)",
                ));
            }
            let _: Sealed = decode_exact(&env.payload, "sealed payload")?;
            if env.deps.is_empty() {
                return Err(InvalidEvent::BadDeps("content must name its control deps"));
            }
        }
        _ => {} // unknown kind: stored and forwarded as is
    }
    Ok(())
}

pub(crate) fn check_len(field: &'static str, s: &str, max: usize) -> Result<(), InvalidEvent> {
    let len = s.chars().count();
    if len > max {
        return Err(InvalidEvent::FieldTooLong { field, len, max });
    }
    Ok(())
}

pub(crate) fn check_count<T>(field: &'static str, v: &[T], max: usize) -> Result<(), InvalidEvent> {
    if v.len() > max {
        return Err(InvalidEvent::FieldTooLong {
            field,
            len: v.len(),
            max,
        });
    }
    Ok(())
}

/// A node as it is known to its flotilla.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// The node's ed25519 key (also its libp2p identity).
    pub key: PublicKey,
    /// Where the flotilla's keys are sealed to.
    pub x25519: X25519Public,
    /// A human name (the boat's name).
    pub name: String,
}

/// A user as it is known to its flotilla.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    /// The user's ed25519 key.
    pub key: PublicKey,
    /// Login name, unique per home node (`alice`, shown `alice@Ondine` on clash).
    pub username: String,
    /// The node that holds the user's key.
    pub home: PublicKey,
}

/// Where a removal or a demotion ends an author's history: the last of its events the
/// remover had seen, by number and by id. What counts of the author afterwards is the hash
/// chain that ends at `head` (the head, its `prev`, that one's `prev`, …), nothing else.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Cut {
    /// The author's sequence number at the cut (0: none of its events counts).
    pub seq: u64,
    /// The id of the author's event numbered `seq` (`None` iff `seq` is 0).
    pub head: Option<EventId>,
}

impl Cut {
    /// No event of the author counts.
    pub const NONE: Cut = Cut { seq: 0, head: None };

    fn check(&self) -> Result<(), InvalidEvent> {
        if (self.seq == 0) != self.head.is_none() {
            return Err(InvalidEvent::BadField("cut (head set iff seq > 0)"));
        }
        Ok(())
    }
}

/// A secret sealed to one node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSeal {
    /// The recipient node.
    pub node: PublicKey,
    /// The sealed secret (a postcard [`crate::keyring::KeyBundle`]).
    pub sealed: SealedBox,
}

/// A private channel's new key, sealed to its remaining members' home nodes. Its key id is
/// [`crate::keyring::rotated_key_id`] of the carrying event and the channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelRotation {
    /// The channel.
    pub channel: ChannelId,
    /// The new key, sealed to each remaining member's home node.
    pub seals: Vec<NodeSeal>,
    /// Commitment to the new key.
    pub commit: KeyCommit,
}

/// A commitment to a group key ([`crate::keyring::key_commitment`]), published in clear by
/// the event that introduces the key: a node checks every key it receives against it, so
/// a wrong key under a real key id is detected.
pub type KeyCommit = [u8; 32];

/// A role a user holds in a flotilla.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Role {
    /// Flotilla admin: manages members, roles, invites and channels.
    Admin,
}

/// Control events: membership, roles, invites and channel structure, in clear.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Control {
    /// Creates the flotilla: its first node, its first admin, and epoch key 0.
    Genesis {
        /// The flotilla's name.
        name: String,
        /// The founding node (the author).
        founder: NodeInfo,
        /// The first admin, a user of the founding node.
        admin: UserInfo,
        /// Epoch key 0, sealed to the founder.
        keys: SealedBox,
        /// Commitment to epoch key 0 ([`crate::keyring::key_commitment`]).
        commit: KeyCommit,
    },
    /// Admits a node, by an invite (author: a member node) or directly (author: an admin).
    /// The proof is signed by the node itself and, for an invite, by the invite's secret key
    /// (see [`crate::proof`]); every ledger verifies it.
    NodeAdmit {
        /// The node admitted.
        node: NodeInfo,
        /// The node's (and the invite's) signatures over the admission statement.
        proof: AdmitProof,
        /// Every epoch key so far, sealed to the node.
        keys: SealedBox,
    },
    /// Removes a node and its users; rotates the epoch key for the others, and the key of
    /// every private channel one of its users was in.
    NodeRemove {
        /// The node removed.
        node: PublicKey,
        /// For the node and each of its users: the last event that still counts.
        cuts: Vec<(PublicKey, Cut)>,
        /// The new epoch key sealed to every remaining node.
        rotation: Vec<NodeSeal>,
        /// Commitment to the new epoch key.
        commit: KeyCommit,
        /// New keys of the private channels the removed users were in.
        channels: Vec<ChannelRotation>,
    },
    /// Adds a user of the author node to the flotilla, with the user key's signature over
    /// the binding (so no other node can claim the key).
    UserAdd {
        /// The user.
        user: UserInfo,
        /// The user key's signature over [`crate::proof::user_statement`].
        sig: Signature,
    },
    /// Removes a user; rotates the epoch key for the remaining nodes and the key of every
    /// private channel (DMs included) the user was in.
    UserRemove {
        /// The user removed.
        user: PublicKey,
        /// The last event of the user that still counts.
        cut: Cut,
        /// The new epoch key sealed to every remaining node.
        rotation: Vec<NodeSeal>,
        /// Commitment to the new epoch key.
        commit: KeyCommit,
        /// New keys of the private channels the user was in.
        channels: Vec<ChannelRotation>,
    },
    /// Grants a role to a user.
    RoleGrant {
        /// Who gets it.
        user: PublicKey,
        /// Which role.
        role: Role,
    },
    /// Revokes a role from a user.
    RoleRevoke {
        /// Who loses it.
        user: PublicKey,
        /// Which role.
        role: Role,
        /// The last event of the user whose acts still count with the role.
        cut: Cut,
    },
    /// An admin creates an invite: a keypair whose public half is published here and whose
    /// secret half travels only in the invite code.
    InviteCreate {
        /// The invite's id.
        invite: InviteId,
        /// The invite's public key: admissions carry a signature by its secret key.
        key: PublicKey,
        /// No admission by this invite at or after this time (ms since the Unix epoch).
        expires_ms: Option<u64>,
        /// At most this many admissions.
        max_uses: Option<u32>,
    },
    /// An admin revokes an invite ("regenerate the link").
    InviteRevoke {
        /// The invite revoked.
        invite: InviteId,
    },
    /// Creates a channel. A private channel (or DM) lists its members and carries its own key
    /// sealed to their home nodes; a public channel uses the flotilla epoch key.
    ChannelCreate {
        /// The new channel.
        channel: ChannelId,
        /// Private (members only) or public (every flotilla member).
        private: bool,
        /// Initial members (private channels; the creator must be one).
        members: Vec<PublicKey>,
        /// The channel key sealed to the members' home nodes (private channels).
        keys: Vec<NodeSeal>,
        /// Commitment to the channel key (private channels).
        commit: Option<KeyCommit>,
    },
    /// Adds a user to a channel (private channels: with every channel key sealed to its home node).
    ChannelMemberAdd {
        /// The channel.
        channel: ChannelId,
        /// The user added.
        user: PublicKey,
        /// Every channel key so far, sealed to the user's home node (private channels).
        keys: Vec<NodeSeal>,
    },
    /// Removes a user from a channel (or the user leaves). Private channels rotate their key.
    ChannelMemberRemove {
        /// The channel.
        channel: ChannelId,
        /// The user removed.
        user: PublicKey,
        /// The new channel key sealed to the remaining members' home nodes (private channels).
        rotation: Vec<NodeSeal>,
        /// Commitment to the new channel key (private channels).
        commit: Option<KeyCommit>,
    },
    /// A user's profile (author: the user, and only the user: it names no subject, so
    /// nobody else can sign one for it). The whole profile every time: the last one in the
    /// control order wins. An empty string is "not set".
    Profile {
        /// Nickname (Mattermost's "nickname"), at most [`MAX_NAME_CHARS`] characters.
        display_name: String,
        /// Full name, at most [`MAX_NAME_CHARS`] characters.
        full_name: String,
        /// Position on board ("skipper", "cook"), at most [`MAX_POSITION_CHARS`] characters.
        position: String,
        /// The profile picture: a small square image posted as a file (its
        /// [`Content::FileManifest`] in a default channel, its chunks through the file
        /// service), so it never rides in the control DAG nor over LoRa.
        picture: Option<FileId>,
    },
    /// Switches a channel between public and private (author: its creator or a flotilla
    /// admin; never a default channel). To private: the members (its explicit members and
    /// the author) get a new channel key sealed to their home nodes, used for what is written
    /// from then on; what was written while public stays under the epoch key. To public: no
    /// key (`keys` empty, `commit` none); new posts use the epoch key, and the posts written
    /// while private stay under the channel keys, which nobody new is given.
    ChannelPrivacy {
        /// The channel.
        channel: ChannelId,
        /// True: private from now on; false: public.
        private: bool,
        /// The new channel key sealed to the members' home nodes (to private).
        keys: Vec<NodeSeal>,
        /// Commitment to the new channel key (to private).
        commit: Option<KeyCommit>,
    },
    /// Renames the flotilla (author: an admin; last one in the control order wins).
    FlotillaRename {
        /// The new name.
        name: String,
    },
}

impl Control {
    fn check(&self) -> Result<(), InvalidEvent> {
        match self {
            Control::Genesis {
                name,
                founder,
                admin,
                ..
            } => {
                check_name("flotilla name", name)?;
                check_name("node name", &founder.name)?;
                check_name("username", &admin.username)?;
                if admin.home != founder.key {
                    return Err(InvalidEvent::BadField("admin home (not the founder)"));
                }
            }
            Control::NodeAdmit { node, .. } => check_name("node name", &node.name)?,
            Control::UserAdd { user, .. } => check_name("username", &user.username)?,
            Control::NodeRemove {
                rotation,
                channels,
                cuts,
                ..
            } => {
                check_count("rotation", rotation, MAX_RECIPIENTS)?;
                check_count("cuts", cuts, MAX_RECIPIENTS)?;
                for (_, cut) in cuts {
                    cut.check()?;
                }
                check_rotations(channels)?;
            }
            Control::UserRemove {
                rotation,
                channels,
                cut,
                ..
            } => {
                cut.check()?;
                check_count("rotation", rotation, MAX_RECIPIENTS)?;
                check_rotations(channels)?;
            }
            Control::ChannelCreate {
                members,
                keys,
                private,
                ..
            } => {
                check_count("members", members, MAX_RECIPIENTS)?;
                check_count("keys", keys, MAX_RECIPIENTS)?;
                if !*private && (!members.is_empty() || !keys.is_empty()) {
                    return Err(InvalidEvent::BadField(
                        "public channel with members or keys",
                    ));
                }
            }
            Control::ChannelMemberAdd { keys, .. } => check_count("keys", keys, MAX_RECIPIENTS)?,
            Control::ChannelPrivacy {
                private,
                keys,
                commit,
                ..
            } => {
                check_count("keys", keys, MAX_RECIPIENTS)?;
                if !*private && (!keys.is_empty() || commit.is_some()) {
                    return Err(InvalidEvent::BadField("public channel with keys"));
                }
            }
            Control::ChannelMemberRemove { rotation, .. } => {
                check_count("rotation", rotation, MAX_RECIPIENTS)?
            }
            Control::Profile {
                display_name,
                full_name,
                position,
                ..
            } => {
                check_len("nickname", display_name, MAX_NAME_CHARS)?;
                check_len("full name", full_name, MAX_NAME_CHARS)?;
                check_len("position", position, MAX_POSITION_CHARS)?;
            }
            Control::FlotillaRename { name } => check_name("flotilla name", name)?,
            Control::RoleRevoke { cut, .. } => cut.check()?,
            Control::RoleGrant { .. } => {}
            Control::InviteCreate { max_uses, .. } => {
                if *max_uses == Some(0) {
                    return Err(InvalidEvent::BadField("max_uses (zero)"));
                }
            }
            Control::InviteRevoke { .. } => {}
        }
        Ok(())
    }
}

fn check_rotations(channels: &[ChannelRotation]) -> Result<(), InvalidEvent> {
    check_count("channels", channels, MAX_RECIPIENTS)?;
    for c in channels {
        check_count("channel seals", &c.seals, MAX_RECIPIENTS)?;
    }
    if channels.windows(2).any(|w| w[0].channel >= w[1].channel) {
        return Err(InvalidEvent::BadField("channels (not sorted and unique)"));
    }
    Ok(())
}

fn check_name(field: &'static str, s: &str) -> Result<(), InvalidEvent> {
    if s.trim().is_empty() {
        return Err(InvalidEvent::BadField(field));
    }
    check_len(field, s, MAX_NAME_CHARS)
}

/// An encrypted content payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    /// Which key: the id of the event that introduced it (a genesis or rotation for a
    /// public channel's epoch key; a channel create or member removal for a private one).
    pub key: EventId,
    /// Random 24-byte nonce.
    pub nonce: [u8; NONCE_LEN],
    /// XChaCha20-Poly1305 of the postcard [`Content`].
    pub ciphertext: Vec<u8>,
}

/// What content events say, once decrypted. Unknown variants (from newer nodes) fail to
/// decode and are kept but not shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Content {
    /// Sets a channel's name, header and purpose (last writer wins).
    ChannelInfo {
        /// Short name (`town-square`).
        name: String,
        /// Shown above the timeline.
        header: String,
        /// What the channel is for.
        purpose: String,
    },
    /// Archives (read-only) or unarchives a channel.
    ChannelArchive {
        /// True to archive.
        archived: bool,
    },
    /// A post, or a reply when `root` is set.
    Post {
        /// Markdown text, at most [`MAX_POST_CHARS`] characters.
        text: String,
        /// The thread root, for a reply.
        root: Option<EventId>,
        /// Attached files (their manifests are separate events).
        files: Vec<FileId>,
        /// Users mentioned.
        mentions: Vec<PublicKey>,
    },
    /// Replaces a post's text (its author only).
    Edit {
        /// The post edited.
        target: EventId,
        /// New text.
        text: String,
    },
    /// Deletes a post (its author or an admin). Beats every edit.
    Delete {
        /// The post deleted.
        target: EventId,
    },
    /// Adds the author's reaction.
    ReactionAdd {
        /// The post.
        target: EventId,
        /// Emoji shortcode without colons (`thumbsup`).
        emoji: String,
    },
    /// Removes the author's reaction.
    ReactionRemove {
        /// The post.
        target: EventId,
        /// Emoji shortcode.
        emoji: String,
    },
    /// Pins a post to its channel.
    Pin {
        /// The post.
        target: EventId,
    },
    /// Unpins a post.
    Unpin {
        /// The post.
        target: EventId,
    },
    /// Describes a file: its chunks are fetched by hash from any peer.
    FileManifest {
        /// BLAKE3 of the whole file.
        file: FileId,
        /// File name.
        name: String,
        /// Size in bytes.
        size: u64,
        /// MIME type.
        mime: String,
        /// Chunk size in bytes.
        chunk_size: u32,
        /// BLAKE3 of each chunk, in order.
        chunks: Vec<[u8; 32]>,
    },
    /// A post brought over from another system (a Mattermost bulk export), signed by the
    /// importing node with its author's key: a [`Content::Post`] shown and ordered at its
    /// original time `created_ms` rather than at the event's HLC (which must follow the
    /// control events it depends on, so cannot be in the past).
    ImportedPost {
        /// Markdown text, at most [`MAX_POST_CHARS`] characters.
        text: String,
        /// The thread root, for a reply.
        root: Option<EventId>,
        /// Attached files.
        files: Vec<FileId>,
        /// When it was originally written (ms since the Unix epoch).
        created_ms: u64,
    },
    /// Sets the name shown for a channel instead of its short name (`Centre-Ville` for
    /// `town-square`); empty: the short name. Counts only from the channel's creator or a
    /// flotilla admin (last writer wins).
    ChannelDisplayName {
        /// The display name, at most `MAX_NAME_CHARS` characters.
        display_name: String,
    },
    // --- thread move (moderation) ---
    /// A copy of a post or reply that a flotilla admin moved here from another channel of
    /// the same flotilla, re-sealed with this channel's key: shown under its original
    /// `author` and at its original time `at`. Counts only from an admin; the original's
    /// author and time must match where the original is held.
    MovedPost {
        /// The post it copies (in the source channel).
        original: EventId,
        /// Who wrote the original.
        author: PublicKey,
        /// When the original was written (its timeline position).
        at: Hlc,
        /// The original's text (after its edits), at most [`MAX_POST_CHARS`] characters.
        text: String,
        /// The copy of the thread root, for a reply.
        root: Option<EventId>,
        /// Attached files.
        files: Vec<FileId>,
    },
    /// Left by a flotilla admin in the source channel on the root of a thread it moved: the
    /// thread's replies are hidden there and the root shows where the thread went.
    ThreadMoved {
        /// The root of the moved thread (in this channel).
        root: EventId,
        /// The channel it went to (same flotilla).
        to: ChannelId,
        /// The copy of the root in `to`.
        new_root: EventId,
    },
}

impl Content {
    /// Checks the size limits of decrypted content.
    ///
    /// # Errors
    /// [`InvalidEvent::FieldTooLong`] or [`InvalidEvent::BadField`].
    pub fn check(&self) -> Result<(), InvalidEvent> {
        match self {
            Content::ChannelInfo {
                name,
                header,
                purpose,
            } => {
                check_name("channel name", name)?;
                check_len("header", header, MAX_HEADER_CHARS)?;
                check_len("purpose", purpose, MAX_HEADER_CHARS)
            }
            Content::Post {
                text,
                files,
                mentions,
                ..
            } => {
                check_len("text", text, MAX_POST_CHARS)?;
                check_count("files", files, MAX_REFS)?;
                check_count("mentions", mentions, MAX_REFS)
            }
            Content::ImportedPost { text, files, .. } => {
                check_len("text", text, MAX_POST_CHARS)?;
                check_count("files", files, MAX_REFS)
            }
            Content::Edit { text, .. } => check_len("text", text, MAX_POST_CHARS),
            Content::ReactionAdd { emoji, .. } | Content::ReactionRemove { emoji, .. } => {
                check_name("emoji", emoji)
            }
            Content::FileManifest {
                name,
                mime,
                chunk_size,
                chunks,
                size,
                ..
            } => {
                check_name("file name", name)?;
                check_len("mime", mime, MAX_NAME_CHARS)?;
                let expected = if *chunk_size == 0 {
                    u64::MAX
                } else {
                    size.div_ceil(u64::from(*chunk_size))
                };
                if expected != chunks.len() as u64 {
                    return Err(InvalidEvent::BadField("chunk count"));
                }
                Ok(())
            }
            Content::ChannelDisplayName { display_name } => {
                check_len("display name", display_name, MAX_NAME_CHARS)
            }
            Content::MovedPost { text, files, .. } => {
                check_len("text", text, MAX_POST_CHARS)?;
                check_count("files", files, MAX_REFS)
            }
            Content::ThreadMoved { .. }
            | Content::ChannelArchive { .. }
            | Content::Delete { .. }
            | Content::Pin { .. }
            | Content::Unpin { .. } => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;

//! The group keys a node holds, and content encryption with them.
//!
//! Keys are named by the id of the event that introduced them: the genesis or a member
//! removal for flotilla epoch keys; a channel creation or channel member removal for a
//! private channel's keys; and, for the private channels a removed member was in,
//! [`rotated_key_id`] of the removal and the channel. Control events carry keys sealed to
//! nodes ([`NodeSeal`], [`Control::Genesis`], [`Control::NodeAdmit`]); [`Keyring::absorb`]
//! opens the ones sealed to this node.
//!
//! A key bundle cannot substitute a key: [`Keyring::absorb`] never replaces a key it holds,
//! and takes from each kind of event only what that kind may carry (a creation or a
//! rotation: only its new key; an admission: existing keys; a channel member addition:
//! existing keys). A node that never held a key cannot tell a wrong one from the right
//! one; docs/security.md discusses that limit.
//!
//! Content is encrypted with XChaCha20-Poly1305 under a per-channel key derived with HKDF from
//! the group key (`"flotilla/v1 channel" ++ flotilla ++ channel`), with associated data binding
//! flotilla, channel, key id and author. So a ciphertext cannot be replayed into another
//! channel, flotilla or author's event.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::crypto::{
    CryptoError, NONCE_LEN, PublicKey, SealedBox, SecretKey, SymmetricKey, X25519Public,
};
use crate::entropy::Entropy;
use crate::event::{
    Content, Control, InvalidEvent, KeyCommit, NodeSeal, Sealed, SignedEvent, decode_exact,
};
use crate::id::{ChannelId, EventId, FlotillaId};

/// Keys carried in one sealed box: existing keys by id, and optionally the key this very
/// event introduces (whose id is the carrying event's id, unknown before signing).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct KeyBundle {
    /// Keys that already exist, by the id of the event that introduced each.
    pub existing: Vec<(EventId, SymmetricKey)>,
    /// The key introduced by the event carrying this bundle.
    pub new: Option<SymmetricKey>,
}

/// Why content could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// Not a content event.
    #[error("not a content event")]
    NotContent,
    /// This node does not hold the key (a private channel it is not in, or a newer epoch).
    #[error("no key {0:?}")]
    NoKey(EventId),
    /// Authentication failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// Decrypted, but the content does not decode (a newer kind) or breaks a limit.
    #[error(transparent)]
    Invalid(#[from] InvalidEvent),
}

/// The commitment to a group key published by the event that introduces it.
pub fn key_commitment(key: &SymmetricKey) -> KeyCommit {
    let mut h = blake3::Hasher::new_derive_key("flotilla/v2 key commitment");
    h.update(&key.0);
    *h.finalize().as_bytes()
}

/// The id of the new key of `channel` carried by the removal `event`.
pub fn rotated_key_id(event: &EventId, channel: &ChannelId) -> EventId {
    let mut h = blake3::Hasher::new_derive_key("flotilla/v2 rotated channel key id");
    h.update(&event.0);
    h.update(&channel.0);
    EventId(*h.finalize().as_bytes())
}

/// The context string binding a sealed key bundle to its flotilla.
fn seal_context(flotilla: &FlotillaId) -> Vec<u8> {
    [b"flotilla/v1 keys".as_slice(), &flotilla.0].concat()
}

/// Seals `bundle` to each `(node, x25519)` recipient.
///
/// # Errors
/// [`CryptoError`] (not expected).
pub fn seal_to_nodes(
    flotilla: &FlotillaId,
    bundle: &KeyBundle,
    recipients: &[(PublicKey, X25519Public)],
    rng: &mut impl Entropy,
) -> Result<Vec<NodeSeal>, CryptoError> {
    recipients
        .iter()
        .map(|(node, x)| {
            Ok(NodeSeal {
                node: *node,
                sealed: seal_bundle(flotilla, bundle, x, rng)?,
            })
        })
        .collect()
}

/// Seals `bundle` to one X25519 key.
///
/// # Errors
/// [`CryptoError`] (not expected).
pub fn seal_bundle(
    flotilla: &FlotillaId,
    bundle: &KeyBundle,
    to: &X25519Public,
    rng: &mut impl Entropy,
) -> Result<SealedBox, CryptoError> {
    let bytes =
        zeroize::Zeroizing::new(postcard::to_stdvec(bundle).map_err(|_| CryptoError::Encrypt)?);
    SealedBox::seal(to, &bytes, &seal_context(flotilla), rng)
}

/// The nonce of an author's content event numbered `seq`: derived, not random, so that a LoRa
/// frame need not carry it (docs/protocol.md §6.2). XChaCha20-Poly1305 asks only that a nonce
/// never repeat under one key: the key id, channel and author are in the derivation, and an
/// author numbers its events once each (a hash chain, §5.3); a node stores an event before it
/// leaves the node, so a number is never reused for other content after a crash.
pub fn content_nonce(
    flotilla: &FlotillaId,
    channel: &ChannelId,
    key_id: &EventId,
    author: &PublicKey,
    seq: u64,
) -> [u8; NONCE_LEN] {
    let mut h = blake3::Hasher::new_derive_key("flotilla/v3 content nonce");
    h.update(&flotilla.0);
    h.update(&channel.0);
    h.update(&key_id.0);
    h.update(&author.0);
    h.update(&seq.to_le_bytes());
    let mut nonce = [0u8; NONCE_LEN];
    h.finalize_xof().fill(&mut nonce);
    nonce
}

/// How many derived channel keys a [`Keyring`] keeps (HKDF once per key, flotilla and
/// channel rather than once per event); past it the cache is emptied and refills.
pub const MAX_DERIVED_KEYS: usize = 1024;

/// Which derived channel key: group key id, flotilla, channel.
type DerivedName = (EventId, FlotillaId, ChannelId);

/// The group keys one node holds, by key id.
#[derive(Debug, Default)]
pub struct Keyring {
    keys: BTreeMap<EventId, SymmetricKey>,
    /// Channel keys derived from `keys` (a key id never changes its key, so they never go
    /// stale), at most [`MAX_DERIVED_KEYS`].
    derived: Mutex<BTreeMap<DerivedName, SymmetricKey>>,
}

impl Clone for Keyring {
    /// Clones the keys; the clone derives its channel keys again.
    fn clone(&self) -> Self {
        Keyring {
            keys: self.keys.clone(),
            derived: Mutex::default(),
        }
    }
}

impl Keyring {
    /// An empty keyring.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key (a key id already held keeps its key).
    pub fn insert(&mut self, id: EventId, key: SymmetricKey) {
        self.keys.entry(id).or_insert(key);
    }

    /// The key with this id.
    pub fn get(&self, id: &EventId) -> Option<&SymmetricKey> {
        self.keys.get(id)
    }

    /// Does the keyring hold this key?
    pub fn contains(&self, id: &EventId) -> bool {
        self.keys.contains_key(id)
    }

    /// How many keys are held.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Is it empty?
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// A bundle of the keys with these ids that this keyring holds.
    pub fn bundle(&self, ids: &[EventId], new: Option<SymmetricKey>) -> KeyBundle {
        let existing = ids
            .iter()
            .filter_map(|id| self.keys.get(id).map(|k| (*id, k.clone())))
            .collect();
        KeyBundle { existing, new }
    }

    /// Opens every key in `event` sealed to `node` (this node's secret key) and keeps the new
    /// ones: a key id already held is never replaced, and only what the event's kind may
    /// carry is taken. Returns how many keys were added. Boxes for other nodes are ignored;
    /// a box for this node that does not open is ignored too.
    pub fn absorb(&mut self, event: &SignedEvent, node: &SecretKey) -> usize {
        self.absorb_inner(event, node, None)
    }

    /// [`Self::absorb`], also checking every existing key an admission or a channel member
    /// addition carries against the commitment its introducing event published (`commits`,
    /// from [`crate::membership::AuthState::key_commits`]): a wrong key is dropped.
    pub fn absorb_checked(
        &mut self,
        event: &SignedEvent,
        node: &SecretKey,
        commits: &BTreeMap<EventId, KeyCommit>,
    ) -> usize {
        self.absorb_inner(event, node, Some(commits))
    }

    fn absorb_inner(
        &mut self,
        event: &SignedEvent,
        node: &SecretKey,
        commits: Option<&BTreeMap<EventId, KeyCommit>>,
    ) -> usize {
        let Some(control) = event.control() else {
            return 0;
        };
        let me = node.public();
        let id = event.id();
        let mine = |seals: &[NodeSeal]| -> Vec<SealedBox> {
            seals
                .iter()
                .filter(|s| s.node == me)
                .map(|s| s.sealed.clone())
                .collect()
        };
        // (box, may carry existing keys, the new key it may carry: its id and commitment)
        type Slot = (SealedBox, bool, Option<(EventId, Option<KeyCommit>)>);
        let boxes: Vec<Slot> = match &control {
            Control::Genesis {
                founder,
                keys,
                commit,
                ..
            } if founder.key == me => vec![(keys.clone(), false, Some((id, Some(*commit))))],
            Control::NodeAdmit { node: n, keys, .. } if n.key == me => {
                vec![(keys.clone(), true, None)]
            }
            Control::NodeRemove {
                rotation,
                channels,
                commit,
                ..
            }
            | Control::UserRemove {
                rotation,
                channels,
                commit,
                ..
            } => {
                let mut v: Vec<Slot> = mine(rotation)
                    .into_iter()
                    .map(|b| (b, false, Some((id, Some(*commit)))))
                    .collect();
                for c in channels {
                    let key_id = rotated_key_id(&id, &c.channel);
                    v.extend(
                        mine(&c.seals)
                            .into_iter()
                            .map(|b| (b, false, Some((key_id, Some(c.commit))))),
                    );
                }
                v
            }
            Control::ChannelMemberRemove {
                rotation, commit, ..
            }
            | Control::ChannelCreate {
                keys: rotation,
                commit,
                ..
            }
            | Control::ChannelPrivacy {
                keys: rotation,
                commit,
                ..
            } => mine(rotation)
                .into_iter()
                .map(|b| (b, false, Some((id, *commit))))
                .collect(),
            Control::ChannelMemberAdd { keys, .. } => {
                mine(keys).into_iter().map(|b| (b, true, None)).collect()
            }
            _ => vec![],
        };
        let flotilla = event.envelope().flotilla;
        let before = self.keys.len();
        for (b, existing_ok, new) in boxes {
            let Ok(plain) = node
                .open(&b, &seal_context(&flotilla))
                .map(zeroize::Zeroizing::new)
            else {
                continue;
            };
            let Ok(bundle) = decode_exact::<KeyBundle>(&plain, "key bundle") else {
                continue;
            };
            if existing_ok {
                for (id, key) in bundle.existing {
                    let committed = commits.is_none_or(|c| {
                        c.get(&id).is_some_and(|want| *want == key_commitment(&key))
                    });
                    if committed {
                        self.keys.entry(id).or_insert(key);
                    }
                }
            }
            if let (Some(key), Some((new_id, commit))) = (bundle.new, new)
                && commit.is_none_or(|c| c == key_commitment(&key))
            {
                self.keys.entry(new_id).or_insert(key);
            }
        }
        self.keys.len() - before
    }

    /// The sealed bundle of the keys with these ids that this keyring holds, for a node
    /// that lacks them (the rekey exchange, [`crate::wire::PeerMsg::Keys`]).
    ///
    /// # Errors
    /// [`CryptoError`] (not expected).
    pub fn seal_existing(
        &self,
        flotilla: &FlotillaId,
        ids: &[EventId],
        to: &X25519Public,
        rng: &mut impl Entropy,
    ) -> Result<Option<SealedBox>, CryptoError> {
        let bundle = self.bundle(ids, None);
        if bundle.existing.is_empty() {
            return Ok(None);
        }
        seal_bundle(flotilla, &bundle, to, rng).map(Some)
    }

    /// Opens a bundle sealed to `node` by [`Self::seal_existing`] and keeps each key that
    /// `accept` allows (the caller checks entitlement and the published commitment); never
    /// replaces a key held. Returns how many keys were added.
    pub fn absorb_sealed(
        &mut self,
        flotilla: &FlotillaId,
        sealed: &SealedBox,
        node: &SecretKey,
        accept: impl Fn(&EventId, &SymmetricKey) -> bool,
    ) -> usize {
        let Ok(plain) = node
            .open(sealed, &seal_context(flotilla))
            .map(zeroize::Zeroizing::new)
        else {
            return 0;
        };
        let Ok(bundle) = decode_exact::<KeyBundle>(&plain, "key bundle") else {
            return 0;
        };
        let before = self.keys.len();
        for (id, key) in bundle.existing {
            if accept(&id, &key) {
                self.keys.entry(id).or_insert(key);
            }
        }
        self.keys.len() - before
    }

    /// Encrypts `content` for `channel` with the key `key_id`, for an event by `author`.
    ///
    /// # Errors
    /// [`OpenError::NoKey`], or [`OpenError::Invalid`] if the content breaks a limit.
    pub fn seal_content(
        &self,
        flotilla: &FlotillaId,
        channel: &ChannelId,
        key_id: EventId,
        author: &PublicKey,
        content: &Content,
        rng: &mut impl Entropy,
    ) -> Result<Sealed, OpenError> {
        self.seal_content_with(flotilla, channel, key_id, author, content, rng.array())
    }

    /// Encrypts a content event with a given nonce: [`content_nonce`] for the author's next
    /// event (what [`crate::author`] does), or the nonce a LoRa frame carried.
    ///
    /// # Errors
    /// [`OpenError`]: no key for the channel, or content over a limit.
    pub fn seal_content_with(
        &self,
        flotilla: &FlotillaId,
        channel: &ChannelId,
        key_id: EventId,
        author: &PublicKey,
        content: &Content,
        nonce: [u8; NONCE_LEN],
    ) -> Result<Sealed, OpenError> {
        content.check()?;
        let key = self.content_key(flotilla, channel, &key_id)?;
        let plain = zeroize::Zeroizing::new(
            postcard::to_stdvec(content).map_err(|_| InvalidEvent::Malformed("content"))?,
        );
        let ciphertext = key.encrypt(
            &nonce,
            &plain,
            &content_aad(flotilla, channel, &key_id, author),
        )?;
        Ok(Sealed {
            key: key_id,
            nonce,
            ciphertext,
        })
    }

    /// Decrypts a content event.
    ///
    /// # Errors
    /// [`OpenError`]: not content, no key, tampered, or undecodable content.
    pub fn open_content(&self, event: &SignedEvent) -> Result<Content, OpenError> {
        let sealed = event.sealed().ok_or(OpenError::NotContent)?;
        let env = event.envelope();
        let key = self.content_key(&env.flotilla, &env.channel, &sealed.key)?;
        let aad = content_aad(&env.flotilla, &env.channel, &sealed.key, &env.author);
        let plain =
            zeroize::Zeroizing::new(key.decrypt(&sealed.nonce, &sealed.ciphertext, &aad)?);
        let content: Content = decode_exact(&plain, "content")?;
        content.check()?;
        Ok(content)
    }

    fn content_key(
        &self,
        flotilla: &FlotillaId,
        channel: &ChannelId,
        key_id: &EventId,
    ) -> Result<SymmetricKey, OpenError> {
        let group = self.keys.get(key_id).ok_or(OpenError::NoKey(*key_id))?;
        let name = (*key_id, *flotilla, *channel);
        // A poisoned lock only means another thread panicked mid-insert: the map is whole.
        let mut derived = self.derived.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(key) = derived.get(&name) {
            return Ok(key.clone());
        }
        let key =
            group.derive(&[b"flotilla/v1 channel".as_slice(), &flotilla.0, &channel.0].concat());
        if derived.len() >= MAX_DERIVED_KEYS {
            derived.clear();
        }
        derived.insert(name, key.clone());
        Ok(key)
    }
}

fn content_aad(
    flotilla: &FlotillaId,
    channel: &ChannelId,
    key_id: &EventId,
    author: &PublicKey,
) -> Vec<u8> {
    [
        b"flotilla/v1 content".as_slice(),
        &flotilla.0,
        &channel.0,
        &key_id.0,
        &author.0,
    ]
    .concat()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::author::{self, Ctx};
    use crate::entropy::SeededEntropy;
    use crate::event::NodeInfo;
    use crate::hlc::Clock;
    use crate::proof::prove_admission;

    /// An admitter that seals a wrong key under the real epoch id: the joiner's checked
    /// absorb drops it (the genesis published the right key's commitment).
    #[test]
    fn a_wrong_key_under_a_real_id_is_detected() {
        let mut rng = SeededEntropy::new(3);
        let (n0, alice, joiner) = (
            SecretKey::generate(&mut rng),
            SecretKey::generate(&mut rng),
            SecretKey::generate(&mut rng),
        );
        let mut clock = Clock::new();
        let mut f = author::found(&n0, "Ondine", &alice, "alice", "R", &mut clock, 1, &mut rng)
            .expect("found");
        let epoch = f.ledger.state().epoch().expect("epoch");
        let mut rogue = Keyring::new();
        rogue.insert(epoch, SymmetricKey([9; 32]));
        let info = NodeInfo {
            key: joiner.public(),
            x25519: joiner.x25519_public(),
            name: "J".into(),
        };
        let proof = prove_admission(&f.genesis, None, &joiner, &info);
        let mut ctx = Ctx {
            ledger: &mut f.ledger,
            keyring: &rogue,
            clock: &mut clock,
            now_ms: 10,
            rng: &mut rng,
        };
        let admit = ctx.admit(&alice, info, proof).expect("admit");
        let commits = f.ledger.state().key_commits.clone();
        let mut checked = Keyring::new();
        assert_eq!(checked.absorb_checked(&admit, &joiner, &commits), 0);
        let mut unchecked = Keyring::new();
        assert_eq!(
            unchecked.absorb(&admit, &joiner),
            1,
            "the bundle did carry it"
        );
        // The right key passes the same check.
        let right = f.keyring.get(&epoch).cloned().expect("founder's key");
        assert_eq!(commits.get(&epoch), Some(&key_commitment(&right)));
    }
}

//! The compact transcoding of a signed event, and the [`Lookup`] it resolves against.
//!
//! ```text
//! form:u8          0 content in clear, 1 content ciphertext, 2 control, 3 whole event;
//!                  + 0x10 when the nonce is the derived one (`keyring::content_nonce`)
//! id:4             prefix of the event id (asks for the whole event if rebuilding fails)
//! form 3:          varint length, the event's wire bytes; nothing else
//! author:2         prefix of the author's key
//! channel:2        prefix of the channel id (forms 0 and 1)
//! deps:u8, n × 4   prefixes of the control deps (sorted)
//! hlc:             zigzag varint (ms − max ms of the deps), varint logical
//! seq:             varint, the author's sequence number
//! prev:32          the id of the author's previous event (only when seq > 1)
//! key:2, nonce:24  prefix of the content key id, the AEAD nonce (forms 0 and 1; no nonce
//!                  when the form says it is derived: the receiver derives it again)
//! form 0:          compact content (below)
//! form 1:          varint length, ciphertext
//! form 2:          varint length, postcard of the control payload
//! signature:64
//! ```
//! Compact content: `tag:u8` then, by tag (low 4 bits): 0 post (high bits: 1 root, 2 files,
//! 4 mentions; then root prefix:4, files n:u8 × 32, mentions n:u8 × 2, text), 1 edit (target:4,
//! text), 2 delete, 5 pin, 6 unpin (target:4), 3 reaction add, 4 reaction remove (target:4,
//! emoji as text), 15 anything else (varint length, postcard). Text is [`super::text`].
//!
//! The receiver resolves each prefix among what it holds (members, channels, control events,
//! keys, the channel's events), re-encrypts form 0 with the same key and nonce, rebuilds the
//! canonical envelope and verifies the signature; when a prefix matches several candidates it
//! tries each combination (at most [`MAX_COMBINATIONS`]). A wrong guess cannot pass: the
//! signature covers the whole envelope.

use serde::Serialize;

use crate::crypto::{NONCE_LEN, PublicKey, Signature};
use crate::event::{Content, ENVELOPE_VERSION, Envelope, Kind, SignedEvent};
use crate::hlc::Hlc;
use crate::id::{ChannelId, EventId, FileId, FlotillaId};
use crate::keyring::{Keyring, content_nonce};
use crate::store::Item;

use super::LoraError;
use super::bytes::{Reader, Writer};
use super::frame::RadioKey;
use super::message::IdPrefix;
use super::queue::Priority;
use super::text;

/// Bytes of an author key prefix.
pub const AUTHOR_PREFIX: usize = 2;
/// Bytes of a channel id prefix.
pub const CHANNEL_PREFIX: usize = 2;
/// Bytes of a content key id prefix.
pub const KEY_PREFIX: usize = 2;
/// Bytes of an event id prefix (deps, roots, targets, the event itself).
pub const EVENT_PREFIX: usize = 4;
/// The most candidate combinations tried when prefixes are ambiguous.
pub const MAX_COMBINATIONS: usize = 16;

const FORM_PLAIN: u8 = 0;
/// Set on the form byte when the nonce is left out because it is the derived one.
const NONCE_DERIVED: u8 = 0x10;
const FORM_CIPHER: u8 = 1;
const FORM_CONTROL: u8 = 2;
const FORM_WHOLE: u8 = 3;

/// What the bridge needs from the node: keys, members and stored events of the flotillas
/// allowed on the radio.
pub trait Lookup {
    /// The radio keys of every flotilla allowed on the radio (one per epoch key held), the
    /// current epoch's first for each flotilla.
    fn radio_keys(&self) -> Vec<RadioKey>;
    /// Keys of the flotilla's nodes and users (authors and mentions).
    fn members(&self, flotilla: &FlotillaId) -> Vec<PublicKey>;
    /// The flotilla's channels (the control channel excluded).
    fn channels(&self, flotilla: &FlotillaId) -> Vec<ChannelId>;
    /// Ids of the flotilla's content keys (epoch keys and private channel keys).
    fn key_ids(&self, flotilla: &FlotillaId) -> Vec<EventId>;
    /// The keys this node holds.
    fn keyring(&self, flotilla: &FlotillaId) -> Option<&Keyring>;
    /// The stored items of a channel (the control channel included), oldest first.
    fn items(&self, flotilla: &FlotillaId, channel: &ChannelId) -> Vec<Item>;
    /// A stored event.
    fn event(&self, id: &EventId) -> Option<SignedEvent>;
    /// Is this channel a DM or group DM?
    fn is_dm(&self, flotilla: &FlotillaId, channel: &ChannelId) -> bool;
}

/// The first bytes of an event id.
pub fn id_prefix(id: &EventId) -> IdPrefix {
    let mut p = [0u8; EVENT_PREFIX];
    p.copy_from_slice(&id.0[..EVENT_PREFIX]);
    p
}

/// The event id prefix a compact event carries, if it has one.
pub fn peek_id(bytes: &[u8]) -> Option<IdPrefix> {
    bytes.get(1..1 + EVENT_PREFIX)?.try_into().ok()
}

/// Ids of a flotilla's stored events (any channel) that start with `prefix`.
pub fn find_events(lookup: &impl Lookup, flotilla: &FlotillaId, prefix: &[u8]) -> Vec<EventId> {
    let mut channels = lookup.channels(flotilla);
    channels.push(ChannelId::CONTROL);
    channels
        .iter()
        .flat_map(|c| lookup.items(flotilla, c))
        .map(|(_, id)| id)
        .filter(|id| id.0.starts_with(prefix))
        .collect()
}

/// How urgent an event is on air, and whether it may cross at all (`None`: file manifests
/// and other kinds that stay off the air).
pub fn classify(event: &SignedEvent, lookup: &impl Lookup) -> Option<Priority> {
    let env = event.envelope();
    match env.kind {
        Kind::CONTROL => return Some(Priority::Post),
        Kind::SEALED => {}
        _ => return None,
    }
    let dm = lookup.is_dm(&env.flotilla, &env.channel);
    let content = lookup
        .keyring(&env.flotilla)
        .and_then(|k| k.open_content(event).ok());
    Some(match content {
        Some(Content::FileManifest { .. }) => return None,
        Some(Content::Post { mentions, .. }) if dm || !mentions.is_empty() => Priority::Urgent,
        Some(Content::Post { .. } | Content::Delete { .. }) => Priority::Post,
        Some(_) => Priority::Minor,
        None if dm => Priority::Urgent,
        None => Priority::Post,
    })
}

/// Writes `event` compactly (or whole, when `whole` or when it cannot be made compact).
///
/// # Errors
/// [`LoraError::Invalid`] if the event cannot be encoded at all.
pub fn encode(
    event: &SignedEvent,
    lookup: &impl Lookup,
    whole: bool,
) -> Result<Vec<u8>, LoraError> {
    if !whole && let Some(bytes) = encode_compact(event, lookup) {
        return Ok(bytes);
    }
    let mut w = Writer::default();
    w.u8(FORM_WHOLE);
    w.raw(&id_prefix(&event.id()));
    w.bytes(event.bytes());
    Ok(w.buf)
}

fn encode_compact(event: &SignedEvent, lookup: &impl Lookup) -> Option<Vec<u8>> {
    let env = event.envelope();
    let sealed = event.sealed();
    let plain = match env.kind {
        Kind::SEALED => lookup
            .keyring(&env.flotilla)
            .and_then(|k| k.open_content(event).ok()),
        Kind::CONTROL => None,
        _ => return None,
    };
    let form = match (env.kind, &plain) {
        (Kind::CONTROL, _) => FORM_CONTROL,
        (_, Some(_)) => FORM_PLAIN,
        _ => FORM_CIPHER,
    };
    let mut base = 0u64;
    for dep in &env.deps {
        base = base.max(lookup.event(dep)?.hlc().ms);
    }
    let derived = sealed.as_ref().is_some_and(|s| {
        s.nonce == content_nonce(&env.flotilla, &env.channel, &s.key, &env.author, env.seq)
    });
    let mut w = Writer::default();
    w.u8(if derived { form | NONCE_DERIVED } else { form });
    w.raw(&id_prefix(&event.id()));
    w.raw(&env.author.0[..AUTHOR_PREFIX]);
    if form != FORM_CONTROL {
        w.raw(&env.channel.0[..CHANNEL_PREFIX]);
    }
    w.u8(u8::try_from(env.deps.len()).ok()?);
    for dep in &env.deps {
        w.raw(&dep.0[..EVENT_PREFIX]);
    }
    w.zigzag(env.hlc.ms as i64 - base as i64);
    w.varint(u64::from(env.hlc.logical));
    w.varint(env.seq);
    if let Some(prev) = &env.prev {
        w.raw(&prev.0);
    }
    match (form, sealed, plain) {
        (FORM_CONTROL, _, _) => w.bytes(&env.payload),
        (_, Some(s), Some(content)) => {
            w.raw(&s.key.0[..KEY_PREFIX]);
            if !derived {
                w.raw(&s.nonce);
            }
            encode_content(&content, &mut w)?;
        }
        (_, Some(s), None) => {
            w.raw(&s.key.0[..KEY_PREFIX]);
            if !derived {
                w.raw(&s.nonce);
            }
            w.bytes(&s.ciphertext);
        }
        _ => return None,
    }
    w.raw(&signature_of(event)?.0);
    Some(w.buf)
}

/// The signature: the last 64 bytes of the wire form (postcard writes it last, as bytes).
fn signature_of(event: &SignedEvent) -> Option<Signature> {
    let bytes = event.bytes();
    let sig: [u8; 64] = bytes.get(bytes.len().checked_sub(64)?..)?.try_into().ok()?;
    Some(Signature(sig))
}

fn encode_content(content: &Content, w: &mut Writer) -> Option<()> {
    match content {
        Content::Post {
            text,
            root,
            files,
            mentions,
        } => {
            let flags = u8::from(root.is_some())
                | (u8::from(!files.is_empty()) << 1)
                | (u8::from(!mentions.is_empty()) << 2);
            w.u8(flags << 4);
            if let Some(root) = root {
                w.raw(&root.0[..EVENT_PREFIX]);
            }
            if !files.is_empty() {
                w.u8(u8::try_from(files.len()).ok()?);
                files.iter().for_each(|f| w.raw(&f.0));
            }
            if !mentions.is_empty() {
                w.u8(u8::try_from(mentions.len()).ok()?);
                mentions.iter().for_each(|m| w.raw(&m.0[..AUTHOR_PREFIX]));
            }
            text::encode(text, w);
        }
        Content::Edit { target, text } => {
            w.u8(1);
            w.raw(&target.0[..EVENT_PREFIX]);
            text::encode(text, w);
        }
        Content::Delete { target } | Content::Pin { target } | Content::Unpin { target } => {
            w.u8(match content {
                Content::Delete { .. } => 2,
                Content::Pin { .. } => 5,
                _ => 6,
            });
            w.raw(&target.0[..EVENT_PREFIX]);
        }
        Content::ReactionAdd { target, emoji } | Content::ReactionRemove { target, emoji } => {
            w.u8(if matches!(content, Content::ReactionAdd { .. }) {
                3
            } else {
                4
            });
            w.raw(&target.0[..EVENT_PREFIX]);
            text::encode(emoji, w);
        }
        other => {
            w.u8(15);
            w.bytes(&postcard::to_stdvec(other).ok()?);
        }
    }
    Some(())
}

/// A compact content whose references are still prefixes.
#[derive(Debug)]
enum Draft {
    Post {
        text: String,
        root: Option<IdPrefix>,
        files: Vec<FileId>,
        mentions: Vec<[u8; AUTHOR_PREFIX]>,
    },
    Targeted {
        tag: u8,
        target: IdPrefix,
        text: String,
    },
    Other(Content),
}

fn decode_content(r: &mut Reader<'_>) -> Result<Draft, LoraError> {
    let head = r.u8("content tag")?;
    Ok(match head & 0x0f {
        0 => {
            let flags = head >> 4;
            let root = if flags & 1 != 0 {
                Some(r.array("root")?)
            } else {
                None
            };
            let mut files = Vec::new();
            if flags & 2 != 0 {
                for _ in 0..r.u8("files")? {
                    files.push(FileId(r.array("file")?));
                }
            }
            let mut mentions = Vec::new();
            if flags & 4 != 0 {
                for _ in 0..r.u8("mentions")? {
                    mentions.push(r.array("mention")?);
                }
            }
            Draft::Post {
                text: text::decode(r)?,
                root,
                files,
                mentions,
            }
        }
        tag @ (1 | 3 | 4) => Draft::Targeted {
            tag,
            target: r.array("target")?,
            text: text::decode(r)?,
        },
        tag @ (2 | 5 | 6) => Draft::Targeted {
            tag,
            target: r.array("target")?,
            text: String::new(),
        },
        15 => {
            let bytes = r.bytes(crate::event::MAX_EVENT_SIZE, "content")?;
            Draft::Other(postcard::from_bytes(bytes).map_err(|_| LoraError::Invalid("content"))?)
        }
        _ => return Err(LoraError::Invalid("content tag")),
    })
}

/// The payload of a compact event, before resolution.
#[derive(Debug)]
enum Body {
    Plain(Draft),
    Cipher(Vec<u8>),
    Control(Vec<u8>),
}

#[derive(Serialize)]
struct RawMirror {
    envelope: Vec<u8>,
    signature: Signature,
}

/// Rebuilds and verifies the event a compact form describes, for `flotilla` (the flotilla
/// whose radio key opened the frame).
///
/// # Errors
/// [`LoraError::Unresolved`] if a reference is unknown here, [`LoraError::Invalid`] or
/// [`LoraError::Truncated`] on malformed bytes.
pub fn decode(
    flotilla: &FlotillaId,
    bytes: &[u8],
    lookup: &impl Lookup,
) -> Result<SignedEvent, LoraError> {
    let mut r = Reader::new(bytes);
    let form_byte = r.u8("form")?;
    let derived = form_byte & NONCE_DERIVED != 0;
    let form = form_byte & !NONCE_DERIVED;
    let want: IdPrefix = r.array("id")?;
    if form == FORM_WHOLE {
        let raw = r.bytes(crate::event::MAX_EVENT_SIZE, "event")?;
        let event = SignedEvent::decode(raw).map_err(|_| LoraError::Invalid("whole event"))?;
        if event.envelope().flotilla != *flotilla {
            return Err(LoraError::Invalid("flotilla"));
        }
        return Ok(event);
    }
    if form > FORM_CONTROL || (derived && form == FORM_CONTROL) {
        return Err(LoraError::Invalid("form"));
    }
    let author: [u8; AUTHOR_PREFIX] = r.array("author")?;
    let channel: Option<[u8; CHANNEL_PREFIX]> = if form == FORM_CONTROL {
        None
    } else {
        Some(r.array("channel")?)
    };
    let ndeps = usize::from(r.u8("deps")?);
    if ndeps > crate::event::MAX_DEPS {
        return Err(LoraError::Invalid("deps"));
    }
    let deps: Vec<IdPrefix> = (0..ndeps)
        .map(|_| r.array("dep"))
        .collect::<Result<_, _>>()?;
    let delta = r.zigzag("hlc")?;
    let logical = u32::try_from(r.varint("hlc logical")?).map_err(|_| LoraError::Invalid("hlc"))?;
    let seq = r.varint("seq")?;
    let prev = if seq > 1 {
        Some(EventId(r.array("prev")?))
    } else {
        None
    };
    let (key, nonce): (_, Option<[u8; NONCE_LEN]>) = if form == FORM_CONTROL {
        (None, None)
    } else if derived {
        (Some(r.array::<KEY_PREFIX>("key")?), None)
    } else {
        (Some(r.array::<KEY_PREFIX>("key")?), Some(r.array("nonce")?))
    };
    let body = match form {
        FORM_PLAIN => Body::Plain(decode_content(&mut r)?),
        FORM_CIPHER => Body::Cipher(
            r.bytes(crate::event::MAX_EVENT_SIZE, "ciphertext")?
                .to_vec(),
        ),
        _ => Body::Control(r.bytes(crate::event::MAX_EVENT_SIZE, "control")?.to_vec()),
    };
    let signature = Signature(r.array("signature")?);
    if !r.is_empty() {
        return Err(LoraError::Invalid("trailing bytes"));
    }

    // Candidates for every reference.
    let authors: Vec<PublicKey> = lookup
        .members(flotilla)
        .into_iter()
        .filter(|k| k.0.starts_with(&author))
        .collect();
    let channels: Vec<ChannelId> = match channel {
        None => vec![ChannelId::CONTROL],
        Some(p) => lookup
            .channels(flotilla)
            .into_iter()
            .filter(|c| c.0.starts_with(&p))
            .collect(),
    };
    let keys: Vec<Option<EventId>> = match key {
        None => vec![None],
        Some(p) => lookup
            .key_ids(flotilla)
            .into_iter()
            .filter(|k| k.0.starts_with(&p))
            .map(Some)
            .collect(),
    };
    let control: Vec<EventId> = lookup
        .items(flotilla, &ChannelId::CONTROL)
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    let dep_sets: Vec<Vec<EventId>> = deps
        .iter()
        .map(|p| {
            control
                .iter()
                .filter(|id| id.0.starts_with(p))
                .copied()
                .collect()
        })
        .collect();
    let mut dims = vec![authors.len(), channels.len(), keys.len()];
    dims.extend(dep_sets.iter().map(Vec::len));
    if dims.contains(&0) {
        return Err(LoraError::Unresolved("author, channel, key or dep"));
    }
    let combos = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    if combos.is_none_or(|c| c > MAX_COMBINATIONS) {
        return Err(LoraError::Unresolved("too many candidates"));
    }
    let mut last_err = LoraError::Unresolved("signature");
    for combo in 0..combos.unwrap_or(0) {
        let mut pick = Vec::with_capacity(dims.len());
        let mut rest = combo;
        for d in &dims {
            pick.push(rest % d);
            rest /= d;
        }
        let dep_ids: Vec<EventId> = dep_sets
            .iter()
            .zip(&pick[3..])
            .map(|(s, &i)| s[i])
            .collect();
        let mut base = 0u64;
        for dep in &dep_ids {
            base = base.max(lookup.event(dep).map_or(0, |e| e.hlc().ms));
        }
        let ms = u64::try_from(base as i64 + delta).map_err(|_| LoraError::Invalid("hlc"))?;
        let (author, channel, key) = (authors[pick[0]], channels[pick[1]], keys[pick[2]]);
        // Derived nonces depend on the picks; a control event has none.
        let nonce = match (nonce, key) {
            (Some(n), _) => n,
            (None, Some(k)) => content_nonce(flotilla, &channel, &k, &author, seq),
            (None, None) => [0u8; NONCE_LEN],
        };
        let parts = Parts {
            flotilla: *flotilla,
            author,
            channel,
            key,
            hlc: Hlc { ms, logical },
            seq,
            prev,
            deps: dep_ids,
            nonce,
        };
        match build(&parts, &body, &signature, lookup) {
            Ok(event) if id_prefix(&event.id()) == want => return Ok(event),
            Ok(_) => last_err = LoraError::Invalid("id prefix"),
            Err(e) => last_err = e,
        }
    }
    Err(last_err)
}

/// One resolved combination of references.
struct Parts {
    flotilla: FlotillaId,
    author: PublicKey,
    channel: ChannelId,
    key: Option<EventId>,
    hlc: Hlc,
    seq: u64,
    prev: Option<EventId>,
    deps: Vec<EventId>,
    nonce: [u8; NONCE_LEN],
}

fn build(
    p: &Parts,
    body: &Body,
    signature: &Signature,
    lookup: &impl Lookup,
) -> Result<SignedEvent, LoraError> {
    let (kind, payload) = match body {
        Body::Control(payload) => (Kind::CONTROL, payload.clone()),
        Body::Cipher(ciphertext) => (Kind::SEALED, sealed_payload(p, ciphertext.clone())?),
        Body::Plain(draft) => {
            let content = resolve_content(draft, p, lookup)?;
            let key = p.key.ok_or(LoraError::Invalid("key"))?;
            let keyring = lookup
                .keyring(&p.flotilla)
                .ok_or(LoraError::Unresolved("keyring"))?;
            let sealed = keyring
                .seal_content_with(&p.flotilla, &p.channel, key, &p.author, &content, p.nonce)
                .map_err(|_| LoraError::Unresolved("content key"))?;
            let payload = postcard::to_stdvec(&sealed).map_err(|_| LoraError::Invalid("sealed"))?;
            (Kind::SEALED, payload)
        }
    };
    let mut deps = p.deps.clone();
    deps.sort_unstable();
    let envelope = Envelope {
        v: ENVELOPE_VERSION,
        flotilla: p.flotilla,
        channel: p.channel,
        author: p.author,
        hlc: p.hlc,
        seq: p.seq,
        prev: p.prev,
        deps,
        kind,
        payload,
    };
    let raw = RawMirror {
        envelope: postcard::to_stdvec(&envelope).map_err(|_| LoraError::Invalid("envelope"))?,
        signature: *signature,
    };
    let bytes = postcard::to_stdvec(&raw).map_err(|_| LoraError::Invalid("event"))?;
    SignedEvent::decode(&bytes).map_err(|_| LoraError::Unresolved("signature"))
}

fn sealed_payload(p: &Parts, ciphertext: Vec<u8>) -> Result<Vec<u8>, LoraError> {
    let sealed = crate::event::Sealed {
        key: p.key.ok_or(LoraError::Invalid("key"))?,
        nonce: p.nonce,
        ciphertext,
    };
    postcard::to_stdvec(&sealed).map_err(|_| LoraError::Invalid("sealed"))
}

fn resolve_event(lookup: &impl Lookup, p: &Parts, prefix: &IdPrefix) -> Result<EventId, LoraError> {
    let found: Vec<EventId> = lookup
        .items(&p.flotilla, &p.channel)
        .into_iter()
        .map(|(_, id)| id)
        .filter(|id| id.0.starts_with(prefix))
        .collect();
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(LoraError::Unresolved("target")),
        _ => Err(LoraError::Unresolved("ambiguous target")),
    }
}

fn resolve_content(draft: &Draft, p: &Parts, lookup: &impl Lookup) -> Result<Content, LoraError> {
    Ok(match draft {
        Draft::Post {
            text,
            root,
            files,
            mentions,
        } => {
            let members = lookup.members(&p.flotilla);
            let mentions = mentions
                .iter()
                .map(|m| {
                    let mut c = members.iter().filter(|k| k.0.starts_with(m));
                    match (c.next(), c.next()) {
                        (Some(k), None) => Ok(*k),
                        _ => Err(LoraError::Unresolved("mention")),
                    }
                })
                .collect::<Result<_, _>>()?;
            Content::Post {
                text: text.clone(),
                root: root
                    .as_ref()
                    .map(|r| resolve_event(lookup, p, r))
                    .transpose()?,
                files: files.clone(),
                mentions,
            }
        }
        Draft::Targeted { tag, target, text } => {
            let target = resolve_event(lookup, p, target)?;
            match tag {
                1 => Content::Edit {
                    target,
                    text: text.clone(),
                },
                2 => Content::Delete { target },
                3 => Content::ReactionAdd {
                    target,
                    emoji: text.clone(),
                },
                4 => Content::ReactionRemove {
                    target,
                    emoji: text.clone(),
                },
                5 => Content::Pin { target },
                _ => Content::Unpin { target },
            }
        }
        Draft::Other(content) => content.clone(),
    })
}

//! Peer messages and their versioned codec.
//!
//! A frame is one version byte ([`WIRE_VERSION`]) followed by the postcard encoding of a
//! [`PeerMsg`]. Frames are at most [`MAX_FRAME_SIZE`] bytes, and every list inside has a
//! named bound, checked on both [`encode`] and [`decode`]. [`decode`] never panics: any
//! input yields a [`PeerMsg`] or a typed [`DecodeError`].
//!
//! Events inside [`PeerMsg::Events`] are opaque bytes here; [`crate::sync`] decodes and
//! verifies them one by one (a bad event must not cost the good ones in the same batch).

use serde::{Deserialize, Serialize};

use crate::crypto::SealedBox;
use crate::id::{ChannelId, EventId, FlotillaId};

/// The frame format this code writes and reads (2: the rekey messages
/// [`PeerMsg::KeyWant`] and [`PeerMsg::Keys`]). The events inside are envelope v3 since
/// `/flotilla/sync/4`; an older envelope is refused event by event.
pub const WIRE_VERSION: u8 = 2;
/// The largest frame, version byte included (1 MiB: a few hundred events, far more than a
/// negentropy round at the default frame limit).
pub const MAX_FRAME_SIZE: usize = 1024 * 1024;
/// The most channel summaries in one [`PeerMsg::Hello`] (35–40 bytes each, so ~160 KiB).
pub const MAX_HELLO_CHANNELS: usize = 4096;
/// The most ids in one [`PeerMsg::Want`] (8 KiB of ids).
pub const MAX_WANT_BATCH: usize = 256;
/// The most ids in one [`PeerMsg::Have`] (128 KiB of ids).
pub const MAX_HAVE_BATCH: usize = 4096;
/// The most events in one [`PeerMsg::Events`].
pub const MAX_BATCH_EVENTS: usize = 256;
/// The most event bytes in one [`PeerMsg::Events`] (leaves room for framing under
/// [`MAX_FRAME_SIZE`]; one event is at most [`crate::event::MAX_EVENT_SIZE`]).
pub const MAX_BATCH_BYTES: usize = 768 * 1024;
/// The most key ids in one [`PeerMsg::KeyWant`] (and keys in one [`PeerMsg::Keys`]).
pub const MAX_KEY_WANT: usize = 64;
/// The largest sealed key bundle in one [`PeerMsg::Keys`] (64 keys of 32 bytes with ids).
pub const MAX_KEYS_BYTES: usize = 8 * 1024;
/// The largest negentropy message in one [`PeerMsg::Reconcile`].
pub const MAX_RECONCILE_BYTES: usize = 512 * 1024;

/// What one channel holds, in brief: compared in [`PeerMsg::Hello`] to skip channels that
/// are already equal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelSummary {
    /// The channel ([`ChannelId::CONTROL`] for control events).
    pub channel: ChannelId,
    /// How many events it holds.
    pub count: u64,
    /// Negentropy's fingerprint of the whole `(ms, id)` set (sum of ids + count, hashed).
    pub fingerprint: [u8; 16],
}

/// A message between two peers, named by intent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PeerMsg {
    /// "This is what I hold of this flotilla": sent on connection and periodically.
    Hello {
        /// The flotilla.
        flotilla: FlotillaId,
        /// One summary per non-empty channel, at most [`MAX_HELLO_CHANNELS`].
        summaries: Vec<ChannelSummary>,
    },
    /// One negentropy round for one channel (initiator query or responder answer).
    Reconcile {
        /// The flotilla.
        flotilla: FlotillaId,
        /// The channel being reconciled.
        channel: ChannelId,
        /// The initiator's number for this round, echoed in the answer: an answer to an
        /// earlier round (duplicated, reordered, or of a session since restarted) is told
        /// apart and dropped instead of being read against the wrong query.
        round: u64,
        /// The negentropy message, at most [`MAX_RECONCILE_BYTES`].
        msg: Vec<u8>,
    },
    /// "Send me these events": at most [`MAX_WANT_BATCH`] ids.
    Want {
        /// The flotilla the ids belong to.
        flotilla: FlotillaId,
        /// The ids wanted.
        ids: Vec<EventId>,
    },
    /// "You lack these events" (found by reconciliation): the receiver pulls them with
    /// [`PeerMsg::Want`] at its own pace. At most [`MAX_HAVE_BATCH`] ids.
    Have {
        /// The flotilla the ids belong to.
        flotilla: FlotillaId,
        /// The ids the receiver lacks.
        ids: Vec<EventId>,
    },
    /// Events (their wire bytes), answering a `Want`, or gossip.
    Events {
        /// The flotilla they belong to.
        flotilla: FlotillaId,
        /// At most [`MAX_BATCH_EVENTS`] events, [`MAX_BATCH_BYTES`] in all.
        events: Vec<Vec<u8>>,
    },
    /// "I may hold these group keys and do not" (a rotation sealed before this node was
    /// known, or lost): a member holding them answers with [`PeerMsg::Keys`]. At most
    /// [`MAX_KEY_WANT`] ids.
    KeyWant {
        /// The flotilla.
        flotilla: FlotillaId,
        /// The key ids.
        ids: Vec<EventId>,
    },
    /// Keys the receiver may hold, sealed to its node's X25519 key (a key bundle of
    /// existing keys; the receiver checks each against its published commitment).
    Keys {
        /// The flotilla.
        flotilla: FlotillaId,
        /// The sealed bundle, at most [`MAX_KEYS_BYTES`] of ciphertext.
        sealed: SealedBox,
    },
}

impl PeerMsg {
    /// A short name of the variant, for logs and statistics.
    pub fn kind(&self) -> &'static str {
        match self {
            PeerMsg::Hello { .. } => "hello",
            PeerMsg::Reconcile { .. } => "reconcile",
            PeerMsg::Want { .. } => "want",
            PeerMsg::Have { .. } => "have",
            PeerMsg::Events { .. } => "events",
            PeerMsg::KeyWant { .. } => "key-want",
            PeerMsg::Keys { .. } => "keys",
        }
    }

    /// The flotilla the message is about.
    pub fn flotilla(&self) -> FlotillaId {
        match self {
            PeerMsg::Hello { flotilla, .. }
            | PeerMsg::Reconcile { flotilla, .. }
            | PeerMsg::Want { flotilla, .. }
            | PeerMsg::Have { flotilla, .. }
            | PeerMsg::Events { flotilla, .. }
            | PeerMsg::KeyWant { flotilla, .. }
            | PeerMsg::Keys { flotilla, .. } => *flotilla,
        }
    }

    /// Checks every bound of the message.
    fn check_bounds(&self) -> Result<(), Bound> {
        let over = |what, len, max| {
            if len > max {
                Err(Bound { what, len, max })
            } else {
                Ok(())
            }
        };
        match self {
            PeerMsg::Hello { summaries, .. } => {
                over("summaries", summaries.len(), MAX_HELLO_CHANNELS)
            }
            PeerMsg::Reconcile { msg, .. } => {
                over("reconcile bytes", msg.len(), MAX_RECONCILE_BYTES)
            }
            PeerMsg::Want { ids, .. } => over("ids", ids.len(), MAX_WANT_BATCH),
            PeerMsg::Have { ids, .. } => over("ids", ids.len(), MAX_HAVE_BATCH),
            PeerMsg::Events { events, .. } => {
                over("events", events.len(), MAX_BATCH_EVENTS)?;
                let bytes = events.iter().map(Vec::len).sum();
                over("event bytes", bytes, MAX_BATCH_BYTES)
            }
            PeerMsg::KeyWant { ids, .. } => over("key ids", ids.len(), MAX_KEY_WANT),
            PeerMsg::Keys { sealed, .. } => {
                over("key bytes", sealed.ciphertext.len(), MAX_KEYS_BYTES)
            }
        }
    }
}

/// A broken bound: which list, how long, and its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Bound {
    what: &'static str,
    len: usize,
    max: usize,
}

/// A message could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A list in the message is longer than its bound.
    #[error("{what} is {len}, more than the {max} allowed")]
    TooMany {
        /// Which list.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// The encoded frame is larger than [`MAX_FRAME_SIZE`].
    #[error("frame is {len} bytes, more than the {max} allowed")]
    TooLarge {
        /// The frame size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The serializer failed (not expected).
    #[error("serialization failed")]
    Serialize,
}

/// A frame could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The frame is larger than [`MAX_FRAME_SIZE`].
    #[error("frame is {len} bytes, more than the {max} allowed")]
    TooLarge {
        /// The frame size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The frame is empty (no version byte).
    #[error("empty frame")]
    Empty,
    /// A version this node does not speak.
    #[error("unsupported wire version {0}")]
    UnsupportedVersion(u8),
    /// The bytes do not decode to a message, or leave trailing bytes.
    #[error("malformed frame: {0}")]
    Malformed(&'static str),
    /// A list in the message is longer than its bound.
    #[error("{what} is {len}, more than the {max} allowed")]
    TooMany {
        /// Which list.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The bound.
        max: usize,
    },
}

/// Encodes `msg` as a frame: [`WIRE_VERSION`] then postcard.
///
/// # Errors
/// [`EncodeError`] if a bound is broken or the frame would exceed [`MAX_FRAME_SIZE`].
pub fn encode(msg: &PeerMsg) -> Result<Vec<u8>, EncodeError> {
    msg.check_bounds()
        .map_err(|Bound { what, len, max }| EncodeError::TooMany { what, len, max })?;
    let out = postcard::to_extend(msg, vec![WIRE_VERSION]).map_err(|_| EncodeError::Serialize)?;
    if out.len() > MAX_FRAME_SIZE {
        return Err(EncodeError::TooLarge {
            len: out.len(),
            max: MAX_FRAME_SIZE,
        });
    }
    Ok(out)
}

/// Decodes a frame. Never panics.
///
/// # Errors
/// [`DecodeError`]: too large, empty, unknown version, malformed, or a bound broken.
pub fn decode(frame: &[u8]) -> Result<PeerMsg, DecodeError> {
    if frame.len() > MAX_FRAME_SIZE {
        return Err(DecodeError::TooLarge {
            len: frame.len(),
            max: MAX_FRAME_SIZE,
        });
    }
    let (&version, body) = frame.split_first().ok_or(DecodeError::Empty)?;
    if version != WIRE_VERSION {
        return Err(DecodeError::UnsupportedVersion(version));
    }
    let (msg, rest): (PeerMsg, _) =
        postcard::take_from_bytes(body).map_err(|_| DecodeError::Malformed("message"))?;
    if !rest.is_empty() {
        return Err(DecodeError::Malformed("trailing bytes"));
    }
    msg.check_bounds()
        .map_err(|Bound { what, len, max }| DecodeError::TooMany { what, len, max })?;
    Ok(msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_id<const N: usize>() -> impl Strategy<Value = [u8; N]> + Clone {
        proptest::collection::vec(any::<u8>(), N).prop_map(|v| {
            let mut a = [0u8; N];
            a.copy_from_slice(&v);
            a
        })
    }

    fn arb_msg() -> impl Strategy<Value = PeerMsg> {
        let flotilla = arb_id::<16>().prop_map(FlotillaId);
        let channel = arb_id::<16>().prop_map(ChannelId);
        let summary = (channel.clone(), any::<u64>(), arb_id::<16>()).prop_map(
            |(channel, count, fingerprint)| ChannelSummary {
                channel,
                count,
                fingerprint,
            },
        );
        prop_oneof![
            (flotilla.clone(), proptest::collection::vec(summary, 0..20)).prop_map(
                |(flotilla, summaries)| PeerMsg::Hello {
                    flotilla,
                    summaries
                }
            ),
            (
                flotilla.clone(),
                channel,
                any::<u64>(),
                proptest::collection::vec(any::<u8>(), 0..300)
            )
                .prop_map(|(flotilla, channel, round, msg)| PeerMsg::Reconcile {
                    flotilla,
                    channel,
                    round,
                    msg
                }),
            (
                flotilla.clone(),
                proptest::collection::vec(arb_id::<32>().prop_map(EventId), 0..40)
            )
                .prop_map(|(flotilla, ids)| PeerMsg::Want { flotilla, ids }),
            (
                flotilla.clone(),
                proptest::collection::vec(arb_id::<32>().prop_map(EventId), 0..40)
            )
                .prop_map(|(flotilla, ids)| PeerMsg::Have { flotilla, ids }),
            (
                flotilla.clone(),
                proptest::collection::vec(arb_id::<32>().prop_map(EventId), 0..40)
            )
                .prop_map(|(flotilla, ids)| PeerMsg::KeyWant { flotilla, ids }),
            (
                flotilla.clone(),
                arb_id::<32>(),
                arb_id::<24>(),
                proptest::collection::vec(any::<u8>(), 0..200)
            )
                .prop_map(|(flotilla, ephemeral, nonce, ciphertext)| PeerMsg::Keys {
                    flotilla,
                    sealed: SealedBox {
                        ephemeral,
                        nonce,
                        ciphertext
                    }
                }),
            (
                flotilla,
                proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..100), 0..10)
            )
                .prop_map(|(flotilla, events)| PeerMsg::Events { flotilla, events }),
        ]
    }

    proptest! {
        #[test]
        fn every_variant_round_trips(msg in arb_msg()) {
            let frame = encode(&msg).expect("within bounds");
            prop_assert_eq!(frame[0], WIRE_VERSION);
            prop_assert_eq!(decode(&frame), Ok(msg));
        }

        #[test]
        fn decode_of_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let _ = decode(&bytes);
            let mut versioned = bytes.clone();
            versioned.insert(0, WIRE_VERSION);
            let _ = decode(&versioned);
        }

        #[test]
        fn truncated_frames_are_errors(msg in arb_msg(), cut in 1usize..64) {
            let frame = encode(&msg).expect("within bounds");
            let cut = cut.min(frame.len() - 1);
            let _ = decode(&frame[..frame.len() - cut]);
        }
    }

    #[test]
    fn typed_errors() {
        assert_eq!(decode(&[]), Err(DecodeError::Empty));
        assert_eq!(decode(&[9, 0]), Err(DecodeError::UnsupportedVersion(9)));
        assert!(matches!(
            decode(&vec![WIRE_VERSION; MAX_FRAME_SIZE + 1]),
            Err(DecodeError::TooLarge { .. })
        ));
        assert!(matches!(
            decode(&[WIRE_VERSION, 200]),
            Err(DecodeError::Malformed(_))
        ));
        let msg = PeerMsg::Want {
            flotilla: FlotillaId([1; 16]),
            ids: vec![],
        };
        let mut frame = encode(&msg).expect("encodes");
        frame.push(0);
        assert_eq!(
            decode(&frame),
            Err(DecodeError::Malformed("trailing bytes"))
        );
    }

    #[test]
    fn bounds_are_checked_both_ways() {
        let too_many = PeerMsg::Want {
            flotilla: FlotillaId([1; 16]),
            ids: vec![EventId([0; 32]); MAX_WANT_BATCH + 1],
        };
        assert!(matches!(
            encode(&too_many),
            Err(EncodeError::TooMany { .. })
        ));
        let mut frame = vec![WIRE_VERSION];
        frame.extend(postcard::to_stdvec(&too_many).expect("serializes"));
        assert!(matches!(
            decode(&frame),
            Err(DecodeError::TooMany { what: "ids", .. })
        ));
    }
}

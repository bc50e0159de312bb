//! What a LoRa frame says, once opened.
//!
//! ```text
//! 0x01 Event      compact event (see compact.rs)
//! 0x02 Summary    n:u8, n × (channel prefix:2, items:varint, fingerprint:4)
//! 0x03 Inventory  channel prefix:2, n:u8, n × event id prefix:4   (newest first)
//! 0x04 Want       full:u8, n:u8, n × event id prefix:4
//! ```
//! Prefixes are the first bytes of ids both ends hold; the receiver resolves them against its
//! store (see [`super::compact`]).

use super::LoraError;
use super::bytes::{Reader, Writer};

/// Bytes of a channel id in summaries and inventories.
pub const CHANNEL_PREFIX: usize = 2;
/// Bytes of an event id in inventories and wants.
pub const ID_PREFIX: usize = 4;
/// The most channels in one summary.
pub const MAX_SUMMARY_CHANNELS: usize = 8;
/// The most ids in one inventory or want.
pub const MAX_IDS: usize = 32;

/// An event id prefix.
pub type IdPrefix = [u8; ID_PREFIX];
/// A channel id prefix.
pub type ChannelPrefix = [u8; CHANNEL_PREFIX];

/// One channel in a catch-up summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelDigest {
    /// The channel.
    pub channel: ChannelPrefix,
    /// How many events of the channel the sender holds.
    pub items: u64,
    /// A hash of the ids of its most recent events.
    pub fingerprint: [u8; 4],
}

/// A message inside a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A compact event.
    Event(Vec<u8>),
    /// "This is what I hold lately", beaconed at a low rate.
    Summary(Vec<ChannelDigest>),
    /// "My newest events of this channel", answering a summary that differs.
    Inventory {
        /// The channel.
        channel: ChannelPrefix,
        /// Newest first.
        ids: Vec<IdPrefix>,
    },
    /// "Send me these", answering an inventory (or a compact event this node could not
    /// rebuild: then `full` asks for the whole event).
    Want {
        /// Send the whole event rather than its compact form.
        full: bool,
        /// The events.
        ids: Vec<IdPrefix>,
    },
}

impl Message {
    /// Encodes the message.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        match self {
            Message::Event(bytes) => {
                w.u8(1);
                w.raw(bytes);
            }
            Message::Summary(digests) => {
                w.u8(2);
                let digests = &digests[..digests.len().min(MAX_SUMMARY_CHANNELS)];
                w.u8(digests.len() as u8);
                for d in digests {
                    w.raw(&d.channel);
                    w.varint(d.items);
                    w.raw(&d.fingerprint);
                }
            }
            Message::Inventory { channel, ids } => {
                w.u8(3);
                w.raw(channel);
                put_ids(&mut w, ids);
            }
            Message::Want { full, ids } => {
                w.u8(4);
                w.u8(u8::from(*full));
                put_ids(&mut w, ids);
            }
        }
        w.buf
    }

    /// Decodes a message. Never panics.
    ///
    /// # Errors
    /// [`LoraError`] on an unknown type or a short or overlong body.
    pub fn decode(bytes: &[u8]) -> Result<Self, LoraError> {
        let mut r = Reader::new(bytes);
        let msg = match r.u8("message type")? {
            1 => return Ok(Message::Event(r.rest().to_vec())),
            2 => {
                let n = usize::from(r.u8("summary")?);
                if n > MAX_SUMMARY_CHANNELS {
                    return Err(LoraError::Invalid("summary length"));
                }
                let mut digests = Vec::with_capacity(n);
                for _ in 0..n {
                    digests.push(ChannelDigest {
                        channel: r.array("summary channel")?,
                        items: r.varint("summary items")?,
                        fingerprint: r.array("summary fingerprint")?,
                    });
                }
                Message::Summary(digests)
            }
            3 => Message::Inventory {
                channel: r.array("inventory channel")?,
                ids: get_ids(&mut r)?,
            },
            4 => Message::Want {
                full: r.u8("want")? != 0,
                ids: get_ids(&mut r)?,
            },
            _ => return Err(LoraError::Invalid("message type")),
        };
        if !r.is_empty() {
            return Err(LoraError::Invalid("trailing bytes"));
        }
        Ok(msg)
    }
}

fn put_ids(w: &mut Writer, ids: &[IdPrefix]) {
    let ids = &ids[..ids.len().min(MAX_IDS)];
    w.u8(ids.len() as u8);
    for id in ids {
        w.raw(id);
    }
}

fn get_ids(r: &mut Reader<'_>) -> Result<Vec<IdPrefix>, LoraError> {
    let n = usize::from(r.u8("ids")?);
    if n > MAX_IDS {
        return Err(LoraError::Invalid("id count"));
    }
    (0..n).map(|_| r.array("id")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trips() {
        let msgs = [
            Message::Event(vec![1, 2, 3]),
            Message::Summary(vec![ChannelDigest {
                channel: [1, 2],
                items: 300,
                fingerprint: [9; 4],
            }]),
            Message::Inventory {
                channel: [3, 4],
                ids: vec![[1; 4], [2; 4]],
            },
            Message::Want {
                full: true,
                ids: vec![[5; 4]],
            },
        ];
        for m in msgs {
            assert_eq!(Message::decode(&m.encode()), Ok(m));
        }
    }

    proptest! {
        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = Message::decode(&bytes);
        }
    }
}

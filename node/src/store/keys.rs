//! Key encoding for the sled trees (see the tree list in [`super`]).
//!
//! Every id is fixed-width (flotilla and channel 16 bytes, event id and public key 32 bytes),
//! so keys are plain concatenations with no separators. Numbers are big-endian, so sled's
//! byte order is the numeric order: `(ms, id)` sorts like the core's [`Item`] and
//! `(ms, logical, id)` sorts like `(Hlc, EventId)`.

use flotilla_protocol as proto;
use proto::PublicKey;
use proto::hlc::Hlc;
use proto::id::{ChannelId, EventId, FlotillaId};
use proto::store::Item;

/// Length of a `flotilla ++ channel` prefix.
pub(crate) const CHANNEL_PREFIX_LEN: usize = FlotillaId::LEN + ChannelId::LEN;
/// Length of an encoded [`Hlc`] (`ms u64 BE ++ logical u32 BE`).
pub(crate) const HLC_LEN: usize = 12;

/// `flotilla ++ channel`: the prefix of every per-channel key.
pub(crate) fn channel(flotilla: &FlotillaId, channel: &ChannelId) -> Vec<u8> {
    let mut k = Vec::with_capacity(CHANNEL_PREFIX_LEN + HLC_LEN + EventId::LEN);
    k.extend_from_slice(&flotilla.0);
    k.extend_from_slice(&channel.0);
    k
}

/// `flotilla ++ channel ++ ms (u64 BE) ++ id`: a reconciliation item.
pub(crate) fn item(flotilla: &FlotillaId, chan: &ChannelId, ms: u64, id: &EventId) -> Vec<u8> {
    let mut k = channel(flotilla, chan);
    k.extend_from_slice(&ms.to_be_bytes());
    k.extend_from_slice(&id.0);
    k
}

/// The `(ms, id)` at the end of an item key.
pub(crate) fn decode_item(key: &[u8]) -> Option<Item> {
    let rest = key.get(CHANNEL_PREFIX_LEN..)?;
    let (ms, id) = rest.split_first_chunk::<8>()?;
    Some((u64::from_be_bytes(*ms), EventId(id.try_into().ok()?)))
}

/// The channel at the end of a `flotilla ++ channel` key.
pub(crate) fn decode_channel(key: &[u8]) -> Option<ChannelId> {
    Some(ChannelId(
        key.get(FlotillaId::LEN..CHANNEL_PREFIX_LEN)?
            .try_into()
            .ok()?,
    ))
}

/// `ms (u64 BE) ++ logical (u32 BE)`.
pub(crate) fn hlc(t: Hlc) -> [u8; HLC_LEN] {
    let mut out = [0u8; HLC_LEN];
    out[..8].copy_from_slice(&t.ms.to_be_bytes());
    out[8..].copy_from_slice(&t.logical.to_be_bytes());
    out
}

/// Reads an [`Hlc`] from the first [`HLC_LEN`] bytes.
pub(crate) fn decode_hlc(bytes: &[u8]) -> Option<Hlc> {
    let (ms, rest) = bytes.split_first_chunk::<8>()?;
    let logical = rest.first_chunk::<4>()?;
    Some(Hlc {
        ms: u64::from_be_bytes(*ms),
        logical: u32::from_be_bytes(*logical),
    })
}

/// `prefix ++ hlc ++ id`: a position in a time-ordered post index.
pub(crate) fn at(prefix: &[u8], t: Hlc, id: &EventId) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + HLC_LEN + EventId::LEN);
    k.extend_from_slice(prefix);
    k.extend_from_slice(&hlc(t));
    k.extend_from_slice(&id.0);
    k
}

/// The `(hlc, id)` at the end of a key made by [`at`].
pub(crate) fn decode_at(key: &[u8]) -> Option<(Hlc, EventId)> {
    let start = key.len().checked_sub(HLC_LEN + EventId::LEN)?;
    let rest = &key[start..];
    Some((decode_hlc(rest)?, EventId(rest[HLC_LEN..].try_into().ok()?)))
}

/// A `u64` stored big-endian.
pub(crate) fn decode_u64(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

/// `flotilla ++ author`: the prefix of an author's events in [`super::AUTHOR_EVENT`].
pub(crate) fn author(flotilla: &FlotillaId, author: &PublicKey) -> Vec<u8> {
    let mut k = Vec::with_capacity(FlotillaId::LEN + 32 + 8 + EventId::LEN);
    k.extend_from_slice(&flotilla.0);
    k.extend_from_slice(&author.0);
    k
}

/// `flotilla ++ author ++ seq (u64 BE) ++ id`: one event in [`super::AUTHOR_EVENT`], in the
/// order of the author's own numbering.
pub(crate) fn authored(flotilla: &FlotillaId, who: &PublicKey, seq: u64, id: &EventId) -> Vec<u8> {
    let mut k = author(flotilla, who);
    k.extend_from_slice(&seq.to_be_bytes());
    k.extend_from_slice(&id.0);
    k
}

/// The author, `seq` and id of a key made by [`authored`].
pub(crate) fn decode_authored(key: &[u8]) -> Option<(PublicKey, u64, EventId)> {
    let rest = key.get(FlotillaId::LEN..)?;
    let (who, rest) = rest.split_first_chunk::<32>()?;
    let (seq, id) = rest.split_first_chunk::<8>()?;
    Some((
        PublicKey(*who),
        u64::from_be_bytes(*seq),
        EventId(id.try_into().ok()?),
    ))
}

/// `user ++ flotilla ++ channel`: whose read marker for which channel.
pub(crate) fn read_marker(user: &PublicKey, flotilla: &FlotillaId, chan: &ChannelId) -> Vec<u8> {
    let mut k = Vec::with_capacity(32 + CHANNEL_PREFIX_LEN);
    k.extend_from_slice(&user.0);
    k.extend_from_slice(&channel(flotilla, chan));
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: FlotillaId = FlotillaId([0x11; 16]);
    const C: ChannelId = ChannelId([0x22; 16]);
    const ID: EventId = EventId([0x33; 32]);

    #[test]
    fn item_key_is_flotilla_channel_ms_be_id() {
        let k = item(&F, &C, 0x0102_0304_0506_0708, &ID);
        let mut want = vec![0x11; 16];
        want.extend([0x22; 16]);
        want.extend([1, 2, 3, 4, 5, 6, 7, 8]);
        want.extend([0x33; 32]);
        assert_eq!(k, want);
        assert_eq!(decode_item(&k), Some((0x0102_0304_0506_0708, ID)));
    }

    #[test]
    fn hlc_key_is_ms_be_then_logical_be() {
        let t = Hlc {
            ms: 0x0a0b,
            logical: 0x0c0d_0e0f,
        };
        assert_eq!(
            hlc(t),
            [0, 0, 0, 0, 0, 0, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f]
        );
        assert_eq!(decode_hlc(&hlc(t)), Some(t));
    }

    #[test]
    fn at_key_appends_hlc_and_id_and_decodes_back() {
        let t = Hlc { ms: 5, logical: 1 };
        let k = at(b"pfx", t, &ID);
        assert_eq!(&k[..3], b"pfx");
        assert_eq!(&k[3..15], &[0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 1]);
        assert_eq!(&k[15..], &[0x33; 32]);
        assert_eq!(decode_at(&k), Some((t, ID)));
    }

    #[test]
    fn read_marker_key_is_user_flotilla_channel() {
        let k = read_marker(&PublicKey([0x44; 32]), &F, &C);
        assert_eq!(k.len(), 64);
        assert_eq!(&k[..32], &[0x44; 32]);
        assert_eq!(&k[32..48], &[0x11; 16]);
        assert_eq!(&k[48..], &[0x22; 16]);
        assert_eq!(decode_channel(&k[32..]), Some(C));
    }

    #[test]
    fn byte_order_matches_numeric_order() {
        let early = at(
            b"",
            Hlc {
                ms: 255,
                logical: u32::MAX,
            },
            &EventId([0xff; 32]),
        );
        let late = at(
            b"",
            Hlc {
                ms: 256,
                logical: 0,
            },
            &EventId([0; 32]),
        );
        assert!(early < late);
        assert!(item(&F, &C, 255, &ID) < item(&F, &C, 256, &EventId([0; 32])));
    }

    #[test]
    fn short_keys_do_not_decode() {
        assert_eq!(decode_item(&[0; 40]), None);
        assert_eq!(decode_at(&[0; 10]), None);
        assert_eq!(decode_hlc(&[0; 11]), None);
        assert_eq!(decode_channel(&[0; 20]), None);
    }
}

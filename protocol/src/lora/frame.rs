//! Air frames: a message encrypted and authenticated with the flotilla's radio key, cut into
//! fragments that fit the radio.
//!
//! ```text
//! byte 0      version (1)
//! byte 1      net tag: first byte of a hash of the radio key (skips other flotillas' frames)
//! bytes 2..8  packet id: 6 random bytes (nonce seed and duplicate-suppression key)
//! byte 8      hops: limit << 4 | taken   (not authenticated: relays raise `taken`)
//! byte 9      fragment: index << 4 | (count - 1)
//! bytes 10..  the fragment: a slice of XChaCha20-Poly1305(message), tag last
//! ```
//! The AEAD nonce is derived from the packet id; the associated data is the version, net tag,
//! packet id and fragment count. A receiver keeps fragments by packet id and decrypts once all
//! have arrived: one altered or forged fragment makes the whole message fail, and nothing is
//! relayed or delivered before it authenticates.

use crate::crypto::{NONCE_LEN, SymmetricKey, TAG_LEN};
use crate::id::FlotillaId;

use super::LoraError;

/// The frame format this code writes.
pub const VERSION: u8 = 1;
/// Header bytes before each fragment.
pub const HEADER_LEN: usize = 10;
/// The most fragments of one message.
pub const MAX_FRAGMENTS: usize = 16;
/// The largest hop limit (4 bits).
pub const MAX_HOPS: u8 = 15;

/// A packet id: the message's name on air.
pub type PacketId = [u8; 6];

/// The key a flotilla's frames are sealed with, derived from one of its epoch keys.
#[derive(Debug, Clone)]
pub struct RadioKey {
    /// The flotilla.
    pub flotilla: FlotillaId,
    key: SymmetricKey,
    tag: u8,
}

impl RadioKey {
    /// The radio key of `flotilla` for the epoch key `epoch`.
    pub fn derive(flotilla: FlotillaId, epoch: &SymmetricKey) -> Self {
        let key = epoch.derive(&[b"flotilla/v1 lora frame".as_slice(), &flotilla.0].concat());
        let tag = blake3::keyed_hash(&key.0, b"flotilla/v1 lora net tag").as_bytes()[0];
        RadioKey { flotilla, key, tag }
    }

    /// The net tag frames under this key carry.
    pub fn tag(&self) -> u8 {
        self.tag
    }
}

/// A parsed frame header and its fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Net tag.
    pub net: u8,
    /// Packet id.
    pub id: PacketId,
    /// Hop limit set by the origin.
    pub hop_limit: u8,
    /// Hops taken so far.
    pub hops: u8,
    /// This fragment's index.
    pub index: u8,
    /// How many fragments the message has.
    pub count: u8,
    /// The fragment bytes.
    pub body: &'a [u8],
}

impl<'a> Frame<'a> {
    /// Parses a frame. Never panics.
    ///
    /// # Errors
    /// [`LoraError`] if it is too short, of another version, or inconsistent.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, LoraError> {
        if bytes.len() <= HEADER_LEN {
            return Err(LoraError::Truncated("frame"));
        }
        if bytes[0] != VERSION {
            return Err(LoraError::Invalid("frame version"));
        }
        let mut id = [0u8; 6];
        id.copy_from_slice(&bytes[2..8]);
        let (index, count) = (bytes[9] >> 4, (bytes[9] & 0x0f) + 1);
        if index >= count {
            return Err(LoraError::Invalid("fragment index"));
        }
        Ok(Frame {
            net: bytes[1],
            id,
            hop_limit: bytes[8] >> 4,
            hops: bytes[8] & 0x0f,
            index,
            count,
            body: &bytes[HEADER_LEN..],
        })
    }
}

/// Rewrites the hop byte of a frame (for relaying): one more hop taken.
pub fn with_one_more_hop(frame: &[u8]) -> Option<Vec<u8>> {
    let hops = *frame.get(8)?;
    let (limit, taken) = (hops >> 4, hops & 0x0f);
    if taken >= limit {
        return None;
    }
    let mut out = frame.to_vec();
    out[8] = (limit << 4) | (taken + 1);
    Some(out)
}

fn nonce(id: &PacketId) -> [u8; NONCE_LEN] {
    let h = blake3::Hasher::new_derive_key("flotilla/v1 lora nonce")
        .update(id)
        .finalize();
    let mut n = [0u8; NONCE_LEN];
    n.copy_from_slice(&h.as_bytes()[..NONCE_LEN]);
    n
}

fn aad(net: u8, id: &PacketId, count: u8) -> Vec<u8> {
    let mut a = vec![VERSION, net];
    a.extend_from_slice(id);
    a.push(count);
    a
}

/// The largest message that fits `MAX_FRAGMENTS` fragments of a radio with `mtu`.
pub fn max_message(mtu: usize) -> usize {
    (mtu.saturating_sub(HEADER_LEN) * MAX_FRAGMENTS).saturating_sub(TAG_LEN)
}

/// Seals `message` under `key` and cuts it into frames of at most `mtu` bytes.
///
/// # Errors
/// [`LoraError::TooLarge`] if it needs more than [`MAX_FRAGMENTS`] fragments.
pub fn seal(
    key: &RadioKey,
    id: PacketId,
    hop_limit: u8,
    message: &[u8],
    mtu: usize,
) -> Result<Vec<Vec<u8>>, LoraError> {
    let room = mtu.saturating_sub(HEADER_LEN);
    let total = message.len() + TAG_LEN;
    let first_count = total.div_ceil(room.max(1));
    if room == 0 || first_count > MAX_FRAGMENTS {
        return Err(LoraError::TooLarge {
            len: message.len(),
            max: max_message(mtu),
        });
    }
    // Even fragments: the last one is not a runt.
    let size = total.div_ceil(first_count);
    let count = total.div_ceil(size);
    let count_u8 = count as u8;
    let sealed = key
        .key
        .encrypt(&nonce(&id), message, &aad(key.tag, &id, count_u8))
        .map_err(|_| LoraError::Invalid("encryption"))?;
    let hops = hop_limit.min(MAX_HOPS) << 4;
    Ok(sealed
        .chunks(size)
        .enumerate()
        .map(|(i, chunk)| {
            let mut f = Vec::with_capacity(HEADER_LEN + chunk.len());
            f.push(VERSION);
            f.push(key.tag);
            f.extend_from_slice(&id);
            f.push(hops);
            f.push(((i as u8) << 4) | (count_u8 - 1));
            f.extend_from_slice(chunk);
            f
        })
        .collect())
}

/// Opens a reassembled message (the fragments' bodies in order) with the first key that
/// authenticates it; returns that key's flotilla and the plaintext.
///
/// # Errors
/// [`LoraError::Unauthenticated`] if no key does.
pub fn open<'k>(
    keys: impl IntoIterator<Item = &'k RadioKey>,
    net: u8,
    id: &PacketId,
    count: u8,
    sealed: &[u8],
) -> Result<(FlotillaId, Vec<u8>), LoraError> {
    let aad = aad(net, id, count);
    let n = nonce(id);
    keys.into_iter()
        .filter(|k| k.tag == net)
        .find_map(|k| {
            k.key
                .decrypt(&n, sealed, &aad)
                .ok()
                .map(|plain| (k.flotilla, plain))
        })
        .ok_or(LoraError::Unauthenticated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> RadioKey {
        RadioKey::derive(FlotillaId([b; 16]), &SymmetricKey([b; 32]))
    }

    fn reassemble(frames: &[Vec<u8>]) -> (Frame<'_>, Vec<u8>) {
        let first = Frame::parse(&frames[0]).unwrap_or_else(|e| panic!("{e}"));
        let body = frames
            .iter()
            .flat_map(|f| Frame::parse(f).map(|p| p.body.to_vec()).unwrap_or_default())
            .collect();
        (first, body)
    }

    #[test]
    fn seal_fragment_open() {
        let k = key(1);
        let msg = vec![7u8; 150];
        let frames = seal(&k, [1, 2, 3, 4, 5, 6], 3, &msg, 115).unwrap_or_default();
        assert_eq!(frames.len(), 2);
        assert!(frames.iter().all(|f| f.len() <= 115));
        let (h, body) = reassemble(&frames);
        assert_eq!((h.hop_limit, h.hops, h.count), (3, 0, 2));
        let (fl, plain) =
            open([&key(2), &k], h.net, &h.id, h.count, &body).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((fl, plain), (k.flotilla, msg));
    }

    #[test]
    fn outsiders_and_flipped_bytes_are_refused() {
        let k = key(1);
        let mut frames = seal(&k, [9; 6], 3, b"hello", 222).unwrap_or_default();
        let (h, body) = reassemble(&frames);
        assert_eq!(
            open([&key(2)], h.net, &h.id, h.count, &body),
            Err(LoraError::Unauthenticated)
        );
        let last = frames[0].len() - 1;
        frames[0][last] ^= 1;
        let (h, body) = reassemble(&frames);
        assert!(open([&k], h.net, &h.id, h.count, &body).is_err());
        // A relay may raise the hop count; the message still opens.
        let relayed = with_one_more_hop(&seal(&k, [9; 6], 1, b"hi", 222).unwrap_or_default()[0]);
        let relayed = relayed.unwrap_or_default();
        let (h, body) = reassemble(std::slice::from_ref(&relayed));
        assert_eq!(h.hops, 1);
        assert!(open([&k], h.net, &h.id, h.count, &body).is_ok());
        assert_eq!(with_one_more_hop(&relayed), None, "the hop limit stops it");
    }

    #[test]
    fn too_large_and_garbage() {
        assert!(seal(&key(1), [0; 6], 3, &[0; 4000], 115).is_err());
        for len in 0..12 {
            let _ = Frame::parse(&vec![1u8; len]);
        }
        assert!(Frame::parse(&[1, 0, 0, 0, 0, 0, 0, 0, 0, 0x21, 5]).is_err());
    }
}

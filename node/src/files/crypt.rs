//! Chunk keys and chunk encryption.
//!
//! ```text
//! channel files key = HKDF(group key of the manifest's key id,
//!                          "flotilla/v1 files" ++ flotilla ++ channel)
//! file key          = HKDF(channel files key, "flotilla/v1 file" ++ file id)
//! chunk i           = XChaCha20-Poly1305(file key, nonce = "flotilla/v1 chunk\0…" ++ i (u32 LE),
//!                                        aad = file id ++ i (u32 LE))
//! ```
//! The nonce is derived, not random, so that the same file posted twice in a channel gives
//! the same ciphertext (deduplicated). That is safe because a (file key, nonce) pair only
//! ever encrypts one plaintext: the key is bound to the file's BLAKE3 and the nonce to the
//! chunk's index, so chunk `i` of that file is always the same bytes. What this reveals: two
//! posts of the same file in the same channel and epoch are recognisably the same blob
//! (documented in docs/security.md).

use flotilla_protocol as proto;
use proto::crypto::SymmetricKey;
use proto::id::{ChannelId, FileId, FlotillaId};

/// The AEAD tag added to every chunk.
pub const TAG_BYTES: usize = 16;

/// A chunk that does not open (wrong key, or altered bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("chunk {index} does not decrypt")]
pub struct OpenError {
    /// The chunk's index.
    pub index: u32,
}

/// The files key of a channel, from the group key that seals its content.
pub fn channel_files_key(
    group: &SymmetricKey,
    flotilla: &FlotillaId,
    channel: &ChannelId,
) -> SymmetricKey {
    group.derive(&[b"flotilla/v1 files".as_slice(), &flotilla.0, &channel.0].concat())
}

/// The key of one file's chunks.
pub fn file_key(channel_files: &SymmetricKey, file: &FileId) -> SymmetricKey {
    channel_files.derive(&[b"flotilla/v1 file".as_slice(), &file.0].concat())
}

fn nonce(index: u32) -> [u8; 24] {
    let mut n = [0u8; 24];
    let tag = b"flotilla/v1 chunk";
    n[..tag.len()].copy_from_slice(tag);
    n[20..].copy_from_slice(&index.to_le_bytes());
    n
}

fn aad(file: &FileId, index: u32) -> Vec<u8> {
    [file.0.as_slice(), &index.to_le_bytes()].concat()
}

/// Encrypts chunk `index` of `file`.
pub fn seal_chunk(key: &SymmetricKey, file: &FileId, index: u32, plain: &[u8]) -> Vec<u8> {
    // XChaCha20-Poly1305 with a valid 32-byte key cannot fail to encrypt.
    key.encrypt(&nonce(index), plain, &aad(file, index))
        .unwrap_or_default()
}

/// Decrypts chunk `index` of `file`.
///
/// # Errors
/// [`OpenError`] for a wrong key or altered bytes.
pub fn open_chunk(
    key: &SymmetricKey,
    file: &FileId,
    index: u32,
    sealed: &[u8],
) -> Result<Vec<u8>, OpenError> {
    key.decrypt(&nonce(index), sealed, &aad(file, index))
        .map_err(|_| OpenError { index })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_deterministic_and_bound_to_file_and_index() {
        let group = SymmetricKey([7; 32]);
        let ck = channel_files_key(&group, &FlotillaId([1; 16]), &ChannelId([2; 16]));
        let (f, g) = (FileId([3; 32]), FileId([4; 32]));
        let k = file_key(&ck, &f);
        let a = seal_chunk(&k, &f, 0, b"hello");
        assert_eq!(a, seal_chunk(&k, &f, 0, b"hello"), "same file, same chunk");
        assert_eq!(a.len(), 5 + TAG_BYTES);
        assert!(!a.windows(5).any(|w| w == b"hello"), "no plaintext");
        assert_eq!(open_chunk(&k, &f, 0, &a).unwrap(), b"hello");
        assert!(open_chunk(&k, &f, 1, &a).is_err(), "moved chunk");
        assert!(
            open_chunk(&file_key(&ck, &g), &g, 0, &a).is_err(),
            "other file"
        );
        let other = channel_files_key(&group, &FlotillaId([1; 16]), &ChannelId([9; 16]));
        assert_ne!(file_key(&other, &f).0, k.0, "other channel, other key");
    }
}

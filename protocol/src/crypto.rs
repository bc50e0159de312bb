//! Keys, signatures and encryption.
//!
//! - [`SecretKey`] / [`PublicKey`] / [`Signature`]: ed25519 (ed25519-dalek 3). A node's key is
//!   also its libp2p identity; each user has a key of their own, held by their home node.
//! - Every secret key also yields an X25519 key ([`SecretKey::x25519_public`]) used to seal
//!   group keys to that holder ([`SealedBox`]): ephemeral X25519 + HKDF-SHA256 +
//!   XChaCha20-Poly1305.
//! - [`SymmetricKey`] encrypts content with XChaCha20-Poly1305 and 24-byte random nonces.
//!
//! Secrets are zeroized on drop and never printed by `Debug`.

use std::fmt;
use std::str::FromStr;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use hkdf::Hkdf;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::entropy::Entropy;
use crate::id::{ParseIdError, from_hex, to_hex};

/// Length of an XChaCha20 nonce.
pub const NONCE_LEN: usize = 24;
/// Length of a Poly1305 tag appended to every ciphertext.
pub const TAG_LEN: usize = 16;

/// A cryptographic check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// An ed25519 signature did not verify.
    #[error("bad signature")]
    BadSignature,
    /// Bytes are not a valid ed25519 public key.
    #[error("invalid public key")]
    BadPublicKey,
    /// Decryption failed: wrong key, wrong associated data, or tampered ciphertext.
    #[error("decryption failed")]
    Decrypt,
    /// Encryption failed (should not happen with valid keys).
    #[error("encryption failed")]
    Encrypt,
}

/// Decompressed verifying keys kept per thread (a flotilla has few authors; decompressing a
/// key costs about a fifth of a verify). Cleared when full.
const VERIFYING_KEY_CACHE: usize = 1024;

thread_local! {
    static VERIFYING_KEYS: std::cell::RefCell<std::collections::HashMap<[u8; 32], VerifyingKey>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// `key`'s decompressed verifying key, from the per-thread cache when seen before.
fn verifying_key(key: &PublicKey) -> Result<VerifyingKey, CryptoError> {
    VERIFYING_KEYS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(vk) = cache.get(&key.0) {
            return Ok(*vk);
        }
        let vk = VerifyingKey::from_bytes(&key.0).map_err(|_| CryptoError::BadPublicKey)?;
        if cache.len() >= VERIFYING_KEY_CACHE {
            cache.clear();
        }
        cache.insert(key.0, vk);
        Ok(vk)
    })
}

/// Counts signature verifications on the current thread (tests check one verify per event
/// that enters the node, none per store read; a thread-local add costs nothing next to a
/// verify).
pub mod verify_count {
    use std::cell::Cell;

    thread_local! {
        static COUNT: Cell<u64> = const { Cell::new(0) };
    }

    pub(super) fn bump() {
        COUNT.with(|c| c.set(c.get() + 1));
    }

    /// Signature verifications made on this thread so far.
    pub fn get() -> u64 {
        COUNT.with(Cell::get)
    }
}

/// An ed25519 public key: identifies a node or a user.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PublicKey(pub [u8; 32]);

impl PublicKey {
    /// Checks `sig` over `msg`, with strict (non-malleable) verification.
    ///
    /// # Errors
    /// [`CryptoError::BadPublicKey`] or [`CryptoError::BadSignature`].
    pub fn verify(&self, msg: &[u8], sig: &Signature) -> Result<(), CryptoError> {
        verify_count::bump();
        let vk = verifying_key(self)?;
        let sig = ed25519_dalek::Signature::from_bytes(&sig.0);
        vk.verify_strict(msg, &sig)
            .map_err(|_| CryptoError::BadSignature)
    }

    /// The first 8 hex characters, for logs.
    pub fn fmt_short(&self) -> String {
        to_hex(&self.0[..4])
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&to_hex(&self.0))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.fmt_short())
    }
}

impl FromStr for PublicKey {
    type Err = ParseIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        from_hex::<32>(s).map(PublicKey)
    }
}

/// An ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature(#[serde(with = "serde_bytes64")] pub [u8; 64]);

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({}…)", to_hex(&self.0[..4]))
    }
}

/// An X25519 public key, to which secrets are sealed.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct X25519Public(pub [u8; 32]);

impl fmt::Debug for X25519Public {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "X25519Public({})", to_hex(&self.0[..4]))
    }
}

/// An ed25519 secret key (node or user). Zeroized on drop; `Debug` shows only the public key.
#[derive(Clone, ZeroizeOnDrop)]
pub struct SecretKey {
    signing: SigningKey,
}

impl SecretKey {
    /// A new random key.
    pub fn generate(rng: &mut impl Entropy) -> Self {
        let mut seed: [u8; 32] = rng.array();
        let key = Self::from_bytes(&seed);
        seed.zeroize();
        key
    }

    /// The key with this 32-byte seed.
    pub fn from_bytes(seed: &[u8; 32]) -> Self {
        SecretKey {
            signing: SigningKey::from_bytes(seed),
        }
    }

    /// The 32-byte seed. Handle with care: write it only to encrypted or 0600 storage.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }

    /// The matching public key.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.signing.verifying_key().to_bytes())
    }

    /// Signs `msg`.
    pub fn sign(&self, msg: &[u8]) -> Signature {
        Signature(self.signing.sign(msg).to_bytes())
    }

    /// The X25519 secret derived from this key (HKDF of the seed), for opening sealed boxes.
    fn x25519_secret(&self) -> x25519_dalek::StaticSecret {
        let mut okm = [0u8; 32];
        let seed = Zeroizing32(self.signing.to_bytes());
        Hkdf::<Sha256>::new(None, &seed.0)
            .expand(b"flotilla/v1 x25519 from ed25519 seed", &mut okm)
            .unwrap_or_else(|_| unreachable!("32 bytes is a valid HKDF-SHA256 output length"));
        let secret = x25519_dalek::StaticSecret::from(okm);
        okm.zeroize();
        secret
    }

    /// The X25519 public key others seal secrets to.
    pub fn x25519_public(&self) -> X25519Public {
        X25519Public(x25519_dalek::PublicKey::from(&self.x25519_secret()).to_bytes())
    }

    /// Opens a box sealed to [`Self::x25519_public`] with the same `context`.
    ///
    /// # Errors
    /// [`CryptoError::Decrypt`] if the box was not sealed to this key or was altered.
    pub fn open(&self, sealed: &SealedBox, context: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let shared = self
            .x25519_secret()
            .diffie_hellman(&x25519_dalek::PublicKey::from(sealed.ephemeral));
        let key = seal_key(
            shared.as_bytes(),
            &sealed.ephemeral,
            &self.x25519_public().0,
        );
        key.decrypt(&sealed.nonce, &sealed.ciphertext, context)
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SecretKey(public={}, secret=<redacted>)",
            self.public().fmt_short()
        )
    }
}

struct Zeroizing32([u8; 32]);
impl Drop for Zeroizing32 {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// A 256-bit symmetric key (a flotilla epoch key, a private channel key, or a derived key).
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop, Serialize, Deserialize)]
pub struct SymmetricKey(pub [u8; 32]);

impl fmt::Debug for SymmetricKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SymmetricKey(<redacted>)")
    }
}

impl SymmetricKey {
    /// A new random key.
    pub fn generate(rng: &mut impl Entropy) -> Self {
        SymmetricKey(rng.array())
    }

    /// A key derived from this one with HKDF-SHA256 for the given purpose.
    pub fn derive(&self, info: &[u8]) -> SymmetricKey {
        let mut okm = [0u8; 32];
        Hkdf::<Sha256>::new(Some(b"flotilla/v1"), &self.0)
            .expand(info, &mut okm)
            .unwrap_or_else(|_| unreachable!("32 bytes is a valid HKDF-SHA256 output length"));
        SymmetricKey(okm)
    }

    /// Encrypts `plaintext`, binding `aad`. The nonce must never repeat under this key;
    /// 24 random bytes make that safe.
    ///
    /// # Errors
    /// [`CryptoError::Encrypt`] (not expected with a valid key).
    pub fn encrypt(
        &self,
        nonce: &[u8; NONCE_LEN],
        plaintext: &[u8],
        aad: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.cipher()?
            .encrypt(
                &XNonce::from(*nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| CryptoError::Encrypt)
    }

    /// Decrypts and authenticates `ciphertext` with `aad`.
    ///
    /// # Errors
    /// [`CryptoError::Decrypt`] on a wrong key, wrong `aad` or any altered byte.
    pub fn decrypt(
        &self,
        nonce: &[u8; NONCE_LEN],
        ciphertext: &[u8],
        aad: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.cipher()?
            .decrypt(
                &XNonce::from(*nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| CryptoError::Decrypt)
    }

    fn cipher(&self) -> Result<XChaCha20Poly1305, CryptoError> {
        XChaCha20Poly1305::new_from_slice(&self.0).map_err(|_| CryptoError::Encrypt)
    }
}

/// A secret sealed to one X25519 public key (an "anonymous box"): only the holder of the
/// matching secret key can open it, and the sender needs no long-term key of its own (the
/// event carrying the box is signed anyway).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedBox {
    /// The sender's one-time X25519 public key.
    pub ephemeral: [u8; 32],
    /// Random nonce.
    pub nonce: [u8; NONCE_LEN],
    /// XChaCha20-Poly1305 ciphertext with its tag.
    pub ciphertext: Vec<u8>,
}

impl fmt::Debug for SealedBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealedBox({} bytes)", self.ciphertext.len())
    }
}

impl SealedBox {
    /// Seals `secret` to `recipient`, binding `context` (e.g. the flotilla id and purpose).
    ///
    /// # Errors
    /// [`CryptoError::Encrypt`] (not expected).
    pub fn seal(
        recipient: &X25519Public,
        secret: &[u8],
        context: &[u8],
        rng: &mut impl Entropy,
    ) -> Result<Self, CryptoError> {
        let eph_secret = x25519_dalek::StaticSecret::from(rng.array::<32>());
        let ephemeral = x25519_dalek::PublicKey::from(&eph_secret).to_bytes();
        let shared = eph_secret.diffie_hellman(&x25519_dalek::PublicKey::from(recipient.0));
        let key = seal_key(shared.as_bytes(), &ephemeral, &recipient.0);
        let nonce = rng.array();
        let ciphertext = key.encrypt(&nonce, secret, context)?;
        Ok(SealedBox {
            ephemeral,
            nonce,
            ciphertext,
        })
    }
}

fn seal_key(shared: &[u8; 32], ephemeral: &[u8; 32], recipient: &[u8; 32]) -> SymmetricKey {
    let mut salt = [0u8; 64];
    salt[..32].copy_from_slice(ephemeral);
    salt[32..].copy_from_slice(recipient);
    let mut okm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(&salt), shared)
        .expand(b"flotilla/v1 sealed box", &mut okm)
        .unwrap_or_else(|_| unreachable!("32 bytes is a valid HKDF-SHA256 output length"));
    SymmetricKey(okm)
}

mod serde_bytes64 {
    //! serde for `[u8; 64]` (serde derives arrays only up to 32).
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &[u8; 64], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 64], D::Error> {
        let v: &[u8] = Deserialize::deserialize(d)?;
        v.try_into()
            .map_err(|_| D::Error::invalid_length(v.len(), &"64 bytes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entropy::SeededEntropy;

    #[test]
    fn sign_verify_and_tamper() {
        let mut rng = SeededEntropy::new(1);
        let k = SecretKey::generate(&mut rng);
        let sig = k.sign(b"msg");
        assert_eq!(k.public().verify(b"msg", &sig), Ok(()));
        assert_eq!(
            k.public().verify(b"msh", &sig),
            Err(CryptoError::BadSignature)
        );
        let other = SecretKey::generate(&mut rng);
        assert!(other.public().verify(b"msg", &sig).is_err());
    }

    #[test]
    fn debug_never_prints_secrets() {
        let k = SecretKey::from_bytes(&[0xAB; 32]);
        let s = format!("{k:?} {:?}", SymmetricKey([0xAB; 32]));
        assert!(!s.to_lowercase().contains("abab"), "{s}");
    }

    #[test]
    fn sealed_box_opens_only_for_recipient_and_context() {
        let mut rng = SeededEntropy::new(2);
        let alice = SecretKey::generate(&mut rng);
        let mallory = SecretKey::generate(&mut rng);
        let boxed =
            SealedBox::seal(&alice.x25519_public(), b"epoch key", b"ctx", &mut rng).expect("seal");
        assert_eq!(alice.open(&boxed, b"ctx").expect("open"), b"epoch key");
        assert_eq!(alice.open(&boxed, b"other"), Err(CryptoError::Decrypt));
        assert_eq!(mallory.open(&boxed, b"ctx"), Err(CryptoError::Decrypt));
    }

    #[test]
    fn symmetric_round_trip_binds_aad() {
        let mut rng = SeededEntropy::new(3);
        let key = SymmetricKey::generate(&mut rng);
        let nonce = rng.array();
        let ct = key.encrypt(&nonce, b"hello", b"aad").expect("encrypt");
        assert_eq!(ct.len(), 5 + TAG_LEN);
        assert_eq!(key.decrypt(&nonce, &ct, b"aad").expect("decrypt"), b"hello");
        assert!(key.decrypt(&nonce, &ct, b"aaD").is_err());
        assert_ne!(key.derive(b"a"), key.derive(b"b"));
    }
}

//! The node's local users: username → user key, the keys encrypted at rest in the store
//! ([`crate::store::USERNAME_USERKEY`]).
//!
//! A user key is encrypted with XChaCha20-Poly1305 under a key derived from the node key
//! (BLAKE3 derive-key), with the username as associated data: the store alone (a copied
//! `store/` directory without `node.key`) does not reveal the keys.
//!
//! Not done yet (comes with the CLI and web work): passwords. The design (DESIGN §5) derives
//! each user's at-rest key from its password with argon2 and logs users in with sessions;
//! here any caller of the node API may act as any local user.

use std::collections::BTreeMap;

use flotilla_protocol as proto;
use proto::crypto::SymmetricKey;
use proto::entropy::Entropy;
use proto::event::MAX_NAME_CHARS;
use proto::{PublicKey, SecretKey};

use crate::Error;
use crate::store::SledStore;

const KDF_CONTEXT: &str = "flotilla/v1 user keys at rest";
const NONCE_LEN: usize = 24;

/// The local users, loaded from the store.
#[derive(Debug, Default)]
pub(crate) struct Users {
    by_name: BTreeMap<String, SecretKey>,
}

fn at_rest_key(node: &SecretKey) -> SymmetricKey {
    SymmetricKey(blake3::derive_key(KDF_CONTEXT, &node.to_bytes()))
}

fn aad(username: &str) -> Vec<u8> {
    [b"flotilla/v1 user key ".as_slice(), username.as_bytes()].concat()
}

/// Checks a username: 1 to 64 characters, no spaces, no control characters, not `@`
/// (reserved for `alice@Ondine`).
pub(crate) fn check_username(name: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '@');
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid {
            what: "username",
            reason: format!("`{name}`: 1 to {MAX_NAME_CHARS} characters, no spaces or @"),
        })
    }
}

impl Users {
    /// Loads and decrypts every stored user key.
    pub(crate) fn load(store: &SledStore, node: &SecretKey) -> Result<Self, Error> {
        let key = at_rest_key(node);
        let mut by_name = BTreeMap::new();
        for (name, sealed) in store.user_keys()? {
            let bad = || store::corrupt_user(&name);
            let (nonce, ct) = sealed.split_at_checked(NONCE_LEN).ok_or_else(bad)?;
            let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| bad())?;
            let seed = key.decrypt(&nonce, ct, &aad(&name)).map_err(|_| bad())?;
            let seed: [u8; 32] = seed.as_slice().try_into().map_err(|_| bad())?;
            by_name.insert(name, SecretKey::from_bytes(&seed));
        }
        Ok(Users { by_name })
    }

    /// The user named `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&SecretKey> {
        self.by_name.get(name)
    }

    /// Every local user.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&String, &SecretKey)> {
        self.by_name.iter()
    }

    /// The user named `name`, created (and stored, flushed) if new.
    pub(crate) fn get_or_create(
        &mut self,
        name: &str,
        store: &SledStore,
        node: &SecretKey,
        rng: &mut impl Entropy,
    ) -> Result<PublicKey, Error> {
        if let Some(k) = self.by_name.get(name) {
            return Ok(k.public());
        }
        check_username(name)?;
        let user = SecretKey::generate(rng);
        let nonce: [u8; NONCE_LEN] = rng.array();
        let ct = at_rest_key(node)
            .encrypt(&nonce, &user.to_bytes(), &aad(name))
            .map_err(|e| Error::Invalid {
                what: "user key",
                reason: e.to_string(),
            })?;
        store.put_user_key(name, &[nonce.as_slice(), &ct].concat())?;
        let public = user.public();
        self.by_name.insert(name.to_owned(), user);
        Ok(public)
    }
}

mod store {
    pub(super) fn corrupt_user(name: &str) -> crate::Error {
        crate::Error::Store(crate::store::Error::Corrupt(format!(
            "user key of `{name}` does not decrypt with this node key"
        )))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proto::entropy::SeededEntropy;

    use super::*;

    #[test]
    fn user_keys_survive_a_reload_and_need_the_node_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let mut rng = SeededEntropy::new(3);
        let node = SecretKey::generate(&mut rng);
        let mut users = Users::default();
        let alice = users
            .get_or_create("alice", &store, &node, &mut rng)
            .unwrap();
        assert_eq!(
            users
                .get_or_create("alice", &store, &node, &mut rng)
                .unwrap(),
            alice
        );
        assert!(
            users
                .get_or_create("bad name", &store, &node, &mut rng)
                .is_err()
        );
        let again = Users::load(&store, &node).unwrap();
        assert_eq!(again.get("alice").map(SecretKey::public), Some(alice));
        let other = SecretKey::generate(&mut rng);
        assert!(Users::load(&store, &other).is_err());
    }
}

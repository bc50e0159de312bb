//! The node's local users: username → user key, the keys encrypted at rest in the store
//! ([`crate::store::USERNAME_USERKEY`]).
//!
//! A user key is encrypted with XChaCha20-Poly1305 under a key derived from the node key
//! (BLAKE3 derive-key), with the username as associated data: the store alone (a copied
//! `store/` directory without `node.key`) does not reveal the keys.
//!
//! Accounts ([`crate::store::USERNAME_ACCOUNT`]) are made by `flotilla user create`: an
//! argon2id password hash (PHC string, hashed by the caller off the actor task, see
//! [`hash_password`]) and a node-admin flag. Logging in with the password comes with the web
//! UI; until then any caller of the node API (the admin socket, mode 0600) may act as any
//! local user.

use std::collections::BTreeMap;

use flotilla_protocol as proto;
use proto::crypto::SymmetricKey;
use proto::entropy::Entropy;
use proto::event::MAX_NAME_CHARS;
use proto::{PublicKey, SecretKey};

use crate::Error;
use crate::store::{Account, SledStore};

const KDF_CONTEXT: &str = "flotilla/v1 user keys at rest";
const NONCE_LEN: usize = 24;

/// Shortest password accepted, in characters.
pub(crate) const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password accepted, in bytes (argon2 hashes anything; this bounds the work).
pub(crate) const MAX_PASSWORD_BYTES: usize = 1024;

/// The local users, loaded from the store.
#[derive(Debug, Default)]
pub(crate) struct Users {
    by_name: BTreeMap<String, SecretKey>,
    accounts: BTreeMap<String, Account>,
}

/// Checks a password against [`MIN_PASSWORD_CHARS`] and [`MAX_PASSWORD_BYTES`].
///
/// # Errors
/// [`Error::Invalid`] saying which bound it breaks.
pub(crate) fn check_password(password: &str) -> Result<(), Error> {
    let reason = if password.chars().count() < MIN_PASSWORD_CHARS {
        format!("at least {MIN_PASSWORD_CHARS} characters")
    } else if password.len() > MAX_PASSWORD_BYTES {
        format!("at most {MAX_PASSWORD_BYTES} bytes")
    } else {
        return Ok(());
    };
    Err(Error::Invalid {
        what: "password",
        reason,
    })
}

/// Checks `password` and hashes it with argon2id (default parameters, random salt) into a
/// PHC string. Slow on purpose (tens of ms, more on a Raspberry Pi): call it from
/// `spawn_blocking`, never on the actor task.
///
/// # Errors
/// [`Error::Invalid`] for a password out of bounds or a hashing failure.
pub(crate) fn hash_password(password: &str) -> Result<String, Error> {
    use argon2::password_hash::PasswordHasher;
    check_password(password)?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::Invalid {
            what: "password",
            reason: e.to_string(),
        })
}

/// Does `password` match the argon2 PHC string `phc`? Slow on purpose, like
/// [`hash_password`]: call it from `spawn_blocking`. A malformed hash matches nothing.
pub(crate) fn verify_password(phc: &str, password: &str) -> bool {
    use argon2::password_hash::PasswordVerifier;
    use argon2::password_hash::phc::PasswordHash;
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    PasswordHash::new(phc).is_ok_and(|hash| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
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
        let accounts = store.accounts()?.into_iter().collect();
        Ok(Users { by_name, accounts })
    }

    /// The account of `name`, if `user create` made one.
    pub(crate) fn account(&self, name: &str) -> Option<&Account> {
        self.accounts.get(name)
    }

    /// Replaces the password hash of `name`'s account.
    ///
    /// # Errors
    /// [`Error::NotFound`] without such an account, [`Error::Store`] if the store fails.
    pub(crate) fn set_password(
        &mut self,
        name: &str,
        password_phc: String,
        store: &SledStore,
    ) -> Result<(), Error> {
        let account = self
            .accounts
            .get_mut(name)
            .ok_or_else(|| Error::NotFound(format!("account {name}")))?;
        let updated = Account {
            password_phc,
            ..account.clone()
        };
        store.put_account(name, &updated)?;
        *account = updated;
        Ok(())
    }

    /// Makes `name`'s account a node admin, or not; the last node admin stays one.
    ///
    /// # Errors
    /// [`Error::NotFound`] without such an account, [`Error::Forbidden`] for the last node
    /// admin, [`Error::Store`] if the store fails.
    pub(crate) fn set_admin(
        &mut self,
        name: &str,
        admin: bool,
        store: &SledStore,
    ) -> Result<(), Error> {
        let others = self.accounts.iter().any(|(n, a)| n != name && a.admin);
        let account = self
            .accounts
            .get_mut(name)
            .ok_or_else(|| Error::NotFound(format!("account `{name}` on this node")))?;
        if account.admin && !admin && !others {
            return Err(Error::Forbidden(
                "the node must keep a node admin: make another one first".into(),
            ));
        }
        let updated = Account {
            admin,
            ..account.clone()
        };
        store.put_account(name, &updated)?;
        *account = updated;
        Ok(())
    }

    /// Deactivates `name`'s account (it cannot log in), or activates it again.
    ///
    /// # Errors
    /// [`Error::NotFound`] without such an account, [`Error::Forbidden`] to deactivate the
    /// last active node admin, [`Error::Store`] if the store fails.
    pub(crate) fn set_deactivated(
        &mut self,
        name: &str,
        deactivated: bool,
        store: &SledStore,
    ) -> Result<(), Error> {
        if deactivated {
            self.check_keeps_an_admin(name, "deactivate")?;
        }
        let account = self
            .accounts
            .get_mut(name)
            .ok_or_else(|| Error::NotFound(format!("account `{name}` on this node")))?;
        let updated = Account {
            deactivated,
            ..account.clone()
        };
        store.put_account(name, &updated)?;
        *account = updated;
        Ok(())
    }

    /// Refuses to take `name` away when it is the node's last active node admin.
    pub(crate) fn check_keeps_an_admin(&self, name: &str, verb: &str) -> Result<(), Error> {
        let Some(account) = self.accounts.get(name) else {
            return Err(Error::NotFound(format!("account `{name}` on this node")));
        };
        let others = self
            .accounts
            .iter()
            .any(|(n, a)| n != name && a.admin && !a.deactivated);
        if account.admin && !others {
            return Err(Error::Forbidden(format!(
                "cannot {verb} `{name}`: the node must keep an active node admin, make another one first"
            )));
        }
        Ok(())
    }

    /// Forgets `name`: its account and its key (`user delete`; the caller removed it from
    /// the flotillas first). A new account of that name gets a new key.
    ///
    /// # Errors
    /// [`Error::NotFound`] without such an account, [`Error::Store`] if the store fails.
    pub(crate) fn remove(&mut self, name: &str, store: &SledStore) -> Result<(), Error> {
        if !self.accounts.contains_key(name) {
            return Err(Error::NotFound(format!("account `{name}` on this node")));
        }
        store.remove_user(name)?;
        self.accounts.remove(name);
        self.by_name.remove(name);
        Ok(())
    }

    /// Every account, by username.
    pub(crate) fn accounts(&self) -> impl Iterator<Item = (&String, &Account)> {
        self.accounts.iter()
    }

    /// Makes an account for `name` (its key too, unless the user exists without an
    /// account). Refuses an existing account or a bad username before storing anything.
    pub(crate) fn create_account(
        &mut self,
        name: &str,
        account: Account,
        store: &SledStore,
        node: &SecretKey,
        rng: &mut impl Entropy,
    ) -> Result<PublicKey, Error> {
        check_username(name)?;
        if self.accounts.contains_key(name) {
            return Err(Error::Exists(format!("user `{name}`")));
        }
        let key = self.get_or_create(name, store, node, rng)?;
        store.put_account(name, &account)?;
        self.accounts.insert(name.to_owned(), account);
        Ok(key)
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

    #[test]
    fn accounts_are_stored_once_and_survive_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let mut rng = SeededEntropy::new(4);
        let node = SecretKey::generate(&mut rng);
        let mut users = Users::default();
        let phc = hash_password("a long passphrase").unwrap();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        let account = Account {
            password_phc: phc,
            admin: true,
            deactivated: false,
        };
        let anne = users
            .create_account("anne", account.clone(), &store, &node, &mut rng)
            .unwrap();
        let again = users.create_account("anne", account.clone(), &store, &node, &mut rng);
        assert!(matches!(again, Err(Error::Exists(_))), "{again:?}");
        let bad = users.create_account("a b", account.clone(), &store, &node, &mut rng);
        assert!(matches!(bad, Err(Error::Invalid { .. })), "{bad:?}");
        assert!(users.get("a b").is_none(), "nothing stored on refusal");
        let loaded = Users::load(&store, &node).unwrap();
        assert_eq!(loaded.account("anne"), Some(&account));
        assert_eq!(loaded.get("anne").map(SecretKey::public), Some(anne));
        assert_eq!(loaded.accounts().count(), 1);
    }

    #[test]
    fn passwords_are_bounded() {
        assert!(check_password("short").is_err());
        assert!(check_password(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
        assert!(check_password("long enough").is_ok());
        assert!(hash_password("").is_err());
    }
}

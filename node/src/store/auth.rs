//! Web sessions and personal access tokens, persisted so that a node restart (a boat's power
//! cycle) does not log the crew out. Both are keyed by the BLAKE3 hash of their secret: the
//! store never holds a secret a stolen `store/` directory could replay.

use serde::{Deserialize, Serialize};

use super::{Error, SledStore, corrupt};

/// `BLAKE3(session secret) -> postcard(`[`StoredSession`]`)`: the web sessions.
pub const SESSIONHASH_SESSION: &str = "sessionhash_session";
/// `BLAKE3(token secret) -> postcard(`[`StoredToken`]`)`: personal access tokens.
pub const TOKENHASH_TOKEN: &str = "tokenhash_token";

/// A logged-in browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSession {
    /// Who.
    pub username: String,
    /// The CSRF token its writes must carry.
    pub csrf: String,
    /// Created (ms since the Unix epoch).
    pub created_ms: u64,
    /// Last used, to the hour (ms since the Unix epoch).
    pub last_used_ms: u64,
}

/// A personal access token, for scripts (`Authorization: Bearer`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredToken {
    /// Public id, for listing and revoking.
    pub id: String,
    /// Whose.
    pub username: String,
    /// What it is for.
    pub name: String,
    /// Created (ms since the Unix epoch).
    pub created_ms: u64,
}

fn load<T: for<'de> Deserialize<'de>>(
    tree: &sled::Tree,
    what: &str,
) -> Result<Vec<([u8; 32], T)>, Error> {
    tree.iter()
        .map(|kv| {
            let (k, v) = kv?;
            let hash: [u8; 32] = k.as_ref().try_into().map_err(|_| corrupt(what))?;
            let value = postcard::from_bytes(&v).map_err(|_| corrupt(what))?;
            Ok((hash, value))
        })
        .collect()
}

impl SledStore {
    fn tree(&self, name: &str) -> Result<sled::Tree, Error> {
        Ok(self.db.open_tree(name)?)
    }

    /// Every stored session.
    ///
    /// # Errors
    /// [`Error::Sled`], or [`Error::Corrupt`] for an undecodable entry.
    pub fn sessions(&self) -> Result<Vec<([u8; 32], StoredSession)>, Error> {
        load(&self.tree(SESSIONHASH_SESSION)?, "session")
    }

    /// Stores (or replaces) a session. Flushed.
    ///
    /// # Errors
    /// [`Error::Sled`] if sled fails.
    pub fn put_session(&self, hash: &[u8; 32], session: &StoredSession) -> Result<(), Error> {
        let bytes = postcard::to_stdvec(session).map_err(|_| corrupt("session"))?;
        self.tree(SESSIONHASH_SESSION)?.insert(hash, bytes)?;
        self.flush()
    }

    /// Forgets sessions. Flushed.
    ///
    /// # Errors
    /// [`Error::Sled`] if sled fails.
    pub fn remove_sessions(&self, hashes: &[[u8; 32]]) -> Result<(), Error> {
        let tree = self.tree(SESSIONHASH_SESSION)?;
        for hash in hashes {
            tree.remove(hash)?;
        }
        self.flush()
    }

    /// Every stored token.
    ///
    /// # Errors
    /// [`Error::Sled`], or [`Error::Corrupt`] for an undecodable entry.
    pub fn tokens(&self) -> Result<Vec<([u8; 32], StoredToken)>, Error> {
        load(&self.tree(TOKENHASH_TOKEN)?, "token")
    }

    /// Stores a token. Flushed.
    ///
    /// # Errors
    /// [`Error::Sled`] if sled fails.
    pub fn put_token(&self, hash: &[u8; 32], token: &StoredToken) -> Result<(), Error> {
        let bytes = postcard::to_stdvec(token).map_err(|_| corrupt("token"))?;
        self.tree(TOKENHASH_TOKEN)?.insert(hash, bytes)?;
        self.flush()
    }

    /// Forgets a token. Flushed.
    ///
    /// # Errors
    /// [`Error::Sled`] if sled fails.
    pub fn remove_token(&self, hash: &[u8; 32]) -> Result<(), Error> {
        self.tree(TOKENHASH_TOKEN)?.remove(hash)?;
        self.flush()
    }

    /// The account of `username`, if there is one.
    ///
    /// # Errors
    /// [`Error::Sled`], or [`Error::Corrupt`] for an undecodable entry.
    pub fn account(&self, username: &str) -> Result<Option<super::Account>, Error> {
        self.accounts
            .get(username.as_bytes())?
            .map(|v| super::decode_account(&v))
            .transpose()
    }
}

//! [`Sessions`]: the web sessions and personal access tokens of a node, held in memory for
//! every request's lookup and written through to the store (hashed) for restarts.
//!
//! Secrets are 256 random bits shown to the client once (cookie or token); the maps and the
//! store are keyed by their BLAKE3 hash. Lookups never touch the disk; writes are blocking
//! (sled flush): call them from `spawn_blocking`.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use flotilla_protocol::id::to_hex;

use crate::Error;
use crate::actor::now_ms;
use crate::store::{SledStore, StoredSession, StoredToken};

/// A session unused for this long is over (30 days: a season's passage, not forever).
pub const SESSION_IDLE_MS: u64 = 30 * 24 * 3600 * 1000;
/// Sessions kept at most; the least recently used goes first.
pub const MAX_SESSIONS: usize = 10_000;
/// Tokens per user at most.
pub const MAX_TOKENS_PER_USER: usize = 50;
/// How stale a session's persisted `last_used_ms` may get before it is written again.
const TOUCH_EVERY_MS: u64 = 3600 * 1000;

/// A secret's hash: the key of the maps and of the store.
pub type SecretHash = [u8; 32];

/// Hashes a secret as the client presents it.
pub fn hash_secret(secret: &str) -> SecretHash {
    *blake3::hash(secret.as_bytes()).as_bytes()
}

/// `N` bytes from the OS's random number generator.
///
/// # Errors
/// [`Error::Invalid`] if the OS has no randomness to give.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], Error> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| Error::Invalid {
        what: "randomness",
        reason: e.to_string(),
    })?;
    Ok(bytes)
}

/// 256 random bits as 64 hex characters.
///
/// # Errors
/// [`Error::Invalid`] if the OS has no randomness to give.
pub fn new_secret() -> Result<String, Error> {
    Ok(to_hex(&random_bytes::<32>()?))
}

#[derive(Debug, Default)]
struct Inner {
    sessions: HashMap<SecretHash, StoredSession>,
    tokens: HashMap<SecretHash, StoredToken>,
}

/// The sessions and tokens of a node.
#[derive(Debug)]
pub struct Sessions {
    store: SledStore,
    inner: Mutex<Inner>,
    /// Bumped whenever a session ends or a token is revoked, so live connections (the
    /// WebSocket) check their credential at once rather than at their next event.
    ended: tokio::sync::watch::Sender<u64>,
}

impl Sessions {
    /// Loads every session and token from the store, dropping expired sessions.
    ///
    /// # Errors
    /// [`Error::Store`] if the store fails.
    pub fn load(store: SledStore) -> Result<Self, Error> {
        let now = now_ms();
        let (live, expired): (Vec<_>, Vec<_>) = store
            .sessions()?
            .into_iter()
            .partition(|(_, s)| now.saturating_sub(s.last_used_ms) < SESSION_IDLE_MS);
        let expired: Vec<SecretHash> = expired.into_iter().map(|(h, _)| h).collect();
        store.remove_sessions(&expired)?;
        let inner = Inner {
            sessions: live.into_iter().collect(),
            tokens: store.tokens()?.into_iter().collect(),
        };
        Ok(Sessions {
            store,
            inner: Mutex::new(inner),
            ended: tokio::sync::watch::Sender::new(0),
        })
    }

    /// Changes whenever a session ends or a token is revoked (its value is a counter).
    pub fn watch_ends(&self) -> tokio::sync::watch::Receiver<u64> {
        self.ended.subscribe()
    }

    fn announce_end(&self) {
        self.ended.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Is the token of this hash still valid (not revoked)?
    pub fn token_is_live(&self, hash: &SecretHash) -> bool {
        self.lock().tokens.contains_key(hash)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding this lock leaves plain maps behind, still consistent.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens a session for `username`: `(secret for the cookie, CSRF token)`. Blocking.
    ///
    /// # Errors
    /// [`Error::Store`] if the store fails, [`Error::Invalid`] without randomness.
    pub fn open(&self, username: &str) -> Result<(String, String), Error> {
        let secret = new_secret()?;
        let csrf = new_secret()?;
        let now = now_ms();
        let session = StoredSession {
            username: username.to_owned(),
            csrf: csrf.clone(),
            created_ms: now,
            last_used_ms: now,
        };
        let hash = hash_secret(&secret);
        self.store.put_session(&hash, &session)?;
        let evicted = {
            let mut inner = self.lock();
            inner.sessions.insert(hash, session);
            evict_oldest(&mut inner.sessions)
        };
        self.store.remove_sessions(&evicted)?;
        Ok((secret, csrf))
    }

    /// The live session of a cookie secret. Touches it in memory; returns whether its stored
    /// copy is stale enough to be written again ([`Sessions::persist`]).
    pub fn get(&self, secret: &str) -> Option<(SecretHash, StoredSession, bool)> {
        let hash = hash_secret(secret);
        let now = now_ms();
        let mut inner = self.lock();
        let session = inner.sessions.get_mut(&hash)?;
        if now.saturating_sub(session.last_used_ms) >= SESSION_IDLE_MS {
            return None;
        }
        let stale = now.saturating_sub(session.last_used_ms) >= TOUCH_EVERY_MS;
        if stale {
            session.last_used_ms = now;
        }
        Some((hash, session.clone(), stale))
    }

    /// Is the session of this hash still open (not closed, ended or evicted)?
    pub fn is_open(&self, hash: &SecretHash) -> bool {
        self.lock().sessions.contains_key(hash)
    }

    /// Writes a touched session back. Blocking.
    ///
    /// # Errors
    /// [`Error::Store`] if the store fails.
    pub fn persist(&self, hash: &SecretHash, session: &StoredSession) -> Result<(), Error> {
        Ok(self.store.put_session(hash, session)?)
    }

    /// Ends one session. Blocking.
    ///
    /// # Errors
    /// [`Error::Store`] if the store fails.
    pub fn close(&self, hash: &SecretHash) -> Result<(), Error> {
        self.lock().sessions.remove(hash);
        self.announce_end();
        Ok(self.store.remove_sessions(&[*hash])?)
    }

    /// Ends every session of `username` but `keep`. Blocking.
    ///
    /// # Errors
    /// [`Error::Store`] if the store fails.
    pub fn close_all_of(&self, username: &str, keep: Option<&SecretHash>) -> Result<(), Error> {
        let gone: Vec<SecretHash> = {
            let mut inner = self.lock();
            let gone: Vec<SecretHash> = inner
                .sessions
                .iter()
                .filter(|(h, s)| s.username == username && Some(*h) != keep)
                .map(|(h, _)| *h)
                .collect();
            for h in &gone {
                inner.sessions.remove(h);
            }
            gone
        };
        self.announce_end();
        Ok(self.store.remove_sessions(&gone)?)
    }

    /// Ends every session and revokes every token of `username` (a deactivated or deleted
    /// account); returns how many. Blocking.
    ///
    /// # Errors
    /// [`Error::Store`] if the store fails.
    pub fn end_all_of(&self, username: &str) -> Result<usize, Error> {
        let (sessions, tokens) = {
            let mut inner = self.lock();
            let sessions: Vec<SecretHash> = inner
                .sessions
                .iter()
                .filter(|(_, s)| s.username == username)
                .map(|(h, _)| *h)
                .collect();
            let tokens: Vec<SecretHash> = inner
                .tokens
                .iter()
                .filter(|(_, t)| t.username == username)
                .map(|(h, _)| *h)
                .collect();
            for h in &sessions {
                inner.sessions.remove(h);
            }
            for h in &tokens {
                inner.tokens.remove(h);
            }
            (sessions, tokens)
        };
        self.announce_end();
        self.store.remove_sessions(&sessions)?;
        for h in &tokens {
            self.store.remove_token(h)?;
        }
        Ok(sessions.len() + tokens.len())
    }

    /// Makes a token for `username`: `(its record, the secret shown once)`. Blocking.
    ///
    /// # Errors
    /// [`Error::Invalid`] past [`MAX_TOKENS_PER_USER`], [`Error::Store`] if the store fails.
    pub fn new_token(&self, username: &str, name: &str) -> Result<(StoredToken, String), Error> {
        if self.tokens_of(username).len() >= MAX_TOKENS_PER_USER {
            return Err(Error::Invalid {
                what: "token",
                reason: format!("at most {MAX_TOKENS_PER_USER} tokens per user"),
            });
        }
        let secret = format!("flt_{}", new_secret()?);
        let id = new_secret()?[..16].to_owned();
        let token = StoredToken {
            id,
            username: username.to_owned(),
            name: name.to_owned(),
            created_ms: now_ms(),
        };
        let hash = hash_secret(&secret);
        self.store.put_token(&hash, &token)?;
        self.lock().tokens.insert(hash, token.clone());
        Ok((token, secret))
    }

    /// The token a bearer secret names.
    pub fn token(&self, secret: &str) -> Option<StoredToken> {
        self.lock().tokens.get(&hash_secret(secret)).cloned()
    }

    /// The tokens of `username`, oldest first.
    pub fn tokens_of(&self, username: &str) -> Vec<StoredToken> {
        let mut tokens: Vec<StoredToken> = self
            .lock()
            .tokens
            .values()
            .filter(|t| t.username == username)
            .cloned()
            .collect();
        tokens.sort_by_key(|t| t.created_ms);
        tokens
    }

    /// Revokes `username`'s token `id`; false if they have none by that id. Blocking.
    ///
    /// # Errors
    /// [`Error::Store`] if the store fails.
    pub fn revoke_token(&self, username: &str, id: &str) -> Result<bool, Error> {
        let hash = {
            let mut inner = self.lock();
            let Some(hash) = inner
                .tokens
                .iter()
                .find(|(_, t)| t.username == username && t.id == id)
                .map(|(h, _)| *h)
            else {
                return Ok(false);
            };
            inner.tokens.remove(&hash);
            hash
        };
        self.announce_end();
        self.store.remove_token(&hash)?;
        Ok(true)
    }
}

/// Drops the least recently used sessions past [`MAX_SESSIONS`]; returns their hashes.
fn evict_oldest(sessions: &mut HashMap<SecretHash, StoredSession>) -> Vec<SecretHash> {
    let excess = sessions.len().saturating_sub(MAX_SESSIONS);
    if excess == 0 {
        return Vec::new();
    }
    let mut by_age: Vec<(u64, SecretHash)> =
        sessions.iter().map(|(h, s)| (s.last_used_ms, *h)).collect();
    by_age.sort_unstable();
    let gone: Vec<SecretHash> = by_age.into_iter().take(excess).map(|(_, h)| h).collect();
    for h in &gone {
        sessions.remove(h);
    }
    gone
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sessions() -> (tempfile::TempDir, Sessions) {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        (dir, Sessions::load(store).unwrap())
    }

    #[test]
    fn sessions_survive_a_reload_and_close() {
        let (dir, s) = sessions();
        let (secret, csrf) = s.open("anne").unwrap();
        let (hash, got, _) = s.get(&secret).unwrap();
        assert_eq!(
            (got.username.as_str(), got.csrf.as_str()),
            ("anne", csrf.as_str())
        );
        assert!(s.get("nope").is_none());
        drop(s);
        let store = SledStore::open(dir.path()).unwrap();
        let s = Sessions::load(store).unwrap();
        assert!(s.get(&secret).is_some());
        s.close(&hash).unwrap();
        assert!(s.get(&secret).is_none());
    }

    #[test]
    fn closing_all_of_a_user_keeps_the_one_asked() {
        let (_dir, s) = sessions();
        let (a, _) = s.open("anne").unwrap();
        let (b, _) = s.open("anne").unwrap();
        let (c, _) = s.open("bob").unwrap();
        let keep = hash_secret(&a);
        s.close_all_of("anne", Some(&keep)).unwrap();
        assert!(s.get(&a).is_some());
        assert!(s.get(&b).is_none());
        assert!(s.get(&c).is_some());
    }

    #[test]
    fn ending_all_of_a_user_closes_sessions_and_tokens() {
        let (_dir, s) = sessions();
        let (a, _) = s.open("anne").unwrap();
        let (_, ta) = s.new_token("anne", "script").unwrap();
        let (b, _) = s.open("bob").unwrap();
        let (_, tb) = s.new_token("bob", "script").unwrap();
        assert_eq!(s.end_all_of("anne").unwrap(), 2);
        assert!(s.get(&a).is_none() && s.token(&ta).is_none());
        assert!(!s.is_open(&hash_secret(&a)) && s.is_open(&hash_secret(&b)));
        assert!(s.get(&b).is_some() && s.token(&tb).is_some());
        assert_eq!(s.end_all_of("anne").unwrap(), 0);
    }

    #[test]
    fn tokens_are_found_by_secret_listed_and_revoked() {
        let (_dir, s) = sessions();
        let (token, secret) = s.new_token("anne", "backup script").unwrap();
        assert!(secret.starts_with("flt_"));
        assert_eq!(s.token(&secret), Some(token.clone()));
        assert_eq!(s.tokens_of("anne"), vec![token.clone()]);
        assert!(!s.revoke_token("bob", &token.id).unwrap());
        assert!(s.revoke_token("anne", &token.id).unwrap());
        assert_eq!(s.token(&secret), None);
    }

    #[test]
    fn eviction_drops_the_least_recently_used() {
        let mut map = HashMap::new();
        for i in 0..(MAX_SESSIONS + 2) {
            let mut h = [0u8; 32];
            h[..8].copy_from_slice(&(i as u64).to_be_bytes());
            let s = StoredSession {
                username: "u".into(),
                csrf: String::new(),
                created_ms: 0,
                last_used_ms: i as u64,
            };
            map.insert(h, s);
        }
        let gone = evict_oldest(&mut map);
        assert_eq!(gone.len(), 2);
        assert_eq!(map.len(), MAX_SESSIONS);
        assert!(gone.iter().all(|h| h[7] < 2 && h[..7] == [0; 7]));
    }
}

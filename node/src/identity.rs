//! Identities, not names: how people and boats given by the CLI or the API (a username, a
//! `name@boat`, a key) are resolved to keys, how a user is shown when two boats have the same
//! username (`skipper@Ondine`), and the key fingerprint two people compare, like Signal's
//! safety numbers, before trusting a DM.
//!
//! A username is unique on its home boat only: a node that registers `skipper` must never
//! receive what was meant for the real skipper. So a bare name that more than one boat
//! has is refused, with the candidates, and the caller chooses `name@boat` or the key.

use flotilla_protocol as proto;
use proto::PublicKey;
use proto::membership::AuthState;

use crate::Error;

/// Digits in a fingerprint (six groups of five), from 100 bits of BLAKE3.
pub const FINGERPRINT_DIGITS: usize = 30;
const FINGERPRINT_CONTEXT: &str = "flotilla/v1 key fingerprint";

/// The fingerprint of a user's key: 30 digits in groups of five (`12345 67890 …`), the
/// same on every boat, for two people to compare out of band.
pub fn fingerprint(key: &PublicKey) -> String {
    let hash = blake3::derive_key(FINGERPRINT_CONTEXT, &key.0);
    let groups: Vec<String> = hash
        .chunks_exact(5)
        .take(FINGERPRINT_DIGITS / 5)
        .map(|c| {
            let n = c.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
            format!("{:05}", n % 100_000)
        })
        .collect();
    groups.join(" ")
}

/// The name of a user's home boat (a short key if the boat is unknown).
fn boat_of(auth: &AuthState, user: &PublicKey) -> String {
    auth.users
        .get(user)
        .and_then(|u| auth.nodes.get(&u.info.home))
        .map_or_else(|| user.fmt_short(), |n| n.info.name.clone())
}

/// How `user` is shown: its username, or `name@boat` when another active user of another
/// boat has the same username.
pub fn display_name(auth: &AuthState, user: &PublicKey) -> String {
    let Some(u) = auth.users.get(user) else {
        return user.fmt_short();
    };
    let clash = auth.users.iter().any(|(k, other)| {
        k != user && other.info.username == u.info.username && auth.is_active_user(k)
    });
    if clash {
        format!("{}@{}", u.info.username, boat_of(auth, user))
    } else {
        u.info.username.clone()
    }
}

/// Resolves `given` to an active user of the flotilla: a user key (hex), `name@boat`, or a
/// username that only one boat has.
///
/// # Errors
/// [`Error::NotFound`] if nobody matches; [`Error::Invalid`] naming the candidates when a
/// bare username is taken on several boats.
pub fn resolve_user(auth: &AuthState, given: &str) -> Result<PublicKey, Error> {
    let given = given.trim();
    if let Ok(key) = given.parse::<PublicKey>() {
        return if auth.is_active_user(&key) {
            Ok(key)
        } else {
            Err(Error::NotFound(format!("user {given} in this flotilla")))
        };
    }
    let (name, boat) = match given.split_once('@') {
        Some((n, b)) => (n, Some(b)),
        None => (given, None),
    };
    let matches: Vec<PublicKey> = auth
        .users
        .iter()
        .filter(|(k, u)| u.info.username == name && auth.is_active_user(k))
        .filter(|(k, _)| boat.is_none_or(|b| boat_of(auth, k) == b))
        .map(|(k, _)| *k)
        .collect();
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => Err(Error::NotFound(format!("user `{given}` in this flotilla"))),
        many => Err(Error::Invalid {
            what: "user",
            reason: format!(
                "`{given}` is a user of several boats: {}; give name@boat or the key",
                many.iter()
                    .map(|k| format!("{}@{} (key {k})", name, boat_of(auth, k)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

/// Resolves `given` to an active node of the flotilla: its key (hex) or its name, if only
/// one active node has it.
///
/// # Errors
/// [`Error::NotFound`], or [`Error::Invalid`] naming the candidates.
pub fn resolve_node(auth: &AuthState, given: &str) -> Result<PublicKey, Error> {
    let given = given.trim();
    if let Ok(key) = given.parse::<PublicKey>() {
        return if auth.is_active_node(&key) {
            Ok(key)
        } else {
            Err(Error::NotFound(format!("boat {given} in this flotilla")))
        };
    }
    let matches: Vec<PublicKey> = auth
        .active_nodes()
        .into_iter()
        .filter(|n| n.name == given)
        .map(|n| n.key)
        .collect();
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => Err(Error::NotFound(format!("boat `{given}` in this flotilla"))),
        many => Err(Error::Invalid {
            what: "boat",
            reason: format!(
                "several boats are named `{given}`: {}; give the key",
                many.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

/// The active users `@mentions` in `text` name: `@name@boat` is that user only; a bare
/// `@name` is every active user of that name (a mention only notifies, so a name two boats
/// have notifies both). At most `limit`.
pub fn mentioned(auth: &AuthState, text: &str, limit: usize) -> Vec<PublicKey> {
    let mut out = std::collections::BTreeSet::new();
    for name in proto::mention::names(text) {
        let qualified: Vec<&str> = text
            .match_indices(&format!("@{name}@"))
            .map(|(i, m)| {
                let rest = &text[i + m.len()..];
                let end = rest
                    .find(|c: char| !(c.is_alphanumeric() || matches!(c, '-' | '_')))
                    .unwrap_or(rest.len());
                &rest[..end]
            })
            .filter(|boat| !boat.is_empty())
            .collect();
        if qualified.is_empty() {
            out.extend(
                auth.users
                    .iter()
                    .filter(|(k, u)| u.info.username == name && auth.is_active_user(k))
                    .map(|(k, _)| *k),
            );
        } else {
            out.extend(
                qualified
                    .iter()
                    .filter_map(|boat| resolve_user(auth, &format!("{name}@{boat}")).ok()),
            );
        }
    }
    out.into_iter().take(limit).collect()
}

#[cfg(test)]
mod tests;

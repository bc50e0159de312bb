//! Account lifecycle, shared by the admin socket (`flotilla user deactivate|activate|delete|
//! unlock`) and the HTTP API (`/api/v1/users/{username}/…`): the actor changes the stored
//! account, this module ends the sessions and tokens the HTTP side holds and clears login
//! rate limits.
//!
//! A deactivated account cannot log in, and every session and token it had ends (the
//! [`Caller`](crate::http::auth::Caller) extractor also refuses it, should one survive); an
//! activated one logs in again with its password. A deleted account is removed from every
//! flotilla this node is in (its posts stay, shown as a removed author), then forgotten.

use std::sync::Arc;

use crate::Error;
use crate::handle::{LocalUser, NodeHandle};
use crate::http::Auth;
use crate::http::ratelimit::login_key;

/// Ends every session and token of `username` (off the runtime: the store flushes).
///
/// # Errors
/// [`Error::Store`] if the store fails.
pub async fn end_sessions(auth: &Arc<Auth>, username: &str) -> Result<usize, Error> {
    let auth = Arc::clone(auth);
    let name = username.to_owned();
    tokio::task::spawn_blocking(move || auth.sessions.end_all_of(&name)).await?
}

/// Deactivates `username` (and ends its sessions and tokens), or activates it again.
///
/// # Errors
/// [`Error::NotFound`] without such an account, [`Error::Forbidden`] for the last active
/// node admin, [`Error::Store`], [`Error::ActorGone`].
pub async fn set_deactivated(
    node: &NodeHandle,
    auth: &Arc<Auth>,
    username: &str,
    deactivated: bool,
) -> Result<LocalUser, Error> {
    let user = node.set_deactivated(username, deactivated).await?;
    if deactivated {
        end_sessions(auth, username).await?;
        tracing::info!(user = %username, "account deactivated");
    } else {
        tracing::info!(user = %username, "account activated");
    }
    Ok(user)
}

/// Deletes `username`: removed from the flotillas, its account and key forgotten, its
/// sessions and tokens ended, its login limit cleared. Returns the user as it was and how
/// many flotillas it was removed from.
///
/// # Errors
/// As [`NodeHandle::delete_account`].
pub async fn delete(
    node: &NodeHandle,
    auth: &Arc<Auth>,
    username: &str,
) -> Result<(LocalUser, usize), Error> {
    let deleted = node.delete_account(username).await?;
    end_sessions(auth, username).await?;
    auth.limiter.clear(&login_key(username));
    Ok(deleted)
}

/// Clears the login rate limit of `username` (`user unlock`); true if it was locked out
/// (its failures used up in the current window).
///
/// # Errors
/// [`Error::NotFound`] without such an account, [`Error::ActorGone`].
pub async fn unlock(node: &NodeHandle, auth: &Auth, username: &str) -> Result<bool, Error> {
    let known = node
        .users()
        .await?
        .iter()
        .any(|u| u.account && u.username == username);
    if !known {
        return Err(Error::NotFound(format!(
            "account `{username}` on this node"
        )));
    }
    let key = login_key(username);
    let locked = auth.limiter.check(&key, std::time::Instant::now()).is_err();
    auth.limiter.clear(&key);
    Ok(locked)
}

//! The admin socket's account requests (`flotilla user deactivate|activate|delete|unlock|
//! password`), through [`crate::accounts`] so that the node's HTTP sessions, tokens and
//! login limits follow (when the server holds them, see `Server::start_node`).

use std::sync::Arc;

use super::server::{Failure, from_node};
use super::wire::{ErrorCode, UnlockedView, UserDeletedView, UserView};
use crate::handle::{LocalUser, NodeHandle};
use crate::http::Auth;

/// A local user as the socket shows it.
pub(super) fn user_view(u: LocalUser) -> UserView {
    UserView {
        username: u.username,
        user_key: u.key.to_string(),
        admin: u.admin,
        deactivated: u.deactivated,
    }
}

/// `user deactivate` / `user activate`.
pub(super) async fn set_deactivated(
    node: &NodeHandle,
    auth: Option<&Arc<Auth>>,
    username: &str,
    deactivated: bool,
) -> Result<UserView, Failure> {
    let user = match auth {
        Some(auth) => crate::accounts::set_deactivated(node, auth, username, deactivated).await,
        None => node.set_deactivated(username, deactivated).await,
    }
    .map_err(from_node)?;
    Ok(user_view(user))
}

/// `user delete USER --confirm`.
pub(super) async fn delete(
    node: &NodeHandle,
    auth: Option<&Arc<Auth>>,
    username: &str,
    confirm: bool,
) -> Result<UserDeletedView, Failure> {
    if !confirm {
        return Err((
            ErrorCode::Invalid,
            format!(
                "deleting `{username}` cannot be undone: add --confirm (its posts stay, shown \
                 as a deleted user; `user deactivate` only stops its logins)"
            ),
        ));
    }
    let (user, flotillas) = match auth {
        Some(auth) => crate::accounts::delete(node, auth, username).await,
        None => node.delete_account(username).await,
    }
    .map_err(from_node)?;
    Ok(UserDeletedView {
        username: user.username,
        user_key: user.key.to_string(),
        flotillas,
    })
}

/// `user unlock USER`.
pub(super) async fn unlock(
    node: &NodeHandle,
    auth: Option<&Arc<Auth>>,
    username: &str,
) -> Result<UnlockedView, Failure> {
    let auth = auth.ok_or_else(|| {
        (
            ErrorCode::Unavailable,
            "this admin socket does not serve the node's HTTP side".to_owned(),
        )
    })?;
    let was_locked = crate::accounts::unlock(node, auth, username)
        .await
        .map_err(from_node)?;
    Ok(UnlockedView {
        username: username.to_owned(),
        was_locked,
    })
}

/// `user password USER PASSWORD`: the new hash, then the account's HTTP sessions end (as
/// when an admin sets it through the API).
pub(super) async fn password(
    node: &NodeHandle,
    auth: Option<&Arc<Auth>>,
    username: String,
    password: String,
) -> Result<UserView, Failure> {
    let users = node.users().await.map_err(from_node)?;
    let user = users
        .into_iter()
        .find(|u| u.username == username && u.account)
        .ok_or_else(|| {
            (
                ErrorCode::NotFound,
                format!("no local account `{username}`"),
            )
        })?;
    crate::users::check_password(&password).map_err(from_node)?;
    let phc = tokio::task::spawn_blocking(move || crate::users::hash_password(&password))
        .await
        .map_err(|e| (ErrorCode::Internal, e.to_string()))?
        .map_err(from_node)?;
    node.set_password(&username, phc).await.map_err(from_node)?;
    if let Some(auth) = auth {
        let auth = Arc::clone(auth);
        let name = username.clone();
        tokio::task::spawn_blocking(move || auth.sessions.close_all_of(&name, None))
            .await
            .map_err(|e| (ErrorCode::Internal, e.to_string()))?
            .map_err(from_node)?;
    }
    Ok(user_view(user))
}

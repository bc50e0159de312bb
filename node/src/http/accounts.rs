//! Accounts and sessions over HTTP: first-admin setup, login and logout, the caller's own
//! account, node admins managing users, personal access tokens.

use std::sync::{Arc, LazyLock};
use std::time::Instant;

use axum::Json;
use axum::extract::State;
// Path and query rejections answered as `{"error","message"}` (see `json`).
use super::json::ApiPath as Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::auth::{Caller, ClientAddr, SESSION_COOKIE};
use super::error::{ApiError, ErrorBody};
use super::json::ApiJson;
use super::sessions::{SESSION_IDLE_MS, Sessions};
use crate::store::Account;
use crate::users::{check_password, check_username, hash_password, verify_password};

/// Whether the node still waits for its first admin.
#[derive(Debug, Serialize, ToSchema)]
pub struct SetupStatus {
    /// True until the first admin is made with the console's setup code.
    pub needed: bool,
}

/// Makes the first admin.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SetupRequest {
    /// The code the node printed on its console at first start.
    pub code: String,
    /// The admin's username.
    pub username: String,
    /// Their password (8 characters at least).
    pub password: String,
}

/// Logs in.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
}

/// The caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// Username.
    pub username: String,
    /// Their public key, hex.
    pub key: String,
    /// A node admin?
    pub admin: bool,
    /// What writes must send in `X-CSRF-Token` (absent for a bearer token).
    pub csrf_token: Option<String>,
}

/// Changes the caller's password.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangePassword {
    /// The current password.
    pub current: String,
    /// The new one.
    pub new: String,
}

/// A local account.
#[derive(Debug, Serialize, ToSchema)]
pub struct User {
    /// Username.
    pub username: String,
    /// Public key, hex.
    pub key: String,
    /// A node admin?
    pub admin: bool,
    /// Deactivated (cannot log in until a node admin activates it)?
    pub deactivated: bool,
}

impl From<crate::handle::LocalUser> for User {
    fn from(u: crate::handle::LocalUser) -> Self {
        User {
            username: u.username,
            key: u.key.to_string(),
            admin: u.admin,
            deactivated: u.deactivated,
        }
    }
}

/// A login rate limit cleared.
#[derive(Debug, Serialize, ToSchema)]
pub struct Unlocked {
    /// Username.
    pub username: String,
    /// Was the username locked out (too many failed logins in the window)?
    pub was_locked: bool,
}

/// A new account.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewUser {
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
    /// A node admin?
    #[serde(default)]
    pub admin: bool,
}

/// A new password, set by an admin.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ResetPassword {
    /// The new password.
    pub password: String,
}

/// A personal access token (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct Token {
    /// Its id.
    pub id: String,
    /// What it is for.
    pub name: String,
    /// Created (ms since the Unix epoch).
    pub created_at: u64,
}

/// Asks for a token.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewToken {
    /// What it is for (1–64 characters).
    pub name: String,
}

/// A new token, with its secret shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// Its id.
    pub id: String,
    /// What it is for.
    pub name: String,
    /// Created (ms since the Unix epoch).
    pub created_at: u64,
    /// The secret: `Authorization: Bearer <token>`.
    pub token: String,
}

/// Verifying against this when the user is unknown makes both failures cost the same.
static DUMMY_PHC: LazyLock<Option<String>> =
    LazyLock::new(|| hash_password("not a real password").ok());

/// The session cookie; `Secure` (sent over HTTPS only) when the node serves TLS.
fn session_cookie(state: &AppState, secret: &str, max_age_s: u64) -> Result<HeaderValue, ApiError> {
    let secure = if state.info.tls_fingerprint.is_some() {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={secret}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_s}{secure}"
    ))
    .map_err(|e| ApiError::internal(&e))
}

/// Runs a session-store write (blocking: it flushes sled) off the runtime.
async fn with_sessions<T: Send + 'static>(
    state: &AppState,
    write: impl FnOnce(&Sessions) -> Result<T, crate::Error> + Send + 'static,
) -> Result<T, ApiError> {
    let auth = Arc::clone(&state.auth);
    Ok(tokio::task::spawn_blocking(move || write(&auth.sessions)).await??)
}

/// Opens a session for `username` and answers `Me` with the cookie set.
async fn logged_in(state: &AppState, username: String, admin: bool) -> Result<Response, ApiError> {
    let name = username.clone();
    let (secret, csrf) = with_sessions(state, move |s| s.open(&name)).await?;
    let key = user_key(state, &username).await?;
    let me = Me {
        username,
        key,
        admin,
        csrf_token: Some(csrf),
    };
    let mut response = Json(me).into_response();
    let cookie = session_cookie(state, &secret, SESSION_IDLE_MS / 1000)?;
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

async fn user_key(state: &AppState, username: &str) -> Result<String, ApiError> {
    let users = state.node.users().await?;
    Ok(users
        .into_iter()
        .find(|u| u.username == username)
        .map(|u| u.key.to_string())
        .unwrap_or_default())
}

/// Refuses when `keys` used up their failures.
fn check_limits(state: &AppState, keys: &[String], now: Instant) -> Result<(), ApiError> {
    for key in keys {
        state
            .auth
            .limiter
            .check(key, now)
            .map_err(ApiError::rate_limited)?;
    }
    Ok(())
}

fn limit_keys(addr: ClientAddr, username: &str) -> Vec<String> {
    let mut keys = vec![super::ratelimit::login_key(username)];
    if let Some(addr) = addr.0 {
        keys.push(format!("addr:{}", addr.ip()));
    }
    keys
}

/// Hashes a password off the runtime, with the bounds checked first.
async fn hash(password: String) -> Result<String, ApiError> {
    check_password(&password)?;
    Ok(tokio::task::spawn_blocking(move || hash_password(&password)).await??)
}

/// `username`'s account if `password` is its password, else `None` (no such account, or a
/// wrong password: both cost one argon2 verification).
async fn verify(
    state: &AppState,
    username: &str,
    password: String,
) -> Result<Option<Account>, ApiError> {
    let store = state.store.clone();
    let name = username.to_owned();
    tokio::task::spawn_blocking(move || {
        let account = store.account(&name)?;
        let phc = account.as_ref().map(|a| a.password_phc.as_str());
        let matches = verify_password(phc.or(DUMMY_PHC.as_deref()).unwrap_or(""), &password);
        Ok::<_, crate::store::Error>(account.filter(|_| matches))
    })
    .await?
    .map_err(|e| ApiError::internal(&e))
}

#[utoipa::path(get, path = "/api/v1/setup", tag = "accounts",
    responses((status = 200, body = SetupStatus)))]
/// Does the node wait for its first admin?
pub async fn get_setup(State(state): State<AppState>) -> Result<Json<SetupStatus>, ApiError> {
    Ok(Json(SetupStatus {
        needed: setup_needed(&state).await?,
    }))
}

/// True while the setup code lives and no account exists (`flotilla user create` also ends
/// the setup).
async fn setup_needed(state: &AppState) -> Result<bool, ApiError> {
    if state.auth.setup_code().is_none() {
        return Ok(false);
    }
    Ok(!state.node.users().await?.iter().any(|u| u.account))
}

#[utoipa::path(post, path = "/api/v1/setup", tag = "accounts", request_body = SetupRequest,
    responses((status = 200, body = Me), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 429, body = ErrorBody)))]
/// Makes the first node admin with the console's setup code, and logs them in.
pub async fn post_setup(
    State(state): State<AppState>,
    addr: ClientAddr,
    ApiJson(req): ApiJson<SetupRequest>,
) -> Result<Response, ApiError> {
    if !setup_needed(&state).await? {
        return Err(ApiError::conflict("this node is already set up: log in"));
    }
    let keys = limit_keys(addr, "setup");
    let now = Instant::now();
    check_limits(&state, &keys, now)?;
    check_username(&req.username)?;
    let phc = hash(req.password).await?;
    if !state.auth.take_setup_code(&req.code) {
        keys.iter().for_each(|k| state.auth.limiter.fail(k, now));
        return Err(ApiError::forbidden(
            "wrong setup code: see the node's console",
        ));
    }
    if let Err(e) = state.node.create_account(&req.username, phc, true).await {
        state.auth.restore_setup_code(&req.code);
        return Err(e.into());
    }
    tracing::info!(user = %req.username, "first admin created with the setup code");
    logged_in(&state, req.username, true).await
}

#[utoipa::path(post, path = "/api/v1/login", tag = "accounts", request_body = LoginRequest,
    responses((status = 200, body = Me), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "the account is deactivated"),
        (status = 429, body = ErrorBody)))]
/// Logs in: sets the session cookie and answers the caller with their CSRF token.
pub async fn post_login(
    State(state): State<AppState>,
    addr: ClientAddr,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let keys = limit_keys(addr, &req.username);
    let now = Instant::now();
    check_limits(&state, &keys, now)?;
    let Some(account) = verify(&state, &req.username, req.password).await? else {
        keys.iter().for_each(|k| state.auth.limiter.fail(k, now));
        return Err(ApiError::unauthorized("wrong username or password"));
    };
    state.auth.limiter.clear(&keys[0]);
    if account.deactivated {
        return Err(ApiError::forbidden(
            "this account is deactivated: ask a node admin",
        ));
    }
    logged_in(&state, req.username, account.admin).await
}

#[utoipa::path(post, path = "/api/v1/logout", tag = "accounts",
    responses((status = 204), (status = 401, body = ErrorBody)))]
/// Ends the caller's session and clears the cookie.
pub async fn post_logout(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    if let Some(hash) = caller.session {
        with_sessions(&state, move |s| s.close(&hash)).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&state, "", 0)?);
    Ok(response)
}

#[utoipa::path(get, path = "/api/v1/me", tag = "accounts",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
/// Who the caller is, and the CSRF token their writes carry.
pub async fn get_me(State(state): State<AppState>, caller: Caller) -> Result<Json<Me>, ApiError> {
    let key = user_key(&state, &caller.username).await?;
    Ok(Json(Me {
        username: caller.username,
        key,
        admin: caller.admin,
        csrf_token: caller.csrf,
    }))
}

#[utoipa::path(put, path = "/api/v1/me/password", tag = "accounts", request_body = ChangePassword,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, description = "too many wrong current passwords", body = ErrorBody)))]
/// Changes the caller's password; their other sessions end.
pub async fn put_my_password(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ChangePassword>,
) -> Result<StatusCode, ApiError> {
    let keys = vec![super::ratelimit::login_key(&caller.username)];
    let now = Instant::now();
    check_limits(&state, &keys, now)?;
    if verify(&state, &caller.username, req.current)
        .await?
        .is_none()
    {
        state.auth.limiter.fail(&keys[0], now);
        return Err(ApiError::forbidden("the current password is wrong"));
    }
    let phc = hash(req.new).await?;
    state.node.set_password(&caller.username, phc).await?;
    let keep = caller.session;
    with_sessions(&state, move |s| {
        s.close_all_of(&caller.username, keep.as_ref())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/users", tag = "accounts",
    responses((status = 200, body = [User]), (status = 401, body = ErrorBody)))]
/// This node's accounts.
pub async fn get_users(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<Vec<User>>, ApiError> {
    let users = state.node.users().await?;
    Ok(Json(
        users
            .into_iter()
            .filter(|u| u.account)
            .map(User::from)
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "accounts", request_body = NewUser,
    responses((status = 201, body = User), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// A node admin makes an account.
pub async fn post_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    caller.require_admin()?;
    check_username(&req.username)?;
    let phc = hash(req.password).await?;
    let key = state
        .node
        .create_account(&req.username, phc, req.admin)
        .await?;
    let user = User {
        username: req.username,
        key: key.to_string(),
        admin: req.admin,
        deactivated: false,
    };
    Ok((StatusCode::CREATED, Json(user)))
}

#[utoipa::path(put, path = "/api/v1/users/{username}/password", tag = "accounts",
    request_body = ResetPassword, params(("username" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "a password that breaks the rules", body = ErrorBody)))]
/// A node admin sets someone's password; their sessions end.
pub async fn put_user_password(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
    ApiJson(req): ApiJson<ResetPassword>,
) -> Result<StatusCode, ApiError> {
    caller.require_admin()?;
    let phc = hash(req.password).await?;
    state.node.set_password(&username, phc).await?;
    with_sessions(&state, move |s| s.close_all_of(&username, None)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/users/{username}/deactivate", tag = "accounts",
    params(("username" = String, Path)),
    responses((status = 200, body = User),
        (status = 403, body = ErrorBody, description = "not a node admin, or the last active node admin"),
        (status = 404, body = ErrorBody, description = "no such account")))]
/// A node admin deactivates an account (`user deactivate`): it cannot log in, its sessions
/// and tokens end. Its posts stay.
pub async fn post_deactivate(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<Json<User>, ApiError> {
    caller.require_admin()?;
    let user = crate::accounts::set_deactivated(&state.node, &state.auth, &username, true).await?;
    Ok(Json(user.into()))
}

#[utoipa::path(post, path = "/api/v1/users/{username}/activate", tag = "accounts",
    params(("username" = String, Path)),
    responses((status = 200, body = User),
        (status = 403, body = ErrorBody, description = "not a node admin"),
        (status = 404, body = ErrorBody, description = "no such account")))]
/// A node admin activates a deactivated account again (`user activate`): it logs in with its
/// password.
pub async fn post_activate(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<Json<User>, ApiError> {
    caller.require_admin()?;
    let user = crate::accounts::set_deactivated(&state.node, &state.auth, &username, false).await?;
    Ok(Json(user.into()))
}

#[utoipa::path(delete, path = "/api/v1/users/{username}", tag = "accounts",
    params(("username" = String, Path)),
    responses((status = 204),
        (status = 403, body = ErrorBody, description = "not a node admin, the last active node admin, or no other local admin of one of its flotillas"),
        (status = 404, body = ErrorBody, description = "no such account")))]
/// A node admin deletes an account (`user delete`): the user is removed from every flotilla
/// this node is in, its account, key, sessions and tokens are gone. Its posts stay, their
/// author shown as deleted (`author_deleted`).
pub async fn delete_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require_admin()?;
    crate::accounts::delete(&state.node, &state.auth, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/users/{username}/unlock", tag = "accounts",
    params(("username" = String, Path)),
    responses((status = 200, body = Unlocked),
        (status = 403, body = ErrorBody, description = "not a node admin"),
        (status = 404, body = ErrorBody, description = "no such account")))]
/// A node admin clears an account's login rate limit (`user unlock`).
pub async fn post_unlock(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<Json<Unlocked>, ApiError> {
    caller.require_admin()?;
    let was_locked = crate::accounts::unlock(&state.node, &state.auth, &username).await?;
    Ok(Json(Unlocked {
        username,
        was_locked,
    }))
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "accounts",
    responses((status = 200, body = [Token]), (status = 401, body = ErrorBody)))]
/// The caller's personal access tokens.
pub async fn get_tokens(State(state): State<AppState>, caller: Caller) -> Json<Vec<Token>> {
    Json(
        state
            .auth
            .sessions
            .tokens_of(&caller.username)
            .into_iter()
            .map(|t| Token {
                id: t.id,
                name: t.name,
                created_at: t.created_ms,
            })
            .collect(),
    )
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "accounts", request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 422, body = ErrorBody)))]
/// Makes a personal access token for the caller; its secret is shown once.
pub async fn post_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let name = req.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(ApiError::invalid("a token's name is 1 to 64 characters"));
    }
    let (token, secret) =
        with_sessions(&state, move |s| s.new_token(&caller.username, &name)).await?;
    let created = CreatedToken {
        id: token.id,
        name: token.name,
        created_at: token.created_ms,
        token: secret,
    };
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "accounts",
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
/// Revokes one of the caller's tokens.
pub async fn delete_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let found = with_sessions(&state, move |s| s.revoke_token(&caller.username, &id)).await?;
    if found {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("no such token"))
    }
}

//! Who is calling: [`Auth`] (sessions, tokens, the one-time setup code, login rate limits)
//! and the [`Caller`] extractor every authenticated handler takes.
//!
//! A browser holds an HttpOnly, SameSite=Strict session cookie; its writes (any method but
//! GET/HEAD) must also carry the session's CSRF token in `X-CSRF-Token`. A script holds a
//! personal access token and sends `Authorization: Bearer <token>`; it needs no CSRF token.

use std::net::SocketAddr;
use std::sync::Mutex;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};

use super::AppState;
use super::error::ApiError;
use super::ratelimit::RateLimiter;
use super::sessions::{SecretHash, Sessions, random_bytes};
use crate::Error;
use crate::store::SledStore;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "flotilla_session";
/// The header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Authentication state shared by the handlers.
#[derive(Debug)]
pub struct Auth {
    /// Sessions and tokens.
    pub sessions: Sessions,
    /// Failed logins and setup codes, per username and per client address.
    pub limiter: RateLimiter,
    setup_code: Mutex<Option<String>>,
}

impl Auth {
    /// Loads sessions and tokens; makes a setup code if the node has no account yet.
    ///
    /// # Errors
    /// [`Error::Store`] if the store fails, [`Error::Invalid`] without randomness.
    pub fn load(store: &SledStore) -> Result<Self, Error> {
        let setup_code = if store.accounts()?.is_empty() {
            Some(new_setup_code()?)
        } else {
            None
        };
        Ok(Auth {
            sessions: Sessions::load(store.clone())?,
            limiter: RateLimiter::default(),
            setup_code: Mutex::new(setup_code),
        })
    }

    /// The setup code, while the first admin is not made.
    pub fn setup_code(&self) -> Option<String> {
        self.setup_code
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Consumes the setup code if `given` is it (constant time; dashes and spaces ignored).
    pub fn take_setup_code(&self, given: &str) -> bool {
        let mut code = self.setup_code.lock().unwrap_or_else(|e| e.into_inner());
        let matches = code
            .as_deref()
            .is_some_and(|c| same_secret(&digits(c), &digits(given)));
        if matches {
            *code = None;
        }
        matches
    }

    /// Puts a consumed setup code back (the account it was for could not be made).
    pub fn restore_setup_code(&self, code: &str) {
        *self.setup_code.lock().unwrap_or_else(|e| e.into_inner()) = Some(code.to_owned());
    }
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// Compares two secrets in constant time (BLAKE3 hashes compare in constant time).
pub fn same_secret(a: &str, b: &str) -> bool {
    blake3::hash(a.as_bytes()) == blake3::hash(b.as_bytes())
}

/// 12 random digits, `1234-5678-9012`.
fn new_setup_code() -> Result<String, Error> {
    let n = u64::from_le_bytes(random_bytes::<8>()?) % 1_000_000_000_000;
    Ok(format!(
        "{:04}-{:04}-{:04}",
        n / 100_000_000,
        n / 10_000 % 10_000,
        n % 10_000
    ))
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Their username.
    pub username: String,
    /// A node admin?
    pub admin: bool,
    /// Their session (`None` for a bearer token).
    pub session: Option<SecretHash>,
    /// The session's CSRF token.
    pub csrf: Option<String>,
}

impl Caller {
    /// 403 unless the caller is a node admin.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.admin {
            Ok(())
        } else {
            Err(ApiError::forbidden("only a node admin may do this"))
        }
    }
}

/// The value of cookie `name`, if the request carries it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub(super) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The client's address, when the server recorded it (router tests have none).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let addr = parts.extensions.get::<ConnectInfo<SocketAddr>>();
        Ok(ClientAddr(addr.map(|c| c.0)))
    }
}

fn is_safe(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let auth = &state.auth;
        let (username, session, csrf) = if let Some(token) = bearer(&parts.headers) {
            let token = auth
                .sessions
                .token(token)
                .ok_or_else(|| ApiError::unauthorized("unknown or revoked token"))?;
            (token.username, None, None)
        } else {
            let secret = cookie(&parts.headers, SESSION_COOKIE)
                .ok_or_else(|| ApiError::unauthorized("log in first"))?;
            let (hash, session, stale) = auth
                .sessions
                .get(secret)
                .ok_or_else(|| ApiError::unauthorized("your session has ended: log in again"))?;
            if !is_safe(&parts.method) {
                let sent = parts
                    .headers
                    .get(CSRF_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if !same_secret(sent, &session.csrf) {
                    return Err(ApiError::csrf());
                }
            }
            if stale {
                let state = state.clone();
                let s = session.clone();
                tokio::task::spawn_blocking(move || state.auth.sessions.persist(&hash, &s));
            }
            (session.username, Some(hash), Some(session.csrf))
        };
        let store = state.store.clone();
        let name = username.clone();
        let account = tokio::task::spawn_blocking(move || store.account(&name))
            .await?
            .map_err(|e| ApiError::internal(&e))?
            .ok_or_else(|| ApiError::unauthorized("this account no longer exists"))?;
        if account.deactivated {
            return Err(ApiError::unauthorized("this account is deactivated"));
        }
        Ok(Caller {
            username,
            admin: account.admin,
            session,
            csrf,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn setup_codes_are_twelve_digits_and_consumed_once() {
        let code = new_setup_code().unwrap();
        assert_eq!(digits(&code).len(), 12);
        let auth = Auth {
            sessions: Sessions::load(SledStore::open(tempfile::tempdir().unwrap().path()).unwrap())
                .unwrap(),
            limiter: RateLimiter::default(),
            setup_code: Mutex::new(Some(code.clone())),
        };
        assert!(!auth.take_setup_code("0000-0000-0000x"));
        assert!(auth.take_setup_code(&digits(&code)));
        assert!(!auth.take_setup_code(&code));
        assert_eq!(auth.setup_code(), None);
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; flotilla_session=xyz"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "b"), None);
    }
}

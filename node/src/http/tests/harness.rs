//! A node plus its router, and helpers to call it the way a browser or a script would.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::Node;
use crate::config::Config;

/// A browser's session: its cookie and CSRF token.
#[derive(Debug, Clone)]
pub(super) struct Session {
    pub(super) cookie: String,
    pub(super) csrf: String,
}

/// What a request got back.
#[derive(Debug)]
pub(super) struct Answer {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) json: Value,
    pub(super) bytes: Vec<u8>,
}

impl Answer {
    /// Asserts an error answer of this status and code, with a message.
    pub(super) fn assert_error(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "{:?}", self.json);
        assert_eq!(self.json["error"], code, "{:?}", self.json);
        assert!(
            self.json["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{:?}",
            self.json
        );
    }
}

/// A running node, its router and its setup code.
pub(super) struct Api {
    pub(super) node: Node,
    app: Router,
    _dir: tempfile::TempDir,
}

pub(super) const PASSWORD: &str = "correct horse battery";

impl Api {
    pub(super) async fn start() -> Api {
        let dir = tempfile::tempdir().expect("temp dir");
        let node = Node::start(Config::for_tests(dir.path()))
            .await
            .expect("node starts");
        let app = node.router();
        Api {
            node,
            app,
            _dir: dir,
        }
    }

    /// Sends one request: `auth` adds the session's cookie and CSRF header.
    pub(super) async fn send(&self, req: Request<Body>) -> Answer {
        let res = self.app.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            json,
            bytes,
        }
    }

    /// A JSON request as the UI sends it (cookie + CSRF header when `session` is given).
    pub(super) async fn call(
        &self,
        method: Method,
        uri: &str,
        session: Option<&Session>,
        body: Option<Value>,
    ) -> Answer {
        self.send(request(method, uri, session, body)).await
    }

    /// Makes the first admin through the setup endpoint.
    pub(super) async fn setup(&self, username: &str) -> Session {
        let code = self.node.setup_code().expect("a new node has a setup code");
        let body = json!({"code": code, "username": username, "password": PASSWORD});
        let a = self
            .call(Method::POST, "/api/v1/setup", None, Some(body))
            .await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
        session_of(&a)
    }

    /// Logs in.
    pub(super) async fn login(&self, username: &str, password: &str) -> Answer {
        let body = json!({"username": username, "password": password});
        self.call(Method::POST, "/api/v1/login", None, Some(body))
            .await
    }

    /// Makes an account (as admin `by`) and logs it in.
    pub(super) async fn user(&self, by: &Session, username: &str) -> Session {
        let body = json!({"username": username, "password": PASSWORD});
        let a = self
            .call(Method::POST, "/api/v1/users", Some(by), Some(body))
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.json);
        session_of(&self.login(username, PASSWORD).await)
    }

    /// Makes a flotilla named `name` (as admin `by`); its id.
    pub(super) async fn flotilla(&self, by: &Session, name: &str) -> String {
        let body = json!({"name": name});
        let a = self
            .call(Method::POST, "/api/v1/flotillas", Some(by), Some(body))
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.json);
        a.json["id"].as_str().unwrap().to_owned()
    }

    /// The id of `flotilla`'s Town Square, as `reader` finds it in its channel list.
    pub(super) async fn town_square(&self, flotilla: &str, reader: &Session) -> String {
        let url = format!("/api/v1/flotillas/{flotilla}/channels");
        let a = self.call(Method::GET, &url, Some(reader), None).await;
        a.json
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "town-square")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

/// The session an answer's `Set-Cookie` and `csrf_token` open.
pub(super) fn session_of(a: &Answer) -> Session {
    let cookie = a.headers[header::SET_COOKIE]
        .to_str()
        .expect("ascii cookie")
        .split(';')
        .next()
        .expect("name=value")
        .to_owned();
    let csrf = a.json["csrf_token"]
        .as_str()
        .expect("csrf token")
        .to_owned();
    Session { cookie, csrf }
}

/// Builds a request: JSON body, cookie and CSRF header from `session`.
pub(super) fn request(
    method: Method,
    uri: &str,
    session: Option<&Session>,
    body: Option<Value>,
) -> Request<Body> {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(s) = session {
        req = req
            .header(header::COOKIE, &s.cookie)
            .header("x-csrf-token", &s.csrf);
    }
    let body = match body {
        Some(v) => {
            req = req.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    req.body(body).expect("valid request")
}

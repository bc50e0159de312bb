//! Setup, login, sessions, CSRF, users and tokens.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;

use super::harness::{Api, PASSWORD, Session, request, session_of};

#[tokio::test]
async fn setup_needs_the_console_code_and_happens_once() {
    let api = Api::start().await;
    let a = api.call(Method::GET, "/api/v1/setup", None, None).await;
    assert_eq!(a.json, json!({"needed": true}));

    let wrong = json!({"code": "0000-0000-0000", "username": "skipper", "password": PASSWORD});
    let a = api
        .call(Method::POST, "/api/v1/setup", None, Some(wrong))
        .await;
    a.assert_error(StatusCode::FORBIDDEN, "forbidden");
    assert!(
        api.node.handle().users().await.unwrap().is_empty(),
        "nothing stored"
    );

    let skipper = api.setup("skipper").await;
    let a = api
        .call(Method::GET, "/api/v1/me", Some(&skipper), None)
        .await;
    assert_eq!(a.json["username"], "skipper");
    assert_eq!(a.json["admin"], true);
    assert_eq!(a.json["csrf_token"], skipper.csrf.as_str());

    let again = json!({"code": "1", "username": "other", "password": PASSWORD});
    let a = api
        .call(Method::POST, "/api/v1/setup", None, Some(again))
        .await;
    a.assert_error(StatusCode::CONFLICT, "conflict");
    let a = api.call(Method::GET, "/api/v1/setup", None, None).await;
    assert_eq!(a.json, json!({"needed": false}));
}

#[tokio::test]
async fn the_session_cookie_is_httponly_and_samesite_strict() {
    let api = Api::start().await;
    api.setup("skipper").await;
    let a = api.login("skipper", PASSWORD).await;
    assert_eq!(a.status, StatusCode::OK);
    let cookie = a.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with("flotilla_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
}

#[tokio::test]
async fn login_failures_look_alike_and_are_rate_limited() {
    let api = Api::start().await;
    api.setup("skipper").await;
    let unknown = api.login("nobody", PASSWORD).await;
    unknown.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    let wrong = api.login("skipper", "not the password").await;
    wrong.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(unknown.json["message"], wrong.json["message"]);
    for _ in 0..4 {
        api.login("skipper", "still wrong!").await;
    }
    let limited = api.login("skipper", PASSWORD).await;
    limited.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert!(limited.headers.contains_key(header::RETRY_AFTER));
}

#[tokio::test]
async fn every_protected_endpoint_wants_a_session() {
    let api = Api::start().await;
    api.setup("skipper").await;
    for (method, uri) in [
        (Method::GET, "/api/v1/me"),
        (Method::POST, "/api/v1/logout"),
        (Method::PUT, "/api/v1/me/password"),
        (Method::GET, "/api/v1/users"),
        (Method::POST, "/api/v1/users"),
        (Method::PUT, "/api/v1/users/skipper/password"),
        (Method::GET, "/api/v1/tokens"),
        (Method::POST, "/api/v1/tokens"),
        (Method::DELETE, "/api/v1/tokens/abc"),
    ] {
        let body = (method != Method::GET).then(|| json!({}));
        let a = api.call(method.clone(), uri, None, body).await;
        assert_eq!(
            a.status,
            StatusCode::UNAUTHORIZED,
            "{method} {uri}: {:?}",
            a.json
        );
        assert_eq!(a.json["error"], "unauthorized", "{method} {uri}");
    }
}

#[tokio::test]
async fn writes_without_the_csrf_token_are_refused_and_change_nothing() {
    let api = Api::start().await;
    let skipper = api.setup("skipper").await;
    let body = json!({"current": PASSWORD, "new": "a brand new password"});
    for csrf in ["", "forged"] {
        let no_csrf = Session {
            csrf: csrf.into(),
            ..skipper.clone()
        };
        let req = request(
            Method::PUT,
            "/api/v1/me/password",
            Some(&no_csrf),
            Some(body.clone()),
        );
        api.send(req)
            .await
            .assert_error(StatusCode::FORBIDDEN, "csrf");
    }
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/users")
        .header(header::COOKIE, &skipper.cookie)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"username": "mallory", "password": PASSWORD}).to_string(),
        ))
        .unwrap();
    req.headers_mut().remove("x-csrf-token");
    api.send(req)
        .await
        .assert_error(StatusCode::FORBIDDEN, "csrf");
    assert_eq!(api.login("skipper", PASSWORD).await.status, StatusCode::OK);
    assert_eq!(
        api.login("mallory", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn malformed_oversized_and_non_json_bodies_get_4xx_and_store_nothing() {
    let api = Api::start().await;
    let skipper = api.setup("skipper").await;
    let post = |body: Body, content_type: &str| {
        Request::builder()
            .method(Method::POST)
            .uri("/api/v1/users")
            .header(header::COOKIE, &skipper.cookie)
            .header("x-csrf-token", &skipper.csrf)
            .header(header::CONTENT_TYPE, content_type)
            .body(body)
            .unwrap()
    };
    let a = api
        .send(post(Body::from("{\"username\": "), "application/json"))
        .await;
    a.assert_error(StatusCode::BAD_REQUEST, "bad_request");
    let a = api
        .send(post(Body::from("{\"username\": 3}"), "application/json"))
        .await;
    a.assert_error(StatusCode::BAD_REQUEST, "bad_request");
    let a = api.send(post(Body::from("username=x"), "text/plain")).await;
    a.assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let huge = json!({"username": "x".repeat(70_000), "password": PASSWORD}).to_string();
    let a = api.send(post(Body::from(huge), "application/json")).await;
    a.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
    let short = json!({"username": "deckhand", "password": "short"});
    let a = api
        .call(Method::POST, "/api/v1/users", Some(&skipper), Some(short))
        .await;
    a.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    let bad_name = json!({"username": "two words", "password": PASSWORD});
    let a = api
        .call(
            Method::POST,
            "/api/v1/users",
            Some(&skipper),
            Some(bad_name),
        )
        .await;
    a.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    let users = api
        .call(Method::GET, "/api/v1/users", Some(&skipper), None)
        .await;
    assert_eq!(
        users.json.as_array().map(Vec::len),
        Some(1),
        "{:?}",
        users.json
    );
}

#[tokio::test]
async fn admins_make_users_and_reset_passwords_others_may_not() {
    let api = Api::start().await;
    let skipper = api.setup("skipper").await;
    let deckhand = api.user(&skipper, "deckhand").await;
    let a = api
        .call(Method::GET, "/api/v1/me", Some(&deckhand), None)
        .await;
    assert_eq!(a.json["admin"], false);
    let body = json!({"username": "stowaway", "password": PASSWORD});
    let a = api
        .call(Method::POST, "/api/v1/users", Some(&deckhand), Some(body))
        .await;
    a.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let dup = json!({"username": "deckhand", "password": PASSWORD});
    let a = api
        .call(Method::POST, "/api/v1/users", Some(&skipper), Some(dup))
        .await;
    a.assert_error(StatusCode::CONFLICT, "conflict");

    let reset = json!({"password": "reset by the skipper"});
    let uri = "/api/v1/users/deckhand/password";
    let a = api
        .call(Method::PUT, uri, Some(&deckhand), Some(reset.clone()))
        .await;
    a.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let a = api
        .call(Method::PUT, uri, Some(&skipper), Some(reset))
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{:?}", a.json);
    let a = api
        .call(Method::GET, "/api/v1/me", Some(&deckhand), None)
        .await;
    a.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(
        api.login("deckhand", "reset by the skipper").await.status,
        StatusCode::OK
    );
    let a = api
        .call(
            Method::PUT,
            "/api/v1/users/nobody/password",
            Some(&skipper),
            Some(json!({"password": "whatever it is"})),
        )
        .await;
    a.assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn changing_a_password_needs_the_current_one_and_ends_other_sessions() {
    let api = Api::start().await;
    let first = api.setup("skipper").await;
    let second = session_of(&api.login("skipper", PASSWORD).await);
    let wrong = json!({"current": "not it at all", "new": "the next password"});
    let a = api
        .call(
            Method::PUT,
            "/api/v1/me/password",
            Some(&first),
            Some(wrong),
        )
        .await;
    a.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let right = json!({"current": PASSWORD, "new": "the next password"});
    let a = api
        .call(
            Method::PUT,
            "/api/v1/me/password",
            Some(&first),
            Some(right),
        )
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{:?}", a.json);
    assert_eq!(
        api.call(Method::GET, "/api/v1/me", Some(&first), None)
            .await
            .status,
        StatusCode::OK
    );
    let a = api
        .call(Method::GET, "/api/v1/me", Some(&second), None)
        .await;
    a.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(
        api.login("skipper", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn logout_ends_the_session() {
    let api = Api::start().await;
    let skipper = api.setup("skipper").await;
    let a = api
        .call(Method::POST, "/api/v1/logout", Some(&skipper), None)
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert!(
        a.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let a = api
        .call(Method::GET, "/api/v1/me", Some(&skipper), None)
        .await;
    a.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn bearer_tokens_act_without_csrf_until_revoked() {
    let api = Api::start().await;
    let skipper = api.setup("skipper").await;
    let a = api
        .call(
            Method::POST,
            "/api/v1/tokens",
            Some(&skipper),
            Some(json!({"name": "weather script"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.json);
    let (id, token) = (
        a.json["id"].as_str().unwrap().to_owned(),
        a.json["token"].as_str().unwrap().to_owned(),
    );
    let bearer = |method: Method, uri: &str, body: Option<serde_json::Value>| {
        let mut req = request(method, uri, None, body);
        req.headers_mut().insert(
            header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        );
        req
    };
    let a = api.send(bearer(Method::GET, "/api/v1/me", None)).await;
    assert_eq!(
        (a.json["username"].as_str(), a.json["csrf_token"].is_null()),
        (Some("skipper"), true)
    );
    let body = json!({"username": "scripted", "password": PASSWORD});
    let a = api
        .send(bearer(Method::POST, "/api/v1/users", Some(body)))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.json);
    let list = api
        .call(Method::GET, "/api/v1/tokens", Some(&skipper), None)
        .await;
    assert_eq!(list.json[0]["name"], "weather script");
    assert!(
        list.json[0].get("token").is_none(),
        "the secret is never listed"
    );
    let a = api
        .call(
            Method::POST,
            "/api/v1/tokens",
            Some(&skipper),
            Some(json!({"name": ""})),
        )
        .await;
    a.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    let uri = format!("/api/v1/tokens/{id}");
    let a = api.call(Method::DELETE, &uri, Some(&skipper), None).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    let a = api.send(bearer(Method::GET, "/api/v1/me", None)).await;
    a.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    let a = api.call(Method::DELETE, &uri, Some(&skipper), None).await;
    a.assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn the_ui_and_the_openapi_description_are_served() {
    let api = Api::start().await;
    let a = api.call(Method::GET, "/", None, None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        a.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(a.headers.contains_key(header::CONTENT_SECURITY_POLICY));
    assert!(String::from_utf8_lossy(&a.bytes).contains("<html"));
    let gz = Request::builder()
        .uri("/js/main.js")
        .header(header::ACCEPT_ENCODING, "gzip")
        .body(Body::empty())
        .unwrap();
    let a = api.send(gz).await;
    assert_eq!(
        a.headers[header::CONTENT_ENCODING],
        "gzip",
        "assets go out compressed"
    );
    let a = api.call(Method::GET, "/no/such/file.js", None, None).await;
    a.assert_error(StatusCode::NOT_FOUND, "not_found");
    let a = api
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(a.status, StatusCode::OK);
    for path in [
        "/api/v1/login",
        "/api/v1/setup",
        "/api/v1/me",
        "/api/v1/tokens/{id}",
    ] {
        assert!(a.json["paths"].get(path).is_some(), "{path} is described");
    }
}

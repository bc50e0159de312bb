//! Node admins deactivating, activating, deleting and unlocking accounts
//! (`/api/v1/users/{username}/…`, the API side of `flotilla user deactivate|activate|delete|
//! unlock`).

use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};

use super::harness::{Api, PASSWORD, Session};

async fn users(api: &Api, who: &Session) -> Vec<Value> {
    let a = api
        .call(Method::GET, "/api/v1/users", Some(who), None)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
    a.json.as_array().cloned().unwrap_or_default()
}

async fn token(api: &Api, who: &Session) -> String {
    let a = api
        .call(
            Method::POST,
            "/api/v1/tokens",
            Some(who),
            Some(json!({"name": "script"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.json);
    a.json["token"].as_str().unwrap().to_owned()
}

async fn me_with_token(api: &Api, token: &str) -> StatusCode {
    let req = axum::http::Request::builder()
        .uri("/api/v1/me")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    api.send(req).await.status
}

#[tokio::test]
async fn a_deactivated_account_loses_its_sessions_and_tokens_until_activated() {
    let api = Api::start().await;
    let skipper = api.setup("skipper").await;
    let bob = api.user(&skipper, "bob").await;
    let bob_token = token(&api, &bob).await;
    let carol = api.user(&skipper, "carol").await;

    // Only a node admin; an unknown user is a 404 naming it.
    let a = api
        .call(
            Method::POST,
            "/api/v1/users/bob/deactivate",
            Some(&carol),
            None,
        )
        .await;
    a.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let a = api
        .call(
            Method::POST,
            "/api/v1/users/nobody/deactivate",
            Some(&skipper),
            None,
        )
        .await;
    a.assert_error(StatusCode::NOT_FOUND, "not_found");
    assert!(a.json["message"].as_str().unwrap().contains("nobody"));

    let a = api
        .call(
            Method::POST,
            "/api/v1/users/bob/deactivate",
            Some(&skipper),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
    assert_eq!(a.json["deactivated"], true);
    let a = api.call(Method::GET, "/api/v1/me", Some(&bob), None).await;
    a.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(
        me_with_token(&api, &bob_token).await,
        StatusCode::UNAUTHORIZED
    );
    api.login("bob", PASSWORD)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let list = users(&api, &skipper).await;
    let listed = list.iter().find(|u| u["username"] == "bob").unwrap();
    assert_eq!(listed["deactivated"], true);

    // The last active node admin stays.
    let a = api
        .call(
            Method::POST,
            "/api/v1/users/skipper/deactivate",
            Some(&skipper),
            None,
        )
        .await;
    a.assert_error(StatusCode::FORBIDDEN, "forbidden");

    let a = api
        .call(
            Method::POST,
            "/api/v1/users/bob/activate",
            Some(&skipper),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
    assert_eq!(a.json["deactivated"], false);
    assert_eq!(api.login("bob", PASSWORD).await.status, StatusCode::OK);
    assert_eq!(
        me_with_token(&api, &bob_token).await,
        StatusCode::UNAUTHORIZED,
        "the revoked token stays revoked"
    );
}

#[tokio::test]
async fn a_deleted_account_is_gone_and_its_posts_stay_as_a_deleted_user() {
    let api = Api::start().await;
    let skipper = api.setup("skipper").await;
    let flotilla = api.flotilla(&skipper, "Glénans").await;
    let bob = api.user(&skipper, "bob").await;
    let town = api.town_square(&flotilla, &bob).await;
    let posts = format!("/api/v1/flotillas/{flotilla}/channels/{town}/posts");
    let a = api
        .call(
            Method::POST,
            &posts,
            Some(&bob),
            Some(json!({"text": "bon vent"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.json);
    assert_eq!(a.json["author_deleted"], false);

    let a = api
        .call(Method::DELETE, "/api/v1/users/nobody", Some(&skipper), None)
        .await;
    a.assert_error(StatusCode::NOT_FOUND, "not_found");
    let a = api
        .call(
            Method::DELETE,
            "/api/v1/users/skipper",
            Some(&skipper),
            None,
        )
        .await;
    a.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let a = api
        .call(Method::DELETE, "/api/v1/users/bob", Some(&skipper), None)
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{:?}", a.json);

    api.call(Method::GET, "/api/v1/me", Some(&bob), None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    api.login("bob", PASSWORD)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(
        !users(&api, &skipper)
            .await
            .iter()
            .any(|u| u["username"] == "bob")
    );
    let a = api.call(Method::GET, &posts, Some(&skipper), None).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
    let post = a.json["posts"]
        .as_array()
        .or_else(|| a.json.as_array())
        .unwrap()
        .iter()
        .find(|p| p["text"] == "bon vent")
        .cloned()
        .unwrap();
    assert_eq!(post["author"], "bob");
    assert_eq!(post["author_deleted"], true);

    // The name is free again, with a new key.
    let again = api.user(&skipper, "bob").await;
    let a = api
        .call(Method::GET, "/api/v1/me", Some(&again), None)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
}

#[tokio::test]
async fn unlock_clears_the_login_limit_of_a_user() {
    let api = Api::start().await;
    let skipper = api.setup("skipper").await;
    api.user(&skipper, "bob").await;
    for _ in 0..5 {
        api.login("bob", "not the password").await;
    }
    api.login("bob", PASSWORD)
        .await
        .assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let a = api
        .call(
            Method::POST,
            "/api/v1/users/nobody/unlock",
            Some(&skipper),
            None,
        )
        .await;
    a.assert_error(StatusCode::NOT_FOUND, "not_found");
    let a = api
        .call(
            Method::POST,
            "/api/v1/users/bob/unlock",
            Some(&skipper),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
    assert_eq!(a.json, json!({"username": "bob", "was_locked": true}));
    assert_eq!(api.login("bob", PASSWORD).await.status, StatusCode::OK);
    let a = api
        .call(
            Method::POST,
            "/api/v1/users/bob/unlock",
            Some(&skipper),
            None,
        )
        .await;
    assert_eq!(a.json["was_locked"], false);
}

#[tokio::test]
async fn the_lifecycle_routes_are_described_with_their_errors() {
    let api = Api::start().await;
    let a = api
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(a.status, StatusCode::OK);
    for (path, method) in [
        ("/api/v1/users/{username}/deactivate", "post"),
        ("/api/v1/users/{username}/activate", "post"),
        ("/api/v1/users/{username}/unlock", "post"),
        ("/api/v1/users/{username}", "delete"),
    ] {
        let responses = &a.json["paths"][path][method]["responses"];
        for status in ["403", "404"] {
            assert!(
                responses.get(status).is_some(),
                "{method} {path} documents {status}: {responses}"
            );
        }
    }
}

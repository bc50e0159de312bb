//! Roles and removal over HTTP: promote, demote, remove a user or a boat, node admins; every
//! bad input answered 4xx with a message; a removed user loses access at once.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::harness::{Answer, Api, Session};

/// A node with a flotilla, its admin `skipper` and two crew members.
struct Boat {
    api: Api,
    skipper: Session,
    deckhand: Session,
    cook: Session,
    flotilla: String,
}

impl Boat {
    async fn new() -> Boat {
        let api = Api::start().await;
        let skipper = api.setup("skipper").await;
        let body = Some(json!({"name": "Glénans"}));
        let a = api
            .call(Method::POST, "/api/v1/flotillas", Some(&skipper), body)
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.json);
        let flotilla = a.json["id"].as_str().unwrap().to_owned();
        let deckhand = api.user(&skipper, "deckhand").await;
        let cook = api.user(&skipper, "cook").await;
        Boat {
            api,
            skipper,
            deckhand,
            cook,
            flotilla,
        }
    }

    async fn call(&self, method: Method, rest: &str, who: &Session, body: Option<Value>) -> Answer {
        let uri = format!("/api/v1/flotillas/{}{rest}", self.flotilla);
        self.api.call(method, &uri, Some(who), body).await
    }

    async fn role(&self, who: &Session, user: &str, role: &str) -> Answer {
        let body = Some(json!({ "role": role }));
        self.call(Method::PUT, &format!("/members/{user}/role"), who, body)
            .await
    }

    async fn members(&self, who: &Session) -> Vec<Value> {
        let a = self.call(Method::GET, "/members", who, None).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
        a.json.as_array().cloned().unwrap_or_default()
    }
}

#[tokio::test]
async fn members_show_their_boat_and_fingerprint() {
    let boat = Boat::new().await;
    let members = boat.members(&boat.deckhand).await;
    let skipper = members
        .iter()
        .find(|m| m["username"] == "skipper")
        .expect("skipper listed");
    assert_eq!(skipper["display"], "skipper");
    assert_eq!(skipper["admin"], true);
    let fp = skipper["fingerprint"].as_str().unwrap();
    assert_eq!(fp.split(' ').count(), 6, "{fp}");
}

#[tokio::test]
async fn an_admin_promotes_and_demotes_and_bad_input_is_refused() {
    let boat = Boat::new().await;
    boat.role(&boat.deckhand, "cook", "admin")
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    boat.role(&boat.skipper, "cook", "captain")
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    boat.role(&boat.skipper, "nobody", "admin")
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    let bad = boat
        .api
        .call(
            Method::PUT,
            "/api/v1/flotillas/zz/members/cook/role",
            Some(&boat.skipper),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{:?}", bad.json);
    let no_body = boat
        .call(Method::PUT, "/members/cook/role", &boat.skipper, None)
        .await;
    assert!(no_body.status.is_client_error(), "{:?}", no_body.json);

    let a = boat.role(&boat.skipper, "deckhand", "admin").await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
    assert_eq!(a.json["admin"], true);
    // The new admin may act, by key too.
    let key = a.json["key"].as_str().unwrap().to_owned();
    let a = boat.role(&boat.deckhand, "cook", "admin").await;
    assert_eq!(a.json["admin"], true, "{:?}", a.json);
    let a = boat.role(&boat.skipper, &key, "member").await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
    assert_eq!(a.json["admin"], false);
    let admins = boat
        .members(&boat.skipper)
        .await
        .into_iter()
        .filter(|m| m["admin"] == true)
        .count();
    assert_eq!(admins, 2, "skipper and cook");
}

#[tokio::test]
async fn a_removed_user_loses_access_and_boats_are_checked() {
    let boat = Boat::new().await;
    boat.call(Method::DELETE, "/members/cook", &boat.deckhand, None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let a = boat
        .call(Method::DELETE, "/members/cook", &boat.skipper, None)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
    assert_eq!(a.json["username"], "cook");
    boat.call(Method::GET, "/channels", &boat.cook, None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    boat.call(Method::GET, "/members", &boat.cook, None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    boat.call(Method::DELETE, "/members/cook", &boat.skipper, None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    assert!(
        boat.members(&boat.skipper)
            .await
            .iter()
            .all(|m| m["username"] != "cook")
    );

    let me = boat.api.node.id().to_string();
    boat.call(Method::DELETE, &format!("/nodes/{me}"), &boat.skipper, None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    boat.call(Method::DELETE, "/nodes/Nope", &boat.skipper, None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    boat.call(
        Method::DELETE,
        &format!("/nodes/{me}"),
        &boat.deckhand,
        None,
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn node_admins_are_made_by_node_admins() {
    let boat = Boat::new().await;
    let put = |who: &Session, user: &str, role: &str| {
        let uri = format!("/api/v1/users/{user}/role");
        let who = who.clone();
        let body = json!({ "role": role });
        let api = &boat.api;
        async move { api.call(Method::PUT, &uri, Some(&who), Some(body)).await }
    };
    put(&boat.deckhand, "deckhand", "system_admin")
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    put(&boat.skipper, "deckhand", "root")
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    put(&boat.skipper, "nobody", "system_admin")
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    put(&boat.skipper, "skipper", "user")
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let a = put(&boat.skipper, "deckhand", "system_admin").await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
    assert_eq!(a.json["admin"], true);
    let me = boat
        .api
        .call(Method::GET, "/api/v1/me", Some(&boat.deckhand), None)
        .await;
    assert_eq!(me.json["admin"], true, "{:?}", me.json);
}

#[tokio::test]
async fn the_public_status_is_small_and_shows_no_data_dir() {
    let boat = Boat::new().await;
    let a = boat
        .api
        .call(Method::GET, "/api/v1/status", None, None)
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.json.get("data_dir").is_none(), "{:?}", a.json);
    assert!(a.json.get("events").is_none(), "{:?}", a.json);
    assert!(a.json["node_id"].is_string());
}

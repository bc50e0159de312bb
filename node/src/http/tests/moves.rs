//! Moving a thread to another channel (`POST /api/v1/flotillas/{f}/posts/{p}/move`):
//! flotilla admins only, the copies keep their authors and times, the old place keeps a
//! marker, and bad targets are clear errors.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::harness::{Answer, Api, Session};

/// The flotilla's id and the ids of town-square and off-topic.
async fn flotilla(api: &Api, admin: &Session) -> (String, String, String) {
    let f = api.flotilla(admin, "Glénans").await;
    let channels = api
        .call(
            Method::GET,
            &format!("/api/v1/flotillas/{f}/channels"),
            Some(admin),
            None,
        )
        .await;
    let id = |name: &str| -> String {
        channels
            .json
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (ts, ot) = (id("town-square"), id("off-topic"));
    (f, ts, ot)
}

async fn post(api: &Api, who: &Session, f: &str, channel: &str, body: Value) -> Value {
    let a = api
        .call(
            Method::POST,
            &format!("/api/v1/flotillas/{f}/channels/{channel}/posts"),
            Some(who),
            Some(body),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.json);
    a.json
}

async fn move_to(api: &Api, who: &Session, f: &str, post: &Value, channel: &str) -> Answer {
    let p = post["id"].as_str().unwrap();
    api.call(
        Method::POST,
        &format!("/api/v1/flotillas/{f}/posts/{p}/move"),
        Some(who),
        Some(json!({"channel": channel})),
    )
    .await
}

#[tokio::test]
async fn an_admin_moves_a_thread_and_the_old_place_shows_where() {
    let api = Api::start().await;
    let skipper = api.setup("skipper").await;
    let deckhand = api.user(&skipper, "deckhand").await;
    let (f, ts, ot) = flotilla(&api, &skipper).await;
    let root = post(&api, &deckhand, &f, &ts, json!({"text": "météo ?"})).await;
    let reply = json!({"text": "grand frais", "root_id": root["id"]});
    let reply = post(&api, &skipper, &f, &ts, reply).await;

    // A crew member may not; bad targets are clear errors and write nothing.
    let a = move_to(&api, &deckhand, &f, &root, &ot).await;
    a.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let a = move_to(&api, &skipper, &f, &root, "nope").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{:?}", a.json);
    let a = move_to(&api, &skipper, &f, &root, &"ab".repeat(16)).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{:?}", a.json);
    let a = move_to(&api, &skipper, &f, &root, &ts).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", a.json);

    // The admin moves it (naming the reply moves its whole thread).
    let a = move_to(&api, &skipper, &f, &reply, &ot).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
    let copy = a.json.clone();
    assert_eq!(copy["author"], "deckhand");
    assert_eq!(copy["created_at"], root["created_at"]);
    assert_eq!(copy["moved_by"], "skipper");
    assert_eq!(copy["channel"], ot.as_str());
    assert_eq!(copy["reply_count"], 1);
    let c = copy["id"].as_str().unwrap();
    let thread = api
        .call(
            Method::GET,
            &format!("/api/v1/flotillas/{f}/posts/{c}/thread"),
            Some(&deckhand),
            None,
        )
        .await;
    assert_eq!(thread.json["replies"][0]["author"], "skipper");
    assert_eq!(thread.json["replies"][0]["text"], "grand frais");

    // The old place keeps the root as a marker and drops the reply.
    let old = api
        .call(
            Method::GET,
            &format!("/api/v1/flotillas/{f}/channels/{ts}/posts"),
            Some(&deckhand),
            None,
        )
        .await;
    let posts = old.json["posts"].as_array().unwrap();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(posts[0]["moved_to"]["name"], "off-topic");
    assert_eq!(posts[0]["moved_to"]["root_id"], c);
    assert_eq!(posts[0]["reply_count"], 0);

    // Once moved, a second move is a conflict.
    let a = move_to(&api, &skipper, &f, &root, &ot).await;
    a.assert_error(StatusCode::CONFLICT, "conflict");
}

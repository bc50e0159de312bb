//! The WebSocket over a real TCP connection: who may open it, and what it pushes.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::harness::{Api, Session};

const TIMEOUT: Duration = Duration::from_secs(10);

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(api: &Api, session: Option<&Session>, origin: Option<&str>) -> Result<Socket, u16> {
    let url = format!("ws://{}/api/v1/ws", api.node.http_addr());
    let mut req = url.into_client_request().unwrap();
    if let Some(s) = session {
        req.headers_mut()
            .insert("cookie", s.cookie.parse().unwrap());
    }
    if let Some(o) = origin {
        req.headers_mut().insert("origin", o.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => Err(res.status().as_u16()),
        Err(e) => panic!("websocket: {e}"),
    }
}

/// The next JSON message of `kind`.
async fn next_of(socket: &mut Socket, kind: &str) -> Value {
    tokio::time::timeout(TIMEOUT, async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    if v["type"] == kind {
                        return v;
                    }
                }
                Some(Ok(_)) => {}
                other => panic!("socket ended: {other:?}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {kind} message within {TIMEOUT:?}"))
}

#[tokio::test]
async fn only_a_logged_in_same_origin_browser_opens_the_socket() {
    let api = Api::start().await;
    let skipper = api.setup("skipper").await;
    assert_eq!(open(&api, None, None).await.err(), Some(401));
    assert_eq!(
        open(&api, Some(&skipper), Some("http://evil.example"))
            .await
            .err(),
        Some(403)
    );
    let origin = format!("http://{}", api.node.http_addr());
    let mut socket = open(&api, Some(&skipper), Some(&origin)).await.unwrap();
    assert_eq!(next_of(&mut socket, "hello").await["username"], "skipper");
    socket
        .send(Message::Text(json!({"type": "ping"}).to_string().into()))
        .await
        .unwrap();
    next_of(&mut socket, "pong").await;
}

#[tokio::test]
async fn posts_edits_deletes_and_unread_counts_are_pushed() {
    let api = Api::start().await;
    let skipper = api.setup("skipper").await;
    let deckhand = api.user(&skipper, "deckhand").await;
    let f = api.flotilla(&skipper, "f").await;
    let ts = api.town_square(&f, &deckhand).await;
    let mut socket = open(&api, Some(&deckhand), None).await.unwrap();
    next_of(&mut socket, "hello").await;

    let posts = format!("/api/v1/flotillas/{f}/channels/{ts}/posts");
    let a = api
        .call(
            Method::POST,
            &posts,
            Some(&skipper),
            Some(json!({"text": "@deckhand à la barre"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    let id = a.json["id"].as_str().unwrap().to_owned();
    let pushed = next_of(&mut socket, "post").await;
    assert_eq!(pushed["post"]["id"], id.as_str());
    assert_eq!(pushed["post"]["mentions_me"], true);
    assert!(
        pushed["post"]["html"]
            .as_str()
            .unwrap()
            .contains("mention-me"),
        "{pushed}"
    );
    let unread = next_of(&mut socket, "unread").await;
    assert_eq!(
        (unread["unread"].as_u64(), unread["mentions"].as_u64()),
        (Some(1), Some(1))
    );

    let post = format!("/api/v1/flotillas/{f}/posts/{id}");
    api.call(
        Method::PUT,
        &post,
        Some(&skipper),
        Some(json!({"text": "corrigé"})),
    )
    .await;
    let edited = next_of(&mut socket, "post").await;
    assert_eq!(
        (
            edited["post"]["text"].as_str(),
            edited["post"]["edited"].as_bool()
        ),
        (Some("corrigé"), Some(true))
    );
    api.call(Method::DELETE, &post, Some(&skipper), None).await;
    assert_eq!(
        next_of(&mut socket, "post_deleted").await["post_id"],
        id.as_str()
    );
    api.call(
        Method::POST,
        &format!("/api/v1/flotillas/{f}/channels/{ts}/read"),
        Some(&deckhand),
        None,
    )
    .await;
    assert_eq!(next_of(&mut socket, "unread").await["unread"], 0);
}

#[tokio::test]
async fn a_deactivated_users_socket_closes_at_the_next_event() {
    let api = Api::start().await;
    let skipper = api.setup("skipper").await;
    let flotilla = api.flotilla(&skipper, "Glénans").await;
    let bob = api.user(&skipper, "bob").await;
    let mut socket = open(&api, Some(&bob), None).await.unwrap();
    next_of(&mut socket, "hello").await;
    let a = api
        .call(
            Method::POST,
            "/api/v1/users/bob/deactivate",
            Some(&skipper),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
    // Any event now: the channel list changes when skipper makes a channel.
    let a = api
        .call(
            Method::POST,
            &format!("/api/v1/flotillas/{flotilla}/channels"),
            Some(&skipper),
            Some(json!({"name": "galley"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.json);
    let ended = tokio::time::timeout(TIMEOUT, async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    assert_ne!(v["type"], "channel", "a deactivated user heard {v}");
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the socket stayed open");
}

/// A socket opened with a bearer token.
async fn open_with_token(api: &Api, token: &str) -> Socket {
    let url = format!("ws://{}/api/v1/ws", api.node.http_addr());
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::connect_async(req).await.unwrap().0
}

/// Waits for `session_ended`, then for the socket to close.
async fn ends(socket: &mut Socket) {
    next_of(socket, "session_ended").await;
    tokio::time::timeout(TIMEOUT, async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .expect("the socket stays open");
}

#[tokio::test]
async fn deactivating_a_user_closes_their_sockets_at_once() {
    let api = Api::start().await;
    let skipper = api.setup("skipper").await;
    let bob = api.user(&skipper, "bob").await;
    let a = api
        .call(
            Method::POST,
            "/api/v1/tokens",
            Some(&bob),
            Some(json!({"name": "script"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.json);
    let token = a.json["token"].as_str().unwrap().to_owned();
    let mut by_token = open_with_token(&api, &token).await;
    next_of(&mut by_token, "hello").await;
    let mut by_cookie = open(&api, Some(&bob), None).await.unwrap();
    next_of(&mut by_cookie, "hello").await;
    let mut skippers = open(&api, Some(&skipper), None).await.unwrap();
    next_of(&mut skippers, "hello").await;
    let a = api
        .call(
            Method::POST,
            "/api/v1/users/bob/deactivate",
            Some(&skipper),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.json);
    ends(&mut by_token).await;
    ends(&mut by_cookie).await;
    skippers
        .send(Message::Text(json!({"type": "ping"}).to_string().into()))
        .await
        .unwrap();
    next_of(&mut skippers, "pong").await;
}

/// Every message up to (and with) the `post` whose text is `text`.
async fn until_post(socket: &mut Socket, text: &str) -> Vec<Value> {
    tokio::time::timeout(TIMEOUT, async {
        let mut seen = Vec::new();
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    let found = v["type"] == "post" && v["post"]["text"] == text;
                    seen.push(v);
                    if found {
                        return seen;
                    }
                }
                Some(Ok(_)) => {}
                other => panic!("socket ended: {other:?}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no post {text:?} within {TIMEOUT:?}"))
}

#[tokio::test]
async fn a_private_channels_posts_reach_only_its_members_sockets() {
    let api = Api::start().await;
    let skipper = api.setup("skipper").await;
    let deckhand = api.user(&skipper, "deckhand").await;
    let f = api.flotilla(&skipper, "f").await;
    let channels = format!("/api/v1/flotillas/{f}/channels");
    let ts = api.town_square(&f, &deckhand).await;
    let a = api
        .call(
            Method::POST,
            &channels,
            Some(&skipper),
            Some(json!({"name": "officers", "private": true})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.json);
    let officers = a.json["id"].as_str().unwrap().to_owned();
    // Two sockets of the non-member (they share the hub's messages), one of the member.
    let mut deck = Vec::new();
    for _ in 0..2 {
        let mut s = open(&api, Some(&deckhand), None).await.unwrap();
        next_of(&mut s, "hello").await;
        deck.push(s);
    }
    let mut skip = open(&api, Some(&skipper), None).await.unwrap();
    next_of(&mut skip, "hello").await;

    for (channel, text) in [(&officers, "cap secret"), (&ts, "cap public")] {
        let a = api
            .call(
                Method::POST,
                &format!("{channels}/{channel}/posts"),
                Some(&skipper),
                Some(json!({"text": text})),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.json);
    }
    let heard = until_post(&mut skip, "cap public").await;
    assert!(
        heard.iter().any(|v| v["post"]["text"] == "cap secret"),
        "the member heard {heard:?}"
    );
    // The hub keeps the node's order: the private post came first, so it would be here.
    for s in &mut deck {
        for v in until_post(s, "cap public").await {
            let raw = v.to_string();
            assert!(
                !raw.contains("cap secret") && !raw.contains(&officers),
                "a non-member heard {raw}"
            );
        }
    }
}

/// The `(unread, mentions)` of the next `unread` message.
async fn next_unread(socket: &mut Socket) -> (u64, u64) {
    let v = next_of(socket, "unread").await;
    (
        v["unread"].as_u64().unwrap_or(u64::MAX),
        v["mentions"].as_u64().unwrap_or(u64::MAX),
    )
}

/// The unread counters the actor keeps as posts arrive agree with a walk of the channel:
/// others' posts count, one's own do not, an edit changes nothing, a read marker resets
/// them.
#[tokio::test]
async fn pushed_unread_counts_follow_posts_edits_and_reads() {
    let api = Api::start().await;
    let skipper = api.setup("skipper").await;
    let deckhand = api.user(&skipper, "deckhand").await;
    let f = api.flotilla(&skipper, "f").await;
    let channels = format!("/api/v1/flotillas/{f}/channels");
    let ts = api.town_square(&f, &deckhand).await;
    let posts = format!("{channels}/{ts}/posts");
    let mut socket = open(&api, Some(&deckhand), None).await.unwrap();
    next_of(&mut socket, "hello").await;
    let first = say(&api, &posts, &skipper, "cap au sud").await;
    let first = first.json["id"].as_str().unwrap().to_owned();
    assert_eq!(next_unread(&mut socket).await, (1, 0));
    say(&api, &posts, &skipper, "@deckhand à la barre").await;
    assert_eq!(next_unread(&mut socket).await, (2, 1));
    say(&api, &posts, &deckhand, "paré").await;
    assert_eq!(next_unread(&mut socket).await, (2, 1), "one's own post");
    api.call(
        Method::PUT,
        &format!("/api/v1/flotillas/{f}/posts/{first}"),
        Some(&skipper),
        Some(json!({"text": "cap au sud, @deckhand"})),
    )
    .await;
    // Mentions are counted on the text as posted (so does the walk of the channel).
    assert_eq!(
        next_unread(&mut socket).await,
        (2, 1),
        "an edit changes no count"
    );
    api.call(
        Method::POST,
        &format!("{channels}/{ts}/read"),
        Some(&deckhand),
        None,
    )
    .await;
    assert_eq!(next_unread(&mut socket).await, (0, 0));
    say(&api, &posts, &skipper, "@all virement").await;
    assert_eq!(next_unread(&mut socket).await, (1, 1));
}

async fn say(api: &Api, posts: &str, who: &Session, text: &str) -> super::harness::Answer {
    api.call(Method::POST, posts, Some(who), Some(json!({"text": text})))
        .await
}

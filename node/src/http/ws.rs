//! The WebSocket at `/api/v1/ws`: pushes what changes to one logged-in user, as JSON
//! messages (see `docs/api.md`): posts new or changed, deletions, channels, unread counts,
//! boats, flotillas, member changes (`members`).
//!
//! Each connection subscribes to the live hub ([`super::live`]), which renders each new or
//! changed post once per reader who may read it (a private channel's post is only there for
//! its members); the connection sends its user's share of it as is. Rarer events (deletions,
//! channels, peers, files, members) it turns into what *this* user may see itself. A
//! connection that falls more than the hub's capacity ([`super::live::LIVE_CAP`]) behind is
//! told to `resync` instead of slowing the node down or buffering without end.

use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use flotilla_protocol::id::{ChannelId, FlotillaId};
use futures::SinkExt;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use super::AppState;
use super::auth::Caller;
use super::dto::{Boat, Channel};
use super::error::ApiError;
use super::live::{LIVE_CAP, Live};
use super::sessions::{SecretHash, hash_secret};
use crate::handle::Event;

/// Messages a connection may lag behind before it is told to resync.
pub const WS_QUEUE: usize = LIVE_CAP;
/// The largest message accepted from a client (they only send pings).
pub const MAX_CLIENT_MESSAGE: usize = 1024;
/// How often the server pings an idle client, so dead phones are noticed.
pub const PING_EVERY: Duration = Duration::from_secs(30);

#[utoipa::path(get, path = "/api/v1/ws", tag = "live",
    responses((status = 101, description = "switching to the WebSocket protocol"),
        (status = 400, description = "not a WebSocket upgrade request",
            body = super::error::ErrorBody),
        (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody)))]
/// Opens the live channel of the logged-in user.
pub async fn get_ws(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    check_origin(&headers)?;
    // axum's own rejection is plain text; every error of the API is `{"error","message"}`.
    let upgrade = upgrade.map_err(|r| {
        ApiError::bad_request(format!("not a WebSocket upgrade: {}", r.body_text()))
    })?;
    let credential = match caller.session {
        Some(hash) => Credential::Session(hash),
        None => match super::auth::bearer(&headers) {
            Some(token) => Credential::Token(hash_secret(token)),
            None => Credential::None,
        },
    };
    Ok(upgrade
        .max_message_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| serve(state, caller.username, credential, socket)))
}

/// What opened a connection: it is closed as soon as that ends.
#[derive(Debug, Clone, Copy)]
enum Credential {
    /// A browser session.
    Session(SecretHash),
    /// A personal access token.
    Token(SecretHash),
    /// Neither (router tests' callers).
    None,
}

impl Credential {
    /// Has the session ended or the token been revoked (logout, a password reset,
    /// `user deactivate`, `user delete`, `token revoke`)?
    fn ended(&self, state: &AppState) -> bool {
        match self {
            Credential::Session(h) => !state.auth.sessions.is_open(h),
            Credential::Token(h) => !state.auth.sessions.token_is_live(h),
            Credential::None => false,
        }
    }
}

/// A browser always sends `Origin` on a WebSocket: it must be this host (no other site may
/// ride the user's cookie into the live channel).
fn check_origin(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_host = origin.split_once("://").map_or(origin, |(_, h)| h);
    if origin_host == host {
        Ok(())
    } else {
        Err(ApiError::forbidden("cross-origin WebSocket refused"))
    }
}

/// Serves one live connection until the client leaves, or its session or token ends
/// (logout, a password reset, `user deactivate` or `user delete`, `token revoke`: checked
/// as soon as any session ends, and at each event and ping); then sends
/// `{"type":"session_ended"}` and closes.
async fn serve(state: AppState, username: String, credential: Credential, mut socket: WebSocket) {
    let ended = |state: &AppState| credential.ended(state);
    let mut ends = state.auth.sessions.watch_ends();
    let mut live = state.live.subscribe(&username);
    let mut unread = PendingUnread::new();
    let mut ping = tokio::time::interval(PING_EVERY);
    if send(&mut socket, json!({"type": "hello", "username": username}))
        .await
        .is_err()
    {
        return;
    }
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) if is_ping(&text) => {
                    if send(&mut socket, json!({"type": "pong"})).await.is_err() {
                        return;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return,
            },
            item = live.events.recv() => {
                if ended(&state) {
                    return;
                }
                let sent = match item {
                    Ok(item) => {
                        send_live(&mut socket, &state, &username, &item, &mut unread).await
                    }
                    Err(RecvError::Lagged(_)) => {
                        unread.clear(); // the client reloads everything
                        send(&mut socket, resync()).await
                    }
                    Err(RecvError::Closed) => return,
                };
                // Shared posts are fed unflushed, and their unread counts kept to the last per
                // channel, until the queue is empty: one write for what is queued.
                if sent.is_err()
                    || (live.events.is_empty() && flush(&mut socket, &mut unread).await.is_err())
                {
                    return;
                }
            }
            Ok(()) = ends.changed() => {
                if ended(&state) {
                    let _ = send(&mut socket, json!({"type": "session_ended"})).await;
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
            }
            _ = ping.tick() => {
                if ended(&state) {
                    return;
                }
                if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    return;
                }
            }
        }
    }
}

fn is_ping(text: &str) -> bool {
    serde_json::from_str::<Value>(text).is_ok_and(|v| v["type"] == "ping")
}

async fn send(socket: &mut WebSocket, message: Value) -> Result<(), axum::Error> {
    socket.send(Message::Text(message.to_string().into())).await
}

fn resync() -> Value {
    json!({"type": "resync"})
}

/// The newest `unread` message of each channel not sent yet: while posts are queued only the
/// last count of a channel matters (at most one per readable channel).
type PendingUnread = std::collections::HashMap<(FlotillaId, ChannelId), Utf8Bytes>;

/// Sends the pending unread counts, then flushes.
async fn flush(socket: &mut WebSocket, unread: &mut PendingUnread) -> Result<(), axum::Error> {
    for (_, m) in unread.drain() {
        socket.feed(Message::Text(m)).await?;
    }
    socket.flush().await
}

/// Sends what `user` hears of one item of the hub: their share of a post as the hub made it
/// (nothing if they may not read it; its unread count kept pending), or the messages of
/// another event (after the pending counts, which they may supersede).
async fn send_live(
    socket: &mut WebSocket,
    state: &AppState,
    user: &str,
    item: &Live,
    unread: &mut PendingUnread,
) -> Result<(), axum::Error> {
    match item {
        Live::Post(readers) => {
            if let Some(p) = readers.get(user) {
                socket.feed(Message::Text(p.post.clone())).await?;
                unread.insert(p.channel, p.unread.clone());
            }
        }
        Live::Event(event) => {
            flush(socket, unread).await?;
            for m in messages_for(state, user, event.clone()).await {
                send(socket, m).await?;
            }
        }
        Live::Resync => {
            unread.clear();
            send(socket, resync()).await?;
        }
    }
    Ok(())
}

/// What `user` hears of `event` (nothing if they may not see it). New and changed posts come
/// rendered from the hub ([`Live::Post`]), not through here.
async fn messages_for(state: &AppState, user: &str, event: Event) -> Vec<Value> {
    match event {
        Event::PostDeleted {
            flotilla,
            channel,
            post,
            root,
        } => {
            if state
                .node
                .channel_view(flotilla, channel, user)
                .await
                .is_err()
            {
                return vec![];
            }
            let mut out = vec![json!({
                "type": "post_deleted", "flotilla": flotilla.to_string(),
                "channel": channel.to_string(), "post_id": post.to_string(),
                "root_id": root.map(|r| r.to_string()),
            })];
            out.extend(unread_message(state, user, flotilla, channel).await);
            out
        }
        Event::ChannelChanged { flotilla, channel } => {
            match state.node.channel_view(flotilla, channel, user).await {
                Ok(view) => vec![json!({
                    "type": "channel", "flotilla": flotilla.to_string(),
                    "channel": Channel::from(view),
                })],
                Err(_) => vec![],
            }
        }
        Event::ReadChanged {
            flotilla,
            channel,
            user: reader,
        } if reader == user => unread_message(state, user, flotilla, channel)
            .await
            .into_iter()
            .collect(),
        Event::PeerConnected(_) | Event::PeerDisconnected(_) => vec![peers_message(state).await],
        Event::Joined(_) => vec![json!({"type": "flotillas"})],
        // Membership or roles may have changed: the page re-reads the member list (and a
        // removed user learns they lost access).
        Event::Sync(flotilla_protocol::sync::Event::Accepted {
            flotilla,
            control: true,
            ..
        }) => vec![json!({"type": "members", "flotilla": flotilla.to_string()})],
        Event::FileChanged { flotilla, file } => {
            super::files::file_message(state, user, flotilla, file)
                .await
                .into_iter()
                .collect()
        }
        _ => vec![],
    }
}

async fn unread_message(
    state: &AppState,
    user: &str,
    flotilla: FlotillaId,
    channel: ChannelId,
) -> Option<Value> {
    let counts = state.node.unread(flotilla, channel, user).await.ok()?;
    Some(json!({
        "type": "unread", "flotilla": flotilla.to_string(), "channel": channel.to_string(),
        "unread": counts.unread, "mentions": counts.mentions,
    }))
}

async fn peers_message(state: &AppState) -> Value {
    let mut boats: Vec<Value> = Vec::new();
    for f in state.node.flotillas().await.unwrap_or_default() {
        for b in state.node.boats(f.id).await.unwrap_or_default() {
            let mut boat = serde_json::to_value(Boat::from(b)).unwrap_or_default();
            boat["flotilla"] = json!(f.id.to_string());
            boats.push(boat);
        }
    }
    json!({"type": "peers", "boats": boats})
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn only_same_origin_sockets_are_accepted() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("10.0.0.5:8080"));
        assert!(check_origin(&h).is_ok(), "scripts send no Origin");
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://10.0.0.5:8080"),
        );
        assert!(check_origin(&h).is_ok());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://evil.example"),
        );
        assert!(check_origin(&h).is_err());
    }
}

//! The local admin socket: how `flotilla user create`, `flotilla post` and the other
//! administration commands reach the node that `flotilla serve` runs (like `mmctl --local`).
//!
//! # Protocol
//! A Unix socket, [`SOCKET_FILE`] in the data directory, mode 0600 (only the node's own
//! user may connect: whoever can, administers the node). One JSON request per line, one JSON
//! response per line, in order, on the same connection:
//!
//! ```text
//! → {"cmd":"channel_create","name":"mouillage","private":false}
//! ← {"ok":{"id":"5f0e…","name":"mouillage","private":false,"flotilla":"9a1c…"}}
//! → {"cmd":"post","as_user":"anne","channel":"nope","text":"hi"}
//! ← {"error":"not_found","message":"no channel `nope` in flotilla 9a1c…"}
//! ```
//! Requests are [`Request`] (tagged by `cmd`, unknown fields refused); `ok` payloads are the
//! `*View` types below; error codes are [`ErrorCode`]. A request line longer than
//! [`MAX_REQUEST_BYTES`] is answered `too_large` and the connection closed; at most
//! [`MAX_CLIENTS`] connections are served at once (the next one is answered `busy`); a
//! connection idle for [`IDLE_TIMEOUT`] is closed.
//!
//! # Layout
//! - `wire`: requests, responses, views, error codes, request parsing, [`rfc3339`].
//! - [`Server`]: binds the socket and serves it with a [`NodeHandle`](crate::NodeHandle).
//! - `members`: member and boat lists, removal and roles.
//! - `accounts`: deactivate, activate, delete, unlock, password (the HTTP sessions and
//!   login limits of the node too, when served by [`Server::start_node`]).
//! - [`Client`]: what the CLI uses.

mod accounts;
mod client;
mod members;
mod search;
mod server;
mod wire;

use std::time::Duration;

pub use client::{CALL_TIMEOUT, Client, ClientError};
pub use search::{DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT, RebuiltView};
pub use server::{Limits, Server, ServerError};
pub use wire::{
    ChannelView, ErrorCode, FlotillaStatusView, FlotillaView, InviteView, MemberView, MessageView,
    NodeView, PeerView, PostView, Request, Response, RevokedView, StatusView, UnlockedView,
    UserDeletedView, UserView, parse_request, rfc3339,
};

/// The socket's file name in the data directory.
pub const SOCKET_FILE: &str = "admin.sock";
/// Longest request line, in bytes: a post of `MAX_POST_CHARS` characters, JSON-escaped, fits.
pub const MAX_REQUEST_BYTES: usize = 128 * 1024;
/// Connections served at once; more are answered `busy` and closed.
pub const MAX_CLIENTS: usize = 16;
/// A connection that sends nothing for this long is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long `flotilla_join` keeps trying (waiting for a peer, retrying a peer that is not a
/// member yet) before it gives up.
pub const JOIN_TIMEOUT: Duration = Duration::from_secs(60);
/// `messages` without a limit returns this many.
pub const DEFAULT_MESSAGES_LIMIT: usize = 50;
/// The largest `messages` limit.
pub const MAX_MESSAGES_LIMIT: usize = 1000;

#[cfg(test)]
mod tests;

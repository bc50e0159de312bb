//! Router tests: every endpoint driven in-process with `oneshot` against a real node (temp
//! data dir, real store and actor), checking auth, CSRF, error shapes and that refused
//! requests store nothing.
#![allow(clippy::unwrap_used)]

mod accounts;
mod chat;
mod harness;
mod lifecycle;
mod live;
mod members;
mod moves;
mod openapi;
mod profile;
mod search;

//! flotilla's one integration-test binary (one binary keeps link times down).
//!
//! - [`store`]: a large store survives a reopen.
//! - [`crash`]: events acknowledged before a SIGKILL are all there after it.
//! - [`cli`]: the real `flotilla` binary: serve, status, key mode, bad flags, every admin
//!   command, and three nodes joining, posting and catching up after a restart.
//! - [`import`]: a hand-written Mattermost bulk export imported through the binary,
//!   twice, synced to a second boat, exported and re-imported into a fresh node.
//! - [`netns`]: network namespaces (root): real mDNS between processes, cut links, tbf.
//! - [`mesh`]: real nodes in this process: convergence, relays, partitions, restarts,
//!   late joiners, outsiders, invites.
//! - [`chat`]: the chat API across real nodes: edits, deletes, reactions, pins, rights,
//!   DMs, unread counts, paging, files.
//! - [`latency`]: propagation latency figures (`#[ignore]`; see docs/performance.md).
//! - [`cold_sync`]: time for an empty node to sync a 100k-post history (`#[ignore]`).
//! - [`browser`]: headless chromium through chromedriver: pages, the web UI's acceptance
//!   scenario and its benchmarks.

mod artifact;
mod browser;
mod chat;
mod cli;
mod cold_sync;
mod crash;
mod import;
mod latency;
mod mesh;
mod netns;
mod store;

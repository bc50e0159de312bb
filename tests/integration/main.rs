//! flotilla's one integration-test binary (one binary keeps link times down).
//!
//! - [`store`]: a large store survives a reopen.
//! - [`crash`]: events acknowledged before a SIGKILL are all there after it.
//! - [`faults`]: the real binary through HTTP: SIGKILL while posting, a full disk.
//! - [`cli`]: the real `flotilla` binary: serve, status, key mode, bad flags, every admin
//!   command, and three nodes joining, posting and catching up after a restart.
//! - [`import`]: a hand-written Mattermost bulk export imported through the binary,
//!   twice, synced to a second boat, exported and re-imported into a fresh node.
//! - [`netns`]: network namespaces (root): real mDNS between processes, cut links, tbf.
//! - [`mesh`]: real nodes in this process: convergence, relays, partitions, restarts,
//!   late joiners, outsiders, invites.
//! - [`chat`]: the chat API across real nodes: edits, deletes, reactions, pins, rights,
//!   DMs, unread counts, paging, files.
//! - [`files`]: files across real nodes: several sources, late joiners, resume, dedup,
//!   private relays.
//! - [`grib`]: GRIB metadata parity with ecCodes' `grib_ls` (samples and built forecasts).
//! - [`latency`]: propagation latency figures (`#[ignore]`; see docs/performance.md).
//! - [`load`]: 50 WebSockets and 20 posters on two syncing node processes (`#[ignore]`; a
//!   short smoke runs).
//! - [`cold_sync`]: time for an empty node to sync a 100k-post history (`#[ignore]`).
//! - [`trust`]: joining without `via` while an outsider is connected (issue 8).
//! - [`lora`]: the LoRa bridge with real processes on `flotilla lora-air` (IP boat, gateway,
//!   LoRa-only boat), and the Meshtastic stream API against the Meshtastic Python package.
//! - [`browser`]: headless chromium through chromedriver: pages, the web UI's acceptance
//!   scenario and its benchmarks.

mod artifact;
mod browser;
mod chat;
mod cli;
mod cold_sync;
mod crash;
mod faults;
mod files;
mod grib;
mod import;
mod latency;
mod load;
mod lora;
mod mesh;
mod netns;
mod store;
mod trust;

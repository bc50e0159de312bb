//! Where ingest CPU goes: process-wide time per stage of the node's event path, summed in
//! relaxed atomics (two clock reads per stage and event, negligible beside the stages). The
//! benchmark (`node/examples/bench.rs`) prints them per event; nothing else reads them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// One stage of the event path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Decoding and strict ed25519 verification (summed over the verify threads).
    Verify,
    /// The sync core: judging, storing (one sled transaction and flush per batch).
    Core,
    /// Reading back an accepted content event (the actor's `on_content_accepted`).
    Read,
    /// Decrypting it.
    Open,
    /// Folding it into the chat state (and loading its channel if needed).
    Fold,
    /// Indexing it for search.
    Index,
    /// Announcing it to subscribers.
    Announce,
}

/// Every stage, in the order above.
pub const STAGES: [Stage; 7] = [
    Stage::Verify,
    Stage::Core,
    Stage::Read,
    Stage::Open,
    Stage::Fold,
    Stage::Index,
    Stage::Announce,
];

static NANOS: [AtomicU64; 7] = [const { AtomicU64::new(0) }; 7];

/// Adds the time since `since` to `stage`.
pub fn add(stage: Stage, since: Instant) {
    let ns = u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX);
    NANOS[stage as usize].fetch_add(ns, Ordering::Relaxed);
}

/// The time summed per stage so far, in nanoseconds, in [`STAGES`] order.
pub fn snapshot() -> [(Stage, u64); 7] {
    STAGES.map(|s| (s, NANOS[s as usize].load(Ordering::Relaxed)))
}

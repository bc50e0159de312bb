//! Chunk transfer planning: which chunk of a file to ask of which peer, and when.
//!
//! A file travels as chunks named by their BLAKE3 hash (the manifest's chunk list). A
//! downloader keeps one [`Fetch`] per file. Peers advertise which chunks they hold as a
//! [`ChunkSet`] (a bitmap, one bit per chunk: a 5 MB file in 20 chunks costs 3 bytes);
//! [`Fetch::next_requests`] then picks up to [`Config::max_in_flight`] chunks:
//!
//! - **rarest first** (BitTorrent): among the missing chunks no request is out for, those
//!   held by the fewest sources go first (ties by index from a start chunk each downloader
//!   picks at random, [`Fetch::starting_at`], so boats fetching at once hold different
//!   chunks and serve each other), so a chunk only one boat holds is copied before that
//!   boat leaves;
//! - **multi-source**: each chunk goes to the source holding it with the fewest requests
//!   in flight, at most [`Config::max_per_peer`] each, so several boats serve at once;
//! - **bounded**: never more than `max_in_flight` requests out, never two for one chunk;
//! - **resumable**: a `Fetch` starts from the chunks already on disk (`have`); a cut
//!   connection ([`Fetch::peer_down`]) or a timeout frees the chunk for another source.
//!
//! A chunk that fails verification bans its source from this file (it served bytes that do
//! not hash to the manifest); a "don't have" answer only clears that bit of its set.
//! Pure: time is a `u64` of milliseconds passed in, no IO. Tested in a seeded simulator
//! (`chunks/tests.rs`).

mod schedule;
mod set;

pub use schedule::{Config, Failure, Fetch};
pub use set::{ChunkSet, ChunkSetError};

/// A transfer's identity: BLAKE3 over the chunk size, the file size and the chunk hashes.
/// Relays that cannot read a file's manifest still verify a chunk list against it.
pub fn blob_id(chunk_size: u32, size: u64, chunks: &[[u8; 32]]) -> [u8; 32] {
    let mut h = blake3::Hasher::new_derive_key("flotilla/v1 blob");
    h.update(&chunk_size.to_le_bytes());
    h.update(&size.to_le_bytes());
    for c in chunks {
        h.update(c);
    }
    *h.finalize().as_bytes()
}

#[cfg(test)]
mod tests;

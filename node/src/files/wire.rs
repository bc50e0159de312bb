//! The chunk protocol: request-response messages on `/flotilla/sync/1` (request tag 2, see
//! [`crate::net::codec`]).
//!
//! ```text
//! Have      { flotilla, blobs: [ { blob, chunks, bits } ] }  → Have([ … ])
//!           "I hold these chunks of these blobs" (when a member comes in reach, on
//!           progress, on completion); the answer is the receiver's own set, so one
//!           exchange informs both sides whichever became a member last
//! ChunkList { flotilla, blob }                                → ChunkList { chunk_size, size, chunks }
//!           for a relay that cannot read the manifest; checked against the blob id
//! Chunk     { flotilla, blob, index }                         → Chunk(bytes) | NotHere
//!           bytes are the encrypted chunk; the asker checks BLAKE3 against the chunk list
//! ```
//! Every request names its flotilla; a node answers only members of that flotilla, and only
//! about blobs recorded for that flotilla.

use flotilla_protocol as proto;
use proto::id::FlotillaId;
use serde::{Deserialize, Serialize};

use super::blobs::BlobId;

/// The most blobs in one [`FilesRequest::Have`] (newest first; ~40 bytes each plus the
/// bitmap: a few KiB).
pub const MAX_HAVE_BLOBS: usize = 512;
/// The most chunks in one chunk list (the manifest's bound).
pub const MAX_LIST_CHUNKS: usize = super::MAX_MANIFEST_CHUNKS as usize;

/// What a peer holds of one blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HaveEntry {
    /// The blob.
    pub blob: BlobId,
    /// Its chunk count.
    pub chunks: u32,
    /// The bitmap of chunks held ([`proto::chunks::ChunkSet::as_bytes`]).
    pub bits: Vec<u8>,
}

/// A chunk-protocol request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FilesRequest {
    /// "I hold these chunks."
    Have {
        /// The flotilla.
        flotilla: FlotillaId,
        /// At most [`MAX_HAVE_BLOBS`].
        blobs: Vec<HaveEntry>,
    },
    /// "Send me this blob's chunk list."
    ChunkList {
        /// The flotilla.
        flotilla: FlotillaId,
        /// The blob.
        blob: BlobId,
    },
    /// "Send me chunk `index` of this blob."
    Chunk {
        /// The flotilla.
        flotilla: FlotillaId,
        /// The blob.
        blob: BlobId,
        /// The chunk.
        index: u32,
    },
}

impl FilesRequest {
    /// The flotilla the request is about.
    pub fn flotilla(&self) -> FlotillaId {
        match self {
            FilesRequest::Have { flotilla, .. }
            | FilesRequest::ChunkList { flotilla, .. }
            | FilesRequest::Chunk { flotilla, .. } => *flotilla,
        }
    }

    /// Within its bounds?
    pub fn in_bounds(&self) -> bool {
        match self {
            FilesRequest::Have { blobs, .. } => {
                blobs.len() <= MAX_HAVE_BLOBS
                    && blobs
                        .iter()
                        .all(|b| b.chunks as usize <= MAX_LIST_CHUNKS && b.bits.len() <= 128)
            }
            _ => true,
        }
    }
}

/// A chunk-protocol answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FilesResponse {
    /// Received.
    Ack,
    /// The answer to a `Have`: what the receiver holds in that flotilla.
    Have(Vec<HaveEntry>),
    /// A blob's chunk list.
    ChunkList {
        /// Plaintext chunk size.
        chunk_size: u32,
        /// Plaintext size.
        size: u64,
        /// BLAKE3 of each encrypted chunk.
        chunks: Vec<[u8; 32]>,
    },
    /// An encrypted chunk.
    Chunk(Vec<u8>),
    /// Not held here (or not for you).
    NotHere,
}

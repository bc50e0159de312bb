//! Files: attachments stored on disk, their encrypted chunks, transfers between boats, the
//! fetch policy, the storage budget and the GRIB weather preview.
//!
//! A file is published as a manifest event (name, size, MIME type, chunk size and the
//! BLAKE3 of each **encrypted** chunk). The uploader encrypts every chunk with a key derived
//! from the channel's key and the file's hash ([`crypt`]): the same file in the same
//! channel gives the same chunks (stored and sent once), and a boat that cannot read the
//! channel stores and relays ciphertext it cannot open. Chunks live in `files/chunks/`
//! named by their hash; a transfer ("blob") is named by [`flotilla_protocol::chunks::blob_id`]
//! over the chunk list, so relays verify what they fetch without the manifest. Readers
//! decrypt and assemble the plaintext into `files/<file id>`.
//!
//! # Layout
//! - [`local`]: plaintext files in the data dir, manifest numbers, name checks.
//! - [`crypt`]: chunk keys and deterministic chunk encryption.
//! - [`blobs`]: the encrypted chunk store and the blob records (what a node relays).
//! - [`wire`]: the request-response messages of the chunk protocol (`Have`, `ChunkList`,
//!   `Chunk`).
//! - [`transfers`]: the transfers this node runs (one [`flotilla_protocol::chunks::Fetch`]
//!   per blob), the peers' "have" sets and the requests in flight.
//! - [`worker`]: chunk disk I/O, hashing and decryption off the actor (one thread, bounded
//!   queues), including the stream decryption of a file as its chunks arrive.
//! - [`command`]: the actor commands of the file service.
//! - [`policy`]: what is fetched automatically on which link.
//! - [`budget`]: the per-flotilla storage budget and its eviction rule.
//! - [`grib`]: GRIB1/GRIB2 metadata ([`grib::summarize`], also for search).
//! - [`weather`]: forecasts grouped by area, newest first, older ones superseded.
//! - [`state`]: a file's state on this boat as the API shows it.

pub mod blobs;
pub mod budget;
pub mod command;
pub mod crypt;
pub mod grib;
mod local;
pub mod policy;
pub mod state;
pub mod transfers;
pub mod weather;
pub mod wire;
pub mod worker;

pub(crate) use local::Attachments;
pub use local::{
    FILES_DIR, MAX_MANIFEST_CHUNKS, MIN_CHUNK_BYTES, StoredFile, check_meta, chunk_size_for,
    path_of, store,
};
pub use state::{FileState, FileStatus};

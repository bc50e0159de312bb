//! The LoRa bridge, sans-IO: boats out of Wi-Fi range stay in the conversation over radios
//! that carry a few hundred bytes per second under a legal duty cycle.
//!
//! libp2p cannot run there (one session's setup is ~9 KB), so the bridge is its own compact
//! protocol. It carries **the same signed events** as the IP mesh, transcoded:
//!
//! 1. [`compact`]: an event is written as small prefixes of the keys and ids both ends already
//!    hold (author, channel, control deps, content key), its HLC as a delta from its deps,
//!    the content *plaintext* with the text compressed ([`text`]), the 24-byte nonce and the
//!    64-byte signature. The receiver re-encrypts the plaintext with the same channel key and
//!    nonce (XChaCha20-Poly1305 is deterministic for a given key and nonce), rebuilds the exact
//!    canonical envelope and checks the author's signature: an event that crossed LoRa is
//!    byte for byte the event of the IP side, never re-signed by a bridge. Events a bridge
//!    cannot open (a private channel it is not in) travel with their ciphertext.
//! 2. [`message`]: what a frame says: an event, a catch-up summary, an inventory, a want.
//! 3. [`frame`]: a message is encrypted and authenticated with a key derived from the
//!    flotilla's epoch key (outsiders on the frequency read nothing and inject nothing), then
//!    cut into fragments that fit the radio's MTU, each with a 10-byte header.
//! 4. [`bridge`]: the state machine: duplicate suppression, relaying up to a hop limit,
//!    per-radio queues by priority ([`queue`]: DMs and mentions, then posts, then reactions
//!    and edits, then catch-up), a duty-cycle budget per radio ([`budget`], airtime from the
//!    Semtech formula in [`airtime`]), and catch-up: a tiny per-channel summary beaconed at a
//!    low rate, answered by an inventory of recent ids, answered by a want, bounded per hour.
//!
//! [`medium`] is the air itself (half duplex, collisions, airtime, loss, duty cycle), pure,
//! shared by the seeded simulator and `flotilla lora-air`.
//!
//! Time is an argument (`now_ms`), randomness an [`crate::entropy::Entropy`], and what the
//! bridge needs from the node (keys, members, stored events) a [`compact::Lookup`].
//! The byte-by-byte format is in docs/protocol.md ("LoRa bridge").

pub mod airtime;
pub mod bridge;
pub mod budget;
mod bytes;
pub mod compact;
pub mod frame;
pub mod lookup;
pub mod medium;
pub mod message;
pub mod queue;
#[cfg(any(test, feature = "test-utils"))]
pub mod sim;
pub mod text;

pub use airtime::RadioParams;
pub use bridge::{Bridge, Config, InEvent, OutEvent, RadioConfig, RadioStats};
pub use compact::Lookup;
pub use lookup::StoreLookup;
pub use queue::Priority;

/// Why a frame or message could not be read. Every decoder returns this, never panics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoraError {
    /// The bytes end before the structure does.
    #[error("truncated {0}")]
    Truncated(&'static str),
    /// A field has a value that can never be right.
    #[error("invalid {0}")]
    Invalid(&'static str),
    /// A message is larger than the fragments can carry.
    #[error("message of {len} bytes is larger than {max}")]
    TooLarge {
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// No key of ours authenticates the frame.
    #[error("frame does not authenticate")]
    Unauthenticated,
    /// The compact event refers to something this node does not hold.
    #[error("cannot rebuild the event: {0}")]
    Unresolved(&'static str),
}

#[cfg(test)]
mod tests;

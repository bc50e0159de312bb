//! # flotilla-protocol
//!
//! The pure core of flotilla, an offline-first mesh chat for boat flotillas: what an event
//! is, who may write it, how it is encrypted, how state is folded from events, and how two
//! nodes that were apart agree again. No I/O: no sockets, no clocks, no OS randomness, no
//! async runtime. Time and randomness are arguments; storage is the [`store::Store`] trait.
//!
//! # Layout
//! - [`id`]: event, flotilla, channel, invite and file ids (hex text form).
//! - [`hlc`]: the hybrid logical clock.
//! - [`entropy`]: randomness as an input ([`entropy::Entropy`]).
//! - [`crypto`]: ed25519 keys and signatures, sealed boxes, XChaCha20-Poly1305.
//! - [`event`]: the signed, versioned envelope and every event kind.
//! - [`keyring`]: the group keys a node holds; encrypting and decrypting content.
//! - [`membership`]: the control DAG and who may do what, as of an event's causal past.
//! - [`proof`]: invite and node admission proofs, user key proofs.
//! - [`author`]: building and signing events of every kind.
//! - [`chunks`]: planning file transfers chunk by chunk (rarest first, several sources).
//! - [`fold`]: chat state (timelines, threads, edits, reactions, pins) as a fold of events.
//! - [`wire`]: peer messages, framing and the versioned codec.
//! - [`sync`]: the sans-IO sync state machine (live push + range-based reconciliation).
//! - [`lora`]: the LoRa bridge: compact signed frames, duty-cycle budget, catch-up.
//! - [`store`]: the storage trait and an in-memory store.
//! - `sim` (feature `test-utils`): a seeded, deterministic multi-node simulator.
//!
//! # Example
//! ```
//! use flotilla_protocol::{author, entropy::SeededEntropy, hlc::Clock, SecretKey};
//! let mut rng = SeededEntropy::new(7);
//! let (node, alice) = (SecretKey::generate(&mut rng), SecretKey::generate(&mut rng));
//! let mut clock = Clock::new();
//! let founded = author::found(&node, "Ondine", &alice, "alice", "Rallye 2026", &mut clock, 1_700_000_000_000, &mut rng)?;
//! // genesis, then create + name for town-square and off-topic
//! assert_eq!(founded.events.len(), 5);
//! assert!(founded.ledger.state().is_admin(&alice.public()));
//! # Ok::<(), flotilla_protocol::author::AuthorError>(())
//! ```
#![deny(missing_docs)]
#![warn(unreachable_pub)]

pub mod author;
pub mod chunks;
pub mod crypto;
pub mod entropy;
pub mod event;
pub mod fold;
pub mod hlc;
pub mod id;
pub mod keyring;
pub mod lora;
pub mod membership;
pub mod mention;
pub mod proof;
#[cfg(any(test, feature = "test-utils"))]
pub mod sim;
pub mod store;
pub mod sync;
pub mod wire;

pub use crypto::{PublicKey, SecretKey};
pub use event::{Content, Control, SignedEvent};
pub use id::{ChannelId, EventId, FlotillaId};

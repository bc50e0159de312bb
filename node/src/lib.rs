//! # flotilla-node
//!
//! The flotilla daemon and its command line (`flotilla`): the durable sled store, the
//! configuration, the data directory and the node key, the libp2p mesh and the actor that
//! drives sync, mDNS discovery, and the HTTP status page. The web UI comes next.
//!
//! # Layout
//! - [`admin`]: the local admin socket (`admin.sock`, JSON lines) and its client.
//! - [`cli`]: the command line (clap) and what each subcommand does.
//! - [`config`]: [`config::RawConfig`] (TOML) → checked [`config::Config`].
//! - [`datadir`]: the data directory and the node key file.
//! - [`files`]: attachments on disk (`files/<blake3 hex>`).
//! - [`discovery`]: finding peers on the LAN with mDNS (mdns-sd).
//! - `mdns`: starts discovery in a running node and feeds what it finds to the actor.
//! - [`markdown`]: posts' markdown → sanitized HTML; mentions; emoji shortcodes.
//! - [`store`]: [`store::SledStore`], the core's store trait on sled, plus post indexes.
//! - [`http`]: the axum router: status page and `/api/v1`.
//! - [`identity`]: users and boats by key, `name@boat` on clash, key fingerprints.
//! - [`node`]: [`Node`], a running node.
//! - [`profile`]: time per stage of the event path, for the benchmark.
//! - [`tls`]: `serve --tls`: the node's own certificate, HTTPS.
//! - [`search`]: full-text search (tantivy), per flotilla, derived from the fold.
//! - [`picture`]: profile pictures: decode, crop, resize, re-encode.
//! - [`handle`]: [`NodeHandle`], the API of a running node (commands, events).
//! - `actor`: the task that owns the swarm, the sync core and the timers.
//! - [`net`]: libp2p: identities, the swarm, the sync codec, link-profile timeouts.
//! - `users`: local users and their keys (encrypted at rest).
//! - `test_utils` (feature `test-utils`): helpers for tests.
//!
//! # Example
//! ```no_run
//! # async fn run() -> Result<(), flotilla_node::Error> {
//! let config = flotilla_node::config::Config::for_tests(std::path::Path::new("/tmp/flotilla-demo"));
//! let node = flotilla_node::Node::start(config).await?;
//! println!("status at http://{}/api/v1/status", node.http_addr());
//! node.shutdown().await
//! # }
//! ```
#![warn(missing_docs)]

pub mod accounts;
mod actor;
pub mod admin;
pub mod cli;
pub mod config;
pub mod datadir;
pub mod discovery;
pub mod disk;
mod error;
pub mod files;
#[doc(hidden)]
pub mod fuzz;
pub mod handle;
pub mod http;
pub mod identity;
pub mod import;
pub mod lora;
pub mod markdown;
mod mdns;
pub mod net;
pub mod node;
pub mod picture;
pub mod profile;
pub mod search;
pub mod status;
pub mod store;
#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils;
pub mod tls;
mod users;

pub use actor::OsEntropy;
pub use error::Error;
pub use handle::NodeHandle;
pub use node::Node;

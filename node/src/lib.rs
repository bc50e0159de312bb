//! # flotilla-node
//!
//! The flotilla daemon and its command line (`flotilla`): the durable sled store, the
//! configuration, the data directory and the node key, and the HTTP status page. The libp2p
//! mesh, the sync actor and the web UI come in later versions.
//!
//! # Layout
//! - [`cli`]: the command line (clap) and what each subcommand does.
//! - [`config`]: [`config::RawConfig`] (TOML) → checked [`config::Config`].
//! - [`datadir`]: the data directory and the node key file.
//! - [`discovery`]: finding peers on the LAN with mDNS (mdns-sd).
//! - [`store`]: [`store::SledStore`], the core's store trait on sled, plus post indexes.
//! - [`http`]: the axum router: status page and `/api/v1`.
//! - [`node`]: [`Node`], a running node.
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

pub mod cli;
pub mod config;
pub mod datadir;
pub mod discovery;
mod error;
pub mod http;
pub mod node;
pub mod store;
#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils;

pub use error::Error;
pub use node::Node;

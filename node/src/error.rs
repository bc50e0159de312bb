//! [`Error`]: what callers of the node library branch on.

use std::net::SocketAddr;

use flotilla_protocol as proto;

use crate::{config, datadir, store};

/// A node failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is unreadable or invalid.
    #[error(transparent)]
    Config(#[from] config::Error),
    /// The data directory or the node key is unusable.
    #[error(transparent)]
    DataDir(#[from] datadir::Error),
    /// The store failed or refused to open.
    #[error("store: {0}")]
    Store(#[from] store::Error),
    /// The core's view of a store failure.
    #[error("store: {0}")]
    CoreStore(#[from] proto::store::StoreError),
    /// The HTTP address could not be bound.
    #[error("cannot listen for HTTP on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The HTTP server failed while running.
    #[error("HTTP server: {0}")]
    Serve(std::io::Error),
    /// A blocking task died (panicked or was cancelled).
    #[error("background task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

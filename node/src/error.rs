//! [`Error`]: what callers of the node library branch on.

use std::net::SocketAddr;

use flotilla_protocol as proto;

use crate::net::codec::JoinRefusal;
use crate::{config, datadir, net, store};

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
    /// The HTTPS certificate could not be made or read.
    #[error(transparent)]
    Tls(#[from] crate::tls::Error),
    /// A blocking task died (panicked or was cancelled).
    #[error("background task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// The libp2p swarm could not start.
    #[error("mesh: {0}")]
    Net(#[from] net::Error),
    /// The node's actor has stopped.
    #[error("the node has stopped")]
    ActorGone,
    /// A flotilla, channel, user or admin this node does not know.
    #[error("not found: {0}")]
    NotFound(String),
    /// It exists already (a user account).
    #[error("{0} already exists")]
    Exists(String),
    /// An argument is invalid (username, address).
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// What.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// The event could not be built (not allowed, not ready, over a limit).
    #[error(transparent)]
    Author(#[from] proto::author::AuthorError),
    /// The member refused the join.
    #[error("join refused: {0}")]
    JoinRefused(JoinRefusal),
    /// The join did not complete (no peer, unreachable, timeout).
    #[error("join failed: {0}")]
    Join(String),
    /// A dial could not start.
    #[error("cannot dial: {0}")]
    Dial(String),
    /// Not allowed for this user (someone else's post, an archived channel, a private
    /// channel the user is not in).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// It clashes with what exists (a channel name taken).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The data directory's disk is (nearly) full: the write was refused ([`crate::disk`]).
    #[error("the disk is full ({free} bytes free, {reserve} kept in reserve): free some space")]
    DiskFull {
        /// Free bytes.
        free: u64,
        /// Bytes kept free.
        reserve: u64,
    },
    /// Over a size limit (an attachment).
    #[error("too large: the limit is {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The search index failed.
    #[error(transparent)]
    Search(#[from] crate::search::Error),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

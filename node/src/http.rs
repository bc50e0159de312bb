//! The node's HTTP side: [`router`] builds the axum app from an [`AppState`]; handlers live
//! in [`api`] (JSON under `/api/v1`) and [`page`] (the HTML status page). The web UI comes in
//! a later version.

mod api;
mod error;
mod page;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use flotilla_protocol::PublicKey;

use crate::handle::NodeHandle;
use crate::store::SledStore;

pub use api::Status;

/// What handlers share: who this node is and its store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Facts about the node that never change while it runs.
    pub info: Arc<NodeInfo>,
    /// The node's store.
    pub store: SledStore,
    /// The node's actor.
    pub node: NodeHandle,
}

/// Facts about the node that never change while it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    /// The node's public key.
    pub id: PublicKey,
    /// Its human name, if configured.
    pub name: Option<String>,
    /// Its data directory.
    pub data_dir: PathBuf,
}

/// The whole HTTP app.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(page::status_page))
        .route("/api/v1/status", get(api::get_status))
        .with_state(state)
}

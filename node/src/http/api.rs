//! JSON handlers under `/api/v1`.

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::AppState;
use super::error::ApiError;

/// The answer of `GET /api/v1/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Status {
    /// The node's public key, hex.
    pub node_id: String,
    /// Its human name, if configured.
    pub name: Option<String>,
    /// The flotilla version it runs.
    pub version: &'static str,
    /// Its data directory.
    pub data_dir: String,
    /// How many events its store holds.
    pub events: usize,
    /// How many peers are connected.
    pub peers: usize,
}

/// Builds the status (walks the event tree: call from a blocking thread).
pub(crate) fn status(state: &AppState) -> Status {
    Status {
        node_id: state.info.id.to_string(),
        name: state.info.name.clone(),
        version: env!("CARGO_PKG_VERSION"),
        data_dir: state.info.data_dir.display().to_string(),
        events: state.store.event_count(),
        peers: state.node.connected_peers(),
    }
}

/// # `GET /api/v1/status`
/// Who this node is and how much it stores.
#[utoipa::path(get, path = "/api/v1/status", tag = "node", responses((status = 200, body = Status)))]
pub async fn get_status(State(state): State<AppState>) -> Result<Json<Status>, ApiError> {
    let status = tokio::task::spawn_blocking(move || status(&state))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(status))
}

//! JSON handlers under `/api/v1`.

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::AppState;

/// The answer of `GET /api/v1/status`: public (no login), so nothing sensitive (no data
/// directory), and O(1) (no store walk: a status poll must cost nothing on a Raspberry Pi).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Status {
    /// The node's public key, hex.
    pub node_id: String,
    /// Its human name, if configured.
    pub name: Option<String>,
    /// The flotilla version it runs.
    pub version: &'static str,
    /// How many peers are connected.
    pub peers: usize,
    /// With `serve --tls`: the HTTPS certificate's SHA-256 fingerprint (public, like the
    /// certificate itself), for the crew to compare with what their browser shows.
    pub tls_fingerprint: Option<String>,
}

/// Builds the status from what the node holds in memory.
pub(crate) fn status(state: &AppState) -> Status {
    Status {
        node_id: state.info.id.to_string(),
        name: state.info.name.clone(),
        version: env!("CARGO_PKG_VERSION"),
        peers: state.node.connected_peers(),
        tls_fingerprint: state.info.tls_fingerprint.clone(),
    }
}

/// # `GET /api/v1/status`
/// Who this node is (public: nothing sensitive, O(1)).
#[utoipa::path(get, path = "/api/v1/status", tag = "node", responses((status = 200, body = Status)))]
pub async fn get_status(State(state): State<AppState>) -> Json<Status> {
    Json(status(&state))
}

//! The node's HTTP side: [`router`] builds the axum app from an [`AppState`]: the crew's web
//! UI ([`assets`]), and the JSON API under `/api/v1` described by OpenAPI at
//! `/api/v1/openapi.json` (see `docs/api.md`).
//!
//! - [`auth`], [`sessions`], [`ratelimit`]: who is calling (cookie + CSRF, bearer tokens).
//! - [`accounts`]: setup, login, users, tokens.
//! - [`api`]: node status.
//! - [`flotillas`], [`channels`], [`posts`], [`files`]: the chat, through the node's handle;
//!   [`dto`] shapes it, [`render`] renders markdown for the reader.
//! - [`members`]: roles and removal (users, boats, node admins).
//! - [`profile`]: a user's own profile and picture; members' pictures.
//! - [`ws`]: the live WebSocket.
//! - [`error`], [`json`]: the error shape and the JSON extractor every handler uses;
//!   [`openapi_errors`]: the error answers those extractors give, added to every operation's
//!   OpenAPI description where they apply.

pub mod accounts;
pub mod api;
pub mod assets;
pub mod auth;
pub mod channels;
pub mod dto;
pub mod error;
pub mod files;
pub mod flotillas;
pub mod json;
pub mod live;
pub mod members;
pub mod openapi_errors;
mod page;
pub mod posts;
pub mod profile;
pub mod ratelimit;
pub mod render;
pub mod search;
pub mod sessions;
pub mod size;
#[cfg(test)]
mod tests;
pub mod ws;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use flotilla_protocol::PublicKey;
use tower_http::compression::CompressionLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::handle::NodeHandle;
use crate::store::SledStore;

pub use api::Status;
pub use auth::Auth;

/// What handlers share: who this node is, its store, its actor, sessions. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Facts about the node that never change while it runs.
    pub info: Arc<NodeInfo>,
    /// The node's store.
    pub store: SledStore,
    /// The node's actor.
    pub node: NodeHandle,
    /// Sessions, tokens, the setup code, rate limits.
    pub auth: Arc<Auth>,
    /// What the WebSockets push, made once for all of them ([`live`]).
    pub live: Arc<live::Hub>,
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
    /// The largest attachment accepted, in bytes.
    pub max_attachment_bytes: u64,
    /// With `serve --tls`: the certificate's SHA-256 fingerprint (cookies are then `Secure`).
    pub tls_fingerprint: Option<String>,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "flotilla node API", description = "The crew's chat API: see docs/api.md."),
    tags((name = "accounts"), (name = "node"), (name = "flotillas"), (name = "channels"),
        (name = "posts"), (name = "files"), (name = "live"))
)]
struct ApiDoc;

/// The API routes and their OpenAPI description (with the shared error answers of
/// [`openapi_errors`]).
fn api() -> OpenApiRouter<AppState> {
    let mut api = routes();
    openapi_errors::document(api.get_openapi_mut());
    api
}

/// The API routes, each with its own `#[utoipa::path]` description.
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(api::get_status))
        .routes(routes!(accounts::get_setup, accounts::post_setup))
        .routes(routes!(accounts::post_login))
        .routes(routes!(accounts::post_logout))
        .routes(routes!(accounts::get_me))
        .routes(routes!(accounts::put_my_password))
        .routes(routes!(accounts::get_users, accounts::post_user))
        .routes(routes!(accounts::put_user_password))
        .routes(routes!(accounts::delete_user))
        .routes(routes!(accounts::post_deactivate))
        .routes(routes!(accounts::post_activate))
        .routes(routes!(accounts::post_unlock))
        .routes(routes!(accounts::get_tokens, accounts::post_token))
        .routes(routes!(accounts::delete_token))
        .routes(routes!(flotillas::get_flotillas, flotillas::post_flotilla))
        .routes(routes!(flotillas::post_join))
        .routes(routes!(flotillas::post_invite))
        .routes(routes!(flotillas::get_members))
        .routes(routes!(flotillas::get_boats))
        .routes(routes!(flotillas::get_radios))
        .routes(routes!(members::put_member_role))
        .routes(routes!(members::delete_member))
        .routes(routes!(members::delete_node))
        .routes(routes!(members::put_user_role))
        .routes(routes!(flotillas::get_emoji))
        .routes(routes!(profile::put_profile))
        .routes(routes!(profile::put_picture, profile::delete_picture))
        .routes(routes!(profile::get_picture))
        .routes(routes!(channels::get_channels, channels::post_channel))
        .routes(routes!(channels::post_dm))
        .routes(routes!(channels::get_channel, channels::patch_channel))
        .routes(routes!(channels::post_join_channel))
        .routes(routes!(channels::post_leave_channel))
        .routes(routes!(channels::post_channel_member))
        .routes(routes!(channels::post_archive))
        .routes(routes!(channels::post_read))
        .routes(routes!(channels::get_pins))
        .routes(routes!(posts::get_posts, posts::post_post))
        .routes(routes!(
            posts::get_post,
            posts::put_post,
            posts::delete_post
        ))
        .routes(routes!(posts::get_thread))
        .routes(routes!(posts::post_move))
        .routes(routes!(posts::put_reaction, posts::delete_reaction))
        .routes(routes!(posts::put_pin, posts::delete_pin))
        .routes(routes!(files::get_files, files::post_file))
        .routes(routes!(files::get_file))
        .routes(routes!(files::post_fetch))
        .routes(routes!(files::get_wind))
        .routes(routes!(files::get_weather))
        .routes(routes!(ws::get_ws))
        .routes(routes!(search::get_search))
        .routes(routes!(search::get_mentions))
        .routes(routes!(search::get_saved))
        .routes(routes!(search::put_saved, search::delete_saved))
}

async fn method_not_allowed() -> error::ApiError {
    error::ApiError::method_not_allowed()
}

/// The OpenAPI description of the API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

/// The whole HTTP app.
pub fn router(state: AppState) -> Router {
    let (api, spec) = api().split_for_parts();
    let spec = Arc::new(spec);
    Router::new()
        .merge(api)
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let spec = Arc::clone(&spec);
                async move { axum::Json((*spec).clone()) }
            }),
        )
        .route("/status", get(page::status_page))
        .route("/", get(assets::index))
        .route("/{*path}", get(assets::file))
        // A known path with a method it does not take: 405 `{"error","message"}` (axum's own
        // answer has an empty body); axum still adds `Allow`. After every route: it applies
        // to the routes registered before it.
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(json::MAX_JSON_BODY))
        .layer(CompressionLayer::new())
        .with_state(state)
}

//! Channels over HTTP: listing, creating, DMs, header and purpose, joining, leaving, adding
//! members, archiving, read markers and pins.

use axum::Json;
use axum::extract::State;
// Path and query rejections answered as `{"error","message"}` (see `json`).
use super::json::ApiPath as Path;
use axum::http::StatusCode;
use flotilla_protocol::id::{ChannelId, FlotillaId};
use serde::Deserialize;
use utoipa::ToSchema;

use super::AppState;
use super::auth::Caller;
use super::dto::{Channel, Post};
use super::error::{ApiError, ErrorBody};
use super::flotillas::parse_id;
use super::json::ApiJson;
use super::render::Renderer;
use crate::handle::{ChannelChange, NewChannel as NodeNewChannel};

/// A new channel.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewChannel {
    /// 1–64 characters of `a-z 0-9 - _`.
    pub name: String,
    /// Members only, with its own key?
    #[serde(default)]
    pub private: bool,
    /// Shown above the timeline.
    #[serde(default)]
    pub header: String,
    /// What it is for.
    #[serde(default)]
    pub purpose: String,
}

/// The people of a DM or group DM (the caller is added).
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewDm {
    /// Usernames (1–7 others).
    pub usernames: Vec<String>,
}

/// Changes to a channel; a field left out is kept. `name`, `display_name` and `private` are
/// for its creator or a flotilla admin.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ChannelPatch {
    /// Shown above the timeline.
    pub header: Option<String>,
    /// What it is for.
    pub purpose: Option<String>,
    /// A new short name (a rename): 1–64 characters of `a-z 0-9 - _`, unique.
    pub name: Option<String>,
    /// The name shown instead of `name` (empty: none).
    pub display_name: Option<String>,
    /// Switch to private (a new key for its members) or public (the posts written while
    /// private stay readable only to those who were members then). Not for DMs or the
    /// default channels.
    pub private: Option<bool>,
}

/// Someone to add to a private channel.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewMember {
    /// Their username.
    pub username: String,
}

/// Archive or unarchive.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ArchiveRequest {
    /// True to archive.
    pub archived: bool,
}

fn ids(f: &str, c: &str) -> Result<(FlotillaId, ChannelId), ApiError> {
    Ok((parse_id(f, "flotilla")?, parse_id(c, "channel")?))
}

#[utoipa::path(get, path = "/api/v1/flotillas/{f}/channels", tag = "channels",
    params(("f" = String, Path)),
    responses((status = 200, body = [Channel]), (status = 404, body = ErrorBody)))]
/// Every public channel, and the private channels and DMs the caller is in.
pub async fn get_channels(
    State(state): State<AppState>,
    caller: Caller,
    Path(f): Path<String>,
) -> Result<Json<Vec<Channel>>, ApiError> {
    let flotilla = parse_id(&f, "flotilla")?;
    let channels = state.node.channels_for(flotilla, &caller.username).await?;
    Ok(Json(channels.into_iter().map(Channel::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/flotillas/{f}/channels", tag = "channels",
    request_body = NewChannel, params(("f" = String, Path)),
    responses((status = 201, body = Channel), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
/// Creates a channel; the caller is its first member.
pub async fn post_channel(
    State(state): State<AppState>,
    caller: Caller,
    Path(f): Path<String>,
    ApiJson(req): ApiJson<NewChannel>,
) -> Result<(StatusCode, Json<Channel>), ApiError> {
    let flotilla = parse_id(&f, "flotilla")?;
    let new = NodeNewChannel {
        name: req.name.trim().to_owned(),
        private: req.private,
        header: req.header,
        purpose: req.purpose,
    };
    let channel = state
        .node
        .create_channel_full(flotilla, &caller.username, new)
        .await?;
    Ok((StatusCode::CREATED, Json(channel.into())))
}

#[utoipa::path(post, path = "/api/v1/flotillas/{f}/dms", tag = "channels",
    request_body = NewDm, params(("f" = String, Path)),
    responses((status = 200, body = Channel), (status = 201, body = Channel),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// The DM or group DM of the caller and `usernames`: the existing one, or a new one.
pub async fn post_dm(
    State(state): State<AppState>,
    caller: Caller,
    Path(f): Path<String>,
    ApiJson(req): ApiJson<NewDm>,
) -> Result<(StatusCode, Json<Channel>), ApiError> {
    let flotilla = parse_id(&f, "flotilla")?;
    let (channel, created) = state
        .node
        .open_dm(flotilla, &caller.username, req.usernames)
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(channel.into())))
}

#[utoipa::path(get, path = "/api/v1/flotillas/{f}/channels/{c}", tag = "channels",
    params(("f" = String, Path), ("c" = String, Path)),
    responses((status = 200, body = Channel), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
/// One channel.
pub async fn get_channel(
    State(state): State<AppState>,
    caller: Caller,
    Path((f, c)): Path<(String, String)>,
) -> Result<Json<Channel>, ApiError> {
    let (flotilla, channel) = ids(&f, &c)?;
    let view = state
        .node
        .channel_view(flotilla, channel, &caller.username)
        .await?;
    Ok(Json(view.into()))
}

#[utoipa::path(patch, path = "/api/v1/flotillas/{f}/channels/{c}", tag = "channels",
    request_body = ChannelPatch, params(("f" = String, Path), ("c" = String, Path)),
    responses((status = 200, body = Channel), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
/// Changes a channel: header and purpose (any member who may write to it); name, display
/// name and public/private (its creator or a flotilla admin).
pub async fn patch_channel(
    State(state): State<AppState>,
    caller: Caller,
    Path((f, c)): Path<(String, String)>,
    ApiJson(req): ApiJson<ChannelPatch>,
) -> Result<Json<Channel>, ApiError> {
    let (flotilla, channel) = ids(&f, &c)?;
    let change = ChannelChange {
        name: req.name.map(|n| n.trim().to_owned()),
        display_name: req.display_name,
        header: req.header,
        purpose: req.purpose,
        private: req.private,
    };
    let view = state
        .node
        .modify_channel(flotilla, channel, &caller.username, change)
        .await?;
    Ok(Json(view.into()))
}

#[utoipa::path(post, path = "/api/v1/flotillas/{f}/channels/{c}/join", tag = "channels",
    params(("f" = String, Path), ("c" = String, Path)),
    responses((status = 200, body = Channel), (status = 403, body = ErrorBody)))]
/// Joins a public channel.
pub async fn post_join_channel(
    State(state): State<AppState>,
    caller: Caller,
    Path((f, c)): Path<(String, String)>,
) -> Result<Json<Channel>, ApiError> {
    let (flotilla, channel) = ids(&f, &c)?;
    let view = state
        .node
        .join_channel(flotilla, channel, &caller.username)
        .await?;
    Ok(Json(view.into()))
}

#[utoipa::path(post, path = "/api/v1/flotillas/{f}/channels/{c}/leave", tag = "channels",
    params(("f" = String, Path), ("c" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody)))]
/// Leaves a channel.
pub async fn post_leave_channel(
    State(state): State<AppState>,
    caller: Caller,
    Path((f, c)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (flotilla, channel) = ids(&f, &c)?;
    state
        .node
        .leave_channel(flotilla, channel, &caller.username)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/flotillas/{f}/channels/{c}/members", tag = "channels",
    request_body = NewMember, params(("f" = String, Path), ("c" = String, Path)),
    responses((status = 200, body = Channel), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
/// A member adds someone to a private channel.
pub async fn post_channel_member(
    State(state): State<AppState>,
    caller: Caller,
    Path((f, c)): Path<(String, String)>,
    ApiJson(req): ApiJson<NewMember>,
) -> Result<Json<Channel>, ApiError> {
    let (flotilla, channel) = ids(&f, &c)?;
    let view = state
        .node
        .add_channel_member(flotilla, channel, &caller.username, &req.username)
        .await?;
    Ok(Json(view.into()))
}

#[utoipa::path(post, path = "/api/v1/flotillas/{f}/channels/{c}/archive", tag = "channels",
    request_body = ArchiveRequest, params(("f" = String, Path), ("c" = String, Path)),
    responses((status = 200, body = Channel), (status = 403, body = ErrorBody)))]
/// Archives (read-only) or unarchives a channel: its creator or a flotilla admin.
pub async fn post_archive(
    State(state): State<AppState>,
    caller: Caller,
    Path((f, c)): Path<(String, String)>,
    ApiJson(req): ApiJson<ArchiveRequest>,
) -> Result<Json<Channel>, ApiError> {
    let (flotilla, channel) = ids(&f, &c)?;
    let view = state
        .node
        .archive_channel(flotilla, channel, &caller.username, req.archived)
        .await?;
    Ok(Json(view.into()))
}

#[utoipa::path(post, path = "/api/v1/flotillas/{f}/channels/{c}/read", tag = "channels",
    params(("f" = String, Path), ("c" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody)))]
/// The caller has read everything in the channel so far.
pub async fn post_read(
    State(state): State<AppState>,
    caller: Caller,
    Path((f, c)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (flotilla, channel) = ids(&f, &c)?;
    state
        .node
        .mark_read(flotilla, channel, &caller.username)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/flotillas/{f}/channels/{c}/pins", tag = "channels",
    params(("f" = String, Path), ("c" = String, Path)),
    responses((status = 200, body = [Post]), (status = 403, body = ErrorBody)))]
/// The channel's pinned posts.
pub async fn get_pins(
    State(state): State<AppState>,
    caller: Caller,
    Path((f, c)): Path<(String, String)>,
) -> Result<Json<Vec<Post>>, ApiError> {
    let (flotilla, channel) = ids(&f, &c)?;
    let pins = state.node.pins(flotilla, channel, &caller.username).await?;
    let r = Renderer::load(&state, flotilla, &caller.username).await?;
    Ok(Json(pins.into_iter().map(|p| Post::new(p, &r)).collect()))
}

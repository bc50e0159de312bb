//! Profiles over HTTP: a user sets its own nickname, full name and position, uploads or
//! removes its picture, and anyone in the flotilla reads a member's picture.
//!
//! A profile is one signed control event by the user's own key (`Control::Profile`), so there
//! is no route to set someone else's: every route acts as the caller. An uploaded picture is
//! decoded, cropped, resized and re-encoded on this node ([`crate::picture`]), stored as a
//! file of the flotilla's Town Square (its chunks travel through the file service, never over
//! LoRa), and its id goes into the profile.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use flotilla_protocol as proto;
use proto::id::{ChannelId, FileId, FlotillaId};
use serde::Deserialize;
use utoipa::ToSchema;

use super::AppState;
use super::auth::Caller;
use super::dto::Member;
use super::error::{ApiError, ErrorBody};
use super::flotillas::parse_id;
// Path rejections answered as `{"error","message"}` (see `json`).
use super::json::{ApiJson, ApiPath as Path};
use crate::handle::ProfileChange;
use crate::handle::views::MemberInfo;
use crate::picture::{self, PictureError};

/// The file name a published picture gets.
const PICTURE_NAME: &str = "profile.jpg";

/// Changes to the caller's profile; a field left out is kept, an empty string clears it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileRequest {
    /// Nickname, at most 64 characters.
    pub nickname: Option<String>,
    /// Full name, at most 64 characters.
    pub full_name: Option<String>,
    /// Position on board, at most 128 characters.
    pub position: Option<String>,
}

#[utoipa::path(put, path = "/api/v1/flotillas/{f}/me/profile", tag = "flotillas",
    request_body = ProfileRequest, params(("f" = String, Path)),
    responses((status = 200, body = Member), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "a field over its limit", body = ErrorBody)))]
/// Sets the caller's own profile in the flotilla (a signed event that reaches every boat).
pub async fn put_profile(
    State(state): State<AppState>,
    caller: Caller,
    Path(f): Path<String>,
    ApiJson(req): ApiJson<ProfileRequest>,
) -> Result<Json<Member>, ApiError> {
    let flotilla = parse_id(&f, "flotilla")?;
    let change = ProfileChange {
        nickname: req.nickname,
        full_name: req.full_name,
        position: req.position,
        picture: None,
    };
    set_profile(&state, flotilla, &caller, change).await
}

#[utoipa::path(put, path = "/api/v1/flotillas/{f}/me/picture", tag = "flotillas",
    params(("f" = String, Path)),
    request_body(content = Vec<u8>, content_type = "image/png",
        description = "a PNG or JPEG image (Content-Type `image/png` or `image/jpeg`)"),
    responses((status = 200, body = Member), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 413, description = "over 12 MiB", body = ErrorBody),
        (status = 415, description = "not a PNG or a JPEG", body = ErrorBody),
        (status = 422, description = "the image does not decode", body = ErrorBody),
        (status = 507, body = ErrorBody)))]
/// Sets the caller's profile picture: the image is cropped to a square, resized to 128×128
/// and re-encoded as a JPEG on this node, then published.
pub async fn put_picture(
    State(state): State<AppState>,
    caller: Caller,
    Path(f): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Member>, ApiError> {
    let flotilla = parse_id(&f, "flotilla")?;
    let mime = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    // The type first: a wrong one is refused before its bytes are read.
    picture::format_of(&mime).map_err(picture_error)?;
    let bytes = axum::body::to_bytes(body, picture::MAX_UPLOAD_BYTES)
        .await
        .map_err(|_| ApiError::too_large("a profile picture may be at most 12 MiB"))?;
    let jpeg = tokio::task::spawn_blocking(move || picture::thumbnail(&bytes, &mime))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(picture_error)?;
    let file = state
        .node
        .put_file(
            flotilla,
            town_square(&flotilla),
            &caller.username,
            PICTURE_NAME,
            picture::PICTURE_MIME,
            jpeg,
        )
        .await?;
    let change = ProfileChange {
        picture: Some(Some(file.id)),
        ..ProfileChange::default()
    };
    set_profile(&state, flotilla, &caller, change).await
}

#[utoipa::path(delete, path = "/api/v1/flotillas/{f}/me/picture", tag = "flotillas",
    params(("f" = String, Path)),
    responses((status = 200, body = Member), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
/// Removes the caller's profile picture.
pub async fn delete_picture(
    State(state): State<AppState>,
    caller: Caller,
    Path(f): Path<String>,
) -> Result<Json<Member>, ApiError> {
    let flotilla = parse_id(&f, "flotilla")?;
    let change = ProfileChange {
        picture: Some(None),
        ..ProfileChange::default()
    };
    set_profile(&state, flotilla, &caller, change).await
}

#[utoipa::path(get, path = "/api/v1/flotillas/{f}/members/{user}/picture", tag = "flotillas",
    params(("f" = String, Path),
        ("user" = String, Path, description = "the user's key (hex) or username")),
    responses((status = 200, description = "the picture (JPEG)", content_type = "image/jpeg"),
        (status = 404, description = "no such user, or no picture", body = ErrorBody),
        (status = 409, description = "`fetching`: the picture is on its way", body = ErrorBody)))]
/// A member's profile picture.
pub async fn get_picture(
    State(state): State<AppState>,
    caller: Caller,
    Path((f, user)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let flotilla = parse_id(&f, "flotilla")?;
    // Reading members is for members: the channel list checks the caller.
    state.node.channels_for(flotilla, &caller.username).await?;
    let members = state.node.members(flotilla).await?;
    let file = picture_of(&members, &user)?;
    super::files::serve_file(&state, &caller, flotilla, file).await
}

/// Publishes the caller's profile change; the caller as a member afterwards.
async fn set_profile(
    state: &AppState,
    flotilla: FlotillaId,
    caller: &Caller,
    change: ProfileChange,
) -> Result<Json<Member>, ApiError> {
    let m = state
        .node
        .set_profile(flotilla, &caller.username, change)
        .await?;
    Ok(Json(Member::from(m)))
}

/// The picture of the member named by key or username (a username two boats share must be
/// given as a key).
fn picture_of(members: &[MemberInfo], user: &str) -> Result<FileId, ApiError> {
    let by_key: Vec<_> = members
        .iter()
        .filter(|m| m.key.to_string() == user)
        .collect();
    let found = if by_key.is_empty() {
        members.iter().filter(|m| m.username == user).collect()
    } else {
        by_key
    };
    match found.as_slice() {
        [m] => m
            .picture
            .ok_or_else(|| ApiError::not_found(format!("{} has no picture", m.username))),
        [] => Err(ApiError::not_found(format!("no member `{user}`"))),
        _ => Err(ApiError::not_found(format!(
            "`{user}` is on several boats: give the user's key"
        ))),
    }
}

/// The channel that holds profile pictures: the flotilla's Town Square, which every member
/// reads.
fn town_square(flotilla: &FlotillaId) -> ChannelId {
    ChannelId::derived(flotilla, proto::author::DEFAULT_CHANNELS[0])
}

fn picture_error(e: PictureError) -> ApiError {
    match e {
        PictureError::Unsupported(_) => ApiError::unsupported_media_type(e.to_string()),
        PictureError::Undecodable(_) => ApiError::unprocessable(e.to_string()),
        PictureError::Encode(_) => ApiError::internal(&e),
    }
}

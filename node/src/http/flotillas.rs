//! Flotillas over HTTP: the list, founding, joining with an invite, invites, members, the
//! fleet's boats, and the emoji list the UI offers.

use axum::Json;
use axum::extract::State;
// Path and query rejections answered as `{"error","message"}` (see `json`).
use super::json::ApiPath as Path;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use flotilla_protocol::author::InviteCode;
use flotilla_protocol::id::FlotillaId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::auth::Caller;
use super::dto::{Boat, Flotilla, Member, Radio};
use super::error::{ApiError, ErrorBody};
use super::json::ApiJson;
use crate::actor::now_ms;

/// Parses an id from a path segment.
///
/// # Errors
/// 400 naming `what`.
pub fn parse_id<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, ApiError> {
    s.parse()
        .map_err(|_| ApiError::bad_request(format!("malformed {what} id: {s}")))
}

/// Founds a flotilla.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewFlotilla {
    /// Its name.
    pub name: String,
}

/// Joins a flotilla.
#[derive(Debug, Deserialize, ToSchema)]
pub struct JoinRequest {
    /// The invite code (`fl2…`).
    pub code: String,
    /// A member boat's mesh address with `/p2p/<peer id>` (else every connected peer).
    pub via: Option<String>,
}

/// Asks for an invite.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct NewInvite {
    /// Admissions allowed (default: unlimited).
    pub uses: Option<u32>,
    /// Valid for this many seconds (default: forever).
    pub expires_in_s: Option<u64>,
}

/// An invite to hand to a new boat.
#[derive(Debug, Serialize, ToSchema)]
pub struct Invite {
    /// The code.
    pub code: String,
}

async fn flotilla_view(
    state: &AppState,
    caller: &Caller,
    info: crate::handle::FlotillaInfo,
) -> Flotilla {
    let admin = info.member
        && state
            .node
            .is_flotilla_admin(info.id, &caller.username)
            .await
            .unwrap_or(false);
    Flotilla::new(info, admin)
}

async fn flotilla_by_id(
    state: &AppState,
    caller: &Caller,
    id: FlotillaId,
) -> Result<Flotilla, ApiError> {
    let info = state
        .node
        .flotillas()
        .await?
        .into_iter()
        .find(|f| f.id == id)
        .ok_or_else(|| ApiError::not_found("no such flotilla on this boat"))?;
    Ok(flotilla_view(state, caller, info).await)
}

/// 403 unless the caller is an admin of `flotilla`.
pub async fn require_flotilla_admin(
    state: &AppState,
    caller: &Caller,
    flotilla: FlotillaId,
) -> Result<(), ApiError> {
    if state
        .node
        .is_flotilla_admin(flotilla, &caller.username)
        .await?
    {
        Ok(())
    } else {
        Err(ApiError::forbidden("only a flotilla admin may do this"))
    }
}

#[utoipa::path(get, path = "/api/v1/flotillas", tag = "flotillas",
    responses((status = 200, body = [Flotilla]), (status = 401, body = ErrorBody)))]
/// The flotillas this boat follows.
pub async fn get_flotillas(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Flotilla>>, ApiError> {
    let mut out = Vec::new();
    for info in state.node.flotillas().await? {
        out.push(flotilla_view(&state, &caller, info).await);
    }
    Ok(Json(out))
}

#[utoipa::path(post, path = "/api/v1/flotillas", tag = "flotillas", request_body = NewFlotilla,
    responses((status = 201, body = Flotilla), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
/// A node admin founds a flotilla, as its first admin.
pub async fn post_flotilla(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NewFlotilla>,
) -> Result<(StatusCode, Json<Flotilla>), ApiError> {
    caller.require_admin()?;
    let id = state
        .node
        .create_flotilla(req.name.trim(), &caller.username)
        .await?;
    let flotilla = flotilla_by_id(&state, &caller, id).await?;
    Ok((StatusCode::CREATED, Json(flotilla)))
}

#[utoipa::path(post, path = "/api/v1/flotillas/join", tag = "flotillas", request_body = JoinRequest,
    responses((status = 200, body = Flotilla), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
/// A node admin joins a flotilla with an invite code; answers once admitted.
pub async fn post_join(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<JoinRequest>,
) -> Result<Json<Flotilla>, ApiError> {
    caller.require_admin()?;
    let code: InviteCode = req
        .code
        .trim()
        .parse()
        .map_err(|_| ApiError::bad_request("malformed invite code"))?;
    let via = req
        .via
        .map(|v| v.parse())
        .transpose()
        .map_err(|_| ApiError::bad_request("malformed mesh address in `via`"))?;
    let id = state.node.join(&code, via).await?;
    Ok(Json(flotilla_by_id(&state, &caller, id).await?))
}

#[utoipa::path(post, path = "/api/v1/flotillas/{f}/invites", tag = "flotillas",
    request_body = NewInvite, params(("f" = String, Path)),
    responses((status = 201, body = Invite), (status = 403, body = ErrorBody),
        (status = 422, description = "`uses` or `expires_in_s` out of range", body = ErrorBody)))]
/// A flotilla admin makes an invite.
pub async fn post_invite(
    State(state): State<AppState>,
    caller: Caller,
    Path(f): Path<String>,
    ApiJson(req): ApiJson<NewInvite>,
) -> Result<(StatusCode, Json<Invite>), ApiError> {
    let flotilla = parse_id(&f, "flotilla")?;
    require_flotilla_admin(&state, &caller, flotilla).await?;
    let expires = req
        .expires_in_s
        .map(|s| now_ms().saturating_add(s.saturating_mul(1000)));
    let code = state.node.invite(flotilla, req.uses, expires).await?;
    let invite = Invite {
        code: code.to_string(),
    };
    Ok((StatusCode::CREATED, Json(invite)))
}

#[utoipa::path(get, path = "/api/v1/flotillas/{f}/members", tag = "flotillas",
    params(("f" = String, Path)),
    responses((status = 200, body = [Member]), (status = 404, body = ErrorBody)))]
/// Every active user of the flotilla, on every boat.
pub async fn get_members(
    State(state): State<AppState>,
    caller: Caller,
    Path(f): Path<String>,
) -> Result<Json<Vec<Member>>, ApiError> {
    let flotilla = parse_id(&f, "flotilla")?;
    // Reading members is for members: the channel list checks the caller.
    state.node.channels_for(flotilla, &caller.username).await?;
    let members = state.node.members(flotilla).await?;
    Ok(Json(members.into_iter().map(Member::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/flotillas/{f}/nodes", tag = "flotillas",
    params(("f" = String, Path)),
    responses((status = 200, body = [Boat]), (status = 404, body = ErrorBody)))]
/// The flotilla's boats: connected or not, and when each was last seen.
pub async fn get_boats(
    State(state): State<AppState>,
    caller: Caller,
    Path(f): Path<String>,
) -> Result<Json<Vec<Boat>>, ApiError> {
    let flotilla = parse_id(&f, "flotilla")?;
    state.node.channels_for(flotilla, &caller.username).await?;
    let boats = state.node.boats(flotilla).await?;
    Ok(Json(boats.into_iter().map(Boat::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/flotillas/{f}/radios", tag = "flotillas",
    params(("f" = String, Path)),
    responses((status = 200, body = [Radio]), (status = 404, body = ErrorBody)))]
/// This boat's LoRa radios that may carry the flotilla: airtime used this hour, the duty
/// budget and the queue (empty when the boat has no radio).
pub async fn get_radios(
    State(state): State<AppState>,
    caller: Caller,
    Path(f): Path<String>,
) -> Result<Json<Vec<Radio>>, ApiError> {
    let flotilla = parse_id(&f, "flotilla")?;
    state.node.channels_for(flotilla, &caller.username).await?;
    let radios = state.node.radios(flotilla).await?;
    Ok(Json(radios.into_iter().map(Radio::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/emoji", tag = "flotillas",
    responses((status = 200, description = "[[shortcode, emoji], …]")))]
/// Every emoji shortcode the node renders (public, cacheable).
pub async fn get_emoji() -> impl IntoResponse {
    let list: Vec<(&str, &str)> = crate::markdown::emoji_shortcodes().collect();
    (
        [(header::CACHE_CONTROL, "public, max-age=86400")],
        Json(list),
    )
}

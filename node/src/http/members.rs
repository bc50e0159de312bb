//! Roles and removal over HTTP: a flotilla admin promotes or demotes a member, removes a
//! user or a boat; a node admin makes a local user a node admin. Users are given as a
//! username, `name@boat` or a key (see [`crate::identity`]); a bare name that two boats have
//! is refused with the candidates.

use axum::Json;
use axum::extract::State;
// Path and query rejections answered as `{"error","message"}` (see `json`).
use super::json::ApiPath as Path;
use serde::Deserialize;
use utoipa::ToSchema;

use super::AppState;
use super::accounts::User;
use super::auth::Caller;
use super::dto::{Boat, Member};
use super::error::{ApiError, ErrorBody};
use super::flotillas::parse_id;
use super::json::ApiJson;

/// A flotilla role.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MemberRole {
    /// `admin` (flotilla admin) or `member`.
    pub role: String,
}

/// A node role.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NodeRole {
    /// `system_admin` (node admin) or `user`.
    pub role: String,
}

#[utoipa::path(put, path = "/api/v1/flotillas/{f}/members/{user}/role", tag = "flotillas",
    request_body = MemberRole, params(("f" = String, Path), ("user" = String, Path)),
    responses((status = 200, body = Member), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// A flotilla admin makes a user (username, `name@boat` or key) an admin or a member.
pub async fn put_member_role(
    State(state): State<AppState>,
    caller: Caller,
    Path((f, user)): Path<(String, String)>,
    ApiJson(req): ApiJson<MemberRole>,
) -> Result<Json<Member>, ApiError> {
    let flotilla = parse_id(&f, "flotilla")?;
    let admin = match req.role.as_str() {
        "admin" => true,
        "member" => false,
        other => {
            return Err(ApiError::invalid(format!(
                "unknown role `{other}`: admin or member"
            )));
        }
    };
    let m = state
        .node
        .set_flotilla_admin(flotilla, Some(&caller.username), &user, admin)
        .await?;
    Ok(Json(Member::from(m)))
}

#[utoipa::path(delete, path = "/api/v1/flotillas/{f}/members/{user}", tag = "flotillas",
    params(("f" = String, Path), ("user" = String, Path)),
    responses((status = 200, body = Member), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// A flotilla admin removes a user; the flotilla key is rotated. Answers the user removed.
pub async fn delete_member(
    State(state): State<AppState>,
    caller: Caller,
    Path((f, user)): Path<(String, String)>,
) -> Result<Json<Member>, ApiError> {
    let flotilla = parse_id(&f, "flotilla")?;
    let m = state
        .node
        .remove_member(flotilla, Some(&caller.username), &user)
        .await?;
    Ok(Json(Member::from(m)))
}

#[utoipa::path(delete, path = "/api/v1/flotillas/{f}/nodes/{node}", tag = "flotillas",
    params(("f" = String, Path), ("node" = String, Path)),
    responses((status = 200, body = Boat), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// A flotilla admin removes a boat (key or name) and its users; the flotilla key is rotated.
pub async fn delete_node(
    State(state): State<AppState>,
    caller: Caller,
    Path((f, node)): Path<(String, String)>,
) -> Result<Json<Boat>, ApiError> {
    let flotilla = parse_id(&f, "flotilla")?;
    let b = state
        .node
        .remove_node(flotilla, Some(&caller.username), &node)
        .await?;
    Ok(Json(Boat::from(b)))
}

#[utoipa::path(put, path = "/api/v1/users/{username}/role", tag = "accounts",
    request_body = NodeRole, params(("username" = String, Path)),
    responses((status = 200, body = User), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// A node admin makes a local user a node admin (`system_admin`) or a plain `user`.
pub async fn put_user_role(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
    ApiJson(req): ApiJson<NodeRole>,
) -> Result<Json<User>, ApiError> {
    caller.require_admin()?;
    let admin = match req.role.as_str() {
        "system_admin" => true,
        "user" => false,
        other => {
            return Err(ApiError::invalid(format!(
                "unknown role `{other}`: system_admin or user"
            )));
        }
    };
    let u = state.node.set_node_admin(&username, admin).await?;
    Ok(Json(User::from(u)))
}

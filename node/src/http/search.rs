//! Search over HTTP: `GET …/search` (the search syntax of [`crate::search::query`]) and
//! `GET …/mentions` (recent mentions of the caller, Mattermost's "Recent mentions").

use axum::Json;
use axum::extract::State;
// Path and query rejections answered as `{"error","message"}` (see `json`).
use super::json::{ApiPath as Path, ApiQuery as Query};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::auth::Caller;
use super::dto::{Post, cursor_from_str, cursor_to_string};
use super::error::{ApiError, ErrorBody};
use super::flotillas::parse_id;
use super::render::Renderer;
use crate::handle::views::PostPage as ViewPage;
use crate::search::Ranking;

/// Results per page when the client does not say.
pub const DEFAULT_RESULTS: usize = 20;
/// The most results per page.
pub const MAX_RESULTS: usize = 200;

/// A search.
#[derive(Debug, Deserialize, IntoParams)]
pub struct SearchQuery {
    /// The query: words, `"phrases"`, `-excluded`, `prefix*`, `from:user`, `in:channel`,
    /// `on:`/`before:`/`after:YYYY-MM-DD`, `#hashtag`, `@user`.
    pub q: String,
    /// Results per page, 1–200 (default 20).
    pub limit: Option<usize>,
    /// The `next` of the previous page.
    pub before: Option<String>,
    /// `newest` (default) or `relevance` (one page, no `next`).
    pub order: Option<String>,
}

/// A page of recent mentions.
#[derive(Debug, Deserialize, IntoParams)]
pub struct MentionsQuery {
    /// Results per page, 1–200 (default 20).
    pub limit: Option<usize>,
    /// The `next` of the previous page.
    pub before: Option<String>,
}

/// Search results.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchPage {
    /// Matching posts and replies the caller may read, newest first (or best first).
    pub posts: Vec<Post>,
    /// Pass as `before` for the next (older) page; null on the last.
    pub next: Option<String>,
}

fn limit_of(limit: Option<usize>) -> Result<usize, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_RESULTS);
    if !(1..=MAX_RESULTS).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit is 1 to {MAX_RESULTS}"
        )));
    }
    Ok(limit)
}

async fn run(
    state: &AppState,
    caller: &Caller,
    f: &str,
    q: &str,
    before: Option<&str>,
    limit: usize,
    ranking: Ranking,
) -> Result<Json<SearchPage>, ApiError> {
    let flotilla = parse_id(f, "flotilla")?;
    let before = before.map(cursor_from_str).transpose()?;
    let ViewPage { posts, next } = state
        .node
        .search(flotilla, &caller.username, q, before, limit, ranking)
        .await?;
    let r = Renderer::load(state, flotilla, &caller.username).await?;
    Ok(Json(SearchPage {
        posts: posts.into_iter().map(|p| Post::new(p, &r)).collect(),
        next: next.as_ref().map(cursor_to_string),
    }))
}

#[utoipa::path(get, path = "/api/v1/flotillas/{f}/search", tag = "search",
    params(("f" = String, Path), SearchQuery),
    responses((status = 200, body = SearchPage), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Posts matching a query, among those the caller may read (public channels, and the private
/// channels and DMs the caller is in), newest first.
pub async fn get_search(
    State(state): State<AppState>,
    caller: Caller,
    Path(f): Path<String>,
    Query(q): Query<SearchQuery>,
) -> Result<Json<SearchPage>, ApiError> {
    let limit = limit_of(q.limit)?;
    let ranking = match q.order.as_deref() {
        None | Some("newest") => Ranking::Newest,
        Some("relevance") => Ranking::Relevance,
        Some(_) => return Err(ApiError::bad_request("order is newest or relevance")),
    };
    run(
        &state,
        &caller,
        &f,
        &q.q,
        q.before.as_deref(),
        limit,
        ranking,
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/flotillas/{f}/mentions", tag = "search",
    params(("f" = String, Path), MentionsQuery),
    responses((status = 200, body = SearchPage), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
/// The caller's recent mentions (`@username`, or mentioned by key), newest first.
pub async fn get_mentions(
    State(state): State<AppState>,
    caller: Caller,
    Path(f): Path<String>,
    Query(q): Query<MentionsQuery>,
) -> Result<Json<SearchPage>, ApiError> {
    let limit = limit_of(q.limit)?;
    let query = format!("@{}", caller.username);
    run(
        &state,
        &caller,
        &f,
        &query,
        q.before.as_deref(),
        limit,
        Ranking::Newest,
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/flotillas/{f}/saved", tag = "search",
    params(("f" = String, Path), MentionsQuery),
    responses((status = 200, body = SearchPage), (status = 403, body = ErrorBody)))]
/// The caller's saved messages that are still visible, newest saved first (`next` is null).
pub async fn get_saved(
    State(state): State<AppState>,
    caller: Caller,
    Path(f): Path<String>,
    Query(q): Query<MentionsQuery>,
) -> Result<Json<SearchPage>, ApiError> {
    let flotilla = parse_id(&f, "flotilla")?;
    let limit = q.limit.unwrap_or(MAX_RESULTS).clamp(1, MAX_RESULTS);
    let page = state
        .node
        .saved_posts(flotilla, &caller.username, limit)
        .await?;
    let r = Renderer::load(&state, flotilla, &caller.username).await?;
    Ok(Json(SearchPage {
        posts: page.posts.into_iter().map(|p| Post::new(p, &r)).collect(),
        next: None,
    }))
}

async fn set_saved(
    state: &AppState,
    caller: &Caller,
    f: &str,
    p: &str,
    saved: bool,
) -> Result<StatusCode, ApiError> {
    let flotilla = parse_id(f, "flotilla")?;
    let post = parse_id(p, "post")?;
    state
        .node
        .save_post(flotilla, &caller.username, post, saved)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/v1/flotillas/{f}/posts/{p}/saved", tag = "search",
    params(("f" = String, Path), ("p" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
/// Saves a post for the caller (Mattermost's "Save"). Saving twice is fine.
pub async fn put_saved(
    State(state): State<AppState>,
    caller: Caller,
    Path((f, p)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    set_saved(&state, &caller, &f, &p, true).await
}

#[utoipa::path(delete, path = "/api/v1/flotillas/{f}/posts/{p}/saved", tag = "search",
    params(("f" = String, Path), ("p" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody)))]
/// Removes a post from the caller's saved messages.
pub async fn delete_saved(
    State(state): State<AppState>,
    caller: Caller,
    Path((f, p)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    set_saved(&state, &caller, &f, &p, false).await
}

//! Posts over HTTP: the timeline (paged), writing, threads, edits, deletes, reactions, pins.

use axum::Json;
use axum::extract::State;
// Path and query rejections answered as `{"error","message"}` (see `json`).
use super::json::{ApiPath as Path, ApiQuery as Query};
use axum::http::StatusCode;
use flotilla_protocol::id::{EventId, FileId, FlotillaId};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::auth::Caller;
use super::dto::{Post, PostPage, Thread, cursor_from_str, cursor_to_string};
use super::error::{ApiError, ErrorBody};
use super::flotillas::parse_id;
use super::json::ApiJson;
use super::render::Renderer;

/// Root posts per page when the client does not say.
pub const DEFAULT_PAGE: usize = 50;
/// The most root posts per page.
pub const MAX_PAGE: usize = 200;
/// The most files attached to one post.
pub const MAX_FILES_PER_POST: usize = 10;

/// Where a timeline page starts.
#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    /// The `next` of the previous page (absent: the newest page).
    pub before: Option<String>,
    /// Root posts per page, 1–200 (default 50).
    pub limit: Option<usize>,
}

/// A new post or reply.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewPost {
    /// Markdown, at most 16,383 characters.
    #[serde(default)]
    pub text: String,
    /// The thread root, for a reply.
    pub root_id: Option<String>,
    /// Files uploaded before (at most 10).
    #[serde(default)]
    pub file_ids: Vec<String>,
}

/// A post's new text.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EditPost {
    /// Markdown, at most 16,383 characters.
    pub text: String,
}

/// Where a thread goes.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MoveThread {
    /// The target channel's id (same flotilla).
    pub channel: String,
}

fn post_ids(f: &str, p: &str) -> Result<(FlotillaId, EventId), ApiError> {
    Ok((parse_id(f, "flotilla")?, parse_id(p, "post")?))
}

async fn rendered(
    state: &AppState,
    flotilla: FlotillaId,
    caller: &Caller,
    post: crate::handle::views::PostView,
) -> Result<Json<Post>, ApiError> {
    let r = Renderer::load(state, flotilla, &caller.username).await?;
    Ok(Json(Post::new(post, &r)))
}

#[utoipa::path(get, path = "/api/v1/flotillas/{f}/channels/{c}/posts", tag = "posts",
    params(("f" = String, Path), ("c" = String, Path), PageQuery),
    responses((status = 200, body = PostPage), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
/// A page of a channel's root posts: the newest page first, oldest first within it.
pub async fn get_posts(
    State(state): State<AppState>,
    caller: Caller,
    Path((f, c)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
) -> Result<Json<PostPage>, ApiError> {
    let flotilla = parse_id(&f, "flotilla")?;
    let channel = parse_id(&c, "channel")?;
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(format!("limit is 1 to {MAX_PAGE}")));
    }
    let before = q.before.as_deref().map(cursor_from_str).transpose()?;
    let page = state
        .node
        .posts(flotilla, channel, &caller.username, before, limit)
        .await?;
    let r = Renderer::load(&state, flotilla, &caller.username).await?;
    Ok(Json(PostPage {
        posts: page.posts.into_iter().map(|p| Post::new(p, &r)).collect(),
        next: page.next.as_ref().map(cursor_to_string),
    }))
}

#[utoipa::path(post, path = "/api/v1/flotillas/{f}/channels/{c}/posts", tag = "posts",
    request_body = NewPost, params(("f" = String, Path), ("c" = String, Path)),
    responses((status = 201, body = Post), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 507, body = ErrorBody)))]
/// Posts, or replies with `root_id`. 507 when the node's disk is full.
pub async fn post_post(
    State(state): State<AppState>,
    caller: Caller,
    Path((f, c)): Path<(String, String)>,
    ApiJson(req): ApiJson<NewPost>,
) -> Result<(StatusCode, Json<Post>), ApiError> {
    let flotilla = parse_id(&f, "flotilla")?;
    let channel = parse_id(&c, "channel")?;
    let root = req
        .root_id
        .as_deref()
        .map(|r| parse_id(r, "root post"))
        .transpose()?;
    if req.file_ids.len() > MAX_FILES_PER_POST {
        return Err(ApiError::invalid(format!(
            "at most {MAX_FILES_PER_POST} files per post"
        )));
    }
    let files = req
        .file_ids
        .iter()
        .map(|id| parse_id::<FileId>(id, "file"))
        .collect::<Result<Vec<_>, _>>()?;
    let post = state
        .node
        .create_post(flotilla, channel, &caller.username, &req.text, root, files)
        .await?;
    let post = rendered(&state, flotilla, &caller, post).await?;
    Ok((StatusCode::CREATED, post))
}

#[utoipa::path(get, path = "/api/v1/flotillas/{f}/posts/{p}", tag = "posts",
    params(("f" = String, Path), ("p" = String, Path)),
    responses((status = 200, body = Post), (status = 404, body = ErrorBody)))]
/// One post.
pub async fn get_post(
    State(state): State<AppState>,
    caller: Caller,
    Path((f, p)): Path<(String, String)>,
) -> Result<Json<Post>, ApiError> {
    let (flotilla, post) = post_ids(&f, &p)?;
    let view = state
        .node
        .post_view(flotilla, post, &caller.username)
        .await?;
    rendered(&state, flotilla, &caller, view).await
}

#[utoipa::path(get, path = "/api/v1/flotillas/{f}/posts/{p}/thread", tag = "posts",
    params(("f" = String, Path), ("p" = String, Path)),
    responses((status = 200, body = Thread), (status = 404, body = ErrorBody)))]
/// A thread: its root and its replies, oldest first.
pub async fn get_thread(
    State(state): State<AppState>,
    caller: Caller,
    Path((f, p)): Path<(String, String)>,
) -> Result<Json<Thread>, ApiError> {
    let (flotilla, root) = post_ids(&f, &p)?;
    let (root, replies) = state.node.thread(flotilla, root, &caller.username).await?;
    let r = Renderer::load(&state, flotilla, &caller.username).await?;
    Ok(Json(Thread {
        root: Post::new(root, &r),
        replies: replies.into_iter().map(|p| Post::new(p, &r)).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/flotillas/{f}/posts/{p}/move", tag = "posts",
    request_body = MoveThread, params(("f" = String, Path), ("p" = String, Path)),
    responses((status = 200, body = Post), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Moves the thread of a post (its root, if the post is a reply) to another channel of the
/// flotilla: flotilla admins only. The root and its replies are copied there under their
/// original authors and times; the root stays in the old channel as a marker (`moved_to`).
/// Returns the root's copy. 409 if the thread was already moved.
pub async fn post_move(
    State(state): State<AppState>,
    caller: Caller,
    Path((f, p)): Path<(String, String)>,
    ApiJson(req): ApiJson<MoveThread>,
) -> Result<Json<Post>, ApiError> {
    let (flotilla, post) = post_ids(&f, &p)?;
    let to = parse_id(&req.channel, "channel")?;
    let view = state
        .node
        .move_thread(flotilla, post, to, &caller.username)
        .await?;
    rendered(&state, flotilla, &caller, view).await
}

#[utoipa::path(put, path = "/api/v1/flotillas/{f}/posts/{p}", tag = "posts",
    request_body = EditPost, params(("f" = String, Path), ("p" = String, Path)),
    responses((status = 200, body = Post), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
/// Edits a post (its author or a flotilla admin).
pub async fn put_post(
    State(state): State<AppState>,
    caller: Caller,
    Path((f, p)): Path<(String, String)>,
    ApiJson(req): ApiJson<EditPost>,
) -> Result<Json<Post>, ApiError> {
    let (flotilla, post) = post_ids(&f, &p)?;
    let view = state
        .node
        .edit_post(flotilla, post, &caller.username, &req.text)
        .await?;
    rendered(&state, flotilla, &caller, view).await
}

#[utoipa::path(delete, path = "/api/v1/flotillas/{f}/posts/{p}", tag = "posts",
    params(("f" = String, Path), ("p" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody)))]
/// Deletes a post (its author or a flotilla admin).
pub async fn delete_post(
    State(state): State<AppState>,
    caller: Caller,
    Path((f, p)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (flotilla, post) = post_ids(&f, &p)?;
    state
        .node
        .delete_post(flotilla, post, &caller.username)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn react(
    state: AppState,
    caller: Caller,
    (f, p, emoji): (String, String, String),
    add: bool,
) -> Result<Json<Post>, ApiError> {
    let (flotilla, post) = post_ids(&f, &p)?;
    let view = state
        .node
        .react(flotilla, post, &caller.username, &emoji, add)
        .await?;
    rendered(&state, flotilla, &caller, view).await
}

#[utoipa::path(put, path = "/api/v1/flotillas/{f}/posts/{p}/reactions/{emoji}", tag = "posts",
    params(("f" = String, Path), ("p" = String, Path), ("emoji" = String, Path)),
    responses((status = 200, body = Post), (status = 422, body = ErrorBody)))]
/// Adds the caller's reaction.
pub async fn put_reaction(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<(String, String, String)>,
) -> Result<Json<Post>, ApiError> {
    react(state, caller, path, true).await
}

#[utoipa::path(delete, path = "/api/v1/flotillas/{f}/posts/{p}/reactions/{emoji}", tag = "posts",
    params(("f" = String, Path), ("p" = String, Path), ("emoji" = String, Path)),
    responses((status = 200, body = Post), (status = 422, body = ErrorBody)))]
/// Removes the caller's reaction.
pub async fn delete_reaction(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<(String, String, String)>,
) -> Result<Json<Post>, ApiError> {
    react(state, caller, path, false).await
}

async fn pin(
    state: AppState,
    caller: Caller,
    (f, p): (String, String),
    pinned: bool,
) -> Result<Json<Post>, ApiError> {
    let (flotilla, post) = post_ids(&f, &p)?;
    let view = state
        .node
        .set_pinned(flotilla, post, &caller.username, pinned)
        .await?;
    rendered(&state, flotilla, &caller, view).await
}

#[utoipa::path(put, path = "/api/v1/flotillas/{f}/posts/{p}/pin", tag = "posts",
    params(("f" = String, Path), ("p" = String, Path)),
    responses((status = 200, body = Post), (status = 403, body = ErrorBody)))]
/// Pins a post to its channel.
pub async fn put_pin(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<(String, String)>,
) -> Result<Json<Post>, ApiError> {
    pin(state, caller, path, true).await
}

#[utoipa::path(delete, path = "/api/v1/flotillas/{f}/posts/{p}/pin", tag = "posts",
    params(("f" = String, Path), ("p" = String, Path)),
    responses((status = 200, body = Post), (status = 403, body = ErrorBody)))]
/// Unpins a post.
pub async fn delete_pin(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<(String, String)>,
) -> Result<Json<Post>, ApiError> {
    pin(state, caller, path, false).await
}

//! The admin socket's search requests: `flotilla search` (posts as `messages --json` prints
//! them) and `flotilla index rebuild`.

use serde::{Deserialize, Serialize};

use super::server::{Failure, from_node, invalid, resolve_flotilla};
use super::wire::{MessageView, rfc3339};
use crate::handle::NodeHandle;
use crate::search::Ranking;

/// `search` without a limit returns this many.
pub const DEFAULT_SEARCH_LIMIT: usize = 20;
/// The most results one `search` returns.
pub const MAX_SEARCH_LIMIT: usize = 200;

/// What `index rebuild` did for one flotilla.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RebuiltView {
    /// The flotilla (hex).
    pub flotilla: String,
    /// Posts in its fold.
    pub posts: usize,
    /// Posts indexed.
    pub indexed: usize,
    /// Size of its index on disk afterwards, in bytes.
    pub disk_bytes: u64,
}

/// Posts matching `query` that `as_user` may read, newest first.
pub(super) async fn search(
    node: &NodeHandle,
    as_user: &str,
    query: &str,
    limit: Option<usize>,
    flotilla: Option<&str>,
) -> Result<Vec<MessageView>, Failure> {
    let limit = limit.unwrap_or(DEFAULT_SEARCH_LIMIT);
    if !(1..=MAX_SEARCH_LIMIT).contains(&limit) {
        return Err(invalid("--limit", format!("1 to {MAX_SEARCH_LIMIT}")));
    }
    let flotilla = resolve_flotilla(node, flotilla).await?;
    let page = node
        .search(flotilla, as_user, query, None, limit, Ranking::Newest)
        .await
        .map_err(from_node)?;
    let channels = node.channels(flotilla).await.map_err(from_node)?;
    let name_of = |id| {
        channels
            .iter()
            .find(|c| c.id == id)
            .map_or_else(|| id.to_string(), |c| c.name.clone())
    };
    Ok(page
        .posts
        .into_iter()
        .map(|p| MessageView {
            id: p.id.to_string(),
            channel: name_of(p.channel),
            author: p.author,
            author_deleted: p.author_deleted,
            text: p.text,
            root_id: p.root_id.map(|r| r.to_string()),
            created_at: rfc3339(p.created_at),
        })
        .collect())
}

/// Rebuilds every flotilla's index.
pub(super) async fn rebuild(node: &NodeHandle) -> Result<Vec<RebuiltView>, Failure> {
    let done = node.rebuild_search_index().await.map_err(from_node)?;
    Ok(done
        .into_iter()
        .map(|(f, r)| RebuiltView {
            flotilla: f.to_string(),
            posts: r.posts,
            indexed: r.indexed,
            disk_bytes: r.disk_bytes,
        })
        .collect())
}

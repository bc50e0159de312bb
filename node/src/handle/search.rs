//! The search API of [`NodeHandle`]: full-text search, recent mentions, and rebuilding the
//! index, each one [`SearchCommand`] answered on the actor (see [`crate::search`]).

use flotilla_protocol as proto;
use proto::id::{EventId, FlotillaId};

use super::chat_command::Acting;
use super::views::{Cursor, PostPage};
use super::{Command, NodeHandle, Reply};
use crate::Error;
use crate::search::{Ranking, Reconciled};

/// A search request to the actor.
#[derive(Debug)]
#[non_exhaustive]
pub enum SearchCommand {
    /// Posts matching a query that the user may read.
    Search {
        /// Who asks.
        who: Acting,
        /// The query, in the search syntax ([`crate::search::query`]).
        query: String,
        /// Only posts before this position (the `next` of the previous page).
        before: Option<Cursor>,
        /// At most this many.
        limit: usize,
        /// Newest first or by relevance.
        ranking: Ranking,
        /// The posts, newest first (or best first).
        reply: Reply<PostPage>,
    },
    /// Saves (or unsaves) a post the user may read.
    Save {
        /// Who saves.
        who: Acting,
        /// The post.
        post: EventId,
        /// Save (`true`) or unsave.
        saved: bool,
        /// Done.
        reply: Reply<()>,
    },
    /// The user's saved posts that are still visible, newest saved first.
    Saved {
        /// Who asks.
        who: Acting,
        /// At most this many.
        limit: usize,
        /// The posts (`next` is always `None`).
        reply: Reply<PostPage>,
    },
    /// Rebuilds the index of every followed flotilla from the fold.
    Rebuild {
        /// What was done, per flotilla.
        reply: Reply<Vec<(FlotillaId, Reconciled)>>,
    },
}

impl NodeHandle {
    /// Posts of `flotilla` matching `query` that `as_user` may read, newest first (or by
    /// relevance); `next` gives the older page (newest-first only).
    ///
    /// # Errors
    /// [`Error::Invalid`] (a query that does not parse), [`Error::NotFound`],
    /// [`Error::Forbidden`] (a removed member), [`Error::Search`].
    pub async fn search(
        &self,
        flotilla: FlotillaId,
        as_user: &str,
        query: &str,
        before: Option<Cursor>,
        limit: usize,
        ranking: Ranking,
    ) -> Result<PostPage, Error> {
        let who = Acting {
            flotilla,
            as_user: as_user.to_owned(),
        };
        let query = query.to_owned();
        self.ask(|reply| {
            Command::Search(SearchCommand::Search {
                who,
                query,
                before,
                limit,
                ranking,
                reply,
            })
        })
        .await
    }

    /// Saves (`saved`) or unsaves a post for `as_user`.
    ///
    /// # Errors
    /// [`Error::NotFound`] (no such visible post), [`Error::Forbidden`], [`Error::Search`]
    /// (the list cannot be written).
    pub async fn save_post(
        &self,
        flotilla: FlotillaId,
        as_user: &str,
        post: EventId,
        saved: bool,
    ) -> Result<(), Error> {
        let who = Acting {
            flotilla,
            as_user: as_user.to_owned(),
        };
        self.ask(|reply| {
            Command::Search(SearchCommand::Save {
                who,
                post,
                saved,
                reply,
            })
        })
        .await
    }

    /// `as_user`'s saved posts in `flotilla` that are still visible, newest saved first.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Forbidden`].
    pub async fn saved_posts(
        &self,
        flotilla: FlotillaId,
        as_user: &str,
        limit: usize,
    ) -> Result<PostPage, Error> {
        let who = Acting {
            flotilla,
            as_user: as_user.to_owned(),
        };
        self.ask(|reply| Command::Search(SearchCommand::Saved { who, limit, reply }))
            .await
    }

    /// Rebuilds the search index of every followed flotilla.
    ///
    /// # Errors
    /// [`Error::Search`], [`Error::ActorGone`].
    pub async fn rebuild_search_index(&self) -> Result<Vec<(FlotillaId, Reconciled)>, Error> {
        self.ask(|reply| Command::Search(SearchCommand::Rebuild { reply }))
            .await
    }
}

//! The actor's side of search ([`crate::search`]): indexing the post an accepted event
//! touches (from the fold, which holds the plaintext decrypted once), reconciling the index
//! with the fold, and answering searches with the posts the reader may read.

use flotilla_protocol as proto;
use proto::id::{ChannelId, EventId, FlotillaId};
use proto::membership::{AuthState, ChannelAuth};
use proto::{Content, PublicKey, SignedEvent};

use super::Actor;
use super::cache::Folded;
use super::views::{kind_of, post_view, username};
use crate::Error;
use crate::handle::Acting;
use crate::handle::search::SearchCommand;
use crate::handle::views::{ChannelKind, Cursor, PostPage, PostView};
use crate::search::{self, FileTerms, IndexDoc, Plan, Ranking, Reconciled, Resolved};

/// Hits fetched beyond the page, so posts sharing the cursor's millisecond are not lost.
pub(crate) const PAGE_SLACK: usize = 64;
/// The most posts one search answers.
pub(crate) const MAX_SEARCH_PAGE: usize = 200;

/// The index document of a post as the fold shows it; `None` if it is not visible.
fn index_doc(auth: &AuthState, folded: &Folded, post: &EventId) -> Option<IndexDoc> {
    folded
        .chat
        .post(auth, post)
        .map(|v| doc_of(auth, folded, v))
}

fn doc_of(auth: &AuthState, folded: &Folded, v: proto::fold::PostView) -> IndexDoc {
    let files: Vec<FileTerms> = v
        .files
        .iter()
        .filter_map(|id| folded.files.get(id))
        .map(|(_, info)| FileTerms {
            summary: info
                .state
                .grib
                .as_deref()
                .and_then(|g| g.as_ref().ok())
                .map(crate::files::grib::summary_text),
            name: info.name.clone(),
        })
        .collect();
    let mentioned: Vec<String> = v.mentions.iter().map(|k| username(auth, k)).collect();
    IndexDoc::new(
        v.id, v.channel, v.author, v.hlc.ms, &v.text, &files, &mentioned,
    )
}

/// Does the `in:` name `name` designate channel `id`: its name (any case), or `@user` for the
/// direct message between the reader and that user (`@` and the reader's own name: the DM with
/// oneself)?
fn in_names(
    auth: &AuthState,
    folded: &Folded,
    me: &PublicKey,
    id: &ChannelId,
    c: &ChannelAuth,
    name: &str,
) -> bool {
    let Some(user) = name.strip_prefix('@') else {
        let channel = folded.chat.channel_fields(auth, id).map(|v| v.name);
        return channel.is_some_and(|ch| name.eq_ignore_ascii_case(&ch));
    };
    let named = |k: &PublicKey| user.eq_ignore_ascii_case(&username(auth, k));
    kind_of(folded, auth, id, c) == ChannelKind::Dm
        && c.members.contains(me)
        && c.members.iter().any(named)
        && c.members.iter().all(|k| k == me || named(k))
}

impl Actor {
    /// Hook of [`Actor::on_content_accepted`]: re-indexes the post `event` touched (its new
    /// text after an edit), or removes it (deleted). Failures mark the flotilla for
    /// reconciliation; ingest goes on.
    pub(super) fn index_accepted(
        &mut self,
        flotilla: FlotillaId,
        event: &SignedEvent,
        content: &Content,
    ) {
        let posts = match content {
            Content::Post { .. } | Content::ImportedPost { .. } | Content::MovedPost { .. } => {
                vec![event.id()]
            }
            // The moved thread's replies leave the source channel (and its search results).
            Content::ThreadMoved { root, .. } => self
                .fold_of(&flotilla)
                .map(|f| f.chat.reply_ids(root))
                .unwrap_or_default(),
            Content::Edit { target, .. } | Content::Delete { target } => vec![*target],
            _ => return,
        };
        for post in posts {
            self.index_one(flotilla, &post);
        }
    }

    /// Re-indexes one post, or removes it from the index if it is no longer visible.
    fn index_one(&mut self, flotilla: FlotillaId, post: &EventId) {
        let (Ok(auth), Ok(folded)) = (self.auth(&flotilla), self.fold_of(&flotilla)) else {
            return;
        };
        let doc = index_doc(auth, folded, post);
        let r = match doc {
            Some(doc) => self.search.upsert(&flotilla, &doc),
            None => self.search.delete(&flotilla, post),
        };
        if let Err(e) = r {
            tracing::warn!(%e, "cannot index a post: the index will be reconciled");
        }
    }

    /// Every visible post of the flotilla's (fresh) fold, as index documents.
    fn all_docs(&self, flotilla: &FlotillaId) -> Result<Vec<IndexDoc>, Error> {
        let auth = self.auth(flotilla)?;
        let folded = self.fold_of(flotilla)?;
        Ok(auth
            .channels
            .keys()
            .flat_map(|c| folded.chat.timeline(auth, c))
            .map(|v| doc_of(auth, folded, v))
            .collect())
    }

    /// Reconciles the flotilla's index with its fold if it was not since the fold was built,
    /// or re-indexes the posts whose ingest writes the full indexing queue refused.
    fn ensure_indexed(&mut self, flotilla: &FlotillaId) -> Result<(), Error> {
        self.refresh_fold(flotilla)?;
        if !self.search.needs_reconcile(flotilla) {
            return self.catch_up(flotilla);
        }
        let started = std::time::Instant::now();
        let docs = self.all_docs(flotilla)?;
        let stats = self.search.reconcile(flotilla, docs)?;
        tracing::info!(
            flotilla = %flotilla.fmt_short(),
            posts = stats.posts,
            indexed = stats.indexed,
            removed = stats.removed,
            ms = started.elapsed().as_millis(),
            "search index reconciled"
        );
        Ok(())
    }

    fn catch_up(&mut self, flotilla: &FlotillaId) -> Result<(), Error> {
        let behind = self.search.take_behind(flotilla);
        if behind.is_empty() {
            return Ok(());
        }
        let posts: Vec<(EventId, Option<IndexDoc>)> = {
            let auth = self.auth(flotilla)?;
            let folded = self.fold_of(flotilla)?;
            behind
                .into_iter()
                .map(|id| (id, index_doc(auth, folded, &id)))
                .collect()
        };
        let n = self.search.catch_up(flotilla, posts)?;
        tracing::info!(flotilla = %flotilla.fmt_short(), posts = n, "search index caught up");
        Ok(())
    }

    pub(super) fn on_search_command(&mut self, cmd: SearchCommand) {
        match cmd {
            SearchCommand::Search {
                who,
                query,
                before,
                limit,
                ranking,
                reply,
            } => {
                let _ = reply.send(self.search_posts(&who, &query, before, limit, ranking));
            }
            SearchCommand::Save {
                who,
                post,
                saved,
                reply,
            } => {
                let _ = reply.send(self.save_post(&who, &post, saved));
            }
            SearchCommand::Saved { who, limit, reply } => {
                let _ = reply.send(self.saved_posts(&who, limit));
            }
            SearchCommand::Rebuild { reply } => {
                let _ = reply.send(self.rebuild_indexes());
            }
        }
    }

    fn save_post(&mut self, who: &Acting, post: &EventId, saved: bool) -> Result<(), Error> {
        let me = self.acting(who)?.public();
        if saved {
            self.post_of(&who.flotilla, post, &me)?;
        }
        Ok(self
            .search
            .saved
            .set(&who.as_user, &who.flotilla, post, saved)?)
    }

    fn saved_posts(&mut self, who: &Acting, limit: usize) -> Result<PostPage, Error> {
        let me = self.acting(who)?.public();
        let ids = self.search.saved.list(&who.as_user, &who.flotilla);
        let posts = ids
            .iter()
            .filter_map(|id| self.post_of(&who.flotilla, id, &me).ok())
            .take(limit.clamp(1, MAX_SEARCH_PAGE))
            .collect();
        Ok(PostPage { posts, next: None })
    }

    fn rebuild_indexes(&mut self) -> Result<Vec<(FlotillaId, Reconciled)>, Error> {
        let flotillas: Vec<FlotillaId> = self.state.flotillas().copied().collect();
        let mut out = Vec::new();
        for f in flotillas {
            self.refresh_fold(&f)?;
            let docs = self.all_docs(&f)?;
            out.push((f, self.search.rebuild(&f, docs)?));
        }
        Ok(out)
    }

    /// The channels `me` may read, narrowed by the `in:` names (any of them).
    fn searchable_channels(
        auth: &AuthState,
        folded: &Folded,
        me: &PublicKey,
        names: &[String],
    ) -> Vec<ChannelId> {
        auth.channels
            .iter()
            .filter(|(_, c)| !c.private || c.members.contains(me))
            .filter(|(id, c)| {
                names.is_empty() || names.iter().any(|n| in_names(auth, folded, me, id, c, n))
            })
            .map(|(id, _)| *id)
            .collect()
    }

    fn search_posts(
        &mut self,
        who: &Acting,
        text: &str,
        before: Option<Cursor>,
        limit: usize,
        ranking: Ranking,
    ) -> Result<PostPage, Error> {
        let query = search::parse(text).map_err(|e| Error::Invalid {
            what: "search",
            reason: e.to_string(),
        })?;
        let limit = limit.clamp(1, MAX_SEARCH_PAGE);
        let me = self.acting(who)?.public();
        let flotilla = who.flotilla;
        self.ensure_indexed(&flotilla)?;
        let plan = {
            let auth = self.auth(&flotilla)?;
            let folded = self.fold_of(&flotilla)?;
            let authors = (!query.from.is_empty()).then(|| {
                auth.users
                    .iter()
                    .filter(|(_, u)| {
                        query
                            .from
                            .iter()
                            .any(|n| n.eq_ignore_ascii_case(&u.info.username))
                    })
                    .map(|(k, _)| *k)
                    .collect()
            });
            let channels = Self::searchable_channels(auth, folded, &me, &query.channels);
            Plan::new(&query, Resolved { authors, channels })
        };
        let until = before.map(|c| c.hlc.ms);
        let fetch = limit + PAGE_SLACK;
        let hits = self
            .search
            .search(&flotilla, &plan, ranking, until, fetch)?;
        let auth = self.auth(&flotilla)?;
        let folded = self.fold_of(&flotilla)?;
        let mut posts: Vec<PostView> = hits
            .iter()
            .filter_map(|h| folded.chat.post(auth, &h.id))
            .filter(|v| plan.channels.contains(&v.channel) && !super::chat::hidden(auth, v, &me))
            .map(|v| post_view(auth, folded, v, &me, &self.lora_marks))
            .filter(|v| before.is_none_or(|b| v.cursor < b))
            .collect();
        if ranking == Ranking::Relevance {
            posts.truncate(limit);
            return Ok(PostPage { posts, next: None });
        }
        posts.sort_by_key(|p| std::cmp::Reverse(p.cursor));
        let more = posts.len() > limit || hits.len() == fetch;
        posts.truncate(limit);
        let next = if more {
            posts.last().map(|p| p.cursor)
        } else {
            None
        };
        Ok(PostPage { posts, next })
    }
}

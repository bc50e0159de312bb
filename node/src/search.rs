//! Full-text search over a flotilla's posts (tantivy): what the node indexes, how a query is
//! parsed and run, and how the index stays equal to the fold.
//!
//! # Design
//! - **Per flotilla, derived, rebuildable.** Each followed flotilla has its own index in
//!   `<data dir>/search/<flotilla id>/`. It holds only what the fold shows (the newest text
//!   after edits; deleted posts leave it) and can be thrown away: [`Search::rebuild`] makes
//!   it again from the fold, and a corrupt or older-format index is wiped on open.
//! - **Indexed at ingest, off the actor** from the plaintext the actor decrypted once for its
//!   fold: the actor calls [`Search::upsert`] / [`Search::delete`] for the post an accepted
//!   event touches, which only queue the write for the indexing thread (`writer`, a bounded
//!   queue of [`INDEX_QUEUE`] writes). When the queue is full the write is dropped and the
//!   flotilla marked for reconciliation: ingest never waits for tantivy. The thread commits
//!   every [`COMMIT_EVERY`] writes, when idle, and before each search.
//! - **Consistent after a crash.** Buffered writes die with the process, and posts the fold
//!   gains without an ingest (a key that arrived later opens old posts) never passed through
//!   the hook. So the first search of a flotilla after start, and the first after each fold
//!   rebuild, reconciles: it compares each fold post's [`IndexDoc::version`] with the
//!   index's and re-indexes or deletes the difference ([`Search::reconcile`]).
//! - **Readers see only what they may read.** The caller resolves the query into a [`Plan`]
//!   whose channel set is the reader's readable channels (narrowed by `in:`); the index
//!   never answers outside it, and the caller maps hits back through the fold.
//!
//! # Layout
//! - [`query`]: the search syntax → [`Query`] (pure).
//! - `analysis`: French/English/folded analyzers shared by both sides; `stem`: their
//!   cached Snowball stemming.
//! - `plan`: a [`Query`] made concrete for one reader ([`Plan`]).
//! - `doc`: [`IndexDoc`], what is indexed of a post.
//! - `index`: one flotilla's tantivy index (schema, documents, queries).
//! - `writer`: the indexing thread, owner of the tantivy writers.
//! - `saved`: each local user's saved posts ([`SavedPosts`]).

mod analysis;
#[cfg(test)]
mod bench;
mod doc;
mod index;
mod plan;
pub mod query;
mod saved;
mod stem;
#[cfg(test)]
mod tests;
mod writer;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use flotilla_protocol as proto;
use proto::id::{EventId, FlotillaId};
use tantivy::IndexWriter;

use index::Fields;

pub use doc::{FileTerms, IndexDoc};
pub use index::{FlotillaIndex, Hit, Ranking, SCHEMA_VERSION};
pub use plan::{Phrase, Plan, Resolved, TokenAlt, Word};
pub use query::{Query, QueryError, parse};
pub use saved::{MAX_SAVED_PER_USER, SAVED_FILE, SavedPosts};
pub use writer::{COMMIT_EVERY, COMMIT_IDLE, INDEX_QUEUE, INDEX_QUEUE_BYTES};

use writer::{Op, Refused, Writer};

/// Posts per flotilla whose ingest write the full queue refused, remembered to be re-indexed
/// from the fold before the next search ([`Search::take_behind`]); beyond this many the
/// flotilla is reconciled whole instead.
pub const MAX_BEHIND: usize = 65_536;
/// The search directory inside the data directory.
pub const SEARCH_DIR: &str = "search";
/// The file in each flotilla's index directory that holds [`SCHEMA_VERSION`].
const VERSION_FILE: &str = "flotilla-search-version";

/// A search index failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// tantivy failed (I/O, a corrupt segment, a dead indexing thread).
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    /// The index directory cannot be opened.
    #[error("search index directory: {0}")]
    OpenDir(#[from] tantivy::directory::error::OpenDirectoryError),
    /// A file of the index cannot be read or written.
    #[error("search index {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The index does not hold what this schema expects.
    #[error("search index is corrupt: {0}")]
    Corrupt(String),
    /// The indexing thread failed a write or is gone (the index is opened again and
    /// reconciled).
    #[error("search indexing: {0}")]
    Writer(String),
}

impl From<std::io::Error> for Error {
    fn from(source: std::io::Error) -> Self {
        Error::Io {
            path: PathBuf::new(),
            source,
        }
    }
}

/// What a reconciliation or rebuild did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Reconciled {
    /// Posts in the fold.
    pub posts: usize,
    /// Posts (re-)indexed.
    pub indexed: usize,
    /// Posts removed from the index.
    pub removed: usize,
    /// The index's size on disk afterwards, in bytes.
    pub disk_bytes: u64,
}

/// One flotilla's open index, on the actor's side.
#[derive(Debug)]
struct Opened {
    index: FlotillaIndex,
    /// Writes queued since the last commit the actor waited for.
    pending: usize,
}

/// The search indexes of one node (one per flotilla, opened on first use).
#[derive(Debug)]
pub struct Search {
    dir: PathBuf,
    open: BTreeMap<FlotillaId, Opened>,
    /// Flotillas whose index was reconciled with the current fold.
    fresh: BTreeSet<FlotillaId>,
    /// The indexing thread, started with the first index.
    writer: Option<Writer>,
    /// Posts whose ingest write was refused (queue full), per fresh flotilla.
    behind: BTreeMap<FlotillaId, BTreeSet<EventId>>,
    /// Ingest writes dropped because the indexing queue was full (reconciliation redid
    /// them).
    dropped: u64,
    /// The local users' saved posts (kept beside the indexes' directory, not in it: they
    /// are not derived).
    pub saved: SavedPosts,
}

impl Search {
    /// The indexes under `dir` (usually `<data dir>/search`); nothing is opened yet.
    pub fn new(dir: PathBuf) -> Search {
        let saved_path = dir
            .parent()
            .map_or_else(|| PathBuf::from(SAVED_FILE), |d| d.join(SAVED_FILE));
        Search {
            dir,
            open: BTreeMap::new(),
            fresh: BTreeSet::new(),
            writer: None,
            behind: BTreeMap::new(),
            dropped: 0,
            saved: SavedPosts::load(saved_path),
        }
    }

    /// The directory of a flotilla's index.
    pub fn dir_of(&self, flotilla: &FlotillaId) -> PathBuf {
        self.dir.join(flotilla.to_string())
    }

    /// Opens the flotilla's index if needed (handing its writer to the indexing thread).
    fn open(&mut self, flotilla: &FlotillaId) -> Result<(&mut Opened, &Writer), Error> {
        if self.writer.is_none() {
            self.writer = Some(Writer::start()?);
        }
        let writer = self.writer.as_ref().ok_or_else(gone)?;
        if !self.open.contains_key(flotilla) {
            let (index, w, fields) = open_or_wipe(&self.dir.join(flotilla.to_string()))?;
            writer.send(Op::Open {
                flotilla: *flotilla,
                writer: Box::new(w),
                fields,
            })?;
            self.open.insert(*flotilla, Opened { index, pending: 0 });
        }
        let opened = self.open.get_mut(flotilla).ok_or_else(gone)?;
        Ok((opened, writer))
    }

    /// Indexes (or re-indexes) a post of `flotilla` at ingest: the write is queued for the
    /// indexing thread, or dropped if the queue is full (the flotilla is then reconciled
    /// before its next search).
    ///
    /// # Errors
    /// [`Error`] (the index cannot be opened, the thread is gone): the flotilla is then
    /// marked for reconciliation.
    pub fn upsert(&mut self, flotilla: &FlotillaId, doc: &IndexDoc) -> Result<(), Error> {
        self.offer(Op::Upsert {
            flotilla: *flotilla,
            doc: Box::new(doc.clone()),
            replace: true,
        })
    }

    /// Removes a post of `flotilla` (deleted, or no longer visible), as [`Self::upsert`].
    ///
    /// # Errors
    /// [`Error`]: the flotilla is then marked for reconciliation.
    pub fn delete(&mut self, flotilla: &FlotillaId, id: &EventId) -> Result<(), Error> {
        self.offer(Op::Delete {
            flotilla: *flotilla,
            id: *id,
        })
    }

    fn offer(&mut self, op: Op) -> Result<(), Error> {
        let flotilla = op.flotilla();
        let post = op.post();
        let r = self.open(&flotilla).map(|(opened, writer)| {
            let r = writer.offer(op);
            if r.is_ok() {
                opened.pending += 1;
            }
            r
        });
        match r {
            Ok(Ok(())) => Ok(()),
            Ok(Err(Refused::Full)) => {
                self.dropped += 1;
                self.defer(flotilla, post);
                Ok(())
            }
            Ok(Err(Refused::Gone)) => self.on_failure(&flotilla, Err(gone())),
            Err(e) => self.on_failure(&flotilla, Err(e)),
        }
    }

    /// Remembers a post whose write was refused, or gives up and marks the flotilla for a
    /// whole reconciliation. A flotilla that is not fresh will be reconciled anyway.
    fn defer(&mut self, flotilla: FlotillaId, post: Option<EventId>) {
        if !self.fresh.contains(&flotilla) {
            return;
        }
        let behind = self.behind.entry(flotilla).or_default();
        if behind.is_empty() {
            tracing::warn!(
                flotilla = %flotilla.fmt_short(),
                queue = INDEX_QUEUE,
                "search indexing queue full: posts re-indexed before the next search"
            );
        }
        match post {
            Some(id) if behind.len() < MAX_BEHIND => {
                behind.insert(id);
            }
            _ => self.mark_stale(&flotilla),
        }
    }

    /// The posts of `flotilla` whose ingest writes were refused since the last call, to
    /// re-index from the fold before a search ([`Self::catch_up`]).
    pub fn take_behind(&mut self, flotilla: &FlotillaId) -> Vec<EventId> {
        self.behind
            .remove(flotilla)
            .map(|b| b.into_iter().collect())
            .unwrap_or_default()
    }

    /// Re-indexes posts as the fold shows them (`None`: no longer visible, removed), waiting
    /// for room in the queue; returns how many.
    ///
    /// # Errors
    /// [`Error`]: the flotilla is then marked for reconciliation.
    pub fn catch_up(
        &mut self,
        flotilla: &FlotillaId,
        posts: impl IntoIterator<Item = (EventId, Option<IndexDoc>)>,
    ) -> Result<usize, Error> {
        let mut n = 0;
        for (id, doc) in posts {
            let op = match doc {
                Some(doc) => Op::Upsert {
                    flotilla: *flotilla,
                    doc: Box::new(doc),
                    replace: true,
                },
                None => Op::Delete {
                    flotilla: *flotilla,
                    id,
                },
            };
            let r = self.send(op);
            self.on_failure(flotilla, r)?;
            n += 1;
        }
        Ok(n)
    }

    /// Queues a write for a reconciliation or a rebuild, waiting for room.
    fn send(&mut self, op: Op) -> Result<(), Error> {
        let (opened, writer) = self.open(&op.flotilla())?;
        writer.send(op)?;
        opened.pending += 1;
        Ok(())
    }

    fn on_failure<T>(&mut self, flotilla: &FlotillaId, r: Result<T, Error>) -> Result<T, Error> {
        if r.is_err() {
            self.mark_stale(flotilla);
        }
        r
    }

    /// Holds the indexing thread until `release` is dropped or sent to (tests fill the queue).
    #[cfg(test)]
    pub(crate) fn hold(
        &mut self,
        flotilla: &FlotillaId,
        release: std::sync::mpsc::Receiver<()>,
    ) -> Result<(), Error> {
        self.open(flotilla)?.1.send(Op::Hold(release))
    }

    /// Ingest writes refused so far because the indexing queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Waits until every write queued for the flotilla is committed, and makes it visible.
    /// A failure closes the index (it is opened again and reconciled).
    ///
    /// # Errors
    /// [`Error`].
    pub fn sync(&mut self, flotilla: &FlotillaId) -> Result<(), Error> {
        let (opened, writer) = self.open(flotilla)?;
        if opened.pending == 0 {
            return Ok(());
        }
        let r = writer
            .commit(*flotilla)
            .and_then(|()| opened.index.reload());
        match r {
            Ok(()) => {
                opened.pending = 0;
                Ok(())
            }
            Err(e) => {
                self.open.remove(flotilla);
                self.on_failure(flotilla, Err(e))
            }
        }
    }

    /// Must the flotilla's index be reconciled before it is searched?
    pub fn needs_reconcile(&self, flotilla: &FlotillaId) -> bool {
        !self.fresh.contains(flotilla)
    }

    /// The fold of `flotilla` was rebuilt: reconcile before the next search.
    pub fn mark_stale(&mut self, flotilla: &FlotillaId) {
        self.fresh.remove(flotilla);
        self.behind.remove(flotilla);
    }

    /// Makes the index hold exactly `docs` (every visible post of the fold): indexes the
    /// posts missing or changed, removes the others, commits.
    ///
    /// # Errors
    /// [`Error`].
    pub fn reconcile(
        &mut self,
        flotilla: &FlotillaId,
        docs: impl IntoIterator<Item = IndexDoc>,
    ) -> Result<Reconciled, Error> {
        self.sync(flotilla)?;
        let mut indexed = self.open(flotilla)?.0.index.versions()?;
        let mut stats = Reconciled::default();
        for doc in docs {
            stats.posts += 1;
            let known = indexed.remove(&doc.id);
            if known != Some(doc.version()) {
                self.send(Op::Upsert {
                    flotilla: *flotilla,
                    doc: Box::new(doc),
                    replace: known.is_some(),
                })?;
                stats.indexed += 1;
            }
        }
        for id in indexed.into_keys() {
            self.send(Op::Delete {
                flotilla: *flotilla,
                id,
            })?;
            stats.removed += 1;
        }
        self.sync(flotilla)?;
        self.fresh.insert(*flotilla);
        self.behind.remove(flotilla);
        stats.disk_bytes = self.disk_bytes(flotilla);
        Ok(stats)
    }

    /// Empties the flotilla's index and indexes `docs` again.
    ///
    /// # Errors
    /// [`Error`].
    pub fn rebuild(
        &mut self,
        flotilla: &FlotillaId,
        docs: impl IntoIterator<Item = IndexDoc>,
    ) -> Result<Reconciled, Error> {
        self.send(Op::Clear {
            flotilla: *flotilla,
        })?;
        self.sync(flotilla)?;
        self.reconcile(flotilla, docs)
    }

    /// Runs a plan over the flotilla's index (see [`FlotillaIndex::search`]), after the
    /// writes queued so far are committed.
    ///
    /// # Errors
    /// [`Error`].
    pub fn search(
        &mut self,
        flotilla: &FlotillaId,
        plan: &Plan,
        ranking: Ranking,
        until_ms: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Hit>, Error> {
        self.sync(flotilla)?;
        self.open(flotilla)?
            .0
            .index
            .search(plan, ranking, until_ms, limit)
    }

    /// Commits every open index (at shutdown; a crash without it loses nothing that the
    /// next reconciliation does not restore).
    pub fn commit_all(&mut self) {
        let open: Vec<FlotillaId> = self.open.keys().copied().collect();
        for f in open {
            if let Err(e) = self.sync(&f) {
                tracing::warn!(flotilla = %f.fmt_short(), %e, "cannot commit the search index");
            }
        }
    }

    /// The size on disk of a flotilla's index, in bytes.
    pub fn disk_bytes(&self, flotilla: &FlotillaId) -> u64 {
        dir_bytes(&self.dir_of(flotilla))
    }
}

fn gone() -> Error {
    Error::Writer("the search index is closed".into())
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .filter(std::fs::Metadata::is_file)
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Opens the index in `dir`; an index of another [`SCHEMA_VERSION`], or one tantivy cannot
/// open, is wiped and made again (it is derived: reconciliation fills it).
fn open_or_wipe(dir: &Path) -> Result<(FlotillaIndex, IndexWriter, Fields), Error> {
    let version_path = dir.join(VERSION_FILE);
    let want = SCHEMA_VERSION.to_string();
    let current = std::fs::read_to_string(&version_path).ok();
    if current.as_deref().map(str::trim) == Some(want.as_str()) {
        match FlotillaIndex::open(dir) {
            Ok(index) => return Ok(index),
            Err(e) => {
                tracing::warn!(%e, dir = %dir.display(), "search index unreadable: rebuilding")
            }
        }
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let index = FlotillaIndex::open(dir)?;
    std::fs::write(&version_path, want).map_err(|source| Error::Io {
        path: version_path,
        source,
    })?;
    Ok(index)
}

/// The search directory of a node whose attachments live in `files_dir`: both sit in the
/// data directory.
pub fn dir_for(files_dir: &Path) -> PathBuf {
    files_dir
        .parent()
        .map_or_else(|| PathBuf::from(SEARCH_DIR), |d| d.join(SEARCH_DIR))
}

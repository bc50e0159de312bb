//! The indexing thread: it owns every flotilla's tantivy [`IndexWriter`] and applies the
//! writes the actor queues ([`Op`]), so ingest never waits for tantivy's analysis, segment
//! flushes or commits.
//!
//! The queue is bounded in writes ([`INDEX_QUEUE`]) and in bytes of text
//! ([`INDEX_QUEUE_BYTES`]). Ingest only *offers* a write ([`Writer::offer`]): when the queue
//! is full the write is refused and the caller re-indexes that post from the fold before the
//! next search (see [`super::Search`]). Catch-ups, reconciliations and rebuilds, which run
//! for a search or an operator, wait for room instead ([`Writer::send`]).
//!
//! The thread commits a flotilla's writes every [`COMMIT_EVERY`] of them, after
//! [`COMMIT_IDLE`] without a write, and when asked ([`Writer::commit`], before a search: the
//! queue is FIFO, so the answer comes after every write queued before it). When the queue is
//! dropped the thread ends without committing (as a crash would; the actor commits at stop).

use std::collections::{HashMap, HashSet};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use flotilla_protocol as proto;
use proto::id::{EventId, FlotillaId};
use tantivy::IndexWriter;

use super::Error;
use super::doc::IndexDoc;
use super::index::Fields;

/// Writes queued for the indexing thread, at most: about 0.8 s of ingest at 20,000 posts/s,
/// so a busy machine that pauses the thread a moment drops nothing.
pub const INDEX_QUEUE: usize = 16_384;
/// Bytes of queued documents, at most (a post is up to 64 KB of text; chat posts are ~100
/// bytes).
pub const INDEX_QUEUE_BYTES: usize = 32 * 1024 * 1024;
/// Writes the thread buffers per flotilla before it commits on its own: the most a crash can
/// leave for reconciliation to redo (searches commit whatever is pending first).
pub const COMMIT_EVERY: usize = 20_000;
/// Pending writes are committed after this long without a write.
pub const COMMIT_IDLE: Duration = Duration::from_secs(2);
/// The thread's name (seen in `top -H`, panics and profiles).
const THREAD_NAME: &str = "flotilla-index";

/// One write for the indexing thread.
pub(super) enum Op {
    /// Hands over a flotilla's writer (the actor opened the index; it keeps the reader).
    Open {
        flotilla: FlotillaId,
        writer: Box<IndexWriter>,
        fields: Fields,
    },
    /// Indexes a post; `replace`: it may already be indexed (delete it first).
    Upsert {
        flotilla: FlotillaId,
        doc: Box<IndexDoc>,
        replace: bool,
    },
    /// Removes a post.
    Delete { flotilla: FlotillaId, id: EventId },
    /// Removes every post.
    Clear { flotilla: FlotillaId },
    /// Commits what is pending and answers once it is on disk.
    Commit {
        flotilla: FlotillaId,
        reply: SyncSender<Result<(), Error>>,
    },
    /// Waits until the sender sends or hangs up (tests fill the queue with it).
    #[cfg(test)]
    Hold(Receiver<()>),
}

impl Op {
    /// What the op holds in memory, for [`INDEX_QUEUE_BYTES`].
    fn bytes(&self) -> usize {
        let doc = match self {
            Op::Upsert { doc, .. } => {
                doc.text.len()
                    + doc
                        .hashtags
                        .iter()
                        .chain(&doc.mentions)
                        .map(String::len)
                        .sum::<usize>()
                    + size_of::<IndexDoc>()
            }
            _ => 0,
        };
        size_of::<Op>() + doc
    }

    /// The post a write is about (none for the others).
    pub(super) fn post(&self) -> Option<EventId> {
        match self {
            Op::Upsert { doc, .. } => Some(doc.id),
            Op::Delete { id, .. } => Some(*id),
            _ => None,
        }
    }

    pub(super) fn flotilla(&self) -> FlotillaId {
        match self {
            Op::Open { flotilla, .. }
            | Op::Upsert { flotilla, .. }
            | Op::Delete { flotilla, .. }
            | Op::Clear { flotilla }
            | Op::Commit { flotilla, .. } => *flotilla,
            #[cfg(test)]
            Op::Hold(_) => FlotillaId([0; 16]),
        }
    }
}

/// Why an offered write was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refused {
    /// The queue is full: the thread is behind.
    Full,
    /// The thread is gone.
    Gone,
}

/// The actor's end of the indexing thread. Dropping it ends the thread (without a commit)
/// and waits for it, so the index directories' locks are free afterwards.
#[derive(Debug)]
pub(super) struct Writer {
    tx: Option<SyncSender<Op>>,
    thread: Option<JoinHandle<()>>,
    bytes: Arc<Budget>,
}

/// Bytes queued, shared by the actor (who takes) and the thread (who gives back).
#[derive(Debug, Default)]
struct Budget {
    used: Mutex<usize>,
    freed: Condvar,
}

impl Budget {
    /// Takes `n` bytes if they fit (or the queue is empty: one big post always fits).
    fn try_take(&self, n: usize) -> bool {
        let mut used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        let fits = *used == 0 || *used + n <= INDEX_QUEUE_BYTES;
        if fits {
            *used += n;
        }
        fits
    }

    /// Takes `n` bytes, waiting until they fit.
    fn take(&self, n: usize) {
        let mut used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        while *used != 0 && *used + n > INDEX_QUEUE_BYTES {
            used = self
                .freed
                .wait(used)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *used += n;
    }

    fn give(&self, n: usize) {
        let mut used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        *used = used.saturating_sub(n);
        self.freed.notify_all();
    }
}

impl Writer {
    /// Starts the thread.
    ///
    /// # Errors
    /// [`Error::Io`] if the thread cannot be spawned.
    pub(super) fn start() -> Result<Writer, Error> {
        let (tx, rx) = mpsc::sync_channel(INDEX_QUEUE);
        let bytes = Arc::new(Budget::default());
        let worker = Worker {
            open: HashMap::new(),
            failed: HashSet::new(),
            bytes: Arc::clone(&bytes),
        };
        let thread = std::thread::Builder::new()
            .name(THREAD_NAME.into())
            .spawn(move || worker.run(&rx))?;
        Ok(Writer {
            tx: Some(tx),
            thread: Some(thread),
            bytes,
        })
    }

    /// Queues `op` if there is room, without waiting.
    pub(super) fn offer(&self, op: Op) -> Result<(), Refused> {
        let tx = self.tx.as_ref().ok_or(Refused::Gone)?;
        let n = op.bytes();
        if !self.bytes.try_take(n) {
            return Err(Refused::Full);
        }
        tx.try_send(op).map_err(|e| {
            self.bytes.give(n);
            match e {
                TrySendError::Full(_) => Refused::Full,
                TrySendError::Disconnected(_) => Refused::Gone,
            }
        })
    }

    /// Queues `op`, waiting for room.
    ///
    /// # Errors
    /// [`Error::Writer`] if the thread is gone.
    pub(super) fn send(&self, op: Op) -> Result<(), Error> {
        let tx = self.tx.as_ref().ok_or_else(gone)?;
        let n = op.bytes();
        self.bytes.take(n);
        tx.send(op).map_err(|_| {
            self.bytes.give(n);
            gone()
        })
    }

    /// Commits the flotilla's writes queued so far and waits until they are on disk.
    ///
    /// # Errors
    /// [`Error::Tantivy`] (the commit failed), [`Error::Writer`] (an earlier write failed:
    /// the flotilla's writer was dropped and must be opened again; or the thread is gone).
    pub(super) fn commit(&self, flotilla: FlotillaId) -> Result<(), Error> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.send(Op::Commit { flotilla, reply })?;
        answer.recv().map_err(|_| gone())?
    }
}

fn gone() -> Error {
    Error::Writer("the indexing thread is gone".into())
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the search indexing thread panicked");
        }
    }
}

/// A flotilla's writer on the thread.
struct Open {
    writer: Box<IndexWriter>,
    fields: Fields,
    /// Writes since the last commit.
    pending: usize,
}

/// The thread's state.
struct Worker {
    open: HashMap<FlotillaId, Open>,
    /// Flotillas whose writer failed (and was dropped) since their last commit request.
    failed: HashSet<FlotillaId>,
    bytes: Arc<Budget>,
}

impl Worker {
    fn run(mut self, rx: &Receiver<Op>) {
        loop {
            match rx.recv_timeout(COMMIT_IDLE) {
                Ok(op) => {
                    let n = op.bytes();
                    self.apply(op);
                    self.bytes.give(n);
                }
                Err(RecvTimeoutError::Timeout) => self.commit_idle(),
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    fn apply(&mut self, op: Op) {
        let flotilla = op.flotilla();
        match op {
            Op::Open { writer, fields, .. } => {
                self.failed.remove(&flotilla);
                self.open.insert(
                    flotilla,
                    Open {
                        writer,
                        fields,
                        pending: 0,
                    },
                );
            }
            Op::Commit { reply, .. } => {
                let _ = reply.send(self.commit(flotilla)); // the asker may have given up
            }
            Op::Upsert { doc, replace, .. } => self.write(flotilla, |o| {
                if replace {
                    o.writer.delete_term(o.fields.key(&doc.id));
                }
                o.writer.add_document(o.fields.document(&doc))?;
                Ok(())
            }),
            Op::Delete { id, .. } => self.write(flotilla, |o| {
                o.writer.delete_term(o.fields.key(&id));
                Ok(())
            }),
            Op::Clear { .. } => self.write(flotilla, |o| {
                o.writer.delete_all_documents()?;
                Ok(())
            }),
            #[cfg(test)]
            Op::Hold(release) => {
                let _ = release.recv();
            }
        }
    }

    /// Applies one write; a failure drops the writer (reported at the next commit request).
    fn write(&mut self, flotilla: FlotillaId, f: impl FnOnce(&mut Open) -> tantivy::Result<()>) {
        let Some(open) = self.open.get_mut(&flotilla) else {
            return; // failed earlier: the commit request reports it
        };
        let mut r = f(open).map_err(Error::from);
        if r.is_ok() {
            open.pending += 1;
            if open.pending >= COMMIT_EVERY {
                r = commit(open);
            }
        }
        if let Err(e) = r {
            tracing::warn!(flotilla = %flotilla.fmt_short(), %e, "search index write failed");
            self.open.remove(&flotilla);
            self.failed.insert(flotilla);
        }
    }

    fn commit(&mut self, flotilla: FlotillaId) -> Result<(), Error> {
        if self.failed.remove(&flotilla) {
            return Err(Error::Writer(
                "a write failed: the index is reopened".into(),
            ));
        }
        let Some(open) = self.open.get_mut(&flotilla) else {
            return Err(Error::Writer("no writer for this flotilla".into()));
        };
        let r = commit(open);
        if r.is_err() {
            self.open.remove(&flotilla);
        }
        r
    }

    fn commit_idle(&mut self) {
        let idle: Vec<FlotillaId> = self
            .open
            .iter()
            .filter(|(_, o)| o.pending > 0)
            .map(|(f, _)| *f)
            .collect();
        for f in idle {
            if let Err(e) = self.commit(f) {
                tracing::warn!(flotilla = %f.fmt_short(), %e, "search index commit failed");
                self.failed.insert(f);
            }
        }
    }
}

impl Drop for Worker {
    /// The thread ends (or panics): nothing it holds will be given back, so free it all
    /// (senders waiting for room then find the thread gone).
    fn drop(&mut self) {
        self.bytes.give(usize::MAX);
    }
}

fn commit(open: &mut Open) -> Result<(), Error> {
    if open.pending > 0 {
        open.writer.commit()?;
        open.pending = 0;
    }
    Ok(())
}

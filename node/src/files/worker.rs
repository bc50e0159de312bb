//! The file service's disk and crypto work, off the actor: one worker thread per node takes
//! [`Job`]s from a bounded queue ([`JOB_QUEUE`]) and hands [`Done`]s back on a bounded
//! channel ([`DONE_QUEUE`]) that the actor selects on.
//!
//! - [`Job::Store`]: a received chunk is hashed (BLAKE3 against the chunk list, and its
//!   length checked), written to the chunk store, and — on a boat that can read the file —
//!   decrypted at once into the file's partial plaintext `files/.<file id>.part` at its
//!   offset (**stream verification**: AEAD per chunk as it arrives);
//! - [`Job::Serve`]: a chunk a peer asked for is read from disk;
//! - [`Job::Finish`]: every chunk is there: the partial plaintext is hashed (BLAKE3 = file
//!   id), synced and renamed into `files/<file id>`; if it is missing or wrong (a download
//!   resumed after a restart), the file is decrypted again from its chunks.
//!
//! Order: one thread, first in first out. The actor never waits on the worker: when the
//! queue is full it runs the job itself ([`Worker::submit`] hands the job back), so the
//! bound costs latency, never a lost chunk. The thread ends when the actor drops its
//! [`Worker`].

use std::io::Read;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::mpsc as std_mpsc;

use flotilla_protocol as proto;
use libp2p::PeerId;
use proto::id::FileId;
use tokio::sync::mpsc;

use super::blobs::{BlobId, BlobRecord, BlobStore};
use super::crypt;
use super::transfers::Reader;
use crate::Error;

/// Jobs waiting for the worker, at most (then the actor runs them itself).
pub const JOB_QUEUE: usize = 32;
/// Results waiting for the actor, at most (then the worker waits).
pub const DONE_QUEUE: usize = 32;

/// A received chunk to check and store.
#[derive(Debug)]
pub struct StoreJob {
    /// Who sent it.
    pub peer: PeerId,
    /// Its blob.
    pub blob: BlobId,
    /// Its index.
    pub index: u32,
    /// Its hash in the chunk list.
    pub hash: [u8; 32],
    /// Its expected length (encrypted).
    pub len: u64,
    /// Where its plaintext starts in the file.
    pub offset: u64,
    /// The encrypted bytes received.
    pub bytes: Vec<u8>,
    /// The files this node can read in the blob (none on a relay).
    pub readers: Vec<Reader>,
}

/// A complete blob to turn into plaintext files.
#[derive(Debug)]
pub struct FinishJob {
    /// The blob.
    pub blob: BlobId,
    /// Its record.
    pub record: BlobRecord,
    /// Its readers.
    pub readers: Vec<Reader>,
}

/// Work for the worker. `R` is the token of a pending answer (a response channel).
#[derive(Debug)]
pub enum Job<R> {
    /// See [`StoreJob`].
    Store(StoreJob),
    /// Read chunk `hash` for a peer.
    Serve {
        /// The chunk.
        hash: [u8; 32],
        /// Where the answer goes.
        reply: R,
    },
    /// See [`FinishJob`].
    Finish(FinishJob),
}

/// What a stored chunk turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Its hash and length match: it is on disk.
    Stored,
    /// It does not hash to the chunk list's entry (or has the wrong length): not stored.
    Corrupt,
}

/// A job done.
#[derive(Debug)]
pub enum Done<R> {
    /// A [`Job::Store`].
    Stored {
        /// Who sent it.
        peer: PeerId,
        /// Its blob.
        blob: BlobId,
        /// Its index.
        index: u32,
        /// The check, or why it could not be stored.
        result: Result<Check, Error>,
    },
    /// A [`Job::Serve`]: the bytes, if the chunk is still on disk.
    Served {
        /// The chunk.
        bytes: Option<Vec<u8>>,
        /// Where the answer goes.
        reply: R,
    },
    /// A [`Job::Finish`].
    Finished {
        /// The blob.
        blob: BlobId,
        /// The files written (or already there).
        result: Result<Vec<FileId>, Error>,
    },
}

/// The disk side of the jobs: the files directory and its chunk store. Runs on the worker
/// thread, or on the actor when the queue is full.
#[derive(Debug, Clone)]
pub struct Disk {
    dir: PathBuf,
    store: BlobStore,
}

impl Disk {
    /// The files directory `dir`.
    pub fn new(dir: &Path) -> Self {
        Disk {
            dir: dir.to_path_buf(),
            store: BlobStore::new(dir),
        }
    }

    /// Does one job (blocking).
    pub fn run<R>(&self, job: Job<R>) -> Done<R> {
        match job {
            Job::Store(j) => Done::Stored {
                peer: j.peer,
                blob: j.blob,
                index: j.index,
                result: self.store_chunk(&j),
            },
            Job::Serve { hash, reply } => Done::Served {
                bytes: self.store.chunk(&hash),
                reply,
            },
            Job::Finish(j) => Done::Finished {
                blob: j.blob,
                result: self.finish(&j.record, &j.readers),
            },
        }
    }

    fn store_chunk(&self, j: &StoreJob) -> Result<Check, Error> {
        if j.bytes.len() as u64 != j.len || blake3::hash(&j.bytes).as_bytes() != &j.hash {
            return Ok(Check::Corrupt);
        }
        self.store.put_chunk(&j.hash, &j.bytes)?;
        for r in &j.readers {
            if super::path_of(&self.dir, &r.file).is_file() {
                continue;
            }
            // a chunk that does not open here fails the file at `finish`, which says why
            match crypt::open_chunk(&r.key, &r.file, j.index, &j.bytes) {
                Ok(plain) => write_part(&part_path(&self.dir, &r.file), j.offset, &plain)?,
                Err(e) => tracing::warn!(%e, index = j.index, "a chunk does not open"),
            }
        }
        Ok(Check::Stored)
    }

    /// Writes each reader's plaintext file of a complete blob; checks the plaintext hash.
    ///
    /// # Errors
    /// [`Error::Io`], or [`Error::Invalid`] if a chunk does not open or the plaintext does
    /// not hash to the file id.
    pub fn finish(&self, record: &BlobRecord, readers: &[Reader]) -> Result<Vec<FileId>, Error> {
        let mut done = Vec::new();
        for r in readers {
            let path = super::path_of(&self.dir, &r.file);
            let part = part_path(&self.dir, &r.file);
            if !path.is_file() && !self.promote(&part, &path, record.size, &r.file) {
                self.assemble(record, r)?;
            }
            let _ = std::fs::remove_file(&part); // absent when promoted or never written
            done.push(r.file);
        }
        Ok(done)
    }

    /// The partial plaintext `part` renamed to `path` if it is whole and hashes to `file`.
    fn promote(&self, part: &Path, path: &Path, size: u64, file: &FileId) -> bool {
        let checked = (|| -> std::io::Result<bool> {
            let mut f = std::fs::File::open(part)?;
            if f.metadata()?.len() != size {
                return Ok(false);
            }
            let mut h = blake3::Hasher::new();
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = f.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
            }
            if h.finalize().as_bytes() != &file.0 {
                return Ok(false);
            }
            f.sync_all()?;
            std::fs::rename(part, path)?;
            Ok(true)
        })();
        checked.unwrap_or(false)
    }

    /// Decrypts every chunk of `record` for `r` and writes the file (a resumed download).
    fn assemble(&self, record: &BlobRecord, r: &Reader) -> Result<(), Error> {
        let mut plain = Vec::with_capacity(usize::try_from(record.size).unwrap_or(0));
        for (i, h) in record.chunks.iter().enumerate() {
            let sealed = self
                .store
                .chunk(h)
                .ok_or_else(|| Error::NotFound("a chunk".into()))?;
            let index = u32::try_from(i).unwrap_or(u32::MAX);
            let bytes =
                crypt::open_chunk(&r.key, &r.file, index, &sealed).map_err(|e| Error::Invalid {
                    what: "chunk",
                    reason: e.to_string(),
                })?;
            plain.extend_from_slice(&bytes);
        }
        if blake3::hash(&plain).as_bytes() != &r.file.0 {
            return Err(Error::Invalid {
                what: "file",
                reason: "the assembled bytes do not hash to the file id".into(),
            });
        }
        super::local::write_once(&self.dir, &r.file, &plain)
    }
}

/// The partial plaintext of `file` while its chunks arrive.
pub fn part_path(dir: &Path, file: &FileId) -> PathBuf {
    dir.join(format!(".{file}.part"))
}

fn write_part(path: &Path, offset: u64, plain: &[u8]) -> Result<(), Error> {
    let written = (|| -> std::io::Result<()> {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)?;
        f.write_all_at(plain, offset)?;
        // synced now, off the actor, so that the rename at `finish` has little left to flush
        f.sync_data()
    })();
    written.map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The actor's end of the worker.
#[derive(Debug)]
pub struct Worker<R> {
    jobs: std_mpsc::SyncSender<Job<R>>,
    disk: Disk,
}

impl<R: Send + 'static> Worker<R> {
    /// Starts the worker thread of the files directory `dir`; returns its handle and the
    /// channel its results come back on. Without a thread (the system refused one) every
    /// job runs on the caller.
    pub fn spawn(dir: &Path) -> (Self, mpsc::Receiver<Done<R>>) {
        let (jobs, rx) = std_mpsc::sync_channel::<Job<R>>(JOB_QUEUE);
        let (done_tx, done_rx) = mpsc::channel(DONE_QUEUE);
        let disk = Disk::new(dir);
        let on_thread = disk.clone();
        let spawned = std::thread::Builder::new()
            .name("flotilla-files".into())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    if done_tx.blocking_send(on_thread.run(job)).is_err() {
                        break; // the actor is gone
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(%e, "no file worker thread: chunk work runs on the actor");
        }
        (Worker { jobs, disk }, done_rx)
    }

    /// Queues `job`; when the queue is full (or the thread is gone) runs it here and
    /// returns its result, for the caller to handle as if it had come back.
    pub fn submit(&self, job: Job<R>) -> Option<Done<R>> {
        match self.jobs.try_send(job) {
            Ok(()) => None,
            Err(std_mpsc::TrySendError::Full(job) | std_mpsc::TrySendError::Disconnected(job)) => {
                Some(self.disk.run(job))
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proto::crypto::SymmetricKey;
    use proto::id::FlotillaId;

    #[test]
    fn chunks_are_checked_stored_and_stream_decrypted_then_the_file_is_promoted() {
        let tmp = tempfile::tempdir().unwrap();
        let disk = Disk::new(tmp.path());
        let plain: Vec<u8> = (0..10u8).collect();
        let file = FileId(*blake3::hash(&plain).as_bytes());
        let key = SymmetricKey([4; 32]);
        let sealed: Vec<Vec<u8>> = plain
            .chunks(4)
            .enumerate()
            .map(|(i, c)| crypt::seal_chunk(&key, &file, i as u32, c))
            .collect();
        let record = BlobRecord {
            flotilla: FlotillaId([1; 16]),
            chunk_size: 4,
            size: 10,
            chunks: sealed.iter().map(|s| *blake3::hash(s).as_bytes()).collect(),
            added_ms: 1,
        };
        let readers = vec![Reader {
            file,
            key: key.clone(),
        }];
        let job = |i: usize, bytes: Vec<u8>| {
            Job::<()>::Store(StoreJob {
                peer: PeerId::random(),
                blob: record.id(),
                index: i as u32,
                hash: record.chunks[i],
                len: record.chunk_len(i as u32),
                offset: i as u64 * 4,
                bytes,
                readers: readers.clone(),
            })
        };
        let mut bad = sealed[1].clone();
        bad[0] ^= 1;
        let Done::Stored { result, .. } = disk.run(job(1, bad)) else {
            panic!("a store job");
        };
        assert_eq!(result.unwrap(), Check::Corrupt);
        // out of order, as several sources send them
        for i in [2, 0, 1] {
            let Done::Stored { result, .. } = disk.run(job(i, sealed[i].clone())) else {
                panic!("a store job");
            };
            assert_eq!(result.unwrap(), Check::Stored);
        }
        let part = part_path(tmp.path(), &file);
        assert_eq!(
            std::fs::read(&part).unwrap(),
            plain,
            "decrypted as they came"
        );
        assert_eq!(disk.finish(&record, &readers).unwrap(), vec![file]);
        assert_eq!(
            std::fs::read(super::super::path_of(tmp.path(), &file)).unwrap(),
            plain
        );
        assert!(!part.exists());
    }

    #[test]
    fn a_wrong_partial_file_is_rebuilt_from_the_chunks() {
        let tmp = tempfile::tempdir().unwrap();
        let disk = Disk::new(tmp.path());
        let plain = b"houle 2 m".to_vec();
        let file = FileId(*blake3::hash(&plain).as_bytes());
        let key = SymmetricKey([5; 32]);
        let sealed = crypt::seal_chunk(&key, &file, 0, &plain);
        let hash = *blake3::hash(&sealed).as_bytes();
        BlobStore::new(tmp.path())
            .put_chunk(&hash, &sealed)
            .unwrap();
        let record = BlobRecord {
            flotilla: FlotillaId([1; 16]),
            chunk_size: 16,
            size: plain.len() as u64,
            chunks: vec![hash],
            added_ms: 1,
        };
        // what a crash between the chunk and its plaintext may leave
        std::fs::write(part_path(tmp.path(), &file), vec![0u8; plain.len()]).unwrap();
        let readers = [Reader { file, key }];
        assert_eq!(disk.finish(&record, &readers).unwrap(), vec![file]);
        assert_eq!(
            std::fs::read(super::super::path_of(tmp.path(), &file)).unwrap(),
            plain
        );
        assert!(!part_path(tmp.path(), &file).exists());
    }

    #[test]
    fn a_full_queue_runs_the_job_on_the_caller() {
        let tmp = tempfile::tempdir().unwrap();
        let (worker, mut done) = Worker::<u32>::spawn(tmp.path());
        let mut inline = 0;
        for i in 0..(JOB_QUEUE + DONE_QUEUE + 8) as u32 {
            let job = Job::Serve {
                hash: [9; 32],
                reply: i,
            };
            if let Some(Done::Served { bytes, .. }) = worker.submit(job) {
                assert!(bytes.is_none());
                inline += 1;
            }
        }
        assert!(inline > 0, "the worker waits on a full result channel");
        let Some(Done::Served { bytes, .. }) = done.blocking_recv() else {
            panic!("a result comes back from the thread");
        };
        assert!(bytes.is_none());
    }
}

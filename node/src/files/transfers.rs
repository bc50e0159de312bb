//! The transfers of one node: every blob it knows (relayed or readable), the chunks each
//! connected peer advertised, and one [`Fetch`] per blob being downloaded. Owned by the
//! actor, which does no chunk disk I/O, hashing or decryption itself: [`Transfers`] hands
//! out the jobs ([`super::worker`]) and takes their outcomes.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use flotilla_protocol as proto;
use libp2p::PeerId;
use proto::chunks::{ChunkSet, Config, Failure, Fetch};
use proto::crypto::SymmetricKey;
use proto::id::{FileId, FlotillaId};

use super::blobs::{BlobId, BlobRecord, BlobStore};
use super::wire::{FilesResponse, HaveEntry, MAX_HAVE_BLOBS, MAX_LIST_CHUNKS};
use super::worker::{Check, Disk, Done, FinishJob, Job, StoreJob};
use crate::Error;

/// The most peers whose "have" sets are remembered (connected peers only, in practice).
pub const MAX_PEER_HAVES: usize = 256;

/// A file this node can read inside a blob.
#[derive(Debug, Clone)]
pub struct Reader {
    /// The file (BLAKE3 of the plaintext).
    pub file: FileId,
    /// Its chunk key.
    pub key: SymmetricKey,
}

/// One blob.
#[derive(Debug)]
pub struct Blob {
    /// What it is.
    pub record: BlobRecord,
    /// The chunks on disk.
    pub have: ChunkSet,
    /// The download, while one runs.
    pub fetch: Option<Fetch<PeerId>>,
    /// Files readable here (none on a relay).
    pub readers: Vec<Reader>,
}

/// What a received chunk did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// Stored; more to come.
    Progress,
    /// Stored, and the blob is complete.
    Complete,
    /// Already had it, or nobody asked.
    Ignored,
    /// Its hash is wrong: the peer is dropped as a source of this blob.
    Corrupt,
}

/// Counters for logs and the transfer test.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Encrypted bytes received and stored.
    pub bytes_in: u64,
    /// Chunks received and stored.
    pub chunks_in: u64,
    /// Chunks served to peers.
    pub chunks_out: u64,
}

/// See the module docs.
#[derive(Debug)]
pub struct Transfers {
    store: BlobStore,
    dir: PathBuf,
    blobs: BTreeMap<BlobId, Blob>,
    peer_haves: HashMap<PeerId, BTreeMap<BlobId, ChunkSet>>,
    config: Config,
    /// Counters.
    pub stats: Stats,
}

impl Transfers {
    /// The transfers of the files directory `dir`: blob records and chunks on disk are
    /// loaded (a download resumes from what reached the disk).
    pub fn load(dir: &Path, config: Config) -> Self {
        let store = BlobStore::new(dir);
        let blobs = store
            .records()
            .into_iter()
            .map(|record| {
                let have = store.have(&record);
                (
                    record.id(),
                    Blob {
                        record,
                        have,
                        fetch: None,
                        readers: Vec::new(),
                    },
                )
            })
            .collect();
        Transfers {
            store,
            dir: dir.to_path_buf(),
            blobs,
            peer_haves: HashMap::new(),
            config,
            stats: Stats::default(),
        }
    }

    /// The chunk store.
    pub fn store(&self) -> &BlobStore {
        &self.store
    }

    /// A blob.
    pub fn blob(&self, id: &BlobId) -> Option<&Blob> {
        self.blobs.get(id)
    }

    /// Every blob.
    pub fn blobs(&self) -> impl Iterator<Item = (&BlobId, &Blob)> {
        self.blobs.iter()
    }

    /// Records a blob (from a manifest, a chunk list, or an upload). True if new.
    ///
    /// # Errors
    /// [`Error::Io`] if its record cannot be written.
    pub fn register(&mut self, record: BlobRecord) -> Result<bool, Error> {
        let id = record.id();
        if self.blobs.contains_key(&id) {
            return Ok(false);
        }
        self.store.put_record(&record)?;
        let have = self.store.have(&record);
        self.blobs.insert(
            id,
            Blob {
                record,
                have,
                fetch: None,
                readers: Vec::new(),
            },
        );
        Ok(true)
    }

    /// This node can read `file` inside `blob`.
    pub fn add_reader(&mut self, blob: &BlobId, file: FileId, key: SymmetricKey) {
        if let Some(b) = self.blobs.get_mut(blob)
            && !b.readers.iter().any(|r| r.file == file)
        {
            b.readers.push(Reader { file, key });
        }
    }

    /// Starts (or keeps) downloading `blob`. False if unknown or complete.
    pub fn want(&mut self, blob: &BlobId) -> bool {
        let Some(b) = self.blobs.get_mut(blob) else {
            return false;
        };
        if b.have.is_full() {
            return false;
        }
        if b.fetch.is_none() {
            // each downloader starts at its own chunk: boats fetching a file at once hold
            // different chunks early and serve each other (any value will do if this fails)
            let mut start = [0u8; 4];
            let _ = getrandom::fill(&mut start);
            let mut fetch =
                Fetch::new(self.config, b.have.clone()).starting_at(u32::from_le_bytes(start));
            for (peer, haves) in &self.peer_haves {
                if let Some(set) = haves.get(blob) {
                    fetch.set_source(*peer, set.clone());
                }
            }
            b.fetch = Some(fetch);
        }
        true
    }

    /// Any download running?
    pub fn active(&self) -> bool {
        self.blobs.values().any(|b| b.fetch.is_some())
    }

    /// A peer advertised chunks. Returns the blobs it holds that this node does not know
    /// (a relay asks their chunk lists).
    pub fn on_have(&mut self, peer: PeerId, entries: Vec<HaveEntry>) -> Vec<BlobId> {
        if !self.peer_haves.contains_key(&peer) && self.peer_haves.len() >= MAX_PEER_HAVES {
            return Vec::new();
        }
        let haves = self.peer_haves.entry(peer).or_default();
        let mut unknown = Vec::new();
        for e in entries.into_iter().take(MAX_HAVE_BLOBS) {
            let Ok(set) = ChunkSet::from_bytes(e.chunks, &e.bits) else {
                continue;
            };
            match self.blobs.get_mut(&e.blob) {
                Some(b) => {
                    if let Some(f) = b.fetch.as_mut() {
                        f.set_source(peer, set.clone());
                    }
                }
                None => unknown.push(e.blob),
            }
            if haves.len() < MAX_HAVE_BLOBS || haves.contains_key(&e.blob) {
                haves.insert(e.blob, set);
            }
        }
        unknown
    }

    /// Peers that advertised `blob` (for the API's source count).
    pub fn holders(&self, blob: &BlobId) -> usize {
        self.peer_haves
            .values()
            .filter(|h| h.get(blob).is_some_and(|s| s.count() > 0))
            .count()
    }

    /// A peer is gone.
    pub fn peer_down(&mut self, peer: &PeerId) {
        self.peer_haves.remove(peer);
        for b in self.blobs.values_mut() {
            if let Some(f) = b.fetch.as_mut() {
                f.peer_down(peer);
            }
        }
    }

    /// The chunk requests to send now: `(peer, flotilla, blob, index)`.
    pub fn next_requests(&mut self, now_ms: u64) -> Vec<(PeerId, FlotillaId, BlobId, u32)> {
        let mut out = Vec::new();
        for (id, b) in &mut self.blobs {
            if let Some(f) = b.fetch.as_mut() {
                f.expire(now_ms);
                for (peer, index) in f.next_requests(now_ms) {
                    out.push((peer, b.record.flotilla, *id, index));
                }
            }
        }
        out
    }

    /// A chunk arrived: the work to check and store it (off the actor: [`worker`]), or
    /// `None` if it is not wanted (unknown blob or index, or already held). Its request
    /// stays in flight until [`Transfers::stored`] is told the outcome.
    pub fn incoming(
        &mut self,
        peer: PeerId,
        blob: &BlobId,
        index: u32,
        bytes: Vec<u8>,
    ) -> Option<StoreJob> {
        let b = self.blobs.get_mut(blob)?;
        let hash = *b.record.chunks.get(index as usize)?;
        if b.have.contains(index) {
            if let Some(f) = b.fetch.as_mut() {
                f.received(&peer, index);
            }
            return None;
        }
        Some(StoreJob {
            peer,
            blob: *blob,
            index,
            hash,
            len: b.record.chunk_len(index),
            offset: u64::from(index) * u64::from(b.record.chunk_size),
            bytes,
            readers: b.readers.clone(),
        })
    }

    /// The outcome of a [`StoreJob`]: counted, and the download plan told.
    pub fn stored(&mut self, peer: PeerId, blob: &BlobId, index: u32, check: Check) -> Received {
        let Some(b) = self.blobs.get_mut(blob) else {
            return Received::Ignored;
        };
        if check == Check::Corrupt {
            if let Some(f) = b.fetch.as_mut() {
                f.failed(&peer, index, Failure::Corrupt);
            }
            return Received::Corrupt;
        }
        if let Some(f) = b.fetch.as_mut() {
            f.received(&peer, index);
        }
        if !b.have.insert(index) {
            return Received::Ignored;
        }
        self.stats.bytes_in += b.record.chunk_len(index);
        self.stats.chunks_in += 1;
        if b.have.is_full() {
            b.fetch = None;
            return Received::Complete;
        }
        Received::Progress
    }

    /// A chunk arrived: checked, stored and counted on the calling thread ([`incoming`],
    /// the worker's job, [`stored`] in one).
    ///
    /// [`incoming`]: Transfers::incoming
    /// [`stored`]: Transfers::stored
    ///
    /// # Errors
    /// [`Error::Io`] if it cannot be stored.
    pub fn on_chunk(
        &mut self,
        peer: PeerId,
        blob: &BlobId,
        index: u32,
        bytes: &[u8],
    ) -> Result<Received, Error> {
        let Some(job) = self.incoming(peer, blob, index, bytes.to_vec()) else {
            return Ok(Received::Ignored);
        };
        match Disk::new(&self.dir).run::<()>(Job::Store(job)) {
            Done::Stored { result, .. } => Ok(self.stored(peer, blob, index, result?)),
            _ => Ok(Received::Ignored),
        }
    }

    /// A chunk request failed.
    pub fn on_chunk_failed(&mut self, peer: &PeerId, blob: &BlobId, index: u32, why: Failure) {
        if let Some(f) = self.blobs.get_mut(blob).and_then(|b| b.fetch.as_mut()) {
            f.failed(peer, index, why);
        }
    }

    /// The hash of chunk `index` of `blob` if this node holds it and `flotilla` may have it
    /// (the worker reads it: [`Job::Serve`]).
    pub fn serve_hash(&self, flotilla: &FlotillaId, blob: &BlobId, index: u32) -> Option<[u8; 32]> {
        self.blobs
            .get(blob)
            .filter(|b| b.record.flotilla == *flotilla && b.have.contains(index))
            .and_then(|b| b.record.chunks.get(index as usize))
            .copied()
    }

    /// The answer to a chunk request, once its bytes were read (counted if served).
    pub fn served(&mut self, bytes: Option<Vec<u8>>) -> FilesResponse {
        match bytes {
            Some(bytes) => {
                self.stats.chunks_out += 1;
                FilesResponse::Chunk(bytes)
            }
            None => FilesResponse::NotHere,
        }
    }

    /// The answer to a chunk request from a member of `flotilla`, read on the calling
    /// thread.
    pub fn serve_chunk(
        &mut self,
        flotilla: &FlotillaId,
        blob: &BlobId,
        index: u32,
    ) -> FilesResponse {
        let bytes = self
            .serve_hash(flotilla, blob, index)
            .and_then(|h| self.store.chunk(&h));
        self.served(bytes)
    }

    /// The answer to a chunk-list request from a member of `flotilla`.
    pub fn serve_list(&self, flotilla: &FlotillaId, blob: &BlobId) -> FilesResponse {
        match self.blobs.get(blob) {
            Some(b) if b.record.flotilla == *flotilla => FilesResponse::ChunkList {
                chunk_size: b.record.chunk_size,
                size: b.record.size,
                chunks: b.record.chunks.clone(),
            },
            _ => FilesResponse::NotHere,
        }
    }

    /// A chunk list a peer sent for `blob`: recorded if it hashes to the blob id.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn on_list(
        &mut self,
        flotilla: FlotillaId,
        blob: &BlobId,
        chunk_size: u32,
        size: u64,
        chunks: Vec<[u8; 32]>,
        now_ms: u64,
    ) -> Result<bool, Error> {
        if chunks.len() > MAX_LIST_CHUNKS
            || proto::chunks::blob_id(chunk_size, size, &chunks) != *blob
            || chunk_size == 0
            || size.div_ceil(u64::from(chunk_size)) != chunks.len() as u64
        {
            return Ok(false);
        }
        self.register(BlobRecord {
            flotilla,
            chunk_size,
            size,
            chunks,
            added_ms: now_ms,
        })
    }

    /// What this node holds in `flotilla`, newest first, for a `Have` message (only `blob`
    /// if given).
    pub fn have_entries(&self, flotilla: &FlotillaId, only: Option<&BlobId>) -> Vec<HaveEntry> {
        let mut list: Vec<(&BlobId, &Blob)> = self
            .blobs
            .iter()
            .filter(|(id, b)| {
                b.record.flotilla == *flotilla
                    && b.have.count() > 0
                    && only.is_none_or(|o| o == *id)
            })
            .collect();
        list.sort_by_key(|(_, b)| std::cmp::Reverse(b.record.added_ms));
        list.into_iter()
            .take(MAX_HAVE_BLOBS)
            .map(|(id, b)| HaveEntry {
                blob: *id,
                chunks: b.have.len(),
                bits: b.have.as_bytes().to_vec(),
            })
            .collect()
    }

    /// The work to turn a complete blob into its readers' plaintext files (off the actor:
    /// [`Job::Finish`]); `None` if unknown.
    pub fn finish_job(&self, blob: &BlobId) -> Option<FinishJob> {
        self.blobs.get(blob).map(|b| FinishJob {
            blob: *blob,
            record: b.record.clone(),
            readers: b.readers.clone(),
        })
    }

    /// Decrypts a complete blob into `files/<file id>` for every reader, on the calling
    /// thread; checks the plaintext hash. Returns the files written.
    ///
    /// # Errors
    /// [`Error::Io`], or [`Error::Invalid`] if a chunk does not open or the plaintext
    /// does not hash to the file id.
    pub fn assemble(&self, blob: &BlobId) -> Result<Vec<FileId>, Error> {
        match self.finish_job(blob) {
            Some(job) => Disk::new(&self.dir).finish(&job.record, &job.readers),
            None => Ok(Vec::new()),
        }
    }

    /// Removes a blob's chunks (those no other blob lists), its record and its plaintext
    /// files (eviction).
    pub fn evict(&mut self, blob: &BlobId) {
        let Some(b) = self.blobs.remove(blob) else {
            return;
        };
        for h in &b.record.chunks {
            let shared = self.blobs.values().any(|o| o.record.chunks.contains(h));
            if !shared {
                self.store.remove_chunk(h);
            }
        }
        for r in &b.readers {
            // either may be absent
            let _ = std::fs::remove_file(super::path_of(&self.dir, &r.file));
            let _ = std::fs::remove_file(super::worker::part_path(&self.dir, &r.file));
        }
        self.store.remove_record(blob);
        if b.readers.is_empty() {
            return; // a relayed blob is forgotten; a peer's "have" may bring it back
        }
        // the manifest stays: the file can be fetched again, so the blob stays known
        if let Err(e) = self.store.put_record(&b.record) {
            tracing::warn!(%e, "cannot keep the record of an evicted blob");
        }
        self.blobs.insert(
            *blob,
            Blob {
                have: ChunkSet::empty(b.record.len()),
                record: b.record,
                fetch: None,
                readers: b.readers,
            },
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::crypt;
    use super::*;

    fn record(key: &SymmetricKey, file: &FileId, plain: &[u8], store: &BlobStore) -> BlobRecord {
        let chunks = plain
            .chunks(4)
            .enumerate()
            .map(|(i, c)| {
                let sealed = crypt::seal_chunk(key, file, i as u32, c);
                let h = *blake3::hash(&sealed).as_bytes();
                store.put_chunk(&h, &sealed).unwrap();
                h
            })
            .collect();
        BlobRecord {
            flotilla: FlotillaId([1; 16]),
            chunk_size: 4,
            size: plain.len() as u64,
            chunks,
            added_ms: 1,
        }
    }

    #[test]
    fn a_blob_travels_verified_is_assembled_and_evicted() {
        let (src, dst) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let plain = b"vent d'ouest 25 noeuds".to_vec();
        let file = FileId(*blake3::hash(&plain).as_bytes());
        let key = SymmetricKey([3; 32]);
        let rec = record(&key, &file, &plain, &BlobStore::new(src.path()));
        let blob = rec.id();
        let mut a = Transfers::load(src.path(), Config::default());
        assert_eq!(a.blob(&blob).map(|b| b.have.count()), None, "no record yet");
        assert!(a.register(rec.clone()).unwrap());
        let mut b = Transfers::load(dst.path(), Config::default());
        b.register(rec.clone()).unwrap();
        b.add_reader(&blob, file, key.clone());
        assert!(b.want(&blob));
        let peer = PeerId::random();
        let entries = a.have_entries(&FlotillaId([1; 16]), None);
        assert!(b.on_have(peer, entries).is_empty());
        let mut done = false;
        for _ in 0..10 {
            for (p, f, id, index) in b.next_requests(0) {
                let FilesResponse::Chunk(bytes) = a.serve_chunk(&f, &id, index) else {
                    panic!("served");
                };
                let mut bad = bytes.clone();
                bad[0] ^= 1;
                assert_eq!(
                    b.on_chunk(PeerId::random(), &id, index, &bad).unwrap(),
                    Received::Corrupt
                );
                done |= b.on_chunk(p, &id, index, &bytes).unwrap() == Received::Complete;
            }
        }
        assert!(done);
        assert_eq!(b.assemble(&blob).unwrap(), vec![file]);
        assert_eq!(
            std::fs::read(super::super::path_of(dst.path(), &file)).unwrap(),
            plain
        );
        assert!(matches!(
            a.serve_chunk(&FlotillaId([2; 16]), &blob, 0),
            FilesResponse::NotHere
        ));
        b.evict(&blob);
        assert_eq!(b.blob(&blob).map(|x| x.have.count()), Some(0));
        assert!(!super::super::path_of(dst.path(), &file).exists());
        let again = Transfers::load(dst.path(), Config::default());
        assert!(
            again.blob(&blob).is_some(),
            "the record stays for a readable file"
        );
    }
}

//! The file service inside the actor: indexes manifests, decides what to fetch (policy),
//! runs the chunk protocol over request-response ([`crate::files::wire`]), assembles and
//! previews complete files, enforces the storage budget, answers [`FileCommand`]s.
//!
//! Hooks elsewhere in the actor are one line each: manifests accepted (`cache.rs`), peers
//! up and down, requests and responses (`peers.rs`), the `Files` timer, the command.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use flotilla_protocol as proto;
use libp2p::PeerId;
use libp2p::request_response::{InboundRequestId, OutboundRequestId, ResponseChannel};
use proto::chunks::Failure;
use proto::id::{ChannelId, EventId, FileId, FlotillaId};

use super::{Actor, Timer, now_ms};
use crate::Error;
use crate::files::blobs::{BlobId, BlobRecord};
use crate::files::command::FileCommand;
use crate::files::grib::{self, GribSummary};
use crate::files::transfers::{Received, Transfers};
use crate::files::wire::{FilesRequest, FilesResponse, HaveEntry};
use crate::files::worker::{Check, Done, Job, Worker};
use crate::files::{FileState, FileStatus, budget, crypt, policy, weather};
use crate::handle::views::FileInfo;
use crate::handle::{Acting, Event};
use crate::net::{self, Timeouts, codec};

/// How often the service looks at running downloads (timeouts, new requests).
const TICK: Duration = Duration::from_millis(250);
/// A partial "have" is re-advertised every this many chunks (so other downloaders can use
/// this boat as a source before it has everything).
const HAVE_EVERY: u32 = 4;
/// The most chunk lists asked for after one `Have` (a relay learns new blobs gradually).
const MAX_LIST_ASKS: usize = 16;
/// The most GRIB previews kept in memory.
const MAX_PREVIEWS: usize = 4096;
/// Chunk answers waiting, per peer, while another one to that peer is being sent (beyond,
/// they are sent at once, side by side).
const MAX_SERVE_QUEUE: usize = 32;

/// A manifest as the file service needs it (kept by the fold cache).
#[derive(Debug, Clone)]
pub(super) struct ManifestRef {
    pub(super) channel: ChannelId,
    pub(super) key_id: EventId,
    pub(super) chunk_size: u32,
    pub(super) size: u64,
    pub(super) chunks: Vec<[u8; 32]>,
    pub(super) name: String,
    pub(super) mime: String,
}

/// What a files request in flight asked.
#[derive(Debug, Clone, Copy)]
enum Pending {
    Chunk {
        peer: PeerId,
        blob: BlobId,
        index: u32,
    },
    List {
        flotilla: FlotillaId,
        blob: BlobId,
    },
    Have {
        peer: PeerId,
        flotilla: FlotillaId,
    },
}

/// Where the answer to a chunk request goes once the worker has read the chunk.
#[derive(Debug)]
pub(super) struct Reply {
    peer: PeerId,
    id: InboundRequestId,
    channel: ResponseChannel<codec::Response>,
    /// One of the peer's answers sent one after the other (see [`Serving`]).
    serial: bool,
}

/// The chunk answers to one peer: **one at a time**, each started as soon as the one before
/// it has been written out (`ResponseSent`). Answers sent side by side would share the link
/// and all end together, so the asker's next requests would find the link idle (a gap of a
/// round trip for every few chunks); one at a time, a chunk lands every 1/rate and the
/// asker's next request arrives while the sender still has queued answers, and the first
/// whole chunk comes after one chunk's time instead of four.
#[derive(Debug, Default)]
struct Serving {
    /// The answer being written, once handed to the swarm (`None`: being read).
    current: Option<InboundRequestId>,
    /// Chunks to send next, at most [`MAX_SERVE_QUEUE`].
    queue: VecDeque<([u8; 32], Reply)>,
}

/// The file service's state (one field of the actor).
#[derive(Debug)]
pub(super) struct FileService {
    transfers: Transfers,
    /// Chunk disk I/O, hashing and decryption, off the actor.
    io: Worker<Reply>,
    /// What the worker finished (the actor selects on it).
    pub(super) done: tokio::sync::mpsc::Receiver<Done<Reply>>,
    /// Chunk answers per peer (see [`Serving`]).
    serving: HashMap<PeerId, Serving>,
    requests: HashMap<OutboundRequestId, Pending>,
    /// Indexed manifests: file → its flotilla and blob.
    by_file: BTreeMap<FileId, (FlotillaId, BlobId)>,
    previews: BTreeMap<FileId, Arc<Result<GribSummary, String>>>,
    ticking: bool,
    since_have: BTreeMap<BlobId, u32>,
    /// (peer, flotilla) pairs that exchanged "have" sets on the current connection.
    exchanged: std::collections::HashSet<(PeerId, FlotillaId)>,
}

impl FileService {
    pub(super) fn load(att: &crate::files::Attachments, t: &Timeouts) -> Self {
        let config = proto::chunks::Config {
            timeout_ms: u64::try_from(t.request.as_millis()).unwrap_or(u64::MAX),
            ..proto::chunks::Config::default()
        };
        let (io, done) = Worker::spawn(&att.dir);
        FileService {
            transfers: Transfers::load(&att.dir, config),
            io,
            done,
            serving: HashMap::new(),
            requests: HashMap::new(),
            by_file: BTreeMap::new(),
            previews: BTreeMap::new(),
            ticking: false,
            since_have: BTreeMap::new(),
            exchanged: std::collections::HashSet::new(),
        }
    }
}

impl Actor {
    /// Indexes the flotilla's manifests not seen yet: records their blobs, learns their
    /// keys, fetches what the policy says.
    pub(super) fn files_index(&mut self, flotilla: &FlotillaId) {
        if self.refresh_fold(flotilla).is_err() {
            return;
        }
        let Ok(fold) = self.fold_of(flotilla) else {
            return;
        };
        let new: Vec<(FileId, ManifestRef)> = fold
            .manifests
            .iter()
            .filter(|(f, _)| !self.fsvc.by_file.contains_key(f))
            .map(|(f, m)| (*f, m.clone()))
            .collect();
        for (file, m) in new {
            self.index_manifest(*flotilla, file, &m);
        }
    }

    fn index_manifest(&mut self, flotilla: FlotillaId, file: FileId, m: &ManifestRef) {
        let record = BlobRecord {
            flotilla,
            chunk_size: m.chunk_size,
            size: m.size,
            chunks: m.chunks.clone(),
            added_ms: now_ms(),
        };
        let blob = record.id();
        if let Err(e) = self.fsvc.transfers.register(record) {
            tracing::warn!(%e, "cannot record a blob");
            return;
        }
        if let Some(group) = self.state.keyring(&flotilla).and_then(|k| k.get(&m.key_id)) {
            let ck = crypt::channel_files_key(group, &flotilla, &m.channel);
            let key = crypt::file_key(&ck, &file);
            self.fsvc.transfers.add_reader(&blob, file, key);
        }
        self.fsvc.by_file.insert(file, (flotilla, blob));
        self.restate(&flotilla, &file);
        let complete = self
            .fsvc
            .transfers
            .blob(&blob)
            .is_some_and(|b| b.have.is_full());
        if complete {
            self.files_complete(&blob);
        } else {
            let weather = policy::is_weather_name(&m.name, &m.mime);
            let att = &self.files;
            if policy::auto_fetch(att.profile, m.size, weather, att.auto_fetch_max_bytes) {
                self.files_want(&blob);
                self.restate(&flotilla, &file);
            }
        }
    }

    fn files_want(&mut self, blob: &BlobId) {
        if self.fsvc.transfers.want(blob) {
            self.files_pump();
        }
    }

    /// A member is in reach (called whenever its welcome is confirmed): the first time per
    /// connection and shared flotilla, tell it what this node holds; it answers with its set.
    pub(super) fn files_peer_up(&mut self, peer: PeerId) {
        let Some(key) = net::node_key(&peer) else {
            return;
        };
        let shared: Vec<FlotillaId> = self
            .state
            .flotillas()
            .filter(|f| self.state.may_sync(f, &key))
            .filter(|f| !self.fsvc.exchanged.contains(&(peer, **f)))
            .copied()
            .collect();
        for flotilla in shared {
            self.fsvc.exchanged.insert((peer, flotilla));
            self.files_index(&flotilla);
            let blobs = self.fsvc.transfers.have_entries(&flotilla, None);
            let pending = Pending::Have { peer, flotilla };
            self.files_send(peer, FilesRequest::Have { flotilla, blobs }, pending);
        }
    }

    /// A peer's last connection closed.
    pub(super) fn files_peer_down(&mut self, peer: &PeerId) {
        self.fsvc.exchanged.retain(|(p, _)| p != peer);
        self.fsvc.serving.remove(peer);
        self.fsvc.transfers.peer_down(peer);
        self.files_pump();
    }

    fn files_send(&mut self, peer: PeerId, req: FilesRequest, pending: Pending) {
        if !self.swarm.is_connected(&peer) {
            return;
        }
        let id = self
            .swarm
            .behaviour_mut()
            .sync
            .send_request(&peer, codec::Request::Files(req));
        self.fsvc.requests.insert(id, pending);
    }

    /// Tells every connected member of `flotilla` what this node holds of `blob`.
    fn files_advertise(&mut self, flotilla: FlotillaId, blob: &BlobId) {
        let blobs = self.fsvc.transfers.have_entries(&flotilla, Some(blob));
        if blobs.is_empty() {
            return;
        }
        let peers: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(p, e)| {
                e.connections > 0
                    && net::node_key(p).is_some_and(|k| self.state.may_sync(&flotilla, &k))
            })
            .map(|(p, _)| *p)
            .collect();
        for peer in peers {
            let req = FilesRequest::Have {
                flotilla,
                blobs: blobs.clone(),
            };
            self.files_send(peer, req, Pending::Have { peer, flotilla });
        }
    }

    /// A request from a peer, always answered (`NotHere` for outsiders): at once, or for
    /// a chunk once the worker has read it.
    pub(super) fn on_files_request(
        &mut self,
        peer: PeerId,
        id: InboundRequestId,
        req: FilesRequest,
        channel: ResponseChannel<codec::Response>,
    ) {
        let reply = Reply {
            peer,
            id,
            channel,
            serial: false,
        };
        let flotilla = req.flotilla();
        let member = net::node_key(&peer).is_some_and(|k| self.state.may_sync(&flotilla, &k));
        if !member || !req.in_bounds() {
            self.files_reply(reply, FilesResponse::NotHere);
            return;
        }
        let answer = match req {
            FilesRequest::Have { blobs, .. } => {
                self.fsvc.exchanged.insert((peer, flotilla));
                self.on_peer_have(peer, flotilla, blobs);
                FilesResponse::Have(self.fsvc.transfers.have_entries(&flotilla, None))
            }
            FilesRequest::ChunkList { blob, .. } => {
                self.fsvc.transfers.serve_list(&flotilla, &blob)
            }
            FilesRequest::Chunk { blob, index, .. } => {
                match self.fsvc.transfers.serve_hash(&flotilla, &blob, index) {
                    Some(hash) => return self.files_serve(hash, reply),
                    None => FilesResponse::NotHere,
                }
            }
        };
        self.files_reply(reply, answer);
    }

    /// Reads chunk `hash` for `reply` now, or after the answers to that peer before it.
    fn files_serve(&mut self, hash: [u8; 32], mut reply: Reply) {
        match self.fsvc.serving.get_mut(&reply.peer) {
            Some(s) if s.queue.len() < MAX_SERVE_QUEUE => {
                reply.serial = true;
                s.queue.push_back((hash, reply));
                return;
            }
            Some(_) => {} // over the bound: sent side by side
            None => {
                self.fsvc.serving.insert(reply.peer, Serving::default());
                reply.serial = true;
            }
        }
        if let Some(done) = self.fsvc.io.submit(Job::Serve { hash, reply }) {
            self.on_files_done(done);
        }
    }

    /// An answer to `peer` is written out (or failed): the next queued chunk goes.
    pub(super) fn on_files_response_sent(&mut self, peer: PeerId, id: InboundRequestId) {
        let Some(s) = self.fsvc.serving.get_mut(&peer) else {
            return;
        };
        if s.current == Some(id) {
            self.files_serve_next(peer);
        }
    }

    fn files_serve_next(&mut self, peer: PeerId) {
        let next = self.fsvc.serving.get_mut(&peer).and_then(|s| {
            s.current = None;
            s.queue.pop_front()
        });
        match next {
            Some((hash, reply)) => {
                if let Some(done) = self.fsvc.io.submit(Job::Serve { hash, reply }) {
                    self.on_files_done(done);
                }
            }
            None => {
                self.fsvc.serving.remove(&peer);
            }
        }
    }

    fn files_reply(&mut self, reply: Reply, answer: FilesResponse) {
        let (peer, id, serial) = (reply.peer, reply.id, reply.serial);
        let sent = self
            .swarm
            .behaviour_mut()
            .sync
            .send_response(reply.channel, codec::Response::Files(answer));
        if !serial {
            return;
        }
        match (sent, self.fsvc.serving.get_mut(&peer)) {
            (Ok(()), Some(s)) => s.current = Some(id),
            (Ok(()), None) => {}
            // the peer is gone: its other answers cannot go either, but they are dropped
            // with its state when the connection closes; go on meanwhile
            (Err(_), _) => self.files_serve_next(peer),
        }
    }

    /// A job of the worker is done.
    pub(super) fn on_files_done(&mut self, done: Done<Reply>) {
        match done {
            Done::Served { bytes, reply } => {
                let answer = self.fsvc.transfers.served(bytes);
                self.files_reply(reply, answer);
            }
            Done::Stored {
                peer,
                blob,
                index,
                result,
            } => {
                self.on_chunk_stored(peer, blob, index, result);
                self.files_pump();
            }
            Done::Finished { blob, result } => self.on_files_finished(&blob, result),
        }
    }

    /// An answer to one of our files requests.
    pub(super) fn on_files_response(&mut self, id: OutboundRequestId, res: FilesResponse) {
        match self.fsvc.requests.remove(&id) {
            Some(Pending::Chunk { peer, blob, index }) => {
                self.on_chunk_answer(peer, blob, index, res)
            }
            Some(Pending::List { flotilla, blob }) => {
                if let FilesResponse::ChunkList {
                    chunk_size,
                    size,
                    chunks,
                } = res
                {
                    self.on_chunk_list(flotilla, blob, chunk_size, size, chunks);
                }
            }
            Some(Pending::Have { peer, flotilla }) => match res {
                FilesResponse::Have(blobs) => self.on_peer_have(peer, flotilla, blobs),
                // not a member yet as the peer sees it: exchange again when it says so
                _ => {
                    self.fsvc.exchanged.remove(&(peer, flotilla));
                }
            },
            None => {}
        }
        self.files_pump();
    }

    /// A member's "have" set: sources for running downloads; blobs this node does not know
    /// are asked for their chunk lists (relaying).
    fn on_peer_have(&mut self, peer: PeerId, flotilla: FlotillaId, blobs: Vec<HaveEntry>) {
        if blobs.len() > crate::files::wire::MAX_HAVE_BLOBS {
            return;
        }
        let unknown = self.fsvc.transfers.on_have(peer, blobs);
        for blob in unknown.into_iter().take(MAX_LIST_ASKS) {
            let ask = FilesRequest::ChunkList { flotilla, blob };
            self.files_send(peer, ask, Pending::List { flotilla, blob });
        }
        self.files_pump();
    }

    /// A files request failed (timeout, connection closed). True if it was one.
    pub(super) fn on_files_failed(&mut self, id: OutboundRequestId) -> bool {
        match self.fsvc.requests.remove(&id) {
            Some(Pending::Chunk { peer, blob, index }) => {
                self.fsvc
                    .transfers
                    .on_chunk_failed(&peer, &blob, index, Failure::Timeout);
                self.files_pump();
                true
            }
            Some(_) => true,
            None => false,
        }
    }

    fn on_chunk_list(
        &mut self,
        flotilla: FlotillaId,
        blob: BlobId,
        chunk_size: u32,
        size: u64,
        chunks: Vec<[u8; 32]>,
    ) {
        let added =
            self.fsvc
                .transfers
                .on_list(flotilla, &blob, chunk_size, size, chunks, now_ms());
        match added {
            Ok(true) => {
                // a relay cannot tell a forecast from other files: size decides on HaLow
                let att = &self.files;
                if policy::auto_fetch(att.profile, size, false, att.auto_fetch_max_bytes) {
                    self.fsvc.transfers.want(&blob);
                }
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(%e, "cannot record a relayed blob"),
        }
    }

    fn on_chunk_answer(&mut self, peer: PeerId, blob: BlobId, index: u32, res: FilesResponse) {
        let FilesResponse::Chunk(bytes) = res else {
            self.fsvc
                .transfers
                .on_chunk_failed(&peer, &blob, index, Failure::Missing);
            return;
        };
        let Some(job) = self.fsvc.transfers.incoming(peer, &blob, index, bytes) else {
            return;
        };
        if let Some(done) = self.fsvc.io.submit(Job::Store(job)) {
            self.on_files_done(done);
        }
    }

    /// The worker checked and stored a chunk (or could not).
    fn on_chunk_stored(
        &mut self,
        peer: PeerId,
        blob: BlobId,
        index: u32,
        result: Result<Check, Error>,
    ) {
        let received = result.map(|c| self.fsvc.transfers.stored(peer, &blob, index, c));
        match received {
            Ok(Received::Complete) => self.files_complete(&blob),
            Ok(Received::Progress) => {
                let n = self.fsvc.since_have.entry(blob).or_default();
                *n += 1;
                if *n >= HAVE_EVERY {
                    self.fsvc.since_have.remove(&blob);
                    if let Some(f) = self.fsvc.transfers.blob(&blob).map(|b| b.record.flotilla) {
                        self.files_advertise(f, &blob);
                    }
                }
                self.files_changed(&blob);
            }
            Ok(Received::Corrupt) => {
                tracing::warn!(%peer, index, "a peer sent a chunk that does not match its hash");
            }
            Ok(Received::Ignored) => {}
            Err(e) => {
                tracing::warn!(%e, "cannot store a chunk");
                self.fsvc
                    .transfers
                    .on_chunk_failed(&peer, &blob, index, Failure::Timeout);
            }
        }
    }

    /// A blob is complete: advertised at once (serving needs no plaintext); the worker
    /// finishes the files this node can read ([`Job::Finish`]), then
    /// [`Actor::on_files_finished`].
    fn files_complete(&mut self, blob: &BlobId) {
        self.fsvc.since_have.remove(blob);
        if let Some(f) = self.fsvc.transfers.blob(blob).map(|b| b.record.flotilla) {
            self.files_advertise(f, blob);
        }
        let Some(job) = self.fsvc.transfers.finish_job(blob) else {
            return;
        };
        if let Some(done) = self.fsvc.io.submit(Job::Finish(job)) {
            self.on_files_done(done);
        }
    }

    /// A complete blob's files are written (or failed): preview GRIBs, apply the budget,
    /// tell subscribers.
    fn on_files_finished(&mut self, blob: &BlobId, result: Result<Vec<FileId>, Error>) {
        match result {
            Ok(files) => {
                for file in files {
                    self.preview(&file);
                }
            }
            Err(e) => tracing::warn!(%e, "cannot assemble a file"),
        }
        if let Some(f) = self.fsvc.transfers.blob(blob).map(|b| b.record.flotilla) {
            self.files_budget(&f);
        }
        self.files_changed(blob);
    }

    fn preview(&mut self, file: &FileId) -> Option<Arc<Result<GribSummary, String>>> {
        if let Some(p) = self.fsvc.previews.get(file) {
            return Some(p.clone());
        }
        let path = crate::files::path_of(&self.files.dir, file);
        let mut head = [0u8; 1024];
        let n = {
            use std::io::Read;
            let mut f = std::fs::File::open(&path).ok()?;
            f.read(&mut head).ok()?
        };
        if !grib::looks_like_grib(&head[..n]) {
            return None;
        }
        let bytes = std::fs::read(&path).ok()?;
        let summary = Arc::new(grib::summarize(&bytes).map_err(|e| e.to_string()));
        if self.fsvc.previews.len() < MAX_PREVIEWS {
            self.fsvc.previews.insert(*file, summary.clone());
        }
        Some(summary)
    }

    /// A blob's state changed: the fold's copies of its files' states are refreshed (post
    /// views carry them) and subscribers told.
    fn files_changed(&mut self, blob: &BlobId) {
        let files: Vec<(FileId, FlotillaId)> = self
            .fsvc
            .by_file
            .iter()
            .filter(|(_, (_, b))| b == blob)
            .map(|(file, (flotilla, _))| (*file, *flotilla))
            .collect();
        for (file, flotilla) in files {
            self.restate(&flotilla, &file);
            self.emit(Event::FileChanged { flotilla, file });
        }
    }

    /// Writes `file`'s current state into the fold (what post views show).
    fn restate(&mut self, flotilla: &FlotillaId, file: &FileId) {
        let state = self.file_state(file);
        if let Some(f) = self.folded_mut(flotilla)
            && let Some((_, info)) = f.files.get_mut(file)
        {
            info.state = state;
        }
    }

    /// After a fold rebuild: every indexed file's state into it.
    pub(super) fn files_restate_all(&mut self, flotilla: &FlotillaId) {
        let files: Vec<FileId> = self
            .fsvc
            .by_file
            .iter()
            .filter(|(_, (f, _))| f == flotilla)
            .map(|(file, _)| *file)
            .collect();
        for file in files {
            self.restate(flotilla, &file);
        }
    }

    /// Sends the next chunk requests; keeps the tick running while downloads do.
    fn files_pump(&mut self) {
        for (peer, flotilla, blob, index) in self.fsvc.transfers.next_requests(now_ms()) {
            if self.swarm.is_connected(&peer) {
                let req = FilesRequest::Chunk {
                    flotilla,
                    blob,
                    index,
                };
                self.files_send(peer, req, Pending::Chunk { peer, blob, index });
            } else {
                self.fsvc.transfers.peer_down(&peer);
            }
        }
        if self.fsvc.transfers.active() && !self.fsvc.ticking {
            self.fsvc.ticking = true;
            self.timers.set(TICK, Timer::Files);
        }
    }

    pub(super) fn on_files_tick(&mut self) {
        self.fsvc.ticking = false;
        self.files_pump();
    }

    /// Evicts the oldest blobs of `flotilla` over its budget (see [`budget`]).
    fn files_budget(&mut self, flotilla: &FlotillaId) {
        let newest: Vec<FileId> = self
            .forecasts(flotilla, None)
            .into_iter()
            .filter(|f| !f.superseded)
            .map(|f| f.file)
            .collect();
        let pinned = self.pinned_files(flotilla);
        let entries: Vec<budget::Entry> = self
            .fsvc
            .transfers
            .blobs()
            .filter(|(_, b)| b.record.flotilla == *flotilla && b.have.count() > 0)
            .map(|(id, b)| budget::Entry {
                blob: *id,
                bytes: b.have.count() as u64 * u64::from(b.record.chunk_size),
                added_ms: b.record.added_ms,
                keep: b.fetch.is_some()
                    || b.readers
                        .iter()
                        .any(|r| newest.contains(&r.file) || pinned.contains(&r.file)),
            })
            .collect();
        for blob in budget::evict(&entries, self.files.budget_bytes) {
            tracing::info!(blob = %hex8(&blob), "storage budget: evicting a blob");
            self.fsvc.transfers.evict(&blob);
            self.files_changed(&blob);
        }
    }

    /// Files attached to pinned posts of `flotilla` (never evicted).
    fn pinned_files(&mut self, flotilla: &FlotillaId) -> Vec<FileId> {
        // Every channel's pins: a fold may hold only the channels viewed so far.
        if self.refresh_fold(flotilla).is_err() {
            return Vec::new();
        }
        let (Ok(fold), Ok(auth)) = (self.fold_of(flotilla), self.auth(flotilla)) else {
            return Vec::new();
        };
        let channels: std::collections::BTreeSet<ChannelId> =
            fold.files.values().map(|(ch, _)| *ch).collect();
        channels
            .iter()
            .flat_map(|ch| fold.chat.pins(auth, ch))
            .flat_map(|p| p.files)
            .collect()
    }

    /// The state of `file` on this boat.
    fn file_state(&mut self, file: &FileId) -> FileState {
        let Some((_, blob)) = self.fsvc.by_file.get(file).copied() else {
            return FileState::default();
        };
        let available = crate::files::path_of(&self.files.dir, file).is_file();
        let holders = u32::try_from(self.fsvc.transfers.holders(&blob)).unwrap_or(u32::MAX);
        let grib = if available { self.preview(file) } else { None };
        let Some(b) = self.fsvc.transfers.blob(&blob) else {
            return FileState::default();
        };
        let permille = if b.have.is_empty() {
            1000
        } else {
            u16::try_from(u64::from(b.have.count()) * 1000 / u64::from(b.have.len())).unwrap_or(0)
        };
        let status = match (&b.fetch, available) {
            (_, true) => FileStatus::Available,
            (Some(f), false) if f.in_flight() > 0 || f.useful_sources() > 0 => FileStatus::Fetching,
            (Some(_), false) => FileStatus::Waiting,
            (None, false) => FileStatus::OnDemand,
        };
        FileState {
            status,
            progress_permille: permille,
            sources: holders + u32::from(available),
            grib,
        }
    }

    pub(super) fn with_state(&mut self, mut info: FileInfo) -> FileInfo {
        info.state = self.file_state(&info.id);
        info
    }

    /// The forecasts of `flotilla` (readable by `reader` if given), grouped by area.
    fn forecasts(
        &mut self,
        flotilla: &FlotillaId,
        reader: Option<&proto::PublicKey>,
    ) -> Vec<weather::Forecast> {
        if self.refresh_fold(flotilla).is_err() {
            return Vec::new();
        }
        let files: Vec<(FileId, ChannelId, String)> = match self.fold_of(flotilla) {
            Ok(fold) => fold
                .files
                .iter()
                .map(|(id, (ch, info))| (*id, *ch, info.name.clone()))
                .collect(),
            Err(_) => return Vec::new(),
        };
        let mut items = Vec::new();
        for (id, channel, name) in files {
            if let Some(me) = reader
                && self.readable(flotilla, &channel, me).is_err()
            {
                continue;
            }
            if let Some(p) = self.preview(&id)
                && let Ok(s) = p.as_ref()
            {
                items.push((id, name, Arc::new(s.clone())));
            }
        }
        weather::group(items)
    }

    /// A command of the file service.
    pub(super) fn on_file_command(&mut self, cmd: FileCommand) {
        match cmd {
            FileCommand::Info { who, file, reply } => {
                let _ = reply.send(self.file_info(&who, &file));
            }
            FileCommand::List { who, reply } => {
                let _ = reply.send(self.file_list(&who));
            }
            FileCommand::Fetch { who, file, reply } => {
                let res = self.file_info(&who, &file).map(|info| {
                    if let Some((_, blob)) = self.fsvc.by_file.get(&file).copied() {
                        self.files_want(&blob);
                    }
                    self.with_state(info)
                });
                let _ = reply.send(res);
            }
            FileCommand::Weather { who, reply } => {
                let res = self.acting(&who).map(|k| k.public()).map(|me| {
                    self.files_index(&who.flotilla);
                    self.forecasts(&who.flotilla, Some(&me))
                });
                let _ = reply.send(res);
            }
            FileCommand::Stats { reply } => {
                let _ = reply.send(Ok(self.fsvc.transfers.stats));
            }
        }
    }

    fn file_info(&mut self, who: &Acting, file: &FileId) -> Result<FileInfo, Error> {
        let me = self.acting(who)?.public();
        self.files_index(&who.flotilla);
        let (channel, info) = self
            .fold_of(&who.flotilla)?
            .files
            .get(file)
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("file {}", file.fmt_short())))?;
        self.readable(&who.flotilla, &channel, &me)?;
        Ok(self.with_state(info))
    }

    fn file_list(&mut self, who: &Acting) -> Result<Vec<FileInfo>, Error> {
        let me = self.acting(who)?.public();
        self.files_index(&who.flotilla);
        let files: Vec<(ChannelId, FileInfo)> = self
            .fold_of(&who.flotilla)?
            .files
            .values()
            .cloned()
            .collect();
        let mut out = Vec::new();
        for (channel, info) in files {
            if self.readable(&who.flotilla, &channel, &me).is_ok() {
                out.push(self.with_state(info));
            }
        }
        Ok(out)
    }

    /// The files key of `channel` now, and its key id (for an upload).
    pub(super) fn channel_files_key(
        &self,
        flotilla: &FlotillaId,
        channel: &ChannelId,
    ) -> Result<(proto::crypto::SymmetricKey, EventId), Error> {
        let not_ready = || Error::NotFound("the channel's key".into());
        let state = self.state.ledger(flotilla).ok_or_else(not_ready)?.state();
        let ch = state.channels.get(channel).ok_or_else(not_ready)?;
        let key_id = if ch.private {
            ch.keys.last().copied()
        } else {
            state.epoch()
        }
        .ok_or_else(not_ready)?;
        let group = self
            .state
            .keyring(flotilla)
            .and_then(|k| k.get(&key_id))
            .ok_or_else(not_ready)?;
        Ok((crypt::channel_files_key(group, flotilla, channel), key_id))
    }
}

fn hex8(b: &[u8; 32]) -> String {
    b[..4].iter().map(|x| format!("{x:02x}")).collect()
}

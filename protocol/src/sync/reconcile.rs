//! Catch-up: Hello summaries, negentropy sessions per channel, and the Want / Events
//! transfers they lead to. See the module docs of [`crate::sync`] for the algorithm.

use std::collections::{BTreeMap, BTreeSet};

use negentropy::{Id, Negentropy, NegentropyStorageBase, NegentropyStorageVector};

use super::{
    ChannelCache, ChannelSet, Event, MAX_QUEUED_SESSIONS, MAX_WANT_BACKLOG, MAX_WANTS_IN_FLIGHT,
    Round, State,
};
use crate::crypto::PublicKey;
use crate::entropy::Entropy;
use crate::id::{ChannelId, EventId, FlotillaId};
use crate::store::{Item, Store, StoreError};
use crate::wire::{
    self, ChannelSummary, MAX_BATCH_BYTES, MAX_BATCH_EVENTS, MAX_HAVE_BATCH, MAX_WANT_BATCH,
    PeerMsg,
};

impl<S: Store, R: Entropy> State<S, R> {
    /// The cached reconciliation set of a channel: its items are read from the store once,
    /// then kept up to date in memory as events are accepted or revoked; the sealed
    /// negentropy storage is rebuilt from them (no store read) after a change.
    fn channel_cache(
        &mut self,
        flotilla: FlotillaId,
        channel: ChannelId,
    ) -> Result<&ChannelCache, StoreError> {
        let key = (flotilla, channel);
        if !self.cache.contains_key(&key) {
            let items = self.load_items(flotilla, channel)?;
            self.cache.insert(
                key,
                ChannelSet {
                    items,
                    sealed: None,
                },
            );
        }
        let set = self
            .cache
            .get_mut(&key)
            .ok_or_else(|| StoreError::Backend("cache".into()))?;
        Ok(set.sealed.get_or_insert_with(|| seal(&set.items)))
    }

    fn load_items(
        &self,
        flotilla: FlotillaId,
        channel: ChannelId,
    ) -> Result<BTreeSet<Item>, StoreError> {
        let revoked = self.flotillas.get(&flotilla).map(|f| &f.revoked);
        Ok(self
            .store
            .channel_items(&flotilla, &channel)?
            .into_iter()
            .filter(|(_, id)| !revoked.is_some_and(|r| r.contains(id)))
            .collect())
    }

    /// Our summaries of `flotilla`'s non-empty channels, sorted by channel.
    pub(super) fn summaries(
        &mut self,
        flotilla: FlotillaId,
    ) -> Result<Vec<ChannelSummary>, StoreError> {
        let mut out = Vec::new();
        for channel in self.store.channels(&flotilla)? {
            let c = self.channel_cache(flotilla, channel)?;
            if c.count > 0 {
                out.push(ChannelSummary {
                    channel,
                    count: c.count,
                    fingerprint: c.fingerprint,
                });
            }
        }
        out.sort_by_key(|s| s.channel);
        out.truncate(wire::MAX_HELLO_CHANNELS);
        Ok(out)
    }

    pub(super) fn send_hello(&mut self, peer: PublicKey, flotilla: FlotillaId) {
        match self.summaries(flotilla) {
            Ok(summaries) => {
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.greeted.insert(flotilla);
                }
                self.send(
                    peer,
                    PeerMsg::Hello {
                        flotilla,
                        summaries,
                    },
                );
                self.want_keys(peer, flotilla);
            }
            Err(e) => self.deliver(Event::StoreFailed(e)),
        }
    }

    pub(super) fn on_hello(
        &mut self,
        peer: PublicKey,
        flotilla: FlotillaId,
        theirs: Vec<ChannelSummary>,
        now_ms: u64,
    ) {
        if let Some(p) = self.peers.get_mut(&peer) {
            p.offered.insert(flotilla);
        }
        if !self.flotillas.contains_key(&flotilla) {
            // Maybe the flotilla we are joining: ask for the genesis ids we were given.
            let ids: Vec<EventId> = self.joins.iter().copied().collect();
            if !ids.is_empty() {
                self.send(peer, PeerMsg::Want { flotilla, ids });
            }
            return;
        }
        if !self.may_sync(&flotilla, &peer) {
            return;
        }
        let greeted = self
            .peers
            .get(&peer)
            .is_some_and(|p| p.greeted.contains(&flotilla));
        if !greeted {
            self.send_hello(peer, flotilla);
        }
        let mine = match self.summaries(flotilla) {
            Ok(m) => m,
            Err(e) => return self.deliver(Event::StoreFailed(e)),
        };
        let differing = differing_channels(&mine, &theirs);
        if differing.is_empty() {
            self.deliver(Event::Synced { peer, flotilla });
        } else if self.me < peer {
            self.enqueue(peer, flotilla, differing, now_ms);
        } else if greeted {
            // The initiator judged our earlier Hello before it could (a joiner that had not
            // adopted the genesis yet, or whose set has changed since): greet again so that
            // it compares and starts the sessions now, not at the next resync.
            self.send_hello(peer, flotilla);
        }
    }

    fn enqueue(
        &mut self,
        peer: PublicKey,
        flotilla: FlotillaId,
        channels: BTreeSet<ChannelId>,
        now_ms: u64,
    ) {
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        for channel in channels {
            let key = (flotilla, channel);
            if p.sessions.contains_key(&key) {
                if p.again.len() < MAX_QUEUED_SESSIONS {
                    p.again.insert(key);
                }
            } else if p.queue.len() < MAX_QUEUED_SESSIONS && !p.queue.contains(&key) {
                p.queue.push_back(key);
            }
        }
        self.pump(peer, now_ms);
    }

    /// Starts queued sessions while slots are free.
    pub(super) fn pump(&mut self, peer: PublicKey, now_ms: u64) {
        loop {
            let Some(p) = self.peers.get_mut(&peer) else {
                return;
            };
            if p.sessions.len() >= self.config.max_sessions_per_peer {
                return;
            }
            let Some((flotilla, channel)) = p.queue.pop_front() else {
                return;
            };
            self.start_session(peer, flotilla, channel, now_ms);
        }
    }

    fn start_session(
        &mut self,
        peer: PublicKey,
        flotilla: FlotillaId,
        channel: ChannelId,
        now_ms: u64,
    ) {
        if !self.may_sync(&flotilla, &peer) {
            return;
        }
        let limit = self.config.frame_size_limit;
        let msg = match self.channel_cache(flotilla, channel) {
            Ok(c) => Negentropy::borrowed(&c.storage, limit).and_then(|mut n| n.initiate()),
            Err(e) => return self.deliver(Event::StoreFailed(e)),
        };
        let Ok(msg) = msg else {
            return;
        };
        self.send_round(peer, (flotilla, channel), msg, now_ms);
    }

    /// Sends the initiator's next negentropy message under a fresh round number, which the
    /// session now awaits.
    fn send_round(
        &mut self,
        peer: PublicKey,
        key: (FlotillaId, ChannelId),
        msg: Vec<u8>,
        now_ms: u64,
    ) {
        self.rounds += 1;
        let number = self.rounds;
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        p.sessions.insert(
            key,
            Round {
                number,
                sent_ms: now_ms,
            },
        );
        let (flotilla, channel) = key;
        self.send(
            peer,
            PeerMsg::Reconcile {
                flotilla,
                channel,
                round: number,
                msg,
            },
        );
    }

    pub(super) fn on_reconcile(
        &mut self,
        peer: PublicKey,
        key: (FlotillaId, ChannelId),
        round: u64,
        msg: &[u8],
        now_ms: u64,
    ) {
        if !self.may_sync(&key.0, &peer) {
            return;
        }
        if self.me < peer {
            self.initiator_round(peer, key, round, msg, now_ms);
        } else {
            self.responder_round(peer, key, round, msg);
        }
    }

    /// Stateless answer from the channel's current set.
    fn responder_round(
        &mut self,
        peer: PublicKey,
        (flotilla, channel): (FlotillaId, ChannelId),
        round: u64,
        msg: &[u8],
    ) {
        let limit = self.config.frame_size_limit;
        let reply = match self.channel_cache(flotilla, channel) {
            Ok(c) => Negentropy::borrowed(&c.storage, limit).and_then(|mut n| n.reconcile(msg)),
            Err(e) => return self.deliver(Event::StoreFailed(e)),
        };
        // A malformed query gets no answer; an oversized answer cannot be framed.
        if let Ok(msg) = reply
            && msg.len() <= wire::MAX_RECONCILE_BYTES
        {
            self.send(
                peer,
                PeerMsg::Reconcile {
                    flotilla,
                    channel,
                    round,
                    msg,
                },
            );
        }
    }

    fn initiator_round(
        &mut self,
        peer: PublicKey,
        key: (FlotillaId, ChannelId),
        round: u64,
        msg: &[u8],
        now_ms: u64,
    ) {
        let (flotilla, channel) = key;
        let awaited = self
            .peers
            .get(&peer)
            .and_then(|p| p.sessions.get(&key))
            .map(|r| r.number);
        if awaited != Some(round) {
            // Not the answer to the round we await: a duplicate, a late answer to an earlier
            // round or session, or no session of ours (expired, never asked for).
            return;
        }
        let limit = self.config.frame_size_limit;
        let (mut have, mut need) = (Vec::new(), Vec::new());
        let next = match self.channel_cache(flotilla, channel) {
            Ok(c) => Negentropy::borrowed(&c.storage, limit).and_then(|mut n| {
                n.set_initiator();
                n.reconcile_with_ids(msg, &mut have, &mut need)
            }),
            Err(e) => return self.deliver(Event::StoreFailed(e)),
        };
        let have: Vec<EventId> = have.into_iter().map(|id| EventId(*id)).collect();
        let need: BTreeSet<EventId> = need.into_iter().map(|id| EventId(*id)).collect();
        self.send_have(peer, flotilla, &have);
        self.want(peer, flotilla, need.into_iter().collect());
        match next {
            Ok(Some(msg)) => self.send_round(peer, key, msg, now_ms),
            Ok(None) | Err(_) => self.end_session(peer, flotilla, channel, now_ms),
        }
    }

    fn end_session(&mut self, peer: PublicKey, flotilla: FlotillaId, channel: ChannelId, now: u64) {
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        p.sessions.remove(&(flotilla, channel));
        if p.again.remove(&(flotilla, channel)) {
            p.queue.push_front((flotilla, channel));
        }
        let busy = p.sessions.keys().any(|(f, _)| *f == flotilla)
            || p.queue.iter().any(|(f, _)| *f == flotilla);
        self.pump(peer, now);
        if !busy {
            self.deliver(Event::Synced { peer, flotilla });
        }
    }

    /// Queues the ids we lack and have not asked `peer` for yet, then fills the pull window.
    pub(super) fn want(&mut self, peer: PublicKey, flotilla: FlotillaId, ids: Vec<EventId>) {
        for id in ids {
            if self.lacks(&id) {
                let Some(p) = self.peers.get_mut(&peer) else {
                    return;
                };
                let fresh = !p.wanted.contains_key(&id) && !p.backlogged.contains(&id);
                if fresh && p.backlog.len() < MAX_WANT_BACKLOG {
                    p.backlogged.insert(id);
                    p.backlog.push_back((flotilla, id));
                }
            }
        }
        self.pump_wants(peer);
    }

    fn lacks(&self, id: &EventId) -> bool {
        !self.pending_ids.contains(id) && !self.store.contains(id).unwrap_or(false)
    }

    /// Asks `peer` for backlogged ids while fewer than [`MAX_WANTS_IN_FLIGHT`] are in flight.
    pub(super) fn pump_wants(&mut self, peer: PublicKey) {
        let mut batches: BTreeMap<FlotillaId, Vec<EventId>> = BTreeMap::new();
        loop {
            let Some(p) = self.peers.get_mut(&peer) else {
                return;
            };
            if p.wanted.len() >= MAX_WANTS_IN_FLIGHT {
                break;
            }
            let Some((flotilla, id)) = p.backlog.pop_front() else {
                break;
            };
            p.backlogged.remove(&id);
            if self.lacks(&id) {
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.wanted.insert(id, flotilla);
                }
                batches.entry(flotilla).or_default().push(id);
            }
        }
        for (flotilla, ids) in batches {
            for chunk in ids.chunks(MAX_WANT_BATCH) {
                let ids = chunk.to_vec();
                self.send(peer, PeerMsg::Want { flotilla, ids });
            }
        }
    }

    /// Tells `peer` which events of ours it lacks, for it to pull.
    fn send_have(&mut self, peer: PublicKey, flotilla: FlotillaId, ids: &[EventId]) {
        let ids: Vec<EventId> = ids
            .iter()
            .filter(|id| !self.is_revoked(&flotilla, id))
            .copied()
            .collect();
        for chunk in ids.chunks(MAX_HAVE_BATCH) {
            let ids = chunk.to_vec();
            self.send(peer, PeerMsg::Have { flotilla, ids });
        }
    }

    /// The peer found, by reconciliation, events we lack: pull them.
    pub(super) fn on_have(&mut self, peer: PublicKey, flotilla: FlotillaId, ids: Vec<EventId>) {
        if self.may_sync(&flotilla, &peer) {
            self.want(peer, flotilla, ids);
        }
    }

    pub(super) fn on_want(&mut self, peer: PublicKey, flotilla: FlotillaId, ids: &[EventId]) {
        if self.may_sync(&flotilla, &peer) {
            self.send_events(peer, flotilla, ids);
        }
    }

    /// Sends the events of `flotilla` with these ids that we hold, in bounded batches.
    fn send_events(&mut self, peer: PublicKey, flotilla: FlotillaId, ids: &[EventId]) {
        let mut batch: Vec<Vec<u8>> = Vec::new();
        let mut bytes = 0;
        for id in ids {
            if self.is_revoked(&flotilla, id) {
                continue;
            }
            let event = match self.store.get(id) {
                Ok(Some(e)) if e.envelope().flotilla == flotilla => e,
                Ok(_) => continue,
                Err(e) => return self.deliver(Event::StoreFailed(e)),
            };
            let len = event.bytes().len();
            if batch.len() == MAX_BATCH_EVENTS || bytes + len > MAX_BATCH_BYTES {
                let events = std::mem::take(&mut batch);
                self.send(peer, PeerMsg::Events { flotilla, events });
                bytes = 0;
            }
            bytes += len;
            batch.push(event.bytes().to_vec());
        }
        if !batch.is_empty() {
            self.send(
                peer,
                PeerMsg::Events {
                    flotilla,
                    events: batch,
                },
            );
        }
    }

    pub(super) fn on_events(
        &mut self,
        peer: PublicKey,
        flotilla: FlotillaId,
        frames: &[Vec<u8>],
        now_ms: u64,
    ) {
        if !self.accepts_events(&peer, &flotilla) {
            return;
        }
        let decoded = frames
            .iter()
            .map(|bytes| crate::event::SignedEvent::decode(bytes))
            .collect();
        self.on_decoded(peer, flotilla, decoded, now_ms);
    }

    /// Events of one `Events` message, decoded and verified (here or by the driver).
    pub(super) fn on_decoded(
        &mut self,
        peer: PublicKey,
        flotilla: FlotillaId,
        decoded: Vec<Result<crate::event::SignedEvent, crate::event::InvalidEvent>>,
        now_ms: u64,
    ) {
        if !self.peers.contains_key(&peer) || !self.accepts_events(&peer, &flotilla) {
            return; // gone, or not (any more) someone we hear about this flotilla
        }
        let mut events = Vec::with_capacity(decoded.len());
        for result in decoded {
            match result {
                Ok(e) if e.envelope().flotilla == flotilla => events.push(e),
                Ok(_) => {}
                Err(error) => self.deliver(Event::Invalid { from: peer, error }),
            }
        }
        if let Some(p) = self.peers.get_mut(&peer) {
            let mut fetched = false;
            for e in &events {
                fetched |= p.wanted.remove(&e.id()).is_some();
            }
            if fetched {
                p.fetched.insert(flotilla);
            }
        }
        self.ingest(flotilla, events, Some(peer), false, now_ms);
        self.pump_wants(peer);
        self.relay_when_fetched(peer);
    }

    /// Once the pull window from `peer` has emptied, greets every other peer for each
    /// flotilla that gained events from it. Events fetched by catch-up are not gossiped (only
    /// new ones are), so without this a node that was away would carry what it fetched from
    /// one side to the other only at the next periodic Hello. The Hello costs a summary per
    /// channel; a peer that already holds the same events answers with a matching one and
    /// nothing more is sent, so relaying stops where nothing is new.
    fn relay_when_fetched(&mut self, peer: PublicKey) {
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        if !p.wanted.is_empty() || !p.backlog.is_empty() || p.fetched.is_empty() {
            return;
        }
        let fetched = std::mem::take(&mut p.fetched);
        for flotilla in fetched {
            let others: Vec<PublicKey> = self
                .peers
                .keys()
                .filter(|q| **q != peer && self.may_sync(&flotilla, q))
                .copied()
                .collect();
            for other in others {
                self.send_hello(other, flotilla);
            }
        }
    }
}

/// Seals a channel's items into negentropy storage, with the channel's summary.
fn seal(items: &BTreeSet<Item>) -> ChannelCache {
    let mut storage = NegentropyStorageVector::with_capacity(items.len());
    for (ms, id) in items {
        // Errors only on a sealed storage, and this one is fresh.
        let _ = storage.insert(*ms, Id::from_byte_array(id.0));
    }
    let _ = storage.seal();
    let count = storage.size().unwrap_or(0);
    let fingerprint = storage
        .fingerprint(0, count)
        .map(|f| f.to_bytes())
        .unwrap_or_default();
    ChannelCache {
        storage,
        count: count as u64,
        fingerprint,
    }
}

/// Channels whose count or fingerprint differ, or that only one side has.
fn differing_channels(mine: &[ChannelSummary], theirs: &[ChannelSummary]) -> BTreeSet<ChannelId> {
    let index = |s: &[ChannelSummary]| -> BTreeMap<ChannelId, (u64, [u8; 16])> {
        s.iter()
            .map(|c| (c.channel, (c.count, c.fingerprint)))
            .collect()
    };
    let (a, b) = (index(mine), index(theirs));
    a.keys()
        .chain(b.keys())
        .filter(|c| a.get(c) != b.get(c))
        .copied()
        .collect()
}

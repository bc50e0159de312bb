//! The storage the core needs, as a synchronous trait ([`Store`]), and an in-memory
//! implementation ([`MemStore`]) for tests and the simulator. The node implements it on sled.
//!
//! A store keeps verified events (their wire bytes) and answers the questions sync asks:
//! do I have this id, and what are the `(timestamp, id)` items of a channel (the set that
//! range-based reconciliation compares).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::crypto::PublicKey;
use crate::event::SignedEvent;
use crate::id::{ChannelId, EventId, FlotillaId};

/// A reconciliation item: the event's HLC milliseconds and its id, ordered by both.
pub type Item = (u64, EventId);

/// A storage failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend failed (I/O, database error).
    #[error("storage backend: {0}")]
    Backend(String),
    /// Stored bytes no longer decode: the store is damaged.
    #[error("corrupt store: {0}")]
    Corrupt(String),
}

/// Event storage for the sync core. Implementations must make an insert durable before
/// returning `Ok` (the node acknowledges a post only after that).
pub trait Store {
    /// Stores a verified event. `Ok(false)` if it was already there.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails; nothing is half-written.
    fn insert(&mut self, event: &SignedEvent) -> Result<bool, StoreError>;

    /// Stores several verified events with one durability barrier; returns how many were new.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails.
    fn insert_many(&mut self, events: &[SignedEvent]) -> Result<usize, StoreError> {
        let mut new = 0;
        for e in events {
            new += usize::from(self.insert(e)?);
        }
        Ok(new)
    }

    /// The event with this id.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails or the stored bytes are corrupt.
    fn get(&self, id: &EventId) -> Result<Option<SignedEvent>, StoreError>;

    /// Is this id stored?
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails.
    fn contains(&self, id: &EventId) -> Result<bool, StoreError>;

    /// The items of one channel, sorted ascending.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails.
    fn channel_items(
        &self,
        flotilla: &FlotillaId,
        channel: &ChannelId,
    ) -> Result<Vec<Item>, StoreError>;

    /// The channels of a flotilla that hold at least one event (the control channel included).
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails.
    fn channels(&self, flotilla: &FlotillaId) -> Result<Vec<ChannelId>, StoreError>;

    /// The events of `flotilla` signed by `author` and numbered after `seq` (the author's
    /// own sequence number, not its clock: what a removal's cut withdraws, §5.3), with
    /// their channel. The default walks the flotilla; a store that keeps an index by author
    /// and number answers with a range read, O(what it returns).
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails or stored bytes are corrupt.
    fn authored_after(
        &self,
        flotilla: &FlotillaId,
        author: &PublicKey,
        seq: u64,
    ) -> Result<Vec<(EventId, ChannelId)>, StoreError> {
        let mut out = Vec::new();
        for channel in self.channels(flotilla)? {
            for (_, id) in self.channel_items(flotilla, &channel)? {
                let Some(event) = self.get(&id)? else {
                    continue;
                };
                let env = event.envelope();
                if env.author == *author && env.seq > seq {
                    out.push((id, channel));
                }
            }
        }
        Ok(out)
    }

    /// The latest event stored per author of `flotilla`, by number then id (what a
    /// restarted node numbers its authors' next events after and names as their `prev`, and
    /// removals cut at). The default walks the flotilla; an index by author and number
    /// answers with one read per author.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails or stored bytes are corrupt.
    fn author_seqs(
        &self,
        flotilla: &FlotillaId,
    ) -> Result<Vec<(PublicKey, u64, EventId)>, StoreError> {
        let mut seqs: BTreeMap<PublicKey, (u64, EventId)> = BTreeMap::new();
        for channel in self.channels(flotilla)? {
            for (_, id) in self.channel_items(flotilla, &channel)? {
                if let Some(event) = self.get(&id)? {
                    let env = event.envelope();
                    let s = seqs.entry(env.author).or_insert((env.seq, id));
                    *s = (*s).max((env.seq, id));
                }
            }
        }
        Ok(seqs.into_iter().map(|(k, (s, id))| (k, s, id)).collect())
    }
}

/// An in-memory [`Store`].
#[derive(Debug, Default, Clone)]
pub struct MemStore {
    events: HashMap<EventId, SignedEvent>,
    by_channel: BTreeMap<(FlotillaId, ChannelId), BTreeSet<Item>>,
}

impl MemStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many events are stored.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Is the store empty?
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Every stored event id, sorted.
    pub fn ids(&self) -> BTreeSet<EventId> {
        self.events.keys().copied().collect()
    }

    /// Every stored event, in no particular order.
    pub fn events(&self) -> impl Iterator<Item = &SignedEvent> {
        self.events.values()
    }
}

impl Store for MemStore {
    fn insert(&mut self, event: &SignedEvent) -> Result<bool, StoreError> {
        if self.events.contains_key(&event.id()) {
            return Ok(false);
        }
        let env = event.envelope();
        self.by_channel
            .entry((env.flotilla, env.channel))
            .or_default()
            .insert((env.hlc.ms, event.id()));
        self.events.insert(event.id(), event.clone());
        Ok(true)
    }

    fn get(&self, id: &EventId) -> Result<Option<SignedEvent>, StoreError> {
        Ok(self.events.get(id).cloned())
    }

    fn contains(&self, id: &EventId) -> Result<bool, StoreError> {
        Ok(self.events.contains_key(id))
    }

    fn channel_items(
        &self,
        flotilla: &FlotillaId,
        channel: &ChannelId,
    ) -> Result<Vec<Item>, StoreError> {
        Ok(self
            .by_channel
            .get(&(*flotilla, *channel))
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default())
    }

    fn channels(&self, flotilla: &FlotillaId) -> Result<Vec<ChannelId>, StoreError> {
        Ok(self
            .by_channel
            .range((*flotilla, ChannelId([0; 16]))..=(*flotilla, ChannelId([0xff; 16])))
            .map(|((_, c), _)| *c)
            .collect())
    }
}

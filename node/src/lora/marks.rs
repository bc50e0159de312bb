//! What the UI shows of LoRa: which events came or left by radio, in how many hops, and
//! which boats this node last heard only by radio. In memory and bounded: the oldest marks
//! are forgotten first ([`MAX_MARKS`], [`MAX_BOATS`]); after a restart posts show no mark.

use std::collections::{HashMap, VecDeque};

use flotilla_protocol::PublicKey;
use flotilla_protocol::id::EventId;

use crate::handle::views::LoraMark;

/// Events whose LoRa mark is remembered.
pub const MAX_MARKS: usize = 4096;
/// Boats whose last LoRa contact is remembered.
pub const MAX_BOATS: usize = 1024;
/// A boat heard by LoRa within this long, and not connected over IP, is "reachable only by
/// LoRa".
pub const HEARD_FRESH_MS: u64 = 60 * 60 * 1000;

/// When and how far a boat was last heard by radio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heard {
    /// When (ms since the Unix epoch).
    pub at_ms: u64,
    /// Hops the event took.
    pub hops: u8,
}

/// The marks. See the module docs.
#[derive(Debug, Default)]
pub struct Marks {
    events: HashMap<EventId, LoraMark>,
    order: VecDeque<EventId>,
    boats: HashMap<PublicKey, Heard>,
}

impl Marks {
    /// Remembers how `id` crossed the radio (the first mark stays: an event that came by
    /// LoRa and is then relayed keeps its "in").
    pub fn mark(&mut self, id: EventId, mark: LoraMark) {
        if self.events.contains_key(&id) {
            return;
        }
        self.events.insert(id, mark);
        self.order.push_back(id);
        while self.order.len() > MAX_MARKS {
            if let Some(old) = self.order.pop_front() {
                self.events.remove(&old);
            }
        }
    }

    /// How `id` crossed the radio, if it did (and is still remembered).
    pub fn get(&self, id: &EventId) -> Option<LoraMark> {
        self.events.get(id).copied()
    }

    /// Boat `node` was heard by radio at `now_ms`, `hops` away.
    pub fn heard(&mut self, node: PublicKey, hops: u8, now_ms: u64) {
        if self.boats.len() >= MAX_BOATS
            && !self.boats.contains_key(&node)
            && let Some(oldest) = self
                .boats
                .iter()
                .min_by_key(|(_, h)| h.at_ms)
                .map(|(k, _)| *k)
        {
            self.boats.remove(&oldest);
        }
        self.boats.insert(
            node,
            Heard {
                at_ms: now_ms,
                hops,
            },
        );
    }

    /// When boat `node` was last heard by radio, within [`HEARD_FRESH_MS`] of `now_ms`.
    pub fn heard_recently(&self, node: &PublicKey, now_ms: u64) -> Option<Heard> {
        self.boats
            .get(node)
            .copied()
            .filter(|h| h.at_ms + HEARD_FRESH_MS > now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u8) -> PublicKey {
        flotilla_protocol::crypto::SecretKey::from_bytes(&[i; 32]).public()
    }

    #[test]
    fn marks_are_bounded_and_the_first_one_stays() {
        let mut m = Marks::default();
        let inbound = LoraMark {
            inbound: true,
            hops: 2,
        };
        m.mark(EventId([1; 32]), inbound);
        m.mark(
            EventId([1; 32]),
            LoraMark {
                inbound: false,
                hops: 0,
            },
        );
        assert_eq!(m.get(&EventId([1; 32])), Some(inbound));
        for i in 0..MAX_MARKS + 10 {
            let mut id = [0u8; 32];
            id[..8].copy_from_slice(&(i as u64 + 100).to_le_bytes());
            m.mark(EventId(id), inbound);
        }
        assert_eq!(m.events.len(), MAX_MARKS);
        assert_eq!(m.order.len(), MAX_MARKS);
        assert_eq!(m.get(&EventId([1; 32])), None, "the oldest is forgotten");
    }

    #[test]
    fn a_boat_heard_long_ago_is_not_lora_reachable_and_boats_are_bounded() {
        let mut m = Marks::default();
        m.heard(key(1), 1, 1_000);
        assert_eq!(m.heard_recently(&key(1), 2_000).map(|h| h.hops), Some(1));
        assert_eq!(m.heard_recently(&key(1), 1_000 + HEARD_FRESH_MS), None);
        for i in 0..MAX_BOATS as u64 + 5 {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(i + 10).to_le_bytes());
            m.heard(
                flotilla_protocol::crypto::SecretKey::from_bytes(&seed).public(),
                1,
                2_000 + i,
            );
        }
        assert_eq!(m.boats.len(), MAX_BOATS);
        assert_eq!(
            m.heard_recently(&key(1), 3_000),
            None,
            "the oldest went first"
        );
    }
}

//! [`Fetch`]: the download plan of one file (see the [module docs](super)).

use std::collections::{BTreeMap, BTreeSet};

use super::set::ChunkSet;

/// Bounds of one file's download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Requests out at once for this file (8 × 256 KiB = 2 MiB in flight: enough to fill a
    /// LAN link, bounded memory on a Raspberry Pi).
    pub max_in_flight: usize,
    /// Requests out at once to one source (4: a slow boat cannot hold every slot).
    pub max_per_peer: usize,
    /// A request not answered after this is given up and the chunk asked elsewhere.
    pub timeout_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_in_flight: 8,
            max_per_peer: 4,
            timeout_ms: 30_000,
        }
    }
}

/// Why a chunk request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The peer answered that it does not hold the chunk.
    Missing,
    /// The bytes did not hash to the chunk's hash: the peer is dropped as a source.
    Corrupt,
    /// No answer in time, or the request failed on the way.
    Timeout,
}

/// One request out.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Out<P> {
    peer: P,
    deadline_ms: u64,
}

/// The download plan of one file. `P` is a peer id (opaque, ordered).
#[derive(Debug, Clone)]
pub struct Fetch<P> {
    config: Config,
    have: ChunkSet,
    sources: BTreeMap<P, ChunkSet>,
    banned: BTreeSet<P>,
    in_flight: BTreeMap<u32, Out<P>>,
    /// Among equally rare chunks, the first asked (then onwards, wrapping round).
    start: u32,
}

impl<P: Ord + Clone> Fetch<P> {
    /// A plan starting from the chunks already held (`have`: a resumed download).
    pub fn new(config: Config, have: ChunkSet) -> Self {
        Fetch {
            config,
            have,
            sources: BTreeMap::new(),
            banned: BTreeSet::new(),
            in_flight: BTreeMap::new(),
            start: 0,
        }
    }

    /// Equally rare chunks are asked from chunk `start` onwards, wrapping round (0 by
    /// default). Downloaders that each pick their own start (at random) hold different
    /// chunks early on and so can serve each other while they fetch the same file.
    #[must_use]
    pub fn starting_at(mut self, start: u32) -> Self {
        self.start = start.checked_rem(self.have.len()).unwrap_or(0);
        self
    }

    /// The chunks held.
    pub fn have(&self) -> &ChunkSet {
        &self.have
    }

    /// Every chunk held?
    pub fn is_complete(&self) -> bool {
        self.have.is_full()
    }

    /// Fraction of chunks held, 0–1 (1 for an empty file).
    pub fn progress(&self) -> f64 {
        if self.have.is_empty() {
            return 1.0;
        }
        f64::from(self.have.count()) / f64::from(self.have.len())
    }

    /// Peers known to hold at least one chunk this node lacks.
    pub fn useful_sources(&self) -> usize {
        self.sources
            .values()
            .filter(|s| self.have.missing().any(|i| s.contains(i)))
            .count()
    }

    /// Peers known to hold chunks of this file (banned ones excluded).
    pub fn sources(&self) -> usize {
        self.sources.len()
    }

    /// Requests out now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Nothing out and nothing to ask: no connected peer holds a missing chunk.
    pub fn is_waiting(&self) -> bool {
        !self.is_complete() && self.in_flight.is_empty() && self.useful_sources() == 0
    }

    /// `peer` holds `set` (replaces what it said before). A set of another length is
    /// ignored (another file, or a lying peer), as is a banned peer.
    pub fn set_source(&mut self, peer: P, set: ChunkSet) {
        if set.len() != self.have.len() || self.banned.contains(&peer) {
            return;
        }
        self.sources.insert(peer, set);
    }

    /// `peer` now holds chunk `index` too.
    pub fn source_has(&mut self, peer: &P, index: u32) {
        if let Some(s) = self.sources.get_mut(peer) {
            s.insert(index);
        }
    }

    /// `peer` is gone: its requests are freed for other sources.
    pub fn peer_down(&mut self, peer: &P) {
        self.sources.remove(peer);
        self.in_flight.retain(|_, o| o.peer != *peer);
    }

    /// Chunk `index` arrived from `peer` and verified. True if it was new.
    pub fn received(&mut self, peer: &P, index: u32) -> bool {
        if self.in_flight.get(&index).is_some_and(|o| o.peer == *peer) {
            self.in_flight.remove(&index);
        }
        self.have.insert(index)
    }

    /// The request for chunk `index` to `peer` failed.
    pub fn failed(&mut self, peer: &P, index: u32, why: Failure) {
        if self.in_flight.get(&index).is_some_and(|o| o.peer == *peer) {
            self.in_flight.remove(&index);
        }
        match why {
            Failure::Missing => {
                if let Some(s) = self.sources.get_mut(peer) {
                    s.remove(index);
                }
            }
            Failure::Corrupt => {
                self.sources.remove(peer);
                self.in_flight.retain(|_, o| o.peer != *peer);
                self.banned.insert(peer.clone());
            }
            Failure::Timeout => {}
        }
    }

    /// Frees requests older than their deadline; returns them (to count or log).
    pub fn expire(&mut self, now_ms: u64) -> Vec<(P, u32)> {
        let late: Vec<u32> = self
            .in_flight
            .iter()
            .filter(|(_, o)| o.deadline_ms <= now_ms)
            .map(|(i, _)| *i)
            .collect();
        late.into_iter()
            .filter_map(|i| self.in_flight.remove(&i).map(|o| (o.peer, i)))
            .collect()
    }

    /// The next requests to send (marked in flight): rarest chunk first (ties from the
    /// start chunk onwards, see [`Fetch::starting_at`]), each to the least-busy source that
    /// holds it, within the bounds of [`Config`].
    pub fn next_requests(&mut self, now_ms: u64) -> Vec<(P, u32)> {
        let room = self
            .config
            .max_in_flight
            .saturating_sub(self.in_flight.len());
        if room == 0 {
            return Vec::new();
        }
        let len = self.have.len();
        let mut wanted: Vec<(usize, u32, u32)> = self
            .have
            .missing()
            .filter(|i| !self.in_flight.contains_key(i))
            .map(|i| {
                let holders = self.sources.values().filter(|s| s.contains(i)).count();
                // `start` < `len`, so the rotated index neither overflows nor collides
                (holders, (i + len - self.start) % len, i)
            })
            .filter(|(holders, _, _)| *holders > 0)
            .collect();
        wanted.sort_unstable();
        let mut busy: BTreeMap<P, usize> = BTreeMap::new();
        for o in self.in_flight.values() {
            *busy.entry(o.peer.clone()).or_default() += 1;
        }
        let mut out = Vec::new();
        for (_, _, index) in wanted {
            if out.len() == room {
                break;
            }
            let Some(peer) = self.pick_source(index, &busy) else {
                continue;
            };
            *busy.entry(peer.clone()).or_default() += 1;
            let deadline_ms = now_ms.saturating_add(self.config.timeout_ms);
            self.in_flight.insert(
                index,
                Out {
                    peer: peer.clone(),
                    deadline_ms,
                },
            );
            out.push((peer, index));
        }
        out
    }

    fn pick_source(&self, index: u32, busy: &BTreeMap<P, usize>) -> Option<P> {
        self.sources
            .iter()
            .filter(|(_, s)| s.contains(index))
            .map(|(p, _)| (busy.get(p).copied().unwrap_or(0), p))
            .filter(|(n, _)| *n < self.config.max_per_peer)
            .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
            .map(|(_, p)| p.clone())
    }
}

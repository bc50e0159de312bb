//! A seeded simulation of boats sharing one LoRa channel (feature `test-utils`): airtime from
//! the Semtech formula, collisions when transmissions overlap at a receiver, half-duplex
//! radios, random loss, an optional range matrix, and an independent check of each radio's
//! duty cycle. Every boat's store is a [`MemStore`]; membership is shared (the boats synced
//! it over IP before leaving).

use std::collections::BTreeMap;

use crate::author::{self, Ctx};
use crate::crypto::SecretKey;
use crate::entropy::{Entropy, SeededEntropy};
use crate::event::{Content, SignedEvent};
use crate::hlc::Clock;
use crate::id::{ChannelId, EventId, FlotillaId};
use crate::keyring::Keyring;
use crate::membership::Ledger;
use crate::store::{MemStore, Store};

use super::airtime::RadioParams;
use super::bridge::{Bridge, Config, InEvent, OutEvent, RadioConfig};
use super::budget::WINDOW_MS;
use super::lookup::StoreLookup;

/// Simulation step.
pub const STEP_MS: u64 = 10;

/// The shared medium.
#[derive(Debug, Clone)]
pub struct AirConfig {
    /// Modulation of every radio.
    pub params: RadioParams,
    /// Probability that a receiver misses a frame.
    pub loss: f64,
    /// Duty cycle of every radio.
    pub duty: f64,
    /// `hears[a][b]`: b hears a (all hear all when `None`).
    pub hears: Option<Vec<Vec<bool>>>,
}

/// One boat.
#[derive(Debug)]
pub struct Boat {
    /// Its bridge.
    pub bridge: Bridge<SeededEntropy>,
    /// Its store.
    pub store: MemStore,
    /// How many times each event was delivered to it by its bridge.
    pub delivered: BTreeMap<EventId, u32>,
    /// When each event arrived (ms).
    pub arrived: BTreeMap<EventId, u64>,
    /// Its transmissions: (start ms, airtime µs).
    pub sent: Vec<(u64, u64)>,
    /// Transmitting until (ms).
    busy_until: u64,
    /// Frames handed to the modem, waiting for a clear channel (CSMA, as RNode does).
    deferred: std::collections::VecDeque<(Vec<u8>, u64)>,
    /// No carrier-sense attempt before (ms).
    next_try: u64,
}

#[derive(Debug, Clone)]
struct Tx {
    from: usize,
    start: u64,
    end: u64,
    frame: Vec<u8>,
}

/// The simulation.
#[derive(Debug)]
pub struct Air {
    /// Simulated wall clock (ms).
    pub now_ms: u64,
    /// The boats.
    pub boats: Vec<Boat>,
    /// The flotilla.
    pub flotilla: FlotillaId,
    /// `town-square`.
    pub town: ChannelId,
    /// A DM channel.
    pub dm: ChannelId,
    /// Frames lost to collisions (per receiver).
    pub collisions: u64,
    /// A radio was asked to send while it was still sending.
    pub overlapping_sends: u64,
    pub(crate) ledger: Ledger,
    pub(crate) keyring: Keyring,
    pub(crate) alice: SecretKey,
    pub(crate) clock: Clock,
    pub(crate) rng: SeededEntropy,
    cfg: AirConfig,
    flying: Vec<Tx>,
    done: Vec<Tx>,
}

impl Air {
    /// `n` boats of one flotilla founded at time 0 (+1.7e12 ms), all holding its control
    /// events and a DM channel.
    ///
    /// # Panics
    /// If founding fails (a bug).
    pub fn new(seed: u64, n: usize, cfg: AirConfig, bridge: &Config) -> Self {
        let mut rng = SeededEntropy::new(seed);
        let node = SecretKey::generate(&mut rng);
        let alice = SecretKey::generate(&mut rng);
        let mut clock = Clock::new();
        let now_ms = 1_700_000_000_000;
        let founded = author::found(
            &node, "Ondine", &alice, "alice", "Rallye", &mut clock, now_ms, &mut rng,
        )
        .unwrap_or_else(|e| panic!("found: {e}"));
        let mut ledger = founded.ledger;
        let keyring = founded.keyring;
        let mut events = founded.events;
        let dm = ChannelId(rng.array());
        let create = Ctx {
            ledger: &mut ledger,
            keyring: &keyring,
            clock: &mut clock,
            now_ms,
            rng: &mut rng,
        }
        .create_channel(&alice, dm, true, &[])
        .unwrap_or_else(|e| panic!("dm: {e}"));
        ledger.insert(&create);
        events.push(create.clone());
        let mut keyring = keyring;
        keyring.absorb(&create, &node);
        let boats = (0..n)
            .map(|i| {
                let mut store = MemStore::new();
                for e in &events {
                    let _ = store.insert(e);
                }
                let radio = RadioConfig::new(cfg.params, cfg.duty);
                Boat {
                    bridge: Bridge::new(
                        bridge.clone(),
                        vec![radio],
                        SeededEntropy::new(seed * 1000 + i as u64),
                    ),
                    store,
                    delivered: BTreeMap::new(),
                    arrived: BTreeMap::new(),
                    sent: Vec::new(),
                    busy_until: 0,
                    deferred: std::collections::VecDeque::new(),
                    next_try: 0,
                }
            })
            .collect();
        let town = ChannelId::derived(&founded.flotilla, author::DEFAULT_CHANNELS[0]);
        Air {
            now_ms,
            boats,
            flotilla: founded.flotilla,
            town,
            dm,
            collisions: 0,
            overlapping_sends: 0,
            ledger,
            keyring,
            alice,
            clock,
            rng,
            cfg,
            flying: Vec::new(),
            done: Vec::new(),
        }
    }

    /// Alice writes `text` in `channel` on `boat` (stored there, handed to its bridge).
    ///
    /// # Panics
    /// If signing fails (a bug).
    pub fn post(&mut self, boat: usize, channel: ChannelId, text: &str) -> EventId {
        let content = Content::Post {
            text: text.to_owned(),
            root: None,
            files: vec![],
            mentions: vec![],
        };
        let event = Ctx {
            ledger: &mut self.ledger,
            keyring: &self.keyring,
            clock: &mut self.clock,
            now_ms: self.now_ms,
            rng: &mut self.rng,
        }
        .content(&self.alice, channel, &content)
        .unwrap_or_else(|e| panic!("post: {e}"));
        let id = event.id();
        self.ingest(boat, event);
        id
    }

    /// A boat's node accepted `event` (from its user, IP, or its bridge).
    pub fn ingest(&mut self, boat: usize, event: SignedEvent) {
        let _ = self.boats[boat].store.insert(&event);
        self.drive(boat, InEvent::Local(event));
    }

    fn drive(&mut self, boat: usize, ev: InEvent) {
        let Boat { bridge, store, .. } = &mut self.boats[boat];
        let lookup = StoreLookup {
            flotillas: vec![(self.flotilla, &self.ledger, &self.keyring)],
            store: &*store,
        };
        let outs = bridge.handle(ev, self.now_ms, &lookup);
        for out in outs {
            match out {
                OutEvent::Transmit {
                    frame, airtime_us, ..
                } => {
                    self.boats[boat].deferred.push_back((frame, airtime_us));
                }
                OutEvent::Deliver { event, .. } => {
                    let b = &mut self.boats[boat];
                    *b.delivered.entry(event.id()).or_default() += 1;
                    b.arrived.entry(event.id()).or_insert(self.now_ms);
                    self.ingest(boat, event);
                }
            }
        }
    }

    fn hears(&self, from: usize, to: usize) -> bool {
        from != to && self.cfg.hears.as_ref().is_none_or(|h| h[from][to])
    }

    /// Sets who hears whom (`None`: everyone).
    pub fn set_hears(&mut self, hears: Option<Vec<Vec<bool>>>) {
        self.cfg.hears = hears;
    }

    /// Runs the air for `ms` simulated milliseconds.
    pub fn run_for(&mut self, ms: u64) {
        let end = self.now_ms + ms;
        while self.now_ms < end {
            self.now_ms += STEP_MS;
            self.land();
            for boat in 0..self.boats.len() {
                self.drive(boat, InEvent::Tick);
            }
            for boat in 0..self.boats.len() {
                self.carrier_sense(boat);
            }
        }
    }

    /// The modem of `boat` starts its next frame when it hears the channel clear.
    fn carrier_sense(&mut self, boat: usize) {
        let now = self.now_ms;
        let b = &self.boats[boat];
        if b.deferred.is_empty() || b.busy_until > now || b.next_try > now {
            return;
        }
        let busy = self.flying.iter().any(|t| self.hears(t.from, boat));
        if busy {
            let backoff = 10 + self.rng.next_u64() % 300;
            self.boats[boat].next_try = now + backoff;
            return;
        }
        let b = &mut self.boats[boat];
        let Some((frame, airtime_us)) = b.deferred.pop_front() else {
            return;
        };
        if b.sent
            .last()
            .is_some_and(|(s, a)| s + a.div_ceil(1000) > now)
        {
            self.overlapping_sends += 1;
        }
        let end = now + airtime_us.div_ceil(1000);
        b.busy_until = end;
        b.sent.push((now, airtime_us));
        self.flying.push(Tx {
            from: boat,
            start: now,
            end,
            frame,
        });
    }

    /// Delivers the transmissions that ended.
    fn land(&mut self) {
        let now = self.now_ms;
        let (ended, flying): (Vec<Tx>, Vec<Tx>) = std::mem::take(&mut self.flying)
            .into_iter()
            .partition(|t| t.end <= now);
        self.flying = flying;
        self.done.retain(|t| t.end + 60_000 > now);
        self.done.extend(ended.iter().cloned());
        for tx in ended {
            for to in 0..self.boats.len() {
                if !self.hears(tx.from, to) {
                    continue;
                }
                let overlaps = |o: &Tx| o.start < tx.end && tx.start < o.end;
                let deaf = self
                    .done
                    .iter()
                    .chain(&self.flying)
                    .any(|o| o.from == to && overlaps(o));
                let collided = self.done.iter().chain(&self.flying).any(|o| {
                    o.from != tx.from && o.from != to && self.hears(o.from, to) && overlaps(o)
                });
                if deaf {
                    continue;
                }
                if collided {
                    self.collisions += 1;
                    continue;
                }
                let roll = (self.rng.next_u64() % 1_000_000) as f64 / 1_000_000.0;
                if roll < self.cfg.loss {
                    continue;
                }
                self.drive(
                    to,
                    InEvent::Received {
                        radio: 0,
                        frame: tx.frame.clone(),
                    },
                );
            }
        }
    }

    /// Does `boat` hold `id`?
    pub fn holds(&self, boat: usize, id: &EventId) -> bool {
        self.boats[boat].store.contains(id).unwrap_or(false)
    }

    /// The largest airtime (µs) any radio spent in any sliding hour, and the limit.
    pub fn worst_hour(&self) -> (u64, u64) {
        let limit = (self.cfg.duty * WINDOW_MS as f64 * 1000.0) as u64;
        let mut worst = 0;
        for b in &self.boats {
            for (i, &(start, _)) in b.sent.iter().enumerate() {
                let from = start.saturating_sub(WINDOW_MS);
                let used: u64 = b.sent[..=i]
                    .iter()
                    .filter(|(s, a)| s + a.div_ceil(1000) > from)
                    .map(|(_, a)| a)
                    .sum();
                worst = worst.max(used);
            }
        }
        (worst, limit)
    }
}

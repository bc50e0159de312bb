//! A seeded simulation of boats sharing one LoRa channel (feature `test-utils`): the air is
//! [`super::medium`] (airtime from the Semtech formula, collisions when transmissions overlap
//! at a receiver, half-duplex radios, carrier sense, random loss, an optional range matrix),
//! the same model `flotilla lora-air` runs; the duty cycle is left to the bridges and checked
//! independently here. Every boat's store is a [`MemStore`]; membership is shared (the boats synced
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
use super::medium::{AirEvent, Medium, MediumConfig};

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
    /// A radio was asked to send while it was still sending.
    pub overlapping_sends: u64,
    pub(crate) ledger: Ledger,
    pub(crate) keyring: Keyring,
    pub(crate) alice: SecretKey,
    pub(crate) clock: Clock,
    pub(crate) rng: SeededEntropy,
    cfg: AirConfig,
    medium: Medium<SeededEntropy>,
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
                }
            })
            .collect();
        let town = ChannelId::derived(&founded.flotilla, author::DEFAULT_CHANNELS[0]);
        let mut medium = Medium::new(
            n,
            &MediumConfig {
                params: cfg.params,
                loss: cfg.loss,
                duty: None,
            },
            SeededEntropy::new(seed ^ 0x5eed_a1e5),
        );
        medium.set_hears(cfg.hears.clone());
        Air {
            now_ms,
            boats,
            flotilla: founded.flotilla,
            town,
            dm,
            overlapping_sends: 0,
            ledger,
            keyring,
            alice,
            clock,
            rng,
            cfg,
            medium,
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
                OutEvent::Transmit { frame, .. } => self.medium.submit(boat, frame),
                OutEvent::Deliver { event, .. } => {
                    let b = &mut self.boats[boat];
                    *b.delivered.entry(event.id()).or_default() += 1;
                    b.arrived.entry(event.id()).or_insert(self.now_ms);
                    self.ingest(boat, event);
                }
                OutEvent::Queued { .. } => {}
            }
        }
    }

    /// Sets who hears whom (`None`: everyone).
    pub fn set_hears(&mut self, hears: Option<Vec<Vec<bool>>>) {
        self.cfg.hears.clone_from(&hears);
        self.medium.set_hears(hears);
    }

    /// Frames lost to collisions, over all receivers.
    pub fn collisions(&self) -> u64 {
        self.medium.stats().iter().map(|s| s.collisions).sum()
    }

    /// Runs the air for `ms` simulated milliseconds.
    pub fn run_for(&mut self, ms: u64) {
        let end = self.now_ms + ms;
        while self.now_ms < end {
            self.now_ms += STEP_MS;
            for ev in self.medium.land(self.now_ms) {
                if let AirEvent::Heard { radio, frame } = ev {
                    self.drive(radio, InEvent::Received { radio: 0, frame });
                }
            }
            for boat in 0..self.boats.len() {
                self.drive(boat, InEvent::Tick);
            }
            for ev in self.medium.transmit(self.now_ms) {
                if let AirEvent::Sent {
                    radio,
                    airtime_us,
                    start_ms,
                    ..
                } = ev
                {
                    let b = &mut self.boats[radio];
                    if b.sent
                        .last()
                        .is_some_and(|(s, a)| s + a.div_ceil(1000) > start_ms)
                    {
                        self.overlapping_sends += 1;
                    }
                    b.sent.push((start_ms, airtime_us));
                }
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

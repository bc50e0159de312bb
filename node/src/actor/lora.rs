//! The LoRa bridge inside the actor: radio frames and ticks come in through
//! [`crate::lora::Input`]; the sans-IO bridge sees the sync core's ledgers, keyrings and
//! store through a [`proto::lora::StoreLookup`]; events it rebuilds from the air are
//! ingested like local ones (so they are stored, shown and gossiped to IP peers: a boat with
//! both Wi-Fi and a radio is a gateway), and every accepted event is offered to it.

use flotilla_protocol as proto;
use proto::event::SignedEvent;
use proto::lora::{Bridge, InEvent as LoraIn, OutEvent as LoraOut, StoreLookup};
use proto::sync::InEvent;
use tokio::sync::mpsc;

use proto::PublicKey;
use proto::id::FlotillaId;

use super::{Actor, OsEntropy, now_ms};
use crate::handle::views::{LoraMark, RadioInfo};
use crate::lora::{INPUT_CAP, Input, LoraConfig, TICK, radio};

/// The bridge and its radios.
pub(crate) struct LoraLink {
    bridge: Bridge<OsEntropy>,
    config: LoraConfig,
    input: mpsc::Receiver<Input>,
    radios: Vec<mpsc::Sender<Vec<u8>>>,
}

impl std::fmt::Debug for LoraLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoraLink")
            .field("radios", &self.config.radios)
            .finish_non_exhaustive()
    }
}

impl LoraLink {
    /// Starts the radio tasks and the ticker; `None` when no radio is configured.
    pub(crate) fn start(config: LoraConfig) -> Option<Self> {
        if config.radios.is_empty() {
            return None;
        }
        let (tx, input) = mpsc::channel(INPUT_CAP);
        let radios = config
            .radios
            .iter()
            .enumerate()
            .map(|(i, spec)| radio::spawn(i, spec.clone(), config.clone(), tx.clone()))
            .collect();
        let bridge = Bridge::new(
            config.bridge(),
            config.radios.iter().map(|s| config.radio(s)).collect(),
            OsEntropy,
        );
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(TICK);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tick.tick().await;
                match tx.try_send(Input::Tick) {
                    Err(mpsc::error::TrySendError::Closed(_)) => return,
                    _ => continue, // a full queue already has work for the actor
                }
            }
        });
        tracing::info!(
            radios = config.radios.len(),
            sf = config.params.sf,
            duty = config.duty,
            "LoRa bridge on"
        );
        Some(LoraLink {
            bridge,
            config,
            input,
            radios,
        })
    }
}

/// The next radio input (never resolves when the bridge is off).
pub(super) async fn recv(link: &mut Option<LoraLink>) -> Option<Input> {
    match link {
        Some(l) => l.input.recv().await,
        None => std::future::pending().await,
    }
}

impl Actor {
    fn lora_step(&mut self, ev: LoraIn) -> Vec<LoraOut> {
        let Some(link) = self.lora.as_mut() else {
            return Vec::new();
        };
        let flotillas = self
            .state
            .flotillas()
            .filter(|f| link.config.allows(f))
            .filter_map(|f| Some((*f, self.state.ledger(f)?, self.state.keyring(f)?)))
            .collect();
        let lookup = StoreLookup {
            flotillas,
            store: self.state.store(),
        };
        link.bridge.handle(ev, now_ms(), &lookup)
    }

    fn lora_execute(&mut self, outs: Vec<LoraOut>) {
        for out in outs {
            match out {
                LoraOut::Transmit { radio, frame, .. } => {
                    if let Some(tx) = self.lora.as_ref().and_then(|l| l.radios.get(radio)) {
                        let _ = tx.try_send(frame); // a full radio queue drops: catch-up repairs
                    }
                }
                LoraOut::Deliver { event, hops } => {
                    tracing::debug!(id = %event.id().fmt_short(), hops, "event arrived by LoRa");
                    // Marked before it is ingested, so that the live update shows the mark.
                    let mark = LoraMark {
                        inbound: true,
                        hops,
                    };
                    self.lora_marks.mark(event.id(), mark);
                    if let Some(boat) = self.home_of(&event) {
                        self.lora_marks.heard(boat, hops, now_ms());
                    }
                    self.drive(InEvent::Publish(event));
                }
                LoraOut::Queued { id } => {
                    let mark = LoraMark {
                        inbound: false,
                        hops: 0,
                    };
                    self.lora_marks.mark(id, mark);
                }
            }
        }
    }

    /// The boat an event comes from: its author's home node, or its author if a node.
    fn home_of(&self, event: &SignedEvent) -> Option<PublicKey> {
        let env = event.envelope();
        let auth = self.auth(&env.flotilla).ok()?;
        if let Some(u) = auth.users.get(&env.author) {
            return Some(u.info.home);
        }
        auth.nodes.contains_key(&env.author).then_some(env.author)
    }

    /// This node's radios that may carry `flotilla`, as of now (none when LoRa is off).
    pub(super) fn radios(&mut self, flotilla: &FlotillaId) -> Vec<RadioInfo> {
        let Some(link) = self.lora.as_mut() else {
            return Vec::new();
        };
        if !link.config.allows(flotilla) {
            return Vec::new();
        }
        link.bridge
            .stats(now_ms())
            .into_iter()
            .zip(&link.config.radios)
            .enumerate()
            .map(|(index, (s, spec))| RadioInfo {
                index,
                spec: spec.to_string(),
                airtime_ms_this_hour: s.airtime_hour_us.div_ceil(1000),
                duty_budget_ms: s.airtime_limit_us / 1000,
                queue: s.queued,
                frames_sent: s.frames_sent,
                frames_heard: s.frames_heard,
            })
            .collect()
    }

    /// A frame or a tick from the radios.
    pub(super) fn on_lora(&mut self, input: Input) {
        let ev = match input {
            Input::Frame { radio, frame } => LoraIn::Received { radio, frame },
            Input::Tick => LoraIn::Tick,
        };
        let outs = self.lora_step(ev);
        self.lora_execute(outs);
    }

    /// An event the node accepted: the bridge sends it on air if it did not come from there.
    pub(super) fn lora_local(&mut self, event: &SignedEvent) {
        if self.lora.is_some() {
            let outs = self.lora_step(LoraIn::Local(event.clone()));
            self.lora_execute(outs);
        }
    }
}

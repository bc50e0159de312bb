//! The bridge state machine: one per node, driving any number of radios.
//!
//! - **Out**: an event accepted by the node ([`InEvent::Local`]) is classified ([`Priority`]),
//!   transcoded ([`compact`]), sealed and fragmented per radio ([`frame`]), and queued. On
//!   each [`InEvent::Tick`] every idle radio sends its most urgent frame if its duty-cycle
//!   budget allows; the next frame waits for the airtime plus a random gap.
//! - **In**: fragments are kept by packet id until the message is complete and authenticates;
//!   a packet id seen before is dropped (duplicate suppression); an authenticated event
//!   message is relayed once, if its hop count is below the limit set by its origin, then
//!   rebuilt and delivered ([`OutEvent::Deliver`]) unless the node holds it already.
//! - **Catch-up**: every `beacon_interval` (±20 %) a radio beacons a [`Message::Summary`]
//!   of its newest events per channel (a fingerprint of the newest `recent`, and how many it
//!   holds). A node whose fingerprint differs answers with an inventory of its newest ids;
//!   the other asks for the ones it lacks; answers go at the lowest priority, text posts
//!   first, at most `catchup_per_hour` events per hour. When the newest match but the other
//!   holds fewer events, something older is missing: each summary is then answered with the
//!   next older window of ids (a [`Window`] per channel), until the whole channel was shown
//!   and the other's count stopped changing. A boat that missed more than `recent` events
//!   thus catches up over several beacon rounds, within the hourly budget.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use crate::entropy::Entropy;
use crate::event::SignedEvent;
use crate::id::{ChannelId, EventId, FlotillaId};

use super::airtime::RadioParams;
use super::budget::DutyBudget;
use super::compact::{self, Lookup};
use super::frame::{self, Frame, PacketId, RadioKey};
use super::message::{
    ChannelDigest, ChannelPrefix, IdPrefix, MAX_IDS, MAX_SUMMARY_CHANNELS, Message,
};
use super::queue::{Priority, Queue};

/// The share of the legal duty cycle the bridge plans with: the modem's carrier sense may
/// start a frame a little later than planned, and the regulatory budget must hold anyway.
pub const BUDGET_SHARE: f64 = 0.97;
/// Relays pending at once.
pub const MAX_RELAYS: usize = 64;
/// A relay waits this long at least, plus up to [`RELAY_JITTER_MS`], and is cancelled if
/// another boat relays the same packet meanwhile (managed flooding, as Meshtastic does).
pub const RELAY_DELAY_MS: u64 = 300;
/// Random part of the relay delay.
pub const RELAY_JITTER_MS: u64 = 2500;

/// How the bridge behaves.
#[derive(Debug, Clone)]
pub struct Config {
    /// Hops a frame may take after its origin (Meshtastic's default is 3).
    pub hop_limit: u8,
    /// Mean time between two catch-up summaries, in ms.
    pub beacon_interval_ms: u64,
    /// The most events sent per hour to answer catch-up requests.
    pub catchup_per_hour: u32,
    /// Frames per priority class and radio.
    pub queue_cap: usize,
    /// Events per channel a summary fingerprints.
    pub recent: usize,
    /// How deep (in events from the newest) older inventory windows go: a boat behind by
    /// more than this in a channel does not get the oldest by radio.
    pub catchup_depth: usize,
    /// Ids per inventory (at most [`MAX_IDS`]; as many as `recent`, so that any difference
    /// a summary reveals is in the inventory that answers it).
    pub inventory_len: usize,
    /// Packet ids and event ids remembered for duplicate suppression.
    pub seen_cap: usize,
    /// Incomplete messages kept at once.
    pub reassembly_cap: usize,
    /// An incomplete message is dropped after this many ms.
    pub reassembly_timeout_ms: u64,
    /// Only events younger than this (by their HLC) go on air as they are accepted: history
    /// synced in bulk over IP stays off the air (catch-up offers what LoRa boats lack).
    pub live_window_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            hop_limit: 3,
            beacon_interval_ms: 300_000,
            catchup_per_hour: 60,
            queue_cap: 128,
            recent: 32,
            catchup_depth: 256,
            inventory_len: MAX_IDS,
            seen_cap: 4096,
            reassembly_cap: 32,
            reassembly_timeout_ms: 120_000,
            live_window_ms: 600_000,
        }
    }
}

/// One radio's settings.
#[derive(Debug, Clone)]
pub struct RadioConfig {
    /// Modulation (for airtime).
    pub params: RadioParams,
    /// Largest frame, header included.
    pub mtu: usize,
    /// Duty cycle allowed (0.01 for 1 %).
    pub duty: f64,
    /// Relay other boats' frames on this radio (off for Meshtastic, whose firmware floods).
    pub relay: bool,
}

impl RadioConfig {
    /// A radio with the default MTU of its spreading factor.
    pub fn new(params: RadioParams, duty: f64) -> Self {
        RadioConfig {
            mtu: params.default_mtu(),
            params,
            duty,
            relay: true,
        }
    }
}

/// Input to the bridge.
#[derive(Debug, Clone)]
pub enum InEvent {
    /// A frame heard on `radio`.
    Received {
        /// Which radio.
        radio: usize,
        /// The frame.
        frame: Vec<u8>,
    },
    /// An event the node accepted (written here or received over IP or LoRa).
    Local(SignedEvent),
    /// Time passed: send what is due (call every few tens of ms).
    Tick,
}

/// Output of the bridge.
#[derive(Debug, Clone)]
pub enum OutEvent {
    /// Send this frame on `radio` now.
    Transmit {
        /// Which radio.
        radio: usize,
        /// The frame.
        frame: Vec<u8>,
        /// Its airtime, in µs.
        airtime_us: u64,
    },
    /// An event rebuilt and verified from the air, new to this node: ingest it.
    Deliver {
        /// The event.
        event: SignedEvent,
        /// Hops it took (1 = heard from its origin).
        hops: u8,
    },
    /// An event this node accepted was queued on the radios (it leaves by LoRa).
    Queued {
        /// The event.
        id: EventId,
    },
}

/// Counters of one radio.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RadioStats {
    /// Frames sent.
    pub frames_sent: u64,
    /// Bytes sent.
    pub bytes_sent: u64,
    /// Airtime sent, all time, in µs.
    pub airtime_us: u64,
    /// Airtime sent in the last hour, in µs.
    pub airtime_hour_us: u64,
    /// The hourly limit, in µs.
    pub airtime_limit_us: u64,
    /// Frames heard.
    pub frames_heard: u64,
    /// Frames of other networks, or that did not authenticate.
    pub foreign: u64,
    /// Duplicate messages dropped.
    pub duplicates: u64,
    /// Messages relayed.
    pub relayed: u64,
    /// Events delivered to the node.
    pub delivered: u64,
    /// Frames waiting.
    pub queued: usize,
}

#[derive(Debug)]
struct Radio {
    cfg: RadioConfig,
    queue: Queue,
    budget: DutyBudget,
    busy_until_ms: u64,
    /// The last frame sent: when, and its airtime in ms.
    last_sent: (u64, u64),
    stats: RadioStats,
}

#[derive(Debug)]
struct Relay {
    due_ms: u64,
    key: (u8, PacketId),
    hops: u8,
    class: Priority,
    frames: Vec<Vec<u8>>,
}

/// A message heard on air, as its frames.
#[derive(Debug, Clone, Copy)]
struct Heard<'a> {
    radio: usize,
    key: (u8, PacketId),
    hops: u8,
    frames: &'a [Vec<u8>],
}

/// Where the older inventories of one channel are.
#[derive(Debug, Clone, Copy, Default)]
struct Window {
    /// How many of the newest ids the next older inventory skips.
    next: usize,
    /// The other's item count when every window had been sent, and when: no more until it
    /// changes or [`EXHAUSTED_RETRY_MS`] has passed (an answer lost on the air is offered again).
    exhausted_at: Option<(u64, u64)>,
}

/// After every inventory window of a channel was shown to a boat that still holds fewer
/// events, how long before the windows are shown again: the events it asked for may have been
/// lost on the air (frames are not acknowledged).
pub const EXHAUSTED_RETRY_MS: u64 = 30 * 60_000;

/// Channels whose inventory window is remembered.
pub const MAX_WINDOWS: usize = 256;

#[derive(Debug)]
struct Partial {
    radio: usize,
    first_ms: u64,
    frames: Vec<Option<Vec<u8>>>,
}

/// A bounded set: the oldest entries are forgotten first.
#[derive(Debug)]
struct Seen<T: std::hash::Hash + Eq + Clone> {
    set: HashSet<T>,
    order: VecDeque<T>,
    cap: usize,
}

impl<T: std::hash::Hash + Eq + Clone> Seen<T> {
    fn new(cap: usize) -> Self {
        Seen {
            set: HashSet::new(),
            order: VecDeque::new(),
            cap: cap.max(1),
        }
    }

    /// Inserts; false if it was there.
    fn insert(&mut self, v: T) -> bool {
        if !self.set.insert(v.clone()) {
            return false;
        }
        self.order.push_back(v);
        if self.order.len() > self.cap
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        true
    }

    fn contains(&self, v: &T) -> bool {
        self.set.contains(v)
    }
}

/// The bridge. See the module docs.
#[derive(Debug)]
pub struct Bridge<R: Entropy> {
    config: Config,
    radios: Vec<Radio>,
    rng: R,
    packets: Seen<(u8, PacketId)>,
    events: Seen<EventId>,
    partial: BTreeMap<(u8, PacketId), Partial>,
    relays: Vec<Relay>,
    next_beacon_ms: Option<u64>,
    catchup_sent: VecDeque<u64>,
    catchup_total: u64,
    /// Rate limits: (flotilla, channel prefix) → last inventory; id prefix → last want.
    inventories: HashMap<(FlotillaId, ChannelPrefix), u64>,
    windows: HashMap<(FlotillaId, ChannelPrefix), Window>,
    wants: HashMap<IdPrefix, u64>,
    out: Vec<OutEvent>,
}

impl<R: Entropy> Bridge<R> {
    /// A bridge over `radios`.
    pub fn new(config: Config, radios: Vec<RadioConfig>, rng: R) -> Self {
        let radios = radios
            .into_iter()
            .map(|cfg| Radio {
                queue: Queue::new(config.queue_cap),
                budget: DutyBudget::new(cfg.duty * BUDGET_SHARE),
                busy_until_ms: 0,
                last_sent: (0, 0),
                stats: RadioStats::default(),
                cfg,
            })
            .collect();
        Bridge {
            packets: Seen::new(config.seen_cap),
            events: Seen::new(config.seen_cap),
            config,
            radios,
            rng,
            partial: BTreeMap::new(),
            relays: Vec::new(),
            next_beacon_ms: None,
            catchup_sent: VecDeque::new(),
            catchup_total: 0,
            inventories: HashMap::new(),
            windows: HashMap::new(),
            wants: HashMap::new(),
            out: Vec::new(),
        }
    }

    /// Processes one input at `now_ms` and returns what to do, in order.
    pub fn handle(&mut self, ev: InEvent, now_ms: u64, lookup: &impl Lookup) -> Vec<OutEvent> {
        match ev {
            InEvent::Received { radio, frame } => self.on_frame(radio, &frame, now_ms, lookup),
            InEvent::Local(event) => self.on_local(&event, now_ms, lookup),
            InEvent::Tick => self.on_tick(now_ms, lookup),
        }
        self.pump(now_ms);
        std::mem::take(&mut self.out)
    }

    /// Each radio's counters as of `now_ms`.
    pub fn stats(&mut self, now_ms: u64) -> Vec<RadioStats> {
        self.radios
            .iter_mut()
            .map(|r| RadioStats {
                airtime_hour_us: r.budget.used_us(now_ms),
                airtime_limit_us: r.budget.limit_us(),
                queued: r.queue.len(),
                ..r.stats.clone()
            })
            .collect()
    }

    /// Events sent to answer catch-up requests since the start.
    pub fn catchup_answered(&self) -> u64 {
        self.catchup_total
    }

    /// Frames waiting in one priority class on `radio`.
    pub fn queued(&self, radio: usize, class: Priority) -> usize {
        self.radios.get(radio).map_or(0, |r| r.queue.len_of(class))
    }

    fn on_local(&mut self, event: &SignedEvent, now_ms: u64, lookup: &impl Lookup) {
        if !self.events.insert(event.id()) {
            return; // came from the air, or sent already
        }
        if event.hlc().ms.saturating_add(self.config.live_window_ms) < now_ms {
            return; // history, not news
        }
        let Some(class) = compact::classify(event, lookup) else {
            return;
        };
        let flotilla = event.envelope().flotilla;
        if let Ok(bytes) = compact::encode(event, lookup, false)
            && self.send(&flotilla, &Message::Event(bytes), class, lookup)
        {
            self.out.push(OutEvent::Queued { id: event.id() });
        }
    }

    /// Seals `msg` for every radio and queues it; false if it may not go on air.
    fn send(
        &mut self,
        flotilla: &FlotillaId,
        msg: &Message,
        class: Priority,
        lookup: &impl Lookup,
    ) -> bool {
        let Some(key) = lookup
            .radio_keys()
            .into_iter()
            .find(|k| k.flotilla == *flotilla)
        else {
            return false; // not allowed on the radio, or no key yet
        };
        let id: PacketId = self.rng.array();
        self.packets.insert((key.tag(), id));
        let bytes = msg.encode();
        for radio in &mut self.radios {
            let hops = if radio.cfg.relay {
                self.config.hop_limit
            } else {
                0
            };
            if let Ok(frames) = frame::seal(&key, id, hops, &bytes, radio.cfg.mtu) {
                radio.queue.push(class, frames);
            }
        }
        true
    }

    fn pump(&mut self, now_ms: u64) {
        let (due, later): (Vec<Relay>, Vec<Relay>) = std::mem::take(&mut self.relays)
            .into_iter()
            .partition(|r| r.due_ms <= now_ms);
        self.relays = later;
        for relay in due {
            for r in self.radios.iter_mut().filter(|r| r.cfg.relay) {
                r.queue.push(relay.class, relay.frames.clone());
            }
        }
        for (i, radio) in self.radios.iter_mut().enumerate() {
            if now_ms < radio.busy_until_ms {
                continue;
            }
            let Some(airtime_us) = radio
                .queue
                .peek()
                .map(|f| radio.cfg.params.airtime_us(f.len()))
            else {
                continue;
            };
            if !radio.budget.allows(now_ms, airtime_us) {
                continue;
            }
            let Some(frame) = radio.queue.pop() else {
                continue;
            };
            radio.budget.record(now_ms, airtime_us);
            let gap = 20 + self.rng.next_u64() % 200;
            radio.busy_until_ms = now_ms + airtime_us.div_ceil(1000) + gap;
            radio.last_sent = (now_ms, airtime_us.div_ceil(1000));
            radio.stats.frames_sent += 1;
            radio.stats.bytes_sent += frame.len() as u64;
            radio.stats.airtime_us += airtime_us;
            self.out.push(OutEvent::Transmit {
                radio: i,
                frame,
                airtime_us,
            });
        }
    }

    fn on_frame(&mut self, radio: usize, bytes: &[u8], now_ms: u64, lookup: &impl Lookup) {
        let Some(r) = self.radios.get_mut(radio) else {
            return;
        };
        r.stats.frames_heard += 1;
        // The channel was busy: our last frame, handed to the modem just before, may have
        // waited for it (carrier sense) and be on air only now. Hand the modem nothing more
        // until it is surely out, so that its FIFO never holds more than one frame and
        // priorities stay ours.
        let (sent_at, sent_ms) = r.last_sent;
        if now_ms < sent_at + 4 * sent_ms + 2000 {
            r.busy_until_ms = r.busy_until_ms.max(now_ms + sent_ms + 20);
        }
        let keys = lookup.radio_keys();
        let Ok(f) = Frame::parse(bytes) else {
            r.stats.foreign += 1;
            return;
        };
        if !keys.iter().any(|k| k.tag() == f.net) {
            r.stats.foreign += 1;
            return;
        }
        let key = (f.net, f.id);
        if self.packets.contains(&key) {
            r.stats.duplicates += 1;
            // Someone else relayed it at least as far: ours is not needed.
            self.relays.retain(|p| !(p.key == key && f.hops >= p.hops));
            return;
        }
        self.partial
            .retain(|_, p| p.first_ms + self.config.reassembly_timeout_ms > now_ms);
        if !self.partial.contains_key(&key) && self.partial.len() >= self.config.reassembly_cap {
            let oldest = self
                .partial
                .iter()
                .min_by_key(|(_, p)| p.first_ms)
                .map(|(k, _)| *k);
            if let Some(k) = oldest {
                self.partial.remove(&k);
            }
        }
        let p = self.partial.entry(key).or_insert_with(|| Partial {
            radio,
            first_ms: now_ms,
            frames: vec![None; usize::from(f.count)],
        });
        if p.frames.len() != usize::from(f.count) {
            return; // inconsistent count: not ours
        }
        p.frames[usize::from(f.index)] = Some(bytes.to_vec());
        if p.frames.iter().any(Option::is_none) {
            return;
        }
        let Some(p) = self.partial.remove(&key) else {
            return;
        };
        let frames: Vec<Vec<u8>> = p.frames.into_iter().flatten().collect();
        let sealed: Vec<u8> = frames
            .iter()
            .filter_map(|b| Frame::parse(b).ok())
            .flat_map(|fr| fr.body.to_vec())
            .collect();
        let Ok((flotilla, plain)) = frame::open(&keys, f.net, &f.id, f.count, &sealed) else {
            self.radios[p.radio].stats.foreign += 1;
            return;
        };
        self.packets.insert(key);
        match Message::decode(&plain) {
            Ok(Message::Event(compact)) => {
                let heard = Heard {
                    radio: p.radio,
                    key,
                    hops: f.hops,
                    frames: &frames,
                };
                self.on_event(&heard, &flotilla, &compact, now_ms, lookup)
            }
            Ok(Message::Summary(digests)) => self.on_summary(&flotilla, &digests, now_ms, lookup),
            Ok(Message::Inventory { channel, ids }) => {
                self.on_inventory(&flotilla, &channel, &ids, now_ms, lookup)
            }
            Ok(Message::Want { full, ids }) => self.on_want(&flotilla, full, &ids, now_ms, lookup),
            Err(_) => {}
        }
    }

    fn on_event(
        &mut self,
        heard: &Heard<'_>,
        flotilla: &FlotillaId,
        bytes: &[u8],
        now_ms: u64,
        lookup: &impl Lookup,
    ) {
        let Heard {
            radio,
            key,
            hops,
            frames,
        } = *heard;
        let event = compact::decode(flotilla, bytes, lookup);
        let class = match &event {
            Ok(e) => compact::classify(e, lookup).unwrap_or(Priority::Post),
            Err(_) => Priority::Post,
        };
        // Relay the same frames, one hop more, after a random delay, on radios that relay.
        let relayed: Vec<Vec<u8>> = frames
            .iter()
            .filter_map(|f| frame::with_one_more_hop(f))
            .collect();
        if relayed.len() == frames.len()
            && !relayed.is_empty()
            && self.radios.iter().any(|r| r.cfg.relay)
            && self.relays.len() < MAX_RELAYS
        {
            self.radios[radio].stats.relayed += 1;
            self.relays.push(Relay {
                due_ms: now_ms + RELAY_DELAY_MS + self.rng.next_u64() % RELAY_JITTER_MS,
                key,
                hops: hops + 1,
                class,
                frames: relayed,
            });
        }
        match event {
            Ok(event) => {
                if self.events.insert(event.id()) && lookup.event(&event.id()).is_none() {
                    self.radios[radio].stats.delivered += 1;
                    self.out.push(OutEvent::Deliver {
                        event,
                        hops: hops.saturating_add(1),
                    });
                }
            }
            Err(super::LoraError::Unresolved(_)) => {
                if let Some(id) = compact::peek_id(bytes) {
                    self.ask(flotilla, true, vec![id], u64::MAX, lookup);
                }
            }
            Err(_) => {}
        }
    }

    /// Sends a want for `ids` not asked within a beacon interval (`now_ms = u64::MAX`: always).
    fn ask(
        &mut self,
        flotilla: &FlotillaId,
        full: bool,
        ids: Vec<IdPrefix>,
        now_ms: u64,
        lookup: &impl Lookup,
    ) {
        let ids: Vec<IdPrefix> = ids
            .into_iter()
            .filter(|id| {
                let last = self.wants.get(id).copied();
                let again = self.config.beacon_interval_ms;
                let fresh = now_ms == u64::MAX || last.is_none_or(|t| t + again <= now_ms);
                if fresh && now_ms != u64::MAX {
                    self.wants.insert(*id, now_ms);
                }
                fresh
            })
            .take(MAX_IDS)
            .collect();
        if self.wants.len() > self.config.seen_cap {
            self.wants.clear();
        }
        if !ids.is_empty() {
            self.send(
                flotilla,
                &Message::Want { full, ids },
                Priority::Minor,
                lookup,
            );
        }
    }

    fn on_tick(&mut self, now_ms: u64, lookup: &impl Lookup) {
        let interval = self.config.beacon_interval_ms.max(1000);
        let Some(at) = self.next_beacon_ms else {
            self.next_beacon_ms =
                Some(now_ms + interval / 10 + self.rng.next_u64() % (interval / 2));
            return;
        };
        if now_ms < at {
            return;
        }
        let jitter = self.rng.next_u64() % (interval * 2 / 5 + 1);
        self.next_beacon_ms = Some(now_ms + interval * 4 / 5 + jitter);
        if self
            .radios
            .iter()
            .any(|r| r.queue.len_of(Priority::CatchUp) > 0)
        {
            return; // the last catch-up has not left yet
        }
        let mut flotillas: Vec<FlotillaId> =
            lookup.radio_keys().iter().map(|k| k.flotilla).collect();
        flotillas.dedup();
        for flotilla in flotillas {
            let digests = self.digests(&flotilla, lookup);
            self.send(
                &flotilla,
                &Message::Summary(digests),
                Priority::CatchUp,
                lookup,
            );
        }
    }

    fn all_channels(flotilla: &FlotillaId, lookup: &impl Lookup) -> Vec<ChannelId> {
        let mut channels = vec![ChannelId::CONTROL];
        channels.extend(lookup.channels(flotilla));
        channels
    }

    /// This node's digests of its most recently active channels.
    fn digests(&self, flotilla: &FlotillaId, lookup: &impl Lookup) -> Vec<ChannelDigest> {
        let mut all: Vec<(u64, ChannelDigest)> = Self::all_channels(flotilla, lookup)
            .iter()
            .filter_map(|c| {
                let items = lookup.items(flotilla, c);
                let last = items.last()?.0;
                Some((last, self.digest(c, &items)))
            })
            .collect();
        all.sort_by_key(|(last, _)| std::cmp::Reverse(*last));
        all.into_iter()
            .take(MAX_SUMMARY_CHANNELS)
            .map(|(_, d)| d)
            .collect()
    }

    fn digest(&self, channel: &ChannelId, items: &[crate::store::Item]) -> ChannelDigest {
        let recent = &items[items.len().saturating_sub(self.config.recent)..];
        let mut h = blake3::Hasher::new_derive_key("flotilla/v1 lora summary");
        for (_, id) in recent {
            h.update(&id.0);
        }
        let mut fingerprint = [0u8; 4];
        fingerprint.copy_from_slice(&h.finalize().as_bytes()[..4]);
        let mut channel_prefix = [0u8; 2];
        channel_prefix.copy_from_slice(&channel.0[..2]);
        ChannelDigest {
            channel: channel_prefix,
            items: items.len() as u64,
            fingerprint,
        }
    }

    fn on_summary(
        &mut self,
        flotilla: &FlotillaId,
        digests: &[ChannelDigest],
        now_ms: u64,
        lookup: &impl Lookup,
    ) {
        let listed: HashSet<ChannelPrefix> = digests.iter().map(|d| d.channel).collect();
        for channel in Self::all_channels(flotilla, lookup) {
            let items = lookup.items(flotilla, &channel);
            if items.is_empty() {
                continue;
            }
            let mine = self.digest(&channel, &items);
            let theirs = digests.iter().find(|d| d.channel == mine.channel);
            let newest = match theirs {
                Some(d) => d.fingerprint != mine.fingerprint,
                None => digests.len() < MAX_SUMMARY_CHANNELS && !listed.contains(&mine.channel),
            };
            let behind = theirs.filter(|d| !newest && d.items < mine.items);
            if !newest && behind.is_none() {
                continue;
            }
            let key = (*flotilla, mine.channel);
            let interval = self.config.beacon_interval_ms / 2;
            if self
                .inventories
                .get(&key)
                .is_some_and(|t| t + interval > now_ms)
            {
                continue;
            }
            let len = self.config.inventory_len.clamp(1, MAX_IDS);
            let depth = self.config.catchup_depth;
            let skip = match behind {
                None => {
                    self.window(key).next = len;
                    0
                }
                Some(d) => {
                    let w = self.window(key);
                    if w.exhausted_at
                        .is_some_and(|(n, at)| n == d.items && now_ms < at + EXHAUSTED_RETRY_MS)
                    {
                        continue; // shown them all: the rest does not cross the air
                    }
                    let skip = w.next.max(len);
                    if skip >= items.len().min(depth) {
                        *w = Window {
                            next: len,
                            exhausted_at: Some((d.items, now_ms)),
                        };
                        continue;
                    }
                    w.next = skip + len;
                    skip
                }
            };
            self.inventories.insert(key, now_ms);
            let ids: Vec<IdPrefix> = items
                .iter()
                .rev()
                .skip(skip)
                .take(len)
                .map(|(_, id)| compact::id_prefix(id))
                .collect();
            let msg = Message::Inventory {
                channel: mine.channel,
                ids,
            };
            self.send(flotilla, &msg, Priority::Minor, lookup);
        }
    }

    /// The inventory window of a channel (the map is bounded by [`MAX_WINDOWS`]).
    fn window(&mut self, key: (FlotillaId, ChannelPrefix)) -> &mut Window {
        if self.windows.len() >= MAX_WINDOWS && !self.windows.contains_key(&key) {
            self.windows.clear();
        }
        self.windows.entry(key).or_default()
    }

    fn on_inventory(
        &mut self,
        flotilla: &FlotillaId,
        channel: &ChannelPrefix,
        ids: &[IdPrefix],
        now_ms: u64,
        lookup: &impl Lookup,
    ) {
        let Some(ch) = Self::all_channels(flotilla, lookup)
            .into_iter()
            .find(|c| c.0.starts_with(channel))
        else {
            return;
        };
        let mine: HashSet<IdPrefix> = lookup
            .items(flotilla, &ch)
            .iter()
            .map(|(_, id)| compact::id_prefix(id))
            .collect();
        let missing: Vec<IdPrefix> = ids
            .iter()
            .filter(|id| !mine.contains(*id))
            .copied()
            .collect();
        self.ask(flotilla, false, missing, now_ms, lookup);
    }

    fn on_want(
        &mut self,
        flotilla: &FlotillaId,
        full: bool,
        ids: &[IdPrefix],
        now_ms: u64,
        lookup: &impl Lookup,
    ) {
        while self
            .catchup_sent
            .front()
            .is_some_and(|t| t + super::budget::WINDOW_MS <= now_ms)
        {
            self.catchup_sent.pop_front();
        }
        let mut events: Vec<(Priority, SignedEvent)> = ids
            .iter()
            .filter_map(|p| compact::find_events(lookup, flotilla, p).into_iter().next())
            .filter_map(|id| lookup.event(&id))
            .filter_map(|e| compact::classify(&e, lookup).map(|c| (c, e)))
            .collect();
        // Text first: urgent and posts before reactions and edits; older before newer.
        events.sort_by_key(|(c, e)| (*c, e.hlc()));
        for (_, event) in events {
            if self.catchup_sent.len() >= self.config.catchup_per_hour as usize {
                break;
            }
            if let Ok(bytes) = compact::encode(&event, lookup, full) {
                self.catchup_sent.push_back(now_ms);
                self.catchup_total += 1;
                self.events.insert(event.id());
                self.send(flotilla, &Message::Event(bytes), Priority::CatchUp, lookup);
            }
        }
    }
}

/// Radio keys for one flotilla from its epoch keys (newest first).
pub fn radio_keys(flotilla: FlotillaId, epochs: &[crate::crypto::SymmetricKey]) -> Vec<RadioKey> {
    epochs
        .iter()
        .map(|k| RadioKey::derive(flotilla, k))
        .collect()
}

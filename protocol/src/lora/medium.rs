//! The LoRa air, as a pure model (time is an input): radios sharing one channel. Used by the
//! seeded simulator ([`super::sim`]) and by `flotilla lora-air` (node/src/lora/air.rs), so the
//! two behave the same.
//!
//! - A frame handed to a radio's modem ([`Medium::submit`]) waits in its FIFO (at most
//!   [`MODEM_QUEUE`]); it goes on air after carrier sense: the modem waits for a channel it
//!   hears clear, with a random backoff ([`BACKOFF_MIN_MS`] + up to [`BACKOFF_JITTER_MS`]), as
//!   RNode does ([`Medium::transmit`]).
//! - It lasts the Semtech airtime of its size ([`RadioParams::airtime_us`]).
//! - At its end ([`Medium::land`]) it reaches every radio in range unless that radio was
//!   transmitting meanwhile (half duplex), another transmission it hears overlapped
//!   (collision), or the random loss hit.
//! - With a duty cycle, a frame over the radio's budget over a sliding hour is dropped, as a
//!   regulated modem would; without one the medium only measures (the simulator checks the
//!   bridge's own budget).

use std::collections::VecDeque;

use crate::entropy::Entropy;

use super::airtime::RadioParams;
use super::budget::{DutyBudget, WINDOW_MS};

/// Frames waiting in one modem's FIFO (the oldest is dropped beyond).
pub const MODEM_QUEUE: usize = 64;
/// Least backoff after hearing the channel busy, in ms.
pub const BACKOFF_MIN_MS: u64 = 10;
/// Random part of the backoff, in ms.
pub const BACKOFF_JITTER_MS: u64 = 300;
/// Ended transmissions are kept this long (to find overlaps with longer ones).
pub const DONE_KEEP_MS: u64 = 60_000;

/// The medium's settings.
#[derive(Debug, Clone)]
pub struct MediumConfig {
    /// Modulation of every radio.
    pub params: RadioParams,
    /// Probability that a receiver misses a frame.
    pub loss: f64,
    /// Duty cycle each modem enforces (`None`: measured only).
    pub duty: Option<f64>,
}

/// One radio's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediumStats {
    /// Frames sent.
    pub tx_frames: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Airtime sent, in µs.
    pub airtime_us: u64,
    /// Frames received.
    pub rx_frames: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Frames lost to collisions at this receiver.
    pub collisions: u64,
    /// Frames lost at random at this receiver.
    pub lost: u64,
    /// Frames dropped because this radio was over its duty cycle.
    pub duty_drops: u64,
    /// Frames dropped because the modem's FIFO was full.
    pub queue_drops: u64,
    /// The most airtime spent in any sliding hour, in µs.
    pub worst_hour_us: u64,
}

/// What happened on air during a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AirEvent {
    /// `radio` started sending a frame of `bytes` at `start_ms`.
    Sent {
        /// Which radio.
        radio: usize,
        /// Frame size.
        bytes: usize,
        /// Its airtime, in µs.
        airtime_us: u64,
        /// When it started.
        start_ms: u64,
    },
    /// `radio` was over its duty cycle: the frame was dropped.
    OverBudget {
        /// Which radio.
        radio: usize,
        /// Frame size.
        bytes: usize,
    },
    /// `radio` heard `frame`.
    Heard {
        /// Which radio.
        radio: usize,
        /// The frame.
        frame: Vec<u8>,
    },
}

#[derive(Debug, Clone)]
struct Transmission {
    from: usize,
    start: u64,
    end: u64,
    frame: Vec<u8>,
}

#[derive(Debug)]
struct Modem {
    pending: VecDeque<Vec<u8>>,
    busy_until: u64,
    next_try: u64,
    budget: Option<DutyBudget>,
    /// (start ms, airtime µs) within the last hour, for `worst_hour_us`.
    recent: VecDeque<(u64, u64)>,
    stats: MediumStats,
}

/// The shared channel. See the module docs.
#[derive(Debug)]
pub struct Medium<R: Entropy> {
    params: RadioParams,
    loss: f64,
    rng: R,
    hears: Option<Vec<Vec<bool>>>,
    modems: Vec<Modem>,
    flying: Vec<Transmission>,
    done: Vec<Transmission>,
}

impl<R: Entropy> Medium<R> {
    /// `radios` radios; all hear all until [`Medium::set_hears`].
    pub fn new(radios: usize, cfg: &MediumConfig, rng: R) -> Self {
        Medium {
            params: cfg.params,
            loss: cfg.loss,
            rng,
            hears: None,
            modems: (0..radios)
                .map(|_| Modem {
                    pending: VecDeque::new(),
                    busy_until: 0,
                    next_try: 0,
                    budget: cfg.duty.map(DutyBudget::new),
                    recent: VecDeque::new(),
                    stats: MediumStats::default(),
                })
                .collect(),
            flying: Vec::new(),
            done: Vec::new(),
        }
    }

    /// Who hears whom: `hears[a][b]` when b hears a (`None`: everyone; a radio missing from
    /// the matrix hears and is heard by nobody).
    pub fn set_hears(&mut self, hears: Option<Vec<Vec<bool>>>) {
        self.hears = hears;
    }

    /// Who hears whom from pairs `(a, b)` that hear each other.
    pub fn set_pairs(&mut self, pairs: &[(usize, usize)]) {
        let n = self.modems.len();
        let mut m = vec![vec![false; n]; n];
        for &(a, b) in pairs {
            if a < n && b < n {
                m[a][b] = true;
                m[b][a] = true;
            }
        }
        self.hears = Some(m);
    }

    /// Does `to` hear `from`?
    pub fn hears(&self, from: usize, to: usize) -> bool {
        from != to
            && self.hears.as_ref().is_none_or(|h| {
                h.get(from)
                    .and_then(|row| row.get(to))
                    .copied()
                    .unwrap_or(false)
            })
    }

    /// The modem of `radio` is handed `frame` (dropped if `radio` does not exist).
    pub fn submit(&mut self, radio: usize, frame: Vec<u8>) {
        let Some(m) = self.modems.get_mut(radio) else {
            return;
        };
        if m.pending.len() >= MODEM_QUEUE {
            m.pending.pop_front();
            m.stats.queue_drops += 1;
        }
        m.pending.push_back(frame);
    }

    /// Each radio's counters.
    pub fn stats(&self) -> Vec<MediumStats> {
        self.modems.iter().map(|m| m.stats.clone()).collect()
    }

    /// The duty cycle's airtime per hour, in µs (0 when not enforced).
    pub fn limit_us(&self) -> u64 {
        self.modems
            .first()
            .and_then(|m| m.budget.as_ref())
            .map_or(0, DutyBudget::limit_us)
    }

    /// When something may next happen (a transmission ends, a modem may try), at most
    /// 1 s after `now_ms`.
    pub fn next_wake(&self, now_ms: u64) -> u64 {
        let mut wake = now_ms + 1000;
        for t in &self.flying {
            wake = wake.min(t.end);
        }
        for m in self.modems.iter().filter(|m| !m.pending.is_empty()) {
            wake = wake.min(m.busy_until.max(m.next_try).max(now_ms + 1));
        }
        wake
    }

    /// Delivers the transmissions that ended by `now_ms`.
    pub fn land(&mut self, now_ms: u64) -> Vec<AirEvent> {
        let (ended, flying): (Vec<_>, Vec<_>) = std::mem::take(&mut self.flying)
            .into_iter()
            .partition(|t| t.end <= now_ms);
        self.flying = flying;
        self.done.retain(|t| t.end + DONE_KEEP_MS > now_ms);
        self.done.extend(ended.iter().cloned());
        let mut out = Vec::new();
        for tx in ended {
            for to in 0..self.modems.len() {
                if !self.hears(tx.from, to) {
                    continue;
                }
                let overlaps = |o: &Transmission| o.start < tx.end && tx.start < o.end;
                let all = || self.done.iter().chain(&self.flying);
                if all().any(|o| o.from == to && overlaps(o)) {
                    continue; // half duplex: it was sending
                }
                let collided = all().any(|o| {
                    o.from != tx.from && o.from != to && self.hears(o.from, to) && overlaps(o)
                });
                if collided {
                    self.modems[to].stats.collisions += 1;
                    continue;
                }
                let roll = (self.rng.next_u64() % 1_000_000) as f64 / 1_000_000.0;
                let s = &mut self.modems[to].stats;
                if roll < self.loss {
                    s.lost += 1;
                    continue;
                }
                s.rx_frames += 1;
                s.rx_bytes += tx.frame.len() as u64;
                out.push(AirEvent::Heard {
                    radio: to,
                    frame: tx.frame.clone(),
                });
            }
        }
        out
    }

    /// Every idle modem with a frame starts sending it if it hears the channel clear.
    pub fn transmit(&mut self, now_ms: u64) -> Vec<AirEvent> {
        let mut out = Vec::new();
        for i in 0..self.modems.len() {
            if let Some(ev) = self.carrier_sense(i, now_ms) {
                out.push(ev);
            }
        }
        out
    }

    fn carrier_sense(&mut self, i: usize, now: u64) -> Option<AirEvent> {
        let m = &self.modems[i];
        if m.pending.is_empty() || m.busy_until > now || m.next_try > now {
            return None;
        }
        if self.flying.iter().any(|t| self.hears(t.from, i)) {
            let backoff = BACKOFF_MIN_MS + self.rng.next_u64() % BACKOFF_JITTER_MS;
            self.modems[i].next_try = now + backoff;
            return None;
        }
        let m = &mut self.modems[i];
        let frame = m.pending.pop_front()?;
        let airtime_us = self.params.airtime_us(frame.len());
        if let Some(budget) = &mut m.budget {
            if !budget.allows(now, airtime_us) {
                m.stats.duty_drops += 1;
                return Some(AirEvent::OverBudget {
                    radio: i,
                    bytes: frame.len(),
                });
            }
            budget.record(now, airtime_us);
        }
        m.recent.push_back((now, airtime_us));
        while m
            .recent
            .front()
            .is_some_and(|(t, a)| t + a.div_ceil(1000) + WINDOW_MS <= now)
        {
            m.recent.pop_front();
        }
        let s = &mut m.stats;
        s.worst_hour_us = s.worst_hour_us.max(m.recent.iter().map(|(_, a)| a).sum());
        s.tx_frames += 1;
        s.tx_bytes += frame.len() as u64;
        s.airtime_us += airtime_us;
        let end = now + airtime_us.div_ceil(1000);
        m.busy_until = end;
        let bytes = frame.len();
        self.flying.push(Transmission {
            from: i,
            start: now,
            end,
            frame,
        });
        Some(AirEvent::Sent {
            radio: i,
            bytes,
            airtime_us,
            start_ms: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entropy::SeededEntropy;

    fn medium(n: usize, loss: f64, duty: Option<f64>) -> Medium<SeededEntropy> {
        let cfg = MediumConfig {
            params: RadioParams {
                sf: 7,
                ..RadioParams::default()
            },
            loss,
            duty,
        };
        Medium::new(n, &cfg, SeededEntropy::new(1))
    }

    /// Runs until nothing is flying or pending; returns what was heard, by radio.
    fn run(m: &mut Medium<SeededEntropy>, mut now: u64) -> (Vec<(usize, Vec<u8>)>, u64) {
        let mut heard = Vec::new();
        for _ in 0..100_000 {
            for ev in m.land(now).into_iter().chain(m.transmit(now)) {
                if let AirEvent::Heard { radio, frame } = ev {
                    heard.push((radio, frame));
                }
            }
            if m.flying.is_empty() && m.modems.iter().all(|x| x.pending.is_empty()) {
                break;
            }
            now = m.next_wake(now);
        }
        (heard, now)
    }

    #[test]
    fn a_frame_reaches_everyone_in_range_after_its_airtime() {
        let mut m = medium(3, 0.0, None);
        m.set_pairs(&[(0, 1)]);
        m.submit(0, vec![7; 50]);
        let started = m.transmit(0);
        let airtime = RadioParams {
            sf: 7,
            ..RadioParams::default()
        }
        .airtime_us(50);
        assert_eq!(
            started,
            vec![AirEvent::Sent {
                radio: 0,
                bytes: 50,
                airtime_us: airtime,
                start_ms: 0
            }]
        );
        assert!(m.land(airtime / 1000 - 1).is_empty(), "not before its end");
        let (heard, _) = run(&mut m, airtime.div_ceil(1000));
        assert_eq!(heard, vec![(1, vec![7; 50])], "radio 2 is out of range");
    }

    #[test]
    fn hidden_terminals_collide_and_carrier_sense_avoids_the_rest() {
        // 0 and 2 do not hear each other; 1 hears both: their frames collide at 1.
        let mut m = medium(3, 0.0, None);
        m.set_pairs(&[(0, 1), (1, 2)]);
        m.submit(0, vec![1; 100]);
        m.submit(2, vec![2; 100]);
        let (heard, _) = run(&mut m, 0);
        assert!(heard.is_empty(), "{heard:?}");
        assert_eq!(m.stats()[1].collisions, 2);
        // All hear all: the second waits for the first (carrier sense), both arrive.
        let mut m = medium(3, 0.0, None);
        m.submit(0, vec![1; 100]);
        m.submit(2, vec![2; 100]);
        let (heard, _) = run(&mut m, 0);
        assert_eq!(heard.len(), 4, "{heard:?}");
    }

    #[test]
    fn a_sending_radio_is_deaf_and_loss_is_counted() {
        let mut m = medium(2, 1.0, None);
        m.submit(0, vec![1; 10]);
        let (heard, _) = run(&mut m, 0);
        assert!(heard.is_empty());
        assert_eq!(m.stats()[1].lost, 1);
        // Half duplex: 1 hears 0 but 0 does not hear 1; 1 is sending when 0's frame comes.
        let mut m = medium(2, 0.0, None);
        m.set_hears(Some(vec![vec![false, true], vec![false, false]]));
        m.submit(1, vec![2; 200]);
        assert_eq!(m.transmit(0).len(), 1);
        m.submit(0, vec![1; 10]);
        assert_eq!(m.transmit(1).len(), 1, "0 does not hear 1: it sends");
        let (heard, _) = run(&mut m, 2);
        assert!(heard.is_empty(), "radio 1 was sending: {heard:?}");
        assert_eq!(m.stats()[1].rx_frames, 0);
    }

    #[test]
    fn the_duty_cycle_is_enforced_over_a_sliding_hour_and_the_fifo_is_bounded() {
        let mut m = medium(2, 0.0, Some(0.001)); // 3.6 s an hour
        for _ in 0..MODEM_QUEUE + 5 {
            m.submit(0, vec![0; 200]);
        }
        assert_eq!(m.stats()[0].queue_drops, 5);
        let _ = run(&mut m, 0);
        let s = &m.stats()[0];
        assert!(s.duty_drops > 0);
        assert!(s.worst_hour_us <= m.limit_us(), "{s:?}");
        assert_eq!(s.tx_frames + s.duty_drops, MODEM_QUEUE as u64);
    }
}

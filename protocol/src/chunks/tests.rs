//! Unit tests and a seeded simulator of several downloaders and sources.
//!
//! The simulator is a virtual clock and a queue of answers: each request is answered after
//! a random latency by its source (the chunk, "missing", corrupt bytes from a liar, or
//! nothing when lost), sources go down, downloaders restart from what they hold. `SEED`
//! picks the run; failures print it.

use std::collections::BTreeMap;

use super::*;
use crate::entropy::{Entropy, SeededEntropy};

fn cfg() -> Config {
    Config {
        max_in_flight: 6,
        max_per_peer: 3,
        timeout_ms: 1_000,
    }
}

fn set(len: u32, have: &[u32]) -> ChunkSet {
    let mut s = ChunkSet::empty(len);
    for i in have {
        s.insert(*i);
    }
    s
}

#[test]
fn sets_round_trip_and_ignore_stray_bits() {
    let s = set(11, &[0, 3, 10]);
    assert_eq!(s.as_bytes().len(), 2);
    let back = ChunkSet::from_bytes(11, &[0xff, 0xff]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back.count(), 11, "bits past the end are cleared");
    assert_eq!(ChunkSet::from_bytes(11, s.as_bytes()), Ok(s.clone()));
    assert!(ChunkSet::from_bytes(11, &[1]).is_err());
    assert_eq!(s.missing().count(), 8);
    assert!(ChunkSet::full(9).is_full() && !ChunkSet::full(9).contains(9));
}

#[test]
fn the_rarest_chunk_goes_first_and_to_the_least_busy_source() {
    let mut f = Fetch::new(cfg(), ChunkSet::empty(4));
    f.set_source(1u8, set(4, &[0, 1, 2, 3]));
    f.set_source(2u8, set(4, &[0, 1, 2]));
    f.set_source(3u8, set(4, &[0, 1]));
    let reqs = f.next_requests(0);
    assert_eq!(reqs[0], (1, 3), "chunk 3: one holder");
    assert_eq!(reqs[1].1, 2, "chunk 2: two holders");
    assert_eq!(reqs.len(), 4);
    let peers: std::collections::BTreeSet<u8> = reqs.iter().map(|r| r.0).collect();
    assert!(peers.len() >= 2, "several sources at once: {reqs:?}");
    assert!(f.next_requests(0).is_empty(), "no chunk asked twice");
}

#[test]
fn equally_rare_chunks_go_from_the_start_chunk_round() {
    let asked = |start: u32| -> Vec<u32> {
        let mut f = Fetch::new(cfg(), set(10, &[8])).starting_at(start);
        f.set_source(1u8, ChunkSet::full(10));
        f.set_source(2u8, ChunkSet::full(10));
        f.set_source(3u8, set(10, &[5]));
        f.next_requests(0).into_iter().map(|r| r.1).collect()
    };
    assert_eq!(
        asked(0),
        vec![0, 1, 2, 3, 4, 6],
        "chunk 5 has 3 holders: last"
    );
    assert_eq!(
        asked(7),
        vec![7, 9, 0, 1, 2, 3],
        "from 7 round, the held 8 skipped"
    );
    assert_eq!(asked(17), asked(7), "the start wraps");
    let mut empty = Fetch::<u8>::new(cfg(), ChunkSet::empty(0)).starting_at(3);
    assert!(empty.next_requests(0).is_empty() && empty.is_complete());
}

#[test]
fn bounds_hold_and_a_liar_is_banned() {
    let mut f = Fetch::new(cfg(), ChunkSet::empty(20));
    f.set_source(1u8, ChunkSet::full(20));
    let reqs = f.next_requests(0);
    assert_eq!(reqs.len(), 3, "max_per_peer with one source");
    f.failed(&1, reqs[0].1, Failure::Corrupt);
    assert_eq!(f.in_flight(), 0);
    f.set_source(1u8, ChunkSet::full(20));
    assert!(f.next_requests(0).is_empty() && f.is_waiting());
}

#[test]
fn timeouts_free_the_chunk_for_another_source() {
    let mut f = Fetch::new(cfg(), ChunkSet::empty(1));
    f.set_source(1u8, ChunkSet::full(1));
    assert_eq!(f.next_requests(0), vec![(1, 0)]);
    f.set_source(2u8, ChunkSet::full(1));
    assert!(f.next_requests(500).is_empty());
    assert_eq!(f.expire(1_000), vec![(1, 0)]);
    f.failed(&1, 0, Failure::Missing);
    assert_eq!(f.next_requests(1_000), vec![(2, 0)]);
    assert!(f.received(&2, 0) && f.is_complete() && f.progress() == 1.0);
}

#[test]
fn a_resumed_fetch_asks_only_what_is_missing() {
    let mut f = Fetch::new(cfg(), set(5, &[0, 1, 3]));
    f.set_source(9u8, ChunkSet::full(5));
    let mut asked: Vec<u32> = f.next_requests(0).into_iter().map(|r| r.1).collect();
    asked.sort_unstable();
    assert_eq!(asked, vec![2, 4]);
    assert!((f.progress() - 0.6).abs() < 1e-9);
}

/// What a source does with a request in the simulator.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Behaviour {
    Honest,
    Liar,
}

struct Source {
    holds: ChunkSet,
    behaviour: Behaviour,
    down_at: u64,
}

struct Downloader {
    fetch: Fetch<u8>,
    received: BTreeMap<u32, u32>,
    restarts: u32,
}

enum Answer {
    Chunk,
    Missing,
    Corrupt,
}

fn run_sim(seed: u64) {
    let mut rng = SeededEntropy::new(seed);
    let len = 8 + (rng.next_u64() % 40) as u32;
    let mut sources: BTreeMap<u8, Source> = BTreeMap::new();
    let n_sources = 2 + (rng.next_u64() % 4) as u8;
    for p in 0..n_sources {
        let mut holds = ChunkSet::empty(len);
        for i in 0..len {
            if p == 0 || !rng.next_u64().is_multiple_of(3) {
                holds.insert(i);
            }
        }
        let behaviour = if p == n_sources - 1 && rng.next_u64().is_multiple_of(2) {
            Behaviour::Liar
        } else {
            Behaviour::Honest
        };
        let down_at = if p == 0 {
            u64::MAX
        } else {
            200 + rng.next_u64() % 5_000
        };
        sources.insert(
            p,
            Source {
                holds,
                behaviour,
                down_at,
            },
        );
    }
    let mut downs: Vec<Downloader> = (0..3)
        .map(|_| Downloader {
            fetch: Fetch::new(cfg(), ChunkSet::empty(len)),
            received: BTreeMap::new(),
            restarts: 0,
        })
        .collect();
    let mut queue: BTreeMap<(u64, u64), (usize, u8, u32, Answer)> = BTreeMap::new();
    let mut seq = 0u64;
    let mut requests: Vec<(usize, u8, u32)> = Vec::new();
    let mut now = 0u64;
    let tell_sources = |d: &mut Downloader, now: u64, sources: &BTreeMap<u8, Source>| {
        for (p, s) in sources {
            if s.down_at > now {
                d.fetch.set_source(*p, s.holds.clone());
            }
        }
    };
    for d in &mut downs {
        tell_sources(d, now, &sources);
    }
    while now < 120_000 && !downs.iter().all(|d| d.fetch.is_complete()) {
        for (di, d) in downs.iter_mut().enumerate() {
            if di == 1 && d.restarts == 0 && now >= 700 {
                // a restart: everything in flight is forgotten, the disk is kept
                d.fetch = Fetch::new(cfg(), d.fetch.have().clone());
                d.restarts += 1;
                tell_sources(d, now, &sources);
            }
            for (p, s) in &sources {
                if s.down_at <= now {
                    d.fetch.peer_down(p);
                }
            }
            d.fetch.expire(now);
            assert!(d.fetch.in_flight() <= cfg().max_in_flight, "seed {seed}");
            for (peer, index) in d.fetch.next_requests(now) {
                requests.push((di, peer, index));
            }
        }
        for (di, peer, index) in requests.drain(..) {
            let (holds, liar, up) = match sources.get(&peer) {
                Some(s) => (
                    s.holds.contains(index),
                    s.behaviour == Behaviour::Liar,
                    s.down_at > now,
                ),
                None => (
                    downs[usize::from(peer - 100)].fetch.have().contains(index),
                    false,
                    true,
                ),
            };
            let answer = match (holds, liar) {
                (false, _) => Answer::Missing,
                (true, true) => Answer::Corrupt,
                (true, false) => Answer::Chunk,
            };
            let lost = rng.next_u64().is_multiple_of(10);
            if !lost && up {
                let at = now + 5 + rng.next_u64() % 200;
                queue.insert((at, seq), (di, peer, index, answer));
            }
            seq += 1;
        }
        let Some((&(at, s), _)) = queue.iter().next() else {
            now += 100;
            continue;
        };
        let (di, peer, index, answer) = queue.remove(&(at, s)).unwrap_or_else(|| unreachable!());
        now = at;
        let d = &mut downs[di];
        match answer {
            Answer::Chunk => {
                if d.fetch.received(&peer, index) {
                    *d.received.entry(index).or_default() += 1;
                }
            }
            Answer::Missing => d.fetch.failed(&peer, index, Failure::Missing),
            Answer::Corrupt => d.fetch.failed(&peer, index, Failure::Corrupt),
        }
        // downloaders that finished a chunk become sources for the others (relay)
        let sets: Vec<(u8, ChunkSet)> = downs
            .iter()
            .enumerate()
            .map(|(i, d)| (100 + i as u8, d.fetch.have().clone()))
            .collect();
        for (i, d) in downs.iter_mut().enumerate() {
            for (p, s) in &sets {
                if *p != 100 + i as u8 {
                    d.fetch.set_source(*p, s.clone());
                }
            }
        }
    }
    for (i, d) in downs.iter().enumerate() {
        assert!(
            d.fetch.is_complete(),
            "seed {seed}: downloader {i} at {:.2}",
            d.fetch.progress()
        );
        assert!(
            d.received.values().all(|n| *n == 1),
            "seed {seed}: a chunk stored twice"
        );
    }
}

#[test]
fn seeded_simulator_downloads_complete_despite_loss_liars_departures_and_restarts() {
    let base: u64 = std::env::var("SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    for seed in base..base + 200 {
        run_sim(seed);
    }
}

#[test]
fn blob_ids_bind_sizes_and_hashes() {
    let a = blob_id(256, 300, &[[1; 32], [2; 32]]);
    assert_ne!(a, blob_id(256, 301, &[[1; 32], [2; 32]]));
    assert_ne!(a, blob_id(256, 300, &[[2; 32], [1; 32]]));
}

//! A large store survives closing and reopening: every event and every channel item.

use std::time::Instant;

use flotilla_node::store::SledStore;
use flotilla_node::test_utils::EventMaker;
use flotilla_protocol::hlc::Hlc;
use flotilla_protocol::store::{MemStore, Store};

const EVENTS: u64 = 10_000;
const CHANNELS: u32 = 8;
const BATCH: usize = 500;

#[test]
fn ten_thousand_events_survive_reopen() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("store");
    let mut maker = EventMaker::new(7);
    let events: Vec<_> = (0..EVENTS)
        .map(|i| {
            maker.event(
                maker.channel((i % u64::from(CHANNELS)) as u32),
                Hlc::at(i * 7919 % 100_000),
            )
        })
        .collect();
    let mut mem = MemStore::new();
    mem.insert_many(&events)?;

    let started = Instant::now();
    {
        let mut store = SledStore::open(&path)?;
        for chunk in events.chunks(BATCH) {
            store.insert_many(chunk)?;
        }
    }
    let written = started.elapsed();
    let started = Instant::now();
    let store = SledStore::open(&path)?;
    let reopened = started.elapsed();
    eprintln!("10k events: written in {written:?} ({BATCH} per flush), reopened in {reopened:?}");

    assert_eq!(store.event_count(), EVENTS as usize);
    for e in &events {
        assert!(store.contains(&e.id())?, "lost {}", e.id());
    }
    for e in events.iter().step_by(97) {
        assert_eq!(store.get(&e.id())?.as_ref(), Some(e));
    }
    let f = maker.flotilla();
    for n in 0..CHANNELS {
        let c = maker.channel(n);
        let items = store.channel_items(&f, &c)?;
        assert_eq!(items.len(), (EVENTS / u64::from(CHANNELS)) as usize);
        assert_eq!(items, mem.channel_items(&f, &c)?, "channel {n}");
    }
    let (mut got, mut want) = (store.channels(&f)?, mem.channels(&f)?);
    got.sort();
    want.sort();
    assert_eq!(got, want);
    Ok(())
}

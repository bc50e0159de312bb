//! The bridge end to end in the seeded simulator, and the transcoding byte for byte.

use super::airtime::RadioParams;
use super::bridge::Config;
use super::compact;
use super::frame::{self, HEADER_LEN};
use super::lookup::StoreLookup;
use super::message::Message;
use super::sim::{Air, AirConfig};
use crate::author::Ctx;
use crate::crypto::TAG_LEN;
use crate::event::{Content, SignedEvent};
use crate::id::{ChannelId, EventId};
use crate::keyring::Keyring;

/// 100 French characters (105 UTF-8 bytes).
pub(crate) const FRENCH_100: &str = "Le vent tourne au nord-ouest cet après-midi, on quitte \
le mouillage vers 15 h. Qui vient avec nous ?";

fn air(seed: u64, n: usize, sf: u8, loss: f64, duty: f64) -> Air {
    let cfg = AirConfig {
        params: RadioParams {
            sf,
            ..RadioParams::default()
        },
        loss,
        duty,
        hears: None,
    };
    let bridge = Config {
        beacon_interval_ms: 60_000,
        ..Config::default()
    };
    Air::new(seed, n, cfg, &bridge)
}

fn content(a: &mut Air, channel: ChannelId, content: &Content) -> SignedEvent {
    Ctx {
        ledger: &mut a.ledger,
        keyring: &a.keyring,
        clock: &mut a.clock,
        now_ms: a.now_ms,
        rng: &mut a.rng,
    }
    .content(&a.alice, channel, content)
    .unwrap_or_else(|e| panic!("{e}"))
}

fn round_trip(
    a: &Air,
    keyring: &Keyring,
    event: &SignedEvent,
) -> (usize, Result<SignedEvent, super::LoraError>) {
    let sender = StoreLookup {
        flotillas: vec![(a.flotilla, &a.ledger, keyring)],
        store: &a.boats[0].store,
    };
    let bytes = compact::encode(event, &sender, false).unwrap_or_default();
    let receiver = StoreLookup {
        flotillas: vec![(a.flotilla, &a.ledger, &a.keyring)],
        store: &a.boats[1].store,
    };
    (bytes.len(), compact::decode(&a.flotilla, &bytes, &receiver))
}

#[test]
fn every_content_kind_rebuilds_the_exact_signed_event() {
    let mut a = air(1, 2, 9, 0.0, 0.01);
    let town = a.town;
    let root = a.post(0, town, "racine");
    let event = a.boats[0].store.events().find(|e| e.id() == root).cloned();
    a.ingest(1, event.unwrap_or_else(|| panic!("root")));
    let alice = a.alice.public();
    let kinds = [
        Content::Post {
            text: FRENCH_100.into(),
            root: Some(root),
            files: vec![crate::id::FileId([7; 32])],
            mentions: vec![alice],
        },
        Content::Edit {
            target: root,
            text: "corrigé".into(),
        },
        Content::Delete { target: root },
        Content::ReactionAdd {
            target: root,
            emoji: "thumbsup".into(),
        },
        Content::ReactionRemove {
            target: root,
            emoji: "thumbsup".into(),
        },
        Content::Pin { target: root },
        Content::Unpin { target: root },
        Content::ChannelArchive { archived: true },
    ];
    let keyring = a.keyring.clone();
    for c in kinds {
        let e = content(&mut a, town, &c);
        let (_, back) = round_trip(&a, &keyring, &e);
        assert_eq!(
            back.map(|b| b.bytes().to_vec()),
            Ok(e.bytes().to_vec()),
            "{c:?}"
        );
    }
    // A bridge without the DM's key sends the ciphertext; the receiver still rebuilds it.
    let dm = a.dm;
    let e = content(
        &mut a,
        dm,
        &Content::Post {
            text: "secret".into(),
            root: None,
            files: vec![],
            mentions: vec![],
        },
    );
    let mut outsider = Keyring::new();
    for id in &a.ledger.state().epochs {
        if let Some(k) = a.keyring.get(id) {
            outsider.insert(*id, k.clone());
        }
    }
    let (_, back) = round_trip(&a, &outsider, &e);
    assert_eq!(back.map(|b| b.id()), Ok(e.id()));
    // Control events cross too.
    let control = a
        .ledger
        .events()
        .last()
        .map(|e| (*e).clone())
        .unwrap_or_else(|| panic!());
    let (_, back) = round_trip(&a, &keyring, &control);
    assert_eq!(back.map(|b| b.id()), Ok(control.id()));
}

#[test]
fn a_tampered_or_unresolvable_compact_event_is_refused() {
    let mut a = air(2, 2, 9, 0.0, 0.01);
    let town = a.town;
    let e = content(
        &mut a,
        town,
        &Content::Post {
            text: "bonjour".into(),
            root: None,
            files: vec![],
            mentions: vec![],
        },
    );
    let l0 = StoreLookup {
        flotillas: vec![(a.flotilla, &a.ledger, &a.keyring)],
        store: &a.boats[0].store,
    };
    let mut bytes = compact::encode(&e, &l0, false).unwrap_or_default();
    let n = bytes.len();
    bytes[n - 70] ^= 1; // inside the text
    assert!(compact::decode(&a.flotilla, &bytes, &l0).is_err());
    for len in 0..bytes.len() {
        let _ = compact::decode(&a.flotilla, &bytes[..len], &l0);
    }
    // A reply whose root boat 1 lacks cannot be rebuilt there: it is "unresolved".
    let root = a.post(0, town, "racine");
    let reply = content(
        &mut a,
        town,
        &Content::Post {
            text: "oui".into(),
            root: Some(root),
            files: vec![],
            mentions: vec![],
        },
    );
    let (_, back) = round_trip(&a, &a.keyring.clone(), &reply);
    assert!(
        matches!(back, Err(super::LoraError::Unresolved(_))),
        "{back:?}"
    );
}

/// Bytes on air of one post, by spreading factor: (compact event, message, frames, bytes).
pub(crate) fn post_on_air(text: &str, sf: u8) -> (usize, usize, usize, usize) {
    let mut a = air(3, 2, sf, 0.0, 0.01);
    let town = a.town;
    let e = content(
        &mut a,
        town,
        &Content::Post {
            text: text.into(),
            root: None,
            files: vec![],
            mentions: vec![],
        },
    );
    let l0 = StoreLookup {
        flotillas: vec![(a.flotilla, &a.ledger, &a.keyring)],
        store: &a.boats[0].store,
    };
    let bytes = compact::encode(&e, &l0, false).unwrap_or_default();
    let msg = Message::Event(bytes.clone()).encode();
    let key = l0_key(&a);
    let mtu = RadioParams {
        sf,
        ..RadioParams::default()
    }
    .default_mtu();
    let frames = frame::seal(&key, [0; 6], 3, &msg, mtu).unwrap_or_default();
    (
        bytes.len(),
        msg.len(),
        frames.len(),
        frames.iter().map(Vec::len).sum(),
    )
}

fn l0_key(a: &Air) -> frame::RadioKey {
    use super::Lookup;
    let l0 = StoreLookup {
        flotillas: vec![(a.flotilla, &a.ledger, &a.keyring)],
        store: &a.boats[0].store,
    };
    l0.radio_keys()
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no radio key"))
}

#[test]
fn a_100_character_french_post_fits_one_frame_at_sf7_and_two_at_sf9() {
    let (event, msg, frames7, bytes7) = post_on_air(FRENCH_100, 7);
    let (_, _, frames9, bytes9) = post_on_air(FRENCH_100, 9);
    println!(
        "100-char French post: compact event {event} B, message {msg} B, SF7 {frames7} frame(s) {bytes7} B, SF9 {frames9} frame(s) {bytes9} B"
    );
    // The chain's `prev` (32 bytes) is paid for by the derived nonce (24 bytes not sent).
    assert_eq!(frames7, 1);
    assert!(bytes7 <= 222);
    assert_eq!(frames9, 2);
    assert_eq!(bytes7, msg + HEADER_LEN + TAG_LEN);
    // The IP form is much larger: envelope, 32-byte ids, ciphertext tag, signature.
    let mut a = air(3, 2, 7, 0.0, 0.01);
    let town = a.town;
    let e = content(
        &mut a,
        town,
        &Content::Post {
            text: FRENCH_100.into(),
            root: None,
            files: vec![],
            mentions: vec![],
        },
    );
    println!("the same post on the IP side: {} B", e.bytes().len());
    assert!(
        e.bytes().len() > bytes7 + 80,
        "IP form {} B",
        e.bytes().len()
    );
}

fn converge(seed: u64, sf: u8, hears: Option<Vec<Vec<bool>>>, minutes: u64) -> (Air, Vec<EventId>) {
    let mut a = air(seed, 4, sf, 0.1, 0.01);
    a.set_hears(hears);
    let town = a.town;
    let mut ids = Vec::new();
    // Boat 0 is the gateway: these posts come from the IP side.
    for i in 0..4 {
        ids.push(a.post(
            0,
            town,
            &format!("depuis le ponton, message {i} : {FRENCH_100}"),
        ));
        a.run_for(5_000);
    }
    for boat in 1..4 {
        ids.push(a.post(
            boat,
            town,
            &format!("bateau {boat} au mouillage, tout va bien"),
        ));
        a.run_for(3_000);
    }
    a.run_for(minutes * 60_000);
    (a, ids)
}

fn assert_converged(a: &Air, ids: &[EventId], what: &str) {
    for (b, boat) in a.boats.iter().enumerate() {
        for id in ids {
            assert!(a.holds(b, id), "{what}: boat {b} lacks {id:?}");
        }
        assert!(
            boat.delivered.values().all(|&n| n == 1),
            "{what}: boat {b} got a duplicate"
        );
    }
    let (worst, limit) = a.worst_hour();
    assert!(worst <= limit, "{what}: {worst} µs in an hour > {limit}");
    assert_eq!(a.overlapping_sends, 0, "{what}: a radio sent while sending");
}

#[test]
fn posts_converge_on_lossy_air_for_many_seeds() {
    for seed in 0..6 {
        let (a, ids) = converge(seed, 9, None, 20);
        assert_converged(&a, &ids, &format!("seed {seed}"));
    }
}

#[test]
fn posts_cross_three_hops_in_a_line() {
    // 0 – 1 – 2 – 3: only neighbours hear each other.
    let line: Vec<Vec<bool>> = (0..4i32)
        .map(|i| (0..4).map(|j: i32| (i - j).abs() == 1).collect())
        .collect();
    for seed in 10..13 {
        let (a, ids) = converge(seed, 7, Some(line.clone()), 20);
        assert_converged(&a, &ids, &format!("line seed {seed}"));
    }
}

#[test]
fn a_dm_overtakes_a_burst_of_posts() {
    let mut a = air(20, 2, 9, 0.0, 0.01);
    let town = a.town;
    let dm = a.dm;
    let posts: Vec<EventId> = (0..20)
        .map(|i| a.post(0, town, &format!("message {i} de la rafale")))
        .collect();
    let dm_id = a.post(0, dm, "rendez-vous à 18 h au ponton ?");
    a.run_for(3_600_000);
    let arrived = &a.boats[1].arrived;
    let dm_at = arrived.get(&dm_id).copied().unwrap_or(u64::MAX);
    let before = posts
        .iter()
        .filter(|p| arrived.get(p).is_some_and(|t| *t < dm_at))
        .count();
    assert!(before <= 1, "{before} posts arrived before the DM");
    assert!(
        posts.iter().all(|p| a.holds(1, p)),
        "the burst drained within the hour"
    );
    let (worst, limit) = a.worst_hour();
    assert!(worst <= limit);
}

#[test]
fn a_boat_out_of_range_catches_up_when_back() {
    let mut a = air(30, 3, 9, 0.1, 0.01);
    let town = a.town;
    let alone = vec![
        vec![false, true, false],
        vec![true, false, false],
        vec![false, false, false],
    ];
    a.set_hears(Some(alone));
    let ids: Vec<EventId> = (0..10)
        .map(|i| a.post(0, town, &format!("pendant ton absence, {i}")))
        .collect();
    a.run_for(20 * 60_000);
    assert!(ids.iter().all(|id| !a.holds(2, id)));
    a.set_hears(None);
    a.run_for(30 * 60_000);
    for id in &ids {
        assert!(a.holds(2, id), "boat 2 lacks {id:?} after coming back");
    }
    let (worst, limit) = a.worst_hour();
    assert!(worst <= limit);
}

#[test]
fn outsiders_frames_are_ignored() {
    let mut a = air(40, 2, 7, 0.0, 0.01);
    let before = a.boats[1].store.len();
    let foreign = frame::RadioKey::derive(a.flotilla, &crate::crypto::SymmetricKey([9; 32]));
    let msg = Message::Want {
        full: true,
        ids: vec![[0; 4]],
    }
    .encode();
    for f in frame::seal(&foreign, [1; 6], 3, &msg, 222).unwrap_or_default() {
        let super::sim::Boat { bridge, store, .. } = &mut a.boats[1];
        let l = StoreLookup {
            flotillas: vec![(a.flotilla, &a.ledger, &a.keyring)],
            store: &*store,
        };
        let outs = bridge.handle(
            super::InEvent::Received { radio: 0, frame: f },
            a.now_ms,
            &l,
        );
        assert!(outs.is_empty());
    }
    a.run_for(1000);
    assert_eq!(a.boats[1].store.len(), before);
}

/// Boat 2 is out of range while boat 0 writes `n` posts (boat 1 hears them live); then it
/// comes back. Returns the simulated minutes it took to hold them all (or `None`).
fn catch_up_many(seed: u64, n: usize, max_minutes: u64) -> (Air, Vec<EventId>, Option<u64>) {
    let mut a = air(seed, 3, 7, 0.1, 0.01);
    let town = a.town;
    a.set_hears(Some(vec![
        vec![false, true, false],
        vec![true, false, false],
        vec![false, false, false],
    ]));
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(a.post(0, town, &format!("pendant ton absence, {i}")));
        a.run_for(20_000);
    }
    a.run_for(10 * 60_000);
    assert!(
        ids.iter().all(|id| !a.holds(2, id)),
        "seed {seed}: heard out of range"
    );
    a.set_hears(None);
    for minute in 1..=max_minutes {
        a.run_for(60_000);
        if ids.iter().all(|id| a.holds(2, id)) {
            return (a, ids, Some(minute));
        }
    }
    (a, ids, None)
}

#[test]
fn a_boat_that_missed_more_than_the_newest_32_catches_up_fully_within_the_budget() {
    for (seed, n) in [(50, 40), (51, 70), (52, 100), (53, 55), (54, 55), (58, 45)] {
        let (a, ids, took) = catch_up_many(seed, n, 240);
        let held = ids.iter().filter(|id| a.holds(2, id)).count();
        let minutes = took.unwrap_or_else(|| panic!("seed {seed}: {held} of {n} after 4 h"));
        println!("seed {seed}: {n} missed posts caught up in {minutes} simulated minutes");
        assert_converged(&a, &ids, &format!("catch-up seed {seed}"));
        // Each boat answers at most `catchup_per_hour` events in any hour.
        let per_hour = u64::from(Config::default().catchup_per_hour);
        let hours = (n as u64 * 20 + 600 + minutes * 60).div_ceil(3600);
        for (b, boat) in a.boats.iter().enumerate() {
            let answered = boat.bridge.catchup_answered();
            assert!(
                answered <= per_hour * hours,
                "seed {seed}: boat {b} answered {answered} events in {hours} h"
            );
        }
    }
}

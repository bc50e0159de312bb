//! Unit tests of [`SledStore`]: durability-free behaviour, indexes, schema, and agreement
//! with the core's [`MemStore`].
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;

use flotilla_protocol as proto;
use proptest::prelude::*;
use proto::PublicKey;
use proto::hlc::Hlc;
use proto::id::{ChannelId, EventId, FlotillaId};
use proto::store::{MemStore, Store};

use super::*;
use crate::test_utils::EventMaker;

fn open() -> (tempfile::TempDir, SledStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(&dir.path().join("store")).unwrap();
    (dir, store)
}

fn hlc(ms: u64, logical: u32) -> Hlc {
    Hlc { ms, logical }
}

const F: FlotillaId = FlotillaId([9; 16]);
const C: ChannelId = ChannelId([8; 16]);
const ALICE: PublicKey = PublicKey([0xa1; 32]);
const BOB: PublicKey = PublicKey([0xb0; 32]);

fn post(n: u8, t: Hlc, root: Option<EventId>, author: PublicKey) -> PostIndex {
    PostIndex {
        flotilla: F,
        channel: C,
        id: EventId([n; 32]),
        hlc: t,
        root,
        author,
    }
}

#[test]
fn opens_exactly_the_listed_trees() {
    let (_dir, store) = open();
    let mut names: Vec<String> = store
        .db
        .tree_names()
        .iter()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    names.retain(|n| n != "__sled__default");
    names.sort();
    let mut want: Vec<String> = ALL_TREES.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(names, want);
}

#[test]
fn insert_get_contains_and_duplicates() {
    let (_dir, mut store) = open();
    let mut maker = EventMaker::new(1);
    let e = maker.event(maker.channel(0), hlc(10, 0));
    assert!(!store.contains(&e.id()).unwrap());
    assert!(store.insert(&e).unwrap());
    assert!(
        !store.insert(&e).unwrap(),
        "second insert reports a duplicate"
    );
    assert!(store.contains(&e.id()).unwrap());
    assert_eq!(store.get(&e.id()).unwrap(), Some(e.clone()));
    assert_eq!(store.get(&EventId([0; 32])).unwrap(), None);
    assert_eq!(store.event_count(), 1);
    let batch = [e.clone(), maker.event(maker.channel(0), hlc(5, 0))];
    assert_eq!(store.insert_many(&batch).unwrap(), 1);
}

#[test]
fn a_batch_is_verified_never_and_flushed_once_and_reads_do_not_verify() {
    let (_dir, mut store) = open();
    let mut maker = EventMaker::new(3);
    let batch: Vec<_> = (0..256)
        .map(|i| maker.event(maker.channel(i % 3), hlc(u64::from(i), 0)))
        .collect();
    let (verifies, flushes) = (proto::crypto::verify_count::get(), store.flush_count());
    assert_eq!(store.insert_many(&batch).unwrap(), 256);
    assert_eq!(store.flush_count() - flushes, 1, "one flush per batch");
    for e in &batch {
        assert_eq!(store.get(&e.id()).unwrap().as_ref(), Some(e));
    }
    assert_eq!(
        proto::crypto::verify_count::get(),
        verifies,
        "the store neither verifies what it writes nor what it reads"
    );
    store.defer_flush(true);
    let more = [maker.event(maker.channel(0), hlc(999, 0))];
    assert_eq!(store.insert_many(&more).unwrap(), 1);
    assert_eq!(
        store.flush_count() - flushes,
        1,
        "a deferred insert does not flush"
    );
}

#[test]
fn authored_after_is_a_range_by_number_and_survives_migration() {
    let (dir, mut store) = open();
    let mut alice = EventMaker::new(4);
    let mut bob = EventMaker::new(5);
    let f = alice.flotilla();
    let mut mine = Vec::new();
    let (mut alice_last, mut bob_last) = (EventId([0; 32]), EventId([0; 32]));
    for t in 0..20u32 {
        let seq = u64::from(t) + 1;
        // Alice's clock runs backwards: the index must follow her numbers, not her HLC.
        let e = alice.numbered(alice.channel(t % 2), hlc(u64::from(100 - t), 0), seq);
        if seq > 10 {
            mine.push((e.id(), e.envelope().channel));
        }
        alice_last = e.id();
        store.insert(&e).unwrap();
        let b = bob.numbered(bob.channel(0), hlc(u64::from(t), 0), seq * 2);
        bob_last = b.id();
        store.insert(&b).unwrap();
    }
    mine.sort();
    let found = |store: &SledStore| {
        let mut got = store.authored_after(&f, &alice.author(), 10).unwrap();
        got.sort();
        got
    };
    assert_eq!(found(&store), mine);
    for cut in [20, u64::MAX] {
        assert!(
            store
                .authored_after(&f, &alice.author(), cut)
                .unwrap()
                .is_empty()
        );
    }
    assert_eq!(
        store.author_seqs(&f).unwrap(),
        vec![(alice.author(), 20, alice_last)],
        "one author in alice's flotilla"
    );
    assert_eq!(
        store.author_seqs(&bob.flotilla()).unwrap(),
        vec![(bob.author(), 40, bob_last)]
    );
    // The default (a walk) answers the same.
    let mut mem = MemStore::new();
    for e in [&f, &bob.flotilla()]
        .into_iter()
        .flat_map(|fl| {
            store
                .channels(fl)
                .unwrap()
                .into_iter()
                .map(move |c| (*fl, c))
        })
        .flat_map(|(fl, c)| store.channel_items(&fl, &c).unwrap())
        .filter_map(|(_, id)| store.get(&id).unwrap())
    {
        mem.insert(&e).unwrap();
    }
    let mut walked = mem.authored_after(&f, &alice.author(), 10).unwrap();
    walked.sort();
    assert_eq!(walked, mine);
    assert_eq!(mem.author_seqs(&f).unwrap(), store.author_seqs(&f).unwrap());
    assert_eq!(store.flotilla_event_count(&f).unwrap(), 20);
    assert_eq!(store.flotilla_event_count(&bob.flotilla()).unwrap(), 20);
    // A schema-1 store has no author index nor counts: opening it builds them.
    store.authors.clear().unwrap();
    store.counts.clear().unwrap();
    let meta = store.db.open_tree(META_VALUE).unwrap();
    schema::write_version(&store.db, &meta, 1).unwrap();
    drop((store, meta));
    let store = SledStore::open(&dir.path().join("store")).unwrap();
    assert_eq!(found(&store), mine);
    assert_eq!(store.flotilla_event_count(&f).unwrap(), 20);
    // A schema-2 store keyed the index by HLC: opening it rebuilds it by number.
    store
        .authors
        .insert(keys::author(&f, &alice.author()), &[0u8; 16][..])
        .unwrap();
    let meta = store.db.open_tree(META_VALUE).unwrap();
    schema::write_version(&store.db, &meta, 2).unwrap();
    drop((store, meta));
    let store = SledStore::open(&dir.path().join("store")).unwrap();
    assert_eq!(found(&store), mine);
    assert_eq!(
        store.author_seqs(&f).unwrap(),
        vec![(alice.author(), 20, alice_last)]
    );
}

#[test]
fn channel_items_are_sorted_and_channels_listed_per_flotilla() {
    let (_dir, mut store) = open();
    let mut maker = EventMaker::new(2);
    let (c0, c1) = (maker.channel(0), maker.channel(1));
    let events: Vec<_> = [(c0, 30), (c0, 10), (c1, 20), (c0, 20)]
        .into_iter()
        .map(|(c, ms)| maker.event(c, hlc(ms, 0)))
        .collect();
    store.insert_many(&events).unwrap();
    let items = store.channel_items(&maker.flotilla(), &c0).unwrap();
    assert_eq!(items.iter().map(|i| i.0).collect::<Vec<_>>(), [10, 20, 30]);
    let mut chans = store.channels(&maker.flotilla()).unwrap();
    chans.sort();
    let mut want = vec![c0, c1];
    want.sort();
    assert_eq!(chans, want);
    assert!(store.channels(&FlotillaId([0; 16])).unwrap().is_empty());
}

#[test]
fn timeline_pages_newest_first_without_gaps_or_duplicates() {
    let (_dir, store) = open();
    // 23 roots, some sharing a millisecond, plus replies that must stay out of the timeline.
    let posts: Vec<_> = (0..23u8)
        .map(|n| {
            post(
                n,
                hlc(100 + u64::from(n / 2), u32::from(n % 2)),
                None,
                ALICE,
            )
        })
        .collect();
    store.index_posts(&posts).unwrap();
    store
        .index_post(&post(200, hlc(500, 0), Some(EventId([0; 32])), BOB))
        .unwrap();
    store.index_posts(&posts[..3]).unwrap(); // idempotent
    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = store.timeline(&F, &C, cursor, 5).unwrap();
        assert!(page.ids.len() <= 5);
        seen.extend(page.ids);
        pages += 1;
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let want: Vec<_> = posts.iter().rev().map(|p| p.id).collect();
    assert_eq!(seen, want);
    assert_eq!(pages, 5);
}

#[test]
fn thread_pages_oldest_first_and_only_its_replies() {
    let (_dir, store) = open();
    let root = EventId([1; 32]);
    let replies: Vec<_> = (10..17u8)
        .map(|n| post(n, hlc(u64::from(n), 0), Some(root), BOB))
        .collect();
    store.index_posts(&replies).unwrap();
    store
        .index_post(&post(2, hlc(11, 5), Some(EventId([2; 32])), BOB))
        .unwrap();
    store.index_post(&post(1, hlc(1, 0), None, ALICE)).unwrap();
    let first = store.thread(&root, None, 4).unwrap();
    assert_eq!(
        first.ids,
        replies[..4].iter().map(|p| p.id).collect::<Vec<_>>()
    );
    let second = store.thread(&root, first.next, 4).unwrap();
    assert_eq!(
        second.ids,
        replies[4..].iter().map(|p| p.id).collect::<Vec<_>>()
    );
    assert_eq!(second.next, None);
    assert!(
        store
            .thread(&EventId([7; 32]), None, 4)
            .unwrap()
            .ids
            .is_empty()
    );
}

#[test]
fn unread_counts_rise_with_others_posts_and_clear_on_mark_read() {
    let (_dir, store) = open();
    assert_eq!(store.unread_count(&ALICE, &F, &C).unwrap(), 0);
    store.index_post(&post(1, hlc(10, 0), None, BOB)).unwrap();
    store
        .index_post(&post(2, hlc(11, 0), Some(EventId([1; 32])), BOB))
        .unwrap();
    store.index_post(&post(3, hlc(12, 0), None, ALICE)).unwrap();
    assert_eq!(
        store.unread_count(&ALICE, &F, &C).unwrap(),
        2,
        "root and reply by Bob"
    );
    assert_eq!(store.unread_count(&BOB, &F, &C).unwrap(), 1);
    store.mark_read(&ALICE, &F, &C, hlc(12, 0)).unwrap();
    assert_eq!(store.unread_count(&ALICE, &F, &C).unwrap(), 0);
    store.index_post(&post(4, hlc(12, 1), None, BOB)).unwrap();
    store.index_post(&post(5, hlc(12, 0), None, BOB)).unwrap(); // same hlc as the marker: read
    assert_eq!(store.unread_count(&ALICE, &F, &C).unwrap(), 1);
    store.mark_read(&ALICE, &F, &C, hlc(1, 0)).unwrap(); // never moves back
    assert_eq!(store.read_marker(&ALICE, &F, &C).unwrap(), Some(hlc(12, 0)));
    assert_eq!(store.unread_count(&ALICE, &F, &C).unwrap(), 1);
    assert_eq!(
        store.unread_count(&ALICE, &F, &ChannelId([7; 16])).unwrap(),
        0
    );
}

#[test]
fn reopen_keeps_events_indexes_and_markers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let mut maker = EventMaker::new(3);
    let e = maker.event(maker.channel(0), hlc(1, 0));
    {
        let mut store = SledStore::open(&path).unwrap();
        store.insert(&e).unwrap();
        store.index_post(&post(1, hlc(1, 0), None, BOB)).unwrap();
        store.mark_read(&ALICE, &F, &C, hlc(0, 3)).unwrap();
        store.flush().unwrap();
    }
    let store = SledStore::open(&path).unwrap();
    assert_eq!(store.get(&e.id()).unwrap(), Some(e));
    assert_eq!(
        store.timeline(&F, &C, None, 10).unwrap().ids,
        [EventId([1; 32])]
    );
    assert_eq!(store.read_marker(&ALICE, &F, &C).unwrap(), Some(hlc(0, 3)));
    assert_eq!(store.unread_count(&ALICE, &F, &C).unwrap(), 1);
}

#[test]
fn newer_schema_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    {
        let store = SledStore::open(&path).unwrap();
        let meta = store.db.open_tree(META_VALUE).unwrap();
        schema::write_version(&store.db, &meta, SCHEMA_VERSION + 1).unwrap();
    }
    let err = SledStore::open(&path).unwrap_err();
    assert!(
        matches!(err, Error::NewerSchema { found, supported } if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION)
    );
    assert!(err.to_string().contains("upgrade flotilla"), "{err}");
    let db = sled::open(&path).unwrap();
    let version = schema::read_version(&db.open_tree(META_VALUE).unwrap()).unwrap();
    assert_eq!(version, Some(SCHEMA_VERSION + 1));
}

fn mark_migrated(db: &sled::Db) -> Result<(), Error> {
    db.open_tree(META_VALUE)?.insert("migrated", &b"yes"[..])?;
    Ok(())
}

#[test]
fn older_schema_runs_migrations_or_is_refused_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = sled::open(dir.path().join("store")).unwrap();
    let meta = db.open_tree(META_VALUE).unwrap();
    schema::write_version(&db, &meta, SCHEMA_VERSION - 1).unwrap();
    let err = schema::check_and_migrate(&db, &[]).unwrap_err();
    assert!(matches!(err, Error::NoMigration { from } if from == SCHEMA_VERSION - 1));
    let step = Migration {
        from: SCHEMA_VERSION - 1,
        run: mark_migrated,
    };
    schema::check_and_migrate(&db, &[step]).unwrap();
    assert_eq!(schema::read_version(&meta).unwrap(), Some(SCHEMA_VERSION));
    assert!(meta.contains_key("migrated").unwrap());
}

#[test]
fn a_second_open_of_the_same_dir_fails_cleanly() {
    let (dir, _store) = open();
    assert!(matches!(
        SledStore::open(&dir.path().join("store")),
        Err(Error::Sled(_))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn sled_and_mem_stores_agree(ops in proptest::collection::vec((0u32..3, 0u64..50, any::<bool>()), 1..60)) {
        let (_dir, mut sled) = open();
        let mut mem = MemStore::new();
        let mut maker = EventMaker::new(4);
        let mut made = Vec::new();
        for (chan, ms, resend) in ops {
            let e = match made.last() {
                Some(prev) if resend => Clone::clone(prev),
                _ => maker.event(maker.channel(chan), hlc(ms, 0)),
            };
            prop_assert_eq!(sled.insert(&e).unwrap(), mem.insert(&e).unwrap());
            made.push(e);
        }
        let ids: HashSet<EventId> = made.iter().map(|e| e.id()).collect();
        for id in ids.iter().chain([EventId([0; 32])].iter()) {
            prop_assert_eq!(sled.contains(id).unwrap(), mem.contains(id).unwrap());
        }
        for chan in 0..3 {
            let c = maker.channel(chan);
            prop_assert_eq!(sled.channel_items(&maker.flotilla(), &c).unwrap(), mem.channel_items(&maker.flotilla(), &c).unwrap());
        }
        let (mut a, mut b) = (sled.channels(&maker.flotilla()).unwrap(), mem.channels(&maker.flotilla()).unwrap());
        a.sort();
        b.sort();
        prop_assert_eq!(a, b);
    }
}

#[test]
fn accounts_stored_before_deactivation_load_active_and_users_are_removed() {
    #[derive(serde::Serialize)]
    struct Old<'a> {
        password_phc: &'a str,
        admin: bool,
    }
    let (_dir, store) = open();
    let old = postcard::to_stdvec(&Old {
        password_phc: "$argon2id$x",
        admin: true,
    })
    .unwrap();
    store.accounts.insert(b"anne", old).unwrap();
    let anne = store.account("anne").unwrap().unwrap();
    assert!(anne.admin && !anne.deactivated);
    let bob = Account {
        password_phc: "$argon2id$y".into(),
        admin: false,
        deactivated: true,
    };
    store.put_account("bob", &bob).unwrap();
    store.put_user_key("bob", b"sealed").unwrap();
    assert_eq!(store.accounts().unwrap().len(), 2);
    assert_eq!(store.account("bob").unwrap(), Some(bob));
    store.remove_user("bob").unwrap();
    assert_eq!(store.account("bob").unwrap(), None);
    assert!(store.user_keys().unwrap().is_empty());
}

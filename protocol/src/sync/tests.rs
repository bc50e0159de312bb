//! Unit tests of ingest and the membership gate: duplicates, missing deps, rejects, the
//! pending bound, joining.

use super::*;
use crate::entropy::SeededEntropy;
use crate::store::MemStore;

type Node = State<MemStore, SeededEntropy>;

const NOW: u64 = 1_750_000_000_000;

fn node(seed: u64, config: Config) -> Node {
    let mut rng = SeededEntropy::new(seed);
    let key = SecretKey::generate(&mut rng);
    State::new(key, config, MemStore::new(), rng)
}

fn founded() -> (Node, FlotillaId) {
    let mut a = node(1, Config::default());
    let (f, _) = a
        .found("Ondine", &admin(), "alice", "Rallye", NOW)
        .expect("found");
    (a, f)
}

fn admin() -> SecretKey {
    SecretKey::generate(&mut SeededEntropy::new(100))
}

fn run(n: &mut Node, ev: InEvent) -> Vec<OutEvent> {
    n.handle(ev, NOW).collect()
}

fn sends(out: &[OutEvent]) -> Vec<&PeerMsg> {
    out.iter()
        .filter_map(|o| match o {
            OutEvent::Send { msg, .. } => Some(msg),
            _ => None,
        })
        .collect()
}

fn delivered(out: &[OutEvent]) -> Vec<&Event> {
    out.iter()
        .filter_map(|o| match o {
            OutEvent::Deliver(e) => Some(e),
            _ => None,
        })
        .collect()
}

/// `a` (a member node) adds a fresh user and ingests the event; returns it.
fn user_add(a: &mut Node, f: FlotillaId, seed: u64) -> SignedEvent {
    let user = SecretKey::generate(&mut SeededEntropy::new(seed));
    let ev = a
        .with_ctx(&f, NOW, |ctx, key| {
            ctx.add_user(key, &user, &format!("u{seed}"))
        })
        .expect("follows")
        .expect("builds");
    run(a, InEvent::Publish(ev.clone()));
    ev
}

fn events_msg(f: FlotillaId, events: &[&SignedEvent]) -> PeerMsg {
    PeerMsg::Events {
        flotilla: f,
        events: events.iter().map(|e| e.bytes().to_vec()).collect(),
    }
}

/// A node that joins `a`'s flotilla: `a`'s admin admits it; it asks `a` for the genesis,
/// adopts it, then receives everything `a` holds.
fn joiner(a: &mut Node, f: FlotillaId, config: Config) -> Node {
    let mut b = node(2, config);
    let info = crate::event::NodeInfo {
        key: b.me(),
        x25519: b.node_key.x25519_public(),
        name: "Brise".into(),
    };
    let genesis = a.ledger(&f).expect("follows").genesis();
    let proof = crate::proof::prove_admission(&genesis, None, &b.node_key, &info);
    let admit = a
        .with_ctx(&f, NOW, |ctx, _| ctx.admit(&admin(), info, proof))
        .expect("follows")
        .expect("admits");
    run(a, InEvent::Publish(admit));
    let genesis = a.ledger(&f).expect("follows").genesis();
    run(&mut b, InEvent::Join { genesis });
    run(&mut b, InEvent::PeerUp(a.me()));
    let hello = PeerMsg::Hello {
        flotilla: f,
        summaries: vec![],
    };
    let out = run(
        &mut b,
        InEvent::Recv {
            peer: a.me(),
            msg: hello,
        },
    );
    assert!(matches!(sends(&out)[..], [PeerMsg::Want { ids, .. }] if ids == &vec![genesis]));
    let g = a
        .store()
        .get(&genesis)
        .expect("store")
        .expect("has genesis");
    let out = run(
        &mut b,
        InEvent::Recv {
            peer: a.me(),
            msg: events_msg(f, &[&g]),
        },
    );
    assert!(b.ledger(&f).is_some_and(|l| l.len() == 1));
    assert!(
        sends(&out)
            .iter()
            .any(|m| matches!(m, PeerMsg::Hello { .. }))
    );
    let mut all: Vec<SignedEvent> = a.store().events().cloned().collect();
    all.sort_by_key(|e| (e.hlc(), e.id()));
    let refs: Vec<&SignedEvent> = all.iter().collect();
    let msg = events_msg(f, &refs);
    run(&mut b, InEvent::Recv { peer: a.me(), msg });
    assert_eq!(b.store().ids(), a.store().ids());
    assert!(
        b.ledger(&f)
            .is_some_and(|l| l.state() == a.ledger(&f).expect("a").state())
    );
    b
}

#[test]
fn a_received_event_is_verified_once_and_a_duplicate_never() {
    let (mut a, f) = founded();
    let mut b = joiner(&mut a, f, Config::default());
    let adds: Vec<SignedEvent> = (0..40).map(|i| user_add(&mut a, f, 500 + i)).collect();
    let refs: Vec<&SignedEvent> = adds.iter().collect();
    let before = crate::crypto::verify_count::get();
    run(
        &mut b,
        InEvent::Recv {
            peer: a.me(),
            msg: events_msg(f, &refs),
        },
    );
    // Two signatures per `UserAdd`, each checked once: the event's and the user key's over
    // its binding to its home node (protocol::proof::user_statement).
    assert_eq!(
        crate::crypto::verify_count::get() - before,
        2 * 40,
        "one verify per signature"
    );
    assert!(
        adds.iter()
            .all(|e| b.store().contains(&e.id()).expect("store"))
    );
    // Summaries and reconciliation read the store and the in-memory sets: no verify.
    let before = crate::crypto::verify_count::get();
    let hello = PeerMsg::Hello {
        flotilla: f,
        summaries: vec![],
    };
    run(
        &mut b,
        InEvent::Recv {
            peer: a.me(),
            msg: hello,
        },
    );
    assert_eq!(crate::crypto::verify_count::get(), before);
}

#[test]
fn the_reconciliation_set_follows_accepted_events_without_a_store_read() {
    let (mut a, f) = founded();
    let mut b = joiner(&mut a, f, Config::default());
    let before = b.summaries(f).expect("summaries");
    let add = user_add(&mut a, f, 900);
    run(
        &mut b,
        InEvent::Recv {
            peer: a.me(),
            msg: events_msg(f, &[&add]),
        },
    );
    let after = b.summaries(f).expect("summaries");
    let rebuilt = {
        b.store_written(&f);
        b.summaries(f).expect("summaries")
    };
    assert_ne!(before, after, "the new event is in the set");
    assert_eq!(
        after, rebuilt,
        "the in-memory set equals one read from the store"
    );
}

#[test]
fn a_duplicate_is_ignored() {
    let (mut a, f) = founded();
    let mut b = joiner(&mut a, f, Config::default());
    let ev = user_add(&mut a, f, 10);
    let msg = events_msg(f, &[&ev, &ev]);
    let out = run(
        &mut b,
        InEvent::Recv {
            peer: a.me(),
            msg: msg.clone(),
        },
    );
    let accepted = |out: &[OutEvent]| {
        delivered(out)
            .iter()
            .filter(|e| matches!(e, Event::Accepted { .. }))
            .count()
    };
    assert_eq!(accepted(&out), 1);
    let out = run(&mut b, InEvent::Recv { peer: a.me(), msg });
    assert_eq!(accepted(&out), 0);
    assert_eq!(b.store().ids(), a.store().ids());
}

#[test]
fn missing_deps_are_wanted_then_the_event_is_accepted() {
    let (mut a, f) = founded();
    let mut b = joiner(&mut a, f, Config::default());
    let c1 = user_add(&mut a, f, 10);
    let c2 = user_add(&mut a, f, 11);
    let out = run(
        &mut b,
        InEvent::Recv {
            peer: a.me(),
            msg: events_msg(f, &[&c2]),
        },
    );
    assert!(
        sends(&out)
            .iter()
            .any(|m| matches!(m, PeerMsg::Want { ids, .. } if ids.contains(&c1.id())))
    );
    assert_eq!(b.pending_len(), 1);
    assert!(!b.store().contains(&c2.id()).expect("store"));
    let out = run(
        &mut b,
        InEvent::Recv {
            peer: a.me(),
            msg: events_msg(f, &[&c1]),
        },
    );
    assert_eq!(b.pending_len(), 0);
    let ids: Vec<EventId> = delivered(&out)
        .iter()
        .filter_map(|e| match e {
            Event::Accepted { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(ids, vec![c1.id(), c2.id()]);
}

#[test]
fn the_pending_buffer_is_bounded_and_drops_the_oldest() {
    let (mut a, f) = founded();
    let config = Config {
        max_pending: 2,
        ..Config::default()
    };
    let mut b = joiner(&mut a, f, config);
    let chain: Vec<SignedEvent> = (0..4).map(|i| user_add(&mut a, f, 10 + i)).collect();
    for ev in [&chain[3], &chain[2], &chain[1]] {
        run(
            &mut b,
            InEvent::Recv {
                peer: a.me(),
                msg: events_msg(f, &[ev]),
            },
        );
    }
    assert_eq!(b.pending_len(), 2, "the oldest (chain[3]) was dropped");
    run(
        &mut b,
        InEvent::Recv {
            peer: a.me(),
            msg: events_msg(f, &[&chain[0]]),
        },
    );
    assert_eq!(b.pending_len(), 0);
    let has = |e: &SignedEvent| b.store().contains(&e.id()).expect("store");
    assert!(has(&chain[0]) && has(&chain[1]) && has(&chain[2]));
    assert!(
        !has(&chain[3]),
        "dropped; it comes again with the next reconciliation"
    );
}

#[test]
fn a_non_members_event_is_rejected_and_not_stored() {
    let (mut a, f) = founded();
    let mut other = node(3, Config::default());
    let admin = SecretKey::generate(&mut SeededEntropy::new(300));
    let (g, _) = other
        .found("Intrus", &admin, "eve", "Autre", NOW)
        .expect("found");
    let foreign = user_add(&mut other, g, 30);
    // An event of another flotilla published here: refused.
    let out = run(&mut a, InEvent::Publish(foreign.clone()));
    assert!(matches!(
        delivered(&out)[..],
        [Event::Rejected {
            reason: AuthError::WrongFlotilla,
            ..
        }]
    ));
    // A member relays an event signed by a non-member of this flotilla.
    let mut b = joiner(&mut a, f, Config::default());
    let ledger = a.ledger(&f).expect("follows");
    let sealed = crate::event::Sealed {
        key: ledger.state().epoch().expect("epoch"),
        nonce: [3; 24],
        ciphertext: vec![1; 48],
    };
    let env = crate::event::Envelope {
        v: crate::event::ENVELOPE_VERSION,
        flotilla: f,
        channel: ChannelId::derived(&f, "town-square"),
        author: other.me(),
        hlc: crate::hlc::Hlc::at(NOW + 1_000),
        seq: 1,
        prev: None,
        deps: ledger.heads(),
        kind: crate::event::Kind::SEALED,
        payload: postcard::to_stdvec(&sealed).expect("encodes"),
    };
    let forged = SignedEvent::sign(env, &other.node_key).expect("well formed");
    let msg = events_msg(f, &[&forged]);
    let out = run(&mut b, InEvent::Recv { peer: a.me(), msg });
    assert!(matches!(
        delivered(&out)[..],
        [Event::Rejected {
            reason: AuthError::NotMember,
            from: Some(_),
            ..
        }]
    ));
    assert!(!b.store().contains(&forged.id()).expect("store"));
    // Bytes that are no event at all.
    let bad = b.handle(
        InEvent::Recv {
            peer: a.me(),
            msg: PeerMsg::Events {
                flotilla: f,
                events: vec![vec![1, 2, 3]],
            },
        },
        NOW,
    );
    let out: Vec<OutEvent> = bad.collect();
    assert!(matches!(delivered(&out)[..], [Event::Invalid { .. }]));
    assert!(!a.store().contains(&foreign.id()).expect("store"));
}

#[test]
fn outsiders_get_nothing() {
    let (mut a, f) = founded();
    let outsider = node(4, Config::default()).me();
    let out = run(&mut a, InEvent::PeerUp(outsider));
    assert!(sends(&out).is_empty(), "no Hello to a non-member");
    let ids = vec![a.ledger(&f).expect("follows").genesis()];
    for msg in [
        PeerMsg::Hello {
            flotilla: f,
            summaries: vec![],
        },
        PeerMsg::Want { flotilla: f, ids },
    ] {
        let out = run(
            &mut a,
            InEvent::Recv {
                peer: outsider,
                msg,
            },
        );
        assert!(
            sends(&out).is_empty(),
            "nothing of the flotilla to a non-member"
        );
    }
    assert!(!a.may_sync(&f, &outsider));
}

#[test]
fn hello_with_equal_summaries_reports_synced() {
    let (mut a, f) = founded();
    let mut b = joiner(&mut a, f, Config::default());
    // Bring b up to date, then compare summaries.
    let all: Vec<SignedEvent> = a.store().events().cloned().collect();
    let refs: Vec<&SignedEvent> = all.iter().collect();
    run(
        &mut b,
        InEvent::Recv {
            peer: a.me(),
            msg: events_msg(f, &refs),
        },
    );
    assert_eq!(b.store().len(), a.store().len());
    let out = run(&mut a, InEvent::PeerUp(b.me()));
    let hello = sends(&out)
        .into_iter()
        .find(|m| matches!(m, PeerMsg::Hello { .. }))
        .cloned()
        .expect("a greets its new member b");
    let out = run(
        &mut b,
        InEvent::Recv {
            peer: a.me(),
            msg: hello,
        },
    );
    assert!(
        delivered(&out)
            .iter()
            .any(|e| matches!(e, Event::Synced { flotilla, .. } if *flotilla == f))
    );
}

#[test]
fn invalid_config_is_refused() {
    let bad = Config {
        frame_size_limit: 100,
        ..Config::default()
    };
    assert_eq!(bad.validate(), Err(ConfigError::FrameSizeLimit(100)));
    assert!(
        Config {
            frame_size_limit: 0,
            ..Config::default()
        }
        .validate()
        .is_ok()
    );
    assert!(Config::default().validate().is_ok());
}

/// A store whose writes fail while its switch is on.
#[derive(Debug, Default)]
struct FlakyStore {
    inner: MemStore,
    failing: std::rc::Rc<std::cell::Cell<bool>>,
}

impl Store for FlakyStore {
    fn insert(&mut self, event: &SignedEvent) -> Result<bool, StoreError> {
        if self.failing.get() {
            return Err(StoreError::Backend("disk full".into()));
        }
        self.inner.insert(event)
    }
    fn get(&self, id: &EventId) -> Result<Option<SignedEvent>, StoreError> {
        self.inner.get(id)
    }
    fn contains(&self, id: &EventId) -> Result<bool, StoreError> {
        self.inner.contains(id)
    }
    fn channel_items(
        &self,
        f: &FlotillaId,
        c: &ChannelId,
    ) -> Result<Vec<crate::store::Item>, StoreError> {
        self.inner.channel_items(f, c)
    }
    fn channels(&self, f: &FlotillaId) -> Result<Vec<ChannelId>, StoreError> {
        self.inner.channels(f)
    }
}

#[test]
fn a_failed_store_write_leaves_the_ledger_as_the_store_is_and_the_event_comes_again() {
    let mut rng = SeededEntropy::new(5);
    let key = SecretKey::generate(&mut rng);
    let store = FlakyStore::default();
    let failing = store.failing.clone();
    let mut a = State::new(key, Config::default(), store, rng);
    let (f, _) = a
        .found("Ondine", &admin(), "alice", "Rallye", NOW)
        .expect("found");
    let user = SecretKey::generate(&mut SeededEntropy::new(6));
    let ev = a
        .with_ctx(&f, NOW, |ctx, key| ctx.add_user(key, &user, "bob"))
        .expect("follows")
        .expect("builds");
    failing.set(true);
    let out: Vec<OutEvent> = a.handle(InEvent::Publish(ev.clone()), NOW).collect();
    assert!(
        delivered(&out)
            .iter()
            .any(|e| matches!(e, Event::StoreFailed(_)))
    );
    assert!(
        !a.ledger(&f).expect("ledger").contains(&ev.id()),
        "ledger ahead of the store"
    );
    assert!(!a.store().contains(&ev.id()).expect("store"));
    failing.set(false);
    let out: Vec<OutEvent> = a.handle(InEvent::Publish(ev.clone()), NOW).collect();
    assert!(
        delivered(&out)
            .iter()
            .any(|e| matches!(e, Event::Accepted { id, .. } if *id == ev.id()))
    );
    assert!(a.ledger(&f).expect("ledger").contains(&ev.id()));
    assert!(a.store().contains(&ev.id()).expect("store"));
    assert!(
        a.ledger(&f)
            .expect("ledger")
            .state()
            .users
            .contains_key(&user.public())
    );
}

#[test]
fn resume_rebuilds_a_flotilla_from_the_store() {
    let (mut a, f) = founded();
    let last = user_add(&mut a, f, 7);
    let genesis = a.ledger(&f).expect("follows").genesis();
    let key = SecretKey::generate(&mut SeededEntropy::new(1));
    let mut b = State::new(
        key,
        Config::default(),
        a.store().clone(),
        SeededEntropy::new(9),
    );
    assert!(b.ledger(&f).is_none());
    b.resume(genesis, f).expect("store works");
    assert_eq!(
        b.ledger(&f).map(|l| l.state()),
        a.ledger(&f).map(|l| l.state())
    );
    assert_eq!(
        b.keyring(&f).map(|k| k.len()),
        a.keyring(&f).map(|k| k.len())
    );
    assert_eq!(b.event_ids(&f), a.event_ids(&f));
    // The same node key writes again: the rebuilt ledger and clock accept its next event.
    let before = b.event_ids(&f).expect("store works").len();
    let next = user_add(&mut b, f, 8);
    assert_eq!(b.event_ids(&f).expect("store works").len(), before + 1);
    // It chains after the node's last stored event (its number and id, from the store).
    assert_eq!(next.envelope().seq, last.envelope().seq + 1);
    assert_eq!(next.envelope().prev, Some(last.id()));
    b.resume(genesis, f).expect("twice is a no-op");
}

/// Delivers every message between `a` and `b` until none is left (no timers fire).
fn pump(a: &mut Node, b: &mut Node, first: Vec<(bool, PeerMsg)>) {
    let mut queue: VecDeque<(bool, PeerMsg)> = first.into();
    let mut steps = 0;
    while let Some((to_a, msg)) = queue.pop_front() {
        steps += 1;
        assert!(steps < 10_000, "message storm");
        let (to, from) = if to_a {
            (&mut *a, b.me())
        } else {
            (&mut *b, a.me())
        };
        let out = run(to, InEvent::Recv { peer: from, msg });
        queue.extend(sends(&out).into_iter().map(|m| (!to_a, m.clone())));
    }
}

#[test]
fn a_joiner_catches_up_at_once_whichever_key_is_smaller() {
    let mut orders = BTreeSet::new();
    for seed in 2..40 {
        let (mut a, f) = founded();
        let mut b = node(seed, Config::default());
        let info = crate::event::NodeInfo {
            key: b.me(),
            x25519: b.node_key.x25519_public(),
            name: "Brise".into(),
        };
        let genesis = a.ledger(&f).expect("follows").genesis();
        run(&mut b, InEvent::Join { genesis });
        let mut first = Vec::new();
        let up_b = run(&mut b, InEvent::PeerUp(a.me()));
        first.extend(sends(&up_b).into_iter().map(|m| (true, m.clone())));
        let up_a = run(&mut a, InEvent::PeerUp(b.me()));
        first.extend(sends(&up_a).into_iter().map(|m| (false, m.clone())));
        let proof = crate::proof::prove_admission(&genesis, None, &b.node_key, &info);
        let admit = a
            .with_ctx(&f, NOW, |ctx, _| ctx.admit(&admin(), info, proof))
            .expect("follows")
            .expect("admits");
        let out = run(&mut a, InEvent::Publish(admit));
        first.extend(sends(&out).into_iter().map(|m| (false, m.clone())));
        pump(&mut a, &mut b, first);
        assert_eq!(b.store().ids(), a.store().ids(), "seed {seed}");
        orders.insert(a.me() < b.me());
        if orders.len() == 2 {
            return;
        }
    }
    panic!("both key orders should occur: {orders:?}");
}

#[test]
fn lacked_ids_are_pulled_through_a_bounded_window() {
    let (mut a, f) = founded();
    let mut b = joiner(&mut a, f, Config::default());
    let wanted = |out: &[OutEvent]| -> usize {
        sends(out)
            .iter()
            .map(|m| match m {
                PeerMsg::Want { ids, .. } => ids.len(),
                _ => 0,
            })
            .sum()
    };
    let ids: Vec<EventId> = (0..3_000u32)
        .map(|i| EventId(*blake3::hash(&i.to_le_bytes()).as_bytes()))
        .collect();
    let have = PeerMsg::Have {
        flotilla: f,
        ids: ids.clone(),
    };
    let out = run(
        &mut b,
        InEvent::Recv {
            peer: a.me(),
            msg: have,
        },
    );
    assert_eq!(
        wanted(&out),
        MAX_WANTS_IN_FLIGHT,
        "only a window is asked for at once"
    );
    // The same ids announced again are not asked for twice.
    let again = PeerMsg::Have { flotilla: f, ids };
    assert_eq!(
        wanted(&run(
            &mut b,
            InEvent::Recv {
                peer: a.me(),
                msg: again
            }
        )),
        0
    );
    // When the window's answers are lost (the resync clears it), the backlog goes on.
    let out = run(&mut b, InEvent::TimerFired(Timer::Resync));
    assert_eq!(wanted(&out), MAX_WANTS_IN_FLIGHT);
}

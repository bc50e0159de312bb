//! Seeded multi-node scenarios of the sync protocol in the deterministic simulator.
//! Each scenario runs over many seeds; `SEED=n` runs one, and a failure prints its seed.

use flotilla_protocol::SignedEvent;
use flotilla_protocol::event::{Content, ENVELOPE_VERSION, Envelope, Kind, Sealed};
use flotilla_protocol::hlc::Hlc;
use flotilla_protocol::id::ChannelId;
use flotilla_protocol::membership::AuthError;
use flotilla_protocol::sim::{NetConfig, Network, SeedGuard, seeds};
use flotilla_protocol::store::Store;
use flotilla_protocol::sync::{Event, InEvent};
use flotilla_protocol::wire::PeerMsg;

/// Virtual time allowed for any convergence (the resync interval is 5 s).
const CONVERGE_MS: u64 = 120_000;

/// Debug builds run fewer seeds of the heavy scenarios.
fn seed_count(release: u64, debug: u64) -> u64 {
    if cfg!(debug_assertions) {
        debug
    } else {
        release
    }
}

fn all(net: &Network) -> Vec<usize> {
    (0..net.len()).collect()
}

fn assert_converged(net: &mut Network, nodes: &[usize], what: &str) {
    let ok = net.run_until(|n| n.converged(nodes), CONVERGE_MS);
    assert!(ok, "{what}: not converged: {:?}", net.divergence(nodes));
    for &i in nodes {
        assert!(
            net.duplicate_accepts(i).is_empty(),
            "{what}: node {i} accepted twice"
        );
    }
}

/// `n` nodes, links from `links`, a flotilla founded on node 0 whose admin admits every
/// other node; each node then adds one user. Returns when all agree.
fn fleet(seed: u64, n: usize, links: &[(usize, usize)]) -> Network {
    fleet_with(Network::new(seed), n, links)
}

/// [`fleet`] on a network built by the caller (another link or sync configuration).
fn fleet_with(mut net: Network, n: usize, links: &[(usize, usize)]) -> Network {
    net.add_nodes(n);
    net.found(0);
    for &(a, b) in links {
        net.connect(a, b);
    }
    for i in 1..n {
        net.admit(0, i).expect("node 0's admin admits");
    }
    let everyone = all(&net);
    let ok = net.run_until(
        |n| everyone.iter().all(|&i| n.sees_members(i, &everyone)),
        CONVERGE_MS,
    );
    assert!(
        ok,
        "admission did not spread: {:?}",
        net.divergence(&everyone)
    );
    for i in 1..n {
        net.add_user(i, &format!("sailor{i}"))
            .expect("member node adds a user");
    }
    assert_converged(&mut net, &everyone, "setup");
    net
}

/// A connected random topology: a ring plus `extra` random chords.
fn random_links(net_seed: u64, n: usize, extra: usize) -> Vec<(usize, usize)> {
    let mut links: Vec<(usize, usize)> = (0..n).map(|i| (i, (i + 1) % n)).collect();
    let mut x = net_seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    for _ in 0..extra {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let a = (x >> 33) as usize % n;
        let b = (x >> 13) as usize % n;
        if a != b {
            links.push((a, b));
        }
    }
    links
}

#[test]
fn three_nodes_join_and_converge() {
    for seed in seeds(seed_count(20, 10)) {
        let _guard = SeedGuard(seed);
        let mut net = fleet(seed, 3, &[(0, 1), (1, 2), (0, 2)]);
        let ts = net.town_square();
        let p = net.post(2, 0, ts, "bonjour").expect("post");
        let everyone = all(&net);
        assert_converged(&mut net, &everyone, "after post");
        assert!((0..3).all(|i| net.has_event(i, &p.id())));
    }
}

/// Splits `0..n` into `k` random non-empty-or-empty groups.
fn random_groups(net: &mut Network, n: usize, k: u64) -> Vec<Vec<usize>> {
    let mut groups = vec![Vec::new(); k as usize];
    for i in 0..n {
        let g = net.range(0, k - 1) as usize;
        groups[g].push(i);
    }
    groups
}

#[test]
fn twenty_nodes_converge_after_random_partitions_with_posts_on_all_sides() {
    for seed in seeds(seed_count(12, 6)) {
        let _guard = SeedGuard(seed);
        let n = 20;
        let mut net = fleet(seed, n, &random_links(seed, n, 20));
        let ts = net.town_square();
        let mut posts = Vec::new();
        for round in 0..3u64 {
            let groups = random_groups(&mut net, n, 2 + round % 2);
            for a in 0..groups.len() {
                for b in a + 1..groups.len() {
                    net.partition(&groups[a], &groups[b]);
                }
            }
            for k in 0..20 {
                let node = net.range(0, n as u64 - 1) as usize;
                let post = net.post(node, 0, ts, &format!("round {round} post {k} from {node}"));
                posts.push(post.expect("members post"));
                let pause = net.range(0, 500);
                net.run_for(pause);
            }
            let pause = net.range(1_000, 20_000);
            net.run_for(pause);
            net.heal();
        }
        let everyone = all(&net);
        assert_converged(&mut net, &everyone, "after healing");
        for p in &posts {
            assert!(
                everyone.iter().all(|&i| net.has_event(i, &p.id())),
                "a post is missing"
            );
        }
        // The folded state is not vacuously equal: every node shows all 60 posts, once each.
        for &i in &everyone {
            let texts = net.timeline_texts(i, &ts);
            assert_eq!(texts.len(), posts.len(), "node {i} timeline");
            let unique: std::collections::BTreeSet<_> = texts.iter().collect();
            assert_eq!(unique.len(), texts.len(), "node {i} shows a post twice");
        }
    }
}

#[test]
fn node_away_for_the_whole_run_catches_up_on_return() {
    for seed in seeds(seed_count(20, 10)) {
        let _guard = SeedGuard(seed);
        let n = 6;
        let mut net = fleet(seed, n, &random_links(seed, n, 4));
        let (away, newcomer) = (n - 1, n);
        let others: Vec<usize> = (0..n - 1).collect();
        net.partition(&[away], &others);
        // A node admitted while away, which has never met anyone yet.
        net.add_nodes(1);
        net.partition(&[newcomer], &all(&net));
        net.connect(newcomer, 0);
        net.connect(newcomer, away);
        net.admit(0, newcomer).expect("admit while away");
        let ts = net.town_square();
        let mut posts = Vec::new();
        for k in 0..40 {
            let node = others[net.range(0, others.len() as u64 - 1) as usize];
            posts.push(net.post(node, 0, ts, &format!("post {k}")).expect("post"));
            let pause = net.range(0, 2_000);
            net.run_for(pause);
        }
        assert!(!net.has_event(away, &posts[0].id()));
        net.heal();
        let everyone = all(&net);
        assert_converged(&mut net, &everyone, "after return");
        assert!(
            posts
                .iter()
                .all(|p| net.has_event(away, &p.id()) && net.has_event(newcomer, &p.id()))
        );
        assert!(net.sees_members(newcomer, &everyone));
    }
}

/// A–B–C in a line; B is away while A and C write; when B is back, what A wrote reaches C
/// and what C wrote reaches A through B at once: B tells its other peers as soon as it has
/// fetched something new, without waiting for the periodic resync (set to ten minutes here, so
/// only that relay can explain a convergence within seconds).
#[test]
fn what_a_returning_node_fetches_is_relayed_at_once_not_at_the_next_resync() {
    for seed in seeds(seed_count(20, 10)) {
        let _guard = SeedGuard(seed);
        let config = NetConfig {
            sync: flotilla_protocol::sync::Config {
                resync_interval_ms: 600_000,
                ..NetConfig::default().sync
            },
            ..NetConfig::default()
        };
        let (a, b, c) = (0, 1, 2);
        let mut net = fleet_with(Network::with_config(seed, config), 3, &[(a, b), (b, c)]);
        eprintln!("PARTITION at {}", net.now());
        net.partition(&[b], &[a, c]);
        let ts = net.town_square();
        let from_a = net.post(a, 0, ts, "A while B is away").expect("A posts");
        let from_c = net.post(c, 0, ts, "C while B is away").expect("C posts");
        net.run_for(1_000);
        eprintln!("HEAL at {}", net.now());
        net.heal();
        let ok = net.run_until(|n| n.converged(&[a, b, c]), 3_000);
        assert!(ok, "not relayed at once: {:?}", net.divergence(&[a, b, c]));
        assert!(net.has_event(a, &from_c.id()) && net.has_event(c, &from_a.id()));
        assert!(net.duplicate_accepts(a).is_empty() && net.duplicate_accepts(c).is_empty());
    }
}

#[test]
fn line_converges_through_the_middle_node_which_relays_private_ciphertext() {
    for seed in seeds(seed_count(20, 10)) {
        let _guard = SeedGuard(seed);
        let (a, b, c) = (0, 1, 2);
        let mut net = fleet(seed, 3, &[(a, b), (b, c)]);
        let f = net.flotilla_id();
        let c_user = net.node(c).users[0].public();
        let private = ChannelId([7; 16]);
        net.publish_with(a, |ctx, _, users| {
            ctx.create_channel(&users[0], private, true, &[c_user])
        })
        .expect("A's admin creates a private channel with C's user");
        assert_converged(&mut net, &[a, b, c], "channel created");
        let from_a = net.post(a, 0, private, "secret from A").expect("A posts");
        let from_c = net.post(c, 0, private, "secret from C").expect("C posts");
        let public = net
            .post(c, 0, net.town_square(), "hello all")
            .expect("C posts");
        assert_converged(&mut net, &[a, b, c], "private posts");
        assert!(!net.is_up(a, c), "A and C never met");
        for p in [&from_a, &from_c, &public] {
            assert!((0..3).all(|i| net.has_event(i, &p.id())));
        }
        let text = |node: usize, ev: &SignedEvent| match net
            .node(node)
            .state
            .keyring(&f)
            .map(|k| k.open_content(ev))
        {
            Some(Ok(Content::Post { text, .. })) => Some(text),
            _ => None,
        };
        assert_eq!(text(c, &from_a).as_deref(), Some("secret from A"));
        assert_eq!(text(a, &from_c).as_deref(), Some("secret from C"));
        assert_eq!(text(b, &from_a), None, "B stores ciphertext it cannot read");
        assert_eq!(text(b, &public).as_deref(), Some("hello all"));
    }
}

/// What a catch-up after a partition cost (see [`catch_up`]).
struct CatchUp {
    /// Events each node holds after the heal.
    events: usize,
    /// Bytes of every event (what resending everything would send).
    resend: u64,
    /// Bytes of the events one side lacked (the least any catch-up must send).
    missing: u64,
    /// Sync frames after the heal (Hello, Reconcile, Want, Events).
    sync: u64,
}

/// Two nodes share `shared` posts, are partitioned, each writes `apart` posts, then heal;
/// returns what the catch-up cost, counting every encoded sync frame sent after the heal.
fn catch_up(seed: u64, shared: usize, apart: usize) -> CatchUp {
    let mut net = fleet(seed, 2, &[(0, 1)]);
    let ts = net.town_square();
    for i in 0..shared {
        net.post(
            i % 2,
            0,
            ts,
            &format!("message {i}: position 43°17'N 5°22'E, wind SW 12 kn"),
        )
        .expect("post");
        if i % 50 == 0 {
            net.run_for(20);
        }
    }
    assert_converged(&mut net, &[0, 1], "shared");
    net.partition(&[0], &[1]);
    for i in 0..apart {
        net.post(0, 0, ts, &format!("apart {i} on 0"))
            .expect("post");
        net.post(1, 0, ts, &format!("apart {i} on 1"))
            .expect("post");
        net.run_for(10);
    }
    let ids: Vec<_> = (0..2).map(|i| net.node(i).state.store().ids()).collect();
    let missing: u64 = [(0, 1), (1, 0)]
        .iter()
        .flat_map(|&(a, b)| {
            let store = net.node(a).state.store();
            ids[a]
                .difference(&ids[b])
                .filter_map(|id| Store::get(store, id).ok().flatten())
                .map(|e| e.bytes().len() as u64)
                .collect::<Vec<_>>()
        })
        .sum();
    net.reset_stats();
    net.heal();
    assert_converged(&mut net, &[0, 1], "after heal");
    let store = net.node(0).state.store();
    let (events, resend): (usize, u64) = (
        store.len(),
        store.events().map(|e| e.bytes().len() as u64).sum(),
    );
    let stats = net.stats().clone();
    let sync = stats.sync_bytes();
    println!(
        "catch-up: {sync} bytes = {:.2}% of resending {resend} bytes ({events} events), \
         {:.2}x the {missing} raw bytes of the missing events; gossip echo {} bytes; by type {:?}",
        100.0 * sync as f64 / resend as f64,
        sync as f64 / missing as f64,
        stats.bytes.get("gossip").copied().unwrap_or(0),
        stats.bytes,
    );
    CatchUp {
        events,
        resend,
        missing,
        sync,
    }
}

#[test]
fn catch_up_after_partition_costs_a_fraction_of_resending_everything() {
    for seed in seeds(seed_count(2, 1)) {
        let _guard = SeedGuard(seed);
        let c = catch_up(seed, 10_000, 50);
        assert!(c.events >= 10_100);
        assert!(c.missing > 0 && c.sync >= c.missing);
        assert!(
            c.sync * 20 < c.resend,
            "catch-up cost {} bytes, not under 5% of {}",
            c.sync,
            c.resend
        );
    }
}

/// The same at 100k shared posts and 1k differing (500 per side): a figure for
/// docs/performance.md, run in release:
/// `cargo test -p flotilla-protocol --all-features --release --test sim catch_up_100k -- --ignored --nocapture`
#[test]
#[ignore = "benchmark: prints figures (about a minute in release)"]
fn catch_up_100k_shared_1k_differing() {
    let seed = seeds(1).first().copied().unwrap_or(0);
    let _guard = SeedGuard(seed);
    let c = catch_up(seed, 100_000, 500);
    assert!(c.events >= 101_000);
}

#[test]
fn non_member_events_are_rejected_everywhere_and_outsiders_read_nothing() {
    for seed in seeds(seed_count(20, 10)) {
        let _guard = SeedGuard(seed);
        let n = 4;
        let links: Vec<(usize, usize)> = (0..n)
            .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
            .collect();
        let mut net = fleet(seed, n, &links);
        let outsider = net.add_nodes(1);
        net.connect(outsider, 0);
        net.connect(outsider, 1);
        let f = net.flotilla_id();
        let ledger = net.node(0).state.ledger(&f).expect("follows");
        let sealed = Sealed {
            key: ledger.state().epoch().expect("epoch"),
            nonce: [3; 24],
            ciphertext: vec![1; 48],
        };
        let env = Envelope {
            v: ENVELOPE_VERSION,
            flotilla: f,
            channel: net.town_square(),
            author: net.node(outsider).secret.public(),
            hlc: Hlc::at(net.now_ms() + 1_000),
            seq: 1,
            prev: None,
            deps: ledger.heads(),
            kind: Kind::SEALED,
            payload: postcard::to_stdvec(&sealed).expect("encodes"),
        };
        let forged = SignedEvent::sign(env, &net.node(outsider).secret).expect("well formed");
        let msg = PeerMsg::Events {
            flotilla: f,
            events: vec![forged.bytes().to_vec()],
        };
        // Straight from the outsider: not even judged (not a member).
        net.transmit(outsider, 0, msg.clone(), None);
        // Relayed by members, and published locally by a member.
        for j in 0..n {
            let relay = net.node((j + 1) % n).secret.public();
            net.drive(
                j,
                InEvent::Recv {
                    peer: relay,
                    msg: msg.clone(),
                },
            );
        }
        net.drive(2, InEvent::Publish(forged.clone()));
        net.run_for(30_000);
        for j in 0..n {
            assert!(
                !net.has_event(j, &forged.id()),
                "node {j} stored a non-member's event"
            );
            let rejected = net.node(j).log.iter().any(|e| {
                matches!(e, Event::Rejected { id, reason: AuthError::NotMember, .. } if *id == forged.id())
            });
            assert!(rejected, "node {j} did not reject it");
        }
        assert!(
            !net.has_event(outsider, &forged.id()) || net.node(outsider).state.ledger(&f).is_none()
        );
        assert_eq!(net.node(outsider).received, 0, "outsiders receive nothing");
        let members: Vec<usize> = (0..n).collect();
        assert_converged(&mut net, &members, "members");
    }
}

#[test]
fn removed_nodes_later_events_are_rejected_even_when_relayed_late() {
    for seed in seeds(seed_count(20, 10)) {
        let _guard = SeedGuard(seed);
        let n = 5;
        let links: Vec<(usize, usize)> = (0..n)
            .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
            .collect();
        let mut net = fleet(seed, n, &links);
        let (stale, removed) = (3, 4);
        let ts = net.town_square();
        // What the remover had seen before the removal stays (strong remove: what it had
        // not seen is void, docs/protocol.md).
        let before = net.post(removed, 0, ts, "before my removal").expect("post");
        assert!(net.run_until(|n| n.has_event(0, &before.id()), CONVERGE_MS));
        net.partition(&[stale, removed], &[0, 1, 2]);
        net.run_for(1_000);
        let removed_key = net.node(removed).secret.public();
        net.publish_with(0, |ctx, _, users| ctx.remove_node(&users[0], removed_key))
            .expect("admin removes the node");
        net.run_for(2_000);
        let after = net
            .post(removed, 0, ts, "after my removal")
            .expect("it does not know");
        let ok = net.run_until(|n| n.has_event(stale, &after.id()), CONVERGE_MS);
        assert!(ok, "the stale peer accepts it while it does not know");
        // It also forks its own numbering: a second event under the number of the post the
        // remover had seen, chained where that one was (docs/protocol.md §5.3).
        let fork = net
            .publish_with(removed, |_, _, users| {
                let author = users
                    .iter()
                    .find(|u| u.public() == before.author())
                    .expect("the author of the earlier post");
                let env = Envelope {
                    seq: before.envelope().seq,
                    prev: before.envelope().prev,
                    ..after.envelope().clone()
                };
                Ok(SignedEvent::sign(env, author)?)
            })
            .expect("its node does not know");
        let ok = net.run_until(|n| n.has_event(stale, &fork.id()), CONVERGE_MS);
        assert!(ok, "the stale peer accepts the fork while it does not know");
        for j in 0..n - 1 {
            net.disconnect(removed, j);
        }
        net.heal();
        let members: Vec<usize> = (0..n - 1).collect();
        assert_converged(&mut net, &members, "after healing");
        for &j in &members {
            assert!(
                !net.has_event(j, &after.id()),
                "node {j} keeps the removed node's late post"
            );
            assert!(
                net.has_event(j, &before.id()),
                "node {j} lacks the earlier post"
            );
            assert!(
                !net.has_event(j, &fork.id()),
                "node {j} keeps the removed node's fork"
            );
        }
        let revoked = net
            .node(stale)
            .log
            .iter()
            .any(|e| matches!(e, Event::Revoked { id, .. } if *id == after.id()));
        assert!(
            revoked,
            "the stale peer revokes it once it learns of the removal"
        );
        // The stale peer's old frame arrives late.
        let f = net.flotilla_id();
        let msg = PeerMsg::Events {
            flotilla: f,
            events: vec![after.bytes().to_vec()],
        };
        let stale_key = net.node(stale).secret.public();
        for j in 0..stale {
            net.drive(
                j,
                InEvent::Recv {
                    peer: stale_key,
                    msg: msg.clone(),
                },
            );
            let rejected = net.node(j).log.iter().any(|e| {
                matches!(e, Event::Rejected { id, reason: AuthError::Removed, .. } if *id == after.id())
            });
            assert!(rejected, "node {j} did not reject the late relay");
            assert!(!net.has_event(j, &after.id()));
        }
        assert_converged(&mut net, &members, "after the late relay");
    }
}

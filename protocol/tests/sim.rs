//! Seeded multi-node scenarios of the sync protocol in the deterministic simulator.
//! Each scenario runs over many seeds; `SEED=n` runs one, and a failure prints its seed.

use flotilla_protocol::event::{Content, Envelope, Kind, Sealed, ENVELOPE_VERSION};
use flotilla_protocol::id::{ChannelId, EventId};
use flotilla_protocol::membership::AuthError;
use flotilla_protocol::sim::{seeds, Network, SeedGuard};
use flotilla_protocol::sync::{Event, InEvent};
use flotilla_protocol::wire::PeerMsg;
use flotilla_protocol::{SecretKey, SignedEvent};

/// Virtual time allowed for any convergence (the resync interval is 5 s).
const CONVERGE_MS: u64 = 120_000;

/// Debug builds run fewer seeds of the heavy scenarios.
fn seed_count(release: u64, debug: u64) -> u64 {
    if cfg!(debug_assertions) { debug } else { release }
}

fn all(net: &Network) -> Vec<usize> {
    (0..net.len()).collect()
}

fn assert_converged(net: &mut Network, nodes: &[usize], what: &str) {
    let ok = net.run_until(|n| n.converged(nodes), CONVERGE_MS);
    assert!(ok, "{what}: not converged: {:?}", net.divergence(nodes));
    for &i in nodes {
        assert!(net.duplicate_accepts(i).is_empty(), "{what}: node {i} accepted twice");
    }
}

/// `n` nodes, links from `links`, a flotilla founded on node 0 whose admin admits every
/// other node; each node then adds one user. Returns when all agree.
fn fleet(seed: u64, n: usize, links: &[(usize, usize)]) -> Network {
    let mut net = Network::new(seed);
    net.add_nodes(n);
    net.found(0);
    for &(a, b) in links {
        net.connect(a, b);
    }
    for i in 1..n {
        net.admit(0, i).expect("node 0's admin admits");
    }
    let everyone = all(&net);
    let ok = net.run_until(|n| everyone.iter().all(|&i| n.sees_members(i, &everyone)), CONVERGE_MS);
    assert!(ok, "admission did not spread: {:?}", net.divergence(&everyone));
    for i in 1..n {
        net.add_user(i, &format!("sailor{i}")).expect("member node adds a user");
    }
    assert_converged(&mut net, &everyone, "setup");
    net
}

/// A connected random topology: a ring plus `extra` random chords.
fn random_links(net_seed: u64, n: usize, extra: usize) -> Vec<(usize, usize)> {
    let mut links: Vec<(usize, usize)> = (0..n).map(|i| (i, (i + 1) % n)).collect();
    let mut x = net_seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    for _ in 0..extra {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
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
    for seed in seeds(seed_count(20, 5)) {
        let _guard = SeedGuard(seed);
        let mut net = fleet(seed, 3, &[(0, 1), (1, 2), (0, 2)]);
        let ts = net.town_square();
        let p = net.post(2, 0, ts, "bonjour").expect("post");
        let everyone = all(&net);
        assert_converged(&mut net, &everyone, "after post");
        assert!((0..3).all(|i| net.has_event(i, &p.id())));
    }
}

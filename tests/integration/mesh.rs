//! Real nodes in this process (`TestNet`): live posts, relays over a line, partitions,
//! restarts, late joiners, outsiders and bad invites. Every wait is bounded.

use std::collections::BTreeSet;
use std::time::Duration;

use flotilla_node::NodeHandle;
use flotilla_node::handle::Message;
use flotilla_node::test_utils::{TEST_JOIN_GRACE, TestNet, eventually};
use flotilla_protocol as proto;
use proto::author::InviteCode;
use proto::id::{ChannelId, EventId, FlotillaId};

/// Bound on any one convergence wait.
const CONVERGE: Duration = Duration::from_secs(20);

fn town_square(f: &FlotillaId) -> ChannelId {
    ChannelId::derived(f, "town-square")
}

/// Founds a flotilla on node 0 (admin `alice`) and returns it with a multi-use invite.
async fn found(net: &TestNet) -> anyhow::Result<(FlotillaId, InviteCode)> {
    let f = net.node(0).create_flotilla("Rallye", "alice").await?;
    let code = net.node(0).invite(f, None, None).await?;
    Ok((f, code))
}

/// The local user of node `i` in these tests.
const USERS: [&str; 5] = ["alice", "bob", "chloe", "dan", "erwan"];

/// Node `i` joins through node `via` (and the link is remembered by the net); its user
/// (`USERS[i]`) is registered.
async fn join(net: &mut TestNet, i: usize, via: usize, code: &InviteCode) -> anyhow::Result<()> {
    net.node(i).add_user(USERS[i]).await?;
    net.node(i).join(code, Some(net.addr(via))).await?;
    net.connect(via, i).await
}

async fn texts(node: &NodeHandle, f: FlotillaId, c: ChannelId) -> Vec<String> {
    node.messages(f, c, 10_000)
        .await
        .map(|m| m.into_iter().map(|m| m.text).collect())
        .unwrap_or_default()
}

/// Waits until every node in `nodes` shows exactly `want` (as a set, no duplicates).
async fn converge(
    net: &TestNet,
    nodes: &[usize],
    f: FlotillaId,
    c: ChannelId,
    want: &BTreeSet<String>,
) -> anyhow::Result<()> {
    for &i in nodes {
        eventually(
            CONVERGE,
            &format!("node {i} to show {} posts", want.len()),
            || async {
                let got = texts(net.node(i), f, c).await;
                got.len() == want.len() && got.iter().cloned().collect::<BTreeSet<_>>() == *want
            },
        )
        .await?;
    }
    Ok(())
}

#[tokio::test]
async fn two_nodes_converge_on_live_posts() -> anyhow::Result<()> {
    let mut net = TestNet::spawn(2).await?;
    let (f, code) = found(&net).await?;
    join(&mut net, 1, 0, &code).await?;
    let c = town_square(&f);
    net.node(0).post(f, c, "alice", "bonjour", None).await?;
    net.node(1).post(f, c, "bob", "salut", None).await?;
    let want: BTreeSet<String> = ["bonjour", "salut"].map(String::from).into();
    converge(&net, &[0, 1], f, c, &want).await?;
    let msgs = net.node(1).messages(f, c, 10).await?;
    let authors: BTreeSet<&str> = msgs.iter().map(|m| m.author.as_str()).collect();
    assert_eq!(authors, BTreeSet::from(["alice", "bob"]));
    Ok(())
}

#[tokio::test]
async fn a_post_crosses_a_five_node_line() -> anyhow::Result<()> {
    let mut net = TestNet::spawn(5).await?;
    let (f, code) = found(&net).await?;
    for i in 1..5 {
        join(&mut net, i, i - 1, &code).await?;
    }
    // Only the line's links exist: 0 and 4 are four hops apart.
    assert!(!net.connected(0, 4).await? && !net.connected(0, 2).await?);
    let c = town_square(&f);
    net.node(0)
        .post(f, c, "alice", "ohé du bateau", None)
        .await?;
    net.node(4).post(f, c, "erwan", "reçu", None).await?;
    let want: BTreeSet<String> = ["ohé du bateau", "reçu"].map(String::from).into();
    converge(&net, &[0, 1, 2, 3, 4], f, c, &want).await
}

#[tokio::test]
async fn a_healed_partition_converges_without_loss_or_doubles() -> anyhow::Result<()> {
    let mut net = TestNet::spawn(5).await?;
    let (f, code) = found(&net).await?;
    for i in 1..5 {
        join(&mut net, i, 0, &code).await?;
    }
    net.connect_all().await?;
    let c = town_square(&f);
    net.node(0).post(f, c, "alice", "avant", None).await?;
    let mut want: BTreeSet<String> = ["avant".to_string()].into();
    converge(&net, &[0, 1, 2, 3, 4], f, c, &want).await?;

    net.partition(&[0, 1], &[2, 3, 4]).await?;
    for k in 0..5 {
        for (node, user) in [(0, "alice"), (1, "bob"), (2, "chloe"), (4, "erwan")] {
            let text = format!("{user} {k}");
            net.node(node).post(f, c, user, &text, None).await?;
            want.insert(text);
        }
    }
    // Each side sees its own posts, not the other's.
    let side_a: BTreeSet<String> = want
        .iter()
        .filter(|t| *t == "avant" || t.starts_with("alice") || t.starts_with("bob"))
        .cloned()
        .collect();
    converge(&net, &[0, 1], f, c, &side_a).await?;
    assert!(
        !texts(net.node(3), f, c)
            .await
            .contains(&"alice 0".to_string())
    );

    net.heal().await?;
    converge(&net, &[0, 1, 2, 3, 4], f, c, &want).await
}

#[tokio::test]
async fn a_restarted_node_keeps_its_data_and_catches_up() -> anyhow::Result<()> {
    let mut net = TestNet::spawn(3).await?;
    let (f, code) = found(&net).await?;
    join(&mut net, 1, 0, &code).await?;
    join(&mut net, 2, 0, &code).await?;
    let c = town_square(&f);
    net.node(2).post(f, c, "chloe", "je pars", None).await?;
    let mut want: BTreeSet<String> = ["je pars".to_string()].into();
    converge(&net, &[0, 1, 2], f, c, &want).await?;

    net.stop(2).await?;
    for k in 0..10 {
        let text = format!("pendant {k}");
        net.node(k % 2)
            .post(f, c, ["alice", "bob"][k % 2], &text, None)
            .await?;
        want.insert(text);
    }
    net.restart(2).await?;
    converge(&net, &[2], f, c, &want).await?;
    // It can still write as its user after the restart (keys and ledger were resumed).
    net.node(2).post(f, c, "chloe", "de retour", None).await?;
    want.insert("de retour".into());
    converge(&net, &[0, 1, 2], f, c, &want).await
}

#[tokio::test]
async fn a_late_joiner_receives_the_history_of_public_channels() -> anyhow::Result<()> {
    let mut net = TestNet::spawn(2).await?;
    let (f, code) = found(&net).await?;
    let c = town_square(&f);
    let meteo = net.node(0).create_channel(f, "alice", "météo").await?;
    let mut want = BTreeSet::new();
    let mut want_meteo = BTreeSet::new();
    let mut root: Option<EventId> = None;
    for k in 0..20 {
        let text = format!("message {k}");
        let id = net
            .node(0)
            .post(f, c, "alice", &text, root.filter(|_| k % 5 == 4))
            .await?;
        root.get_or_insert(id);
        want.insert(text);
        let grib = format!("GRIB {k}");
        net.node(0).post(f, meteo, "alice", &grib, None).await?;
        want_meteo.insert(grib);
    }
    join(&mut net, 1, 0, &code).await?;
    converge(&net, &[1], f, c, &want).await?;
    converge(&net, &[1], f, meteo, &want_meteo).await?;
    let channels = net.node(1).channels(f).await?;
    assert!(
        channels
            .iter()
            .any(|ch| ch.id == meteo && ch.name == "météo"),
        "{channels:?}"
    );
    let msgs: Vec<Message> = net.node(1).messages(f, c, 100).await?;
    assert_eq!(
        msgs.iter().filter(|m| m.root_id == root).count(),
        4,
        "replies keep their root"
    );
    Ok(())
}

/// A forged content event for `f` by a key that is not a member.
fn forged_event(f: FlotillaId, genesis: EventId) -> anyhow::Result<proto::SignedEvent> {
    use proto::entropy::{Entropy, SeededEntropy};
    use proto::event::{ENVELOPE_VERSION, Envelope, Kind, Sealed};
    let mut rng = SeededEntropy::new(666);
    let key = proto::SecretKey::generate(&mut rng);
    let sealed = Sealed {
        key: genesis,
        nonce: rng.array(),
        ciphertext: vec![7; 48],
    };
    let env = Envelope {
        v: ENVELOPE_VERSION,
        flotilla: f,
        channel: town_square(&f),
        author: key.public(),
        hlc: proto::hlc::Hlc::at(1_800_000_000_000),
        seq: 1,
        prev: None,
        deps: vec![genesis],
        kind: Kind::SEALED,
        payload: postcard::to_stdvec(&sealed)?,
    };
    Ok(proto::SignedEvent::sign(env, &key)?)
}

#[tokio::test]
async fn an_outsider_reads_nothing_and_stores_nothing_anywhere() -> anyhow::Result<()> {
    let mut net = TestNet::spawn(3).await?;
    let (f, code) = found(&net).await?;
    join(&mut net, 1, 0, &code).await?;
    let c = town_square(&f);
    net.node(0)
        .post(f, c, "alice", "secret de bord", None)
        .await?;
    converge(&net, &[0, 1], f, c, &["secret de bord".to_string()].into()).await?;
    let info = net.node(0).flotillas().await?;
    let genesis = info[0].genesis;
    let events_before: Vec<usize> = {
        let mut v = Vec::new();
        for i in 0..2 {
            v.push(net.node(i).flotillas().await?[0].events);
        }
        v
    };

    // Node 2 has no invite. It connects and tries everything it can.
    let outsider = net.node(2).clone();
    outsider.dial(net.addr(0)).await?;
    eventually(CONVERGE, "the outsider to connect", || async {
        net.connected(2, 0).await.unwrap_or(false)
    })
    .await?;
    let forged = forged_event(f, genesis)?;
    let member = net.peer(0);
    let events = vec![forged.bytes().to_vec()];
    outsider
        .send_raw(
            member,
            proto::wire::PeerMsg::Events {
                flotilla: f,
                events,
            },
        )
        .await?;
    outsider
        .send_raw(
            member,
            proto::wire::PeerMsg::Want {
                flotilla: f,
                ids: vec![genesis],
            },
        )
        .await?;
    outsider
        .send_raw(
            member,
            proto::wire::PeerMsg::Hello {
                flotilla: f,
                summaries: vec![],
            },
        )
        .await?;
    outsider.gossip_raw(f, forged.bytes().to_vec()).await?;

    // After the join grace, the member closes the connection.
    eventually(
        TEST_JOIN_GRACE + CONVERGE,
        "the outsider to be disconnected",
        || async { !net.connected(0, 2).await.unwrap_or(true) },
    )
    .await?;
    assert!(
        outsider.flotillas().await?.is_empty(),
        "the outsider follows nothing"
    );
    for (i, before) in events_before.iter().enumerate() {
        let now = net.node(i).flotillas().await?[0].events;
        assert_eq!(now, *before, "node {i} stored nothing of the outsider's");
    }
    assert_eq!(
        texts(net.node(0), f, c).await,
        vec!["secret de bord".to_string()]
    );
    Ok(())
}

#[tokio::test]
#[allow(clippy::unwrap_used)] // unwrap_err: the refusal is what is checked
async fn bad_and_used_up_invites_are_refused() -> anyhow::Result<()> {
    use flotilla_node::Error;
    use flotilla_node::net::codec::JoinRefusal;
    let net = TestNet::spawn(3).await?;
    let (f, good) = found(&net).await?;
    let mut wrong = good.clone();
    wrong.secret = proto::SecretKey::from_bytes(&[9; 32]);
    let err = net
        .node(1)
        .join(&wrong, Some(net.addr(0)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::JoinRefused(JoinRefusal::BadProof)),
        "{err}"
    );

    let once = net.node(0).invite(f, Some(1), None).await?;
    net.node(1).join(&once, Some(net.addr(0))).await?;
    let err = net
        .node(2)
        .join(&once, Some(net.addr(0)))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::JoinRefused(JoinRefusal::Unusable(why)) if why == "used up"),
        "{err}"
    );
    let expired = net.node(0).invite(f, None, Some(1)).await?;
    let err = net
        .node(2)
        .join(&expired, Some(net.addr(0)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::JoinRefused(JoinRefusal::Unusable(_))),
        "{err}"
    );
    assert!(net.node(2).flotillas().await?.iter().all(|fl| !fl.member));
    Ok(())
}

#[tokio::test]
#[allow(clippy::unwrap_used)] // unwrap_err: the refusal is what is checked
async fn a_revoked_invite_is_refused() -> anyhow::Result<()> {
    use flotilla_node::Error;
    use flotilla_node::net::codec::JoinRefusal;
    let net = TestNet::spawn(2).await?;
    let (f, code) = found(&net).await?;
    assert_eq!(net.node(0).revoke_invite(code.invite, None).await?, f);
    let err = net
        .node(1)
        .join(&code, Some(net.addr(0)))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::JoinRefused(JoinRefusal::Unusable(why)) if why.contains("revoked")),
        "{err}"
    );
    let unknown = net
        .node(0)
        .revoke_invite(proto::id::InviteId([7; 16]), None);
    assert!(matches!(unknown.await, Err(Error::NotFound(_))));
    Ok(())
}

/// The discovery seam (what mDNS feeds the actor): a found peer is dialled; after a cut
/// (both sides block each other, so the connection closes and redials are refused) and its
/// end, the actor redials the found address by itself — mDNS on the boats that kept their
/// link reports nothing when a peer comes back. `Lost` stops the redials.
#[tokio::test]
async fn discovered_peers_are_dialled_and_redialled_after_a_cut() -> anyhow::Result<()> {
    use flotilla_node::handle::{Discovered, DiscoveryUpdate};
    let net = TestNet::spawn(3).await?;
    let (f, code) = found(&net).await?;
    net.node(1).add_user("bob").await?;
    net.node(1).join(&code, Some(net.addr(0))).await?;
    let (p0, p1) = (net.peer(0), net.peer(1));
    for (a, b) in [(0, 1), (1, 0)] {
        let found = Discovered {
            peer: net.peer(b),
            addrs: vec![net.addr(b)],
        };
        net.node(a)
            .discovered()
            .send(DiscoveryUpdate::Found(found))
            .await?;
    }
    let c = town_square(&f);
    net.node(0).post(f, c, "alice", "avant", None).await?;
    let mut want: BTreeSet<String> = ["avant".to_string()].into();
    converge(&net, &[0, 1], f, c, &want).await?;

    net.node(0).block(p1, true).await?;
    net.node(1).block(p0, true).await?;
    eventually(CONVERGE, "0 and 1 apart", || async {
        !net.connected(0, 1).await.unwrap_or(true) && !net.connected(1, 0).await.unwrap_or(true)
    })
    .await?;
    for (node, user) in [(0, "alice"), (1, "bob")] {
        let text = format!("pendant la coupure, {user}");
        net.node(node).post(f, c, user, &text, None).await?;
        want.insert(text);
    }
    net.node(0).block(p1, false).await?;
    net.node(1).block(p0, false).await?;
    // Nobody dials here: the found-peer redial reconnects them.
    converge(&net, &[0, 1], f, c, &want).await?;
    assert!(net.connected(0, 1).await?);

    // Node 2 is found by node 0, then lost before the connection: no dial after `Lost`
    // (node 2 is an outsider, so a connection would show for the 3 s join grace).
    let p2 = net.peer(2);
    let found = Discovered {
        peer: p2,
        addrs: vec![net.addr(2)],
    };
    net.node(0).block(p2, true).await?;
    let to_0 = net.node(0).discovered();
    to_0.send(DiscoveryUpdate::Found(found)).await?;
    to_0.send(DiscoveryUpdate::Lost(p2)).await?;
    net.node(0).block(p2, false).await?;
    // Past the first redial (1 s, or the 3 s fallback when node 0 has the larger id).
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert!(!net.connected(0, 2).await?, "a lost peer is not redialled");
    Ok(())
}

//! Real nodes and the join path (issue 8): a joiner that does not name a member (`via`)
//! asks every connected peer who is one, with a probe bound to its own key, and sends its
//! admission proof only to members; an outsider connected to it learns nothing it can use,
//! and is refused when it tries to join with what it could know.

use std::time::Duration;

use flotilla_node::Error;
use flotilla_node::net::codec::JoinRefusal;
use flotilla_node::test_utils::{TestNet, eventually};
use flotilla_protocol as proto;
use proto::author::InviteCode;

/// Bound on any one wait.
const WAIT: Duration = Duration::from_secs(20);

#[tokio::test]
#[allow(clippy::unwrap_used)] // unwrap_err: the refusal is what is checked
async fn an_outsider_connected_during_a_join_gets_nothing_and_is_refused() -> anyhow::Result<()> {
    let mut net = TestNet::spawn(3).await?;
    let (member, joiner, outsider) = (0, 1, 2);
    let f = net.node(member).create_flotilla("Rallye", "alice").await?;
    net.node(member)
        .post(
            f,
            proto::ChannelId::derived(&f, "town-square"),
            "alice",
            "à bord",
            None,
        )
        .await?;
    let code = net.node(member).invite(f, None, None).await?;
    // The joiner sits between the member and an outsider (a laptop on the marina Wi-Fi).
    net.connect(joiner, member).await?;
    net.connect(joiner, outsider).await?;
    net.node(joiner).add_user("bob").await?;
    net.node(joiner).join(&code, None).await?;
    let joined = net.node(joiner).flotillas().await?;
    assert!(
        joined.iter().any(|fl| fl.id == f && fl.member),
        "the joiner got in"
    );

    // The outsider saw a probe tag bound to the joiner's key and nothing else: it follows
    // nothing and stored nothing.
    assert!(
        net.node(outsider).flotillas().await?.is_empty(),
        "the outsider follows nothing"
    );
    // It tries with all it could know (the flotilla's genesis and the invite id, learnt
    // any way at all) but not the invite's secret key: refused, through a member directly
    // and by probing its neighbours.
    let forged = InviteCode {
        genesis: code.genesis,
        invite: code.invite,
        secret: proto::SecretKey::from_bytes(&[7; 32]),
    };
    let err = net
        .node(outsider)
        .join(&forged, Some(net.addr(member)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::JoinRefused(JoinRefusal::BadProof)),
        "{err}"
    );
    let err = net.node(outsider).join(&forged, None).await.unwrap_err();
    assert!(
        matches!(err, Error::JoinRefused(_) | Error::Join(_)),
        "{err}"
    );
    assert!(
        net.node(outsider)
            .flotillas()
            .await?
            .iter()
            .all(|fl| !fl.member),
        "the outsider is not a member"
    );
    // The member's view: two nodes, the outsider is not one of them.
    eventually(WAIT, "the member to count two nodes", || async {
        net.node(member)
            .flotillas()
            .await
            .is_ok_and(|v| v.iter().any(|fl| fl.id == f && fl.nodes == 2))
    })
    .await?;
    Ok(())
}

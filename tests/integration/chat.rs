//! The chat API (`NodeHandle::create_post`, `edit_post`, `open_dm`, …) across real nodes in
//! this process: what one boat does shows on the other, refusals are typed, DMs stay
//! private, unread counts rise and clear, pages walk the channel, files round-trip.

use std::time::Duration;

use flotilla_node::handle::views::{ChannelKind, PostView};
use flotilla_node::handle::{Event, NewChannel};
use flotilla_node::test_utils::{TestNet, eventually, wait_for};
use flotilla_node::{Error, NodeHandle};
use flotilla_protocol as proto;
use proto::id::{ChannelId, EventId, FlotillaId};

/// Bound on any one convergence wait.
const CONVERGE: Duration = Duration::from_secs(20);

/// The local user of node `i`.
const USERS: [&str; 3] = ["alice", "bob", "chloe"];

fn town_square(f: &FlotillaId) -> ChannelId {
    ChannelId::derived(f, "town-square")
}

/// Founds a flotilla on node 0 (admin `alice`); nodes 1.. join through node 0 and their user
/// joins the flotilla; returns once node 0 knows every user.
async fn flotilla_of(net: &mut TestNet) -> anyhow::Result<FlotillaId> {
    let f = net.node(0).create_flotilla("Rallye", USERS[0]).await?;
    let code = net.node(0).invite(f, None, None).await?;
    for (i, user) in USERS.iter().enumerate().take(net.len()).skip(1) {
        net.node(i).add_user(user).await?;
        net.node(i).join(&code, Some(net.addr(0))).await?;
        net.connect(0, i).await?;
        net.node(i).channels_for(f, user).await?; // adds the user to the flotilla
    }
    let n = net.len();
    for i in 0..n {
        eventually(CONVERGE, "every user everywhere", || async {
            net.node(i).members(f).await.is_ok_and(|m| m.len() == n)
        })
        .await?;
    }
    Ok(f)
}

/// Waits until `node` shows `post` to `user` and `check` holds.
async fn shows(
    node: &NodeHandle,
    f: FlotillaId,
    post: EventId,
    user: &str,
    what: &str,
    check: impl Fn(&PostView) -> bool,
) -> anyhow::Result<()> {
    eventually(CONVERGE, what, || async {
        node.post_view(f, post, user).await.is_ok_and(|p| check(&p))
    })
    .await
}

#[tokio::test]
async fn edits_reactions_pins_and_deletes_cross_boats() -> anyhow::Result<()> {
    let mut net = TestNet::spawn(2).await?;
    let f = flotilla_of(&mut net).await?;
    let (a, b, c) = (net.node(0).clone(), net.node(1).clone(), town_square(&f));
    let mut events = b.subscribe();
    let post = a
        .create_post(f, c, "alice", "cap au sud @bob", None, vec![])
        .await?;
    shows(&b, f, post.id, "bob", "the post on B", |p| p.mentions_me).await?;
    a.edit_post(f, post.id, "alice", "cap au nord @bob").await?;
    a.react(f, post.id, "alice", "sailboat", true).await?;
    b.react(f, post.id, "bob", "sailboat", true).await?;
    a.set_pinned(f, post.id, "alice", true).await?;
    shows(&b, f, post.id, "bob", "edit, reactions and pin on B", |p| {
        p.edited
            && p.text == "cap au nord @bob"
            && p.pinned
            && p.reactions.len() == 1
            && p.reactions[0].users.len() == 2
            && p.reactions[0].me
    })
    .await?;
    let pins = b.pins(f, c, "bob").await?;
    assert_eq!(pins.len(), 1);
    let changed = wait_for(&mut events, "PostChanged on B", CONVERGE, |e| match e {
        Event::PostChanged { post: p, .. } if *p == post.id => Some(()),
        _ => None,
    });
    changed.await?;
    a.delete_post(f, post.id, "alice").await?;
    wait_for(&mut events, "PostDeleted on B", CONVERGE, |e| match e {
        Event::PostDeleted { post: p, .. } if *p == post.id => Some(()),
        _ => None,
    })
    .await?;
    let gone = b.post_view(f, post.id, "bob").await;
    assert!(matches!(gone, Err(Error::NotFound(_))), "{gone:?}");
    Ok(())
}

#[tokio::test]
async fn rights_are_checked_before_writing() -> anyhow::Result<()> {
    let mut net = TestNet::spawn(2).await?;
    let f = flotilla_of(&mut net).await?;
    let (a, b, c) = (net.node(0).clone(), net.node(1).clone(), town_square(&f));
    let by_alice = a
        .create_post(f, c, "alice", "à alice", None, vec![])
        .await?;
    let by_bob = b.create_post(f, c, "bob", "à bob", None, vec![]).await?;
    shows(&b, f, by_alice.id, "bob", "alice's post on B", |_| true).await?;
    shows(&a, f, by_bob.id, "alice", "bob's post on A", |_| true).await?;
    let edit = b.edit_post(f, by_alice.id, "bob", "pirate").await;
    assert!(matches!(edit, Err(Error::Forbidden(_))), "{edit:?}");
    let delete = b.delete_post(f, by_alice.id, "bob").await;
    assert!(matches!(delete, Err(Error::Forbidden(_))), "{delete:?}");
    a.delete_post(f, by_bob.id, "alice").await?; // a flotilla admin may
    let dock = a
        .create_channel_full(f, "alice", new_channel("dock", false))
        .await?;
    let clash = b
        .create_channel_full(f, "bob", new_channel("dock", false))
        .await;
    assert!(
        matches!(clash, Err(Error::Conflict(_)) | Ok(_)),
        "B may not know `dock` yet: {clash:?}"
    );
    let bad = a
        .create_channel_full(f, "alice", new_channel("Dock!", false))
        .await;
    assert!(matches!(bad, Err(Error::Invalid { .. })), "{bad:?}");
    let again = a
        .create_channel_full(f, "alice", new_channel("dock", false))
        .await;
    assert!(matches!(again, Err(Error::Conflict(_))), "{again:?}");
    eventually(CONVERGE, "dock on B", || async {
        b.channel_view(f, dock.id, "bob").await.is_ok()
    })
    .await?;
    let not_creator = b.archive_channel(f, dock.id, "bob", true).await;
    assert!(
        matches!(not_creator, Err(Error::Forbidden(_))),
        "{not_creator:?}"
    );
    let archived = a.archive_channel(f, dock.id, "alice", true).await?;
    assert!(archived.archived);
    let refused = a
        .create_post(f, dock.id, "alice", "encore", None, vec![])
        .await;
    assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");
    let empty = a.create_post(f, c, "alice", "  ", None, vec![]).await;
    assert!(matches!(empty, Err(Error::Invalid { .. })), "{empty:?}");
    let emoji = a.react(f, by_alice.id, "alice", "Not An Emoji", true).await;
    assert!(matches!(emoji, Err(Error::Invalid { .. })), "{emoji:?}");
    Ok(())
}

fn new_channel(name: &str, private: bool) -> NewChannel {
    NewChannel {
        name: name.into(),
        private,
        header: String::new(),
        purpose: String::new(),
    }
}

#[tokio::test]
async fn dms_are_idempotent_and_private() -> anyhow::Result<()> {
    let mut net = TestNet::spawn(3).await?;
    let f = flotilla_of(&mut net).await?;
    let (a, b, c) = (
        net.node(0).clone(),
        net.node(1).clone(),
        net.node(2).clone(),
    );
    let (dm, created) = a.open_dm(f, "alice", vec!["bob".into()]).await?;
    assert!(created && dm.kind == ChannelKind::Dm && dm.members.len() == 2);
    let (again, created_again) = a
        .open_dm(f, "alice", vec!["bob".into(), "alice".into()])
        .await?;
    assert!(!created_again && again.id == dm.id);
    let alone = a.open_dm(f, "alice", vec![]).await;
    assert!(matches!(alone, Err(Error::Invalid { .. })), "{alone:?}");
    eventually(CONVERGE, "the DM on B", || async {
        b.channels_for(f, "bob")
            .await
            .is_ok_and(|cs| cs.iter().any(|ch| ch.id == dm.id))
    })
    .await?;
    let (from_b, created_b) = b.open_dm(f, "bob", vec!["alice".into()]).await?;
    assert!(!created_b && from_b.id == dm.id, "B finds the same DM");
    let secret = b
        .create_post(f, dm.id, "bob", "rendez-vous à 18 h", None, vec![])
        .await?;
    shows(&a, f, secret.id, "alice", "the DM post on A", |_| true).await?;
    let unread = a.unread(f, dm.id, "alice").await?;
    assert_eq!(
        (unread.unread, unread.mentions),
        (1, 1),
        "every DM post is a mention"
    );
    // C holds the events (the mesh syncs them) but neither the key nor the right.
    let read = c.channel_view(f, dm.id, "chloe").await;
    assert!(
        matches!(read, Err(Error::Forbidden(_)) | Err(Error::NotFound(_))),
        "{read:?}"
    );
    let posts = c.posts(f, dm.id, "chloe", None, 50).await;
    assert!(
        matches!(posts, Err(Error::Forbidden(_)) | Err(Error::NotFound(_))),
        "{posts:?}"
    );
    let listed = c.channels_for(f, "chloe").await?;
    assert!(listed.iter().all(|ch| ch.id != dm.id));
    let messages = c.messages(f, dm.id, 100).await.unwrap_or_default();
    assert!(messages.is_empty(), "C's node cannot decrypt the DM");
    Ok(())
}

#[tokio::test]
async fn unread_counts_rise_and_clear_and_pages_walk_the_channel() -> anyhow::Result<()> {
    let mut net = TestNet::spawn(1).await?;
    let a = net.node(0).clone();
    let f = a.create_flotilla("Rallye", "alice").await?;
    a.add_user("bob").await?;
    a.channels_for(f, "bob").await?; // bob joins the flotilla: `@bob` can name him
    let c = town_square(&f);
    let mut ids = Vec::new();
    for i in 0..7 {
        let text = if i == 3 {
            "@bob à la barre".to_owned()
        } else {
            format!("post {i}")
        };
        ids.push(a.create_post(f, c, "alice", &text, None, vec![]).await?.id);
    }
    a.create_post(f, c, "alice", "une réponse", Some(ids[0]), vec![])
        .await?;
    a.create_post(f, c, "bob", "mon post", None, vec![]).await?;
    let u = a.unread(f, c, "bob").await?;
    assert_eq!(
        (u.unread, u.mentions),
        (8, 1),
        "7 posts and 1 reply by alice, 1 mention"
    );
    let mut reads = a.subscribe();
    a.mark_read(f, c, "bob").await?;
    wait_for(&mut reads, "ReadChanged", CONVERGE, |e| {
        matches!(e, Event::ReadChanged { user, .. } if user == "bob").then_some(())
    })
    .await?;
    net.restart(0).await?;
    let a = net.node(0).clone();
    let u = a.unread(f, c, "bob").await?;
    assert_eq!(
        (u.unread, u.mentions),
        (0, 0),
        "the marker survives a restart"
    );
    a.create_post(f, c, "alice", "@here on lève l'ancre", None, vec![])
        .await?;
    let view = a.channel_view(f, c, "bob").await?;
    assert_eq!((view.unread, view.mentions), (1, 1));
    assert!(view.member && view.last_post_at.is_some());
    // Pages: 9 root posts (8 + the @here), newest page first, oldest first inside.
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = a.posts(f, c, "bob", before, 4).await?;
        assert!(page.posts.len() <= 4);
        assert!(page.posts.windows(2).all(|w| w[0].cursor < w[1].cursor));
        let mut older: Vec<EventId> = page.posts.iter().map(|p| p.id).collect();
        older.extend(seen);
        seen = older;
        match page.next {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 9);
    assert_eq!(&seen[..7], &ids[..], "oldest first, replies left out");
    let (root, replies) = a.thread(f, ids[0], "bob").await?;
    assert_eq!((root.reply_count, replies.len()), (1, 1));
    Ok(())
}

#[tokio::test]
async fn files_round_trip_and_oversize_files_are_refused() -> anyhow::Result<()> {
    let net = TestNet::spawn(1).await?;
    let a = net.node(0).clone();
    let f = a.create_flotilla("Rallye", "alice").await?;
    let c = town_square(&f);
    let files_dir = net.data_dir(0).join(flotilla_node::files::FILES_DIR);
    let limit = flotilla_node::config::DEFAULT_MAX_ATTACHMENT_BYTES;
    let too_big = vec![0u8; usize::try_from(limit)? + 1];
    let refused = a
        .put_file(
            f,
            c,
            "alice",
            "big.bin",
            "application/octet-stream",
            too_big,
        )
        .await;
    assert!(
        matches!(refused, Err(Error::TooLarge { limit: l }) if l == limit),
        "{refused:?}"
    );
    assert!(!files_dir.exists(), "nothing stored");
    let bytes = b"carte des mouillages".to_vec();
    let info = a
        .put_file(f, c, "alice", "carte.txt", "text/plain", bytes.clone())
        .await?;
    assert_eq!((info.size, info.name.as_str()), (20, "carte.txt"));
    let post = a
        .create_post(f, c, "alice", "", None, vec![info.id])
        .await?;
    assert_eq!(post.files, vec![info.clone()]);
    let (got, path) = a.file(f, info.id, "alice").await?;
    assert_eq!(got, info);
    assert_eq!(std::fs::read(path)?, bytes);
    let unknown = a
        .create_post(f, c, "alice", "x", None, vec![proto::id::FileId([9; 32])])
        .await;
    assert!(matches!(unknown, Err(Error::Invalid { .. })), "{unknown:?}");
    Ok(())
}

#[tokio::test]
async fn a_member_added_later_reads_the_history_of_a_private_channel() -> anyhow::Result<()> {
    let mut net = TestNet::spawn(2).await?;
    let f = flotilla_of(&mut net).await?;
    let (a, b) = (net.node(0).clone(), net.node(1).clone());
    let crew = a
        .create_channel_full(f, "alice", new_channel("crew", true))
        .await?;
    assert_eq!(crew.kind, ChannelKind::Private);
    let early = a
        .create_post(f, crew.id, "alice", "avant bob", None, vec![])
        .await?;
    // B builds its fold while it holds the events but not the channel key.
    eventually(CONVERGE, "B to hold the early post", || async {
        b.messages(f, town_square(&f), 10).await.is_ok()
            && b.channels(f)
                .await
                .is_ok_and(|cs| cs.iter().any(|ch| ch.id == crew.id))
    })
    .await?;
    let before = b.posts(f, crew.id, "bob", None, 10).await;
    assert!(matches!(before, Err(Error::Forbidden(_))), "{before:?}");
    let added = a.add_channel_member(f, crew.id, "alice", "bob").await?;
    assert_eq!(added.members.len(), 2);
    shows(
        &b,
        f,
        early.id,
        "bob",
        "the early post once bob is in",
        |p| p.text == "avant bob",
    )
    .await?;
    b.leave_channel(f, crew.id, "bob").await?;
    let default = b.leave_channel(f, town_square(&f), "bob").await;
    assert!(matches!(default, Err(Error::Forbidden(_))), "{default:?}");
    Ok(())
}

//! Files across real nodes in this process (issue 11): a 5 MB file reaches two boats from
//! several sources, byte-identical; a late joiner gets it from a boat that is not the
//! uploader; a cut transfer resumes after a restart where it stopped; a file posted twice
//! travels once; a boat outside a private channel relays its file without being able to
//! read it.

use std::time::Duration;

use flotilla_node::NodeHandle;
use flotilla_node::handle::{Event, NewChannel};
use flotilla_node::test_utils::{TestNet, eventually};
use flotilla_protocol as proto;
use proto::id::{ChannelId, FileId, FlotillaId};

/// Bound on any one wait.
const WAIT: Duration = Duration::from_secs(30);
/// The local user of node `i`.
const USERS: [&str; 4] = ["alice", "bob", "chloe", "dan"];
/// The file: 5 MB (a morning GRIB at its largest).
const SIZE: usize = 5_000_000;

fn town_square(f: &FlotillaId) -> ChannelId {
    ChannelId::derived(f, "town-square")
}

/// Bytes that do not compress and differ per `seed`.
fn payload(seed: u8, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 32);
    let mut block = *blake3::hash(&[seed]).as_bytes();
    while out.len() < len {
        out.extend_from_slice(&block);
        block = *blake3::hash(&block).as_bytes();
    }
    out.truncate(len);
    out
}

/// Founds a flotilla on node 0; nodes `1..members` join through node 0.
async fn flotilla_of(net: &mut TestNet, members: usize) -> anyhow::Result<FlotillaId> {
    let f = net.node(0).create_flotilla("Rallye", USERS[0]).await?;
    let code = net.node(0).invite(f, None, None).await?;
    for (i, user) in USERS.iter().enumerate().take(members).skip(1) {
        net.node(i).add_user(user).await?;
        net.node(i).join(&code, Some(net.addr(0))).await?;
        net.connect(0, i).await?;
        net.node(i).channels_for(f, user).await?;
    }
    for i in 0..members {
        eventually(WAIT, "every user everywhere", || async {
            net.node(i)
                .members(f)
                .await
                .is_ok_and(|m| m.len() == members)
        })
        .await?;
    }
    Ok(f)
}

/// Waits until `node` has the file's bytes and returns them.
async fn bytes_on(
    node: &NodeHandle,
    f: FlotillaId,
    file: FileId,
    user: &str,
) -> anyhow::Result<Vec<u8>> {
    eventually(WAIT, &format!("file on {user}'s boat"), || async {
        node.file_info(f, file, user)
            .await
            .is_ok_and(|i| i.state.available())
    })
    .await?;
    let (_, path) = node.file(f, file, user).await?;
    Ok(std::fs::read(path)?)
}

async fn post_file(
    node: &NodeHandle,
    f: FlotillaId,
    channel: ChannelId,
    user: &str,
    bytes: Vec<u8>,
) -> anyhow::Result<FileId> {
    let info = node
        .put_file(
            f,
            channel,
            user,
            "gfs_20261207.grb2",
            "application/octet-stream",
            bytes,
        )
        .await?;
    node.create_post(f, channel, user, "le GRIB du matin", None, vec![info.id])
        .await?;
    Ok(info.id)
}

#[tokio::test]
async fn a_5mb_file_reaches_two_boats_then_a_late_joiner_from_a_relay_and_travels_once()
-> anyhow::Result<()> {
    let mut net = TestNet::spawn(4).await?;
    let f = flotilla_of(&mut net, 3).await?;
    let code = net.node(0).invite(f, None, None).await?;
    net.connect(1, 2).await?;
    let (a, b, c) = (
        net.node(0).clone(),
        net.node(1).clone(),
        net.node(2).clone(),
    );
    let bytes = payload(1, SIZE);
    let started = std::time::Instant::now();
    let file = post_file(&a, f, town_square(&f), "alice", bytes.clone()).await?;
    assert_eq!(
        bytes_on(&b, f, file, "bob").await?,
        bytes,
        "byte-identical on B"
    );
    assert_eq!(
        bytes_on(&c, f, file, "chloe").await?,
        bytes,
        "byte-identical on C"
    );
    let (sb, sc) = (b.file_stats().await?, c.file_stats().await?);
    println!(
        "5 MB to B and C in {:?}: B received {} B, C received {} B, A served {} chunks, B {} and C {}",
        started.elapsed(),
        sb.bytes_in,
        sc.bytes_in,
        a.file_stats().await?.chunks_out,
        sb.chunks_out,
        sc.chunks_out
    );
    let stored = SIZE as u64 + 20 * 16;
    assert_eq!(
        (sb.bytes_in, sc.bytes_in),
        (stored, stored),
        "each chunk once"
    );
    // the same file posted again: same id, nothing travels
    let again = post_file(&a, f, town_square(&f), "alice", bytes.clone()).await?;
    assert_eq!(again, file, "content-addressed");
    tokio::time::sleep(Duration::from_millis(500)).await; // let a second transfer show if any
    assert_eq!(
        b.file_stats().await?.bytes_in,
        stored,
        "posted twice, sent once"
    );
    let listed = b.file_list(f, "bob").await?;
    assert_eq!(listed.iter().filter(|i| i.id == file).count(), 1);
    // A leaves; D joins through B and gets the file from B and C
    net.stop(0).await?;
    let d = net.node(3).clone();
    d.add_user("dan").await?;
    d.join(&code, Some(net.addr(1))).await.ok(); // B admits (A is gone)
    net.connect(1, 3).await?;
    eventually(WAIT, "D admitted", || async {
        d.channels_for(f, "dan").await.is_ok()
    })
    .await?;
    assert_eq!(
        bytes_on(&d, f, file, "dan").await?,
        bytes,
        "late joiner, from B"
    );
    let info = d.file_info(f, file, "dan").await?;
    assert!(info.state.sources >= 2, "B and D hold it: {:?}", info.state);
    Ok(())
}

#[tokio::test]
async fn a_cut_transfer_resumes_after_a_restart_where_it_stopped() -> anyhow::Result<()> {
    let mut net = TestNet::spawn(2).await?;
    let f = flotilla_of(&mut net, 2).await?;
    net.partition(&[0], &[1]).await?;
    let a = net.node(0).clone();
    let bytes = payload(2, SIZE);
    let file = post_file(&a, f, town_square(&f), "alice", bytes.clone()).await?;
    let mut events = net.node(1).subscribe();
    net.heal().await?;
    // cut at the first chunk B reports
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let ev = tokio::time::timeout_at(deadline, events.recv()).await??;
        if matches!(ev, Event::FileChanged { file: id, .. } if id == file) {
            break;
        }
    }
    net.partition(&[0], &[1]).await?;
    // chunks received before the cut are checked and stored off the actor: wait until the
    // count stops moving (nothing new can arrive)
    let mut before = net.node(1).file_stats().await?;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = net.node(1).file_stats().await?;
        if now == before {
            break;
        }
        before = now;
    }
    let progress = net
        .node(1)
        .file_info(f, file, "bob")
        .await?
        .state
        .progress();
    println!(
        "cut after {} B ({:.0} %)",
        before.bytes_in,
        progress * 100.0
    );
    assert!(
        before.bytes_in > 0 && progress < 1.0,
        "cut in the middle: {progress}"
    );
    // the cut ends while B restarts: A lets B in again, the new B has no block list
    net.node(0).block(net.peer(1), false).await?;
    net.restart(1).await?;
    let b = net.node(1).clone();
    assert_eq!(bytes_on(&b, f, file, "bob").await?, bytes);
    let after = b.file_stats().await?.bytes_in;
    println!(
        "resumed after the restart: {after} B more, {} B in all",
        before.bytes_in + after
    );
    assert_eq!(
        before.bytes_in + after,
        SIZE as u64 + 20 * 16,
        "no chunk fetched twice"
    );
    Ok(())
}

#[tokio::test]
async fn a_boat_outside_a_private_channel_relays_its_file_without_reading_it() -> anyhow::Result<()>
{
    let mut net = TestNet::spawn(3).await?;
    let f = flotilla_of(&mut net, 3).await?;
    net.connect(1, 2).await?;
    let (a, b, c) = (
        net.node(0).clone(),
        net.node(1).clone(),
        net.node(2).clone(),
    );
    let crew = a
        .create_channel_full(
            f,
            "alice",
            NewChannel {
                name: "crew".into(),
                private: true,
                header: String::new(),
                purpose: String::new(),
            },
        )
        .await?;
    a.add_channel_member(f, crew.id, "alice", "bob").await?;
    eventually(WAIT, "bob in crew on B", || async {
        b.posts(f, crew.id, "bob", None, 1).await.is_ok()
    })
    .await?;
    net.partition(&[0], &[1]).await?; // A – C – B: C carries everything
    let secret = payload(3, 600_000);
    let file = post_file(&a, f, crew.id, "alice", secret.clone()).await?;
    assert_eq!(bytes_on(&b, f, file, "bob").await?, secret, "through C");
    let relayed = c.file_stats().await?;
    assert!(
        relayed.chunks_in >= 3 && relayed.chunks_out >= 3,
        "C relayed: {relayed:?}"
    );
    assert!(
        c.file_info(f, file, "chloe").await.is_err(),
        "C cannot see the file"
    );
    let files = net.data_dir(2).join(flotilla_node::files::FILES_DIR);
    assert!(
        !files.join(file.to_string()).exists(),
        "no plaintext file on C"
    );
    let needle = &secret[1000..1064];
    for entry in walk(&files) {
        let held = std::fs::read(&entry)?;
        assert!(
            !held.windows(64).any(|w| w == needle),
            "plaintext in {}",
            entry.display()
        );
    }
    Ok(())
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

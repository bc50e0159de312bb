//! Cold sync benchmark (`#[ignore]`; prints figures for docs/performance.md, asserts no
//! time): node 0 holds a big town-square history (written straight to its store with
//! [`flotilla_node::NodeHandle::bulk_post`], then restarted so every cache comes from the
//! store); node 1, empty, joins through node 0 and the test times until node 1 stores every
//! event. Real nodes in this process (`TestNet`: TCP + Noise + Yamux on 127.0.0.1).
//!
//! `cargo test --release -p flotilla-tests --test integration cold_sync -- --ignored --nocapture`
//!
//! `COLD_SYNC_POSTS` (default 100000) sets the history size, `COLD_SYNC_LIMIT_S` (default
//! 1200) how long to wait before reporting how far it got.

use std::time::{Duration, Instant};

use flotilla_node::test_utils::{TestNet, eventually};
use flotilla_protocol::id::ChannelId;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: prints figures (minutes in release)"]
async fn cold_sync_of_a_big_history() -> anyhow::Result<()> {
    let posts = env_or("COLD_SYNC_POSTS", 100_000) as usize;
    let limit = Duration::from_secs(env_or("COLD_SYNC_LIMIT_S", 1200));
    let mut net = TestNet::spawn(2).await?;
    let f = net.node(0).create_flotilla("Rallye", "alice").await?;
    let code = net.node(0).invite(f, None, None).await?;
    let c = ChannelId::derived(&f, "town-square");

    let t = Instant::now();
    let written = net.node(0).bulk_post(f, c, "alice", posts).await?;
    anyhow::ensure!(written == posts, "wrote {written} of {posts}");
    let write = t.elapsed();
    net.restart(0).await?;
    let store0 = net
        .store(0)
        .ok_or_else(|| anyhow::anyhow!("node 0 stopped"))?;
    let total = store0.event_count();
    // The peer with the smaller node key initiates reconciliation (protocol §3).
    let initiator = if net.node(0).id() < net.node(1).id() {
        "node 0 (full)"
    } else {
        "node 1 (empty)"
    };
    println!(
        "cold sync: node 0 holds {total} events ({posts} posts written in {:.1} s); initiator: {initiator}",
        write.as_secs_f64()
    );

    let store1 = net
        .store(1)
        .ok_or_else(|| anyhow::anyhow!("node 1 stopped"))?;
    net.node(1).add_user("bob").await?;
    let t0 = Instant::now();
    net.node(1).join(&code, Some(net.addr(0))).await?;
    let joined = t0.elapsed();
    println!("cold sync: joined in {:.2} s", joined.as_secs_f64());
    let mut last_print = Instant::now();
    let mut progress = Vec::new();
    let done = eventually(limit, "node 1 to store every event", || {
        let n = store1.event_count();
        progress.push((t0.elapsed(), n));
        if last_print.elapsed() >= Duration::from_secs(5) {
            last_print = Instant::now();
            println!(
                "cold sync: {:>6.1} s  node 1 has {n} / {total}",
                t0.elapsed().as_secs_f64()
            );
        }
        async move { n >= total }
    })
    .await;
    let elapsed = t0.elapsed();
    let have = store1.event_count();
    match done {
        Ok(()) => println!(
            "cold sync: node 1 has all {total} events after {:.1} s ({:.0} events/s)",
            elapsed.as_secs_f64(),
            total as f64 / elapsed.as_secs_f64()
        ),
        Err(_) => println!(
            "cold sync: NOT complete after {:.0} s: node 1 has {have} / {total}",
            elapsed.as_secs_f64()
        ),
    }
    // Where the time went: the first time each quarter was reached.
    for q in 1..=4 {
        let target = total * q / 4;
        if let Some((at, _)) = progress.iter().find(|(_, n)| *n >= target) {
            println!(
                "cold sync: {q}/4 ({target} events) at {:.1} s",
                at.as_secs_f64()
            );
        }
    }
    Ok(())
}

//! Propagation latency of live posts (gossip), in-process on loopback: from the start of
//! `post()` on node 0 to the `Event::Post` on the far node. Ignored by default (it prints
//! figures for docs/performance.md):
//!
//! `cargo test -p flotilla-tests --release --test integration latency -- --ignored --nocapture`

use std::collections::HashMap;
use std::time::{Duration, Instant};

use flotilla_node::handle::Event;
use flotilla_node::test_utils::TestNet;
use flotilla_protocol::id::ChannelId;

const POSTS: usize = 50;
/// Between posts: a chat pace, not a flood (gossip queues are not what is measured).
const PACE: Duration = Duration::from_millis(20);

async fn measure(n: usize) -> anyhow::Result<Vec<Duration>> {
    let mut net = TestNet::spawn(n).await?;
    let f = net.node(0).create_flotilla("Rallye", "alice").await?;
    let code = net.node(0).invite(f, None, None).await?;
    for i in 1..n {
        net.node(i).join(&code, Some(net.addr(i - 1))).await?;
        net.connect(i - 1, i).await?;
    }
    let c = ChannelId::derived(&f, "town-square");
    let far = net.node(n - 1).clone();
    let mut rx = far.subscribe();
    let collector = tokio::spawn(async move {
        let mut seen = HashMap::new();
        while seen.len() < POSTS {
            match rx.recv().await {
                Ok(Event::Post { message, .. }) if message.text.starts_with("lat ") => {
                    seen.insert(message.id, Instant::now());
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => break,
            }
        }
        seen
    });
    let mut sent = HashMap::new();
    for k in 0..POSTS {
        let start = Instant::now();
        let id = net
            .node(0)
            .post(f, c, "alice", &format!("lat {k}"), None)
            .await?;
        sent.insert(id, start);
        tokio::time::sleep(PACE).await;
    }
    let seen = tokio::time::timeout(Duration::from_secs(30), collector).await??;
    let mut lat: Vec<Duration> = sent
        .iter()
        .filter_map(|(id, t0)| seen.get(id).map(|t1| t1.duration_since(*t0)))
        .collect();
    anyhow::ensure!(
        lat.len() == POSTS,
        "only {} of {POSTS} posts arrived",
        lat.len()
    );
    lat.sort();
    Ok(lat)
}

fn pct(lat: &[Duration], p: usize) -> Duration {
    lat[(lat.len() * p / 100).min(lat.len() - 1)]
}

#[tokio::test]
#[ignore = "prints latency figures; run with --ignored --nocapture"]
async fn propagation_latency() -> anyhow::Result<()> {
    for (n, what) in [(2, "2 nodes"), (5, "5-node line (4 hops)")] {
        let lat = measure(n).await?;
        println!(
            "latency {what}: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms over {POSTS} posts",
            pct(&lat, 50).as_secs_f64() * 1e3,
            pct(&lat, 99).as_secs_f64() * 1e3,
            lat[lat.len() - 1].as_secs_f64() * 1e3,
        );
    }
    Ok(())
}

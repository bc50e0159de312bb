//! A bounded load on loopback (issue 9): two `flotilla serve` processes that sync (B joined
//! A's flotilla, `--peer A`), W WebSocket clients on B and P clients posting through A's
//! HTTP API as fast as A acknowledges, for a set time. Checked: no request fails, every
//! acknowledged post reaches every WebSocket on B exactly once, no WebSocket is told to
//! `resync` (that would mean the node's event queue, bounded by `EVENT_CAP`, overflowed), and
//! both processes' peak RSS stays under [`RSS_LIMIT_KIB`]. Printed: posts/s, the p50/p99/max
//! of post (start of A's HTTP request) → B's WebSocket, peak RSS of each node.
//!
//! The full run (figures in docs/performance.md) is `#[ignore]`:
//!
//! `cargo build --release -p flotilla-node --bin flotilla` then
//! `FLOTILLA_BIN=target/release/flotilla cargo test -p flotilla-tests --all-features --test integration load::full -- --ignored --nocapture`
//! (without `FLOTILLA_BIN` the nodes are the debug build).
//!
//! `load::smoke` runs a few seconds of it with 5 + 2 clients in the test command.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::StreamExt;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::faults::{Client, Node, PASSWORD};

/// Either node's resident memory must stay under this (KiB): 512 MiB.
const RSS_LIMIT_KIB: u64 = 512 * 1024;
/// After the posters stop, how long the last posts get to reach every WebSocket.
const DRAIN: Duration = Duration::from_secs(60);

/// Sent at (A's request start), per post text.
type Sent = Arc<Mutex<HashMap<String, Instant>>>;

/// What one WebSocket client on B saw: arrival time per post text, duplicates, resyncs.
#[derive(Debug, Default)]
struct Seen {
    arrived: HashMap<String, Instant>,
    duplicates: usize,
    resyncs: usize,
    hello: bool,
}

fn rss_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn websocket(
    addr: String,
    token: String,
    done: Arc<AtomicBool>,
    seen: Arc<Mutex<Seen>>,
) -> anyhow::Result<()> {
    let mut request = format!("ws://{addr}/api/v1/ws").into_client_request()?;
    request
        .headers_mut()
        .insert("Authorization", format!("Bearer {token}").parse()?);
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
    loop {
        let next = tokio::time::timeout(Duration::from_millis(500), socket.next()).await;
        let msg = match next {
            Err(_) if done.load(Ordering::Relaxed) => break,
            Err(_) => continue,
            Ok(None) => anyhow::bail!("B closed a WebSocket"),
            Ok(Some(msg)) => msg?,
        };
        let Message::Text(text) = msg else { continue };
        let v: serde_json::Value = serde_json::from_str(&text)?;
        let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
        match v["type"].as_str() {
            Some("post") => {
                if let Some(t) = v["post"]["text"]
                    .as_str()
                    .filter(|t| t.starts_with("load "))
                    && seen.arrived.insert(t.to_string(), Instant::now()).is_some()
                {
                    seen.duplicates += 1;
                }
            }
            Some("resync") => seen.resyncs += 1,
            Some("hello") => seen.hello = true,
            _ => {}
        }
    }
    Ok(())
}

fn poster(
    node_addr: String,
    client: Client,
    k: usize,
    until: Instant,
    sent: Sent,
) -> anyhow::Result<usize> {
    let mut n = 0;
    while Instant::now() < until {
        let text = format!("load {k}-{n}");
        let t0 = Instant::now();
        let a = client.post(&node_addr, &text)?;
        anyhow::ensure!(a.status == 201, "post on A: {a:?}");
        sent.lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(text, t0);
        n += 1;
    }
    Ok(n)
}

fn pct(sorted: &[Duration], p: usize) -> f64 {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)].as_secs_f64() * 1e3
}

fn run(websockets: usize, posters: usize, secs: u64) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let a = Node::start_with(&tmp.path().join("a"), &["--name", "Ondine"], &[])?;
    let b = Node::start_with(
        &tmp.path().join("b"),
        &["--name", "Pourquoi-Pas", "--peer", &a.mesh],
        &[],
    )?;
    let client_a = Client::setup(&a)?;
    b.cli_ok(&[
        "user",
        "create",
        "--username",
        "bosun",
        "--password",
        PASSWORD,
        "--admin",
    ])?;
    let invite = a.cli_ok(&["invite", "create", "--uses", "1", "--expires", "1h"])?;
    let code = invite.lines().last().context("no invite code")?;
    let joined = b.cli_ok(&["flotilla", "join", code])?;
    anyhow::ensure!(joined.trim() == client_a.flotilla, "B joined {joined}");
    let client_b = Client::login(&b, "bosun", &client_a.flotilla)?;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let done = Arc::new(AtomicBool::new(false));
    let seens: Vec<Arc<Mutex<Seen>>> = (0..websockets).map(|_| Arc::default()).collect();
    let sockets: Vec<_> = seens
        .iter()
        .map(|seen| {
            let (addr, token) = (b.addr.clone(), client_b.token.clone());
            rt.spawn(websocket(addr, token, Arc::clone(&done), Arc::clone(seen)))
        })
        .collect();
    // Every socket open before the first post.
    let open_by = Instant::now() + Duration::from_secs(30);
    while !sockets.iter().any(|s| s.is_finished()) && b_sockets_open(&seens) < websockets {
        anyhow::ensure!(
            Instant::now() < open_by,
            "WebSockets on B not open after 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let sent: Sent = Arc::default();
    let start = Instant::now();
    let until = start + Duration::from_secs(secs);
    let threads: Vec<_> = (0..posters)
        .map(|k| {
            let (addr, client, sent) = (a.addr.clone(), client_a.clone(), Arc::clone(&sent));
            std::thread::spawn(move || poster(addr, client, k, until, sent))
        })
        .collect();
    let (mut peak_a, mut peak_b) = (0, 0);
    while Instant::now() < until {
        peak_a = peak_a.max(rss_kib(a.child.id()).0);
        peak_b = peak_b.max(rss_kib(b.child.id()).0);
        std::thread::sleep(Duration::from_millis(250));
    }
    let mut posted = 0;
    for t in threads {
        posted += t
            .join()
            .map_err(|_| anyhow::anyhow!("a poster panicked"))??;
    }
    let post_rate = posted as f64 / start.elapsed().as_secs_f64();
    // The last posts get DRAIN to reach every WebSocket on B.
    let drain_end = Instant::now() + DRAIN;
    while Instant::now() < drain_end && !sockets.iter().any(|s| s.is_finished()) {
        peak_a = peak_a.max(rss_kib(a.child.id()).0);
        peak_b = peak_b.max(rss_kib(b.child.id()).0);
        let all = seens
            .iter()
            .all(|s| s.lock().unwrap_or_else(|e| e.into_inner()).arrived.len() >= posted);
        if all {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    done.store(true, Ordering::Relaxed);
    for s in sockets {
        rt.block_on(s)??;
    }
    let sent = sent.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut lat = Vec::new();
    let (mut missing, mut duplicates, mut resyncs) = (0, 0, 0);
    for seen in &seens {
        let seen = seen.lock().unwrap_or_else(|e| e.into_inner());
        duplicates += seen.duplicates;
        resyncs += seen.resyncs;
        for (text, t0) in &sent {
            match seen.arrived.get(text) {
                Some(t1) => lat.push(t1.saturating_duration_since(*t0)),
                None => missing += 1,
            }
        }
    }
    let (_, hwm_a) = rss_kib(a.child.id());
    let (_, hwm_b) = rss_kib(b.child.id());
    lat.sort();
    println!(
        "load: {websockets} WebSockets on B, {posters} posters on A, {secs} s: {posted} posts \
         ({post_rate:.0}/s acknowledged); post → B's WebSocket over {} deliveries: p50 {:.0} ms, \
         p99 {:.0} ms, max {:.0} ms; missing {missing}, duplicates {duplicates}, resyncs \
         {resyncs}; RSS A {} MiB (peak {} MiB), B {} MiB (peak {} MiB)",
        lat.len(),
        if lat.is_empty() { 0.0 } else { pct(&lat, 50) },
        if lat.is_empty() { 0.0 } else { pct(&lat, 99) },
        lat.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
        peak_a / 1024,
        hwm_a / 1024,
        peak_b / 1024,
        hwm_b / 1024,
    );
    anyhow::ensure!(posted > 0, "nothing was posted");
    anyhow::ensure!(
        missing == 0,
        "{missing} post deliveries never reached B's WebSockets"
    );
    anyhow::ensure!(
        duplicates == 0,
        "{duplicates} posts delivered twice on a WebSocket"
    );
    anyhow::ensure!(
        resyncs == 0,
        "{resyncs} WebSockets fell behind the event queue"
    );
    anyhow::ensure!(
        hwm_a.max(hwm_b) < RSS_LIMIT_KIB,
        "peak RSS A {hwm_a} KiB, B {hwm_b} KiB over {RSS_LIMIT_KIB} KiB"
    );
    Ok(())
}

/// How many WebSockets have had their `hello` (open, subscribed).
fn b_sockets_open(seens: &[Arc<Mutex<Seen>>]) -> usize {
    seens
        .iter()
        .filter(|s| s.lock().unwrap_or_else(|e| e.into_inner()).hello)
        .count()
}

#[test]
fn smoke() -> anyhow::Result<()> {
    run(5, 2, 3)
}

#[test]
#[ignore = "too long for CI (release node binary, ~1 min); figures in docs/performance.md"]
fn full() -> anyhow::Result<()> {
    run(50, 20, 20)
}

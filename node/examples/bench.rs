//! Ingest and start-up benchmarks (issue 10). Prints figures; asserts no time. Run with a
//! release build of our crates:
//!
//! ```text
//! cargo run --release -p flotilla-node --features test-utils --example bench -- ingest --events 100000
//! cargo run --release -p flotilla-node --features test-utils --example bench -- post --stored 100000 --clients 8
//! cargo run --release -p flotilla-node --features test-utils --example bench -- cold-sync --posts 100000
//! cargo run --release -p flotilla-node --features test-utils --example bench -- startup --posts 100000
//! cargo run --release -p flotilla-node --features test-utils --example bench -- first-page --posts 10000
//! ```
//!
//! - `ingest`: two nodes in this process; node 1 joins node 0, the link is cut, node 0 writes
//!   N posts, and node 1 is fed them in `Events` frames of 256 through its actor (decode,
//!   verify, judge, store, decrypt, fold), no network. Also prints the machine's raw strict
//!   ed25519 verify rate and raw sled batch-write rate, for the ratio.
//! - `post`: one node with N posts stored; posts acknowledged (flushed) per second from 1
//!   client, then from C concurrent clients.
//! - `cold-sync`: two node **processes** (this binary in `node` mode) on 127.0.0.1; one holds
//!   N posts, the other joins and the time until it stores every event is printed.
//! - `startup`: a node process on a store of N posts: from spawn until its HTTP answers; then
//!   its RSS idle, the first page of the big channel, and its RSS after it.
//! - `first-page`: a node on a store of N posts in one channel: the newest page of 50 root
//!   posts, first request after start (cold) and again (warm).
//!
//! `node` is the child mode used by `cold-sync` and `startup` (commands on stdin).

use std::io::{BufRead, BufReader, Read, Write};

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::AsyncBufReadExt;

use anyhow::{Context, anyhow, bail};
use clap::{Parser, Subcommand};
use flotilla_node::Node;
use flotilla_node::config::RawConfig;
use flotilla_node::test_utils::TestNet;
use flotilla_protocol::author::InviteCode;
use flotilla_protocol::id::{ChannelId, FlotillaId};
use flotilla_protocol::store::Store;

/// A profile of nothing yet (a process's stage times start at zero).
const ZERO_PROFILE: [(flotilla_node::profile::Stage, u64); 7] = {
    use flotilla_node::profile::Stage::*;
    [
        (Verify, 0),
        (Core, 0),
        (Read, 0),
        (Open, 0),
        (Fold, 0),
        (Index, 0),
        (Announce, 0),
    ]
};

/// Events per `Events` frame fed to the ingest benchmark (the size sync batches reach).
const FRAME_EVENTS: usize = 256;
/// Events handed to the ingesting node and not yet stored, at most (sync's pull window).
const WINDOW: usize = 1024;

#[derive(Debug, Parser)]
struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Ingest fed without network.
    Ingest {
        #[arg(long, default_value_t = 100_000)]
        events: usize,
    },
    /// Local posts acknowledged per second.
    Post {
        #[arg(long, default_value_t = 100_000)]
        stored: usize,
        #[arg(long, default_value_t = 8)]
        clients: usize,
        #[arg(long, default_value_t = 4000)]
        posts: usize,
    },
    /// Cold sync between two node processes.
    ColdSync {
        #[arg(long, default_value_t = 100_000)]
        posts: usize,
        #[arg(long, default_value_t = 600)]
        limit_s: u64,
    },
    /// Start-up until HTTP answers.
    Startup {
        #[arg(long, default_value_t = 100_000)]
        posts: usize,
    },
    /// First page of a big channel after a start.
    FirstPage {
        #[arg(long, default_value_t = 10_000)]
        posts: usize,
    },
    /// Child mode: a node on `data_dir`, driven by stdin lines.
    Node {
        #[arg(long)]
        data_dir: PathBuf,
        #[arg(long, default_value = "sailor")]
        user: String,
    },
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if std::env::var_os("RUST_LOG").is_some() {
        // Timings the node logs (e.g. `RUST_LOG=flotilla_node::actor=debug`), on stderr.
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match args.cmd {
            Cmd::Ingest { events } => ingest(events).await,
            Cmd::Post {
                stored,
                clients,
                posts,
            } => post(stored, clients, posts).await,
            Cmd::ColdSync { posts, limit_s } => cold_sync(posts, limit_s).await,
            Cmd::Startup { posts } => startup(posts).await,
            Cmd::FirstPage { posts } => first_page(posts).await,
            Cmd::Node { data_dir, user } => child(&data_dir, &user).await,
        }
    })
}

fn config(dir: &Path, user: &str) -> anyhow::Result<flotilla_node::config::Config> {
    let raw = RawConfig {
        data_dir: Some(dir.to_path_buf()),
        name: Some(user.to_owned()),
        http: Some("127.0.0.1:0".into()),
        listen: Some(vec!["/ip4/127.0.0.1/tcp/0".into()]),
        mdns: Some(false),
        ..RawConfig::default()
    };
    Ok(raw.validate()?)
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

/// Time per event in each stage of the event path since `before` (summed over threads:
/// verification runs beside the actor).
fn profile_line(events: usize, before: &[(flotilla_node::profile::Stage, u64); 7]) -> String {
    let now = flotilla_node::profile::snapshot();
    let per = |ns: u64| ns as f64 / 1000.0 / events.max(1) as f64;
    let parts: Vec<String> = now
        .iter()
        .zip(before)
        .map(|((stage, ns), (_, was))| format!("{stage:?} {:.1}", per(ns - was)))
        .collect();
    format!("µs per event by stage: {}", parts.join(", "))
}

/// Raw strict verifies per second on one core.
fn raw_verify_rate() -> f64 {
    let key = flotilla_protocol::SecretKey::from_bytes(&[7; 32]);
    let public = key.public();
    let msg = b"flotilla bench message of a typical id length.....";
    let sig = key.sign(msg);
    let n = 20_000;
    let t = Instant::now();
    for _ in 0..n {
        let _ = std::hint::black_box(public.verify(msg, &sig));
    }
    rate(n, t.elapsed())
}

/// Raw sled batch writes per second: 100k values of 300 bytes, batches of 256, one flush
/// each.
fn raw_sled_rate() -> anyhow::Result<f64> {
    let dir = tempfile::tempdir()?;
    let db = sled::open(dir.path())?;
    let tree = db.open_tree("t")?;
    let n = 100_000u32;
    let value = vec![0x5a; 300];
    let t = Instant::now();
    let mut batch = sled::Batch::default();
    for i in 0..n {
        let key = blake3::hash(&i.to_be_bytes());
        batch.insert(key.as_bytes(), value.as_slice());
        if (i + 1) % FRAME_EVENTS as u32 == 0 || i + 1 == n {
            tree.apply_batch(std::mem::take(&mut batch))?;
            db.flush()?;
        }
    }
    Ok(rate(n as usize, t.elapsed()))
}

async fn ingest(events: usize) -> anyhow::Result<()> {
    let verify = raw_verify_rate();
    let sled_rate = raw_sled_rate()?;
    println!(
        "raw: strict ed25519 verify {verify:.0}/s per core; sled batch writes {sled_rate:.0} values/s"
    );
    let mut net = TestNet::spawn(2).await?;
    let f = net.node(0).create_flotilla("Rallye", "alice").await?;
    let code = net.node(0).invite(f, None, None).await?;
    net.node(1).add_user("bob").await?;
    net.connect(0, 1).await?;
    net.node(1).join(&code, Some(net.addr(0))).await?;
    net.partition(&[0], &[1]).await?;
    let c = ChannelId::derived(&f, "town-square");
    net.node(0).bulk_post(f, c, "alice", events).await?;
    let store0 = net.store(0).ok_or_else(|| anyhow!("node 0 stopped"))?;
    let store1 = net.store(1).ok_or_else(|| anyhow!("node 1 stopped"))?;
    let mut frames = Vec::with_capacity(events);
    for (_, id) in store0.channel_items(&f, &c)? {
        if let Some(e) = store0.get(&id)?
            && !store1.contains(&id)?
        {
            frames.push(e.bytes().to_vec());
        }
    }
    let before = store1.event_count();
    let profile_before = flotilla_node::profile::snapshot();
    let from = net.node(0).id();
    let t = Instant::now();
    let mut connect = true;
    for (i, chunk) in frames.chunks(FRAME_EVENTS).enumerate() {
        // A pull window like sync's: at most WINDOW events handed over and not stored.
        while (i * FRAME_EVENTS).saturating_sub(store1.event_count() - before) > WINDOW {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        net.node(1)
            .ingest_raw(from, connect, f, chunk.to_vec())
            .await?;
        connect = false;
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while store1.event_count() - before < frames.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let took = t.elapsed();
    let stored = store1.event_count() - before;
    let r = rate(stored, took);
    println!(
        "ingest: {stored} of {} events in {:.2} s: {r:.0} events/s ({:.2}× the raw verify rate of one core)",
        frames.len(),
        took.as_secs_f64(),
        r / verify
    );
    println!("ingest: {}", profile_line(stored, &profile_before));
    Ok(())
}

async fn post(stored: usize, clients: usize, posts: usize) -> anyhow::Result<()> {
    let net = TestNet::spawn(1).await?;
    let node = net.node(0).clone();
    let f = node.create_flotilla("Rallye", "alice").await?;
    let c = ChannelId::derived(&f, "town-square");
    if stored > 0 {
        node.bulk_post(f, c, "alice", stored).await?;
    }
    node.post(f, c, "alice", "warm up", None).await?;
    let single = posts / 4;
    let t = Instant::now();
    for i in 0..single {
        node.post(f, c, "alice", &format!("one client {i}"), None)
            .await?;
    }
    let one = rate(single, t.elapsed());
    println!(
        "post: {stored} stored, 1 client: {single} posts in {:.2} s: {one:.0} posts/s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let mut tasks = Vec::new();
    for k in 0..clients {
        let node = node.clone();
        let n = posts / clients;
        tasks.push(tokio::spawn(async move {
            for i in 0..n {
                node.post(f, c, "alice", &format!("client {k} post {i}"), None)
                    .await?;
            }
            anyhow::Ok(n)
        }));
    }
    let mut done = 0;
    for task in tasks {
        done += task.await??;
    }
    let many = rate(done, t.elapsed());
    println!(
        "post: {stored} stored, {clients} clients: {done} posts in {:.2} s: {many:.0} posts/s",
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A store with `posts` posts in town-square, founded by `alice`; returns the flotilla.
async fn prepare(dir: &Path, posts: usize) -> anyhow::Result<FlotillaId> {
    let node = Node::start(config(dir, "alice")?).await?;
    let h = node.handle().clone();
    h.add_user("alice").await?;
    let f = h.create_flotilla("Rallye", "alice").await?;
    let c = ChannelId::derived(&f, "town-square");
    let t = Instant::now();
    h.bulk_post(f, c, "alice", posts).await?;
    println!(
        "prepared {posts} posts in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    node.shutdown().await?;
    Ok(f)
}

/// A node process in `node` mode.
struct Proc {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Proc {
    fn spawn(dir: &Path, user: &str) -> anyhow::Result<Proc> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(["node", "--data-dir"])
            .arg(dir)
            .args(["--user", user])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let input = child.stdin.take().context("stdin")?;
        let output = BufReader::new(child.stdout.take().context("stdout")?);
        Ok(Proc {
            child,
            input,
            output,
        })
    }

    /// The next line starting with `word`, without it.
    fn expect(&mut self, word: &str) -> anyhow::Result<String> {
        loop {
            let mut line = String::new();
            if self.output.read_line(&mut line)? == 0 {
                bail!("the node process ended while waiting for `{word}`");
            }
            if let Some(rest) = line.trim_end().strip_prefix(word) {
                return Ok(rest.trim().to_owned());
            }
            if line.starts_with("error") {
                bail!("node: {line}");
            }
        }
    }

    fn ask(&mut self, cmd: &str, word: &str) -> anyhow::Result<String> {
        writeln!(self.input, "{cmd}")?;
        self.input.flush()?;
        self.expect(word)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = writeln!(self.input, "quit");
        let _ = self.input.flush();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
    }
}

async fn cold_sync(posts: usize, limit_s: u64) -> anyhow::Result<()> {
    let dir0 = tempfile::tempdir()?;
    let dir1 = tempfile::tempdir()?;
    prepare(dir0.path(), posts).await?;
    let mut p0 = Proc::spawn(dir0.path(), "alice")?;
    let addr0 = p0.expect("ready")?;
    let code = p0.ask("invite", "invite")?;
    let total: usize = p0.ask("count", "count")?.parse()?;
    let mut p1 = Proc::spawn(dir1.path(), "bob")?;
    p1.expect("ready")?;
    let t0 = Instant::now();
    p1.ask(&format!("join {code} {addr0}"), "joined")?;
    println!("cold-sync: joined in {:.2} s", t0.elapsed().as_secs_f64());
    let limit = Duration::from_secs(limit_s);
    loop {
        let n: usize = p1.ask("count", "count")?.parse()?;
        if n >= total {
            let took = t0.elapsed();
            println!(
                "cold-sync: {total} events in {:.2} s from the join request ({:.0} events/s)",
                took.as_secs_f64(),
                rate(total, took)
            );
            println!("cold-sync: joiner {}", p1.ask("profile", "profile")?);
            println!("cold-sync: joiner RSS/peak {} KiB", p1.ask("rss", "rss")?);
            return Ok(());
        }
        if t0.elapsed() > limit {
            println!("cold-sync: NOT complete after {limit_s} s: {n} / {total}");
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// This process's resident set and its peak, from /proc/self/status (Linux), in KiB:
/// `VmRSS/VmHWM`, or `?` where unreadable.
fn rss_kib() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map_or("?".to_owned(), |v| {
                v.trim().trim_end_matches(" kB").to_owned()
            })
    };
    format!("{}/{}", field("VmRSS:"), field("VmHWM:"))
}

/// One HTTP GET of `/`; `true` once a status line came back.
fn http_answers(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).is_ok() && buf.starts_with(b"HTTP/1.")
}

async fn startup(posts: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    prepare(dir.path(), posts).await?;
    for run in 1..=3 {
        let t = Instant::now();
        let mut p = Proc::spawn(dir.path(), "alice")?;
        let http: SocketAddr = p.expect("http")?.parse()?;
        while !http_answers(http) {
            std::thread::sleep(Duration::from_millis(1));
        }
        println!(
            "startup: {posts} posts stored, run {run}: HTTP answers after {:.0} ms",
            t.elapsed().as_secs_f64() * 1000.0
        );
        let idle = p.ask("rss", "rss")?;
        let page = p.ask("page", "page")?;
        let viewed = p.ask("rss", "rss")?;
        println!(
            "startup: run {run}: RSS/peak idle {idle} KiB; first page ({page}); then RSS/peak {viewed} KiB"
        );
        drop(p);
    }
    Ok(())
}

async fn first_page(posts: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let f = prepare(dir.path(), posts).await?;
    let c = ChannelId::derived(&f, "town-square");
    let node = Node::start(config(dir.path(), "alice")?).await?;
    let h = node.handle().clone();
    for what in ["cold", "warm"] {
        let t = Instant::now();
        let page = h.posts(f, c, "alice", None, 50).await?;
        println!(
            "first-page: {posts} posts, {what}: {} posts in {:.1} ms",
            page.posts.len(),
            t.elapsed().as_secs_f64() * 1000.0
        );
    }
    node.shutdown().await?;
    Ok(())
}

/// Child mode: `ready <addr>`, `http <addr>`, then one answer per command:
/// `invite` → `invite <code>`, `join <code> <addr>` → `joined`, `count` → `count <n>`,
/// `rss` → `rss <VmRSS>/<VmHWM>` (KiB), `page` → the newest page of town-square, timed,
/// `quit`.
async fn child(dir: &Path, user: &str) -> anyhow::Result<()> {
    let node = Node::start(config(dir, user)?).await?;
    let h = node.handle().clone();
    println!("http {}", node.http_addr());
    h.add_user(user).await?;
    let addr = loop {
        if let Some(a) = h.listeners().await?.into_iter().next() {
            break a;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    println!("ready {addr}");
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        let words: Vec<&str> = line.split_whitespace().collect();
        let res: anyhow::Result<()> = async {
            match words.as_slice() {
                ["invite"] => {
                    let f = h
                        .flotillas()
                        .await?
                        .first()
                        .map(|f| f.id)
                        .context("no flotilla")?;
                    println!("invite {}", h.invite(f, None, None).await?);
                }
                ["join", code, addr] => {
                    let code: InviteCode = code.parse()?;
                    h.join(&code, Some(addr.parse()?)).await?;
                    println!("joined");
                }
                ["count"] => println!("count {}", node.store().event_count()),
                ["rss"] => println!("rss {}", rss_kib()),
                ["profile"] => {
                    let n = node.store().event_count();
                    println!("profile {}", profile_line(n, &ZERO_PROFILE));
                }
                ["page"] => {
                    let f = h
                        .flotillas()
                        .await?
                        .first()
                        .map(|f| f.id)
                        .context("no flotilla")?;
                    let c = ChannelId::derived(&f, "town-square");
                    let t = Instant::now();
                    let page = h.posts(f, c, user, None, 50).await?;
                    println!(
                        "page {} posts in {:.1} ms",
                        page.posts.len(),
                        t.elapsed().as_secs_f64() * 1000.0
                    );
                }
                ["quit"] => return Err(anyhow!("quit")),
                _ => println!("error unknown command {line}"),
            }
            Ok(())
        }
        .await;
        if let Err(e) = res {
            if e.to_string() == "quit" {
                break;
            }
            println!("error {line}: {e}");
        }
        std::io::stdout().flush()?;
    }
    node.shutdown().await?;
    Ok(())
}

//! A full flotilla node ([`flotilla_node::Node`], mDNS on) driven by a line protocol on
//! stdin/stdout, for the network-namespace tests (tests/integration/netns.rs), one process
//! per namespace. Commands, one per line:
//!
//! ```text
//! found NAME   → invite <code>            found a flotilla (admin: --user) and make an invite
//! join CODE    → joined <flotilla>        join through whichever peers mDNS connected
//! post TEXT    → posted <text>            post in town-square
//! count        → count <n>                posts in town-square
//! peers        → peers <n>                connected peers
//! putfile SIZE → file <id>                post a SIZE-byte weather file (`.grb2`) in town-square
//! stats        → stats <in> <chunks> <out> bytes received, chunks received, chunks served
//! quit                                    stop cleanly (also on end of input)
//! ```
//! It also prints, unprompted: `ready <peer id>` once listening, `got <text>` for every post
//! it accepts (local or remote), `up <peer>` / `down <peer>` for connections,
//! `available <file id>` when a file's bytes are complete on this boat, and
//! `error <command>: <why>` when a command fails.
//!
//! ```text
//! cargo run -p flotilla-node --example netns_node -- --data-dir /tmp/boat-a --user alice
//! ```
//! It exits after `--exit-after` seconds (default 300) so a crashed test leaves nothing behind.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use flotilla_node::config::{LinkProfile, RawConfig};
use flotilla_node::handle::Event;
use flotilla_node::{Node, NodeHandle};
use flotilla_protocol::author::InviteCode;
use flotilla_protocol::id::{ChannelId, FlotillaId};
use tokio::io::{AsyncBufReadExt, BufReader};

/// Run a node with mDNS on and take commands on stdin.
#[derive(Debug, Parser)]
struct Args {
    /// The data directory.
    #[arg(long)]
    data_dir: PathBuf,
    /// The local user that founds, joins and posts.
    #[arg(long, default_value = "sailor")]
    user: String,
    /// The libp2p listen address.
    #[arg(long, default_value = "/ip4/0.0.0.0/tcp/7171")]
    listen: String,
    /// The link profile.
    #[arg(long, value_enum, default_value_t = LinkProfile::Lan)]
    link_profile: LinkProfile,
    /// How long `join` waits for a peer and an admission.
    #[arg(long, default_value_t = 60)]
    join_timeout: u64,
    /// Stop after this many seconds.
    #[arg(long, default_value_t = 300)]
    exit_after: u64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let raw = RawConfig {
        data_dir: Some(args.data_dir.clone()),
        name: Some(args.user.clone()),
        http: Some("127.0.0.1:0".into()),
        listen: Some(vec![args.listen.clone()]),
        mdns: Some(true),
        link_profile: args.link_profile,
        ..RawConfig::default()
    };
    let node = Node::start(raw.validate()?).await?;
    let handle = node.handle().clone();
    handle.add_user(&args.user).await?;
    wait_listening(&handle).await?;
    say(&format!("ready {}", handle.peer_id()));
    tokio::spawn(print_events(handle.clone(), args.user.clone()));

    let mut boat = Boat {
        handle,
        user: args.user.clone(),
        flotilla: None,
        join_timeout: Duration::from_secs(args.join_timeout),
    };
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let deadline = tokio::time::sleep(Duration::from_secs(args.exit_after));
    tokio::pin!(deadline);
    loop {
        let line = tokio::select! {
            line = lines.next_line() => line,
            () = &mut deadline => break,
        };
        let Ok(Some(line)) = line else { break };
        let (cmd, arg) = line.trim().split_once(' ').unwrap_or((line.trim(), ""));
        if cmd == "quit" {
            break;
        }
        if let Err(e) = boat.run(cmd, arg.trim()).await {
            say(&format!("error {cmd}: {e}"));
        }
    }
    node.shutdown().await?;
    Ok(())
}

struct Boat {
    handle: NodeHandle,
    user: String,
    flotilla: Option<FlotillaId>,
    join_timeout: Duration,
}

type Res<T> = Result<T, Box<dyn std::error::Error>>;

impl Boat {
    async fn run(&mut self, cmd: &str, arg: &str) -> Res<()> {
        match cmd {
            "found" => {
                let f = self.handle.create_flotilla(arg, &self.user).await?;
                self.flotilla = Some(f);
                let code = self.handle.invite(f, None, None).await?;
                say(&format!("invite {code}"));
            }
            "join" => {
                let code: InviteCode = arg.parse()?;
                let f = self.join(&code).await?;
                self.flotilla = Some(f);
                say(&format!("joined {}", f.fmt_short()));
            }
            "post" => {
                let f = self.flotilla.ok_or("no flotilla yet")?;
                let ts = ChannelId::derived(&f, "town-square");
                self.handle.post(f, ts, &self.user, arg, None).await?;
                say(&format!("posted {arg}"));
            }
            "count" => {
                let f = self.flotilla.ok_or("no flotilla yet")?;
                let ts = ChannelId::derived(&f, "town-square");
                let n = self.handle.messages(f, ts, usize::MAX).await?.len();
                say(&format!("count {n}"));
            }
            "peers" => say(&format!("peers {}", self.handle.connected_peers())),
            "putfile" => {
                let f = self.flotilla.ok_or("no flotilla yet")?;
                let ts = ChannelId::derived(&f, "town-square");
                let size: usize = arg.parse()?;
                let mut bytes = Vec::with_capacity(size + 32);
                let mut block = [7u8; 32];
                while bytes.len() < size {
                    block = *blake3::hash(&block).as_bytes();
                    bytes.extend_from_slice(&block);
                }
                bytes.truncate(size);
                let name = "forecast.grb2";
                let info = self
                    .handle
                    .put_file(f, ts, &self.user, name, "application/octet-stream", bytes)
                    .await?;
                self.handle
                    .create_post(f, ts, &self.user, "GRIB", None, vec![info.id])
                    .await?;
                say(&format!("file {}", info.id));
            }
            "stats" => {
                let s = self.handle.file_stats().await?;
                say(&format!(
                    "stats {} {} {}",
                    s.bytes_in, s.chunks_in, s.chunks_out
                ));
            }
            other => return Err(format!("unknown command `{other}`").into()),
        }
        Ok(())
    }

    /// Joins through the peers connected now, retrying until one of them is a member that
    /// admits us (mDNS connects members and non-members alike, in any order).
    async fn join(&self, code: &InviteCode) -> Res<FlotillaId> {
        let deadline = tokio::time::Instant::now() + self.join_timeout;
        let mut last = String::from("no peer connected");
        while tokio::time::Instant::now() < deadline {
            if self.handle.connected_peers() > 0 {
                match self.handle.join(code, None).await {
                    Ok(f) => return Ok(f),
                    Err(e) => last = e.to_string(),
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Err(format!("join timed out: {last}").into())
    }
}

async fn wait_listening(handle: &NodeHandle) -> Res<()> {
    for _ in 0..200 {
        if !handle.listeners().await?.is_empty() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    Err("not listening after 5 s".into())
}

async fn print_events(handle: NodeHandle, user: String) {
    let mut events = handle.subscribe();
    let mut announced = std::collections::HashSet::new();
    loop {
        match events.recv().await {
            Ok(Event::FileChanged { flotilla, file }) => {
                let available = handle
                    .file_info(flotilla, file, &user)
                    .await
                    .is_ok_and(|i| i.state.available());
                if available && announced.insert(file) {
                    say(&format!("available {file}"));
                }
            }
            Ok(Event::Post { message, .. }) => say(&format!("got {}", message.text)),
            Ok(Event::PeerConnected(p)) => say(&format!("up {p}")),
            Ok(Event::PeerDisconnected(p)) => say(&format!("down {p}")),
            Ok(_) => {}
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                say(&format!("lagged {n}"));
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Prints a line and flushes at once (stdout is a pipe in the tests).
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

//! Runs [`flotilla_node::discovery`] alone and prints what it finds, one line per event:
//!
//! ```text
//! ready <instance fullname>
//! discovered <peer id> <addr>,<addr>...
//! lost <peer id>
//! ```
//!
//! Used by the network-namespace tests (tests/integration/netns.rs), one process per
//! namespace, and handy on a real boat to check that mDNS crosses the Wi-Fi:
//!
//! ```text
//! cargo run -p flotilla-node --example mdns_probe -- --peer-id boat-a --port 7171
//! ```
//!
//! It exits after `--exit-after` seconds (default 120) so a crashed test leaves nothing behind.

use std::io::Write;
use std::time::Duration;

use clap::Parser;
use flotilla_node::discovery::{Discovery, DiscoveryConfig, DiscoveryEvent};

/// Advertise a fake node over mDNS and print the peers found.
#[derive(Debug, Parser)]
struct Args {
    /// The peer id to advertise (any non-empty string).
    #[arg(long)]
    peer_id: String,
    /// The TCP port to advertise.
    #[arg(long, default_value_t = 7171)]
    port: u16,
    /// The mDNS UDP port (5353 is the standard one).
    #[arg(long)]
    mdns_port: Option<u16>,
    /// Stop after this many seconds.
    #[arg(long, default_value_t = 120)]
    exit_after: u64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let mut cfg = DiscoveryConfig::new(args.peer_id, args.port);
    cfg.mdns_port = args.mdns_port;
    let (disc, mut events) = Discovery::start(cfg)?;
    say(&format!("ready {}", disc.fullname()))?;
    let deadline = tokio::time::sleep(Duration::from_secs(args.exit_after));
    tokio::pin!(deadline);
    loop {
        let ev = tokio::select! {
            ev = events.recv() => ev,
            () = &mut deadline => break,
        };
        match ev {
            Some(DiscoveryEvent::Discovered(d)) => {
                let addrs: Vec<String> = d.addrs.iter().map(ToString::to_string).collect();
                say(&format!("discovered {} {}", d.peer_id, addrs.join(",")))?;
            }
            Some(DiscoveryEvent::Lost { peer_id }) => say(&format!("lost {peer_id}"))?,
            None => break,
        }
    }
    disc.shutdown().await?;
    Ok(())
}

/// Prints a line and flushes at once (stdout is a pipe in the tests).
fn say(line: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()
}

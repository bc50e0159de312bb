//! The command line: [`Cli`] (clap derive) and what each subcommand does.
//!
//! Global flags (`--data-dir`, `--config`) go before or after the subcommand. Settings come
//! from, lowest to highest priority: defaults, the config file (`--config FILE`, else
//! `config.toml` in the data directory if present), then flags.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::config::{Config, RawConfig};
use crate::datadir;
use crate::node::Node;

/// flotilla: offline-first mesh chat for boat flotillas.
#[derive(Debug, Parser)]
#[command(name = "flotilla", version, about)]
pub struct Cli {
    /// The data directory (key, store, optional config.toml).
    /// Default: $FLOTILLA_DATA_DIR, $XDG_DATA_HOME/flotilla or ~/.local/share/flotilla.
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// A TOML config file (see docs/config.example.toml).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the node: the mesh and HTTP, until SIGINT or SIGTERM.
    Serve(ServeArgs),
}

/// Flags of `flotilla serve`; each overrides its config key.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// HTTP address (`http`); 0.0.0.0:8080 serves phones on the boat's Wi-Fi.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<SocketAddr>,
    /// The node's human name (`name`), usually the boat's.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// A libp2p listen multiaddr (`listen`); repeat for several. Replaces the configured list.
    #[arg(long, value_name = "MULTIADDR")]
    pub listen: Vec<String>,
    /// A peer multiaddr to dial (`peers`); repeat for several. Added to the configured list.
    #[arg(long, value_name = "MULTIADDR")]
    pub peer: Vec<String>,
    /// Turn mDNS discovery off (`mdns = false`).
    #[arg(long)]
    pub no_mdns: bool,
    /// The link profile (`link_profile`): `lan` or `halow`.
    #[arg(long, value_name = "PROFILE")]
    pub link_profile: Option<crate::config::LinkProfile>,
}

impl Cli {
    /// Runs the chosen subcommand.
    ///
    /// # Errors
    /// Whatever stopped it, with context for the user.
    pub async fn run(self) -> anyhow::Result<()> {
        let raw = load_raw(self.data_dir.as_deref(), self.config.as_deref())?;
        match self.command {
            Command::Serve(args) => serve(args.apply(raw, self.data_dir)?).await,
        }
    }
}

impl ServeArgs {
    fn apply(self, mut raw: RawConfig, data_dir: Option<PathBuf>) -> anyhow::Result<Config> {
        raw.data_dir = data_dir.or(raw.data_dir);
        raw.http = self.http.map(|a| a.to_string()).or(raw.http);
        raw.name = self.name.or(raw.name);
        if !self.listen.is_empty() {
            raw.listen = Some(self.listen);
        }
        raw.peers.extend(self.peer);
        if self.no_mdns {
            raw.mdns = Some(false);
        }
        if let Some(profile) = self.link_profile {
            raw.link_profile = profile;
        }
        Ok(raw.validate()?)
    }
}

/// The config file named by `--config`, else the data directory's `config.toml` if it
/// exists, else the defaults.
fn load_raw(data_dir: Option<&Path>, config: Option<&Path>) -> anyhow::Result<RawConfig> {
    if let Some(path) = config {
        return Ok(RawConfig::load(path)?);
    }
    let dir = match data_dir {
        Some(dir) => dir.to_path_buf(),
        None => datadir::default_path()?,
    };
    let path = dir.join(datadir::CONFIG_FILE);
    if !path.exists() {
        return Ok(RawConfig::default());
    }
    Ok(RawConfig::load(&path)?)
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let data_dir = config.data_dir.clone();
    let node = Node::start(config)
        .await
        .with_context(|| format!("cannot start the node in {}", data_dir.display()))?;
    println!(
        "flotilla node {} listening on http://{}/",
        node.id().fmt_short(),
        node.http_addr()
    );
    for addr in wait_for_listeners(&node).await {
        println!("mesh address {addr}");
    }
    std::io::stdout().flush().context("stdout")?;
    shutdown_signal().await?;
    tracing::info!("shutting down");
    node.shutdown().await.context("shutdown")
}

/// The mesh listen addresses (with `/p2p/<peer id>`), once the swarm reports them; at most
/// a few seconds (a listen address can fail, leaving the others).
async fn wait_for_listeners(node: &Node) -> Vec<libp2p::Multiaddr> {
    const WAIT: std::time::Duration = std::time::Duration::from_secs(5);
    const POLL: std::time::Duration = std::time::Duration::from_millis(50);
    let start = tokio::time::Instant::now();
    loop {
        match node.handle().listeners().await {
            Ok(addrs) if !addrs.is_empty() => return addrs,
            Ok(_) if start.elapsed() < WAIT => tokio::time::sleep(POLL).await,
            _ => return Vec::new(),
        }
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (systemd stop).
async fn shutdown_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    tokio::select! {
        res = tokio::signal::ctrl_c() => res.context("cannot listen for SIGINT")?,
        _ = term.recv() => {}
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn global_flags_go_before_or_after_the_subcommand() {
        let before = Cli::try_parse_from([
            "flotilla",
            "--data-dir",
            "/d",
            "serve",
            "--http",
            "127.0.0.1:0",
        ])
        .unwrap();
        let after = Cli::try_parse_from(["flotilla", "serve", "--data-dir", "/d"]).unwrap();
        assert_eq!(before.data_dir, after.data_dir);
        assert!(Cli::try_parse_from(["flotilla", "serve", "--http", "nope"]).is_err());
        assert!(Cli::try_parse_from(["flotilla", "serve", "--bogus"]).is_err());
    }

    #[test]
    fn flags_override_the_file() {
        let cli = Cli::try_parse_from([
            "flotilla",
            "serve",
            "--http",
            "127.0.0.1:9",
            "--name",
            "Ondine",
            "--peer",
            "/ip4/10.0.0.2/tcp/7171",
            "--no-mdns",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command;
        let raw = RawConfig {
            http: Some("0.0.0.0:1".into()),
            peers: vec!["/ip4/10.0.0.1/tcp/7171".into()],
            ..RawConfig::default()
        };
        let config = args.apply(raw, Some("/d".into())).unwrap();
        assert_eq!(config.http.to_string(), "127.0.0.1:9");
        assert_eq!(config.name.as_deref(), Some("Ondine"));
        assert_eq!(config.peers.len(), 2);
        assert!(!config.mdns);
        assert_eq!(config.data_dir, PathBuf::from("/d"));
    }
}

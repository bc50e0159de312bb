//! Node configuration: [`RawConfig`] is what a TOML file (and the command line) says,
//! [`Config`] is the checked form the node runs with.
//!
//! Every key is documented once, on the field of [`RawConfig`]; `docs/config.example.toml`
//! shows them all with their defaults and a test parses it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use libp2p::Multiaddr;
use libp2p::multiaddr::Protocol;
use serde::Deserialize;

use flotilla_protocol::id::FlotillaId;

use crate::datadir;

/// The HTTP address when none is configured: this machine only. A boat serving its crew's
/// phones sets `http = "0.0.0.0:8080"`.
pub const DEFAULT_HTTP: &str = "127.0.0.1:8080";
/// The mesh port: fixed (not random) so that a `peers` entry written on another boat keeps
/// working across restarts.
/// TCP only: QUIC is not wired yet.
pub const DEFAULT_LISTEN: &[&str] = &["/ip4/0.0.0.0/tcp/7171"];
/// The largest attachment: 10 MiB, the limit these crews use in Mattermost today.
pub const DEFAULT_MAX_ATTACHMENT_BYTES: u64 = 10 * 1024 * 1024;
/// How long shutdown waits for open HTTP requests: long enough for a post to finish, short
/// enough that systemd's 90 s stop timeout never fires.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// The longest node name (the protocol's name limit).
pub const MAX_NAME_CHARS: usize = flotilla_protocol::event::MAX_NAME_CHARS;

/// A configuration problem.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read config {}: {source}", path.display())]
    Read {
        /// The config file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this config (unknown keys included).
    #[error("invalid config {}: {source}", path.display())]
    Parse {
        /// The config file.
        path: PathBuf,
        /// What toml said.
        source: Box<toml::de::Error>,
    },
    /// A value is out of range.
    #[error("invalid `{key}`: {reason}")]
    Invalid {
        /// The config key.
        key: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// No data directory could be found.
    #[error(transparent)]
    DataDir(#[from] datadir::Error),
}

fn invalid(key: &'static str, reason: impl Into<String>) -> Error {
    Error::Invalid {
        key,
        reason: reason.into(),
    }
}

pub use crate::net::LinkProfile;

/// The configuration as written: every key optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawConfig {
    /// Where the node keeps its key and store. Default: `$FLOTILLA_DATA_DIR`, else
    /// `$XDG_DATA_HOME/flotilla`, else `~/.local/share/flotilla`.
    pub data_dir: Option<PathBuf>,
    /// The node's human name, usually the boat's (`Ondine`). Default: none (the node id is shown).
    pub name: Option<String>,
    /// The HTTP address of the status page, API and (later) web UI. Default `127.0.0.1:8080`.
    pub http: Option<String>,
    /// libp2p listen multiaddrs. Default: TCP port 7171, all interfaces.
    pub listen: Option<Vec<String>>,
    /// libp2p multiaddrs of peers to dial at start (boats not found by mDNS). Default: none.
    pub peers: Vec<String>,
    /// Find peers on the local network with mDNS. Default: true.
    pub mdns: Option<bool>,
    /// Link profile: `lan` or `halow`. Default: `lan`.
    pub link_profile: LinkProfile,
    /// The largest attachment accepted, in bytes. Default: 10 MiB.
    pub max_attachment_bytes: Option<u64>,
    /// Per-flotilla attachment limits in bytes, by flotilla id (hex), overriding
    /// `max_attachment_bytes`. Default: none.
    pub flotilla_max_attachment_bytes: BTreeMap<String, u64>,
    /// How long shutdown waits for open HTTP requests (`"5s"`, `"500ms"`). Default: 5 s.
    #[serde(with = "humantime_serde")]
    pub shutdown_grace: Option<Duration>,
    /// How long a peer that is not a member of a shared flotilla may stay connected, to
    /// send a join request (`"10s"`). Default: 10 s on `lan`, 120 s on `halow`.
    #[serde(with = "humantime_serde")]
    pub join_grace: Option<Duration>,
    /// Serve HTTPS with a self-signed certificate the node makes on first start and keeps in
    /// its data directory (`tls-cert.pem`, `tls-key.pem`); its fingerprint is printed at
    /// start. Default: false (plain HTTP, fine on loopback).
    pub tls: Option<bool>,
    /// On `halow`, attachments up to this size (bytes) are fetched without being asked;
    /// larger ones (weather files excepted) wait for "download". Default: 1 MB.
    pub auto_fetch_max_bytes: Option<u64>,
    /// Encrypted file chunks kept per flotilla (bytes) before the oldest files are evicted
    /// (never the newest forecast of an area, never a pinned file). Default: 500 MB.
    pub file_budget_bytes: Option<u64>,
    /// A file whose first line is the passphrase sealing `node.key` (argon2id +
    /// XChaCha20-Poly1305); a plain key is sealed at the next start. Keep the file off the
    /// data directory (a USB key, a root-only path), mode 0600. Default: none (the key file's
    /// mode 0600 is its only protection).
    pub key_passphrase_file: Option<PathBuf>,
    /// The LoRa bridge (`[lora]`): radios, region, modulation, duty cycle, flotillas.
    pub lora: crate::lora::RawLoraConfig,
}

/// The checked configuration a node runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The data directory, absolute.
    pub data_dir: PathBuf,
    /// The node's human name, if set.
    pub name: Option<String>,
    /// Where HTTP listens (port 0: any free port).
    pub http: SocketAddr,
    /// libp2p listen multiaddrs.
    pub listen: Vec<Multiaddr>,
    /// libp2p multiaddrs of peers to dial at start and redial when lost (with
    /// `/p2p/<peer id>` or without).
    pub peers: Vec<Multiaddr>,
    /// Whether to use mDNS discovery.
    pub mdns: bool,
    /// The link profile.
    pub link_profile: LinkProfile,
    /// The attachment size limit in bytes.
    pub max_attachment_bytes: u64,
    /// Per-flotilla attachment limits in bytes (override `max_attachment_bytes`).
    pub flotilla_max_attachment_bytes: BTreeMap<FlotillaId, u64>,
    /// The shutdown grace period for HTTP requests.
    pub shutdown_grace: Duration,
    /// How long a peer that is not a member may stay connected (`None`: the profile's).
    pub join_grace: Option<Duration>,
    /// Serve HTTPS (see [`crate::tls`]).
    pub tls: bool,
    /// On `halow`, files up to this size are fetched automatically.
    pub auto_fetch_max_bytes: u64,
    /// The per-flotilla storage budget for file chunks.
    pub file_budget_bytes: u64,
    /// The passphrase file sealing `node.key`, if any (see [`crate::datadir::sealed`]).
    pub key_passphrase_file: Option<PathBuf>,
    /// The LoRa bridge (no radios: off).
    pub lora: crate::lora::LoraConfig,
}

impl RawConfig {
    /// Reads a TOML file.
    ///
    /// # Errors
    /// [`Error::Read`] or [`Error::Parse`] (unknown keys are errors).
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| Error::Parse {
            path: path.to_path_buf(),
            source: Box::new(e),
        })
    }

    /// Checks every value and resolves the data directory.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the first bad key, or [`Error::DataDir`].
    pub fn validate(self) -> Result<Config, Error> {
        let data_dir = match self.data_dir {
            Some(dir) => dir,
            None => datadir::default_path()?,
        };
        let data_dir =
            std::path::absolute(&data_dir).map_err(|e| invalid("data_dir", e.to_string()))?;
        let http = self.http.as_deref().unwrap_or(DEFAULT_HTTP);
        let http = http.parse().map_err(|_| {
            invalid(
                "http",
                format!("`{http}` is not an address like 127.0.0.1:8080"),
            )
        })?;
        let listen = self
            .listen
            .unwrap_or_else(|| DEFAULT_LISTEN.iter().map(|s| s.to_string()).collect());
        let listen = listen
            .iter()
            .map(|a| parse_multiaddr("listen", a))
            .collect::<Result<_, _>>()?;
        let peers = self
            .peers
            .iter()
            .map(|a| parse_multiaddr("peers", a))
            .collect::<Result<_, _>>()?;
        let max_attachment_bytes = self
            .max_attachment_bytes
            .unwrap_or(DEFAULT_MAX_ATTACHMENT_BYTES);
        if max_attachment_bytes == 0 {
            return Err(invalid("max_attachment_bytes", "must be more than 0"));
        }
        let flotilla_max_attachment_bytes =
            parse_attachment_limits(&self.flotilla_max_attachment_bytes)?;
        Ok(Config {
            data_dir,
            name: check_name(self.name)?,
            http,
            listen,
            peers,
            mdns: self.mdns.unwrap_or(true),
            link_profile: self.link_profile,
            max_attachment_bytes,
            flotilla_max_attachment_bytes,
            shutdown_grace: self.shutdown_grace.unwrap_or(DEFAULT_SHUTDOWN_GRACE),
            join_grace: self.join_grace,
            tls: self.tls.unwrap_or(false),
            auto_fetch_max_bytes: self
                .auto_fetch_max_bytes
                .unwrap_or(crate::files::policy::DEFAULT_AUTO_FETCH_MAX_BYTES),
            file_budget_bytes: self
                .file_budget_bytes
                .unwrap_or(crate::files::budget::DEFAULT_BUDGET_BYTES),
            key_passphrase_file: self.key_passphrase_file,
            lora: self
                .lora
                .validate(&[])
                .map_err(|e| invalid("lora", e.to_string()))?,
        })
    }
}

fn parse_attachment_limits(
    raw: &BTreeMap<String, u64>,
) -> Result<BTreeMap<FlotillaId, u64>, Error> {
    const KEY: &str = "flotilla_max_attachment_bytes";
    raw.iter()
        .map(|(id, limit)| {
            let flotilla = id.parse().map_err(|_| {
                invalid(
                    KEY,
                    format!("`{id}` is not a flotilla id (32 hex characters)"),
                )
            })?;
            if *limit == 0 {
                return Err(invalid(KEY, format!("`{id}`: must be more than 0")));
            }
            Ok((flotilla, *limit))
        })
        .collect()
}

fn check_name(name: Option<String>) -> Result<Option<String>, Error> {
    let Some(name) = name else { return Ok(None) };
    let name = name.trim().to_string();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(invalid(
            "name",
            format!("must be 1 to {MAX_NAME_CHARS} printable characters"),
        ));
    }
    Ok(Some(name))
}

/// Parses a multiaddr, naming the config key on failure.
fn parse_multiaddr(key: &'static str, addr: &str) -> Result<Multiaddr, Error> {
    addr.parse().map_err(|_| {
        invalid(
            key,
            format!("`{addr}` is not a multiaddr like /ip4/192.168.1.10/tcp/7171"),
        )
    })
}

impl Config {
    /// The link timeouts of this config's profile, with its `join_grace` override.
    pub fn timeouts(&self) -> crate::net::Timeouts {
        let mut t = crate::net::Timeouts::of(self.link_profile);
        if let Some(grace) = self.join_grace {
            t.join_grace = grace;
        }
        t
    }

    /// The attachment limit of `flotilla`: its override, else `max_attachment_bytes`.
    pub fn attachment_limit(&self, flotilla: &FlotillaId) -> u64 {
        self.flotilla_max_attachment_bytes
            .get(flotilla)
            .copied()
            .unwrap_or(self.max_attachment_bytes)
    }

    /// Loads and checks a TOML file.
    ///
    /// # Errors
    /// Any [`Error`].
    pub fn load(path: &Path) -> Result<Self, Error> {
        RawConfig::load(path)?.validate()
    }

    /// A config for tests: data in `dir`, HTTP and libp2p on 127.0.0.1 port 0, no mDNS,
    /// no peers, a short shutdown grace.
    pub fn for_tests(dir: &Path) -> Self {
        Config {
            data_dir: dir.to_path_buf(),
            name: Some("test".into()),
            http: SocketAddr::from(([127, 0, 0, 1], 0)),
            listen: vec![
                Multiaddr::empty()
                    .with(Protocol::Ip4([127, 0, 0, 1].into()))
                    .with(Protocol::Tcp(0)),
            ],
            peers: Vec::new(),
            mdns: false,
            link_profile: LinkProfile::Lan,
            max_attachment_bytes: DEFAULT_MAX_ATTACHMENT_BYTES,
            auto_fetch_max_bytes: crate::files::policy::DEFAULT_AUTO_FETCH_MAX_BYTES,
            file_budget_bytes: crate::files::budget::DEFAULT_BUDGET_BYTES,
            flotilla_max_attachment_bytes: BTreeMap::new(),
            shutdown_grace: Duration::from_millis(500),
            join_grace: None,
            tls: false,
            key_passphrase_file: None,
            lora: crate::lora::LoraConfig::off(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../docs/config.example.toml");

    fn parse(text: &str) -> Result<Config, Error> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| Error::Parse {
            path: "t".into(),
            source: Box::new(e),
        })?;
        raw.validate()
    }

    #[test]
    fn example_config_parses_and_sets_every_key() {
        let raw: RawConfig = toml::from_str(EXAMPLE).unwrap();
        assert!(
            raw.data_dir.is_some()
                && raw.name.is_some()
                && raw.http.is_some()
                && raw.listen.is_some()
        );
        assert!(!raw.peers.is_empty() && raw.mdns.is_some() && raw.max_attachment_bytes.is_some());
        assert!(raw.shutdown_grace.is_some() && !raw.flotilla_max_attachment_bytes.is_empty());
        assert_eq!(raw.tls, Some(false));
        assert!(raw.key_passphrase_file.is_some());
        let config = raw.validate().unwrap();
        assert_eq!(config.http, SocketAddr::from(([0, 0, 0, 0], 8080)));
        let big = FlotillaId([0x0a; 16]);
        assert_eq!(config.attachment_limit(&big), 52_428_800);
        assert_eq!(config.attachment_limit(&FlotillaId([1; 16])), 10_485_760);
        assert_eq!(config.link_profile, LinkProfile::Lan);
    }

    #[test]
    fn empty_config_gets_the_defaults() {
        let config = parse("data_dir = \"/srv/flotilla\"").unwrap();
        assert_eq!(config.http.to_string(), DEFAULT_HTTP);
        let listen: Vec<String> = config.listen.iter().map(|a| a.to_string()).collect();
        assert_eq!(listen, DEFAULT_LISTEN);
        assert!(config.mdns && config.peers.is_empty() && config.name.is_none());
        assert_eq!(config.max_attachment_bytes, 10 * 1024 * 1024);
        assert_eq!(config.shutdown_grace, Duration::from_secs(5));
        assert_eq!(config.data_dir, PathBuf::from("/srv/flotilla"));
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases = [
            ("http = \"localhost\"", "http"),
            ("listen = [\"tcp 7171\"]", "listen"),
            ("peers = [\"/ip4//tcp/1\"]", "peers"),
            ("name = \"  \"", "name"),
            ("max_attachment_bytes = 0", "max_attachment_bytes"),
            (
                "[flotilla_max_attachment_bytes]\nzz = 5",
                "flotilla_max_attachment_bytes",
            ),
            (
                "[flotilla_max_attachment_bytes]\n0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a = 0",
                "flotilla_max_attachment_bytes",
            ),
        ];
        for (text, key) in cases {
            let err = parse(&format!("data_dir = \"/d\"\n{text}")).unwrap_err();
            assert!(
                matches!(err, Error::Invalid { key: k, .. } if k == key),
                "{text}: {err}"
            );
        }
    }

    #[test]
    fn unknown_keys_and_bad_profiles_are_refused() {
        assert!(matches!(
            parse("htp = \"127.0.0.1:1\""),
            Err(Error::Parse { .. })
        ));
        assert!(matches!(
            parse("link_profile = \"lora\""),
            Err(Error::Parse { .. })
        ));
        let config =
            parse("data_dir = \"/d\"\nlink_profile = \"halow\"\nshutdown_grace = \"250ms\"")
                .unwrap();
        assert_eq!(config.link_profile, LinkProfile::Halow);
        assert_eq!(config.shutdown_grace, Duration::from_millis(250));
    }
}

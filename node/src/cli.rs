//! The command line: [`Cli`] (clap derive) and what each subcommand does.
//!
//! Global flags (`--data-dir`, `--config`) go before or after the subcommand. Settings come
//! from, lowest to highest priority: defaults, the config file (`--config FILE`, else
//! `config.toml` in the data directory if present), then flags.
//!
//! `serve` runs the node and its admin socket; every other subcommand is a client of that
//! socket ([`crate::admin::Client`], like the mini-redis CLI), so it needs the node running
//! on the same data directory. Results go to stdout (ids alone on their line, so scripts can
//! take them; `--json` where a list is printed), errors to stderr with a non-zero exit.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::admin::{self, Client, Request};
use crate::config::{Config, RawConfig};
use crate::datadir;
use crate::node::Node;

mod members;
pub use members::{MemberCommand, NodeCommand, RolesCommand};

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
    /// Run the node: the mesh, HTTP and the admin socket, until SIGINT or SIGTERM.
    Serve(ServeArgs),
    /// Local user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Found, join or list flotillas.
    #[command(subcommand)]
    Flotilla(FlotillaCommand),
    /// Invite codes for other boats.
    #[command(subcommand)]
    Invite(InviteCommand),
    /// Channels of a flotilla.
    #[command(subcommand)]
    Channel(ChannelCommand),
    /// Post a message (prints its id), or `post delete ID`, or `post move ID CHANNEL`.
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Post(PostArgs),
    /// Show a channel's newest messages, oldest first.
    Messages(MessagesArgs),
    /// Show the peers this node knows.
    Peers(PeersArgs),
    /// The node's figures: per flotilla events, channels, members, boats connected; the
    /// node's ingest rate and store size.
    Status(StatusArgs),
    /// The flotilla's users: list, remove.
    #[command(subcommand)]
    Member(MemberCommand),
    /// The flotilla's boats: list, remove.
    #[command(subcommand)]
    Node(NodeCommand),
    /// Roles: flotilla admin or member, node admin (system_admin).
    #[command(subcommand)]
    Roles(RolesCommand),
    /// Files shared in a flotilla: their state on this boat, fetching.
    #[command(subcommand)]
    File(FileCommand),
    /// A simulated LoRa channel of pseudo-terminal KISS modems, for tests and demos.
    LoraAir(crate::lora::air::AirArgs),
    /// Search posts as a user (newest first): words, "phrases", -excluded, prefix*,
    /// from:user, in:channel, on:/before:/after:YYYY-MM-DD, #hashtag, @user.
    Search(SearchArgs),
    /// The search index.
    #[command(subcommand)]
    Index(IndexCommand),
    /// Import from another system.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Export for another system.
    #[command(subcommand)]
    Export(ExportCommand),
}

/// `flotilla export …`
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Write a flotilla as a Mattermost bulk file (JSONL), readable by `import bulk`.
    Bulk {
        /// The file to write (`import.jsonl`).
        file: PathBuf,
        /// The flotilla (id or name); optional while the node is in only one.
        #[arg(long, value_name = "FLOTILLA")]
        flotilla: Option<String>,
        /// Also copy the attachments to `data/` beside the file.
        #[arg(long)]
        attachments: bool,
    },
}

/// `flotilla import …`
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import a Mattermost bulk export (JSONL): teams, channels, users, posts, DMs.
    Bulk(crate::import::ImportArgs),
}

/// `flotilla search …`
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The local user searching (sees only what this user may read).
    #[arg(long = "as", value_name = "USER")]
    pub as_user: String,
    /// The flotilla (id or name); optional while the node is in only one.
    #[arg(long, value_name = "FLOTILLA")]
    pub flotilla: Option<String>,
    /// At most this many, the newest (default 20, at most 200).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Print JSON: an array of posts as `messages --json` prints them, newest first.
    #[arg(long)]
    pub json: bool,
    /// The query.
    #[arg(required = true, num_args = 1.., allow_hyphen_values = true)]
    pub query: Vec<String>,
}

/// `flotilla index …`
#[derive(Debug, Subcommand)]
pub enum IndexCommand {
    /// Rebuild the search index of every flotilla from the store.
    Rebuild,
}

/// `flotilla file …`
#[derive(Debug, Subcommand)]
pub enum FileCommand {
    /// List the flotilla's files: id, name, size, available, progress, sources, GRIB area.
    List {
        /// The flotilla (id or name); optional while the node is in only one.
        #[arg(long, value_name = "FLOTILLA")]
        flotilla: Option<String>,
        /// Print JSON (the API's file objects).
        #[arg(long)]
        json: bool,
    },
    /// Fetch a file now, whatever the link's policy.
    Fetch {
        /// The file id.
        id: String,
        /// The flotilla (id or name); optional while the node is in only one.
        #[arg(long, value_name = "FLOTILLA")]
        flotilla: Option<String>,
    },
}

/// `flotilla user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a local account; it joins every flotilla this node is in, now and later.
    Create {
        /// Login name: 1 to 64 characters, no spaces or @.
        #[arg(long)]
        username: String,
        /// Password, at least 8 characters (stored as an argon2id hash). Prefer the
        /// FLOTILLA_PASSWORD variable: command lines are visible to other local users.
        #[arg(long, env = "FLOTILLA_PASSWORD", hide_env_values = true)]
        password: String,
        /// Make the user a node admin (founds flotillas, creates channels for the node).
        #[arg(long)]
        admin: bool,
    },
    /// List the local accounts.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Deactivate a local account: it cannot log in, its web sessions and tokens end (its
    /// posts stay). `user activate` undoes it.
    Deactivate {
        /// The local user.
        user: String,
    },
    /// Activate a deactivated account: it logs in again with its password.
    Activate {
        /// The local user.
        user: String,
    },
    /// Delete a local account for good: it is removed from every flotilla this node is in,
    /// its account and key are gone; its posts stay, shown as a deleted user.
    Delete {
        /// The local user.
        user: String,
        /// Required: deleting cannot be undone.
        #[arg(long)]
        confirm: bool,
    },
    /// Clear a local account's web login rate limit (after too many wrong passwords).
    Unlock {
        /// The local user.
        user: String,
    },
    /// Set a local account's password (at least 8 characters).
    Password {
        /// The local user.
        user: String,
        /// The new password. Prefer the FLOTILLA_PASSWORD variable: command lines are
        /// visible to other local users.
        #[arg(env = "FLOTILLA_PASSWORD", hide_env_values = true)]
        password: String,
    },
}

/// `flotilla flotilla …`
#[derive(Debug, Subcommand)]
pub enum FlotillaCommand {
    /// Found a flotilla with this node's admin user as first admin (prints its id).
    Create {
        /// Its name.
        name: String,
    },
    /// Join a flotilla with an invite code, through the connected peers (prints its id).
    Join {
        /// The invite code (`fl2…`).
        code: String,
    },
    /// List the flotillas this node is in.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Rename a flotilla (as a local admin of it).
    Rename {
        /// The new name.
        name: String,
        /// The flotilla (id or name); optional while the node is in only one.
        #[arg(long, value_name = "FLOTILLA")]
        flotilla: Option<String>,
    },
}

/// `flotilla invite …`
#[derive(Debug, Subcommand)]
pub enum InviteCommand {
    /// Create an invite; the code is printed alone on the last line.
    Create {
        /// The flotilla (id or name); optional while the node is in only one.
        #[arg(long, value_name = "FLOTILLA")]
        flotilla: Option<String>,
        /// How many boats may join with it (default: unlimited).
        #[arg(long, value_name = "N")]
        uses: Option<u32>,
        /// How long it is valid, e.g. 30m, 24h, 7days (default: no expiry).
        #[arg(long, value_name = "DURATION")]
        expires: Option<humantime::Duration>,
    },
    /// Revoke an invite, by its code or by the invite id `invite create` printed.
    Revoke {
        /// The code (`fl2…`) or the invite id.
        code_or_id: String,
    },
    /// Revoke every open invite of the flotilla and make a new one; the new code is printed
    /// alone on the last line.
    Regenerate {
        /// The flotilla (id or name); optional while the node is in only one.
        #[arg(long, value_name = "FLOTILLA")]
        flotilla: Option<String>,
        /// How many boats may join with the new one (default: the node's default).
        #[arg(long, value_name = "N")]
        uses: Option<u32>,
        /// How long the new one is valid, e.g. 30m, 24h, 7days.
        #[arg(long, value_name = "DURATION")]
        expires: Option<humantime::Duration>,
    },
}

/// `flotilla channel …`
#[derive(Debug, Subcommand)]
pub enum ChannelCommand {
    /// Create a channel as this node's admin user (prints its id).
    Create {
        /// Its name.
        name: String,
        /// Members only (with its own key); the node's admin user is its first member.
        #[arg(long)]
        private: bool,
        /// The flotilla (id or name); optional while the node is in only one.
        #[arg(long, value_name = "FLOTILLA")]
        flotilla: Option<String>,
    },
    /// List a flotilla's channels.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// The flotilla (id or name); optional while the node is in only one.
        #[arg(long, value_name = "FLOTILLA")]
        flotilla: Option<String>,
    },
    /// Archive a channel (read-only), as this node's admin user.
    Archive {
        /// The channel: its name or id.
        channel: String,
        /// The flotilla (id or name); optional while the node is in only one.
        #[arg(long, value_name = "FLOTILLA")]
        flotilla: Option<String>,
    },
    /// Unarchive a channel, as this node's admin user.
    Unarchive {
        /// The channel: its name or id.
        channel: String,
        /// The flotilla (id or name); optional while the node is in only one.
        #[arg(long, value_name = "FLOTILLA")]
        flotilla: Option<String>,
    },
    /// Rename a channel (its creator or a flotilla admin; as this node's admin user).
    Rename {
        /// The channel: its name or id.
        channel: String,
        /// The new name: 1 to 64 characters of a-z 0-9 - _.
        new_name: String,
        /// The name shown instead (spaces, accents and capitals allowed).
        #[arg(long, value_name = "TEXT")]
        display_name: Option<String>,
        /// The flotilla (id or name); optional while the node is in only one.
        #[arg(long, value_name = "FLOTILLA")]
        flotilla: Option<String>,
    },
    /// Make a channel public or private (as this node's admin user).
    Modify {
        /// The channel: its name or id.
        channel: String,
        /// Make it public: new posts readable by every member (the posts written while it
        /// was private stay readable only to those who were members).
        #[arg(long, conflicts_with = "private", required_unless_present = "private")]
        public: bool,
        /// Make it private: its members (and this node's admin user) get a new key.
        #[arg(long)]
        private: bool,
        /// The flotilla (id or name); optional while the node is in only one.
        #[arg(long, value_name = "FLOTILLA")]
        flotilla: Option<String>,
    },
}

/// `flotilla post …`: post a message, or `post delete ID`.
#[derive(Debug, Args)]
pub struct PostArgs {
    /// `post delete ID` (a post's text that is the word `delete` goes after `--`).
    #[command(subcommand)]
    pub action: Option<PostAction>,
    /// The local user posting.
    #[arg(long = "as", value_name = "USER", required = true)]
    pub as_user: Option<String>,
    /// The channel: its name (town-square) or id.
    #[arg(long, required = true)]
    pub channel: Option<String>,
    /// Reply in the thread of this message id.
    #[arg(long, value_name = "ID")]
    pub reply_to: Option<String>,
    /// The flotilla (id or name); optional while the node is in only one.
    #[arg(long, value_name = "FLOTILLA")]
    pub flotilla: Option<String>,
    /// The text.
    #[arg(required = true)]
    pub text: Option<String>,
}

/// `flotilla post delete …`
#[derive(Debug, Subcommand)]
pub enum PostAction {
    /// Delete a post (shown as deleted everywhere), as this node's admin user: a flotilla
    /// admin may delete anyone's post.
    Delete {
        /// The post's id (as `post` and `messages` print it).
        id: String,
        /// The flotilla (id or name); optional while the node is in only one.
        #[arg(long, value_name = "FLOTILLA")]
        flotilla: Option<String>,
    },
    /// Move a post's thread (its root and replies) to another channel, as this node's admin
    /// user (a flotilla admin): the posts keep their authors and times, the old place shows
    /// where they went. Prints the id of the root's copy.
    Move {
        /// The post's id (the root or a reply).
        id: String,
        /// The target channel (name or id).
        channel: String,
        /// The flotilla (id or name); optional while the node is in only one.
        #[arg(long, value_name = "FLOTILLA")]
        flotilla: Option<String>,
    },
}

/// `flotilla messages …`
#[derive(Debug, Args)]
pub struct MessagesArgs {
    /// The channel: its name (town-square) or id.
    #[arg(long)]
    pub channel: String,
    /// At most this many, the newest (default 50, at most 1000).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Print JSON: an array, oldest first.
    #[arg(long)]
    pub json: bool,
    /// The flotilla (id or name); optional while the node is in only one.
    #[arg(long, value_name = "FLOTILLA")]
    pub flotilla: Option<String>,
}

/// `flotilla status …`
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `flotilla peers …`
#[derive(Debug, Args)]
pub struct PeersArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
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
    /// Serve HTTPS with the node's own certificate (`tls = true`).
    #[arg(long)]
    pub tls: bool,
    /// Seal `node.key` with the passphrase on this file's first line (`key_passphrase_file`).
    #[arg(long, value_name = "FILE")]
    pub key_passphrase_file: Option<PathBuf>,
    /// A LoRa radio (`lora.radios`): `kiss:/dev/ttyUSB0`, `kiss:tcp:HOST:PORT`,
    /// `meshtastic:/dev/ttyACM0` or `meshtastic:tcp:HOST:4403`; repeat for several.
    #[arg(long, value_name = "SPEC")]
    pub lora: Vec<String>,
}

impl Cli {
    /// Runs the chosen subcommand.
    ///
    /// # Errors
    /// Whatever stopped it, with context for the user.
    pub async fn run(self) -> anyhow::Result<()> {
        if let Command::LoraAir(args) = self.command {
            return crate::lora::air::run(args).await;
        }
        let raw = load_raw(self.data_dir.as_deref(), self.config.as_deref())?;
        if let Command::Serve(args) = self.command {
            return serve(args.apply(raw, self.data_dir)?).await;
        }
        let dir = match self.data_dir.or(raw.data_dir) {
            Some(dir) => dir,
            None => datadir::default_path()?,
        };
        if let Command::Import(ImportCommand::Bulk(args)) = &self.command
            && args.validate
        {
            let plan = crate::import::check(args)?;
            println!("{}", crate::import::summary(&plan));
            return Ok(());
        }
        let mut client = Client::connect(&dir).await?;
        let mut out = std::io::stdout().lock();
        for line in self.command.call(&mut client).await? {
            writeln!(out, "{line}").context("stdout")?;
        }
        Ok(())
    }
}

/// `flotilla file list` / `fetch`: the lines to print.
async fn file_lines(client: &mut Client, cmd: FileCommand) -> anyhow::Result<Vec<String>> {
    let line = |f: &serde_json::Value| {
        let grib = &f["grib"];
        let area = if grib.is_object() {
            let a = &grib["area"];
            // no area for spherical harmonics or projections (as grib_ls shows them)
            let bounds = if a.is_object() {
                format!(
                    "N{} S{} W{} E{}",
                    a["north"], a["south"], a["west"], a["east"]
                )
            } else {
                "no area".to_owned()
            };
            format!(
                "  GRIB{} {} {bounds} +{}h",
                grib["edition"],
                grib["centre"].as_str().unwrap_or(""),
                grib["forecast_hours"]
                    .as_array()
                    .and_then(|h| h.last())
                    .map_or_else(String::new, ToString::to_string)
            )
        } else {
            String::new()
        };
        format!(
            "{}  {}  {} B  {}  {:.0}%  {} source(s){area}",
            f["id"].as_str().unwrap_or(""),
            f["name"].as_str().unwrap_or(""),
            f["size"],
            f["state"].as_str().unwrap_or(""),
            f["progress"].as_f64().unwrap_or(0.0) * 100.0,
            f["sources"]
        )
    };
    Ok(match cmd {
        FileCommand::List { flotilla, json } => {
            let list: Vec<serde_json::Value> = client.call(&Request::FileList { flotilla }).await?;
            if json {
                vec![to_json(&list)?]
            } else {
                list.iter().map(line).collect()
            }
        }
        FileCommand::Fetch { id, flotilla } => {
            let f: serde_json::Value = client.call(&Request::FileFetch { id, flotilla }).await?;
            vec![line(&f)]
        }
    })
}

impl Command {
    /// Sends a client subcommand's request and returns the lines to print.
    async fn call(self, client: &mut Client) -> anyhow::Result<Vec<String>> {
        use admin::{
            ChannelView, FlotillaView, InviteView, MessageView, PeerView, PostView, RevokedView,
            StatusView, UserView,
        };
        let lines = match self {
            Command::Serve(_) | Command::LoraAir(_) => Vec::new(),
            Command::Member(c) => members::member(c, client).await?,
            Command::Node(c) => members::node(c, client).await?,
            Command::Roles(c) => members::roles(c, client).await?,
            Command::User(UserCommand::Create {
                username,
                password,
                admin,
            }) => {
                let req = Request::UserCreate {
                    username,
                    password,
                    admin,
                };
                let user: UserView = client.call(&req).await?;
                let role = if user.admin { " (node admin)" } else { "" };
                vec![format!("user {} created{role}", user.username)]
            }
            Command::User(UserCommand::List { json }) => {
                let list: Vec<UserView> = client.call(&Request::UserList {}).await?;
                if json {
                    vec![to_json(&list)?]
                } else {
                    list.iter()
                        .map(|u| {
                            let role = if u.admin { "  (node admin)" } else { "" };
                            let off = if u.deactivated { "  (deactivated)" } else { "" };
                            format!("{}{role}{off}", u.username)
                        })
                        .collect()
                }
            }
            Command::User(UserCommand::Deactivate { user }) => {
                let u: UserView = client
                    .call(&Request::UserDeactivate { username: user })
                    .await?;
                vec![format!(
                    "user {} deactivated: it cannot log in, its sessions and tokens ended",
                    u.username
                )]
            }
            Command::User(UserCommand::Activate { user }) => {
                let u: UserView = client
                    .call(&Request::UserActivate { username: user })
                    .await?;
                vec![format!("user {} activated", u.username)]
            }
            Command::User(UserCommand::Delete { user, confirm }) => {
                let req = Request::UserDelete {
                    username: user,
                    confirm,
                };
                let d: admin::UserDeletedView = client.call(&req).await?;
                vec![format!(
                    "user {} deleted (removed from {} flotilla(s); its posts stay)",
                    d.username, d.flotillas
                )]
            }
            Command::User(UserCommand::Unlock { user }) => {
                let u: admin::UnlockedView =
                    client.call(&Request::UserUnlock { username: user }).await?;
                let was = if u.was_locked {
                    "login unlocked"
                } else {
                    "was not locked; failed logins forgotten"
                };
                vec![format!("user {}: {was}", u.username)]
            }
            Command::User(UserCommand::Password { user, password }) => {
                let req = Request::UserPassword {
                    username: user,
                    password,
                };
                let u: UserView = client.call(&req).await?;
                vec![format!("password of {} set", u.username)]
            }
            Command::Channel(ChannelCommand::Archive { channel, flotilla }) => {
                let req = Request::ChannelArchive {
                    channel,
                    archived: true,
                    flotilla,
                };
                let c: ChannelView = client.call(&req).await?;
                vec![format!("channel {} archived", c.name)]
            }
            Command::Channel(ChannelCommand::Unarchive { channel, flotilla }) => {
                let req = Request::ChannelArchive {
                    channel,
                    archived: false,
                    flotilla,
                };
                let c: ChannelView = client.call(&req).await?;
                vec![format!("channel {} unarchived", c.name)]
            }
            Command::Channel(ChannelCommand::Rename {
                channel,
                new_name,
                display_name,
                flotilla,
            }) => {
                let req = Request::ChannelModify {
                    channel,
                    name: Some(new_name),
                    display_name,
                    private: None,
                    flotilla,
                };
                let c: ChannelView = client.call(&req).await?;
                vec![format!("channel {} renamed", c.name)]
            }
            Command::Channel(ChannelCommand::Modify {
                channel,
                public,
                private,
                flotilla,
            }) => {
                let req = Request::ChannelModify {
                    channel,
                    name: None,
                    display_name: None,
                    private: Some(private && !public),
                    flotilla,
                };
                let c: ChannelView = client.call(&req).await?;
                let kind = if c.private { "private" } else { "public" };
                vec![format!("channel {} is {kind}", c.name)]
            }
            Command::Flotilla(FlotillaCommand::Rename { name, flotilla }) => {
                let f: FlotillaView = client
                    .call(&Request::FlotillaRename { name, flotilla })
                    .await?;
                vec![format!("flotilla {} renamed {}", f.id, f.name)]
            }
            Command::Flotilla(FlotillaCommand::Create { name }) => {
                let f: FlotillaView = client.call(&Request::FlotillaCreate { name }).await?;
                vec![f.id]
            }
            Command::Flotilla(FlotillaCommand::Join { code }) => {
                let f: FlotillaView = client.call(&Request::FlotillaJoin { code }).await?;
                vec![f.id]
            }
            Command::Flotilla(FlotillaCommand::List { json }) => {
                let list: Vec<FlotillaView> = client.call(&Request::FlotillaList {}).await?;
                if json {
                    vec![to_json(&list)?]
                } else {
                    list.iter()
                        .map(|f| {
                            let joining = if f.member { "" } else { "  (joining)" };
                            format!("{}  {}{joining}", f.id, f.name)
                        })
                        .collect()
                }
            }
            Command::Invite(InviteCommand::Create {
                flotilla,
                uses,
                expires,
            }) => {
                let req = Request::InviteCreate {
                    flotilla,
                    uses,
                    expires_secs: expires.map(|d| d.as_secs().max(1)),
                };
                let inv: InviteView = client.call(&req).await?;
                let uses = inv
                    .uses
                    .map_or_else(|| "unlimited uses".to_owned(), |n| format!("{n} use(s)"));
                let expiry = inv.expires_at.as_deref().unwrap_or("never");
                vec![
                    format!(
                        "invite {} for flotilla {}: {uses}, expires {expiry}",
                        inv.invite_id, inv.flotilla
                    ),
                    inv.code,
                ]
            }
            Command::Invite(InviteCommand::Regenerate {
                flotilla,
                uses,
                expires,
            }) => {
                let req = Request::InviteRegenerate {
                    flotilla,
                    uses,
                    expires_secs: expires.map(|d| d.as_secs().max(1)),
                };
                let inv: InviteView = client.call(&req).await?;
                vec![
                    format!(
                        "{} open invite(s) revoked; new invite {} for flotilla {}",
                        inv.revoked.unwrap_or(0),
                        inv.invite_id,
                        inv.flotilla
                    ),
                    inv.code,
                ]
            }
            Command::Invite(InviteCommand::Revoke { code_or_id }) => {
                let r: RevokedView = client.call(&Request::InviteRevoke { code_or_id }).await?;
                vec![format!("invite {} revoked", r.invite_id)]
            }
            Command::Channel(ChannelCommand::Create {
                name,
                private,
                flotilla,
            }) => {
                let req = Request::ChannelCreate {
                    name,
                    private,
                    flotilla,
                };
                let c: ChannelView = client.call(&req).await?;
                vec![c.id]
            }
            Command::Channel(ChannelCommand::List { json, flotilla }) => {
                let list: Vec<ChannelView> =
                    client.call(&Request::ChannelList { flotilla }).await?;
                if json {
                    vec![to_json(&list)?]
                } else {
                    list.iter()
                        .map(|c| {
                            let kind = if c.private { "private" } else { "public" };
                            format!("{}  {}  {kind}", c.name, c.id)
                        })
                        .collect()
                }
            }
            Command::File(cmd) => file_lines(client, cmd).await?,
            Command::Post(PostArgs {
                action: Some(PostAction::Delete { id, flotilla }),
                ..
            }) => {
                let p: PostView = client.call(&Request::PostDelete { id, flotilla }).await?;
                vec![format!("post {} deleted", p.id)]
            }
            Command::Post(PostArgs {
                action:
                    Some(PostAction::Move {
                        id,
                        channel,
                        flotilla,
                    }),
                ..
            }) => {
                let req = Request::PostMove {
                    id,
                    channel: channel.clone(),
                    flotilla,
                };
                let p: PostView = client.call(&req).await?;
                vec![format!("thread moved to ~{channel}: {}", p.id)]
            }
            Command::Post(a) => {
                let missing = |what: &str| anyhow::anyhow!("{what} is required");
                let req = Request::Post {
                    as_user: a.as_user.ok_or_else(|| missing("--as"))?,
                    channel: a.channel.ok_or_else(|| missing("--channel"))?,
                    text: a.text.ok_or_else(|| missing("the text"))?,
                    reply_to: a.reply_to,
                    flotilla: a.flotilla,
                };
                let p: PostView = client.call(&req).await?;
                vec![p.id]
            }
            Command::Messages(a) => {
                let req = Request::Messages {
                    channel: a.channel,
                    limit: a.limit,
                    flotilla: a.flotilla,
                };
                let list: Vec<MessageView> = client.call(&req).await?;
                if a.json {
                    vec![to_json(&list)?]
                } else {
                    list.iter()
                        .map(|m| {
                            let reply = if m.root_id.is_some() { "  ↳ " } else { "" };
                            let gone = if m.author_deleted {
                                " (deleted user)"
                            } else {
                                ""
                            };
                            format!(
                                "{} {reply}{}{gone}: {}  [{}]",
                                m.created_at, m.author, m.text, m.id
                            )
                        })
                        .collect()
                }
            }
            Command::Search(a) => {
                let req = Request::Search {
                    as_user: a.as_user,
                    query: a.query.join(" "),
                    limit: a.limit,
                    flotilla: a.flotilla,
                };
                let list: Vec<MessageView> = client.call(&req).await?;
                if a.json {
                    vec![to_json(&list)?]
                } else {
                    list.iter()
                        .map(|m| {
                            format!(
                                "{} ~{} {}: {}  [{}]",
                                m.created_at, m.channel, m.author, m.text, m.id
                            )
                        })
                        .collect()
                }
            }
            Command::Index(IndexCommand::Rebuild) => {
                let list: Vec<admin::RebuiltView> = client.call(&Request::IndexRebuild {}).await?;
                list.iter()
                    .map(|r| {
                        format!(
                            "flotilla {}: {} posts indexed, {} bytes",
                            r.flotilla, r.indexed, r.disk_bytes
                        )
                    })
                    .collect()
            }
            Command::Import(ImportCommand::Bulk(args)) => crate::import::run(client, args).await?,
            Command::Export(ExportCommand::Bulk {
                file,
                flotilla,
                attachments,
            }) => {
                let file = std::path::absolute(&file).context("the export file")?;
                let req = Request::ExportBulk {
                    flotilla,
                    file,
                    attachments,
                };
                let r: crate::import::ExportReport = client.call(&req).await?;
                vec![format!(
                    "exported to {}: {} channel(s), {} user(s), {} post(s) and replies, {} file(s)",
                    r.file, r.channels, r.users, r.posts, r.files
                )]
            }
            Command::Status(a) => {
                let s: StatusView = client.call(&Request::Status {}).await?;
                if a.json {
                    vec![to_json(&s)?]
                } else {
                    status_lines(&s)
                }
            }
            Command::Peers(a) => {
                let list: Vec<PeerView> = client.call(&Request::Peers {}).await?;
                if a.json {
                    vec![to_json(&list)?]
                } else {
                    list.iter()
                        .map(|p| {
                            let state = if p.connected {
                                "connected"
                            } else {
                                "not connected"
                            };
                            let seen = p.last_seen.as_deref().unwrap_or("never");
                            let addrs = p.addresses.join(" ");
                            format!("{}  {state}, last seen {seen}  {addrs}", p.peer_id)
                        })
                        .collect()
                }
            }
        };
        Ok(lines)
    }
}

/// `flotilla status` for people: the node, then one line per flotilla.
fn status_lines(s: &admin::StatusView) -> Vec<String> {
    let mut lines = vec![format!(
        "node {} ({})  ingest {:.0} events/s ({} since start)  store {:.1} MB  {} boat(s) connected",
        s.name,
        s.node.get(..8).unwrap_or(&s.node),
        s.ingest_rate,
        s.ingested,
        s.store_bytes as f64 / 1e6,
        s.peers_connected
    )];
    for f in &s.flotillas {
        let joining = if f.member { "" } else { "  (joining)" };
        lines.push(format!(
            "{}  {}{joining}  {} events, {} channels, {} members, {} boats ({} connected)",
            f.id, f.name, f.events, f.channels, f.members, f.boats, f.boats_connected
        ));
    }
    lines
}

fn to_json(value: &impl serde::Serialize) -> anyhow::Result<String> {
    serde_json::to_string_pretty(value).context("JSON")
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
        if self.tls {
            raw.tls = Some(true);
        }
        raw.key_passphrase_file = self.key_passphrase_file.or(raw.key_passphrase_file);
        raw.lora.radios.extend(self.lora);
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
    // Listen for SIGINT/SIGTERM before anything announces the node: a supervisor that reads
    // the URL and stops the node at once must get a clean shutdown, not the default kill.
    let stop = ShutdownSignal::install()?;
    let data_dir = config.data_dir.clone();
    let node = Node::start(config)
        .await
        .with_context(|| format!("cannot start the node in {}", data_dir.display()))?;
    let admin = match admin::Server::start_node(&data_dir, &node) {
        Ok(admin) => admin,
        Err(e) => {
            node.shutdown().await.context("shutdown")?;
            return Err(e.into());
        }
    };
    tracing::info!(socket = %admin.path().display(), "admin socket ready");
    // What the operator reads; a closed stdout (a supervisor that stopped reading) must not
    // stop the node, so write errors are ignored here.
    let listeners = wait_for_listeners(&node).await;
    let mut out = std::io::stdout().lock();
    let scheme = if node.tls_fingerprint().is_some() {
        "https"
    } else {
        "http"
    };
    let _ = writeln!(
        out,
        "flotilla node {} listening on {scheme}://{}/",
        node.id().fmt_short(),
        node.http_addr()
    );
    for addr in listeners {
        let _ = writeln!(out, "mesh address {addr}");
    }
    if let Some(fingerprint) = node.tls_fingerprint() {
        let _ = writeln!(
            out,
            "TLS certificate SHA-256 fingerprint: {fingerprint} (check it matches what the browser shows)"
        );
    }
    if let Some(code) = node.setup_code() {
        let _ = writeln!(
            out,
            "setup code: {code} (open the page above and make the first admin with it)"
        );
    }
    let _ = out.flush();
    drop(out);
    stop.wait().await;
    tracing::info!("shutting down");
    admin.shutdown().await;
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

/// SIGINT and SIGTERM, registered when installed (signals before [`ShutdownSignal::wait`]
/// are kept, not lost to the default handler).
struct ShutdownSignal {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

impl ShutdownSignal {
    fn install() -> anyhow::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(ShutdownSignal {
            int: signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?,
            term: signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
        }
    }
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
        let Command::Serve(args) = cli.command else {
            panic!("not serve")
        };
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

    #[test]
    fn client_subcommands_parse_with_their_flags() {
        let cli = Cli::try_parse_from([
            "flotilla",
            "--data-dir",
            "/d",
            "post",
            "--as",
            "anne",
            "--channel",
            "town-square",
            "--reply-to",
            "ab",
            "Coffee at 10?",
        ])
        .unwrap();
        let Command::Post(post) = cli.command else {
            panic!("not post")
        };
        assert_eq!(post.as_user.as_deref(), Some("anne"));
        assert_eq!(post.text.as_deref(), Some("Coffee at 10?"));
        let cli = Cli::try_parse_from(["flotilla", "post", "delete", "ab12"]).unwrap();
        let Command::Post(PostArgs {
            action: Some(PostAction::Delete { id, .. }),
            ..
        }) = cli.command
        else {
            panic!("not post delete")
        };
        assert_eq!(id, "ab12");
        assert!(Cli::try_parse_from(["flotilla", "post", "--as", "anne", "hello"]).is_err());
        let cli = Cli::try_parse_from([
            "flotilla",
            "invite",
            "create",
            "--uses",
            "1",
            "--expires",
            "7days",
        ])
        .unwrap();
        let Command::Invite(InviteCommand::Create { uses, expires, .. }) = cli.command else {
            panic!("not invite create")
        };
        assert_eq!(uses, Some(1));
        assert_eq!(expires.map(|d| d.as_secs()), Some(7 * 86_400));
        assert!(
            Cli::try_parse_from(["flotilla", "invite", "create", "--expires", "soon"]).is_err()
        );
        assert!(Cli::try_parse_from(["flotilla", "post", "--channel", "c", "text"]).is_err());
        assert!(
            Cli::try_parse_from(["flotilla", "messages", "--channel", "c", "--limit", "x"])
                .is_err()
        );
        for args in [
            &[
                "flotilla",
                "user",
                "create",
                "--username",
                "u",
                "--password",
                "p",
                "--admin",
            ][..],
            &["flotilla", "flotilla", "create", "Rallye des Abers"],
            &["flotilla", "flotilla", "join", "fl2"],
            &["flotilla", "invite", "revoke", "ab"],
            &["flotilla", "user", "list", "--json"],
            &["flotilla", "user", "deactivate", "bob"],
            &["flotilla", "user", "activate", "bob"],
            &["flotilla", "user", "delete", "bob", "--confirm"],
            &["flotilla", "user", "unlock", "bob"],
            &["flotilla", "channel", "archive", "galley"],
            &["flotilla", "channel", "unarchive", "galley"],
            &["flotilla", "channel", "create", "mouillage", "--private"],
            &["flotilla", "channel", "list", "--json"],
            &[
                "flotilla",
                "messages",
                "--channel",
                "c",
                "--limit",
                "5",
                "--json",
            ],
            &["flotilla", "peers", "--json"],
            &["flotilla", "member", "list", "--json", "--flotilla", "F"],
            &["flotilla", "member", "remove", "skipper@Ondine"],
            &["flotilla", "node", "list", "--json"],
            &["flotilla", "node", "remove", "Ondine", "--flotilla", "F"],
            &["flotilla", "roles", "admin", "anne", "--flotilla", "F"],
            &["flotilla", "roles", "member", "anne"],
            &["flotilla", "roles", "system_admin", "anne"],
        ] {
            Cli::try_parse_from(args).unwrap();
        }
    }
}

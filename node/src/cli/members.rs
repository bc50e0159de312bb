//! `flotilla member …`, `flotilla node …` and `flotilla roles …`: the flotilla's users and
//! boats, removal, and roles (like mmctl's `user`, `roles system_admin`), through the admin
//! socket.

use clap::Subcommand;

use crate::admin::{Client, MemberView, NodeView, Request, UserView};

/// `flotilla member …`
#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// List the flotilla's users: username, key, home boat, admin.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// The flotilla (id or name); optional while the node is in only one.
        #[arg(long, value_name = "FLOTILLA")]
        flotilla: Option<String>,
    },
    /// Remove a user from the flotilla (the flotilla key is rotated).
    Remove {
        /// A username (refused if several boats have it: then name@boat), or a user key.
        user: String,
        /// The flotilla (id or name); optional while the node is in only one.
        #[arg(long, value_name = "FLOTILLA")]
        flotilla: Option<String>,
    },
}

/// `flotilla node …`
#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// List the flotilla's boats: id, name, connected, last seen.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// The flotilla (id or name); optional while the node is in only one.
        #[arg(long, value_name = "FLOTILLA")]
        flotilla: Option<String>,
    },
    /// Remove a boat and its users from the flotilla (the flotilla key is rotated).
    Remove {
        /// The boat's node id (hex) or name.
        id_or_name: String,
        /// The flotilla (id or name); optional while the node is in only one.
        #[arg(long, value_name = "FLOTILLA")]
        flotilla: Option<String>,
    },
}

/// `flotilla roles …`
#[derive(Debug, Subcommand)]
pub enum RolesCommand {
    /// Make a user a flotilla admin.
    Admin {
        /// A username, name@boat, or a user key.
        user: String,
        /// The flotilla (id or name); optional while the node is in only one.
        #[arg(long, value_name = "FLOTILLA")]
        flotilla: Option<String>,
    },
    /// Make a flotilla admin a plain member.
    Member {
        /// A username, name@boat, or a user key.
        user: String,
        /// The flotilla (id or name); optional while the node is in only one.
        #[arg(long, value_name = "FLOTILLA")]
        flotilla: Option<String>,
    },
    /// Make a local user a node admin (founds flotillas, manages the node's accounts).
    #[command(name = "system_admin")]
    SystemAdmin {
        /// A local username.
        user: String,
    },
}

fn member_line(m: &MemberView) -> String {
    let role = if m.admin { "admin" } else { "member" };
    format!(
        "{}  {}  {}  {role}  [{}]",
        m.display, m.user_key, m.home_boat, m.fingerprint
    )
}

/// Runs `flotilla member …`; returns the lines to print.
pub(super) async fn member(cmd: MemberCommand, client: &mut Client) -> anyhow::Result<Vec<String>> {
    Ok(match cmd {
        MemberCommand::List { json, flotilla } => {
            let list: Vec<MemberView> = client.call(&Request::MemberList { flotilla }).await?;
            if json {
                vec![super::to_json(&list)?]
            } else {
                list.iter().map(member_line).collect()
            }
        }
        MemberCommand::Remove { user, flotilla } => {
            let m: MemberView = client
                .call(&Request::MemberRemove { user, flotilla })
                .await?;
            vec![format!("user {} ({}) removed", m.display, m.user_key)]
        }
    })
}

/// Runs `flotilla node …`; returns the lines to print.
pub(super) async fn node(cmd: NodeCommand, client: &mut Client) -> anyhow::Result<Vec<String>> {
    Ok(match cmd {
        NodeCommand::List { json, flotilla } => {
            let list: Vec<NodeView> = client.call(&Request::NodeList { flotilla }).await?;
            if json {
                vec![super::to_json(&list)?]
            } else {
                list.iter()
                    .map(|n| {
                        let state = match (n.me, n.connected) {
                            (true, _) => "this node",
                            (false, true) => "connected",
                            (false, false) => "not connected",
                        };
                        let seen = n.last_seen.as_deref().unwrap_or("never");
                        format!("{}  {}  {state}, last seen {seen}", n.id, n.name)
                    })
                    .collect()
            }
        }
        NodeCommand::Remove {
            id_or_name,
            flotilla,
        } => {
            let req = Request::NodeRemove {
                node: id_or_name,
                flotilla,
            };
            let n: NodeView = client.call(&req).await?;
            vec![format!("boat {} ({}) removed", n.name, n.id)]
        }
    })
}

/// Runs `flotilla roles …`; returns the lines to print.
pub(super) async fn roles(cmd: RolesCommand, client: &mut Client) -> anyhow::Result<Vec<String>> {
    let (role, user, flotilla) = match cmd {
        RolesCommand::Admin { user, flotilla } => ("admin", user, flotilla),
        RolesCommand::Member { user, flotilla } => ("member", user, flotilla),
        RolesCommand::SystemAdmin { user } => {
            let req = Request::Roles {
                role: "system_admin".into(),
                user,
                flotilla: None,
            };
            let u: UserView = client.call(&req).await?;
            return Ok(vec![format!("user {} is a node admin", u.username)]);
        }
    };
    let req = Request::Roles {
        role: role.into(),
        user,
        flotilla,
    };
    let m: MemberView = client.call(&req).await?;
    Ok(vec![format!("user {} is a flotilla {role}", m.display)])
}

//! The admin socket's member and boat requests: lists, removal and roles. The node's own
//! command line acts as any local admin of the flotilla (whoever holds the socket
//! administers the node).

use flotilla_protocol::id::FlotillaId;

use super::server::{Failure, from_node, invalid, resolve_flotilla, to_value};
use super::wire::{ErrorCode, MemberView, NodeView, rfc3339};
use crate::handle::NodeHandle;
use crate::handle::views::{BoatInfo, MemberInfo};

fn member_view(m: MemberInfo) -> MemberView {
    MemberView {
        username: m.username,
        display: m.display,
        user_key: m.key.to_string(),
        home_boat: m.boat,
        home_node: m.node.to_string(),
        admin: m.admin,
        fingerprint: m.fingerprint,
    }
}

fn node_view(b: BoatInfo) -> NodeView {
    NodeView {
        id: b.key.to_string(),
        name: b.name,
        me: b.me,
        connected: b.me || b.connected,
        last_seen: b.last_seen_ms.map(rfc3339),
    }
}

/// `member list`.
pub(super) async fn list(
    node: &NodeHandle,
    flotilla: FlotillaId,
) -> Result<Vec<MemberView>, Failure> {
    let members = node.members(flotilla).await.map_err(from_node)?;
    Ok(members.into_iter().map(member_view).collect())
}

/// `member remove USER`.
pub(super) async fn remove(
    node: &NodeHandle,
    flotilla: FlotillaId,
    user: &str,
) -> Result<MemberView, Failure> {
    let removed = node
        .remove_member(flotilla, None, user)
        .await
        .map_err(from_node)?;
    Ok(member_view(removed))
}

/// `node list`.
pub(super) async fn nodes(
    node: &NodeHandle,
    flotilla: FlotillaId,
) -> Result<Vec<NodeView>, Failure> {
    let boats = node.boats(flotilla).await.map_err(from_node)?;
    Ok(boats.into_iter().map(node_view).collect())
}

/// `node remove ID_OR_NAME`.
pub(super) async fn remove_node(
    node: &NodeHandle,
    flotilla: FlotillaId,
    which: &str,
) -> Result<NodeView, Failure> {
    let removed = node
        .remove_node(flotilla, None, which)
        .await
        .map_err(from_node)?;
    Ok(node_view(removed))
}

/// `roles admin|member|system_admin USER`.
pub(super) async fn roles(
    node: &NodeHandle,
    role: &str,
    user: &str,
    flotilla: Option<&str>,
) -> Result<serde_json::Value, Failure> {
    if role == "system_admin" {
        let u = node.set_node_admin(user, true).await.map_err(from_node)?;
        return to_value(super::accounts::user_view(u));
    }
    let admin = match role {
        "admin" => true,
        "member" => false,
        other => {
            return Err(invalid(
                "role",
                format!("`{other}`: admin, member or system_admin"),
            ));
        }
    };
    let flotilla = resolve_flotilla(node, flotilla).await?;
    let m = node
        .set_flotilla_admin(flotilla, None, user, admin)
        .await
        .map_err(from_node)?;
    if m.admin != admin {
        return Err((ErrorCode::Refused, format!("{} kept its role", m.display)));
    }
    to_value(member_view(m))
}

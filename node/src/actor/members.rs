//! Serving [`MembersCommand`]s: roles and removal. Each is one signed control event of the
//! existing ledger (`RoleGrant`/`RoleRevoke`, `UserRemove`, `NodeRemove` with the new epoch
//! key sealed to the remaining nodes); the ledger judges it, the actor only resolves who is
//! meant ([`crate::identity`]) and who acts.
//!
//! A removed boat is disconnected after [`DISCONNECT_REMOVED_AFTER`] (time for the removal
//! itself to reach it by gossip, so it stops writing), unless another flotilla is shared.

use std::time::Duration;

use flotilla_protocol as proto;
use proto::event::{Control, Role};
use proto::id::FlotillaId;
use proto::membership::{AuthState, UserState};
use proto::{PublicKey, SecretKey};

use super::{Actor, Timer};
use crate::Error;
use crate::handle::views::{BoatInfo, MemberInfo};
use crate::handle::{Acting, LocalUser, MembersCommand, ProfileChange};
use crate::identity;

/// How long a removed boat stays connected after its removal is published.
pub(crate) const DISCONNECT_REMOVED_AFTER: Duration = Duration::from_secs(3);

/// A user as the member list shows it.
pub(crate) fn member_info(auth: &AuthState, key: &PublicKey) -> Option<MemberInfo> {
    let u = auth.users.get(key)?;
    let boat = auth
        .nodes
        .get(&u.info.home)
        .map(|n| n.info.name.clone())
        .unwrap_or_default();
    Some(MemberInfo {
        username: u.info.username.clone(),
        key: *key,
        display_name: u.display_name.clone(),
        full_name: u.profile.full_name.clone(),
        position: u.profile.position.clone(),
        picture: u.profile.picture,
        node: u.info.home,
        admin: auth.is_admin(key),
        display: identity::display_name(auth, key),
        boat,
        fingerprint: identity::fingerprint(key),
    })
}

impl Actor {
    pub(super) fn on_members_command(&mut self, cmd: MembersCommand) {
        match cmd {
            MembersCommand::RemoveUser {
                flotilla,
                by,
                user,
                reply,
            } => {
                let _ = reply.send(self.remove_member(&flotilla, by.as_deref(), &user));
            }
            MembersCommand::RemoveNode {
                flotilla,
                by,
                node,
                reply,
            } => {
                let _ = reply.send(self.remove_boat(&flotilla, by.as_deref(), &node));
            }
            MembersCommand::SetAdmin {
                flotilla,
                by,
                user,
                admin,
                reply,
            } => {
                let _ = reply.send(self.set_admin(&flotilla, by.as_deref(), &user, admin));
            }
            MembersCommand::SetProfile {
                flotilla,
                username,
                change,
                reply,
            } => {
                let _ = reply.send(self.set_profile(flotilla, username, change));
            }
            MembersCommand::SetNodeAdmin {
                username,
                admin,
                reply,
            } => {
                let _ = reply.send(self.set_node_admin(&username, admin));
            }
        }
    }

    /// The admin who acts: local user `by`, who must be an active flotilla admin, or (`None`:
    /// the node's own command line) any local admin of the flotilla.
    fn acting_admin(&self, flotilla: &FlotillaId, by: Option<&str>) -> Result<SecretKey, Error> {
        let Some(by) = by else {
            return self.local_admin(flotilla);
        };
        let key = self.user(by)?;
        if self.auth(flotilla)?.is_admin(&key.public()) {
            Ok(key)
        } else {
            Err(Error::Forbidden("only a flotilla admin may do this".into()))
        }
    }

    fn remove_member(
        &mut self,
        flotilla: &FlotillaId,
        by: Option<&str>,
        user: &str,
    ) -> Result<MemberInfo, Error> {
        let admin = self.acting_admin(flotilla, by)?;
        let auth = self.auth(flotilla)?;
        let target = identity::resolve_user(auth, user)?;
        let info =
            member_info(auth, &target).ok_or_else(|| Error::NotFound(format!("user `{user}`")))?;
        // The epoch key and every private channel and DM key the user held are rotated and
        // sealed to the remaining members (protocol::membership::removal).
        self.publish_built(flotilla, |ctx, _| ctx.remove_user(&admin, target))?;
        tracing::info!(user = %target.fmt_short(), flotilla = %flotilla.fmt_short(), "user removed");
        Ok(info)
    }

    fn remove_boat(
        &mut self,
        flotilla: &FlotillaId,
        by: Option<&str>,
        node: &str,
    ) -> Result<BoatInfo, Error> {
        let admin = self.acting_admin(flotilla, by)?;
        let target = identity::resolve_node(self.auth(flotilla)?, node)?;
        if target == self.me {
            return Err(Error::Forbidden(
                "a boat cannot remove itself: ask an admin on another boat".into(),
            ));
        }
        let info = self
            .boats(flotilla)?
            .into_iter()
            .find(|b| b.key == target)
            .ok_or_else(|| Error::NotFound(format!("boat `{node}`")))?;
        // A boat's removal removes its users too, with the same key rotations.
        self.publish_built(flotilla, |ctx, _| ctx.remove_node(&admin, target))?;
        if let Some(peer) = crate::net::peer_id(&target) {
            self.timers
                .set(DISCONNECT_REMOVED_AFTER, Timer::Grace(peer));
        }
        tracing::info!(node = %target.fmt_short(), flotilla = %flotilla.fmt_short(), "boat removed");
        Ok(info)
    }

    fn set_admin(
        &mut self,
        flotilla: &FlotillaId,
        by: Option<&str>,
        user: &str,
        admin: bool,
    ) -> Result<MemberInfo, Error> {
        let acting = self.acting_admin(flotilla, by)?;
        let auth = self.auth(flotilla)?;
        let target = identity::resolve_user(auth, user)?;
        if auth.is_admin(&target) != admin {
            self.publish_built(flotilla, |ctx, _| {
                if admin {
                    ctx.control(
                        &acting,
                        &Control::RoleGrant {
                            user: target,
                            role: Role::Admin,
                        },
                    )
                } else {
                    ctx.revoke_role(&acting, target, Role::Admin)
                }
            })?;
        }
        member_info(self.auth(flotilla)?, &target)
            .ok_or_else(|| Error::NotFound(format!("user `{user}`")))
    }

    fn set_node_admin(&mut self, username: &str, admin: bool) -> Result<LocalUser, Error> {
        self.users.set_admin(username, admin, &self.store)?;
        self.local_user(username)
    }

    /// Publishes `username`'s profile: what `change` leaves out is kept from the ledger.
    fn set_profile(
        &mut self,
        flotilla: FlotillaId,
        username: String,
        change: ProfileChange,
    ) -> Result<MemberInfo, Error> {
        let key = self.acting(&Acting {
            flotilla,
            as_user: username,
        })?;
        let me = key.public();
        let control = {
            let auth = self.auth(&flotilla)?;
            let now = auth
                .users
                .get(&me)
                .ok_or_else(|| Error::NotFound("this user in the flotilla".into()))?;
            profile_control(now, change)?
        };
        self.publish_built(&flotilla, |ctx, _| ctx.control(&key, &control))?;
        member_info(self.auth(&flotilla)?, &me)
            .ok_or_else(|| Error::NotFound("this user in the flotilla".into()))
    }
}

/// The whole [`Control::Profile`] after `change` (trimmed, each field checked).
fn profile_control(now: &UserState, change: ProfileChange) -> Result<Control, Error> {
    use proto::event::{MAX_NAME_CHARS, MAX_POSITION_CHARS};
    let field = |what: &'static str, new: Option<String>, old: &Option<String>, max: usize| {
        let value = new.map_or_else(|| old.clone().unwrap_or_default(), |s| s.trim().to_owned());
        let len = value.chars().count();
        if len > max {
            return Err(Error::Invalid {
                what,
                reason: format!("{len} characters, at most {max}"),
            });
        }
        Ok(value)
    };
    Ok(Control::Profile {
        display_name: field(
            "nickname",
            change.nickname,
            &now.display_name,
            MAX_NAME_CHARS,
        )?,
        full_name: field(
            "full name",
            change.full_name,
            &now.profile.full_name,
            MAX_NAME_CHARS,
        )?,
        position: field(
            "position",
            change.position,
            &now.profile.position,
            MAX_POSITION_CHARS,
        )?,
        picture: change.picture.unwrap_or(now.profile.picture),
    })
}

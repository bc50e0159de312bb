//! Roles and removal ([`MembersCommand`]): promote or demote a flotilla admin, remove a user
//! or a boat, make a local user a node admin; a user's own profile ([`ProfileChange`]). Users and boats are given as the CLI and the
//! API take them (a username, `name@boat`, a key; a boat's name or key), resolved by
//! [`crate::identity`] on the actor.

use flotilla_protocol as proto;
use proto::id::{FileId, FlotillaId};

use super::views::{BoatInfo, MemberInfo};
use super::{Command, LocalUser, NodeHandle, Reply};
use crate::Error;

/// A change to a user's own profile; a field left out (`None`) is kept, an empty string
/// clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileChange {
    /// Nickname.
    pub nickname: Option<String>,
    /// Full name.
    pub full_name: Option<String>,
    /// Position on board.
    pub position: Option<String>,
    /// The picture: `Some(None)` removes it.
    pub picture: Option<Option<FileId>>,
}

/// A roles or removal request to the actor.
#[derive(Debug)]
#[non_exhaustive]
pub enum MembersCommand {
    /// Removes a user from the flotilla (rotating the epoch key).
    RemoveUser {
        /// The flotilla.
        flotilla: FlotillaId,
        /// The local user acting (an admin); `None`: any local admin of the flotilla.
        by: Option<String>,
        /// Username, `name@boat` or key.
        user: String,
        /// The user removed.
        reply: Reply<MemberInfo>,
    },
    /// Removes a boat and its users (rotating the epoch key).
    RemoveNode {
        /// The flotilla.
        flotilla: FlotillaId,
        /// The local user acting (an admin); `None`: any local admin of the flotilla.
        by: Option<String>,
        /// The boat's name or key.
        node: String,
        /// The boat removed.
        reply: Reply<BoatInfo>,
    },
    /// Grants or revokes the flotilla admin role.
    SetAdmin {
        /// The flotilla.
        flotilla: FlotillaId,
        /// The local user acting (an admin); `None`: any local admin of the flotilla.
        by: Option<String>,
        /// Username, `name@boat` or key.
        user: String,
        /// Admin (true) or member.
        admin: bool,
        /// The user, after the change.
        reply: Reply<MemberInfo>,
    },
    /// Publishes a local user's own profile ([`proto::event::Control::Profile`]).
    SetProfile {
        /// The flotilla.
        flotilla: FlotillaId,
        /// The local user, whose key signs.
        username: String,
        /// What changes.
        change: ProfileChange,
        /// The user, after the change.
        reply: Reply<MemberInfo>,
    },
    /// Makes a local user a node admin (`roles system_admin`), or not.
    SetNodeAdmin {
        /// The local username.
        username: String,
        /// Node admin or not.
        admin: bool,
        /// The user, after the change.
        reply: Reply<LocalUser>,
    },
}

impl NodeHandle {
    async fn members_cmd<T>(
        &self,
        make: impl FnOnce(Reply<T>) -> MembersCommand,
    ) -> Result<T, Error> {
        self.ask(|reply| Command::Members(make(reply))).await
    }

    /// Removes `user` (username, `name@boat` or key) from the flotilla, as local admin `by`
    /// (any local admin if `None`), rotating the epoch key.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Invalid`] (ambiguous name), [`Error::Forbidden`] (not an
    /// admin), [`Error::Author`] (the ledger refuses: the last admin), [`Error::ActorGone`].
    pub async fn remove_member(
        &self,
        flotilla: FlotillaId,
        by: Option<&str>,
        user: &str,
    ) -> Result<MemberInfo, Error> {
        let (by, user) = (by.map(str::to_owned), user.to_owned());
        self.members_cmd(|reply| MembersCommand::RemoveUser {
            flotilla,
            by,
            user,
            reply,
        })
        .await
    }

    /// Removes a boat (name or key) and its users from the flotilla, rotating the epoch key.
    ///
    /// # Errors
    /// As [`NodeHandle::remove_member`]; [`Error::Forbidden`] for this node itself.
    pub async fn remove_node(
        &self,
        flotilla: FlotillaId,
        by: Option<&str>,
        node: &str,
    ) -> Result<BoatInfo, Error> {
        let (by, node) = (by.map(str::to_owned), node.to_owned());
        self.members_cmd(|reply| MembersCommand::RemoveNode {
            flotilla,
            by,
            node,
            reply,
        })
        .await
    }

    /// Makes `user` a flotilla admin (`admin`) or a plain member.
    ///
    /// # Errors
    /// As [`NodeHandle::remove_member`].
    pub async fn set_flotilla_admin(
        &self,
        flotilla: FlotillaId,
        by: Option<&str>,
        user: &str,
        admin: bool,
    ) -> Result<MemberInfo, Error> {
        let (by, user) = (by.map(str::to_owned), user.to_owned());
        self.members_cmd(|reply| MembersCommand::SetAdmin {
            flotilla,
            by,
            user,
            admin,
            reply,
        })
        .await
    }

    /// Makes local user `username` a node admin, or not.
    ///
    /// # Errors
    /// [`Error::NotFound`] without such an account, [`Error::Forbidden`] for the last node
    /// admin, [`Error::Store`], [`Error::ActorGone`].
    pub async fn set_node_admin(&self, username: &str, admin: bool) -> Result<LocalUser, Error> {
        let username = username.to_owned();
        self.members_cmd(|reply| MembersCommand::SetNodeAdmin {
            username,
            admin,
            reply,
        })
        .await
    }

    /// Publishes local user `username`'s profile in `flotilla`, signed by its own key.
    ///
    /// # Errors
    /// [`Error::Invalid`] (a field over its limit), [`Error::NotFound`], [`Error::Forbidden`]
    /// (not an active member), [`Error::Author`], [`Error::ActorGone`].
    pub async fn set_profile(
        &self,
        flotilla: FlotillaId,
        username: &str,
        change: ProfileChange,
    ) -> Result<MemberInfo, Error> {
        let username = username.to_owned();
        self.members_cmd(|reply| MembersCommand::SetProfile {
            flotilla,
            username,
            change,
            reply,
        })
        .await
    }
}

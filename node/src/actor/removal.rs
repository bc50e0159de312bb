//! Removing a user or a node from a flotilla (issue 8): the events carry the rotation plan
//! of `protocol::membership::removal` (a new epoch key for the remaining nodes, a new key
//! for every private channel and DM the removed users were in) and the removed keys' cuts.
//! The member-management commands (members.rs) call these.

use flotilla_protocol as proto;
use proto::crypto::{PublicKey, SecretKey};
use proto::id::{EventId, FlotillaId};

use super::Actor;
use crate::Error;

impl Actor {
    /// Removes `user` from `flotilla`, signed by a local admin (or by this node, when the
    /// user is one of its own). Rotates the epoch key and every private channel key the
    /// user held.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown flotilla; [`Error::Forbidden`] without a local
    /// admin; [`Error::Author`] when the ledger refuses it (unknown user, last admin).
    #[allow(dead_code)] // called by the member commands
    pub(crate) fn remove_user(
        &mut self,
        flotilla: FlotillaId,
        user: PublicKey,
    ) -> Result<EventId, Error> {
        let home = self
            .state
            .ledger(&flotilla)
            .ok_or_else(|| Error::NotFound(format!("flotilla {}", flotilla.fmt_short())))?
            .state()
            .users
            .get(&user)
            .map(|u| u.info.home);
        let signer = match self.removal_admin(&flotilla) {
            Some(admin) => Some(admin),
            None if home == Some(self.me) => None, // this node removes one of its users
            None => return Err(Error::Forbidden("no local admin of this flotilla".into())),
        };
        self.publish_built(&flotilla, |ctx, node| {
            ctx.remove_user(signer.as_ref().unwrap_or(node), user)
        })
    }

    /// Removes the node `node` (and its users) from `flotilla`, signed by a local admin.
    /// Rotates the epoch key and every private channel key its users held.
    ///
    /// # Errors
    /// As [`Self::remove_user`]; a node cannot be removed by itself.
    #[allow(dead_code)] // called by the member commands
    pub(crate) fn remove_node(
        &mut self,
        flotilla: FlotillaId,
        node: PublicKey,
    ) -> Result<EventId, Error> {
        let admin = self
            .removal_admin(&flotilla)
            .ok_or_else(|| Error::Forbidden("no local admin of this flotilla".into()))?;
        self.publish_built(&flotilla, |ctx, _| ctx.remove_node(&admin, node))
    }

    /// A local user who is an active admin of `flotilla`.
    fn removal_admin(&self, flotilla: &FlotillaId) -> Option<SecretKey> {
        let auth = self.state.ledger(flotilla)?.state();
        self.users
            .iter()
            .find(|(_, k)| auth.is_admin(&k.public()))
            .map(|(_, k)| k.clone())
    }
}

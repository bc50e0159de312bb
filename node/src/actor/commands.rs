//! Serving [`Command`]s: each arm answers on the command's oneshot.

use flotilla_protocol as proto;
use proto::author::InviteCode;
use proto::event::Control;
use proto::id::{ChannelId, EventId, FlotillaId, InviteId};
use proto::sync::InEvent;
use proto::{Content, SecretKey};

use super::{Actor, now_ms};
use crate::Error;
use crate::handle::{Command, LocalUser};
use crate::store::Account;

impl Actor {
    pub(super) fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::AddUser { username, reply } => {
                let _ = reply.send(self.add_user(&username));
            }
            Command::CreateAccount {
                username,
                password_phc,
                admin,
                reply,
            } => {
                let account = Account {
                    password_phc,
                    admin,
                    deactivated: false,
                };
                let _ = reply.send(self.create_account(&username, account));
            }
            Command::SetPassword {
                username,
                password_phc,
                reply,
            } => {
                let _ = reply.send(
                    self.users
                        .set_password(&username, password_phc, &self.store),
                );
            }
            Command::SetDeactivated {
                username,
                deactivated,
                reply,
            } => {
                let res = self
                    .users
                    .set_deactivated(&username, deactivated, &self.store)
                    .and_then(|()| self.local_user(&username));
                let _ = reply.send(res);
            }
            Command::DeleteAccount { username, reply } => {
                let _ = reply.send(self.delete_account(&username));
            }
            Command::Users { reply } => {
                let _ = reply.send(Ok(self.user_list()));
            }
            Command::RenameFlotilla {
                flotilla,
                name,
                reply,
            } => {
                let _ = reply.send(self.rename_flotilla(&flotilla, name));
            }
            Command::OpenInvites { flotilla, reply } => {
                let _ = reply.send(self.open_invites(&flotilla));
            }
            Command::InviteRevoke {
                invite,
                flotilla,
                reply,
            } => {
                let _ = reply.send(self.revoke_invite(&invite, flotilla));
            }
            Command::CreateFlotilla { name, admin, reply } => {
                let _ = reply.send(self.create_flotilla(&name, &admin));
            }
            Command::Invite {
                flotilla,
                uses,
                expires_ms,
                reply,
            } => {
                let _ = reply.send(self.invite(&flotilla, uses, expires_ms));
            }
            Command::Join { code, via, reply } => self.start_join(code, via, reply),
            Command::CreateChannel {
                flotilla,
                as_user,
                name,
                private,
                reply,
            } => {
                let _ = reply.send(self.create_channel(&flotilla, &as_user, &name, private));
            }
            Command::Post {
                flotilla,
                channel,
                as_user,
                text,
                reply_to,
                reply,
            } => {
                let res = self.admin_post(&flotilla, channel, &as_user, text, reply_to);
                let _ = reply.send(res);
            }
            Command::Messages {
                flotilla,
                channel,
                limit,
                reply,
            } => {
                let _ = reply.send(self.messages(&flotilla, &channel, limit));
            }
            Command::Channels { flotilla, reply } => {
                let _ = reply.send(self.channels(&flotilla));
            }
            Command::Flotillas { reply } => {
                let _ = reply.send(Ok(self.flotilla_list()));
            }
            Command::Status { reply } => {
                let _ = reply.send(Ok(self.status()));
            }
            Command::Peers { reply } => {
                let _ = reply.send(Ok(self.peer_list()));
            }
            Command::Listeners { reply } => {
                let _ = reply.send(Ok(self.listeners.clone()));
            }
            Command::Dial { addr, reply } => {
                let _ = reply.send(self.dial_addr(addr));
            }
            Command::Block { peer, block, reply } => {
                let b = &mut self.swarm.behaviour_mut().block;
                if block {
                    b.block_peer(peer);
                } else {
                    b.unblock_peer(peer);
                }
                let _ = reply.send(Ok(()));
            }
            #[cfg(any(test, feature = "test-utils"))]
            Command::SendRaw { peer, msg, reply } => {
                let req = crate::net::codec::Request::Sync(msg);
                self.swarm.behaviour_mut().sync.send_request(&peer, req);
                let _ = reply.send(Ok(()));
            }
            #[cfg(any(test, feature = "test-utils"))]
            Command::GossipRaw {
                flotilla,
                data,
                reply,
            } => {
                let topic = crate::net::topic(&flotilla);
                let gs = &mut self.swarm.behaviour_mut().gossipsub;
                let _ = gs.subscribe(&topic);
                let _ = gs.publish(topic, data);
                let _ = reply.send(Ok(()));
            }
            #[cfg(any(test, feature = "test-utils"))]
            Command::BulkPost {
                flotilla,
                channel,
                as_user,
                count,
                reply,
            } => {
                let _ = reply.send(self.bulk_post(&flotilla, channel, &as_user, count));
            }
            #[cfg(any(test, feature = "test-utils"))]
            Command::IngestRaw {
                from,
                connect,
                flotilla,
                frames,
                reply,
            } => {
                if connect {
                    self.drive(InEvent::PeerUp(from));
                }
                let msg = proto::wire::PeerMsg::Events {
                    flotilla,
                    events: frames,
                };
                self.on_sync_msg(from, msg);
                let _ = reply.send(Ok(()));
            }
            Command::Chat(cmd) => self.on_chat_command(cmd),
            Command::Members(cmd) => self.on_members_command(cmd),
            Command::Files(cmd) => self.on_file_command(cmd),
            Command::Search(cmd) => self.on_search_command(cmd),
            Command::ImportPost {
                who,
                channel,
                post,
                reply,
            } => {
                let _ = reply.send(self.import_post(&who, channel, post));
            }
            Command::Shutdown { reply } => self.stop_reply = Some(reply),
        }
    }

    fn add_user(&mut self, username: &str) -> Result<proto::PublicKey, Error> {
        self.users
            .get_or_create(username, &self.store, &self.key, &mut self.rng)
    }

    fn create_account(
        &mut self,
        username: &str,
        account: Account,
    ) -> Result<proto::PublicKey, Error> {
        let key =
            self.users
                .create_account(username, account, &self.store, &self.key, &mut self.rng)?;
        let member: Vec<FlotillaId> = self
            .state
            .flotillas()
            .copied()
            .filter(|f| self.is_member(f))
            .collect();
        for flotilla in member {
            if let Err(e) = self.ensure_user(&flotilla, username) {
                tracing::warn!(%e, flotilla = %flotilla.fmt_short(), "cannot add the new user");
            }
        }
        Ok(key)
    }

    /// Adds every local account to `flotilla` (after this node joined it).
    pub(super) fn add_accounts(&mut self, flotilla: &FlotillaId) {
        let names: Vec<String> = self.users.accounts().map(|(n, _)| n.clone()).collect();
        for name in names {
            if let Err(e) = self.ensure_user(flotilla, &name) {
                tracing::warn!(%e, user = %name, "cannot add a local user to the joined flotilla");
            }
        }
    }

    fn user_list(&self) -> Vec<LocalUser> {
        self.users
            .iter()
            .map(|(name, key)| {
                let account = self.users.account(name);
                LocalUser {
                    username: name.clone(),
                    key: key.public(),
                    account: account.is_some(),
                    admin: account.is_some_and(|a| a.admin),
                    deactivated: account.is_some_and(|a| a.deactivated),
                }
            })
            .collect()
    }

    /// Local user `username` as the API lists it.
    pub(super) fn local_user(&self, username: &str) -> Result<LocalUser, Error> {
        self.user_list()
            .into_iter()
            .find(|u| u.username == username)
            .ok_or_else(|| Error::NotFound(format!("user `{username}`")))
    }

    /// `user delete`: removes the user from every flotilla this node is an active member of,
    /// signed by another local admin of it (content up to the removal's cut stays, shown as
    /// a removed author), then forgets the account and its key.
    fn delete_account(&mut self, username: &str) -> Result<(LocalUser, usize), Error> {
        self.users.check_keeps_an_admin(username, "delete")?;
        let user = self.local_user(username)?;
        let key = user.key;
        let flotillas: Vec<FlotillaId> = self
            .state
            .flotillas()
            .copied()
            .filter(|f| self.is_member(f))
            .filter(|f| self.auth(f).is_ok_and(|a| a.is_active_user(&key)))
            .collect();
        for flotilla in &flotillas {
            let auth = self.auth(flotilla)?;
            let admin = self
                .users
                .iter()
                .find(|(n, k)| n.as_str() != username && auth.is_admin(&k.public()))
                .map(|(_, k)| k.clone())
                .ok_or_else(|| {
                    Error::Forbidden(format!(
                        "cannot delete `{username}`: no other local user is an admin of flotilla {} to \
                         remove it, make one first",
                        flotilla.fmt_short()
                    ))
                })?;
            self.publish_built(flotilla, |ctx, _| ctx.remove_user(&admin, key))?;
        }
        self.users.remove(username, &self.store)?;
        tracing::info!(user = %username, flotillas = flotillas.len(), "account deleted");
        Ok((user, flotillas.len()))
    }

    pub(super) fn user(&self, username: &str) -> Result<SecretKey, Error> {
        self.users
            .get(username)
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("user `{username}`")))
    }

    fn create_flotilla(&mut self, name: &str, admin: &str) -> Result<FlotillaId, Error> {
        self.add_user(admin)?;
        let admin_key = self.user(admin)?;
        let node_name = self.name.clone();
        let (flotilla, outs) = self
            .state
            .found(&node_name, &admin_key, admin, name, now_ms())?;
        let genesis = self
            .state
            .ledger(&flotilla)
            .map(|l| l.genesis())
            .ok_or_else(|| Error::NotFound("the founded flotilla".into()))?;
        self.store.set_genesis(&flotilla, &genesis)?;
        self.follow_topic(flotilla);
        self.execute(outs);
        tracing::info!(flotilla = %flotilla.fmt_short(), "flotilla founded");
        Ok(flotilla)
    }

    /// Builds an event with the flotilla's context and publishes it; `Ok` once stored.
    pub(super) fn publish_built(
        &mut self,
        flotilla: &FlotillaId,
        build: impl FnOnce(
            &mut proto::author::Ctx<'_, super::OsEntropy>,
            &SecretKey,
        ) -> Result<proto::SignedEvent, proto::author::AuthorError>,
    ) -> Result<EventId, Error> {
        let event = self
            .state
            .with_ctx(flotilla, now_ms(), build)
            .ok_or_else(|| Error::NotFound(format!("flotilla {}", flotilla.fmt_short())))??;
        let id = event.id();
        self.drive(InEvent::Publish(event));
        if proto::store::Store::contains(&self.store, &id)? {
            Ok(id)
        } else {
            Err(Error::NotFound(format!(
                "event {} was not stored",
                id.fmt_short()
            )))
        }
    }

    /// Makes sure local user `username` is a user of the flotilla (a `UserAdd` signed by
    /// this node), and returns its key.
    pub(super) fn ensure_user(
        &mut self,
        flotilla: &FlotillaId,
        username: &str,
    ) -> Result<SecretKey, Error> {
        let user = self.user(username)?;
        let known = self
            .state
            .ledger(flotilla)
            .is_some_and(|l| l.state().users.contains_key(&user.public()));
        if !known {
            let u = user.clone();
            self.publish_built(flotilla, |ctx, key| ctx.add_user(key, &u, username))?;
        }
        Ok(user)
    }

    fn invite(
        &mut self,
        flotilla: &FlotillaId,
        uses: Option<u32>,
        expires_ms: Option<u64>,
    ) -> Result<InviteCode, Error> {
        let admin = self.local_admin(flotilla)?;
        let mut code = None;
        // Invites expire and have a use count unless the caller says otherwise.
        let uses = uses.or(Some(proto::author::DEFAULT_INVITE_USES));
        let expires_ms = expires_ms.or(Some(now_ms() + proto::author::DEFAULT_INVITE_TTL_MS));
        self.publish_built(flotilla, |ctx, _| {
            let (event, c) = ctx.invite(&admin, expires_ms, uses)?;
            code = Some(c);
            Ok(event)
        })?;
        code.ok_or_else(|| Error::NotFound("invite".into()))
    }

    /// A local user who is an admin of `flotilla`.
    pub(super) fn local_admin(&self, flotilla: &FlotillaId) -> Result<SecretKey, Error> {
        let auth = self
            .state
            .ledger(flotilla)
            .ok_or_else(|| Error::NotFound(format!("flotilla {}", flotilla.fmt_short())))?
            .state();
        self.users
            .iter()
            .find(|(_, k)| auth.is_admin(&k.public()))
            .map(|(_, k)| k.clone())
            .ok_or_else(|| Error::NotFound("a local admin of this flotilla".into()))
    }

    fn rename_flotilla(&mut self, flotilla: &FlotillaId, name: String) -> Result<(), Error> {
        let admin = self.local_admin(flotilla)?;
        let control = Control::FlotillaRename { name };
        self.publish_built(flotilla, |ctx, _| ctx.control(&admin, &control))?;
        Ok(())
    }

    fn open_invites(&self, flotilla: &FlotillaId) -> Result<Vec<InviteId>, Error> {
        let auth = self
            .state
            .ledger(flotilla)
            .ok_or_else(|| Error::NotFound(format!("flotilla {}", flotilla.fmt_short())))?
            .state();
        let now = now_ms();
        Ok(auth
            .invites
            .iter()
            .filter(|(_, i)| {
                !i.revoked
                    && i.expires_ms.is_none_or(|e| e > now)
                    && i.max_uses.is_none_or(|m| i.uses < m)
            })
            .map(|(id, _)| *id)
            .collect())
    }

    fn revoke_invite(
        &mut self,
        invite: &InviteId,
        flotilla: Option<FlotillaId>,
    ) -> Result<FlotillaId, Error> {
        let has = |f: &FlotillaId| {
            self.state
                .ledger(f)
                .is_some_and(|l| l.state().invites.contains_key(invite))
        };
        let flotilla = match flotilla {
            Some(f) => Some(f).filter(has),
            None => self.state.flotillas().copied().find(has),
        }
        .ok_or_else(|| Error::NotFound(format!("invite {invite}")))?;
        let admin = self.local_admin(&flotilla)?;
        let control = Control::InviteRevoke { invite: *invite };
        self.publish_built(&flotilla, |ctx, _| ctx.control(&admin, &control))?;
        tracing::info!(invite = %invite.fmt_short(), "invite revoked");
        Ok(flotilla)
    }

    /// A reply's root must be a stored event of the same flotilla and channel.
    fn check_root(
        &self,
        flotilla: &FlotillaId,
        channel: &ChannelId,
        root: Option<EventId>,
    ) -> Result<(), Error> {
        let Some(root) = root else {
            return Ok(());
        };
        let event = proto::store::Store::get(&self.store, &root)?;
        match event {
            Some(e) if e.envelope().flotilla == *flotilla && e.envelope().channel == *channel => {
                Ok(())
            }
            _ => Err(Error::NotFound(format!("post {root} in this channel"))),
        }
    }

    fn create_channel(
        &mut self,
        flotilla: &FlotillaId,
        as_user: &str,
        name: &str,
        private: bool,
    ) -> Result<ChannelId, Error> {
        let user = self.ensure_user(flotilla, as_user)?;
        let info = Content::ChannelInfo {
            name: name.to_owned(),
            header: String::new(),
            purpose: String::new(),
        };
        self.new_channel(flotilla, &user, private, &[], &info)
    }

    /// See [`Command::BulkPost`].
    #[cfg(any(test, feature = "test-utils"))]
    fn bulk_post(
        &mut self,
        flotilla: &FlotillaId,
        channel: ChannelId,
        as_user: &str,
        count: usize,
    ) -> Result<usize, Error> {
        const BATCH: usize = 1000;
        let user = self.ensure_user(flotilla, as_user)?;
        let mut batch = Vec::with_capacity(BATCH);
        let mut written = 0;
        for i in 0..count {
            let content = Self::post_content(format!("bulk {i}"), None);
            let event = self
                .state
                .with_ctx(flotilla, now_ms(), |ctx, _| {
                    ctx.content(&user, channel, &content)
                })
                .ok_or_else(|| Error::NotFound(format!("flotilla {}", flotilla.fmt_short())))??;
            batch.push(event);
            if batch.len() == BATCH || i + 1 == count {
                written += proto::store::Store::insert_many(&mut self.store, &batch)?;
                batch.clear();
            }
        }
        // The cached chat fold and sync sets did not see these: read again on next use.
        self.drop_fold(flotilla);
        self.state.store_written(flotilla);
        Ok(written)
    }

    /// A post through the admin API (`Command::Post`).
    pub(super) fn admin_post(
        &mut self,
        flotilla: &FlotillaId,
        channel: ChannelId,
        as_user: &str,
        text: String,
        reply_to: Option<EventId>,
    ) -> Result<EventId, Error> {
        if self.users.account(as_user).is_some_and(|a| a.deactivated) {
            return Err(Error::Forbidden(format!(
                "`{as_user}` is deactivated: `flotilla user activate {as_user}` first"
            )));
        }
        self.check_root(flotilla, &channel, reply_to)?;
        self.refresh_fold(flotilla)?;
        let archived = self
            .fold_of(flotilla)?
            .chat
            .channel_fields(self.auth(flotilla)?, &channel)
            .is_some_and(|v| v.archived);
        if archived {
            return Err(Error::Forbidden(
                "the channel is archived: `flotilla channel unarchive` it first".into(),
            ));
        }
        let content = Self::post_content(text, reply_to);
        self.write_content(flotilla, channel, as_user, &content)
    }

    pub(super) fn write_content(
        &mut self,
        flotilla: &FlotillaId,
        channel: ChannelId,
        as_user: &str,
        content: &Content,
    ) -> Result<EventId, Error> {
        let user = self.ensure_user(flotilla, as_user)?;
        self.publish_built(flotilla, |ctx, _| ctx.content(&user, channel, content))
    }
}

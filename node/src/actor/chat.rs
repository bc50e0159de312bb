//! Reading chat state from the cached fold ([`super::cache`]): who may read what, and the
//! read queries of the chat API (channels, pages of posts, threads, pins, unread counts,
//! members, boats, files). Every query costs O(what it returns), never O(channel).

use std::path::PathBuf;

use flotilla_protocol as proto;
use proto::fold::Cursor;
use proto::hlc::Hlc;
use proto::id::{ChannelId, EventId, FileId, FlotillaId};
use proto::membership::{AuthState, ChannelAuth};
use proto::{PublicKey, SecretKey};

use super::Actor;
use super::views::{kind_of, post_view};
use crate::Error;
use crate::handle::views::{
    BoatInfo, ChannelKind, ChannelView, FileInfo, LiveView, MemberInfo, PostPage, PostView,
    UnreadCounts,
};
use crate::handle::{Acting, ChannelInfo, FlotillaInfo, Message};

pub(crate) use super::views::username;

/// A read marker stored as an HLC is the position after every post at that HLC.
fn after_marker(hlc: Hlc) -> Cursor {
    Cursor {
        hlc,
        id: EventId([0xff; 32]),
    }
}

impl Actor {
    pub(super) fn not_followed(flotilla: &FlotillaId) -> Error {
        Error::NotFound(format!("flotilla {}", flotilla.fmt_short()))
    }

    pub(super) fn auth(&self, flotilla: &FlotillaId) -> Result<&AuthState, Error> {
        Ok(self
            .state
            .ledger(flotilla)
            .ok_or_else(|| Self::not_followed(flotilla))?
            .state())
    }

    /// The acting user's key: a local user (else `NotFound`), added to the flotilla if it is
    /// not in it yet, active (else `Forbidden`). Also makes the flotilla's fold fresh.
    pub(super) fn acting(&mut self, who: &Acting) -> Result<SecretKey, Error> {
        let key = self.acting_member(who)?;
        self.refresh_fold(&who.flotilla)?;
        Ok(key)
    }

    /// [`Self::acting`] for a view of one channel: only that channel of the fold is made
    /// fresh (the first view after a start reads that channel, not the flotilla).
    pub(super) fn acting_in(
        &mut self,
        who: &Acting,
        channel: &ChannelId,
    ) -> Result<SecretKey, Error> {
        let key = self.acting_member(who)?;
        self.refresh_channel(&who.flotilla, channel)?;
        Ok(key)
    }

    /// The acting user's key, checked as [`Self::acting`] says, the fold left as it is.
    fn acting_member(&mut self, who: &Acting) -> Result<SecretKey, Error> {
        let key = self.user(&who.as_user)?;
        let pk = key.public();
        if !self.auth(&who.flotilla)?.users.contains_key(&pk) {
            self.ensure_user(&who.flotilla, &who.as_user)?;
        }
        if !self.auth(&who.flotilla)?.is_active_user(&pk) {
            return Err(Error::Forbidden(format!(
                "`{}` is not an active member of this flotilla",
                who.as_user
            )));
        }
        Ok(key)
    }

    /// The channel, if `user` may read it (public, or a private channel the user is in).
    pub(super) fn readable(
        &self,
        flotilla: &FlotillaId,
        channel: &ChannelId,
        user: &PublicKey,
    ) -> Result<&ChannelAuth, Error> {
        let c = self
            .auth(flotilla)?
            .channels
            .get(channel)
            .ok_or_else(|| Error::NotFound(format!("channel {}", channel.fmt_short())))?;
        if c.private && !c.members.contains(user) {
            return Err(Error::Forbidden("a private channel you are not in".into()));
        }
        Ok(c)
    }

    /// The channel, if `user` may write to it: readable and not archived.
    pub(super) fn writable(
        &self,
        flotilla: &FlotillaId,
        channel: &ChannelId,
        user: &PublicKey,
    ) -> Result<&ChannelAuth, Error> {
        let c = self.readable(flotilla, channel, user)?;
        let auth = self.auth(flotilla)?;
        let archived = self
            .fold_of(flotilla)?
            .chat
            .channel_fields(auth, channel)
            .is_some_and(|v| v.archived);
        if archived {
            return Err(Error::Forbidden("the channel is archived".into()));
        }
        Ok(c)
    }

    fn marker(
        &self,
        user: &PublicKey,
        flotilla: &FlotillaId,
        channel: &ChannelId,
    ) -> Result<Option<Cursor>, Error> {
        Ok(self
            .store
            .read_marker(user, flotilla, channel)?
            .map(after_marker))
    }

    pub(super) fn unread_of(
        &self,
        flotilla: &FlotillaId,
        channel: &ChannelId,
        user: &PublicKey,
    ) -> Result<UnreadCounts, Error> {
        let auth = self.auth(flotilla)?;
        let folded = self.fold_of(flotilla)?;
        let c = self.readable(flotilla, channel, user)?;
        let dm = kind_of(folded, auth, channel, c) == ChannelKind::Dm;
        let after = self.marker(user, flotilla, channel)?;
        Ok(folded
            .unread
            .borrow_mut()
            .get_or_count(&folded.chat, auth, channel, after, user, dm))
    }

    /// One channel as `user` sees it (the fold must be fresh).
    pub(super) fn channel_view_of(
        &self,
        flotilla: &FlotillaId,
        channel: &ChannelId,
        user: &PublicKey,
    ) -> Result<ChannelView, Error> {
        let auth = self.auth(flotilla)?;
        let folded = self.fold_of(flotilla)?;
        let c = self.readable(flotilla, channel, user)?;
        let kind = kind_of(folded, auth, channel, c);
        let fields = folded
            .chat
            .channel_fields(auth, channel)
            .unwrap_or_default();
        let members = if c.private {
            c.members.iter().map(|m| username(auth, m)).collect()
        } else {
            Vec::new()
        };
        let unread = self.unread_of(flotilla, channel, user)?;
        Ok(ChannelView {
            id: *channel,
            flotilla: *flotilla,
            name: fields.name,
            display_name: fields.display_name,
            kind,
            header: fields.header,
            purpose: fields.purpose,
            archived: fields.archived,
            creator: username(auth, &c.creator),
            members,
            member: c.members.contains(user) || is_default(flotilla, channel),
            unread: unread.unread,
            mentions: unread.mentions,
            last_post_at: folded.chat.newest(auth, channel).map(|c| c.hlc.ms),
        })
    }

    pub(super) fn channels_for(&mut self, who: &Acting) -> Result<Vec<ChannelView>, Error> {
        let me = self.acting(who)?.public();
        let ids: Vec<ChannelId> = self.auth(&who.flotilla)?.channels.keys().copied().collect();
        Ok(ids
            .iter()
            .filter_map(|c| self.channel_view_of(&who.flotilla, c, &me).ok())
            .collect())
    }

    pub(super) fn channel_view(
        &mut self,
        who: &Acting,
        channel: &ChannelId,
    ) -> Result<ChannelView, Error> {
        let me = self.acting(who)?.public();
        self.channel_view_of(&who.flotilla, channel, &me)
    }

    pub(super) fn posts_page(
        &mut self,
        who: &Acting,
        channel: &ChannelId,
        before: Option<Cursor>,
        limit: usize,
    ) -> Result<PostPage, Error> {
        let me = self.acting_in(who, channel)?.public();
        self.readable(&who.flotilla, channel, &me)?;
        let auth = self.auth(&who.flotilla)?;
        let folded = self.fold_of(&who.flotilla)?;
        let page = folded.chat.roots_page(auth, channel, before, limit);
        let mut posts: Vec<PostView> = page
            .posts
            .into_iter()
            .filter(|v| !hidden(auth, v, &me))
            .map(|v| post_view(auth, folded, v, &me, &self.lora_marks))
            .collect();
        posts.reverse();
        Ok(PostPage {
            posts,
            next: page.next,
        })
    }

    /// A visible post `user` may read (the fold must be fresh).
    pub(super) fn post_of(
        &self,
        flotilla: &FlotillaId,
        post: &EventId,
        user: &PublicKey,
    ) -> Result<PostView, Error> {
        let auth = self.auth(flotilla)?;
        let folded = self.fold_of(flotilla)?;
        let view = folded
            .chat
            .post(auth, post)
            .filter(|v| !hidden(auth, v, user))
            .ok_or_else(|| Error::NotFound(format!("post {}", post.fmt_short())))?;
        self.readable(flotilla, &view.channel, user)?;
        Ok(post_view(auth, folded, view, user, &self.lora_marks))
    }

    /// `post` as each reader who may read it sees it, with their unread counts.
    pub(super) fn live_post(
        &mut self,
        flotilla: FlotillaId,
        post: &EventId,
        readers: &[String],
    ) -> Vec<LiveView> {
        let mut out = Vec::with_capacity(readers.len());
        for user in readers {
            let who = Acting {
                flotilla,
                as_user: user.clone(),
            };
            let Ok(me) = self.acting(&who).map(|k| k.public()) else {
                continue;
            };
            let Ok(view) = self.post_of(&flotilla, post, &me) else {
                continue;
            };
            if let Ok(unread) = self.unread_of(&flotilla, &view.channel, &me) {
                out.push(LiveView {
                    user: who.as_user,
                    post: view,
                    unread,
                });
            }
        }
        out
    }

    pub(super) fn post(&mut self, who: &Acting, post: &EventId) -> Result<PostView, Error> {
        let me = self.acting(who)?.public();
        self.post_of(&who.flotilla, post, &me)
    }

    pub(super) fn thread(
        &mut self,
        who: &Acting,
        post: &EventId,
    ) -> Result<(PostView, Vec<PostView>), Error> {
        let me = self.acting(who)?.public();
        let folded = self.fold_of(&who.flotilla)?;
        let root_id = folded.chat.root_of(post).unwrap_or(*post);
        let root = self.post_of(&who.flotilla, &root_id, &me)?;
        let auth = self.auth(&who.flotilla)?;
        let replies = folded
            .chat
            .thread(auth, &root_id)
            .into_iter()
            .filter(|v| v.id != root_id && !hidden(auth, v, &me))
            .map(|v| post_view(auth, folded, v, &me, &self.lora_marks))
            .collect();
        Ok((root, replies))
    }

    pub(super) fn pins(
        &mut self,
        who: &Acting,
        channel: &ChannelId,
    ) -> Result<Vec<PostView>, Error> {
        let me = self.acting(who)?.public();
        self.readable(&who.flotilla, channel, &me)?;
        let auth = self.auth(&who.flotilla)?;
        let folded = self.fold_of(&who.flotilla)?;
        Ok(folded
            .chat
            .pins(auth, channel)
            .into_iter()
            .filter(|v| !hidden(auth, v, &me))
            .map(|v| post_view(auth, folded, v, &me, &self.lora_marks))
            .collect())
    }

    pub(super) fn unread(
        &mut self,
        who: &Acting,
        channel: &ChannelId,
    ) -> Result<UnreadCounts, Error> {
        let me = self.acting(who)?.public();
        self.unread_of(&who.flotilla, channel, &me)
    }

    pub(super) fn members(&self, flotilla: &FlotillaId) -> Result<Vec<MemberInfo>, Error> {
        let auth = self.auth(flotilla)?;
        Ok(auth
            .users
            .keys()
            .filter(|k| auth.is_active_user(k))
            .filter_map(|k| super::members::member_info(auth, k))
            .collect())
    }

    pub(super) fn boats(&self, flotilla: &FlotillaId) -> Result<Vec<BoatInfo>, Error> {
        let auth = self.auth(flotilla)?;
        let now = super::now_ms();
        Ok(auth
            .active_nodes()
            .into_iter()
            .map(|n| {
                let peer = crate::net::peer_id(&n.key).and_then(|p| self.peers.get(&p));
                let connected = peer.is_some_and(|p| p.connections > 0);
                let me = n.key == self.me;
                let heard = self.lora_marks.heard_recently(&n.key, now);
                BoatInfo {
                    key: n.key,
                    name: n.name.clone(),
                    me,
                    connected,
                    last_seen_ms: peer.map(|p| p.last_seen_ms).filter(|ms| *ms > 0),
                    lora_only: !me && !connected && heard.is_some(),
                    lora_hops: heard.map(|h| h.hops),
                }
            })
            .collect())
    }

    pub(super) fn is_admin(&self, who: &Acting) -> Result<bool, Error> {
        let key = self.user(&who.as_user)?.public();
        Ok(self.auth(&who.flotilla)?.is_admin(&key))
    }

    pub(super) fn file(
        &mut self,
        who: &Acting,
        file: &FileId,
    ) -> Result<(FileInfo, PathBuf), Error> {
        let me = self.acting(who)?.public();
        let (channel, info) = self
            .fold_of(&who.flotilla)?
            .files
            .get(file)
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("file {}", file.fmt_short())))?;
        self.readable(&who.flotilla, &channel, &me)?;
        let path = crate::files::path_of(&self.files.dir, file);
        if !path.is_file() {
            return Err(Error::NotFound(format!(
                "the bytes of file {} are not on this boat",
                file.fmt_short()
            )));
        }
        Ok((info, path))
    }

    /// The newest `limit` posts and replies of a channel, oldest first (the admin API).
    pub(super) fn messages(
        &mut self,
        flotilla: &FlotillaId,
        channel: &ChannelId,
        limit: usize,
    ) -> Result<Vec<Message>, Error> {
        self.refresh_fold(flotilla)?;
        let auth = self.auth(flotilla)?;
        let timeline = self.fold_of(flotilla)?.chat.timeline(auth, channel);
        let skip = timeline.len().saturating_sub(limit);
        Ok(timeline
            .into_iter()
            .skip(skip)
            .map(|p| Message {
                id: p.id,
                channel: p.channel,
                author: username(auth, &p.author),
                author_deleted: super::views::author_deleted(auth, &p.author),
                text: p.text,
                root_id: p.root,
                created_at: p.hlc.ms,
            })
            .collect())
    }

    pub(super) fn channels(&mut self, flotilla: &FlotillaId) -> Result<Vec<ChannelInfo>, Error> {
        self.refresh_fold(flotilla)?;
        let auth = self.auth(flotilla)?;
        let chat = &self.fold_of(flotilla)?.chat;
        Ok(auth
            .channels
            .iter()
            .map(|(id, c)| ChannelInfo {
                id: *id,
                name: chat
                    .channel_fields(auth, id)
                    .map(|v| v.name)
                    .unwrap_or_default(),
                private: c.private,
            })
            .collect())
    }

    pub(super) fn flotilla_list(&self) -> Vec<FlotillaInfo> {
        self.state
            .flotillas()
            .filter_map(|f| {
                let ledger = self.state.ledger(f)?;
                let auth = ledger.state();
                Some(FlotillaInfo {
                    id: *f,
                    genesis: ledger.genesis(),
                    name: auth.name.clone(),
                    member: auth.is_active_node(&self.me),
                    nodes: auth.active_nodes().len(),
                    events: self.event_count(f),
                })
            })
            .collect()
    }

    /// The node's figures for `flotilla status`: O(flotillas + channels + peers).
    pub(super) fn status(&self) -> crate::status::NodeStatus {
        let connected: std::collections::HashSet<proto::PublicKey> = self
            .peers
            .iter()
            .filter(|(_, p)| p.connections > 0)
            .filter_map(|(peer, _)| crate::net::node_key(peer))
            .collect();
        let flotillas = self
            .state
            .flotillas()
            .filter_map(|f| {
                let ledger = self.state.ledger(f)?;
                let auth = ledger.state();
                let boats = auth.active_nodes();
                Some(crate::status::FlotillaStatus {
                    id: *f,
                    name: auth.name.clone(),
                    member: auth.is_active_node(&self.me),
                    events: self.event_count(f),
                    channels: auth.channels.len(),
                    members: auth.users.keys().filter(|k| auth.is_active_user(k)).count(),
                    boats: boats.len(),
                    boats_connected: boats
                        .iter()
                        .filter(|n| n.key != self.me && connected.contains(&n.key))
                        .count(),
                })
            })
            .collect();
        let now = super::now_ms();
        crate::status::NodeStatus {
            node: self.me,
            name: self.name.clone(),
            ingest_rate: self.ingest.rate(now),
            ingested: self.ingest.total(),
            store_bytes: self.store.size_on_disk(),
            peers_connected: connected.len(),
            flotillas,
        }
    }

    /// Events of `flotilla` this node syncs: the stored count minus the revoked, O(1).
    fn event_count(&self, flotilla: &FlotillaId) -> usize {
        let stored = self.store.flotilla_event_count(flotilla).unwrap_or(0);
        let stored = usize::try_from(stored).unwrap_or(usize::MAX);
        stored.saturating_sub(self.state.revoked_len(flotilla))
    }

    /// A post with no files or mentions (the admin API's posts).
    pub(super) fn post_content(text: String, root: Option<proto::EventId>) -> proto::Content {
        proto::Content::Post {
            text,
            root,
            files: vec![],
            mentions: vec![],
        }
    }
}

/// The default channels (`town-square`, `off-topic`) count as joined by every member.
/// Is `post` in the private history of a channel now public, which `user` was not in
/// ([`proto::membership::ChannelAuth::hides`])?
pub(super) fn hidden(auth: &AuthState, post: &proto::fold::PostView, user: &PublicKey) -> bool {
    auth.channels
        .get(&post.channel)
        .is_some_and(|c| c.hides(user, post.hlc))
}

pub(super) fn is_default(flotilla: &FlotillaId, channel: &ChannelId) -> bool {
    proto::author::DEFAULT_CHANNELS
        .iter()
        .any(|n| ChannelId::derived(flotilla, n) == *channel)
}

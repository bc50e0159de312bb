//! Shaping the fold's views into the API's view types ([`crate::handle::views`]): usernames
//! for keys, file infos for file ids, `me` flags for the user asking.

use flotilla_protocol as proto;
use proto::PublicKey;
use proto::fold::{self, Cursor};
use proto::id::ChannelId;
use proto::membership::{AuthState, ChannelAuth};

use super::cache::Folded;
use crate::handle::views::{ChannelKind, DM_NAME, FileInfo, MovedTo, PostView, Reaction};

/// How a key is shown: its username, else its node's name, else a short key.
pub(crate) fn username(auth: &AuthState, key: &PublicKey) -> String {
    if let Some(u) = auth.users.get(key) {
        return u.info.username.clone();
    }
    if let Some(n) = auth.nodes.get(key) {
        return n.info.name.clone();
    }
    key.fmt_short()
}

/// Was `key` a user who is removed now (`member remove`, `user delete`)? Their posts stay,
/// shown as a deleted user's.
pub(crate) fn author_deleted(auth: &AuthState, key: &PublicKey) -> bool {
    auth.users.get(key).is_some_and(|u| u.removed.is_some())
}

/// A post as `me` sees it.
pub(super) fn post_view(
    auth: &AuthState,
    folded: &Folded,
    v: fold::PostView,
    me: &PublicKey,
    marks: &crate::lora::marks::Marks,
) -> PostView {
    let reactions = v
        .reactions
        .iter()
        .map(|(emoji, users)| Reaction {
            emoji: emoji.clone(),
            users: users.iter().map(|u| username(auth, u)).collect(),
            me: users.contains(me),
        })
        .collect();
    let files = v
        .files
        .iter()
        .map(|id| {
            folded
                .files
                .get(id)
                .map(|(_, info)| info.clone())
                .unwrap_or_else(|| FileInfo {
                    id: *id,
                    name: String::new(),
                    size: 0,
                    mime: "application/octet-stream".into(),
                    state: crate::files::FileState::default(),
                })
        })
        .collect();
    PostView {
        id: v.id,
        channel: v.channel,
        author: username(auth, &v.author),
        author_deleted: author_deleted(auth, &v.author),
        author_key: v.author,
        mentions_me: proto::mention::mentions(&v.text, &v.mentions, me),
        text: v.text,
        root_id: v.root,
        created_at: v.hlc.ms,
        edited: v.edited,
        reply_count: u32::try_from(v.reply_count).unwrap_or(u32::MAX),
        pinned: v.pinned,
        reactions,
        files,
        mentions: v.mentions,
        cursor: Cursor {
            hlc: v.hlc,
            id: v.id,
        },
        lora: marks.get(&v.id),
        moved_to: v.moved_to.map(|(channel, root)| MovedTo {
            channel,
            name: folded
                .chat
                .channel_fields(auth, &channel)
                .map(|c| c.name)
                .unwrap_or_default(),
            root,
        }),
        moved_by: v.moved_by.map(|k| username(auth, &k)),
    }
}

/// Public, private or DM (a private channel named [`DM_NAME`]).
pub(super) fn kind_of(
    folded: &Folded,
    auth: &AuthState,
    id: &ChannelId,
    c: &ChannelAuth,
) -> ChannelKind {
    if !c.private {
        return ChannelKind::Public;
    }
    let name = folded.chat.channel_fields(auth, id).map(|v| v.name);
    if name.as_deref() == Some(DM_NAME) {
        ChannelKind::Dm
    } else {
        ChannelKind::Private
    }
}

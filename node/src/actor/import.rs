//! The actor's half of a bulk import ([`crate::import`]): one imported post, written once.
//!
//! A post is known by its channel, author, original time, thread root and text (Mattermost's
//! own unique key for posts and replies). The keys of a flotilla's posts are read from its
//! fold the first time an import touches it ([`Seen`](crate::import::Seen)), then kept up to
//! date as posts are written, so a second import of the same file writes nothing.

use flotilla_protocol as proto;
use proto::Content;
use proto::id::{ChannelId, EventId, FlotillaId};

use super::Actor;
use crate::Error;
use crate::handle::Acting;
use crate::handle::views::PostView;
use crate::import::{NewPost, PostKey};

impl Actor {
    pub(super) fn import_post(
        &mut self,
        who: &Acting,
        channel: ChannelId,
        post: NewPost,
    ) -> Result<(PostView, bool), Error> {
        let me = self.acting(who)?.public();
        self.index_imported(&who.flotilla)?;
        let key = PostKey::new(channel, me, post.created_ms, post.root, &post.text);
        if let Some(id) = self.imported.get(&who.flotilla, &key) {
            return Ok((self.post_of(&who.flotilla, &id, &me)?, false));
        }
        crate::import::check_text(&post.text)?;
        self.writable(&who.flotilla, &channel, &me)?;
        if let Some(root) = post.root {
            self.check_import_root(&who.flotilla, &channel, &root)?;
        }
        let content = Content::ImportedPost {
            text: post.text,
            root: post.root,
            files: post.files,
            created_ms: post.created_ms,
        };
        let id = self.write_content(&who.flotilla, channel, &who.as_user, &content)?;
        self.refresh_fold(&who.flotilla)?;
        self.imported.insert(who.flotilla, key, id);
        Ok((self.post_of(&who.flotilla, &id, &me)?, true))
    }

    /// Reads the keys of a flotilla's posts from its fold, once.
    fn index_imported(&mut self, flotilla: &FlotillaId) -> Result<(), Error> {
        if self.imported.has(flotilla) {
            return Ok(());
        }
        self.refresh_fold(flotilla)?;
        let auth = self.auth(flotilla)?;
        let chat = &self.fold_of(flotilla)?.chat;
        let keys = auth
            .channels
            .keys()
            .flat_map(|c| chat.timeline(auth, c))
            .map(|p| {
                let key = PostKey::new(p.channel, p.author, p.hlc.ms, p.root, &p.text);
                (key, p.id)
            })
            .collect();
        self.imported.set(*flotilla, keys);
        Ok(())
    }

    fn check_import_root(
        &self,
        flotilla: &FlotillaId,
        channel: &ChannelId,
        root: &EventId,
    ) -> Result<(), Error> {
        let chat = &self.fold_of(flotilla)?.chat;
        match chat.channel_of(root) {
            Some(c) if c == *channel && chat.root_of(root).is_none() => Ok(()),
            _ => Err(Error::NotFound(format!(
                "thread root {} in this channel",
                root.fmt_short()
            ))),
        }
    }
}

//! Writing posts: create, edit, delete, react, pin, read markers, and publishing the
//! manifest of a stored file. Each checks the user's right first (typed errors), then writes
//! one content event; the cached fold takes it in as it is accepted.

use flotilla_protocol as proto;
use proto::event::{MAX_POST_CHARS, MAX_REFS};
use proto::id::{ChannelId, EventId, FileId, FlotillaId};
use proto::{Content, PublicKey};

use super::Actor;
use crate::Error;
use crate::files::StoredFile;
use crate::handle::views::{FileInfo, FileTarget, PostView};
use crate::handle::{Acting, Event};

/// The longest emoji shortcode.
pub(crate) const MAX_EMOJI_CHARS: usize = 32;

/// Checks a post text: at most [`MAX_POST_CHARS`] characters, not blank unless files are
/// attached.
fn check_text(text: &str, has_files: bool) -> Result<(), Error> {
    let len = text.chars().count();
    let reason = if len > MAX_POST_CHARS {
        format!("{len} characters, more than the {MAX_POST_CHARS} allowed")
    } else if text.trim().is_empty() && !has_files {
        "empty".to_owned()
    } else {
        return Ok(());
    };
    Err(Error::Invalid {
        what: "text",
        reason,
    })
}

/// Checks an emoji shortcode: `[a-z0-9_+-]{1,32}`.
pub(crate) fn check_emoji(emoji: &str) -> Result<(), Error> {
    let ok = (1..=MAX_EMOJI_CHARS).contains(&emoji.len())
        && emoji
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_+-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid {
            what: "emoji",
            reason: format!("`{emoji}` is not a shortcode like thumbsup"),
        })
    }
}

impl Actor {
    /// The keys of the active users named by `@username` (or `@name@boat`) in `text`.
    fn mentioned_keys(&self, flotilla: &FlotillaId, text: &str) -> Result<Vec<PublicKey>, Error> {
        Ok(crate::identity::mentioned(
            self.auth(flotilla)?,
            text,
            MAX_REFS,
        ))
    }

    /// The thread a reply joins: the root of `root` if `root` is itself a reply, which must
    /// be a visible post of the same channel.
    fn thread_root(
        &self,
        flotilla: &FlotillaId,
        channel: &ChannelId,
        root: EventId,
    ) -> Result<EventId, Error> {
        let auth = self.auth(flotilla)?;
        let chat = &self.fold_of(flotilla)?.chat;
        let root = chat.root_of(&root).unwrap_or(root);
        match chat.post(auth, &root) {
            Some(p) if p.channel == *channel => Ok(root),
            _ => Err(Error::NotFound(format!(
                "post {} in this channel",
                root.fmt_short()
            ))),
        }
    }

    fn check_files(
        &self,
        flotilla: &FlotillaId,
        channel: &ChannelId,
        files: &[FileId],
    ) -> Result<(), Error> {
        if files.len() > MAX_REFS {
            return Err(Error::Invalid {
                what: "files",
                reason: format!("at most {MAX_REFS}"),
            });
        }
        let known = &self.fold_of(flotilla)?.files;
        match files
            .iter()
            .find(|f| known.get(f).is_none_or(|(c, _)| c != channel))
        {
            Some(f) => Err(Error::Invalid {
                what: "files",
                reason: format!("file {} was not uploaded to this channel", f.fmt_short()),
            }),
            None => Ok(()),
        }
    }

    /// Writes `content` as `who` in `channel` and returns the post `target` as the user sees
    /// it afterwards.
    fn write_and_view(
        &mut self,
        who: &Acting,
        channel: ChannelId,
        content: &Content,
        target: Option<EventId>,
    ) -> Result<PostView, Error> {
        let me = self.user(&who.as_user)?.public();
        let id = self.write_content(&who.flotilla, channel, &who.as_user, content)?;
        self.refresh_fold(&who.flotilla)?;
        self.post_of(&who.flotilla, &target.unwrap_or(id), &me)
    }

    pub(super) fn create_post(
        &mut self,
        who: &Acting,
        channel: ChannelId,
        text: String,
        root: Option<EventId>,
        files: Vec<FileId>,
    ) -> Result<PostView, Error> {
        let me = self.acting(who)?.public();
        check_text(&text, !files.is_empty())?;
        self.writable(&who.flotilla, &channel, &me)?;
        self.check_files(&who.flotilla, &channel, &files)?;
        let root = root
            .map(|r| self.thread_root(&who.flotilla, &channel, r))
            .transpose()?;
        let mentions = self.mentioned_keys(&who.flotilla, &text)?;
        let content = Content::Post {
            text,
            root,
            files,
            mentions,
        };
        self.write_and_view(who, channel, &content, None)
    }

    /// The visible post `post`, `me` may write to its channel; returns its channel and author.
    fn target(
        &mut self,
        who: &Acting,
        post: &EventId,
    ) -> Result<(PublicKey, ChannelId, PublicKey), Error> {
        let me = self.acting(who)?.public();
        let view = self.post_of(&who.flotilla, post, &me)?;
        self.writable(&who.flotilla, &view.channel, &me)?;
        Ok((me, view.channel, view.author_key))
    }

    pub(super) fn edit_post(
        &mut self,
        who: &Acting,
        post: EventId,
        text: String,
    ) -> Result<PostView, Error> {
        let (me, channel, author) = self.target(who, &post)?;
        if author != me && !self.auth(&who.flotilla)?.is_admin(&me) {
            return Err(Error::Forbidden(
                "only its author or a flotilla admin may edit a post".into(),
            ));
        }
        check_text(&text, true)?;
        self.write_and_view(
            who,
            channel,
            &Content::Edit { target: post, text },
            Some(post),
        )
    }

    pub(super) fn delete_post(&mut self, who: &Acting, post: EventId) -> Result<(), Error> {
        let (me, channel, author) = self.target(who, &post)?;
        if author != me && !self.auth(&who.flotilla)?.is_admin(&me) {
            return Err(Error::Forbidden(
                "only its author or a flotilla admin may delete a post".into(),
            ));
        }
        let content = Content::Delete { target: post };
        self.write_content(&who.flotilla, channel, &who.as_user, &content)?;
        Ok(())
    }

    pub(super) fn react(
        &mut self,
        who: &Acting,
        post: EventId,
        emoji: String,
        add: bool,
    ) -> Result<PostView, Error> {
        check_emoji(&emoji)?;
        let (_, channel, _) = self.target(who, &post)?;
        let content = if add {
            Content::ReactionAdd {
                target: post,
                emoji,
            }
        } else {
            Content::ReactionRemove {
                target: post,
                emoji,
            }
        };
        self.write_and_view(who, channel, &content, Some(post))
    }

    pub(super) fn set_pinned(
        &mut self,
        who: &Acting,
        post: EventId,
        pinned: bool,
    ) -> Result<PostView, Error> {
        let (_, channel, _) = self.target(who, &post)?;
        let content = if pinned {
            Content::Pin { target: post }
        } else {
            Content::Unpin { target: post }
        };
        self.write_and_view(who, channel, &content, Some(post))
    }

    pub(super) fn mark_read(&mut self, who: &Acting, channel: ChannelId) -> Result<(), Error> {
        let me = self.acting(who)?.public();
        self.readable(&who.flotilla, &channel, &me)?;
        let auth = self.auth(&who.flotilla)?;
        let newest = self.fold_of(&who.flotilla)?.chat.newest(auth, &channel);
        if let Some(newest) = newest {
            self.store
                .mark_read(&me, &who.flotilla, &channel, newest.hlc)?;
        }
        self.emit(Event::ReadChanged {
            flotilla: who.flotilla,
            channel,
            user: who.as_user.clone(),
        });
        Ok(())
    }

    pub(super) fn file_target(
        &mut self,
        who: &Acting,
        channel: ChannelId,
    ) -> Result<FileTarget, Error> {
        let me = self.acting(who)?.public();
        self.writable(&who.flotilla, &channel, &me)?;
        let (files_key, key_id) = self.channel_files_key(&who.flotilla, &channel)?;
        Ok(FileTarget {
            limit: self.files.limit(&who.flotilla),
            dir: self.files.dir.clone(),
            files_key,
            key_id,
        })
    }

    pub(super) fn publish_file(
        &mut self,
        who: &Acting,
        channel: ChannelId,
        file: StoredFile,
    ) -> Result<FileInfo, Error> {
        let me = self.acting(who)?.public();
        self.writable(&who.flotilla, &channel, &me)?;
        if self.channel_files_key(&who.flotilla, &channel)?.1 != file.key_id {
            return Err(Error::Conflict(
                "the channel's key changed during the upload; send the file again".into(),
            ));
        }
        let manifest = file.manifest();
        manifest.check().map_err(|e| Error::Invalid {
            what: "file",
            reason: e.to_string(),
        })?;
        self.write_content(&who.flotilla, channel, &who.as_user, &manifest)?;
        Ok(self.with_state(file.info))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_and_emoji_are_checked() {
        assert!(check_text("salut", false).is_ok());
        assert!(check_text("  ", true).is_ok(), "files alone make a post");
        assert!(matches!(
            check_text(" \n", false),
            Err(Error::Invalid { .. })
        ));
        let long = "x".repeat(MAX_POST_CHARS + 1);
        assert!(matches!(
            check_text(&long, true),
            Err(Error::Invalid { .. })
        ));
        for good in ["thumbsup", "+1", "sail_boat", "a-b"] {
            assert!(check_emoji(good).is_ok(), "{good}");
        }
        for bad in ["", "Thumbs", ":x:", "é", &"a".repeat(33)] {
            assert!(check_emoji(bad).is_err(), "{bad}");
        }
    }
}

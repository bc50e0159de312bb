//! The chat API of [`NodeHandle`]: channels, posts, reactions, pins, read markers, members,
//! boats and files, each one [`ChatCommand`] (`chat_command.rs`) answered on the actor.
//!
//! `as_user` is always a local username; it must be an active user of the flotilla (a local
//! user not yet in it is added first), else [`Error::NotFound`] (no such local user) or
//! [`Error::Forbidden`] (removed). Rights are checked before anything is written:
//! [`Error::Forbidden`] for editing someone else's post, deleting without being the author or
//! a flotilla admin, writing to an archived channel, reading a private channel one is not in.

use std::path::PathBuf;

use flotilla_protocol as proto;
use proto::id::{ChannelId, EventId, FileId, FlotillaId};

use super::chat_command::{Acting, ChannelChange, ChatCommand, NewChannel};
use super::views::{
    BoatInfo, ChannelView, Cursor, FileInfo, LiveView, MemberInfo, PostPage, PostView, RadioInfo,
    UnreadCounts,
};
use super::{Command, NodeHandle, Reply};
use crate::Error;
use crate::files;

fn acting(flotilla: FlotillaId, as_user: &str) -> Acting {
    Acting {
        flotilla,
        as_user: as_user.to_owned(),
    }
}

impl NodeHandle {
    async fn chat<T>(&self, make: impl FnOnce(Reply<T>) -> ChatCommand) -> Result<T, Error> {
        self.ask(|reply| Command::Chat(make(reply))).await
    }

    /// Every public channel of `flotilla`, and the private channels and DMs `as_user` is in.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Forbidden`], [`Error::ActorGone`].
    pub async fn channels_for(
        &self,
        flotilla: FlotillaId,
        as_user: &str,
    ) -> Result<Vec<ChannelView>, Error> {
        let who = acting(flotilla, as_user);
        self.chat(|reply| ChatCommand::Channels { who, reply })
            .await
    }

    /// One channel as `as_user` sees it.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Forbidden`] (a private channel the user is not in).
    pub async fn channel_view(
        &self,
        flotilla: FlotillaId,
        channel: ChannelId,
        as_user: &str,
    ) -> Result<ChannelView, Error> {
        let who = acting(flotilla, as_user);
        self.chat(|reply| ChatCommand::Channel {
            who,
            channel,
            reply,
        })
        .await
    }

    /// Creates a channel named `name` (`[a-z0-9_-]{1,64}`) with its header and purpose.
    ///
    /// # Errors
    /// [`Error::Invalid`] (name, header or purpose), [`Error::Conflict`] (name taken),
    /// [`Error::NotFound`], [`Error::Forbidden`], [`Error::Author`].
    pub async fn create_channel_full(
        &self,
        flotilla: FlotillaId,
        as_user: &str,
        new: NewChannel,
    ) -> Result<ChannelView, Error> {
        let who = acting(flotilla, as_user);
        self.chat(|reply| ChatCommand::CreateChannel { who, new, reply })
            .await
    }

    /// Sets a channel's header and/or purpose (`None` keeps it).
    ///
    /// # Errors
    /// [`Error::Invalid`], [`Error::Forbidden`] (archived, or private and not a member),
    /// [`Error::NotFound`].
    pub async fn set_channel_info(
        &self,
        flotilla: FlotillaId,
        channel: ChannelId,
        as_user: &str,
        header: Option<String>,
        purpose: Option<String>,
    ) -> Result<ChannelView, Error> {
        let change = ChannelChange {
            header,
            purpose,
            ..ChannelChange::default()
        };
        self.modify_channel(flotilla, channel, as_user, change)
            .await
    }

    /// Changes a channel's settings: a rename, its display name, header, purpose, or a
    /// switch between public and private (see [`ChannelChange`] for who may do what).
    ///
    /// # Errors
    /// [`Error::Invalid`] (a bad name or field), [`Error::Conflict`] (the name is taken),
    /// [`Error::Forbidden`] (not its creator or an admin; archived; a default channel or a
    /// DM made private or public), [`Error::NotFound`].
    pub async fn modify_channel(
        &self,
        flotilla: FlotillaId,
        channel: ChannelId,
        as_user: &str,
        change: ChannelChange,
    ) -> Result<ChannelView, Error> {
        let who = acting(flotilla, as_user);
        self.chat(|reply| ChatCommand::SetChannelInfo {
            who,
            channel,
            change,
            reply,
        })
        .await
    }

    /// Joins a public channel (shown in the user's sidebar). Joining twice is fine.
    ///
    /// # Errors
    /// [`Error::Forbidden`] (a private channel or DM), [`Error::NotFound`].
    pub async fn join_channel(
        &self,
        flotilla: FlotillaId,
        channel: ChannelId,
        as_user: &str,
    ) -> Result<ChannelView, Error> {
        let who = acting(flotilla, as_user);
        self.chat(|reply| ChatCommand::Join {
            who,
            channel,
            reply,
        })
        .await
    }

    /// Leaves a channel (a private one rotates its key). Leaving one not joined is fine.
    ///
    /// # Errors
    /// [`Error::Forbidden`] (the default channels cannot be left), [`Error::NotFound`].
    pub async fn leave_channel(
        &self,
        flotilla: FlotillaId,
        channel: ChannelId,
        as_user: &str,
    ) -> Result<(), Error> {
        let who = acting(flotilla, as_user);
        self.chat(|reply| ChatCommand::Leave {
            who,
            channel,
            reply,
        })
        .await
    }

    /// Adds `username` (an active user of the flotilla, on any boat) to a channel.
    ///
    /// # Errors
    /// [`Error::Forbidden`] (a DM; a private channel the user is not in),
    /// [`Error::NotFound`].
    pub async fn add_channel_member(
        &self,
        flotilla: FlotillaId,
        channel: ChannelId,
        as_user: &str,
        username: &str,
    ) -> Result<ChannelView, Error> {
        let (who, username) = (acting(flotilla, as_user), username.to_owned());
        self.chat(|reply| ChatCommand::AddMember {
            who,
            channel,
            username,
            reply,
        })
        .await
    }

    /// Archives (read-only) or unarchives a channel: its creator or a flotilla admin.
    ///
    /// # Errors
    /// [`Error::Forbidden`], [`Error::NotFound`].
    pub async fn archive_channel(
        &self,
        flotilla: FlotillaId,
        channel: ChannelId,
        as_user: &str,
        archived: bool,
    ) -> Result<ChannelView, Error> {
        let who = acting(flotilla, as_user);
        self.chat(|reply| ChatCommand::Archive {
            who,
            channel,
            archived,
            reply,
        })
        .await
    }

    /// The DM (2 people) or group DM (3–8) of `as_user` and `usernames`; an existing one with
    /// the same people is returned with `false`, a new one with `true`.
    ///
    /// # Errors
    /// [`Error::Invalid`] (fewer than 2 or more than 8 people), [`Error::NotFound`] (a user).
    pub async fn open_dm(
        &self,
        flotilla: FlotillaId,
        as_user: &str,
        usernames: Vec<String>,
    ) -> Result<(ChannelView, bool), Error> {
        let who = acting(flotilla, as_user);
        self.chat(|reply| ChatCommand::OpenDm {
            who,
            usernames,
            reply,
        })
        .await
    }

    /// Root posts of a channel: the page before `before` (else the newest), oldest first
    /// inside the page, at most `limit` (clamped to 1..=200). O(page).
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Forbidden`].
    pub async fn posts(
        &self,
        flotilla: FlotillaId,
        channel: ChannelId,
        as_user: &str,
        before: Option<Cursor>,
        limit: usize,
    ) -> Result<PostPage, Error> {
        let who = acting(flotilla, as_user);
        self.chat(|reply| ChatCommand::Posts {
            who,
            channel,
            before,
            limit,
            reply,
        })
        .await
    }

    /// One visible post or reply.
    ///
    /// # Errors
    /// [`Error::NotFound`] (unknown or deleted), [`Error::Forbidden`].
    pub async fn post_view(
        &self,
        flotilla: FlotillaId,
        post: EventId,
        as_user: &str,
    ) -> Result<PostView, Error> {
        let who = acting(flotilla, as_user);
        self.chat(|reply| ChatCommand::Post { who, post, reply })
            .await
    }

    /// Posts as each of `readers` sees them, with their unread counts in the post's
    /// channel; per post (in order), the readers who may not read it (or are not members)
    /// are left out. One ask for every live socket ([`crate::http::live`]).
    ///
    /// # Errors
    /// [`Error::ActorGone`].
    pub async fn live_posts(
        &self,
        posts: Vec<(FlotillaId, EventId)>,
        readers: Vec<String>,
    ) -> Result<Vec<Vec<LiveView>>, Error> {
        self.chat(|reply| ChatCommand::LivePosts {
            posts,
            readers,
            reply,
        })
        .await
    }

    /// A thread: its root and its visible replies, oldest first. `root` may name a reply.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Forbidden`].
    pub async fn thread(
        &self,
        flotilla: FlotillaId,
        root: EventId,
        as_user: &str,
    ) -> Result<(PostView, Vec<PostView>), Error> {
        let who = acting(flotilla, as_user);
        self.chat(|reply| ChatCommand::Thread { who, root, reply })
            .await
    }

    /// A channel's pinned posts, oldest first.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Forbidden`].
    pub async fn pins(
        &self,
        flotilla: FlotillaId,
        channel: ChannelId,
        as_user: &str,
    ) -> Result<Vec<PostView>, Error> {
        let who = acting(flotilla, as_user);
        self.chat(|reply| ChatCommand::Pins {
            who,
            channel,
            reply,
        })
        .await
    }

    /// Posts (or replies to `root`) with attached `files`; `@username` words become mentions.
    ///
    /// # Errors
    /// [`Error::Invalid`] (empty without files, over 16,383 characters, unknown file),
    /// [`Error::Forbidden`] (archived channel, private channel not joined),
    /// [`Error::NotFound`] (channel, root).
    pub async fn create_post(
        &self,
        flotilla: FlotillaId,
        channel: ChannelId,
        as_user: &str,
        text: &str,
        root: Option<EventId>,
        files: Vec<FileId>,
    ) -> Result<PostView, Error> {
        self.disk.check(text.len() as u64)?;
        let (who, text) = (acting(flotilla, as_user), text.to_owned());
        self.chat(|reply| ChatCommand::CreatePost {
            who,
            channel,
            text,
            root,
            files,
            reply,
        })
        .await
    }

    /// Edits a post: its author or a flotilla admin.
    ///
    /// # Errors
    /// [`Error::Forbidden`], [`Error::Invalid`], [`Error::NotFound`].
    pub async fn edit_post(
        &self,
        flotilla: FlotillaId,
        post: EventId,
        as_user: &str,
        text: &str,
    ) -> Result<PostView, Error> {
        let (who, text) = (acting(flotilla, as_user), text.to_owned());
        self.chat(|reply| ChatCommand::EditPost {
            who,
            post,
            text,
            reply,
        })
        .await
    }

    /// Moves the thread of `post` to channel `to` of the same flotilla (flotilla admins
    /// only); returns the root's copy there.
    ///
    /// # Errors
    /// [`Error::Forbidden`], [`Error::NotFound`], [`Error::Conflict`] (already moved),
    /// [`Error::Invalid`] (same channel, too long a thread).
    pub async fn move_thread(
        &self,
        flotilla: FlotillaId,
        post: EventId,
        to: ChannelId,
        as_user: &str,
    ) -> Result<PostView, Error> {
        let who = acting(flotilla, as_user);
        self.chat(|reply| ChatCommand::MoveThread {
            who,
            post,
            to,
            reply,
        })
        .await
    }

    /// Deletes a post: its author or a flotilla admin.
    ///
    /// # Errors
    /// [`Error::Forbidden`], [`Error::NotFound`].
    pub async fn delete_post(
        &self,
        flotilla: FlotillaId,
        post: EventId,
        as_user: &str,
    ) -> Result<(), Error> {
        let who = acting(flotilla, as_user);
        self.chat(|reply| ChatCommand::DeletePost { who, post, reply })
            .await
    }

    /// Adds (`add`) or removes the user's `emoji` reaction (a shortcode `[a-z0-9_+-]{1,32}`).
    ///
    /// # Errors
    /// [`Error::Invalid`] (emoji), [`Error::Forbidden`], [`Error::NotFound`].
    pub async fn react(
        &self,
        flotilla: FlotillaId,
        post: EventId,
        as_user: &str,
        emoji: &str,
        add: bool,
    ) -> Result<PostView, Error> {
        let (who, emoji) = (acting(flotilla, as_user), emoji.to_owned());
        self.chat(|reply| ChatCommand::React {
            who,
            post,
            emoji,
            add,
            reply,
        })
        .await
    }

    /// Pins or unpins a post (any user who may write in its channel).
    ///
    /// # Errors
    /// [`Error::Forbidden`], [`Error::NotFound`].
    pub async fn set_pinned(
        &self,
        flotilla: FlotillaId,
        post: EventId,
        as_user: &str,
        pinned: bool,
    ) -> Result<PostView, Error> {
        let who = acting(flotilla, as_user);
        self.chat(|reply| ChatCommand::SetPinned {
            who,
            post,
            pinned,
            reply,
        })
        .await
    }

    /// The user has read everything in the channel so far (the marker survives restarts).
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Forbidden`], [`Error::Store`].
    pub async fn mark_read(
        &self,
        flotilla: FlotillaId,
        channel: ChannelId,
        as_user: &str,
    ) -> Result<(), Error> {
        let who = acting(flotilla, as_user);
        self.chat(|reply| ChatCommand::MarkRead {
            who,
            channel,
            reply,
        })
        .await
    }

    /// The user's unread posts and mentions in a channel. O(unread posts).
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Forbidden`], [`Error::Store`].
    pub async fn unread(
        &self,
        flotilla: FlotillaId,
        channel: ChannelId,
        as_user: &str,
    ) -> Result<UnreadCounts, Error> {
        let who = acting(flotilla, as_user);
        self.chat(|reply| ChatCommand::Unread {
            who,
            channel,
            reply,
        })
        .await
    }

    /// Every active user of a flotilla, on every boat.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::ActorGone`].
    pub async fn members(&self, flotilla: FlotillaId) -> Result<Vec<MemberInfo>, Error> {
        self.chat(|reply| ChatCommand::Members { flotilla, reply })
            .await
    }

    /// Every active node of a flotilla, with its link as this node knows it.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::ActorGone`].
    pub async fn boats(&self, flotilla: FlotillaId) -> Result<Vec<BoatInfo>, Error> {
        self.chat(|reply| ChatCommand::Boats { flotilla, reply })
            .await
    }

    /// This node's LoRa radios that may carry a flotilla: airtime this hour, budget, queue.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::ActorGone`].
    pub async fn radios(&self, flotilla: FlotillaId) -> Result<Vec<RadioInfo>, Error> {
        self.chat(|reply| ChatCommand::Radios { flotilla, reply })
            .await
    }

    /// Is local user `username` an active admin of the flotilla?
    ///
    /// # Errors
    /// [`Error::NotFound`] (flotilla or local user), [`Error::ActorGone`].
    pub async fn is_flotilla_admin(
        &self,
        flotilla: FlotillaId,
        username: &str,
    ) -> Result<bool, Error> {
        let who = acting(flotilla, username);
        self.chat(|reply| ChatCommand::IsAdmin { who, reply }).await
    }

    /// Stores a file for a post in `channel` (`files/<blake3 hex>` in the data directory,
    /// 0600) and publishes its manifest there; attach it with `create_post`.
    ///
    /// # Errors
    /// [`Error::TooLarge`] over the flotilla's attachment limit (nothing is stored),
    /// [`Error::Invalid`] (name, mime), [`Error::Forbidden`], [`Error::NotFound`],
    /// [`Error::Io`].
    pub async fn put_file(
        &self,
        flotilla: FlotillaId,
        channel: ChannelId,
        as_user: &str,
        name: &str,
        mime: &str,
        bytes: Vec<u8>,
    ) -> Result<FileInfo, Error> {
        files::check_meta(name, mime)?;
        let who = acting(flotilla, as_user);
        let target = self
            .chat(|reply| ChatCommand::FileTarget {
                who: who.clone(),
                channel,
                reply,
            })
            .await?;
        let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        if size > target.limit {
            return Err(Error::TooLarge {
                limit: target.limit,
            });
        }
        self.disk.check(size)?;
        let (name, mime) = (name.to_owned(), mime.to_owned());
        let file = tokio::task::spawn_blocking(move || {
            files::store(&target.dir, &bytes, name, mime, &target.files_key).map(|mut f| {
                f.key_id = target.key_id;
                f
            })
        })
        .await??;
        self.chat(|reply| ChatCommand::PublishFile {
            who,
            channel,
            file,
            reply,
        })
        .await
    }

    /// A file's info and the path of its bytes, for the HTTP layer to stream.
    ///
    /// # Errors
    /// [`Error::NotFound`] (unknown, or its bytes are not on this boat),
    /// [`Error::Forbidden`] (a channel the user may not read).
    pub async fn file(
        &self,
        flotilla: FlotillaId,
        file: FileId,
        as_user: &str,
    ) -> Result<(FileInfo, PathBuf), Error> {
        let who = acting(flotilla, as_user);
        self.chat(|reply| ChatCommand::File { who, file, reply })
            .await
    }
}

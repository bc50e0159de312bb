//! Serving [`ChatCommand`]s: each arm calls one method of the chat modules and answers on
//! the command's oneshot (a caller that gave up is fine).

use super::Actor;
use crate::handle::ChatCommand as C;

impl Actor {
    pub(super) fn on_chat_command(&mut self, cmd: C) {
        match cmd {
            C::Channels { who, reply } => {
                let _ = reply.send(self.channels_for(&who));
            }
            C::Channel {
                who,
                channel,
                reply,
            } => {
                let _ = reply.send(self.channel_view(&who, &channel));
            }
            C::CreateChannel { who, new, reply } => {
                let _ = reply.send(self.create_channel_full(&who, new));
            }
            C::SetChannelInfo {
                who,
                channel,
                change,
                reply,
            } => {
                let _ = reply.send(self.modify_channel(&who, channel, change));
            }
            C::Join {
                who,
                channel,
                reply,
            } => {
                let _ = reply.send(self.join_channel(&who, channel));
            }
            C::Leave {
                who,
                channel,
                reply,
            } => {
                let _ = reply.send(self.leave_channel(&who, channel));
            }
            C::AddMember {
                who,
                channel,
                username,
                reply,
            } => {
                let _ = reply.send(self.add_channel_member(&who, channel, &username));
            }
            C::Archive {
                who,
                channel,
                archived,
                reply,
            } => {
                let _ = reply.send(self.archive_channel(&who, channel, archived));
            }
            C::OpenDm {
                who,
                usernames,
                reply,
            } => {
                let _ = reply.send(self.open_dm(&who, &usernames));
            }
            other => self.on_post_command(other),
        }
    }

    fn on_post_command(&mut self, cmd: C) {
        match cmd {
            C::Posts {
                who,
                channel,
                before,
                limit,
                reply,
            } => {
                let _ = reply.send(self.posts_page(&who, &channel, before, limit));
            }
            C::Post { who, post, reply } => {
                let _ = reply.send(self.post(&who, &post));
            }
            C::Thread { who, root, reply } => {
                let _ = reply.send(self.thread(&who, &root));
            }
            C::Pins {
                who,
                channel,
                reply,
            } => {
                let _ = reply.send(self.pins(&who, &channel));
            }
            C::CreatePost {
                who,
                channel,
                text,
                root,
                files,
                reply,
            } => {
                let _ = reply.send(self.create_post(&who, channel, text, root, files));
            }
            C::EditPost {
                who,
                post,
                text,
                reply,
            } => {
                let _ = reply.send(self.edit_post(&who, post, text));
            }
            C::DeletePost { who, post, reply } => {
                let _ = reply.send(self.delete_post(&who, post));
            }
            C::MoveThread {
                who,
                post,
                to,
                reply,
            } => {
                let _ = reply.send(self.move_thread(&who, post, to));
            }
            C::React {
                who,
                post,
                emoji,
                add,
                reply,
            } => {
                let _ = reply.send(self.react(&who, post, emoji, add));
            }
            C::SetPinned {
                who,
                post,
                pinned,
                reply,
            } => {
                let _ = reply.send(self.set_pinned(&who, post, pinned));
            }
            other => self.on_misc_command(other),
        }
    }

    fn on_misc_command(&mut self, cmd: C) {
        match cmd {
            C::MarkRead {
                who,
                channel,
                reply,
            } => {
                let _ = reply.send(self.mark_read(&who, channel));
            }
            C::Unread {
                who,
                channel,
                reply,
            } => {
                let _ = reply.send(self.unread(&who, &channel));
            }
            C::LivePosts {
                posts,
                readers,
                reply,
            } => {
                let views = posts
                    .iter()
                    .map(|(flotilla, post)| self.live_post(*flotilla, post, &readers))
                    .collect();
                let _ = reply.send(Ok(views));
            }
            C::Members { flotilla, reply } => {
                let _ = reply.send(self.members(&flotilla));
            }
            C::Boats { flotilla, reply } => {
                let _ = reply.send(self.boats(&flotilla));
            }
            C::Radios { flotilla, reply } => {
                let r = self
                    .auth(&flotilla)
                    .map(|_| ())
                    .map(|()| self.radios(&flotilla));
                let _ = reply.send(r);
            }
            C::IsAdmin { who, reply } => {
                let _ = reply.send(self.is_admin(&who));
            }
            C::FileTarget {
                who,
                channel,
                reply,
            } => {
                let _ = reply.send(self.file_target(&who, channel));
            }
            C::PublishFile {
                who,
                channel,
                file,
                reply,
            } => {
                let _ = reply.send(self.publish_file(&who, channel, file));
            }
            C::File { who, file, reply } => {
                let _ = reply.send(self.file(&who, &file));
            }
            // Served by the two methods above: each variant has one arm.
            C::Channels { .. }
            | C::Channel { .. }
            | C::CreateChannel { .. }
            | C::SetChannelInfo { .. }
            | C::Join { .. }
            | C::Leave { .. }
            | C::AddMember { .. }
            | C::Archive { .. }
            | C::OpenDm { .. }
            | C::Posts { .. }
            | C::Post { .. }
            | C::Thread { .. }
            | C::Pins { .. }
            | C::CreatePost { .. }
            | C::EditPost { .. }
            | C::DeletePost { .. }
            | C::MoveThread { .. }
            | C::React { .. }
            | C::SetPinned { .. } => {}
        }
    }
}

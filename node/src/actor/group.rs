//! Group commit of local posts: posts that wait together in the command queue are written
//! with their flushes deferred, then the store is flushed **once** and only then are they
//! acknowledged and published on gossip. A post is never acknowledged before it is durable;
//! concurrent clients share one fsync instead of queueing behind one each.
//!
//! Only post creations are grouped (the admin API's `Post` and the chat API's
//! `CreatePost`); any other command first ends the group (flush, acknowledge, publish) and
//! runs as before. A group holds at most [`MAX_GROUP`] commands.

use flotilla_protocol as proto;
use proto::id::FlotillaId;
use tokio::sync::oneshot;

use super::Actor;
use crate::Error;
use crate::handle::{ChatCommand, Command};
use crate::store;

/// The most commands served between two flushes of a group.
pub(super) const MAX_GROUP: usize = 64;

/// An acknowledgement waiting for the group's flush.
type Held = Box<dyn FnOnce(Result<(), sled::Error>) + Send>;

/// The group being written.
#[derive(Default)]
pub(super) struct Group {
    active: bool,
    replies: Vec<Held>,
    publishes: Vec<(FlotillaId, Vec<u8>)>,
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group")
            .field("active", &self.active)
            .field("replies", &self.replies.len())
            .field("publishes", &self.publishes.len())
            .finish()
    }
}

impl Actor {
    /// Serves `first` and whatever commands are already queued behind it (at most
    /// [`MAX_GROUP`]), grouping the posts among them.
    pub(super) fn on_commands(&mut self, first: Command) {
        let mut cmd = first;
        let mut served = 0;
        loop {
            self.on_grouped(cmd);
            served += 1;
            // Only take a command off the queue that this group will serve: one taken and
            // not served would be dropped, its caller told the actor is gone.
            if self.stop_reply.is_some() || served >= MAX_GROUP {
                break;
            }
            match self.cmd_rx.try_recv() {
                Ok(next) => cmd = next,
                Err(_) => break,
            }
        }
        self.end_group();
    }

    fn on_grouped(&mut self, cmd: Command) {
        match cmd {
            Command::Post {
                flotilla,
                channel,
                as_user,
                text,
                reply_to,
                reply,
            } => {
                self.begin_group();
                let res = self.admin_post(&flotilla, channel, &as_user, text, reply_to);
                self.hold(reply, res);
            }
            Command::Chat(ChatCommand::CreatePost {
                who,
                channel,
                text,
                root,
                files,
                reply,
            }) => {
                self.begin_group();
                let res = self.create_post(&who, channel, text, root, files);
                self.hold(reply, res);
            }
            other => {
                self.end_group();
                self.on_command(other);
            }
        }
    }

    fn begin_group(&mut self) {
        if !self.group.active {
            self.group.active = true;
            self.store.defer_flush(true);
        }
    }

    fn hold<T: Send + 'static>(
        &mut self,
        reply: oneshot::Sender<Result<T, Error>>,
        res: Result<T, Error>,
    ) {
        self.group.replies.push(Box::new(move |flushed| {
            let flushed = flushed.map_err(|e| Error::Store(store::Error::Sled(e)));
            let _ = reply.send(flushed.and(res)); // the caller may have given up
        }));
    }

    /// Publishes a local event now, or after the group's flush while a group is open.
    pub(super) fn publish_local(&mut self, flotilla: FlotillaId, data: Vec<u8>) {
        if self.group.active {
            self.group.publishes.push((flotilla, data));
        } else {
            self.publish(flotilla, data);
        }
    }

    /// Flushes the group's writes once, then acknowledges and publishes them.
    fn end_group(&mut self) {
        if !self.group.active {
            return;
        }
        self.group.active = false;
        self.store.defer_flush(false);
        let flushed = match self.store.flush() {
            Ok(()) => Ok(()),
            Err(store::Error::Sled(e)) => Err(e),
            Err(other) => Err(sled::Error::Unsupported(other.to_string())),
        };
        let failed = flushed.is_err();
        for reply in std::mem::take(&mut self.group.replies) {
            reply(flushed.clone());
        }
        let publishes = std::mem::take(&mut self.group.publishes);
        if failed {
            tracing::warn!(
                posts = publishes.len(),
                "group flush failed: posts not acknowledged"
            );
            return;
        }
        for (flotilla, data) in publishes {
            self.publish(flotilla, data);
        }
    }
}

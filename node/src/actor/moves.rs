//! Moving a thread to another channel of the same flotilla (flotilla admins only): the
//! thread's root and visible replies are copied into the target channel as
//! [`Content::MovedPost`] events (re-sealed with the target's key, shown under their
//! original authors and times), then a [`Content::ThreadMoved`] marker is left on the root
//! in the source channel. See docs/protocol.md, "Thread moves".

use flotilla_protocol as proto;
use proto::Content;
use proto::id::{ChannelId, EventId};

use super::Actor;
use crate::Error;
use crate::handle::Acting;
use crate::handle::views::PostView;

/// The most posts (root and replies) one move copies; a longer thread is refused.
pub(crate) const MAX_MOVED_POSTS: usize = 500;

impl Actor {
    /// Moves the thread of `post` (its root, if `post` is a reply) to channel `to`; returns
    /// the root's copy as the caller sees it.
    pub(super) fn move_thread(
        &mut self,
        who: &Acting,
        post: EventId,
        to: ChannelId,
    ) -> Result<PostView, Error> {
        let me = self.acting(who)?.public();
        if !self.auth(&who.flotilla)?.is_admin(&me) {
            return Err(Error::Forbidden(
                "only a flotilla admin may move a thread".into(),
            ));
        }
        let root = self
            .fold_of(&who.flotilla)?
            .chat
            .root_of(&post)
            .unwrap_or(post);
        let from = self.post_of(&who.flotilla, &root, &me)?;
        if from.moved_to.is_some() {
            return Err(Error::Conflict("this thread was already moved".into()));
        }
        if from.channel == to {
            return Err(Error::Invalid {
                what: "channel",
                reason: "the thread is already in this channel".into(),
            });
        }
        self.writable(&who.flotilla, &from.channel, &me)?;
        self.writable(&who.flotilla, &to, &me)?;
        let copies = self.thread_copies(who, &root)?;
        let mut new_root: Option<EventId> = None;
        for mut copy in copies {
            if let Content::MovedPost { root, .. } = &mut copy {
                *root = new_root;
            }
            let id = self.write_content(&who.flotilla, to, &who.as_user, &copy)?;
            new_root.get_or_insert(id);
        }
        let new_root = new_root.ok_or_else(|| Error::NotFound("the thread".into()))?;
        let marker = Content::ThreadMoved { root, to, new_root };
        self.write_content(&who.flotilla, from.channel, &who.as_user, &marker)?;
        self.refresh_fold(&who.flotilla)?;
        self.post_of(&who.flotilla, &new_root, &me)
    }

    /// The copies of the thread of `root`, root first (their `root` is set as they are
    /// written). Attached files stay in the source channel: their chunks are sealed with
    /// its key.
    fn thread_copies(&self, who: &Acting, root: &EventId) -> Result<Vec<Content>, Error> {
        let auth = self.auth(&who.flotilla)?;
        let thread = self.fold_of(&who.flotilla)?.chat.thread(auth, root);
        if thread.len() > MAX_MOVED_POSTS {
            return Err(Error::Invalid {
                what: "post",
                reason: format!(
                    "the thread has {} posts, more than the {MAX_MOVED_POSTS} a move copies",
                    thread.len()
                ),
            });
        }
        Ok(thread
            .into_iter()
            .map(|p| Content::MovedPost {
                original: p.id,
                author: p.author,
                at: p.hlc,
                text: p.text,
                root: None,
                files: Vec::new(),
            })
            .collect())
    }
}

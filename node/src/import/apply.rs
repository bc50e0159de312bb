//! The node's half of an import: one [`Batch`] of [`Item`]s, each written unless it is
//! there already, through the same [`NodeHandle`] calls as the API (rights, limits and
//! events as for any post) plus [`NodeHandle::import_post`] for the original times.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use flotilla_protocol as proto;
use proto::id::{ChannelId, FileId, FlotillaId};
use serde::{Deserialize, Serialize};

use super::seen::NewPost;
use crate::Error;
use crate::NodeHandle;
use crate::handle::views::{ChannelKind, PostView};
use crate::handle::{Acting, NewChannel};

/// One admin request's worth of import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// Where attachment paths are resolved (a directory on the node's machine).
    #[serde(default)]
    pub attachments: Option<PathBuf>,
    /// What to import, in order.
    pub items: Vec<Item>,
}

/// One thing to import, with the line it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "item", rename_all = "snake_case")]
pub enum Item {
    /// A channel (made if missing; missing private members added).
    Channel(ChannelItem),
    /// A post with its replies, reactions and pins.
    Post(PostItem),
    /// Archives a channel (after its posts).
    Archive {
        /// The channel's line.
        line: usize,
        /// Its name.
        channel: String,
    },
}

/// A channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelItem {
    /// Its line.
    pub line: usize,
    /// `[a-z0-9_-]{1,64}`.
    pub name: String,
    /// Members only?
    pub private: bool,
    /// Header.
    pub header: String,
    /// Purpose.
    pub purpose: String,
    /// Members of a private channel (the first creates it).
    pub members: Vec<String>,
}

/// Where a post goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// A named channel of the flotilla.
    Channel {
        /// Its name.
        name: String,
    },
    /// The DM or group DM of these users.
    Direct {
        /// Its members' usernames.
        members: Vec<String>,
    },
}

/// A root post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostItem {
    /// Its line.
    pub line: usize,
    /// Its channel.
    pub target: Target,
    /// Its author.
    pub user: String,
    /// Its text.
    pub message: String,
    /// Its original time (ms since the Unix epoch).
    pub create_at: u64,
    /// Pinned?
    pub pinned: bool,
    /// Reactions.
    pub reactions: Vec<ReactionItem>,
    /// Replies, oldest first.
    pub replies: Vec<ReplyItem>,
    /// Attachment paths (relative to the batch's `attachments` directory).
    pub attachments: Vec<String>,
}

/// A reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyItem {
    /// Its author.
    pub user: String,
    /// Its text.
    pub message: String,
    /// Its original time.
    pub create_at: u64,
    /// Pinned?
    pub pinned: bool,
    /// Reactions.
    pub reactions: Vec<ReactionItem>,
    /// Attachment paths.
    pub attachments: Vec<String>,
}

/// A reaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionItem {
    /// Who.
    pub user: String,
    /// The emoji shortcode.
    pub emoji: String,
}

/// What a batch wrote (and skipped, as already there).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchReport {
    /// Channels made.
    pub channels: u64,
    /// Posts and replies written.
    pub posts: u64,
    /// Reactions added.
    pub reactions: u64,
    /// Posts pinned.
    pub pins: u64,
    /// Files attached.
    pub files: u64,
    /// Channels archived.
    pub archived: u64,
    /// Posts and replies already there.
    pub skipped: u64,
}

/// An item that failed, with its line.
#[derive(Debug)]
pub struct ItemError {
    /// The line of the item.
    pub line: usize,
    /// Why.
    pub error: Error,
}

impl fmt::Display for ItemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.error)
    }
}

struct Applier<'a> {
    node: &'a NodeHandle,
    flotilla: FlotillaId,
    admin: String,
    attachments: Option<PathBuf>,
    channels: HashMap<String, ChannelId>,
    report: BatchReport,
}

/// Imports `batch` into `flotilla`; channels are made by the node admin `admin` (private
/// ones by their first member).
///
/// # Errors
/// The first item that failed, with its line; the items before it are imported.
pub async fn apply(
    node: &NodeHandle,
    flotilla: FlotillaId,
    admin: &str,
    batch: Batch,
) -> Result<BatchReport, ItemError> {
    let mut a = Applier {
        node,
        flotilla,
        admin: admin.to_owned(),
        attachments: batch.attachments,
        channels: HashMap::new(),
        report: BatchReport::default(),
    };
    for item in batch.items {
        let line = match &item {
            Item::Channel(c) => c.line,
            Item::Post(p) => p.line,
            Item::Archive { line, .. } => *line,
        };
        a.item(item)
            .await
            .map_err(|error| ItemError { line, error })?;
    }
    Ok(a.report)
}

impl Applier<'_> {
    async fn item(&mut self, item: Item) -> Result<(), Error> {
        match item {
            Item::Channel(c) => self.channel(c).await,
            Item::Post(p) => self.post(p).await,
            Item::Archive { channel, .. } => self.archive(&channel).await,
        }
    }

    async fn find_channel(&mut self, name: &str) -> Result<Option<ChannelId>, Error> {
        if let Some(id) = self.channels.get(name) {
            return Ok(Some(*id));
        }
        let all = self.node.channels(self.flotilla).await?;
        self.channels
            .extend(all.into_iter().map(|c| (c.name, c.id)));
        Ok(self.channels.get(name).copied())
    }

    async fn channel(&mut self, c: ChannelItem) -> Result<(), Error> {
        let creator = match c.members.first() {
            Some(m) if c.private => m.clone(),
            _ => self.admin.clone(),
        };
        let id = match self.find_channel(&c.name).await? {
            Some(id) => {
                let view = self.node.channel_view(self.flotilla, id, &creator).await?;
                if (view.header != c.header || view.purpose != c.purpose) && !view.archived {
                    self.node
                        .set_channel_info(
                            self.flotilla,
                            id,
                            &creator,
                            Some(c.header),
                            Some(c.purpose),
                        )
                        .await?;
                }
                id
            }
            None => {
                let new = NewChannel {
                    name: c.name.clone(),
                    private: c.private,
                    header: c.header,
                    purpose: c.purpose,
                };
                let view = self
                    .node
                    .create_channel_full(self.flotilla, &creator, new)
                    .await?;
                self.report.channels += 1;
                self.channels.insert(c.name, view.id);
                view.id
            }
        };
        if c.private {
            let view = self.node.channel_view(self.flotilla, id, &creator).await?;
            for m in c.members.iter().filter(|m| !view.members.contains(m)) {
                // Acting as the user makes a local account a user of the flotilla.
                self.node.channels_for(self.flotilla, m).await?;
                self.node
                    .add_channel_member(self.flotilla, id, &creator, m)
                    .await?;
            }
        }
        Ok(())
    }

    async fn target(&mut self, target: &Target, user: &str) -> Result<ChannelId, Error> {
        match target {
            Target::Channel { name } => self
                .find_channel(name)
                .await?
                .ok_or_else(|| Error::NotFound(format!("channel `{name}`"))),
            Target::Direct { members } => {
                let others: Vec<String> = members.iter().filter(|m| *m != user).cloned().collect();
                let (view, _) = self.node.open_dm(self.flotilla, user, others).await?;
                Ok(view.id)
            }
        }
    }

    async fn post(&mut self, p: PostItem) -> Result<(), Error> {
        let channel = self.target(&p.target, &p.user).await?;
        let one = One {
            user: p.user,
            message: p.message,
            create_at: p.create_at,
            pinned: p.pinned,
            reactions: p.reactions,
            attachments: p.attachments,
        };
        let root = self.one(channel, None, one).await?;
        for r in p.replies {
            let one = One {
                user: r.user,
                message: r.message,
                create_at: r.create_at,
                pinned: r.pinned,
                reactions: r.reactions,
                attachments: r.attachments,
            };
            self.one(channel, Some(root.id), one).await?;
        }
        Ok(())
    }

    /// Writes one post or reply with its files, reactions and pin; returns it.
    async fn one(
        &mut self,
        channel: ChannelId,
        root: Option<proto::EventId>,
        one: One,
    ) -> Result<PostView, Error> {
        let who = Acting {
            flotilla: self.flotilla,
            as_user: one.user.clone(),
        };
        let mut files = Vec::new();
        for path in &one.attachments {
            files.push(self.attach(channel, &one.user, path).await?);
        }
        let new = NewPost {
            text: one.message,
            root,
            files,
            created_ms: one.create_at,
        };
        let (view, added) = self.node.import_post(who, channel, new).await?;
        if added {
            self.report.posts += 1;
            self.report.files += view.files.len() as u64;
        } else {
            self.report.skipped += 1;
        }
        for r in &one.reactions {
            let has = view
                .reactions
                .iter()
                .any(|x| x.emoji == r.emoji && x.users.contains(&r.user));
            if !has {
                self.node
                    .react(self.flotilla, view.id, &r.user, &r.emoji, true)
                    .await?;
                self.report.reactions += 1;
            }
        }
        if one.pinned && !view.pinned {
            self.node
                .set_pinned(self.flotilla, view.id, &one.user, true)
                .await?;
            self.report.pins += 1;
        }
        Ok(view)
    }

    /// Stores an attachment in the channel (content-addressed: the same bytes get the same
    /// id, so a second import attaches the same file).
    async fn attach(
        &mut self,
        channel: ChannelId,
        user: &str,
        path: &str,
    ) -> Result<FileId, Error> {
        let dir = self.attachments.as_deref().ok_or_else(|| Error::Invalid {
            what: "attachments",
            reason: format!("`{path}` needs --attachments DIR"),
        })?;
        let file = resolve(dir, path)?;
        let bytes = tokio::fs::read(&file).await.map_err(|source| Error::Io {
            path: file.clone(),
            source,
        })?;
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".into());
        let mime = mime_of(&name);
        let info = self
            .node
            .put_file(self.flotilla, channel, user, &name, mime, bytes)
            .await?;
        Ok(info.id)
    }

    async fn archive(&mut self, name: &str) -> Result<(), Error> {
        let id = self
            .find_channel(name)
            .await?
            .ok_or_else(|| Error::NotFound(format!("channel `{name}`")))?;
        let views = self.node.channels_for(self.flotilla, &self.admin).await?;
        let view = views.iter().find(|v| v.id == id);
        if view.is_some_and(|v| v.archived) {
            return Ok(());
        }
        let by = match view {
            Some(v) if v.kind != ChannelKind::Public => v.creator.clone(),
            _ => self.admin.clone(),
        };
        self.node
            .archive_channel(self.flotilla, id, &by, true)
            .await?;
        self.report.archived += 1;
        Ok(())
    }
}

struct One {
    user: String,
    message: String,
    create_at: u64,
    pinned: bool,
    reactions: Vec<ReactionItem>,
    attachments: Vec<String>,
}

/// `path` inside `dir` (or `dir/data`, the export zip's layout); never outside it.
fn resolve(dir: &Path, path: &str) -> Result<PathBuf, Error> {
    let rel = Path::new(path);
    if rel.is_absolute()
        || rel
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Err(Error::Invalid {
            what: "attachment path",
            reason: format!("`{path}` leaves the attachments directory"),
        });
    }
    [dir.join(rel), dir.join("data").join(rel)]
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| Error::NotFound(format!("attachment `{path}` in {}", dir.display())))
}

/// A MIME type from a file name's extension.
fn mime_of(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("pdf") => "application/pdf",
        Some("txt" | "md" | "log") => "text/plain",
        Some("grb" | "grib" | "grb2") => "application/x-grib",
        _ => "application/octet-stream",
    }
}

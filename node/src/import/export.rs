//! `flotilla export bulk`: a flotilla as a Mattermost bulk file, in the order Mattermost
//! imports (version, team, channels, users, posts, DMs, DM posts), so that a Mattermost
//! server, or `flotilla import bulk`, can read it back.
//!
//! The node reads the flotilla as its local users see it (each private channel and DM
//! through one of its local members), so what no local user may read is not exported.
//! Posts keep their authors and times (an imported post its original time); reactions,
//! pins and replies come along; with `attachments`, files are copied to `data/<id>/<name>`
//! beside the file.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use flotilla_protocol as proto;
use proto::id::{ChannelId, FlotillaId};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::Error;
use crate::NodeHandle;
use crate::handle::views::{ChannelKind, ChannelView, PostView};

/// Root posts fetched per page.
const PAGE: usize = 200;

/// What an export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportReport {
    /// The file written.
    pub file: String,
    /// Channels (DMs included).
    pub channels: u64,
    /// Users.
    pub users: u64,
    /// Posts and replies.
    pub posts: u64,
    /// Files copied.
    pub files: u64,
}

/// A Mattermost team name from a flotilla name: lowercase ASCII letters and digits, `-`
/// elsewhere.
pub fn team_name(name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let slug = slug.trim_matches('-').to_owned();
    if slug.is_empty() { "team".into() } else { slug }
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn to_i64(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

struct Exporter<'a> {
    node: &'a NodeHandle,
    flotilla: FlotillaId,
    team: String,
    dir: Option<PathBuf>,
    report: ExportReport,
}

/// Writes `flotilla` to `file` (and its attachments under `data/` beside it if
/// `attachments`).
///
/// # Errors
/// [`Error::Io`] writing, [`Error::NotFound`], [`Error::ActorGone`].
pub async fn export(
    node: &NodeHandle,
    flotilla: FlotillaId,
    file: &Path,
    attachments: bool,
) -> Result<ExportReport, Error> {
    let name = node
        .flotillas()
        .await?
        .into_iter()
        .find(|f| f.id == flotilla)
        .map(|f| f.name)
        .ok_or_else(|| Error::NotFound(format!("flotilla {}", flotilla.fmt_short())))?;
    let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut ex = Exporter {
        node,
        flotilla,
        team: team_name(&name),
        dir: attachments.then_some(dir),
        report: ExportReport {
            file: file.display().to_string(),
            ..ExportReport::default()
        },
    };
    let mut lines = vec![
        json!({"type": "version", "version": 1, "info": {"generator": "flotilla", "version": env!("CARGO_PKG_VERSION")}}),
        json!({"type": "team", "team": {"name": ex.team, "display_name": name, "type": "I", "allow_open_invite": false}}),
    ];
    let channels = ex.channels().await?;
    let (named, direct): (Vec<_>, Vec<_>) = channels
        .into_iter()
        .partition(|(c, _)| c.kind != ChannelKind::Dm);
    for (c, _) in &named {
        lines.push(ex.channel_line(c));
    }
    lines.extend(ex.user_lines(&named).await?);
    for (c, reader) in &named {
        for post in ex.posts(c, reader).await? {
            lines.push(json!({"type": "post", "post": post}));
        }
    }
    for (c, _) in &direct {
        lines.push(json!({"type": "direct_channel", "direct_channel": {"members": c.members, "header": c.header}}));
    }
    for (c, reader) in &direct {
        for mut post in ex.posts(c, reader).await? {
            if let Some(obj) = post.as_object_mut() {
                obj.remove("team");
                obj.remove("channel");
                obj.insert("channel_members".into(), json!(c.members));
            }
            lines.push(json!({"type": "direct_post", "direct_post": post}));
        }
    }
    let mut out = std::io::BufWriter::new(std::fs::File::create(file).map_err(io(file))?);
    for line in &lines {
        serde_json::to_writer(&mut out, line).map_err(|e| io(file)(e.into()))?;
        out.write_all(b"\n").map_err(io(file))?;
    }
    out.flush().map_err(io(file))?;
    Ok(ex.report)
}

impl Exporter<'_> {
    /// Every channel some local user can read, with that user.
    async fn channels(&mut self) -> Result<Vec<(ChannelView, String)>, Error> {
        let mut all: BTreeMap<ChannelId, (ChannelView, String)> = BTreeMap::new();
        for user in self.node.users().await?.into_iter().filter(|u| u.account) {
            let Ok(views) = self.node.channels_for(self.flotilla, &user.username).await else {
                continue; // not a user of this flotilla
            };
            for mut v in views.into_iter().filter(|v| !v.name.is_empty()) {
                v.members.sort();
                all.entry(v.id).or_insert((v, user.username.clone()));
            }
        }
        let mut list: Vec<_> = all.into_values().collect();
        list.sort_by(|(a, _), (b, _)| (&a.name, &a.members).cmp(&(&b.name, &b.members)));
        self.report.channels = list.len() as u64;
        Ok(list)
    }

    fn channel_line(&self, c: &ChannelView) -> Value {
        let mut channel = json!({
            "team": self.team,
            "name": c.name,
            "display_name": c.name,
            "type": if c.kind == ChannelKind::Public { "O" } else { "P" },
            "header": c.header,
            "purpose": c.purpose,
        });
        if c.archived {
            channel["deleted_at"] = json!(to_i64(c.last_post_at.unwrap_or(1)));
        }
        json!({"type": "channel", "channel": channel})
    }

    async fn user_lines(&mut self, named: &[(ChannelView, String)]) -> Result<Vec<Value>, Error> {
        let mut members = self.node.members(self.flotilla).await?;
        members.sort_by(|a, b| a.username.cmp(&b.username));
        let local = self.node.users().await?;
        let mut lines = Vec::new();
        for m in members {
            let admin = local.iter().any(|u| u.username == m.username && u.admin);
            let channels: Vec<Value> = named
                .iter()
                .filter(|(c, _)| c.members.contains(&m.username))
                .map(|(c, _)| json!({"name": c.name}))
                .collect();
            let mut user = json!({
                "username": m.username,
                "roles": if admin { "system_admin system_user" } else { "system_user" },
                "teams": [{"name": self.team, "roles": if m.admin { "team_admin team_user" } else { "team_user" }, "channels": channels}],
            });
            if let Some(nick) = m.display_name {
                user["nickname"] = json!(nick);
            }
            lines.push(json!({"type": "user", "user": user}));
            self.report.users += 1;
        }
        Ok(lines)
    }

    /// A channel's root posts, oldest first, each with its replies.
    async fn posts(&mut self, c: &ChannelView, reader: &str) -> Result<Vec<Value>, Error> {
        let mut roots = Vec::new();
        let mut before = None;
        loop {
            let page = self
                .node
                .posts(self.flotilla, c.id, reader, before, PAGE)
                .await?;
            roots.extend(page.posts.into_iter().rev());
            match page.next {
                Some(next) => before = Some(next),
                None => break,
            }
        }
        roots.reverse();
        let mut out = Vec::with_capacity(roots.len());
        for root in roots {
            let mut post = self.post_value(c, reader, &root).await?;
            if root.reply_count > 0 {
                let (_, replies) = self.node.thread(self.flotilla, root.id, reader).await?;
                let mut values = Vec::with_capacity(replies.len());
                for r in &replies {
                    let mut v = self.post_value(c, reader, r).await?;
                    if let Some(obj) = v.as_object_mut() {
                        obj.remove("team");
                        obj.remove("channel");
                    }
                    values.push(v);
                }
                post["replies"] = json!(values);
            }
            out.push(post);
        }
        Ok(out)
    }

    async fn post_value(
        &mut self,
        c: &ChannelView,
        reader: &str,
        p: &PostView,
    ) -> Result<Value, Error> {
        self.report.posts += 1;
        let created = to_i64(p.created_at);
        let mut pairs: Vec<(&str, &str)> = p
            .reactions
            .iter()
            .flat_map(|r| r.users.iter().map(move |u| (r.emoji.as_str(), u.as_str())))
            .collect();
        pairs.sort_unstable();
        let reactions: Vec<Value> = pairs
            .into_iter()
            .map(|(emoji, user)| json!({"user": user, "emoji_name": emoji, "create_at": created}))
            .collect();
        let mut post = json!({
            "team": self.team,
            "channel": c.name,
            "user": p.author,
            "message": p.text,
            "create_at": created,
        });
        if p.pinned {
            post["is_pinned"] = json!(true);
        }
        if !reactions.is_empty() {
            post["reactions"] = json!(reactions);
        }
        if let Some(dir) = self.dir.clone() {
            let mut attachments = Vec::new();
            for f in &p.files {
                let (info, path) = self.node.file(self.flotilla, f.id, reader).await?;
                let rel = format!("data/{}/{}", f.id, info.name.replace('/', "_"));
                let to = dir.join(&rel);
                if let Some(parent) = to.parent() {
                    std::fs::create_dir_all(parent).map_err(io(parent))?;
                }
                std::fs::copy(&path, &to).map_err(io(&to))?;
                attachments.push(json!({"path": rel}));
                self.report.files += 1;
            }
            if !attachments.is_empty() {
                post["attachments"] = json!(attachments);
            }
        }
        Ok(post)
    }
}

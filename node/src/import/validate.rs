//! Pure validation of a bulk file: every problem with its line number, or a [`Plan`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use flotilla_protocol::event::{MAX_HEADER_CHARS, MAX_NAME_CHARS, MAX_POST_CHARS};

use super::apply::{ChannelItem, Item, PostItem, ReactionItem, ReplyItem, Target};
use super::format::{self, Line};

/// The most people in a DM or group DM (Mattermost's `ChannelGroupMaxUsers`).
const MAX_DM_PEOPLE: usize = 8;

/// A problem found in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// A user to create (no password is imported).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPlan {
    /// Its line.
    pub line: usize,
    /// Login name.
    pub username: String,
    /// `system_admin` in Mattermost: a node admin here.
    pub admin: bool,
}

/// One team: a flotilla, and what goes in it, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamPlan {
    /// Mattermost's team name.
    pub name: String,
    /// Its display name: the flotilla's name.
    pub display_name: String,
    /// Channels, then posts, then archives.
    pub items: Vec<Item>,
}

/// What a valid file imports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Users, first.
    pub users: Vec<UserPlan>,
    /// Teams with their channels and posts.
    pub teams: Vec<TeamPlan>,
    /// DM and group DM posts (they belong to no team: imported into the first flotilla).
    pub direct: Vec<Item>,
    /// Lines of types flotilla does not import (schemes, roles, emoji, bots).
    pub ignored_lines: usize,
    /// Flags (saved posts) that are not imported.
    pub ignored_flags: usize,
}

impl Plan {
    /// Posts and replies in the plan.
    pub fn post_count(&self) -> usize {
        let count = |items: &[Item]| -> usize {
            items
                .iter()
                .map(|i| match i {
                    Item::Post(p) => 1 + p.replies.len(),
                    _ => 0,
                })
                .sum()
        };
        self.teams.iter().map(|t| count(&t.items)).sum::<usize>() + count(&self.direct)
    }
}

#[derive(Default)]
struct Checker {
    problems: Vec<Problem>,
    plan: Plan,
    users: BTreeSet<String>,
    /// team → channel name → index of its `Item::Channel` in the team's items.
    channels: BTreeMap<String, BTreeMap<String, usize>>,
    archives: BTreeMap<String, Vec<Item>>,
    line: usize,
}

/// Validates a whole bulk file. Returns the plan, or every problem found (then nothing must
/// be imported).
///
/// # Errors
/// The problems, in line order.
pub fn validate(text: &str) -> Result<Plan, Vec<Problem>> {
    let mut c = Checker::default();
    let mut seen_version = false;
    for (i, raw) in text.lines().enumerate() {
        c.line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let line: Line = match serde_json::from_str(raw) {
            Ok(l) => l,
            Err(e) => {
                c.problem(format!("malformed JSON: {e}"));
                if !seen_version {
                    seen_version = true;
                    c.problem("the first line must be {\"type\":\"version\",\"version\":1}".into());
                }
                continue;
            }
        };
        if !seen_version {
            seen_version = true;
            if line.kind != "version" || line.version != Some(1) {
                c.problem("the first line must be {\"type\":\"version\",\"version\":1}".into());
            }
            if line.kind == "version" {
                continue;
            }
        }
        c.line_of(line);
    }
    if !seen_version {
        c.line = 1;
        c.problem("empty file: no version line".into());
    }
    let mut plan = c.plan;
    for team in &mut plan.teams {
        team.items
            .extend(c.archives.remove(&team.name).unwrap_or_default());
    }
    if c.problems.is_empty() {
        Ok(plan)
    } else {
        Err(c.problems)
    }
}

fn check_channel_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "channel name `{name}`: 1 to {MAX_NAME_CHARS} of a-z 0-9 - _"
        ))
    }
}

fn check_emoji(emoji: &str) -> bool {
    (1..=32).contains(&emoji.len())
        && emoji
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_+-".contains(c))
}

impl Checker {
    fn problem(&mut self, message: String) {
        self.problems.push(Problem {
            line: self.line,
            message,
        });
    }

    fn line_of(&mut self, line: Line) {
        let done = match line.kind.as_str() {
            "version" => {
                self.problem("a second version line".into());
                Some(())
            }
            "team" => line.team.map(|t| self.team(t)),
            "channel" => line.channel.map(|c| self.channel(c)),
            "user" => line.user.map(|u| self.user(u)),
            "post" => line.post.map(|p| self.post(p, false)),
            "direct_post" => line.direct_post.map(|p| self.post(p, true)),
            "direct_channel" => line.direct_channel.map(|d| self.direct_channel(d)),
            "scheme" | "role" | "emoji" | "bot" => {
                self.plan.ignored_lines += 1;
                Some(())
            }
            other => {
                self.problem(format!("unknown line type `{other}`"));
                Some(())
            }
        };
        if done.is_none() {
            let kind = line.kind;
            self.problem(format!("a `{kind}` line without its `{kind}` object"));
        }
    }

    fn team(&mut self, team: format::Team) {
        if team.name.trim().is_empty() {
            return self.problem("team without a name".into());
        }
        if self.channels.contains_key(&team.name) {
            return self.problem(format!("team `{}` declared twice", team.name));
        }
        let display_name = team
            .display_name
            .filter(|d| !d.trim().is_empty())
            .unwrap_or_else(|| team.name.clone());
        if display_name.chars().count() > MAX_NAME_CHARS {
            return self.problem(format!("team display name longer than {MAX_NAME_CHARS}"));
        }
        self.channels.insert(team.name.clone(), BTreeMap::new());
        self.plan.teams.push(TeamPlan {
            name: team.name,
            display_name,
            items: Vec::new(),
        });
    }

    fn team_index(&self, team: &str) -> Option<usize> {
        self.plan.teams.iter().position(|t| t.name == team)
    }

    fn channel(&mut self, ch: format::Channel) {
        let Some(t) = self.team_index(&ch.team) else {
            return self.problem(format!("unknown team `{}`", ch.team));
        };
        if let Err(e) = check_channel_name(&ch.name) {
            return self.problem(e);
        }
        let private = match ch.kind.as_deref() {
            None | Some("O") => false,
            Some("P") => true,
            Some(other) => return self.problem(format!("channel type `{other}` (O or P)")),
        };
        let header = ch.header.unwrap_or_default();
        let purpose = ch.purpose.unwrap_or_default();
        for (field, value) in [("header", &header), ("purpose", &purpose)] {
            if value.chars().count() > MAX_HEADER_CHARS {
                return self.problem(format!("channel {field} longer than {MAX_HEADER_CHARS}"));
            }
        }
        if self
            .channels
            .get(&ch.team)
            .is_some_and(|m| m.contains_key(&ch.name))
        {
            return self.problem(format!("channel `{}/{}` declared twice", ch.team, ch.name));
        }
        let line = self.line;
        let items = &mut self.plan.teams[t].items;
        self.channels
            .entry(ch.team.clone())
            .or_default()
            .insert(ch.name.clone(), items.len());
        items.push(Item::Channel(ChannelItem {
            line,
            name: ch.name.clone(),
            private,
            header,
            purpose,
            members: Vec::new(),
        }));
        if ch.deleted_at.is_some_and(|d| d > 0) {
            let archive = Item::Archive {
                line,
                channel: ch.name,
            };
            self.archives.entry(ch.team).or_default().push(archive);
        }
    }

    fn add_member(&mut self, team: usize, channel: usize, user: &str) {
        if let Some(Item::Channel(c)) = self.plan.teams[team].items.get_mut(channel)
            && c.private
            && !c.members.iter().any(|m| m == user)
        {
            c.members.push(user.to_owned());
        }
    }

    fn user(&mut self, user: format::User) {
        if let Err(e) = crate::users::check_username(&user.username) {
            return self.problem(e.to_string());
        }
        if !self.users.insert(user.username.clone()) {
            return self.problem(format!("user `{}` declared twice", user.username));
        }
        for team in &user.teams {
            let Some(t) = self.team_index(&team.name) else {
                self.problem(format!("unknown team `{}`", team.name));
                continue;
            };
            for ch in &team.channels {
                match self.channels.get(&team.name).and_then(|m| m.get(&ch.name)) {
                    Some(&index) => self.add_member(t, index, &user.username),
                    None => self.problem(format!("unknown channel `{}/{}`", team.name, ch.name)),
                }
            }
        }
        let admin = user
            .roles
            .is_some_and(|r| r.split_whitespace().any(|r| r == "system_admin"));
        self.plan.users.push(UserPlan {
            line: self.line,
            username: user.username,
            admin,
        });
    }

    fn known_user(&mut self, user: &str) -> bool {
        let known = self.users.contains(user);
        if !known {
            self.problem(format!(
                "unknown user `{user}` (declare users before posts)"
            ));
        }
        known
    }

    fn direct_channel(&mut self, d: format::DirectChannel) {
        let members = d
            .members
            .or_else(|| {
                d.participants
                    .map(|p| p.into_iter().map(|p| p.username).collect())
            })
            .unwrap_or_default();
        self.dm_members(&members);
    }

    fn dm_members(&mut self, members: &[String]) -> bool {
        let distinct: BTreeSet<&String> = members.iter().collect();
        if !(2..=MAX_DM_PEOPLE).contains(&distinct.len()) {
            self.problem(format!(
                "a DM has 2 to {MAX_DM_PEOPLE} members, not {}",
                distinct.len()
            ));
            return false;
        }
        members.iter().all(|m| self.known_user(m))
    }

    fn text(&mut self, text: &str, at: i64) -> Option<u64> {
        let len = text.chars().count();
        if len > MAX_POST_CHARS {
            self.problem(format!(
                "message of {len} characters, more than {MAX_POST_CHARS}"
            ));
            return None;
        }
        match u64::try_from(at) {
            Ok(ms) if ms > 0 => Some(ms),
            _ => {
                self.problem(format!("create_at {at} is not a time in milliseconds"));
                None
            }
        }
    }

    fn reactions(&mut self, reactions: &[format::Reaction]) -> Vec<ReactionItem> {
        let mut out = Vec::new();
        for r in reactions {
            if !check_emoji(&r.emoji_name) {
                self.problem(format!(
                    "emoji `{}`: 1 to 32 of a-z 0-9 _ + -",
                    r.emoji_name
                ));
            } else if self.known_user(&r.user) {
                out.push(ReactionItem {
                    user: r.user.clone(),
                    emoji: r.emoji_name.clone(),
                });
            }
        }
        out
    }

    /// Where a post goes: a declared channel of a declared team, or a DM.
    fn target(
        &mut self,
        post: &format::Post,
        direct: bool,
    ) -> Option<(Target, Option<(usize, usize)>)> {
        if direct {
            let members = post.channel_members.clone().unwrap_or_default();
            if !self.dm_members(&members) {
                return None;
            }
            if !members.contains(&post.user) {
                self.problem(format!("`{}` posts in a DM they are not in", post.user));
                return None;
            }
            return Some((Target::Direct { members }, None));
        }
        let (Some(team), Some(channel)) = (post.team.as_deref(), post.channel.as_deref()) else {
            self.problem("post without team or channel".into());
            return None;
        };
        let Some(t) = self.team_index(team) else {
            self.problem(format!("unknown team `{team}`"));
            return None;
        };
        match self.channels.get(team).and_then(|m| m.get(channel)) {
            Some(&index) => Some((
                Target::Channel {
                    name: channel.to_owned(),
                },
                Some((t, index)),
            )),
            None => {
                self.problem(format!("post before its channel `{team}/{channel}`"));
                None
            }
        }
    }

    fn post(&mut self, post: format::Post, direct: bool) {
        let Some((target, place)) = self.target(&post, direct) else {
            return;
        };
        let problems = self.problems.len();
        let mut people = vec![post.user.clone()];
        self.known_user(&post.user);
        let created = self.text(&post.message, post.create_at);
        let reactions = self.reactions(&post.reactions);
        people.extend(reactions.iter().map(|r| r.user.clone()));
        self.plan.ignored_flags += post.flagged_by.len();
        let mut replies = Vec::new();
        for r in &post.replies {
            self.known_user(&r.user);
            let at = self.text(&r.message, r.create_at);
            let reactions = self.reactions(&r.reactions);
            people.push(r.user.clone());
            people.extend(reactions.iter().map(|r| r.user.clone()));
            self.plan.ignored_flags += r.flagged_by.len();
            replies.push(ReplyItem {
                user: r.user.clone(),
                message: r.message.clone(),
                create_at: at.unwrap_or_default(),
                pinned: r.is_pinned,
                reactions,
                attachments: r.attachments.iter().map(|a| a.path.clone()).collect(),
            });
        }
        if self.problems.len() > problems {
            return;
        }
        let item = Item::Post(PostItem {
            line: self.line,
            target,
            user: post.user,
            message: post.message,
            create_at: created.unwrap_or_default(),
            pinned: post.is_pinned,
            reactions,
            replies,
            attachments: post.attachments.into_iter().map(|a| a.path).collect(),
        });
        match place {
            Some((t, channel)) => {
                for p in &people {
                    self.add_member(t, channel, p);
                }
                self.plan.teams[t].items.push(item);
            }
            None => self.plan.direct.push(item),
        }
    }
}

#[cfg(test)]
mod tests;

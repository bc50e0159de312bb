//! Writing channels: create (with its info), header and purpose, join and leave, add a
//! member, archive, and DMs. Membership of public channels is the `ChannelMemberAdd/Remove`
//! ledger: it grants nothing (every flotilla member reads a public channel) and means
//! "joined, shown in my sidebar"; the default channels count as joined by everyone.

use std::collections::BTreeSet;

use flotilla_protocol as proto;
use proto::event::{MAX_HEADER_CHARS, MAX_NAME_CHARS};
use proto::id::{ChannelId, FlotillaId};
use proto::{Content, PublicKey, SecretKey};

use super::Actor;
use super::chat::is_default;
use crate::Error;
use crate::handle::views::{ChannelKind, ChannelView, DM_NAME};
use crate::handle::{Acting, ChannelChange, NewChannel};

/// The fewest and most people in a DM or group DM, the user included.
pub(crate) const DM_PEOPLE: std::ops::RangeInclusive<usize> = 2..=8;

/// Checks an API-made channel name: `[a-z0-9_-]{1,64}`.
pub(crate) fn check_channel_name(name: &str) -> Result<(), Error> {
    let ok = (1..=MAX_NAME_CHARS).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid {
            what: "channel name",
            reason: format!("`{name}`: 1 to {MAX_NAME_CHARS} characters of a-z 0-9 - _"),
        })
    }
}

fn check_field(what: &'static str, text: &str) -> Result<(), Error> {
    let len = text.chars().count();
    if len > MAX_HEADER_CHARS {
        return Err(Error::Invalid {
            what,
            reason: format!("{len} characters, more than the {MAX_HEADER_CHARS} allowed"),
        });
    }
    Ok(())
}

impl Actor {
    /// Creates a channel (its control event, then its info) and returns its id.
    pub(super) fn new_channel(
        &mut self,
        flotilla: &FlotillaId,
        user: &SecretKey,
        private: bool,
        members: &[PublicKey],
        info: &Content,
    ) -> Result<ChannelId, Error> {
        let channel = ChannelId(proto::entropy::Entropy::array(&mut self.rng));
        self.publish_built(flotilla, |ctx, _| {
            ctx.create_channel(user, channel, private, members)
        })?;
        self.publish_built(flotilla, |ctx, _| ctx.content(user, channel, info))?;
        Ok(channel)
    }

    fn name_taken(&self, flotilla: &FlotillaId, name: &str) -> Result<bool, Error> {
        let auth = self.auth(flotilla)?;
        let chat = &self.fold_of(flotilla)?.chat;
        Ok(auth
            .channels
            .keys()
            .filter_map(|c| chat.channel_fields(auth, c))
            .any(|v| v.name == name))
    }

    /// Refreshes the fold and shows the channel to `user`.
    fn view_after(
        &mut self,
        flotilla: &FlotillaId,
        channel: &ChannelId,
        user: &PublicKey,
    ) -> Result<ChannelView, Error> {
        self.refresh_fold(flotilla)?;
        self.channel_view_of(flotilla, channel, user)
    }

    pub(super) fn create_channel_full(
        &mut self,
        who: &Acting,
        new: NewChannel,
    ) -> Result<ChannelView, Error> {
        let user = self.acting(who)?;
        check_channel_name(&new.name)?;
        check_field("header", &new.header)?;
        check_field("purpose", &new.purpose)?;
        if self.name_taken(&who.flotilla, &new.name)? {
            return Err(Error::Conflict(format!(
                "a channel named `{}` exists",
                new.name
            )));
        }
        let info = Content::ChannelInfo {
            name: new.name,
            header: new.header,
            purpose: new.purpose,
        };
        let channel = self.new_channel(&who.flotilla, &user, new.private, &[], &info)?;
        self.view_after(&who.flotilla, &channel, &user.public())
    }

    /// A rename, display name, header, purpose and privacy switch, checked before anything
    /// is written: the name, display name and privacy by its creator or a flotilla admin.
    pub(super) fn modify_channel(
        &mut self,
        who: &Acting,
        channel: ChannelId,
        change: ChannelChange,
    ) -> Result<ChannelView, Error> {
        let me = self.acting(who)?.public();
        let c = self.writable(&who.flotilla, &channel, &me)?;
        let (creator, private_now) = (c.creator, c.private);
        let auth = self.auth(&who.flotilla)?;
        let folded = self.fold_of(&who.flotilla)?;
        let kind = super::views::kind_of(folded, auth, &channel, c);
        let manager = creator == me || auth.is_admin(&me);
        let now = folded
            .chat
            .channel_fields(auth, &channel)
            .unwrap_or_default();
        let settings = change.name.is_some() || change.display_name.is_some();
        if (settings || change.private.is_some()) && !manager {
            return Err(Error::Forbidden(
                "only its creator or a flotilla admin may rename a channel or make it public or private"
                    .into(),
            ));
        }
        if (settings || change.private.is_some()) && kind == ChannelKind::Dm {
            return Err(Error::Forbidden(
                "a DM has no name and stays private".into(),
            ));
        }
        let switch = change.private.filter(|p| *p != private_now);
        if switch.is_some() && is_default(&who.flotilla, &channel) {
            return Err(Error::Forbidden("the default channels stay public".into()));
        }
        let name = change.name.unwrap_or_else(|| now.name.clone());
        if name != now.name {
            check_channel_name(&name)?;
            if self.name_taken(&who.flotilla, &name)? {
                return Err(Error::Conflict(format!("a channel named `{name}` exists")));
            }
        }
        let display_name = change.display_name.map(|d| d.trim().to_owned());
        if let Some(d) = &display_name
            && d.chars().count() > MAX_NAME_CHARS
        {
            return Err(Error::Invalid {
                what: "display name",
                reason: format!("at most {MAX_NAME_CHARS} characters"),
            });
        }
        let header = change.header.unwrap_or_else(|| now.header.clone());
        let purpose = change.purpose.unwrap_or_else(|| now.purpose.clone());
        check_field("header", &header)?;
        check_field("purpose", &purpose)?;
        if name != now.name || header != now.header || purpose != now.purpose {
            let info = Content::ChannelInfo {
                name,
                header,
                purpose,
            };
            self.write_content(&who.flotilla, channel, &who.as_user, &info)?;
        }
        if let Some(display_name) = display_name.filter(|d| *d != now.display_name) {
            let content = Content::ChannelDisplayName { display_name };
            self.write_content(&who.flotilla, channel, &who.as_user, &content)?;
        }
        if let Some(private) = switch {
            let user = self.acting(who)?;
            self.publish_built(&who.flotilla, |ctx, _| {
                ctx.set_channel_privacy(&user, channel, private)
            })?;
        }
        self.view_after(&who.flotilla, &channel, &me)
    }

    pub(super) fn join_channel(
        &mut self,
        who: &Acting,
        channel: ChannelId,
    ) -> Result<ChannelView, Error> {
        let user = self.acting(who)?;
        let me = user.public();
        let c = self.readable(&who.flotilla, &channel, &me)?;
        if c.private {
            return Err(Error::Forbidden(
                "a private channel: a member must add you".into(),
            ));
        }
        if !c.members.contains(&me) {
            self.publish_built(&who.flotilla, |ctx, _| {
                ctx.add_channel_member(&user, channel, me)
            })?;
        }
        self.view_after(&who.flotilla, &channel, &me)
    }

    pub(super) fn leave_channel(&mut self, who: &Acting, channel: ChannelId) -> Result<(), Error> {
        let user = self.acting(who)?;
        let me = user.public();
        if is_default(&who.flotilla, &channel) {
            return Err(Error::Forbidden(
                "the default channels cannot be left".into(),
            ));
        }
        let c = self.readable(&who.flotilla, &channel, &me)?;
        if c.members.contains(&me) {
            self.publish_built(&who.flotilla, |ctx, _| {
                ctx.remove_channel_member(&user, channel, me)
            })?;
        }
        Ok(())
    }

    /// The active user meant by `username`: a key, `name@boat`, or a name only one boat has
    /// (never "the first of that name": see [`crate::identity`]).
    fn user_named(&self, flotilla: &FlotillaId, username: &str) -> Result<PublicKey, Error> {
        crate::identity::resolve_user(self.auth(flotilla)?, username)
    }

    pub(super) fn add_channel_member(
        &mut self,
        who: &Acting,
        channel: ChannelId,
        username: &str,
    ) -> Result<ChannelView, Error> {
        let user = self.acting(who)?;
        let me = user.public();
        let target = self.user_named(&who.flotilla, username)?;
        let c = self.writable(&who.flotilla, &channel, &me)?;
        if c.members.contains(&target) {
            return self.view_after(&who.flotilla, &channel, &me);
        }
        let auth = self.auth(&who.flotilla)?;
        let kind = super::views::kind_of(self.fold_of(&who.flotilla)?, auth, &channel, c);
        if kind == ChannelKind::Dm {
            return Err(Error::Forbidden(
                "the people of a DM are fixed: open another".into(),
            ));
        }
        self.publish_built(&who.flotilla, |ctx, _| {
            ctx.add_channel_member(&user, channel, target)
        })?;
        self.view_after(&who.flotilla, &channel, &me)
    }

    pub(super) fn archive_channel(
        &mut self,
        who: &Acting,
        channel: ChannelId,
        archived: bool,
    ) -> Result<ChannelView, Error> {
        let me = self.acting(who)?.public();
        let c = self.readable(&who.flotilla, &channel, &me)?;
        if c.creator != me && !self.auth(&who.flotilla)?.is_admin(&me) {
            return Err(Error::Forbidden(
                "only its creator or a flotilla admin may archive a channel".into(),
            ));
        }
        let content = Content::ChannelArchive { archived };
        self.write_content(&who.flotilla, channel, &who.as_user, &content)?;
        self.view_after(&who.flotilla, &channel, &me)
    }

    /// The DM of exactly `people`, if one exists.
    fn find_dm(
        &self,
        flotilla: &FlotillaId,
        people: &BTreeSet<PublicKey>,
    ) -> Result<Option<ChannelId>, Error> {
        let auth = self.auth(flotilla)?;
        let folded = self.fold_of(flotilla)?;
        Ok(auth
            .channels
            .iter()
            .filter(|(_, c)| c.private && c.members == *people)
            .find(|(id, c)| super::views::kind_of(folded, auth, id, c) == ChannelKind::Dm)
            .map(|(id, _)| *id))
    }

    pub(super) fn open_dm(
        &mut self,
        who: &Acting,
        usernames: &[String],
    ) -> Result<(ChannelView, bool), Error> {
        let user = self.acting(who)?;
        let me = user.public();
        let mut people = BTreeSet::from([me]);
        for name in usernames {
            people.insert(self.user_named(&who.flotilla, name)?);
        }
        if !DM_PEOPLE.contains(&people.len()) {
            return Err(Error::Invalid {
                what: "usernames",
                reason: format!(
                    "a DM has {} to {} people, you included",
                    DM_PEOPLE.start(),
                    DM_PEOPLE.end()
                ),
            });
        }
        if let Some(channel) = self.find_dm(&who.flotilla, &people)? {
            return Ok((self.channel_view_of(&who.flotilla, &channel, &me)?, false));
        }
        let info = Content::ChannelInfo {
            name: DM_NAME.to_owned(),
            header: String::new(),
            purpose: String::new(),
        };
        let members: Vec<PublicKey> = people.into_iter().collect();
        let channel = self.new_channel(&who.flotilla, &user, true, &members, &info)?;
        Ok((self.view_after(&who.flotilla, &channel, &me)?, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_names_are_lowercase_words() {
        for good in ["town-square", "a", "dock_2", &"x".repeat(64)] {
            assert!(check_channel_name(good).is_ok(), "{good}");
        }
        for bad in ["", "Dock", "@dm", "two words", "é", &"x".repeat(65)] {
            assert!(check_channel_name(bad).is_err(), "{bad}");
        }
    }
}

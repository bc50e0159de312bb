//! [`Renderer`]: renders posts' markdown for one reader of one flotilla, knowing its
//! usernames (for @mentions) and channel names (for ~channel links).

use std::collections::{HashMap, HashSet};

use flotilla_protocol::id::FlotillaId;

use super::AppState;
use super::error::ApiError;
use crate::markdown::{self, RenderCtx};

/// What rendering needs to know about a flotilla, for one reader.
#[derive(Debug, Default)]
pub struct Renderer {
    me: String,
    usernames: HashSet<String>,
    channels: HashMap<String, String>,
}

impl Renderer {
    /// The renderer of `flotilla` for `me` (asks the node for members and channels).
    ///
    /// # Errors
    /// What the node answers (unknown flotilla, not a member).
    pub async fn load(state: &AppState, flotilla: FlotillaId, me: &str) -> Result<Self, ApiError> {
        Self::load_from(&state.node, flotilla, me).await
    }

    /// [`Self::load`] with the node's handle alone (the live hub has no `AppState`).
    ///
    /// # Errors
    /// What the node answers (unknown flotilla, not a member).
    pub async fn load_from(
        node: &crate::handle::NodeHandle,
        flotilla: FlotillaId,
        me: &str,
    ) -> Result<Self, ApiError> {
        let members = node.members(flotilla).await?;
        let channels = node.channels_for(flotilla, me).await?;
        Ok(Renderer {
            me: me.to_owned(),
            usernames: members
                .into_iter()
                .map(|m| m.username.to_lowercase())
                .collect(),
            channels: channels
                .into_iter()
                .map(|c| (c.name, c.id.to_string()))
                .collect(),
        })
    }

    /// `text` as sanitized HTML.
    pub fn render(&self, text: &str) -> String {
        let is_username = |name: &str| self.usernames.contains(&name.to_lowercase());
        let channel_id = |name: &str| self.channels.get(name).cloned();
        let ctx = RenderCtx {
            me: Some(&self.me),
            is_username: &is_username,
            channel_id: &channel_id,
        };
        markdown::render(text, &ctx)
    }
}

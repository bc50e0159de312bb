//! The web scenarios' cast: boats A and B (two nodes in this process on loopback, connected),
//! each set up through its web UI's setup form (`alice` on A, `bob` on B) in its own
//! headless browser; A founds the flotilla "Rallye" and B joins it through the node API.

use std::time::Duration;

use anyhow::Context;
use flotilla_protocol::id::{ChannelId, FlotillaId};

use super::harness::{Browser, Lang};
use super::web_node::WebNode;

/// The test accounts' password (long enough for the node's rules).
pub(crate) const PASSWORD: &str = "grand-largue-2024";
/// Bound on one UI step on the user's own node (a page, a form, a click's effect).
pub(crate) const UI: Duration = Duration::from_secs(10);

/// Two boats, their crews' browsers (logged in), the flotilla and its town-square.
#[derive(Debug)]
pub(crate) struct Crew {
    pub(crate) a: WebNode,
    pub(crate) b: WebNode,
    pub(crate) alice: Browser,
    pub(crate) bob: Browser,
    pub(crate) flotilla: FlotillaId,
    pub(crate) town_square: ChannelId,
}

impl Crew {
    /// Starts both boats and browsers, sets up the accounts through the UI, founds and joins.
    pub(crate) async fn assemble() -> anyhow::Result<Crew> {
        let (a, b) = tokio::try_join!(WebNode::start("boat-a"), WebNode::start("boat-b"))?;
        let (alice, bob) = tokio::try_join!(
            Browser::launch("alice", Lang::Default),
            Browser::launch("bob", Lang::Default)
        )?;
        set_up_account(&alice, &a, "alice").await?;
        set_up_account(&bob, &b, "bob").await?;
        let flotilla = a.handle().create_flotilla("Rallye", "alice").await?;
        let code = a.handle().invite(flotilla, None, None).await?;
        b.handle().join(&code, Some(a.mesh_addr())).await?;
        a.connect(&b).await?;
        let town_square = ChannelId::derived(&flotilla, "town-square");
        Ok(Crew {
            a,
            b,
            alice,
            bob,
            flotilla,
            town_square,
        })
    }

    /// The UI route of a channel: `/#/f/<flotilla>/c/<channel>`.
    pub(crate) fn channel_route(&self, channel: ChannelId) -> String {
        format!("/#/f/{}/c/{channel}", self.flotilla)
    }

    /// Opens town-square in both browsers and waits for both timelines.
    pub(crate) async fn open_town_square(&self) -> anyhow::Result<()> {
        let route = self.channel_route(self.town_square);
        open(&self.alice, &self.a.url(&route)).await?;
        open(&self.bob, &self.b.url(&route)).await
    }

    /// Closes the browsers and stops the nodes.
    pub(crate) async fn disband(self) -> anyhow::Result<()> {
        self.alice.close().await?;
        self.bob.close().await?;
        self.a.shutdown().await?;
        self.b.shutdown().await
    }
}

/// Loads a channel page and waits for its timeline and title.
pub(crate) async fn open(browser: &Browser, url: &str) -> anyhow::Result<()> {
    browser.goto(url).await?;
    browser.wait_for_css("#post-list", UI).await?;
    browser.wait_for_css("#channel-title", UI).await?;
    Ok(())
}

/// Creates the node's first account through its setup form, with the one-time code the
/// node printed, and waits for the logged-in app.
pub(crate) async fn set_up_account(
    browser: &Browser,
    node: &WebNode,
    username: &str,
) -> anyhow::Result<()> {
    let code = node.setup_code().context("the node's setup code")?;
    browser.goto(&node.url("/#/setup")).await?;
    browser.type_into("#setup-code", &code, true, UI).await?;
    browser
        .type_into("#setup-username", username, true, UI)
        .await?;
    browser
        .type_into("#setup-password", PASSWORD, true, UI)
        .await?;
    browser.click("#setup-submit", UI).await?;
    let app = browser.wait_for_css("#app", UI).await?;
    anyhow::ensure!(browser.displayed(&app).await?, "#app is there but hidden");
    Ok(())
}

//! First run as Mattermost does it (issue "Mattermost parity", item 4), in French: the first
//! admin, just made with the setup form, finds "create a flotilla" and "join with a code" on
//! the empty page itself; creating one lands in its Centre-Ville (the town-square channel,
//! its French display name) with the channel's purpose shown.
//!
//! `cargo test -p flotilla-tests --all-features --test integration browser::first_run -- --nocapture`

use anyhow::ensure;

use super::crew::{UI, set_up_account};
use super::harness::{Browser, Lang};
use super::web_node::WebNode;

#[tokio::test]
async fn the_first_admin_creates_a_flotilla_from_the_empty_page() -> anyhow::Result<()> {
    let a = WebNode::start("Ondine").await?;
    let browser = Browser::launch("first-run", Lang::French).await?;
    set_up_account(&browser, &a, "alice").await?;
    browser
        .wait_for_text("#first-run", "Bienvenue à bord", UI)
        .await?;
    browser
        .wait_for_css("#first-join #first-join-code", UI)
        .await?;
    browser.screenshot("first-run").await?;
    browser
        .type_into("#first-flotilla-name", "Rallye des Abers", true, UI)
        .await?;
    browser
        .click("#first-create button[type=\"submit\"]", UI)
        .await?;
    browser
        .wait_for_text("#channel-title", "Centre-Ville", UI)
        .await?;
    browser
        .wait_for_text("#channel-purpose", "flottille", UI)
        .await?;
    browser
        .wait_for_text("#sidebar .channel-name", "Hors-sujet", UI)
        .await?;
    let hash = browser.eval_with("return location.hash;", &[]).await?;
    let flotillas = a.handle().flotillas().await?;
    ensure!(
        flotillas.len() == 1 && flotillas[0].name == "Rallye des Abers",
        "{flotillas:?}"
    );
    let town = flotilla_protocol::id::ChannelId::derived(&flotillas[0].id, "town-square");
    ensure!(
        hash.as_str()
            .is_some_and(|h| h.ends_with(&format!("/c/{town}"))),
        "landed on {hash}, not town-square"
    );
    browser.screenshot("first-run-centre-ville").await?;
    browser.close().await?;
    a.shutdown().await
}

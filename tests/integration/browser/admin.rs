//! The member list's admin actions in a real browser (issue 8): on one boat, alice (the
//! flotilla's admin) opens the fleet panel, makes bob an admin and removes carl; carl's open
//! page loses access without a reload.
//!
//! `cargo test -p flotilla-tests --test integration browser::admin -- --nocapture`

use std::time::Duration;

use anyhow::{Context, ensure};
use serde_json::json;

use super::crew::{PASSWORD, UI, open, set_up_account};
use super::harness::{Browser, Lang};
use super::web_node::WebNode;

/// Bound on a removal reaching the removed user's open page (WebSocket, then a 403).
const LOST_ACCESS: Duration = Duration::from_secs(10);

/// Makes an account from alice's logged-in page, through the node API.
async fn create_account(admin: &Browser, username: &str) -> anyhow::Result<()> {
    let script = "const me = await (await fetch('/api/v1/me')).json();\
        const r = await fetch('/api/v1/users', {method: 'POST', headers: {'Content-Type': \
        'application/json', 'X-CSRF-Token': me.csrf_token}, body: JSON.stringify({username: \
        arguments[0], password: arguments[1]})}); return r.status;";
    let status = admin
        .eval_with(
            &format!("return (async () => {{ {script} }})();"),
            &[json!(username), json!(PASSWORD)],
        )
        .await?;
    ensure!(status == json!(201), "creating {username}: HTTP {status}");
    Ok(())
}

/// Finds and clicks `css` in one script, retried until it exists: the member list re-renders
/// whenever members or boats reload, so a found element can go stale before a WebDriver click.
async fn click_now(browser: &Browser, css: &str) -> anyhow::Result<()> {
    let script = format!(
        "const e = document.querySelector({}); if (!e) return false; e.click(); return true;",
        serde_json::to_string(css)?
    );
    browser.wait_for_js(css, &script, UI).await?;
    Ok(())
}

async fn log_in(browser: &Browser, node: &WebNode, username: &str) -> anyhow::Result<()> {
    browser.goto(&node.url("/#/login")).await?;
    browser
        .type_into("#login-username", username, true, UI)
        .await?;
    browser
        .type_into("#login-password", PASSWORD, true, UI)
        .await?;
    browser.click("#login-submit", UI).await?;
    browser.wait_for_css("#app", UI).await?;
    Ok(())
}

#[tokio::test]
async fn an_admin_promotes_one_member_and_removes_another() -> anyhow::Result<()> {
    let a = WebNode::start("Ondine").await?;
    let (alice, carl) = tokio::try_join!(
        Browser::launch("admin-alice", Lang::Default),
        Browser::launch("admin-carl", Lang::Default)
    )?;
    set_up_account(&alice, &a, "alice").await?;
    let flotilla = a.handle().create_flotilla("Rallye", "alice").await?;
    create_account(&alice, "bob").await?;
    create_account(&alice, "carl").await?;
    log_in(&carl, &a, "carl").await?;
    let town_square = flotilla_protocol::id::ChannelId::derived(&flotilla, "town-square");
    open(&carl, &a.url(&format!("/#/f/{flotilla}/c/{town_square}"))).await?;

    alice
        .goto(&a.url(&format!("/#/f/{flotilla}/fleet")))
        .await?;
    click_now(&alice, "#crew-list [data-username=\"bob\"] .make-admin").await?;
    alice
        .wait_for_css(
            "#crew-list [data-username=\"bob\"][data-admin=\"true\"]",
            UI,
        )
        .await?;
    alice.screenshot("crew-list").await?;
    click_now(&alice, "#crew-list [data-username=\"carl\"] .remove-user").await?;
    alice.click("#confirm-ok", UI).await?;
    alice
        .wait_for_gone("#crew-list [data-username=\"carl\"]", UI)
        .await?;

    let notice = carl.wait_for_css("#access-lost", LOST_ACCESS).await?;
    ensure!(carl.displayed(&notice).await?, "the notice is hidden");
    carl.screenshot("access-lost").await?;
    let status = carl
        .eval_with(
            "return fetch(arguments[0]).then((r) => r.status);",
            &[json!(format!("/api/v1/flotillas/{flotilla}/channels"))],
        )
        .await?;
    ensure!(
        status == json!(403),
        "carl's page still reads: HTTP {status}"
    );
    let members = a.handle().members(flotilla).await?;
    let bob = members
        .iter()
        .find(|m| m.username == "bob")
        .context("bob is still a member")?;
    ensure!(bob.admin, "bob was not promoted");
    ensure!(
        members.iter().all(|m| m.username != "carl"),
        "carl is still a member"
    );
    alice.close().await?;
    carl.close().await?;
    a.shutdown().await
}

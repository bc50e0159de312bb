//! Moderation and channel settings in a real browser (issue 14): on one boat, alice (the
//! flotilla's admin) renames a channel (display name and URL name) and makes it private
//! from the channel settings dialog, archives it, finds it again under "archived" in the
//! channel browser and unarchives it, moves bob's thread from town-square into it (the old
//! place shows where it went and links there), deletes bob's other post, and deactivates
//! bob's account from the settings dialog: bob's open page is sent back to the login form
//! (its WebSocket closed at once).
//!
//! `cargo test -p flotilla-tests --all-features --test integration browser::moderation -- --nocapture`

use anyhow::ensure;
use flotilla_protocol::id::{ChannelId, FlotillaId};
use serde_json::{Value, json};

use super::crew::{PASSWORD, UI, open, set_up_account};
use super::harness::{Browser, Lang};
use super::web_node::WebNode;

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

/// Runs `fetch(path)` (with the CSRF token for writes) in alice's page; returns the JSON.
async fn api(browser: &Browser, method: &str, path: &str, body: Value) -> anyhow::Result<Value> {
    let script = "return (async () => { const me = await (await fetch('/api/v1/me')).json();\
        const init = {method: arguments[0], headers: {'Content-Type': 'application/json',\
        'X-CSRF-Token': me.csrf_token}};\
        if (arguments[2] !== null) init.body = JSON.stringify(arguments[2]);\
        const r = await fetch('/api/v1' + arguments[1], init);\
        const text = await r.text(); return {status: r.status, json: text ? JSON.parse(text) : null}; })();";
    let answer = browser
        .eval_with(script, &[json!(method), json!(path), body])
        .await?;
    Ok(answer)
}

/// The channel as the API shows it to alice.
async fn channel(browser: &Browser, f: FlotillaId, c: ChannelId) -> anyhow::Result<Value> {
    let a = api(
        browser,
        "GET",
        &format!("/flotillas/{f}/channels/{c}"),
        Value::Null,
    )
    .await?;
    Ok(a["json"].clone())
}

/// Opens the channel settings dialog of the open channel.
async fn open_settings(alice: &Browser) -> anyhow::Result<()> {
    alice.click("#channel-menu-button", UI).await?;
    alice.click("#channel-settings", UI).await?;
    Ok(())
}

/// Waits until `check` holds for the channel as the API shows it.
async fn wait_channel(
    alice: &Browser,
    f: FlotillaId,
    c: ChannelId,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> anyhow::Result<Value> {
    let deadline = tokio::time::Instant::now() + UI;
    loop {
        let v = channel(alice, f, c).await?;
        if check(&v) {
            return Ok(v);
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "{what}: channel is {v}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_admin_manages_a_channel_and_moderates_posts() -> anyhow::Result<()> {
    let a = WebNode::start("Ondine").await?;
    let alice = Browser::launch("moderation-alice", Lang::Default).await?;
    set_up_account(&alice, &a, "alice").await?;
    let f = a.handle().create_flotilla("Rallye", "alice").await?;
    let created = api(
        &alice,
        "POST",
        "/users",
        json!({"username": "bob", "password": PASSWORD}),
    )
    .await?;
    ensure!(created["status"] == json!(201), "creating bob: {created}");
    let bob = Browser::launch("moderation-bob", Lang::Default).await?;
    log_in(&bob, &a, "bob").await?;
    bob.wait_for_gone("#login-username", UI).await?;
    let node = a.handle();
    let town = ChannelId::derived(&f, "town-square");
    let galley = node.create_channel(f, "alice", "galley").await?;
    let root = node.post(f, town, "bob", "Qui a du pain ?", None).await?;
    node.post(f, town, "alice", "Moi, à la cambuse", Some(root))
        .await?;
    let spam = node.post(f, town, "bob", "achetez mes cirés", None).await?;

    // Rename (display name and URL name) and make private, from the settings dialog.
    open(&alice, &a.url(&format!("/#/f/{f}/c/{galley}"))).await?;
    open_settings(&alice).await?;
    alice
        .type_into("#field-display_name", "La Cuisine", true, UI)
        .await?;
    alice.type_into("#field-name", "cuisine", true, UI).await?;
    alice.click("#field-private", UI).await?;
    alice.screenshot("channel-settings").await?;
    alice
        .click("#channel-settings-form button[type=submit]", UI)
        .await?;
    alice
        .wait_for_text("#channel-title", "La Cuisine", UI)
        .await?;
    let v = wait_channel(&alice, f, galley, "renamed, private", |v| {
        v["name"] == "cuisine" && v["kind"] == "private"
    })
    .await?;
    ensure!(v["display_name"] == "La Cuisine", "{v}");

    // Archive, then find it among the archived channels and unarchive it.
    open_settings(&alice).await?;
    alice.click("#channel-settings-archive", UI).await?;
    alice.click("#confirm-ok", UI).await?;
    wait_channel(&alice, f, galley, "archived", |v| v["archived"] == true).await?;
    open(&alice, &a.url(&format!("/#/f/{f}/c/{town}"))).await?;
    alice.click("#browse-channels", UI).await?;
    alice.click("#browse-archived", UI).await?;
    alice.screenshot("browse-archived").await?;
    alice
        .click(&format!("[data-join-channel=\"{galley}\"]"), UI)
        .await?;
    alice
        .wait_for_text("#channel-title", "La Cuisine", UI)
        .await?;
    open_settings(&alice).await?;
    alice.click("#channel-settings-archive", UI).await?;
    wait_channel(&alice, f, galley, "unarchived", |v| v["archived"] == false).await?;

    // Move bob's thread from town-square to ~cuisine.
    open(&alice, &a.url(&format!("/#/f/{f}/c/{town}"))).await?;
    alice
        .script_click(
            &format!("[data-post-id=\"{root}\"] [data-action=\"move\"]"),
            UI,
        )
        .await?;
    alice.wait_for_css("#move-channel", UI).await?;
    let picked = alice
        .eval_with(
            "const s = document.querySelector('#move-channel'); s.value = arguments[0];\
             return s.value;",
            &[json!(galley.to_string())],
        )
        .await?;
    ensure!(
        picked == json!(galley.to_string()),
        "no ~cuisine to move to: {picked}"
    );
    alice.click("dialog form button[type=submit]", UI).await?;
    alice
        .wait_for_text("#channel-title", "La Cuisine", UI)
        .await?;
    alice
        .wait_for_text("#post-list .post[data-author=\"bob\"]", "Qui a du pain", UI)
        .await?;
    alice.screenshot("thread-moved-here").await?;
    open(&alice, &a.url(&format!("/#/f/{f}/c/{town}"))).await?;
    alice.wait_for_text(".moved-marker", "~cuisine", UI).await?;
    alice.screenshot("thread-moved-marker").await?;
    alice.script_click(".moved-marker .moved-link", UI).await?;
    alice
        .wait_for_text("#channel-title", "La Cuisine", UI)
        .await?;
    let page = node.posts(f, galley, "alice", None, 50).await?;
    let copy = page
        .posts
        .first()
        .map(|p| (p.author.clone(), p.moved_by.clone()));
    ensure!(
        copy == Some(("bob".into(), Some("alice".into()))),
        "the copy: {copy:?}"
    );

    // The admin deletes bob's other post.
    open(&alice, &a.url(&format!("/#/f/{f}/c/{town}"))).await?;
    alice
        .script_click(
            &format!("[data-post-id=\"{spam}\"] [data-action=\"delete\"]"),
            UI,
        )
        .await?;
    alice.click("#confirm-ok", UI).await?;
    alice
        .wait_for_gone(&format!("[data-post-id=\"{spam}\"]"), UI)
        .await?;

    // And deactivates bob's account from the settings dialog.
    alice.click("#settings-button", UI).await?;
    alice
        .script_click(
            "[data-account-action=\"deactivate\"][data-user=\"bob\"]",
            UI,
        )
        .await?;
    alice
        .wait_for_css("[data-account=\"bob\"] [data-deactivated]", UI)
        .await?;
    alice.screenshot("accounts").await?;
    let login = bob.wait_for_css("#login-username", UI).await?;
    ensure!(bob.displayed(&login).await?, "bob's login form is hidden");
    bob.screenshot("deactivated").await?;
    bob.close().await?;
    alice.close().await?;
    a.shutdown().await
}

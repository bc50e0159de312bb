//! The web UI's acceptance scenario (issue 4), against docs/api.md and the hooks of
//! docs/ui.md: two boats, alice on A and bob on B in their own browsers. What alice does in
//! A's UI (post, thread reply, reaction, edit, delete) shows on B's open page without a
//! reload within [`PROPAGATION`]; B's unread badge counts A's posts in another channel and
//! clears when B opens it; a French browser gets the French UI; the main views are saved as
//! screenshots (under `target/screenshots/`). Alone, with the delays printed:
//!
//! `cargo test -p flotilla-tests --test integration browser::scenario -- --nocapture`

use std::time::{Duration, Instant};

use anyhow::ensure;
use flotilla_protocol::id::ChannelId;

use super::crew::{Crew, UI};
use super::harness::{Browser, Lang};
use super::webdriver::keys;

/// Bound on something done on A showing on B's open page.
const PROPAGATION: Duration = Duration::from_secs(2);
/// Bound on a new channel reaching B (the control channel syncs, then the UI lists it).
const CHANNEL_SYNC: Duration = Duration::from_secs(10);
/// Texts of the login button the French UI may use.
const FRENCH_LOGIN: [&str; 2] = ["Se connecter", "Connexion"];

#[tokio::test]
async fn two_boats_chat_live_in_their_browsers() -> anyhow::Result<()> {
    let crew = Crew::assemble().await?;
    crew.open_town_square().await?;
    crew.bob.eval("window.flotillaNoReload = true;").await?;
    crew.alice.screenshot("channel").await?;
    let post = live_post(&crew).await?;
    thread_reply(&crew, &post).await?;
    reaction(&crew, &post).await?;
    edit(&crew, &post).await?;
    delete(&crew, &post).await?;
    let reloaded = crew
        .bob
        .eval("return window.flotillaNoReload !== true;")
        .await?;
    ensure!(reloaded == false, "B's page reloaded during the scenario");
    unread_badge(&crew).await?;
    fleet_and_night_mode(&crew).await?;
    french_login(&crew).await?;
    crew.disband().await
}

/// `#post-list [data-post-id="<id>"]`: a post of the open channel's timeline.
fn in_timeline(post_id: &str) -> String {
    format!("#post-list [data-post-id=\"{post_id}\"]")
}

/// Waits on B's page for `css` to show `text`, within what is left of [`PROPAGATION`] since
/// `start`, and prints the delay.
async fn shows_on_b(
    crew: &Crew,
    start: Instant,
    what: &str,
    css: &str,
    text: &str,
) -> anyhow::Result<()> {
    let left = PROPAGATION.saturating_sub(start.elapsed());
    crew.bob.wait_for_text(css, text, left).await?;
    println!(
        "{what}: on B's page after {} ms",
        start.elapsed().as_millis()
    );
    Ok(())
}

/// Alice posts in A's composer; it appears on B's page. Returns the post's id.
async fn live_post(crew: &Crew) -> anyhow::Result<String> {
    let text = "Bonjour de la part d'Ondine";
    let start = Instant::now();
    crew.alice.submit_text("#composer", text, UI).await?;
    shows_on_b(
        crew,
        start,
        "post",
        "#post-list [data-post-id] .post-text",
        text,
    )
    .await?;
    let on_b = crew.bob.find_all("#post-list [data-post-id]").await?;
    ensure!(on_b.len() == 1, "B shows {} posts, not one", on_b.len());
    let mine = crew
        .alice
        .wait_for_text("#post-list [data-post-id]", text, UI)
        .await?;
    let id = crew.alice.attribute(&mine, "data-post-id").await?;
    id.ok_or_else(|| anyhow::anyhow!("A's post has no data-post-id"))
}

/// Alice replies in the thread panel; B's reply count becomes 1.
async fn thread_reply(crew: &Crew, post: &str) -> anyhow::Result<()> {
    let reply = "On lève l'ancre à 9 h";
    crew.alice
        .script_click(
            &format!("{} [data-action=\"reply\"]", in_timeline(post)),
            UI,
        )
        .await?;
    crew.alice.wait_for_css("#thread-panel", UI).await?;
    let start = Instant::now();
    crew.alice
        .submit_text("#thread-composer", reply, UI)
        .await?;
    crew.alice
        .wait_for_text("#thread-panel [data-post-id]", reply, UI)
        .await?;
    crew.alice.screenshot("thread").await?;
    let count = format!("{} .reply-count", in_timeline(post));
    shows_on_b(crew, start, "thread reply", &count, "1").await
}

/// Alice reacts with the picker's first emoji; B sees the reaction counted once.
async fn reaction(crew: &Crew, post: &str) -> anyhow::Result<()> {
    crew.alice
        .script_click(
            &format!("{} [data-action=\"react\"]", in_timeline(post)),
            UI,
        )
        .await?;
    let first = crew
        .alice
        .wait_for_css("#emoji-picker [data-emoji]", UI)
        .await?;
    let emoji = crew.alice.attribute(&first, "data-emoji").await?;
    let emoji = emoji.ok_or_else(|| anyhow::anyhow!("a picker entry has no data-emoji"))?;
    let start = Instant::now();
    crew.alice
        .script_click(&format!("#emoji-picker [data-emoji=\"{emoji}\"]"), UI)
        .await?;
    let count = format!(
        "{} .reactions [data-emoji=\"{emoji}\"] .count",
        in_timeline(post)
    );
    shows_on_b(crew, start, "reaction", &count, "1").await
}

/// Alice edits her post in place; B sees the new text marked as edited.
async fn edit(crew: &Crew, post: &str) -> anyhow::Result<()> {
    let text = "Bonjour de la part d'Ondine et de son équipage";
    crew.alice
        .script_click(&format!("{} [data-action=\"edit\"]", in_timeline(post)), UI)
        .await?;
    let start = Instant::now();
    let edit_box = format!("{} textarea.edit-box", in_timeline(post));
    crew.alice
        .type_into(&edit_box, &format!("{text}{}", keys::ENTER), true, UI)
        .await?;
    shows_on_b(
        crew,
        start,
        "edit",
        &format!("{} .post-text", in_timeline(post)),
        "équipage",
    )
    .await?;
    crew.bob
        .wait_for_css(&format!("{} .post-edited", in_timeline(post)), UI)
        .await?;
    Ok(())
}

/// Alice deletes her post (confirming); it leaves B's page.
async fn delete(crew: &Crew, post: &str) -> anyhow::Result<()> {
    crew.alice
        .script_click(
            &format!("{} [data-action=\"delete\"]", in_timeline(post)),
            UI,
        )
        .await?;
    let start = Instant::now();
    crew.alice.click("#confirm-ok", UI).await?;
    crew.bob
        .wait_for_gone(&in_timeline(post), PROPAGATION)
        .await?;
    println!(
        "delete: gone from B's page after {} ms",
        start.elapsed().as_millis()
    );
    Ok(())
}

/// Bob joins another channel (through B's node API, as his phone would); A posts twice there:
/// B's badge shows 1 then 2, and clears when B opens it.
async fn unread_badge(crew: &Crew) -> anyhow::Result<()> {
    let (f, a) = (crew.flotilla, crew.a.handle());
    let channel: ChannelId = a.create_channel(f, "alice", "mouillage").await?;
    let deadline = Instant::now() + CHANNEL_SYNC;
    while let Err(e) = crew.b.handle().join_channel(f, channel, "bob").await {
        anyhow::ensure!(Instant::now() < deadline, "bob cannot join mouillage: {e}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let entry = format!("[data-channel-id=\"{channel}\"]");
    crew.bob.wait_for_css(&entry, CHANNEL_SYNC).await?;
    let badge = format!("{entry} .badge-unread");
    for (n, text) in ["Mouillage à Houat ce soir", "Apportez les cirés"]
        .iter()
        .enumerate()
    {
        let start = Instant::now();
        a.post(f, channel, "alice", text, None).await?;
        shows_on_b(crew, start, "unread badge", &badge, &(n + 1).to_string()).await?;
    }
    crew.bob.click(&entry, UI).await?;
    crew.bob
        .wait_for_text("#channel-title", "mouillage", UI)
        .await?;
    crew.bob.wait_for_gone(&badge, UI).await?;
    Ok(())
}

/// A's fleet panel shows B connected; then A's UI in night mode.
async fn fleet_and_night_mode(crew: &Crew) -> anyhow::Result<()> {
    let alice = &crew.alice;
    alice
        .goto(&crew.a.url(&format!("/#/f/{}/fleet", crew.flotilla)))
        .await?;
    alice.wait_for_css("#fleet-panel", UI).await?;
    let boat_b = format!(
        "#fleet-panel [data-node-key=\"{}\"].connected",
        crew.b.node().id()
    );
    alice.wait_for_css(&boat_b, UI).await?;
    alice.screenshot("fleet").await?;
    super::crew::open(alice, &crew.a.url(&crew.channel_route(crew.town_square))).await?;
    let theme = "const s = document.querySelector('#theme-select'); s.value = 'night'; \
                 s.dispatchEvent(new Event('change', { bubbles: true }));";
    alice.eval(theme).await?;
    alice.screenshot("night").await?;
    Ok(())
}

/// A browser preferring French gets the French login page.
async fn french_login(crew: &Crew) -> anyhow::Result<()> {
    let browser = Browser::launch("french-login", Lang::French).await?;
    browser.goto(&crew.a.url("/#/login")).await?;
    let button = browser.wait_for_css("#login-submit", UI).await?;
    let lang = browser
        .eval("return document.documentElement.lang;")
        .await?;
    ensure!(lang == "fr", "<html lang> is {lang} in a French browser");
    let label = browser.text(&button).await?;
    ensure!(
        FRENCH_LOGIN.contains(&label.trim()),
        "the login button says {label:?}"
    );
    browser.screenshot("login").await?;
    browser.close().await?;
    Ok(())
}

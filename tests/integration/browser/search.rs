//! Search in a real browser (issue 13): type a query in the channel header, see the results
//! with the matched words marked, open one far back in history (beyond the loaded pages) and
//! land on the highlighted post; recent mentions; Ctrl+K to a channel.

use flotilla_protocol::id::ChannelId;

use super::crew::{self, UI};
use super::harness::{Browser, Lang};
use super::web_node::WebNode;
use super::webdriver::keys;

/// WebDriver's Control key: held down until the end of the keys sent.
const CONTROL: &str = "\u{E009}";

/// Posts written after the one searched for: several pages of the timeline.
const NEWER_POSTS: usize = 300;

#[tokio::test]
async fn search_opens_an_old_post_highlighted_and_lists_mentions() -> anyhow::Result<()> {
    let node = WebNode::start("boat-search").await?;
    let browser = Browser::launch("search", Lang::Default).await?;
    crew::set_up_account(&browser, &node, "alice").await?;
    let h = node.handle();
    let f = h.create_flotilla("Rallye", "alice").await?;
    let c = ChannelId::derived(&f, "town-square");
    h.add_user("bob").await?;
    let old = h
        .post(f, c, "alice", "Le code du ponton est 4321", None)
        .await?;
    let written = h.bulk_post(f, c, "alice", NEWER_POSTS).await?;
    anyhow::ensure!(written == NEWER_POSTS, "bulk_post wrote {written}");
    h.post(f, c, "bob", "@alice la météo de demain est arrivée", None)
        .await?;

    crew::open(&browser, &node.url(&format!("/#/f/{f}/c/{c}"))).await?;
    browser.submit_text("#search-box", "pontons", UI).await?;
    let result = format!("#search-panel [data-result-id=\"{old}\"]");
    browser.wait_for_css(&result, UI).await?;
    browser
        .wait_for_text(&format!("{result} mark"), "ponton", UI)
        .await?;
    browser.click(&result, UI).await?;
    let target = format!("#post-list [data-post-id=\"{old}\"].post-highlight");
    browser.wait_for_css(&target, UI).await?;
    let seen = browser
        .eval_with(
            "const r = arguments[0].getBoundingClientRect(); \
             const l = document.querySelector('#post-list').getBoundingClientRect(); \
             return r.bottom > l.top && r.top < l.bottom;",
            &[browser.wait_for_css(&target, UI).await?.to_arg()],
        )
        .await?;
    anyhow::ensure!(
        seen == true,
        "the highlighted post is not scrolled into view"
    );

    browser.click("#search-close", UI).await?;
    browser.wait_for_gone("#search-panel", UI).await?;
    browser.click("#mentions-button", UI).await?;
    browser
        .wait_for_text("#search-panel .search-result .result-text", "météo", UI)
        .await?;
    browser.click("#search-close", UI).await?;
    browser.wait_for_gone("#search-panel", UI).await?;

    browser
        .type_into("#composer", &format!("{}k", CONTROL), false, UI)
        .await?;
    browser
        .type_into("#switcher-input", "off", false, UI)
        .await?;
    browser
        .wait_for_text("#switcher-list [data-kind=\"channel\"]", "Off-Topic", UI)
        .await?;
    browser
        .type_into("#switcher-input", keys::ENTER, false, UI)
        .await?;
    browser
        .wait_for_text("#channel-title", "Off-Topic", UI)
        .await?;
    browser.screenshot("search-jump").await?;
    browser.close().await?;
    node.shutdown().await
}

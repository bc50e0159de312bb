//! The node's page at `/` in a real headless chromium, and a French browser. Each test pays
//! one browser start (about a second); they run in parallel.

use std::time::Duration;

use super::driver::processes_mentioning;
use super::harness::{Browser, Lang};
use super::web_node::WebNode;

/// Bound on a page showing what it should.
const SHOW: Duration = Duration::from_secs(10);
/// A wait meant to fail.
const NO_WAIT: Duration = Duration::from_millis(100);
/// Bound on the browser's processes being gone after it closed.
const GONE: Duration = Duration::from_secs(5);

/// The page shows the node's id; the screenshot is saved; closing leaves no process behind.
///
/// (The crew's UI is at `/`; the status page moved to `/status`.)
#[tokio::test]
async fn status_page_shows_the_node_id() -> anyhow::Result<()> {
    let node = WebNode::start("ondine").await?;
    let browser = Browser::launch("status", Lang::Default).await?;
    browser.goto(&node.url("/status")).await?;
    let id = node.node().id().to_string();
    browser.wait_for_text("code", &id, SHOW).await?;
    browser.wait_for_text("h1", "ondine", SHOW).await?;
    let png = browser.screenshot("status-page").await?;
    assert!(
        std::fs::metadata(&png)?.len() > 1000,
        "{} is too small",
        png.display()
    );
    failed_waits_say_where_and_show_the_page(&browser).await?;
    let profile = browser.profile_dir().display().to_string();
    browser.close().await?;
    no_process_left(&profile).await?;
    node.shutdown().await
}

/// A French browser says so to pages (`navigator.language`); dropping it (no `close`)
/// kills its processes.
#[tokio::test]
async fn french_browser_prefers_french() -> anyhow::Result<()> {
    let node = WebNode::start("ondine").await?;
    let browser = Browser::launch("french", Lang::French).await?;
    browser.goto(&node.url("/")).await?;
    let lang = browser.eval("return navigator.language;").await?;
    let lang = lang.as_str().unwrap_or_default().to_owned();
    assert!(lang.starts_with("fr"), "navigator.language is {lang:?}");
    let langs = browser.eval("return navigator.languages;").await?;
    assert_eq!(
        langs[0].as_str().map(|l| l.starts_with("fr")),
        Some(true),
        "{langs}"
    );
    let (profile, pid) = (
        browser.profile_dir().display().to_string(),
        browser.driver_pid(),
    );
    drop(browser);
    no_process_left(&profile).await?;
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "chromedriver {pid} outlived its browser"
    );
    node.shutdown().await
}

/// A wait that times out names the page's URL and saves a screenshot of it.
async fn failed_waits_say_where_and_show_the_page(browser: &Browser) -> anyhow::Result<()> {
    let Err(e) = browser.wait_for_css("#no-such-thing", NO_WAIT).await else {
        anyhow::bail!("found #no-such-thing");
    };
    let message = e.to_string();
    let url = browser.url().await?;
    assert!(
        message.contains("#no-such-thing") && message.contains(&url),
        "{message}"
    );
    let shot = message
        .split("screenshot ")
        .nth(1)
        .and_then(|rest| rest.strip_suffix(')'))
        .ok_or_else(|| anyhow::anyhow!("no screenshot in {message:?}"))?;
    assert!(std::path::Path::new(shot).is_file(), "{message}");
    Ok(())
}

/// Waits until no live process mentions the browser's profile dir in its command line.
async fn no_process_left(profile: &str) -> anyhow::Result<()> {
    flotilla_node::test_utils::eventually(GONE, "the browser's processes to exit", || async {
        processes_mentioning(profile).is_empty()
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}: still running: {:?}", processes_mentioning(profile)))
}

//! Real-browser tests: Debian's headless chromium driven through chromedriver by our own
//! small W3C WebDriver client (docs/decisions.md 14). `scripts/test.sh` installs both;
//! without them these tests fail with a message saying so.
//!
//! - [`http`]: one JSON request over HTTP/1.1 to chromedriver.
//! - [`webdriver`]: the W3C commands (session, navigate, find, click, keys, script, screenshot).
//! - [`driver`]: the chromedriver process (free port, readiness, killed with its group).
//! - [`harness`]: [`harness::Browser`], with bounded waits and screenshots under
//!   `<target dir>/screenshots/`.
//! - [`web_node`]: a node in this process serving HTTP for a browser.
//! - [`crew`]: two boats and their crews' browsers, set up through the UI.
//! - [`status_page`]: the node's page in a real browser; a French browser.
//! - [`scenario`]: the web UI's acceptance scenario on two nodes (`#[ignore]` until the UI).
//! - [`admin`]: the member list's admin actions: promote, remove, the removed page.
//! - [`weather`]: a file fetching then available on B's page; the weather view and its wind
//!   picture.
//! - [`profiles`]: a profile picture and full name set on A, seen on B's post.
//! - [`search`]: search from the channel header to an old post, highlighted; mentions; Ctrl+K.
//! - [`moderation`]: channel settings (rename, private, archive, unarchive from the archived
//!   list), an admin moving a thread and deleting another's post, deactivating an account.
//! - [`bench`]: first paint of a 10k-post channel, WebSocket delivery latency (`#[ignore]`).

mod admin;
mod bench;
mod crew;
mod driver;
mod first_run;
mod harness;
mod http;
mod moderation;
mod profiles;
mod scenario;
mod search;
mod status_page;
mod weather;
mod web_node;
mod webdriver;

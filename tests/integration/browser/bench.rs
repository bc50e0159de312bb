//! Web UI figures (issue 4), ignored benchmarks; they print, for docs/performance.md:
//!
//! - time to first paint of a channel holding 10k posts (the page's own clock: the first
//!   contentful paint and the frame after the timeline's first post appeared);
//! - WebSocket delivery latency: a post made through A's HTTP API (from alice's page) to its
//!   element appearing on bob's page, seen by a `MutationObserver` there (`Date.now()` on both
//!   sides: one machine, one clock); p50 and max over [`LATENCY_POSTS`] posts.
//!
//! `cargo test -p flotilla-tests --release --test integration browser::bench -- --ignored --nocapture`

use std::time::{Duration, Instant};

use anyhow::Context;
use flotilla_protocol::id::ChannelId;
use serde_json::{Value, json};

use super::crew::{self, Crew};
use super::harness::{Browser, Lang};
use super::web_node::WebNode;

/// Posts in the channel whose first paint is measured.
const BIG_CHANNEL_POSTS: usize = 10_000;
/// Posts whose delivery latency is measured.
const LATENCY_POSTS: usize = 20;
/// Between measured posts: a chat pace, not a flood.
const PACE: Duration = Duration::from_millis(100);
/// Bound on one measured post reaching bob's page.
const DELIVERY: Duration = Duration::from_secs(5);

/// Resolves once `#post-list` holds a post, one frame later: the page's timings then.
const RENDERED_JS: &str = "
const sel = '#post-list [data-post-id]';
const timings = () => ({
  rendered_ms: performance.now(),
  fcp_ms: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
  posts: document.querySelectorAll(sel).length,
});
const frame = resolve => requestAnimationFrame(() => resolve(timings()));
if (document.querySelector(sel)) return new Promise(frame);
return new Promise(resolve => new MutationObserver((_, observer) => {
  if (!document.querySelector(sel)) return;
  observer.disconnect();
  frame(resolve);
}).observe(document, { childList: true, subtree: true }));";

/// Records in `window.seenAt[text]` when each post text first appears in the timeline.
const OBSERVE_JS: &str = "
window.seenAt = {};
const record = () => {
  for (const e of document.querySelectorAll('#post-list [data-post-id] .post-text')) {
    const text = e.textContent.trim();
    if (!(text in window.seenAt)) window.seenAt[text] = Date.now();
  }
};
new MutationObserver(record).observe(document.querySelector('#post-list'),
  { childList: true, subtree: true, characterData: true });";

/// Posts `arguments[2]` in channel `arguments[1]` of flotilla `arguments[0]` through the
/// API with this page's session; returns `Date.now()` just before the request.
const POST_JS: &str = "
const [f, c, text] = arguments;
return (async () => {
  const me = await (await fetch('/api/v1/me')).json();
  const sent = Date.now();
  const res = await fetch(`/api/v1/flotillas/${f}/channels/${c}/posts`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
    body: JSON.stringify({ text }),
  });
  if (!res.ok) throw new Error(`POST posts: ${res.status}`);
  return sent;
})();";

#[tokio::test]
#[ignore = "benchmark: prints figures for docs/performance.md"]
async fn first_paint_of_a_10k_post_channel() -> anyhow::Result<()> {
    let node = WebNode::start("boat-a").await?;
    let browser = Browser::launch("bench-paint", Lang::Default).await?;
    crew::set_up_account(&browser, &node, "alice").await?;
    let f = node.handle().create_flotilla("Rallye", "alice").await?;
    let c = ChannelId::derived(&f, "town-square");
    let written = node
        .handle()
        .bulk_post(f, c, "alice", BIG_CHANNEL_POSTS)
        .await?;
    anyhow::ensure!(written == BIG_CHANNEL_POSTS, "bulk_post wrote {written}");
    // First load: the node folds the channel's 10k events into its cache (cold); second:
    // the cache is warm, as on a running boat.
    for load in ["cold cache", "warm cache"] {
        browser.goto("about:blank").await?; // each load below is a full page load
        let start = Instant::now();
        browser.goto(&node.url(&format!("/#/f/{f}/c/{c}"))).await?;
        let t = browser.eval(RENDERED_JS).await?;
        println!(
            "first paint, {BIG_CHANNEL_POSTS}-post channel ({load}): first contentful paint {} \
             ms, timeline rendered {} ms ({} posts shown), {} ms seen from the test",
            t["fcp_ms"],
            t["rendered_ms"],
            t["posts"],
            start.elapsed().as_millis()
        );
    }
    browser.screenshot("bench-10k-channel").await?;
    browser.close().await?;
    node.shutdown().await
}

#[tokio::test]
#[ignore = "benchmark: prints figures for docs/performance.md"]
async fn websocket_delivery_latency() -> anyhow::Result<()> {
    let crew = Crew::assemble().await?;
    crew.open_town_square().await?;
    crew.bob.eval(OBSERVE_JS).await?;
    let (f, c) = (crew.flotilla.to_string(), crew.town_square.to_string());
    let mut latencies = Vec::with_capacity(LATENCY_POSTS);
    for k in 0..LATENCY_POSTS {
        let text = format!("latence {k}");
        let sent = crew
            .alice
            .eval_with(POST_JS, &[json!(f), json!(c), json!(text)])
            .await?;
        let seen_js = format!("return window.seenAt[{}] ?? null;", json!(text));
        let seen = crew
            .bob
            .wait_for_js(&format!("{text:?} on B"), &seen_js, DELIVERY)
            .await?;
        latencies.push(millis(&seen)? - millis(&sent)?);
        tokio::time::sleep(PACE).await;
    }
    latencies.sort_by(f64::total_cmp);
    let max = latencies.last().copied().unwrap_or_default();
    println!(
        "WebSocket delivery A API → B page, {LATENCY_POSTS} posts: p50 {:.0} ms, max {max:.0} ms",
        latencies[latencies.len() / 2]
    );
    crew.disband().await
}

/// A `Date.now()` a script returned.
fn millis(value: &Value) -> anyhow::Result<f64> {
    value
        .as_f64()
        .with_context(|| format!("not a time: {value}"))
}

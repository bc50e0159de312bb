//! Files and weather in a real browser (issue 11): on B's open page a file alice posts on A
//! shows fetching, then available (pushed by the WebSocket `file` messages); B's weather
//! view lists two forecasts of one area, the newer first and the older superseded; the wind
//! picture renders (screenshots `weather` and `file-available`). The forecasts are built
//! with ecCodes' `grib_set`/`grib_copy` (`scripts/test.sh` installs them; without them the
//! weather half says so and is skipped).

use std::time::Duration;

use anyhow::ensure;

use super::crew::{Crew, UI};
use crate::grib::{biscay_forecast, have_eccodes};

/// Bound on a file crossing to B (8 MB on loopback, debug build).
const TRANSFER: Duration = Duration::from_secs(60);

/// Records every `data-state` a file's chip takes on the page.
const WATCH_STATES: &str = "
    window.fileStates = [];
    const seen = () => {
        for (const el of document.querySelectorAll('[data-file-id] .file-state')) {
            const s = el.dataset.state;
            if (window.fileStates[window.fileStates.length - 1] !== s) window.fileStates.push(s);
        }
    };
    new MutationObserver(seen).observe(document.body, {subtree: true, childList: true, attributes: true});
    return true;";

#[tokio::test]
async fn b_sees_a_file_fetching_then_available_and_the_newest_forecast_first() -> anyhow::Result<()>
{
    let crew = Crew::assemble().await?;
    crew.open_town_square().await?;
    crew.bob.eval(WATCH_STATES).await?;
    let a = crew.a.handle();
    let bytes: Vec<u8> = (0..8_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let info = a
        .put_file(
            crew.flotilla,
            crew.town_square,
            "alice",
            "carte-marine.bin",
            "application/octet-stream",
            bytes,
        )
        .await?;
    a.create_post(
        crew.flotilla,
        crew.town_square,
        "alice",
        "la carte",
        None,
        vec![info.id],
    )
    .await?;
    let chip = format!(
        "#post-list [data-file-id=\"{}\"] .file-state[data-state=\"available\"]",
        info.id
    );
    crew.bob.wait_for_css(&chip, TRANSFER).await?;
    let states = crew.bob.eval("return window.fileStates;").await?;
    println!("states of the file on B's page: {states}");
    let states: Vec<String> = serde_json::from_value(states)?;
    ensure!(
        states.iter().any(|s| s == "fetching") && states.last().is_some_and(|s| s == "available"),
        "fetching then available: {states:?}"
    );
    crew.bob.screenshot("file-available").await?;
    if !have_eccodes() {
        println!(
            "weather half skipped: ecCodes tools not installed (scripts/test.sh installs them)"
        );
        return crew.disband().await;
    }
    let tmp = tempfile::tempdir()?;
    let mut ids = Vec::new();
    for (date, steps) in [
        ("20261206", [0u32, 6, 12, 24]),
        ("20261207", [0, 6, 12, 24]),
    ] {
        let path = biscay_forecast(tmp.path(), 2, date, &steps)?;
        let name = format!("biscay_{date}.grb2");
        let f = a
            .put_file(
                crew.flotilla,
                crew.town_square,
                "alice",
                &name,
                "application/octet-stream",
                std::fs::read(path)?,
            )
            .await?;
        a.create_post(
            crew.flotilla,
            crew.town_square,
            "alice",
            "GRIB",
            None,
            vec![f.id],
        )
        .await?;
        ids.push(f.id.to_string());
    }
    for id in &ids {
        let chip =
            format!("#post-list [data-file-id=\"{id}\"] .file-state[data-state=\"available\"]");
        crew.bob.wait_for_css(&chip, TRANSFER).await?;
    }
    crew.bob
        .goto(&crew.b.url(&format!("/#/f/{}/weather", crew.flotilla)))
        .await?;
    crew.bob
        .wait_for_js(
            "two forecasts listed",
            "return document.querySelectorAll('#weather-panel .forecast').length === 2;",
            UI,
        )
        .await?;
    let order = crew
        .bob
        .eval(
            "return [...document.querySelectorAll('#weather-panel .forecast')]
                .map(e => [e.dataset.fileId, e.classList.contains('superseded')]);",
        )
        .await?;
    let order: Vec<(String, bool)> = serde_json::from_value(order)?;
    ensure!(
        order == vec![(ids[1].clone(), false), (ids[0].clone(), true)],
        "newer first, older superseded: {order:?}"
    );
    crew.bob
        .wait_for_css("#wind-canvas[data-drawn]", UI)
        .await?;
    let shot = crew.bob.screenshot("weather").await?;
    println!("weather view: {}", shot.display());
    crew.disband().await
}

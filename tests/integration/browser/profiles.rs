//! Profiles in a real browser (issue 14 item 6): alice, on boat A, sets her full name and a
//! profile picture in the settings dialog (the picture chosen through the file input, as a
//! user does) and posts; on boat B, bob chooses "full name" display: A's post shows her
//! full name and her picture, loaded (a non-empty natural size), and so does B's member
//! list (screenshot `profile-on-b`).

use std::time::Duration;

use anyhow::ensure;
use image::{ImageEncoder, Rgb, RgbImage};

use super::crew::{Crew, UI};

/// Bound on A's profile and picture reaching B's page (a control event, then a 4 KB file
/// fetched by B's file service; the page asks again every 3 s while it is on its way).
const PROPAGATION: Duration = Duration::from_secs(60);

/// A 400×300 PNG: a blue and white picture, so the avatar is visibly not an initial.
fn picture() -> anyhow::Result<Vec<u8>> {
    let img = RgbImage::from_fn(400, 300, |x, y| {
        if (x / 40 + y / 40) % 2 == 0 {
            Rgb([20, 60, 160])
        } else {
            Rgb([250, 250, 250])
        }
    });
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out).write_image(
        img.as_raw(),
        400,
        300,
        image::ExtendedColorType::Rgb8,
    )?;
    Ok(out)
}

/// The avatar picture and author name of the first post on the page whose text is `text`,
/// once the picture has loaded: `[name, naturalWidth, naturalHeight]`.
fn loaded_post_avatar(text: &str) -> String {
    format!(
        "for (const p of document.querySelectorAll('#post-list article.post')) {{
            if (!p.querySelector('.post-text') || !p.querySelector('.post-text').textContent.includes({text:?})) continue;
            const img = p.querySelector('.post-gutter .avatar img.avatar-img');
            const name = p.querySelector('.post-author');
            if (img && img.complete && !img.hidden && img.naturalWidth > 0)
                return [name.textContent, img.naturalWidth, img.naturalHeight];
        }}
        return null;"
    )
}

#[tokio::test]
async fn a_profile_picture_set_on_a_is_seen_on_b() -> anyhow::Result<()> {
    let crew = Crew::assemble().await?;
    crew.open_town_square().await?;
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("portrait.png");
    std::fs::write(&file, picture()?)?;

    // Alice: settings → full name, saved; picture chosen through the file input.
    crew.alice.click("#settings-button", UI).await?;
    crew.alice
        .type_into("#profile-full-name", "Alice Marin", true, UI)
        .await?;
    crew.alice
        .eval("document.querySelector('#profile-full-name').form.requestSubmit(); return true;")
        .await?;
    crew.alice
        .type_into("#profile-picture", &file.display().to_string(), false, UI)
        .await?;
    crew.alice
        .wait_for_js(
            "alice's own preview shows the published picture",
            "const img = document.querySelector('#profile-preview img.avatar-img');
             return Boolean(img && img.dataset.picture && img.complete && !img.hidden && img.naturalWidth > 0);",
            UI,
        )
        .await?;
    let mine = crew
        .a
        .handle()
        .members(crew.flotilla)
        .await?
        .into_iter()
        .find(|m| m.username == "alice")
        .ok_or_else(|| anyhow::anyhow!("alice is not a member on A"))?;
    ensure!(
        mine.full_name.as_deref() == Some("Alice Marin") && mine.picture.is_some(),
        "A's ledger has alice's profile: {mine:?}"
    );
    crew.alice
        .eval("document.querySelector('dialog[open]').close(); return true;")
        .await?;
    crew.alice
        .submit_text("#composer", "Profil à jour", UI)
        .await?;

    // Bob: settings → show people by full name.
    crew.bob.click("#settings-button", UI).await?;
    crew.bob
        .eval(
            "const s = document.querySelector('#display-names');
             s.value = 'full_name'; s.dispatchEvent(new Event('change')); return true;",
        )
        .await?;
    crew.bob
        .eval("document.querySelector('dialog[open]').close(); return true;")
        .await?;
    let seen = crew
        .bob
        .wait_for_js(
            "alice's post on B with her full name and loaded picture",
            &loaded_post_avatar("Profil à jour"),
            PROPAGATION,
        )
        .await?;
    println!("alice's post on B: {seen}");
    let (name, w, h): (String, u32, u32) = serde_json::from_value(seen)?;
    ensure!(name.trim() == "Alice Marin", "full name shown: {name:?}");
    ensure!((w, h) == (128, 128), "the node's 128×128 picture: {w}×{h}");
    let shot = crew.bob.screenshot("profile-on-b").await?;
    println!("B's page: {}", shot.display());

    // B's member list: alice with her picture and full name.
    crew.bob
        .goto(&crew.b.url(&format!("/#/f/{}/fleet", crew.flotilla)))
        .await?;
    let row = crew
        .bob
        .wait_for_js(
            "alice in B's member list with her picture",
            "const li = document.querySelector('#crew-list [data-username=\"alice\"]');
             const img = li && li.querySelector('.avatar img.avatar-img');
             return img && img.complete && !img.hidden && img.naturalWidth > 0
                 ? li.querySelector('.crew-name').textContent : null;",
            PROPAGATION,
        )
        .await?;
    ensure!(row == "Alice Marin", "member list name: {row}");
    crew.disband().await
}

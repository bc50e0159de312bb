//! # flotilla-web
//!
//! The crew's web UI: static HTML, CSS and ES modules embedded in the `flotilla` binary, so a
//! phone on the boat's Wi-Fi needs nothing but the node. This crate owns the table of every
//! file under `static/` ([`asset`]); the node serves them at `/` (`index.html`) and at their
//! paths relative to `static/` (`/app.css`, `/js/main.js`, `/i18n/fr.json`…).

#[cfg(test)]
mod first_load;
#[cfg(test)]
mod tests;

/// A static file of the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asset {
    /// The file's bytes.
    pub bytes: &'static [u8],
    /// Its `Content-Type`.
    pub content_type: &'static str,
}

/// The entry page, served at `/`.
pub const INDEX: &str = "index.html";

/// Embed each listed file of `static/` as `(path, bytes)`.
macro_rules! embed {
    ($($path:literal,)*) => {
        &[$(($path, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/static/", $path)) as &[u8]),)*]
    };
}

/// Every file under `static/`, by its path relative to it (a test checks none is missing).
pub(crate) static ASSETS: &[(&str, &[u8])] = embed![
    "app.css",
    "i18n/en.json",
    "i18n/fr.json",
    "index.html",
    "js/api.js",
    "js/autocomplete.js",
    "js/boot.js",
    "js/dom.js",
    "js/format.js",
    "js/highlight.js",
    "js/i18n.js",
    "js/keys.js",
    "js/live.js",
    "js/lora.js",
    "js/main.js",
    "js/notify.js",
    "js/profile.js",
    "js/router.js",
    "js/session.js",
    "js/state.js",
    "js/theme.js",
    "js/views/accounts.js",
    "js/views/actions.js",
    "js/views/avatar.js",
    "js/views/channel.js",
    "js/views/channels.js",
    "js/views/composer.js",
    "js/views/crew.js",
    "js/views/dialogs.js",
    "js/views/emoji.js",
    "js/views/firstrun.js",
    "js/views/fleet.js",
    "js/views/files.js",
    "js/views/login.js",
    "js/views/post.js",
    "js/views/prefs.js",
    "js/views/profile.js",
    "js/views/search.js",
    "js/views/settings.js",
    "js/views/shell.js",
    "js/views/sidebar.js",
    "js/views/suggest.js",
    "js/views/thread.js",
    "js/views/timeline.js",
    "js/views/weather.js",
    "js/ws.js",
];

/// The `Content-Type` of a file name, from its extension.
pub fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Every asset path, in table order (for the node's listing and tests).
pub fn asset_paths() -> impl Iterator<Item = &'static str> {
    ASSETS.iter().map(|(path, _)| *path)
}

/// The asset at `path` (relative to the UI root, e.g. `index.html` or `js/main.js`; a leading
/// `/` is allowed and an empty path is the index). Paths with `..`, `\\` or empty segments are
/// refused.
pub fn asset(path: &str) -> Option<Asset> {
    let path = path.strip_prefix('/').unwrap_or(path);
    let path = if path.is_empty() { INDEX } else { path };
    if path.contains('\\')
        || path
            .split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..")
    {
        return None;
    }
    ASSETS
        .iter()
        .find(|(name, _)| *name == path)
        .map(|(name, bytes)| Asset {
            bytes,
            content_type: content_type(name),
        })
}

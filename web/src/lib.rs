//! # flotilla-web
//!
//! The crew's web UI: static HTML, CSS and ES modules embedded in the `flotilla` binary, so a
//! phone on the boat's Wi-Fi needs nothing but the node. Until the web UI lands, the node
//! serves a status page of its own (`node/src/http/page.rs`); this crate then provides
//! [`asset`] for every file under `static/`.

/// A static file of the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asset {
    /// The file's bytes.
    pub bytes: &'static [u8],
    /// Its `Content-Type`.
    pub content_type: &'static str,
}

/// The asset at `path` (relative to the UI root, e.g. `index.html`), if there is one.
/// No UI files ship yet, so this returns `None` for every path.
pub fn asset(path: &str) -> Option<Asset> {
    let _ = path;
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn no_asset_escapes_the_root() {
        assert_eq!(super::asset("../Cargo.toml"), None);
    }
}

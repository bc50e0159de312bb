//! The HTML policy of rendered posts: an ammonia allowlist of the tags, attributes, classes
//! and URLs that markdown output and our chat spans need, and nothing else.
//!
//! Links may point to `http`, `https`, `mailto` or an in-page `#…` route; images only to the
//! node's own `/api/…` (the boats have no internet, and a remote fetch would leak who reads).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use ammonia::Builder;

/// The tags that pulldown-cmark's output and our spans use.
pub(super) const TAGS: &[&str] = &[
    "a",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "img",
    "input",
    "li",
    "ol",
    "p",
    "pre",
    "span",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
];

/// Attributes allowed per tag (`class` is handled by [`CLASSES`], `rel` by ammonia).
const TAG_ATTRIBUTES: &[(&str, &[&str])] = &[
    ("a", &["href", "title"]),
    ("img", &["src", "alt", "title"]),
    ("input", &["checked"]),
    ("ol", &["start"]),
    ("span", &["title"]),
    ("td", &["style"]),
    ("th", &["style"]),
];

/// The only classes that survive: the ones [`super::render`] emits.
const CLASSES: &[(&str, &[&str])] = &[
    ("a", &["channel-link"]),
    ("span", &["mention", "mention-me", "hashtag", "emoji"]),
];

/// URL schemes allowed in links.
const URL_SCHEMES: &[&str] = &["http", "https", "mailto"];

/// The only place images may come from: the node's own API.
const IMAGE_PREFIX: &str = "/api/";

/// The shared cleaner (ammonia's builder is reusable and thread-safe).
static CLEANER: LazyLock<Builder<'static>> = LazyLock::new(cleaner);

/// Cleans HTML produced from markdown down to the allowlist.
pub(super) fn clean(html: &str) -> String {
    CLEANER.clean(html).to_string()
}

fn cleaner() -> Builder<'static> {
    let mut builder = Builder::empty();
    builder
        .tags(TAGS.iter().copied().collect())
        .generic_attributes(HashSet::new())
        .tag_attributes(per_tag(TAG_ATTRIBUTES))
        .allowed_classes(per_tag(CLASSES))
        .tag_attribute_values(HashMap::from([
            (
                "input",
                HashMap::from([("type", HashSet::from(["checkbox"]))]),
            ),
            ("a", HashMap::from([("target", HashSet::from(["_blank"]))])),
        ]))
        .set_tag_attribute_value("input", "disabled", "")
        .filter_style_properties(HashSet::from(["text-align"]))
        .url_schemes(URL_SCHEMES.iter().copied().collect())
        .attribute_filter(filter_urls)
        .link_rel(Some("noopener noreferrer"))
        .strip_comments(true)
        .clean_content_tags(HashSet::from(["script", "style"]))
        .id_prefix(None);
    builder
}

fn per_tag(
    table: &[(&'static str, &[&'static str])],
) -> HashMap<&'static str, HashSet<&'static str>> {
    table
        .iter()
        .map(|(tag, names)| (*tag, names.iter().copied().collect()))
        .collect()
}

/// Drops image sources outside [`IMAGE_PREFIX`] and link targets that are neither an allowed
/// absolute URL nor an in-page `#…` route; leaves every other attribute to the allowlist.
fn filter_urls<'v>(element: &str, attribute: &str, value: &'v str) -> Option<Cow<'v, str>> {
    let keep = match (element, attribute) {
        ("img", "src") => value.starts_with(IMAGE_PREFIX),
        ("a", "href") => value.starts_with('#') || has_allowed_scheme(value),
        _ => true,
    };
    keep.then_some(Cow::Borrowed(value))
}

/// Whether `url` starts with `scheme:` for one of [`URL_SCHEMES`] (case-insensitively).
fn has_allowed_scheme(url: &str) -> bool {
    url.split_once(':').is_some_and(|(scheme, _)| {
        URL_SCHEMES
            .iter()
            .any(|allowed| scheme.eq_ignore_ascii_case(allowed))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_safe_links_and_adds_rel() {
        let html = clean(r#"<a href="https://example.org" target="_blank">x</a>"#);
        assert!(html.contains(r#"href="https://example.org""#), "{html}");
        assert!(html.contains(r#"rel="noopener noreferrer""#), "{html}");
        assert!(html.contains(r#"target="_blank""#), "{html}");
    }

    #[test]
    fn drops_unsafe_and_relative_hrefs() {
        for href in [
            "javascript:alert(1)",
            "JaVaScRiPt:x",
            "data:text/html,x",
            "/x",
            "x.html",
        ] {
            let html = clean(&format!(r#"<a href="{href}">x</a>"#));
            assert!(!html.contains("href"), "{href}: {html}");
        }
        assert!(clean(r##"<a href="#/c/ab">x</a>"##).contains(r##"href="#/c/ab""##));
    }

    #[test]
    fn images_only_from_the_api() {
        assert!(clean(r#"<img src="/api/v1/x">"#).contains("src="));
        for src in [
            "http://evil/x.png",
            "//evil/x.png",
            "data:image/png;base64,AA",
            "x.png",
        ] {
            let html = clean(&format!(r#"<img src="{src}">"#));
            assert!(!html.contains("src="), "{src}: {html}");
        }
    }

    #[test]
    fn only_our_classes_and_checkboxes_survive() {
        let html = clean(r#"<span class="mention evil">x</span><input type="text">"#);
        assert_eq!(html, r#"<span class="mention">x</span><input disabled="">"#);
    }
}

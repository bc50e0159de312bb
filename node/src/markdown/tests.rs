//! Tests of [`super::render`] and [`super::mentioned_usernames`]: markdown features, chat
//! tokens, an XSS corpus, a property test, and a full-size post.

use std::time::Instant;

use super::*;

fn known_user(name: &str) -> bool {
    matches!(name, "bob" | "alice" | "jean.luc")
}

fn known_channel(name: &str) -> Option<String> {
    (name == "town-square").then(|| "ab12".to_owned())
}

fn as_alice(text: &str) -> String {
    let ctx = RenderCtx {
        me: Some("alice"),
        is_username: &known_user,
        channel_id: &known_channel,
    };
    render(text, &ctx)
}

#[test]
fn renders_commonmark_and_gfm_extensions() {
    let html = as_alice("# Titre\n\n**gras** *it* ~~barré~~\n\n- [x] fait\n- [ ] à faire\n");
    assert!(html.contains("<h1>Titre</h1>"), "{html}");
    assert!(html.contains("<strong>gras</strong>"), "{html}");
    assert!(html.contains("<em>it</em>"), "{html}");
    assert!(html.contains("<del>barré</del>"), "{html}");
    assert!(
        html.contains(r#"<input disabled="" type="checkbox" checked="">"#)
            || html.contains("checked"),
        "{html}"
    );
    let table = as_alice("| a | b |\n|:--|--:|\n| 1 | 2 |\n");
    assert!(
        table.contains("<table>") && table.contains("<td"),
        "{table}"
    );
}

#[test]
fn links_get_rel_and_target() {
    let html = as_alice("[météo](https://example.org/meteo \"titre\")");
    assert_eq!(
        html,
        "<p><a href=\"https://example.org/meteo\" title=\"titre\" target=\"_blank\" \
         rel=\"noopener noreferrer\">météo</a></p>\n"
    );
    let mail = as_alice("<skipper@example.org>");
    assert!(
        mail.contains(r#"href="mailto:skipper@example.org""#),
        "{mail}"
    );
}

#[test]
fn known_mentions_become_spans() {
    let html = as_alice("@bob @Alice @nobody @jean.luc. @here");
    assert!(
        html.contains(r#"<span class="mention">@bob</span>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<span class="mention mention-me">@Alice</span>"#),
        "{html}"
    );
    assert!(
        html.contains("@nobody") && !html.contains(">@nobody<"),
        "{html}"
    );
    assert!(
        html.contains(r#"<span class="mention">@jean.luc</span>."#),
        "{html}"
    );
    assert!(
        html.contains(r#"<span class="mention mention-me">@here</span>"#),
        "{html}"
    );
}

#[test]
fn known_channels_become_links() {
    let html = as_alice("voir ~town-square et ~inconnu");
    assert!(
        html.contains(r##"<a class="channel-link" href="#/c/ab12" rel="noopener noreferrer">~town-square</a>"##),
        "{html}"
    );
    assert!(html.contains("~inconnu"), "{html}");
}

#[test]
fn hashtags_and_emoji_become_spans() {
    let html = as_alice("#mouillage :sailboat: #ab");
    assert!(
        html.contains(r#"<span class="hashtag">#mouillage</span>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<span class="emoji" title=":sailboat:">⛵</span>"#),
        "{html}"
    );
    assert!(html.contains("#ab") && !html.contains(">#ab<"), "{html}");
}

#[test]
fn nothing_is_transformed_inside_code() {
    let text = "`@bob ~town-square #tag :tada:`\n\n```\n@bob ~town-square #tag :tada:\n```\n";
    let html = as_alice(text);
    assert!(!html.contains("<span"), "{html}");
    assert!(!html.contains("channel-link"), "{html}");
    assert_eq!(mentioned_usernames(text), Vec::<String>::new());
}

#[test]
fn nothing_is_transformed_inside_link_urls_or_image_text() {
    let html = as_alice("[lien](https://x.org/@bob/#tag/:tada:) ![@bob :tada:](/api/v1/f)");
    assert!(
        html.contains(r#"href="https://x.org/@bob/#tag/:tada:""#),
        "{html}"
    );
    assert!(html.contains(r#"alt="@bob :tada:""#), "{html}");
    assert!(!html.contains("<span"), "{html}");
}

#[test]
fn links_inside_image_descriptions_stay_text() {
    let html = as_alice("![a [b](https://c.org) d](/api/v1/f)");
    assert_eq!(html, "<p><img src=\"/api/v1/f\" alt=\"a b d\"></p>\n");
}

#[test]
fn links_do_not_nest_in_links() {
    let html = as_alice("[~town-square https://y.org](https://x.org)");
    assert!(!html.contains("channel-link"), "{html}");
    assert_eq!(html.matches("<a ").count(), 1, "{html}");
}

#[test]
fn bare_urls_become_links() {
    let html = as_alice("météo : https://meteo.fr/a?b=1&c=2.");
    assert_eq!(
        html,
        "<p>météo : <a href=\"https://meteo.fr/a?b=1&amp;c=2\" target=\"_blank\" \
         rel=\"noopener noreferrer\">https://meteo.fr/a?b=1&amp;c=2</a>.</p>\n"
    );
}

#[test]
fn raw_html_blocks_are_paragraphs_of_text() {
    let html = as_alice("<div onclick=\"x()\">\nbloc\n</div>");
    assert_eq!(
        html,
        "<p>&lt;div onclick=\"x()\"&gt;\nbloc\n&lt;/div&gt;</p>\n"
    );
}

#[test]
fn mentions_are_listed_lowercase_and_once() {
    let text = "@Bob @bob, @all et @jean.luc. mail: a@b.org `@code`";
    assert_eq!(mentioned_usernames(text), ["bob", "all", "jean.luc"]);
}

/// Inputs that try to get markup, scripts or remote fetches through.
const XSS_CORPUS: &[&str] = &[
    "<script>alert(1)</script>",
    "<SCRIPT SRC=http://evil/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<img src=http://evil/track.png>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "[clic](javascript:alert(1))",
    "[clic](JaVaScRiPt:alert(1))",
    "[clic](&#106;avascript:alert(1))",
    "[clic](java\tscript:alert(1))",
    "[clic](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[clic](vbscript:msgbox(1))",
    "![x](http://evil/track.png)",
    "![x](//evil/track.png)",
    "![x](data:image/svg+xml,<svg onload=alert(1)>)",
    "![x\" onerror=\"alert(1)](/api/v1/x)",
    "[x](https://ok.org \"t\\\" onmouseover=\\\"alert(1)\")",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<div onmouseover=\"alert(1)\">survol</div>",
    "<iframe src=\"https://evil\"></iframe>",
    "<style>body{display:none}</style>",
    "<svg><script>alert(1)</script></svg>",
    "***<b onclick=alert(1)>gras</b>***",
    "*__<i>x</i>__*",
    "<!-- <script>alert(1)</script> -->",
    "@bob\"><script>alert(1)</script>",
    "~town-square<script>x</script>",
    ":tada:<img src=x onerror=alert(1)>",
];

/// The tags of rendered HTML (as ammonia writes them): name and `name="value"` attributes.
fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    html.split('<')
        .skip(1)
        .filter_map(|rest| rest.split_once('>').map(|(tag, _)| tag))
        .filter(|tag| !tag.starts_with('/'))
        .map(|tag| {
            let (name, mut attributes) = tag.split_once(' ').unwrap_or((tag, ""));
            let mut pairs = Vec::new();
            while let Some((key, rest)) = attributes.trim_start().split_once("=\"") {
                let (value, rest) = rest.split_once('"').unwrap_or((rest, ""));
                pairs.push((key.to_lowercase(), value.to_lowercase()));
                attributes = rest;
            }
            (name.to_lowercase(), pairs)
        })
        .collect()
}

/// Fails unless every tag of `html` is one we emit, with no event handler and safe URLs.
fn assert_inert(source: &str, html: &str) {
    for (name, attributes) in tags(html) {
        assert!(
            sanitize::TAGS.contains(&name.as_str()),
            "<{name}> in {html:?} from {source:?}"
        );
        for (key, value) in attributes {
            assert!(!key.starts_with("on"), "{key} in {html:?} from {source:?}");
            let url_ok = match key.as_str() {
                "href" => ["https:", "http:", "mailto:", "#"]
                    .iter()
                    .any(|p| value.starts_with(p)),
                "src" => value.starts_with("/api/"),
                _ => true,
            };
            assert!(url_ok, "{key}={value} in {html:?} from {source:?}");
        }
    }
}

/// Whether some tag of `html` carries an `on…` attribute.
fn has_event_attribute(html: &str) -> bool {
    tags(html)
        .iter()
        .any(|(_, attributes)| attributes.iter().any(|(key, _)| key.starts_with("on")))
}

#[test]
fn xss_corpus_renders_inert() {
    for source in XSS_CORPUS {
        assert_inert(source, &as_alice(source));
    }
}

#[test]
fn raw_html_is_shown_as_text() {
    let html = as_alice("a <b>gras</b> <script>x</script>");
    assert_eq!(
        html,
        "<p>a &lt;b&gt;gras&lt;/b&gt; &lt;script&gt;x&lt;/script&gt;</p>\n"
    );
}

#[test]
fn a_full_size_post_renders() {
    let line =
        "**Escale** à ~town-square avec @bob :sailboat: #mouillage [météo](https://m.org) `code`\n";
    let mut text = String::new();
    while text.chars().count() + line.chars().count() <= 16_383 {
        text.push_str(line);
    }
    let started = Instant::now();
    let html = as_alice(&text);
    println!(
        "rendered a {}-char post to {} bytes of HTML in {:?}",
        text.chars().count(),
        html.len(),
        started.elapsed()
    );
    assert!(html.contains("channel-link"));
}

proptest::proptest! {
    #[test]
    fn render_never_panics_nor_lets_scripts_through(text in "\\PC{0,200}") {
        let html = as_alice(&text);
        let lower = html.to_lowercase();
        proptest::prop_assert!(!lower.contains("<script"), "{}", html);
        proptest::prop_assert!(!has_event_attribute(&lower), "{}", html);
    }

    #[test]
    fn markup_heavy_input_stays_inert(
        parts in proptest::collection::vec(
            proptest::sample::select(vec![
                "<", ">", "\"", "'", "=", " ", "\n", "script", "img", "onerror", "src",
                "javascript:", "[", "]", "(", ")", "!", "*", "_", "`", "@bob", "~town-square",
                "#tag", ":tada:", "&#", "x", "http://e/", "|", "-",
            ]),
            0..40,
        )
    ) {
        let text = parts.concat();
        let html = as_alice(&text);
        assert_inert(&text, &html);
    }
}

//! Markdown of posts → sanitized HTML for the web UI, rendered on the node (docs/api.md,
//! "Markdown"), plus the mentions a post makes and the emoji shortcode table.
//!
//! pulldown-cmark parses CommonMark with tables, strikethrough and task lists. We walk its
//! events: raw HTML becomes plain text; inside text runs that are not code, link targets or
//! image descriptions, `:shortcode:`, `@mention`, `~channel`, `#hashtag` and bare URLs become
//! small HTML spans or links (escaped here); ammonia then cleans the whole output (`sanitize`).

mod emoji;
mod inline;
mod sanitize;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::fmt::Write as _;

use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd, TextMergeStream};

pub use emoji::{emoji_shortcodes, shortcode_to_emoji};
use inline::Token;

/// The mentions that notify everyone in the channel, rendered even with no such user.
pub const SPECIAL_MENTIONS: [&str; 3] = ["channel", "all", "here"];

/// What rendering needs to know about the reader and the flotilla; cheap to build per request.
#[derive(Clone, Copy)]
pub struct RenderCtx<'a> {
    /// The reader's username: their mentions get the `mention-me` class.
    pub me: Option<&'a str>,
    /// Whether a username exists; it is given the lowercase name as written after `@`.
    pub is_username: &'a dyn Fn(&str) -> bool,
    /// The id (hex) of a channel the reader can see, by name (as written after `~`).
    pub channel_id: &'a dyn Fn(&str) -> Option<String>,
}

impl std::fmt::Debug for RenderCtx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RenderCtx")
            .field("me", &self.me)
            .finish_non_exhaustive()
    }
}

impl RenderCtx<'static> {
    /// A context that knows no user and no channel (only emoji, hashtags and `@channel`).
    pub fn anonymous() -> Self {
        fn no_user(_: &str) -> bool {
            false
        }
        fn no_channel(_: &str) -> Option<String> {
            None
        }
        RenderCtx {
            me: None,
            is_username: &no_user,
            channel_id: &no_channel,
        }
    }
}

/// Renders a post's markdown to sanitized HTML.
pub fn render(text: &str, ctx: &RenderCtx<'_>) -> String {
    let mut html = String::with_capacity(text.len() + text.len() / 2);
    pulldown_cmark::html::push_html(&mut html, chat_events(text, ctx).into_iter());
    sanitize::clean(&html)
}

/// The names a post mentions with `@` outside code, lowercase, each once, in order of first
/// use; `channel`, `all` and `here` included. Whether the users exist is for the caller.
pub fn mentioned_usernames(text: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut names = Vec::new();
    let mut place = Place::default();
    for event in parse(text) {
        place.enter(&event);
        let Event::Text(run) = event else { continue };
        if !place.is_prose() {
            continue;
        }
        for (_, token) in inline::tokenize(&run) {
            if let Token::Mention(name) = token {
                let name = name.to_lowercase();
                if seen.insert(name.clone()) {
                    names.push(name);
                }
            }
        }
    }
    names
}

fn parse(text: &str) -> TextMergeStream<'_, Parser<'_>> {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    TextMergeStream::new(Parser::new_ext(text, options))
}

/// Where the walk is: chat tokens are only looked for in prose.
#[derive(Debug, Default)]
struct Place {
    code_blocks: usize,
    images: usize,
    links: usize,
}

impl Place {
    fn enter(&mut self, event: &Event<'_>) {
        match event {
            Event::Start(Tag::CodeBlock(_)) => self.code_blocks += 1,
            Event::End(TagEnd::CodeBlock) => self.code_blocks = self.code_blocks.saturating_sub(1),
            Event::Start(Tag::Image { .. }) => self.images += 1,
            Event::End(TagEnd::Image) => self.images = self.images.saturating_sub(1),
            Event::Start(Tag::Link { .. }) => self.links += 1,
            Event::End(TagEnd::Link) => self.links = self.links.saturating_sub(1),
            _ => {}
        }
    }

    /// Text here is prose (not code, not an image description, which becomes an attribute):
    /// chat tokens and our own link tags may be emitted.
    fn is_prose(&self) -> bool {
        self.code_blocks == 0 && self.images == 0
    }

    /// A `~channel` or bare URL link may be emitted here (links do not nest).
    fn allows_links(&self) -> bool {
        self.links == 0
    }
}

/// The parser's events with raw HTML turned into text, our own link tags, and chat tokens.
/// (Everything inside an image stays as parsed: pulldown-cmark flattens it into `alt`.)
fn chat_events<'t>(text: &'t str, ctx: &RenderCtx<'_>) -> Vec<Event<'t>> {
    let mut events = Vec::new();
    let mut place = Place::default();
    for event in parse(text) {
        place.enter(&event);
        match event {
            Event::Html(raw) | Event::InlineHtml(raw) => events.push(Event::Text(raw)),
            Event::Start(Tag::HtmlBlock) => events.push(Event::Start(Tag::Paragraph)),
            Event::End(TagEnd::HtmlBlock) => events.push(Event::End(TagEnd::Paragraph)),
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                ..
            }) if place.is_prose() => events.push(Event::InlineHtml(
                link_open(link_type, &dest_url, &title).into(),
            )),
            Event::Text(run) if place.is_prose() => push_chat_text(&mut events, run, ctx, &place),
            other => events.push(other),
        }
    }
    events
}

/// `<a …>` for a markdown link; external links open in a new tab (ammonia adds `rel`).
fn link_open(link_type: LinkType, dest_url: &str, title: &str) -> String {
    let mailto = if link_type == LinkType::Email {
        "mailto:"
    } else {
        ""
    };
    let mut html = format!("<a href=\"{mailto}{}\"", escape(dest_url));
    if !title.is_empty() {
        let _ = write!(html, " title=\"{}\"", escape(title));
    }
    if !dest_url.starts_with('#') {
        html.push_str(" target=\"_blank\"");
    }
    html.push('>');
    html
}

/// Pushes a text run, with its resolved chat tokens as inline HTML.
fn push_chat_text<'t>(
    events: &mut Vec<Event<'t>>,
    run: CowStr<'t>,
    ctx: &RenderCtx<'_>,
    place: &Place,
) {
    let tokens = inline::tokenize(&run);
    if tokens
        .iter()
        .all(|(_, token)| matches!(token, Token::Text(_)))
    {
        events.push(Event::Text(run));
        return;
    }
    for (at, token) in tokens {
        match token_html(token, ctx, place) {
            Some(html) => events.push(Event::InlineHtml(html.into())),
            None => events.push(Event::Text(token.source(&run, at).to_owned().into())),
        }
    }
}

/// The HTML of a chat token, or `None` when it stays text (unknown user or channel).
fn token_html(token: Token<'_>, ctx: &RenderCtx<'_>, place: &Place) -> Option<String> {
    match token {
        Token::Text(_) => None,
        Token::Emoji(code, emoji) => Some(format!(
            "<span class=\"emoji\" title=\":{}:\">{emoji}</span>",
            escape(code)
        )),
        Token::Mention(name) => mention_html(name, ctx),
        Token::Channel(name) if place.allows_links() => {
            let id = (ctx.channel_id)(name)?;
            Some(format!(
                "<a class=\"channel-link\" href=\"#/c/{}\">~{}</a>",
                escape(&id),
                escape(name)
            ))
        }
        Token::Url(url) if place.allows_links() => Some(format!(
            "<a href=\"{url}\" target=\"_blank\">{url}</a>",
            url = escape(url)
        )),
        Token::Channel(_) | Token::Url(_) => None,
        Token::Hashtag(tag) => Some(format!("<span class=\"hashtag\">#{}</span>", escape(tag))),
    }
}

fn mention_html(name: &str, ctx: &RenderCtx<'_>) -> Option<String> {
    let lower = name.to_lowercase();
    let special = SPECIAL_MENTIONS.contains(&lower.as_str());
    if !special && !(ctx.is_username)(&lower) {
        return None;
    }
    let is_me = ctx.me.is_some_and(|me| me.to_lowercase() == lower);
    let class = if special || is_me {
        "mention mention-me"
    } else {
        "mention"
    };
    Some(format!("<span class=\"{class}\">@{}</span>", escape(name)))
}

/// Escapes text for HTML content or a double-quoted attribute.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

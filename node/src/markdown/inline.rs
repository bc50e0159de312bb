//! Finds the chat tokens inside one run of markdown text: `:shortcode:`, `@mention`,
//! `~channel`, `#hashtag` and bare `https://` URLs. It knows nothing of users or channels:
//! the caller decides which tokens become HTML and which stay text (an unknown `@name` stays
//! as it was written).

use super::emoji::{MAX_SHORTCODE_LEN, is_shortcode_char, shortcode_to_emoji};

/// What starts a bare URL that becomes a link.
const URL_PREFIXES: [&str; 2] = ["https://", "http://"];

/// The fewest characters of a hashtag, `#` excluded (as in Mattermost).
const MIN_HASHTAG_CHARS: usize = 3;

/// A piece of a text run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Token<'t> {
    /// Plain text, to be escaped as it is.
    Text(&'t str),
    /// `:code:` of a known emoji: the code (no colons) and its emoji.
    Emoji(&'t str, &'static str),
    /// `@name`: the name as written, without `@`.
    Mention(&'t str),
    /// `~name`: the channel name as written, without `~`.
    Channel(&'t str),
    /// `#tag`: the tag as written, without `#`.
    Hashtag(&'t str),
    /// A bare `http://` or `https://` URL, without the punctuation that ends a sentence.
    Url(&'t str),
}

impl<'t> Token<'t> {
    /// The source text of the token, sigils included (what an unresolved token renders as).
    pub(super) fn source(self, text: &'t str, at: usize) -> &'t str {
        match self {
            Token::Text(plain) | Token::Url(plain) => plain,
            Token::Emoji(code, _) => &text[at..at + code.len() + 2],
            Token::Mention(name) | Token::Channel(name) | Token::Hashtag(name) => {
                &text[at..at + name.len() + 1]
            }
        }
    }
}

/// Splits `text` into tokens, each with its byte offset in `text`; the pieces cover `text`
/// exactly, in order.
pub(super) fn tokenize(text: &str) -> Vec<(usize, Token<'_>)> {
    let mut tokens = Vec::new();
    let mut plain_from = 0;
    let mut at = 0;
    while let Some(c) = text[at..].chars().next() {
        let previous = text[..at].chars().next_back();
        match token_at(text, at, c, previous) {
            Some((token, len)) => {
                if plain_from < at {
                    tokens.push((plain_from, Token::Text(&text[plain_from..at])));
                }
                tokens.push((at, token));
                at += len;
                plain_from = at;
            }
            None => at += c.len_utf8(),
        }
    }
    if plain_from < text.len() {
        tokens.push((plain_from, Token::Text(&text[plain_from..])));
    }
    tokens
}

/// The token starting at byte `at` (whose char is `c`) and its length in bytes, if any.
fn token_at(text: &str, at: usize, c: char, previous: Option<char>) -> Option<(Token<'_>, usize)> {
    let rest = &text[at + c.len_utf8()..];
    if c == ':' {
        return emoji(rest);
    }
    if previous.is_some_and(is_word_char) {
        return None;
    }
    if c == 'h' {
        return bare_url(&text[at..]).map(|url| (Token::Url(url), url.len()));
    }
    let (token, name) = match c {
        '@' => {
            let name = trim_end_punct(take_while(rest, is_name_char));
            (Token::Mention(name), name)
        }
        '~' => {
            let name = trim_end_punct(take_while(rest, is_name_char));
            (Token::Channel(name), name)
        }
        '#' => {
            let tag = hashtag(rest)?;
            (Token::Hashtag(tag), tag)
        }
        _ => return None,
    };
    (!name.is_empty()).then_some((token, name.len() + 1))
}

/// `code:` of a known emoji at the start of `rest` (the opening `:` already seen).
fn emoji(rest: &str) -> Option<(Token<'_>, usize)> {
    let code = take_while(rest, is_shortcode_char);
    if code.is_empty() || code.len() > MAX_SHORTCODE_LEN || !rest[code.len()..].starts_with(':') {
        return None;
    }
    let emoji = shortcode_to_emoji(code)?;
    Some((Token::Emoji(code, emoji), code.len() + 2))
}

/// A hashtag at the start of `rest`: a letter, then letters, digits, `_` or `-`; 3+ chars.
fn hashtag(rest: &str) -> Option<&str> {
    if !rest.chars().next().is_some_and(char::is_alphabetic) {
        return None;
    }
    let tag = trim_end_punct(take_while(rest, |c| {
        c.is_alphanumeric() || matches!(c, '_' | '-')
    }));
    (tag.chars().count() >= MIN_HASHTAG_CHARS).then_some(tag)
}

/// A bare URL at the start of `rest`, up to a space or `<`, without trailing punctuation.
fn bare_url(rest: &str) -> Option<&str> {
    let scheme_len = URL_PREFIXES
        .iter()
        .find(|prefix| rest.starts_with(*prefix))?
        .len();
    let url = take_while(rest, |c| {
        !c.is_whitespace() && !matches!(c, '<' | '>' | '"')
    });
    let url = url.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '\'', '*', '_']);
    (url.len() > scheme_len).then_some(url)
}

/// The longest prefix of `s` whose chars all pass `keep`.
fn take_while(s: &str, keep: impl Fn(char) -> bool) -> &str {
    let end = s
        .char_indices()
        .find(|&(_, c)| !keep(c))
        .map_or(s.len(), |(i, _)| i);
    &s[..end]
}

/// `name` without the `.` or `-` that end a sentence or a dash (`@bob.` is `bob`).
fn trim_end_punct(name: &str) -> &str {
    name.trim_end_matches(['.', '-'])
}

/// Chars that glue a sigil to the word before it (`bob@example.org` is no mention).
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '@' | '~' | '#' | '&' | '/')
}

/// Chars of a username or channel name after `@` or `~`: letters, digits, `.`, `_`, `-`.
fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Token<'_>> {
        tokenize(text).into_iter().map(|(_, token)| token).collect()
    }

    #[test]
    fn finds_each_kind_of_token() {
        assert_eq!(
            kinds("hi @bob, ~town-square #mouillage :tada:"),
            vec![
                Token::Text("hi "),
                Token::Mention("bob"),
                Token::Text(", "),
                Token::Channel("town-square"),
                Token::Text(" "),
                Token::Hashtag("mouillage"),
                Token::Text(" "),
                Token::Emoji("tada", "🎉"),
            ]
        );
    }

    #[test]
    fn sentence_punctuation_ends_a_name() {
        assert_eq!(
            kinds("@bob."),
            vec![Token::Mention("bob"), Token::Text(".")]
        );
        assert_eq!(kinds("@jean.luc"), vec![Token::Mention("jean.luc")]);
    }

    #[test]
    fn ignores_sigils_glued_to_a_word() {
        assert_eq!(
            kinds("bob@example.org"),
            vec![Token::Text("bob@example.org")]
        );
        assert_eq!(kinds("a#bcd x~y"), vec![Token::Text("a#bcd x~y")]);
    }

    #[test]
    fn hashtags_start_with_a_letter_and_have_three_chars() {
        assert_eq!(kinds("#12ab"), vec![Token::Text("#12ab")]);
        assert_eq!(kinds("#ab"), vec![Token::Text("#ab")]);
        assert_eq!(kinds("#abc"), vec![Token::Hashtag("abc")]);
        assert_eq!(kinds("#étape"), vec![Token::Hashtag("étape")]);
    }

    #[test]
    fn bare_urls_stop_at_spaces_and_sentence_punctuation() {
        assert_eq!(
            kinds("(voir https://meteo.fr/bretagne?j=1).")[1],
            Token::Url("https://meteo.fr/bretagne?j=1")
        );
        assert_eq!(
            kinds("https:// httpx://a"),
            vec![Token::Text("https:// httpx://a")]
        );
        assert_eq!(kinds("xhttps://a.org"), vec![Token::Text("xhttps://a.org")]);
    }

    #[test]
    fn unknown_or_unclosed_shortcodes_stay_text() {
        assert_eq!(kinds(":nope: :tada"), vec![Token::Text(":nope: :tada")]);
        assert_eq!(
            kinds("12:30:+1:"),
            vec![Token::Text("12:30"), Token::Emoji("+1", "👍")]
        );
    }

    #[test]
    fn source_gives_back_the_written_text() {
        let text = "a :tada: @bob ~c #tag http://x.y.";
        let rebuilt: String = tokenize(text)
            .into_iter()
            .map(|(at, token)| token.source(text, at))
            .collect();
        assert_eq!(rebuilt, text);
    }

    proptest::proptest! {
        #[test]
        fn tokens_cover_the_text_exactly(text in ".{0,64}") {
            let rebuilt: String = tokenize(&text)
                .into_iter()
                .map(|(at, token)| token.source(&text, at))
                .collect();
            proptest::prop_assert_eq!(rebuilt, text);
        }
    }
}

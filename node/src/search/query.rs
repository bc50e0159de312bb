//! The search syntax, parsed into a [`Query`] (pure: no index, no store).
//!
//! Mattermost's syntax: whitespace-separated words (all must match), `"a phrase"`,
//! `-excluded` (a word or a `-"phrase"`), `prefix*`, `from:user` (or `from:@user`),
//! `in:channel` (or `in:~channel`; `in:@user`: the reader's DM with that user, resolved by
//! the caller), `on:`/`before:`/`after:YYYY-MM-DD` (UTC days), `#hashtag`,
//! `@user`. Several `from:` (or `in:`) terms are alternatives; everything else must hold.
//! An unknown `key:value` is a plain word. An unclosed quote runs to the end of the query.

use std::fmt;

/// The longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 512;
/// The most terms (words, phrases, filters) in one query.
pub const MAX_TERMS: usize = 32;
/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;

/// A query that cannot be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// Nothing to search for.
    #[error("an empty search")]
    Empty,
    /// Longer than [`MAX_QUERY_CHARS`].
    #[error("a search is at most {MAX_QUERY_CHARS} characters")]
    TooLong,
    /// More than [`MAX_TERMS`] terms.
    #[error("a search has at most {MAX_TERMS} terms")]
    TooManyTerms,
    /// A date that is not `YYYY-MM-DD`.
    #[error("`{0}` is not a date (YYYY-MM-DD)")]
    BadDate(String),
}

/// A calendar day (UTC), as days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day(pub i64);

impl Day {
    /// Parses `YYYY-MM-DD` (a real date of years 1970–9999).
    ///
    /// # Errors
    /// [`QueryError::BadDate`].
    pub fn parse(s: &str) -> Result<Day, QueryError> {
        let bad = || QueryError::BadDate(s.to_owned());
        let mut parts = s.split('-');
        let (Some(y), Some(m), Some(d), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
        if !digits(y, 4) || !digits(m, 2) || !digits(d, 2) {
            return Err(bad());
        }
        let (y, m, d): (i64, i64, i64) = (
            y.parse().map_err(|_| bad())?,
            m.parse().map_err(|_| bad())?,
            d.parse().map_err(|_| bad())?,
        );
        if y < 1970 || !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
            return Err(bad());
        }
        Ok(Day(days_from_civil(y, m, d)))
    }

    /// The first millisecond of the day.
    pub fn start_ms(self) -> i64 {
        self.0 * DAY_MS
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = civil_from_days(self.0);
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// A parsed search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Words that must all match (stemmed, accent-folded, typo-tolerant from 5 letters).
    pub words: Vec<String>,
    /// Phrases that must appear as written (accent- and case-folded).
    pub phrases: Vec<String>,
    /// Words that must not match (stemmed, no typo tolerance).
    pub excluded_words: Vec<String>,
    /// Phrases that must not appear.
    pub excluded_phrases: Vec<String>,
    /// Word prefixes (`bat*`), each must begin some word.
    pub prefixes: Vec<String>,
    /// `from:` usernames (any of them).
    pub from: Vec<String>,
    /// `in:` channel names (any of them).
    pub channels: Vec<String>,
    /// `on:` day.
    pub on: Option<Day>,
    /// `before:` day (posts strictly before it).
    pub before: Option<Day>,
    /// `after:` day (posts strictly after it).
    pub after: Option<Day>,
    /// `#hashtags`, without `#`.
    pub hashtags: Vec<String>,
    /// `@user` mentions, without `@`.
    pub mentions: Vec<String>,
}

impl Query {
    /// The time window the date filters leave, as `[from, to)` in ms since the epoch
    /// (`None` for an open end). An empty window (`after:` later than `before:`) gives
    /// `from >= to`.
    pub fn window_ms(&self) -> (Option<i64>, Option<i64>) {
        let mut lo: Option<i64> = None;
        let mut hi: Option<i64> = None;
        let mut raise = |v: i64| lo = Some(lo.map_or(v, |l| l.max(v)));
        if let Some(d) = self.on {
            raise(d.start_ms());
        }
        if let Some(d) = self.after {
            raise(d.start_ms() + DAY_MS);
        }
        let mut lower = |v: i64| hi = Some(hi.map_or(v, |h| h.min(v)));
        if let Some(d) = self.on {
            lower(d.start_ms() + DAY_MS);
        }
        if let Some(d) = self.before {
            lower(d.start_ms());
        }
        (lo, hi)
    }

    /// Does the query say anything about the text (words, phrases, prefixes, tags)? A query
    /// of filters alone (`from:anne`) lists every post they let through.
    pub fn has_text(&self) -> bool {
        !(self.words.is_empty()
            && self.phrases.is_empty()
            && self.prefixes.is_empty()
            && self.hashtags.is_empty()
            && self.mentions.is_empty())
    }

    fn term_count(&self) -> usize {
        self.words.len()
            + self.phrases.len()
            + self.excluded_words.len()
            + self.excluded_phrases.len()
            + self.prefixes.len()
            + self.from.len()
            + self.channels.len()
            + usize::from(self.on.is_some())
            + usize::from(self.before.is_some())
            + usize::from(self.after.is_some())
            + self.hashtags.len()
            + self.mentions.len()
    }

    fn is_empty(&self) -> bool {
        self.term_count() == 0
    }
}

/// One lexical piece of a query.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    Word { negated: bool, text: &'a str },
    Phrase { negated: bool, text: &'a str },
}

/// Splits on whitespace, keeping `"…"` (optionally `-"…"`) together.
fn pieces(input: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = input;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return out;
        }
        let (negated, body) = match rest.strip_prefix("-\"") {
            Some(b) => (true, b),
            None => (false, rest.strip_prefix('"').unwrap_or("")),
        };
        if negated || rest.starts_with('"') {
            let end = body.find('"').unwrap_or(body.len());
            out.push(Piece::Phrase {
                negated,
                text: &body[..end],
            });
            rest = body.get(end + 1..).unwrap_or("");
            continue;
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..end];
        let (negated, text) = match word.strip_prefix('-') {
            Some(t) if !t.is_empty() => (true, t),
            _ => (false, word),
        };
        out.push(Piece::Word { negated, text });
        rest = &rest[end..];
    }
}

/// Parses a search.
///
/// # Errors
/// [`QueryError::Empty`], [`QueryError::TooLong`], [`QueryError::TooManyTerms`],
/// [`QueryError::BadDate`].
pub fn parse(input: &str) -> Result<Query, QueryError> {
    if input.chars().count() > MAX_QUERY_CHARS {
        return Err(QueryError::TooLong);
    }
    let mut q = Query::default();
    for piece in pieces(input) {
        match piece {
            Piece::Phrase { text, .. } if text.trim().is_empty() => {}
            Piece::Phrase { negated, text } => {
                let list = if negated {
                    &mut q.excluded_phrases
                } else {
                    &mut q.phrases
                };
                list.push(text.trim().to_owned());
            }
            Piece::Word {
                negated: true,
                text,
            } => q.excluded_words.push(text.to_owned()),
            Piece::Word { text, .. } => word(&mut q, text)?,
        }
    }
    if q.is_empty() {
        return Err(QueryError::Empty);
    }
    if q.term_count() > MAX_TERMS {
        return Err(QueryError::TooManyTerms);
    }
    Ok(q)
}

/// A positive word: a filter, a tag, a mention, a prefix or a plain word.
fn word(q: &mut Query, text: &str) -> Result<(), QueryError> {
    if let Some((key, value)) = text.split_once(':')
        && !value.is_empty()
    {
        match key.to_lowercase().as_str() {
            "from" => return push_name(&mut q.from, value.trim_start_matches('@')),
            "in" | "channel" => return push_name(&mut q.channels, value.trim_start_matches('~')),
            "on" => return set_day(&mut q.on, value),
            "before" => return set_day(&mut q.before, value),
            "after" => return set_day(&mut q.after, value),
            _ => {}
        }
    }
    if let Some(tag) = text.strip_prefix('#') {
        return push_name(&mut q.hashtags, tag);
    }
    if let Some(name) = text.strip_prefix('@') {
        return push_name(&mut q.mentions, name.trim_end_matches('.'));
    }
    if let Some(prefix) = text.strip_suffix('*') {
        let prefix = prefix.trim_end_matches('*');
        if !prefix.is_empty() {
            q.prefixes.push(prefix.to_owned());
        }
        return Ok(());
    }
    q.words.push(text.to_owned());
    Ok(())
}

fn push_name(list: &mut Vec<String>, name: &str) -> Result<(), QueryError> {
    if !name.is_empty() {
        list.push(name.to_owned());
    }
    Ok(())
}

fn set_day(slot: &mut Option<Day>, value: &str) -> Result<(), QueryError> {
    *slot = Some(Day::parse(value)?);
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn words_phrases_and_exclusions() {
        let q = parse(r#"météo "code du ponton" -vent -"pas ce soir" bat*"#).unwrap();
        assert_eq!(q.words, strings(&["météo"]));
        assert_eq!(q.phrases, strings(&["code du ponton"]));
        assert_eq!(q.excluded_words, strings(&["vent"]));
        assert_eq!(q.excluded_phrases, strings(&["pas ce soir"]));
        assert_eq!(q.prefixes, strings(&["bat"]));
        assert!(q.has_text());
    }

    #[test]
    fn filters_tags_and_mentions() {
        let q = parse("from:@anne from:bruno in:~mouillage #GRIB @chloé. carburant").unwrap();
        assert_eq!(q.from, strings(&["anne", "bruno"]));
        assert_eq!(q.channels, strings(&["mouillage"]));
        assert_eq!(q.hashtags, strings(&["GRIB"]));
        assert_eq!(q.mentions, strings(&["chloé"]));
        assert_eq!(q.words, strings(&["carburant"]));
    }

    #[test]
    fn filters_alone_are_a_query_and_unknown_keys_are_words() {
        let q = parse("from:anne").unwrap();
        assert!(!q.has_text());
        let q = parse("http://example.org VHF:16").unwrap();
        assert_eq!(q.words, strings(&["http://example.org", "VHF:16"]));
        assert_eq!(parse("   "), Err(QueryError::Empty));
        assert_eq!(parse("\"\" *"), Err(QueryError::Empty));
        assert_eq!(
            parse("-"),
            Ok(Query {
                words: strings(&["-"]),
                ..Query::default()
            })
        );
    }

    #[test]
    fn unclosed_quotes_run_to_the_end() {
        let q = parse("\"cap au sud").unwrap();
        assert_eq!(q.phrases, strings(&["cap au sud"]));
    }

    #[test]
    fn dates_are_checked_and_make_a_window() {
        assert_eq!(Day::parse("1970-01-02"), Ok(Day(1)));
        assert_eq!(
            Day::parse("2024-02-29").map(|d| d.to_string()).unwrap(),
            "2024-02-29"
        );
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "24-01-01",
            "2024-1-01",
            "hier",
            "1969-12-31",
        ] {
            assert!(parse(&format!("on:{bad}")).is_err(), "{bad}");
        }
        let q = parse("after:2026-12-01 before:2026-12-07").unwrap();
        let (lo, hi) = q.window_ms();
        assert_eq!(lo, Some(Day::parse("2026-12-02").unwrap().start_ms()));
        assert_eq!(hi, Some(Day::parse("2026-12-07").unwrap().start_ms()));
        let q = parse("on:2026-12-07").unwrap();
        let (lo, hi) = q.window_ms();
        assert_eq!(hi.unwrap() - lo.unwrap(), DAY_MS);
    }

    #[test]
    fn days_round_trip() {
        for z in [0, 1, 59, 365, 10_957, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }

    #[test]
    fn limits() {
        assert_eq!(
            parse(&"a".repeat(MAX_QUERY_CHARS + 1)),
            Err(QueryError::TooLong)
        );
        assert_eq!(
            parse(&"a ".repeat(MAX_TERMS + 1)),
            Err(QueryError::TooManyTerms)
        );
    }
}

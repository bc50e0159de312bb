//! A parsed [`Query`] made concrete for one reader: words analysed into the tokens the index
//! holds, names resolved to keys and channels, the reader's channels applied. Both the
//! tantivy query ([`super::index`]) and the brute-force reference of the tests evaluate a
//! [`Plan`], so they agree by construction on what a query means.

use flotilla_protocol as proto;
use proto::PublicKey;
use proto::id::ChannelId;

use super::analysis::{self, ENGLISH, EXACT, FRENCH};
use super::query::Query;

/// One word's token as each analysis sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenAlt {
    /// French stem.
    pub fr: String,
    /// English stem.
    pub en: String,
    /// The folded word.
    pub exact: String,
    /// Edits allowed against indexed folded words (0: none).
    pub typos: u8,
}

/// A word: all its tokens must match (`l'eau` is `l` and `eau`).
pub type Word = Vec<TokenAlt>;

/// A phrase: folded tokens with their positions relative to the first.
pub type Phrase = Vec<(usize, String)>;

/// What a query asks of the index, for one reader.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Words that must match (by either stem, or by the folded word within its typos).
    pub words: Vec<Word>,
    /// Phrases that must appear.
    pub phrases: Vec<Phrase>,
    /// Folded prefixes; each must begin an indexed word.
    pub prefixes: Vec<String>,
    /// Words that must not match (stems only).
    pub not_words: Vec<Word>,
    /// Phrases that must not appear.
    pub not_phrases: Vec<Phrase>,
    /// Normalised hashtags that must all be present.
    pub hashtags: Vec<String>,
    /// Normalised mentioned names that must all be present.
    pub mentions: Vec<String>,
    /// Authors allowed (`None`: anyone).
    pub authors: Option<Vec<PublicKey>>,
    /// Channels searched: the reader's, narrowed by `in:`. Empty: nothing can match.
    pub channels: Vec<ChannelId>,
    /// `[from, to)` in ms.
    pub window: (Option<u64>, Option<u64>),
}

/// Names a query mentions, resolved by the caller (which knows users and channels).
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    /// Keys of the users named by `from:` (all users of each name); `None` without `from:`.
    pub authors: Option<Vec<PublicKey>>,
    /// Channels the reader may read, already narrowed by `in:`.
    pub channels: Vec<ChannelId>,
}

fn word(raw: &str, fuzzy: bool) -> Word {
    let fr = analysis::token_texts(FRENCH, raw);
    let en = analysis::token_texts(ENGLISH, raw);
    let exact = analysis::token_texts(EXACT, raw);
    fr.into_iter()
        .zip(en)
        .zip(exact)
        .map(|((fr, en), exact)| TokenAlt {
            typos: if fuzzy {
                analysis::typos_allowed(&exact)
            } else {
                0
            },
            fr,
            en,
            exact,
        })
        .collect()
}

fn phrase(raw: &str) -> Phrase {
    let tokens = analysis::tokens(EXACT, raw);
    let first = tokens.first().map_or(0, |(p, _)| *p);
    tokens.into_iter().map(|(p, t)| (p - first, t)).collect()
}

fn clamp_ms(v: Option<i64>) -> Option<u64> {
    v.map(|ms| u64::try_from(ms).unwrap_or(0))
}

impl Plan {
    /// Makes the plan of `query` for a reader whose names were `resolved`.
    pub fn new(query: &Query, resolved: Resolved) -> Plan {
        let mut plan = Plan {
            words: query
                .words
                .iter()
                .map(|w| word(w, true))
                .filter(|w| !w.is_empty())
                .collect(),
            phrases: query
                .phrases
                .iter()
                .map(|p| phrase(p))
                .filter(|p| !p.is_empty())
                .collect(),
            not_words: query
                .excluded_words
                .iter()
                .map(|w| word(w, false))
                .filter(|w| !w.is_empty())
                .collect(),
            not_phrases: query
                .excluded_phrases
                .iter()
                .map(|p| phrase(p))
                .filter(|p| !p.is_empty())
                .collect(),
            hashtags: query
                .hashtags
                .iter()
                .filter_map(|t| analysis::tag(t))
                .collect(),
            mentions: query
                .mentions
                .iter()
                .filter_map(|t| analysis::tag(t))
                .collect(),
            authors: resolved.authors,
            channels: resolved.channels,
            ..Plan::default()
        };
        // `l'ea*`: the leading tokens are words, the last one the prefix.
        for raw in &query.prefixes {
            let mut tokens = analysis::token_texts(EXACT, raw);
            if let Some(last) = tokens.pop() {
                plan.prefixes.push(last);
            }
            for t in tokens {
                plan.words.push(word(&t, false));
            }
        }
        let (lo, hi) = query.window_ms();
        plan.window = (clamp_ms(lo), clamp_ms(hi));
        plan
    }

    /// Can nothing match (no channel to search, an author name nobody has, an empty window)?
    pub fn matches_nothing(&self) -> bool {
        self.channels.is_empty()
            || self.authors.as_ref().is_some_and(Vec::is_empty)
            || matches!(self.window, (Some(lo), Some(hi)) if lo >= hi)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::search::query::parse;

    #[test]
    fn words_get_every_analysis_and_prefixes_split() {
        let q = parse("Bateaux l'ea* -vents \"Code  du ponton\"").unwrap();
        let plan = Plan::new(&q, Resolved::default());
        assert_eq!(plan.words.len(), 2);
        assert_eq!(plan.words[0][0].exact, "bateaux");
        assert_eq!(plan.words[0][0].typos, 1);
        assert_eq!(plan.words[1][0].exact, "l");
        assert_eq!(plan.words[1][0].typos, 0);
        assert_eq!(plan.prefixes, ["ea"]);
        assert_eq!(plan.not_words[0][0].typos, 0);
        assert_eq!(
            plan.phrases[0],
            [
                (0, "code".to_owned()),
                (1, "du".to_owned()),
                (2, "ponton".to_owned())
            ]
        );
        assert!(plan.matches_nothing(), "no channel to search");
    }
}

//! Text analysis, shared by indexing and querying so both sides agree: words split on
//! anything not a letter or digit, lowercased, accents folded (`météo` → `meteo`), then
//! stemmed as French ([`FRENCH`]) and as English ([`ENGLISH`]) (Snowball, through a bounded
//! cache of stems: `stem`), or left whole ([`EXACT`], for phrases, prefixes and typo
//! tolerance). Tags (`#hashtags`, `@mentions`) are one lowercased, folded token ([`TAG`]).

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer,
    TextAnalyzer, TokenizerManager,
};

use super::stem::CachedStemmer;

/// French analysis: folded, then French Snowball stems (`bateaux` → `bateau`).
pub(crate) const FRENCH: &str = "flotilla_fr";
/// English analysis: folded, then English Snowball stems (`anchors` → `anchor`).
pub(crate) const ENGLISH: &str = "flotilla_en";
/// Folded words, not stemmed.
pub(crate) const EXACT: &str = "flotilla_exact";
/// A whole value (tag, name), lowercased and folded.
pub(crate) const TAG: &str = "flotilla_tag";
/// Longer words are not indexed (hashes, URLs' noise).
pub(crate) const MAX_WORD_BYTES: usize = 40;

fn words(stem: Option<Language>) -> TextAnalyzer {
    let base = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_WORD_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter);
    match stem {
        Some(lang) => base.filter(CachedStemmer(lang)).build(),
        None => base.build(),
    }
}

/// The analyzer named `name` (one of the constants above); `None` for another name.
pub(crate) fn analyzer(name: &str) -> Option<TextAnalyzer> {
    match name {
        FRENCH => Some(words(Some(Language::French))),
        ENGLISH => Some(words(Some(Language::English))),
        EXACT => Some(words(None)),
        TAG => Some(
            TextAnalyzer::builder(RawTokenizer::default())
                .filter(LowerCaser)
                .filter(AsciiFoldingFilter)
                .build(),
        ),
        _ => None,
    }
}

/// Registers every analyzer of this module with an index's tokenizer manager.
pub(crate) fn register(manager: &TokenizerManager) {
    for name in [FRENCH, ENGLISH, EXACT, TAG] {
        if let Some(a) = analyzer(name) {
            manager.register(name, a);
        }
    }
}

/// The tokens of `text` under analyzer `name`, with their positions.
pub(crate) fn tokens(name: &str, text: &str) -> Vec<(usize, String)> {
    let Some(mut a) = analyzer(name) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut stream = a.token_stream(text);
    while stream.advance() {
        let t = stream.token();
        out.push((t.position, t.text.clone()));
    }
    out
}

/// The token texts of `text` under analyzer `name`.
pub(crate) fn token_texts(name: &str, text: &str) -> Vec<String> {
    tokens(name, text).into_iter().map(|(_, t)| t).collect()
}

/// A tag or name, normalised (lowercased, folded); `None` if nothing is left.
pub(crate) fn tag(value: &str) -> Option<String> {
    token_texts(TAG, value)
        .into_iter()
        .next()
        .filter(|t| !t.is_empty())
}

/// The `#hashtags` of a text, normalised: `#` at the start or after a character that is not
/// a letter or digit, then letters, digits, `_` or `-` (Mattermost's hashtags).
pub(crate) fn hashtags(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut prev: Option<char> = None;
    for (i, c) in text.char_indices() {
        let starts = c == '#' && prev.is_none_or(|p| !p.is_alphanumeric() && p != '#');
        prev = Some(c);
        if !starts {
            continue;
        }
        let rest = &text[i + 1..];
        let end = rest
            .find(|ch: char| !(ch.is_alphanumeric() || ch == '_' || ch == '-'))
            .unwrap_or(rest.len());
        if let Some(t) = tag(rest[..end].trim_end_matches('-')) {
            out.push(t);
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Typo tolerance for a folded query word: none under 5 characters, one edit from 5, two
/// from 9 (Meilisearch's rule).
pub(crate) fn typos_allowed(word: &str) -> u8 {
    match word.chars().count() {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

#[cfg(test)]
/// Levenshtein distance in characters (insert, delete, substitute), as tantivy's fuzzy
/// queries count it without transpositions.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diag + usize::from(ca != *cb))
                .min(above + 1)
                .min(row[j] + 1);
            diag = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn accents_fold_and_stems_meet() {
        assert_eq!(token_texts(EXACT, "Météo: l'Été"), ["meteo", "l", "ete"]);
        assert_eq!(
            token_texts(FRENCH, "bateaux"),
            token_texts(FRENCH, "bateau")
        );
        assert_eq!(
            token_texts(ENGLISH, "anchors"),
            token_texts(ENGLISH, "anchoring")
        );
        assert_eq!(token_texts(FRENCH, "météo"), token_texts(FRENCH, "meteo"));
    }

    #[test]
    fn hashtags_are_found_and_normalised() {
        assert_eq!(
            hashtags("#GRIB du jour, #météo-marine et a#b ##x"),
            ["grib", "meteo-marine"]
        );
        assert_eq!(tag("Chloé"), Some("chloe".into()));
        assert_eq!(tag(""), None);
    }

    #[test]
    fn typos_and_distance() {
        assert_eq!(typos_allowed("vent"), 0);
        assert_eq!(typos_allowed("ponton"), 1);
        assert_eq!(typos_allowed("carburant"), 2);
        assert_eq!(edit_distance("ponton", "ponton"), 0);
        assert_eq!(edit_distance("ponton", "pontn"), 1);
        assert_eq!(edit_distance("ponton", "pnoton"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}

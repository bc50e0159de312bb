//! [`CachedStemmer`]: tantivy's Snowball stemming with a bounded cache of the words already
//! stemmed. Chat words repeat (Zipf): most tokens of a post are words the analyzer has met
//! before, and a hash lookup costs a fraction of a Snowball run. Same stems as
//! [`tantivy::tokenizer::Stemmer`], by construction (a miss runs it).

use std::collections::HashMap;

use tantivy::tokenizer::{
    Language, RawTokenizer, Stemmer, TextAnalyzer, Token, TokenFilter, TokenStream, Tokenizer,
};

/// Distinct words whose stem each analyzer remembers; the cache is emptied when it is full
/// (about 2 MB of short words).
pub(crate) const STEM_CACHE_WORDS: usize = 32_768;

/// A token filter that replaces each token's text by its stem in one language.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CachedStemmer(pub(crate) Language);

impl TokenFilter for CachedStemmer {
    type Tokenizer<T: Tokenizer> = CachedStemmerFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> CachedStemmerFilter<T> {
        CachedStemmerFilter {
            inner: tokenizer,
            cache: StemCache::new(self.0),
        }
    }
}

/// [`CachedStemmer`] applied to a tokenizer.
#[derive(Clone)]
pub(crate) struct CachedStemmerFilter<T> {
    inner: T,
    cache: StemCache,
}

impl<T: Tokenizer> Tokenizer for CachedStemmerFilter<T> {
    type TokenStream<'a> = CachedStemmerStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        CachedStemmerStream {
            tail: self.inner.token_stream(text),
            cache: &mut self.cache,
        }
    }
}

/// The tokens of [`CachedStemmerFilter`].
pub(crate) struct CachedStemmerStream<'a, T> {
    tail: T,
    cache: &'a mut StemCache,
}

impl<T: TokenStream> TokenStream for CachedStemmerStream<'_, T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        self.cache.stem(&mut self.tail.token_mut().text);
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

/// Words → stems in one language, at most [`STEM_CACHE_WORDS`].
struct StemCache {
    language: Language,
    stemmer: TextAnalyzer,
    stems: HashMap<String, String>,
}

impl Clone for StemCache {
    /// A clone starts empty (tantivy clones an analyzer per segment being written).
    fn clone(&self) -> StemCache {
        StemCache::new(self.language)
    }
}

impl StemCache {
    fn new(language: Language) -> StemCache {
        StemCache {
            language,
            stemmer: TextAnalyzer::builder(RawTokenizer::default())
                .filter(Stemmer::new(language))
                .build(),
            stems: HashMap::new(),
        }
    }

    /// Replaces `word` by its stem.
    fn stem(&mut self, word: &mut String) {
        if let Some(stem) = self.stems.get(word.as_str()) {
            word.clone_from(stem);
            return;
        }
        let stem = {
            let mut stream = self.stemmer.token_stream(word);
            stream.advance().then(|| stream.token().text.clone())
        }
        .unwrap_or_else(|| word.clone());
        if self.stems.len() >= STEM_CACHE_WORDS {
            self.stems.clear();
        }
        let original = std::mem::replace(word, stem);
        self.stems.insert(original, word.clone());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;
    use tantivy::tokenizer::{LowerCaser, SimpleTokenizer};

    use super::*;

    fn texts(a: &mut TextAnalyzer, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut s = a.token_stream(text);
        while s.advance() {
            out.push(s.token().text.clone());
        }
        out
    }

    fn pair(language: Language) -> (TextAnalyzer, TextAnalyzer) {
        let cached = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(LowerCaser)
            .filter(CachedStemmer(language))
            .build();
        let plain = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(LowerCaser)
            .filter(Stemmer::new(language))
            .build();
        (cached, plain)
    }

    #[test]
    fn cached_stems_are_snowball_stems_before_and_after_the_cache_fills() {
        let (mut cached, mut plain) = pair(Language::French);
        let text = "Les bateaux sont au ponton, les bateaux partent";
        for _ in 0..2 {
            assert_eq!(texts(&mut cached, text), texts(&mut plain, text));
        }
        let many: Vec<String> = (0..STEM_CACHE_WORDS + 10)
            .map(|n| format!("mot{n}s"))
            .collect();
        let many = many.join(" ");
        assert_eq!(texts(&mut cached, &many), texts(&mut plain, &many));
        assert_eq!(texts(&mut cached, text), texts(&mut plain, text));
    }

    proptest! {
        #[test]
        fn any_text_stems_alike(words in prop::collection::vec("[a-zA-Zéèàçœ]{0,12}", 0..20)) {
            let text = words.join(" ");
            for language in [Language::French, Language::English] {
                let (mut cached, mut plain) = pair(language);
                for _ in 0..2 {
                    prop_assert_eq!(texts(&mut cached, &text), texts(&mut plain, &text));
                }
            }
        }
    }
}

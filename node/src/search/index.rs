//! One flotilla's tantivy index: its schema, the document of a post (written by the indexing
//! thread, [`super::writer`]), the translation of a [`Plan`] into a tantivy query, and the
//! `(id → version)` listing that reconciliation compares with the fold.
//!
//! # Fields
//! `id` (hex, the key of upserts), `channel` and `author` (hex), `ms` (when written, for
//! date filters and newest-first order), `fr`/`en` (stemmed text), `exact` (folded words with
//! positions: phrases, prefixes, typos), `tag`, `mention`, `version` ([`IndexDoc::version`]).

use std::collections::{HashMap, HashSet};
use std::ops::Bound;
use std::path::Path;

use flotilla_protocol as proto;
use proto::id::EventId;
use tantivy::collector::{DocSetCollector, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::query::{
    BooleanQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, RangeQuery, RegexQuery, TermQuery,
    TermSetQuery,
};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term,
};

use super::Error;
use super::analysis::{self, ENGLISH, EXACT, FRENCH};
use super::doc::IndexDoc;
use super::plan::{Phrase, Plan, Word};

/// tantivy indexing threads per writer, at most: one per core beyond the one the actor and
/// the indexing thread share, between 1 and this.
pub(crate) const MAX_INDEX_THREADS: usize = 4;
/// The writer's memory per tantivy indexing thread (tantivy's minimum is 15 MB): a segment is
/// flushed when it is full, so more memory means fewer, larger segments and fewer merges.
pub(crate) const WRITER_MEMORY_PER_THREAD: usize = 40_000_000;
/// Bumped when the schema or the analysis changes: an index of another version is rebuilt.
pub const SCHEMA_VERSION: u32 = 1;

/// The number of tantivy indexing threads on this machine.
fn index_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .saturating_sub(1)
        .clamp(1, MAX_INDEX_THREADS)
}

/// The schema's fields.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fields {
    id: Field,
    channel: Field,
    author: Field,
    ms: Field,
    fr: Field,
    en: Field,
    exact: Field,
    tag: Field,
    mention: Field,
    version: Field,
}

fn text_field(tokenizer: &str, positions: bool) -> TextOptions {
    let record = if positions {
        IndexRecordOption::WithFreqsAndPositions
    } else {
        IndexRecordOption::WithFreqs
    };
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(record),
    )
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED | FAST),
        channel: b.add_text_field("channel", STRING),
        author: b.add_text_field("author", STRING),
        ms: b.add_u64_field("ms", INDEXED | FAST | STORED),
        fr: b.add_text_field("fr", text_field(FRENCH, false)),
        en: b.add_text_field("en", text_field(ENGLISH, false)),
        exact: b.add_text_field("exact", text_field(EXACT, true)),
        tag: b.add_text_field("tag", STRING),
        mention: b.add_text_field("mention", STRING),
        version: b.add_u64_field("version", FAST),
    };
    (b.build(), fields)
}

/// A hit: the post and when it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// The post.
    pub id: EventId,
    /// Its HLC ms.
    pub ms: u64,
}

/// How hits are ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Ranking {
    /// Newest first (Mattermost's default).
    #[default]
    Newest,
    /// Best BM25 score first.
    Relevance,
}

impl Fields {
    /// The term that names a post (upserts and deletes go by it).
    pub(super) fn key(&self, id: &EventId) -> Term {
        Term::from_field_text(self.id, &id.to_string())
    }

    /// The tantivy document of a post.
    pub(super) fn document(&self, doc: &IndexDoc) -> TantivyDocument {
        let mut d = TantivyDocument::default();
        d.add_text(self.id, doc.id.to_string());
        d.add_text(self.channel, doc.channel.to_string());
        d.add_text(self.author, doc.author.to_string());
        d.add_u64(self.ms, doc.ms);
        for field in [self.fr, self.en, self.exact] {
            d.add_text(field, &doc.text);
        }
        for t in &doc.hashtags {
            d.add_text(self.tag, t);
        }
        for m in &doc.mentions {
            d.add_text(self.mention, m);
        }
        d.add_u64(self.version, doc.version());
        d
    }
}

/// One flotilla's index on disk, as searches see it (its writer lives on the indexing
/// thread, see [`super::writer`]).
pub struct FlotillaIndex {
    reader: IndexReader,
    fields: Fields,
}

impl std::fmt::Debug for FlotillaIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlotillaIndex").finish_non_exhaustive()
    }
}

impl FlotillaIndex {
    /// Opens the index in `dir`, creating it (and `dir`) if needed, with its writer.
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::Tantivy`] (a corrupt or foreign index: the caller wipes it;
    /// another writer holds its lock).
    pub(super) fn open(dir: &Path) -> Result<(FlotillaIndex, IndexWriter, Fields), Error> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let (schema, fields) = schema();
        let mmap = MmapDirectory::open(dir)?;
        let index = Index::open_or_create(mmap, schema)?;
        analysis::register(index.tokenizers());
        let threads = index_threads();
        let writer = index.writer_with_num_threads(threads, threads * WRITER_MEMORY_PER_THREAD)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok((FlotillaIndex { reader, fields }, writer, fields))
    }

    /// Makes the last commit visible to searches.
    ///
    /// # Errors
    /// [`Error::Tantivy`] (I/O).
    pub(super) fn reload(&self) -> Result<(), Error> {
        Ok(self.reader.reload()?)
    }

    /// How many posts are indexed (committed).
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Is nothing indexed (committed)?
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every committed post with its [`IndexDoc::version`].
    ///
    /// # Errors
    /// [`Error::Tantivy`] (a missing fast field: a foreign index).
    pub fn versions(&self) -> Result<HashMap<EventId, u64>, Error> {
        let searcher = self.reader.searcher();
        let mut out = HashMap::new();
        let mut key = String::new();
        for segment in searcher.segment_readers() {
            let fast = segment.fast_fields();
            let ids = fast
                .str("id")?
                .ok_or_else(|| Error::Corrupt("no id column".into()))?;
            let versions = fast.u64("version")?;
            for doc in segment.doc_ids_alive() {
                let Some(ord) = ids.term_ords(doc).next() else {
                    continue;
                };
                key.clear();
                if ids.ord_to_str(ord, &mut key)?
                    && let Ok(id) = key.parse::<EventId>()
                {
                    out.insert(id, versions.first(doc).unwrap_or(0));
                }
            }
        }
        Ok(out)
    }

    /// The posts matching `plan`, at most `limit`, newest first or by relevance, written at or
    /// before `until_ms` when given, among the committed posts.
    ///
    /// # Errors
    /// [`Error::Tantivy`].
    pub fn search(
        &self,
        plan: &Plan,
        ranking: Ranking,
        until_ms: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Hit>, Error> {
        if plan.matches_nothing() || limit == 0 {
            return Ok(Vec::new());
        }
        let query = self.query(plan, until_ms)?;
        let searcher = self.reader.searcher();
        // Excluded phrases are collected apart and filtered out: a phrase under `MustNot`
        // trips a debug assertion of tantivy 0.27's phrase scorer (`seek_danger`).
        let mut excluded: HashSet<DocAddress> = HashSet::new();
        for p in &plan.not_phrases {
            let q = BooleanQuery::new(vec![
                (Occur::Must, self.channels_query(plan)),
                (Occur::Must, self.phrase_query(p)),
            ]);
            excluded.extend(searcher.search(&q, &DocSetCollector)?);
        }
        let fetch = limit.saturating_add(excluded.len());
        let addrs: Vec<DocAddress> = match ranking {
            Ranking::Newest => searcher
                .search(
                    &query,
                    &TopDocs::with_limit(fetch).order_by_fast_field::<u64>("ms", Order::Desc),
                )?
                .into_iter()
                .map(|(_, a)| a)
                .collect(),
            Ranking::Relevance => searcher
                .search(&query, &TopDocs::with_limit(fetch).order_by_score())?
                .into_iter()
                .map(|(_, a)| a)
                .collect(),
        };
        let addrs: Vec<DocAddress> = addrs
            .into_iter()
            .filter(|a| !excluded.contains(a))
            .take(limit)
            .collect();
        let mut hits = Vec::with_capacity(addrs.len());
        for addr in addrs {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let id = doc
                .get_first(self.fields.id)
                .and_then(|v| v.as_str())
                .and_then(|s| s.parse::<EventId>().ok());
            let ms = doc.get_first(self.fields.ms).and_then(|v| v.as_u64());
            if let (Some(id), Some(ms)) = (id, ms) {
                hits.push(Hit { id, ms });
            }
        }
        Ok(hits)
    }

    fn query(&self, plan: &Plan, until_ms: Option<u64>) -> Result<BooleanQuery, Error> {
        let f = self.fields;
        let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let text = |field: Field, s: &str| Term::from_field_text(field, s);
        must.push((
            Occur::Must,
            Box::new(TermSetQuery::new(
                plan.channels
                    .iter()
                    .map(|c| text(f.channel, &c.to_string())),
            )),
        ));
        if let Some(authors) = &plan.authors {
            must.push((
                Occur::Must,
                Box::new(TermSetQuery::new(
                    authors.iter().map(|a| text(f.author, &a.to_string())),
                )),
            ));
        }
        let (lo, hi) = plan.window;
        let hi_incl = match (hi, until_ms) {
            (Some(h), Some(u)) => Some(h.saturating_sub(1).min(u)),
            (Some(h), None) => Some(h.saturating_sub(1)),
            (None, u) => u,
        };
        if lo.is_some() || hi_incl.is_some() {
            let bound = |v: Option<u64>| {
                v.map_or(Bound::Unbounded, |v| {
                    Bound::Included(Term::from_field_u64(f.ms, v))
                })
            };
            must.push((
                Occur::Must,
                Box::new(RangeQuery::new(bound(lo), bound(hi_incl))),
            ));
        }
        for w in &plan.words {
            must.push((Occur::Must, self.word_query(w)));
        }
        for p in &plan.phrases {
            must.push((Occur::Must, self.phrase_query(p)));
        }
        for p in &plan.prefixes {
            let pattern = format!("{}.*", regex_escape(p));
            must.push((
                Occur::Must,
                Box::new(RegexQuery::from_pattern(&pattern, f.exact)?),
            ));
        }
        for t in &plan.hashtags {
            must.push((Occur::Must, term(text(f.tag, t))));
        }
        for m in &plan.mentions {
            must.push((Occur::Must, term(text(f.mention, m))));
        }
        for w in &plan.not_words {
            must.push((Occur::MustNot, self.word_query(w)));
        }
        Ok(BooleanQuery::new(must))
    }

    fn channels_query(&self, plan: &Plan) -> Box<dyn Query> {
        let f = self.fields;
        Box::new(TermSetQuery::new(
            plan.channels
                .iter()
                .map(|c| Term::from_field_text(f.channel, &c.to_string())),
        ))
    }

    /// Every token of the word, each by its French stem, its English stem or (within its
    /// typos) its folded form.
    fn word_query(&self, word: &Word) -> Box<dyn Query> {
        let f = self.fields;
        let tokens = word
            .iter()
            .map(|t| {
                let mut alts: Vec<(Occur, Box<dyn Query>)> = vec![
                    (Occur::Should, term(Term::from_field_text(f.fr, &t.fr))),
                    (Occur::Should, term(Term::from_field_text(f.en, &t.en))),
                ];
                if t.typos > 0 {
                    let exact = Term::from_field_text(f.exact, &t.exact);
                    alts.push((
                        Occur::Should,
                        Box::new(FuzzyTermQuery::new(exact, t.typos, false)),
                    ));
                }
                (
                    Occur::Must,
                    Box::new(BooleanQuery::new(alts)) as Box<dyn Query>,
                )
            })
            .collect();
        Box::new(BooleanQuery::new(tokens))
    }

    fn phrase_query(&self, phrase: &Phrase) -> Box<dyn Query> {
        let f = self.fields;
        if let [(_, only)] = phrase.as_slice() {
            return term(Term::from_field_text(f.exact, only));
        }
        Box::new(PhraseQuery::new_with_offset(
            phrase
                .iter()
                .map(|(pos, t)| (*pos, Term::from_field_text(f.exact, t)))
                .collect(),
        ))
    }
}

fn term(t: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(t, IndexRecordOption::WithFreqs))
}

/// Escapes everything but letters and digits for tantivy's regex syntax.
fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if !c.is_alphanumeric() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

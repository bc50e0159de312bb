//! One flotilla's tantivy index: its schema, writes (upsert by post id, delete, commit), the
//! translation of a [`Plan`] into a tantivy query, and the `(id → version)` listing that
//! reconciliation compares with the fold.
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

/// The index writer's memory (tantivy's minimum is 15 MB): small enough for a Raspberry Pi.
pub(crate) const WRITER_MEMORY_BYTES: usize = 16_000_000;
/// Writes buffered before a commit is forced (searches commit whatever is pending first).
pub const COMMIT_EVERY: usize = 2_000;
/// Bumped when the schema or the analysis changes: an index of another version is rebuilt.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy)]
struct Fields {
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

/// One flotilla's index on disk.
pub struct FlotillaIndex {
    writer: IndexWriter,
    reader: IndexReader,
    fields: Fields,
    pending: usize,
}

impl std::fmt::Debug for FlotillaIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlotillaIndex")
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}

impl FlotillaIndex {
    /// Opens the index in `dir`, creating it (and `dir`) if needed.
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::Tantivy`] (a corrupt or foreign index: the caller wipes it).
    pub fn open(dir: &Path) -> Result<FlotillaIndex, Error> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let (schema, fields) = schema();
        let mmap = MmapDirectory::open(dir)?;
        let index = Index::open_or_create(mmap, schema)?;
        analysis::register(index.tokenizers());
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY_BYTES)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(FlotillaIndex {
            writer,
            reader,
            fields,
            pending: 0,
        })
    }

    /// Adds or replaces a post.
    ///
    /// # Errors
    /// [`Error::Tantivy`] if the indexing thread died.
    pub fn upsert(&mut self, doc: &IndexDoc) -> Result<(), Error> {
        let f = self.fields;
        let key = doc.id.to_string();
        self.writer.delete_term(Term::from_field_text(f.id, &key));
        let mut d = TantivyDocument::default();
        d.add_text(f.id, &key);
        d.add_text(f.channel, doc.channel.to_string());
        d.add_text(f.author, doc.author.to_string());
        d.add_u64(f.ms, doc.ms);
        for field in [f.fr, f.en, f.exact] {
            d.add_text(field, &doc.text);
        }
        for t in &doc.hashtags {
            d.add_text(f.tag, t);
        }
        for m in &doc.mentions {
            d.add_text(f.mention, m);
        }
        d.add_u64(f.version, doc.version());
        self.writer.add_document(d)?;
        self.wrote()
    }

    /// Removes a post (nothing happens if it is not indexed).
    ///
    /// # Errors
    /// [`Error::Tantivy`] if a forced commit fails.
    pub fn delete(&mut self, id: &EventId) -> Result<(), Error> {
        self.writer
            .delete_term(Term::from_field_text(self.fields.id, &id.to_string()));
        self.wrote()
    }

    /// Removes every post (before a rebuild).
    ///
    /// # Errors
    /// [`Error::Tantivy`].
    pub fn clear(&mut self) -> Result<(), Error> {
        self.writer.delete_all_documents()?;
        self.pending += 1;
        Ok(())
    }

    fn wrote(&mut self) -> Result<(), Error> {
        self.pending += 1;
        if self.pending >= COMMIT_EVERY {
            self.commit()?;
        }
        Ok(())
    }

    /// Writes pending changes to disk and makes them visible to searches.
    ///
    /// # Errors
    /// [`Error::Tantivy`] (disk full, I/O).
    pub fn commit(&mut self) -> Result<(), Error> {
        if self.pending == 0 {
            return Ok(());
        }
        self.writer.commit()?;
        self.reader.reload()?;
        self.pending = 0;
        Ok(())
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
    /// before `until_ms` when given. Commits pending writes first.
    ///
    /// # Errors
    /// [`Error::Tantivy`].
    pub fn search(
        &mut self,
        plan: &Plan,
        ranking: Ranking,
        until_ms: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Hit>, Error> {
        self.commit()?;
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

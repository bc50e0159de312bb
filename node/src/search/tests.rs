//! The index against a brute-force reference: every [`Plan`] evaluated directly over the
//! documents must give what tantivy gives, for random posts, edits, deletes, crashes and
//! queries, per reader. Plus named French and English cases.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet, HashSet};

use flotilla_protocol as proto;
use proptest::prelude::*;
use proto::PublicKey;
use proto::id::{ChannelId, EventId, FlotillaId};

use super::analysis::{self, ENGLISH, EXACT, FRENCH};
use super::plan::{Phrase, Word};
use super::*;

const DAY: u64 = 86_400_000;
/// 2026-12-01, a day of the tests' posts.
const BASE_DAY: u64 = 20_788;

fn user(n: u8) -> PublicKey {
    PublicKey([n + 1; 32])
}

fn channel(n: u8) -> ChannelId {
    ChannelId([n + 1; 16])
}

/// Channel 0 is public; 1 is private to users 0 and 1; 2 is private to user 2.
fn readable(reader: u8) -> Vec<ChannelId> {
    let mut out = vec![channel(0)];
    if reader <= 1 {
        out.push(channel(1));
    }
    if reader == 2 {
        out.push(channel(2));
    }
    out
}

fn doc(id: u8, channel_n: u8, author: u8, ms: u64, text: &str) -> IndexDoc {
    IndexDoc::new(
        EventId([id; 32]),
        channel(channel_n),
        user(author),
        ms,
        text,
        &[],
        &[],
    )
}

// ---- the brute-force reference -------------------------------------------------------------

struct Analysed {
    fr: HashSet<String>,
    en: HashSet<String>,
    exact: BTreeMap<usize, String>,
}

fn analyse(text: &str) -> Analysed {
    Analysed {
        fr: analysis::token_texts(FRENCH, text).into_iter().collect(),
        en: analysis::token_texts(ENGLISH, text).into_iter().collect(),
        exact: analysis::tokens(EXACT, text).into_iter().collect(),
    }
}

fn word_matches(a: &Analysed, word: &Word) -> bool {
    word.iter().all(|t| {
        a.fr.contains(&t.fr)
            || a.en.contains(&t.en)
            || (t.typos > 0
                && a.exact
                    .values()
                    .any(|u| analysis::edit_distance(&t.exact, u) <= usize::from(t.typos)))
    })
}

fn phrase_matches(a: &Analysed, phrase: &Phrase) -> bool {
    a.exact.keys().any(|start| {
        phrase
            .iter()
            .all(|(off, t)| a.exact.get(&(start + off)) == Some(t))
    })
}

fn reference(plan: &Plan, d: &IndexDoc, until: Option<u64>) -> bool {
    if plan.matches_nothing() || !plan.channels.contains(&d.channel) {
        return false;
    }
    if plan
        .authors
        .as_ref()
        .is_some_and(|a| !a.contains(&d.author))
    {
        return false;
    }
    let (lo, hi) = plan.window;
    if lo.is_some_and(|l| d.ms < l) || hi.is_some_and(|h| d.ms >= h) {
        return false;
    }
    if until.is_some_and(|u| d.ms > u) {
        return false;
    }
    let a = analyse(&d.text);
    plan.words.iter().all(|w| word_matches(&a, w))
        && plan.phrases.iter().all(|p| phrase_matches(&a, p))
        && plan
            .prefixes
            .iter()
            .all(|p| a.exact.values().any(|u| u.starts_with(p.as_str())))
        && plan.hashtags.iter().all(|t| d.hashtags.contains(t))
        && plan.mentions.iter().all(|m| d.mentions.contains(m))
        && !plan.not_words.iter().any(|w| word_matches(&a, w))
        && !plan.not_phrases.iter().any(|p| phrase_matches(&a, p))
}

/// Resolves `from:uN` and `in:cN` the way the actor does, for `reader`.
fn resolve(q: &Query, reader: u8) -> Resolved {
    let authors = (!q.from.is_empty()).then(|| {
        (0..4)
            .filter(|n| {
                q.from
                    .iter()
                    .any(|f| f.eq_ignore_ascii_case(&format!("u{n}")))
            })
            .map(user)
            .collect()
    });
    let channels = readable(reader)
        .into_iter()
        .filter(|c| {
            q.channels.is_empty()
                || q.channels
                    .iter()
                    .any(|name| (0..3).any(|n| *name == format!("c{n}") && channel(n) == *c))
        })
        .collect();
    Resolved { authors, channels }
}

fn plan_for(query: &str, reader: u8) -> Plan {
    let q = parse(query).unwrap_or_default();
    Plan::new(&q, resolve(&q, reader))
}

fn found(
    search: &mut Search,
    f: &FlotillaId,
    plan: &Plan,
    until: Option<u64>,
) -> BTreeSet<EventId> {
    search
        .search(f, plan, Ranking::Newest, until, 10_000)
        .unwrap()
        .into_iter()
        .map(|h| h.id)
        .collect()
}

fn expected<'a>(
    docs: impl IntoIterator<Item = &'a IndexDoc>,
    plan: &Plan,
    until: Option<u64>,
) -> BTreeSet<EventId> {
    docs.into_iter()
        .filter(|d| reference(plan, d, until))
        .map(|d| d.id)
        .collect()
}

// ---- named cases ---------------------------------------------------------------------------

fn corpus() -> Vec<IndexDoc> {
    let ms = |day: u64, n: u64| (BASE_DAY + day) * DAY + n;
    vec![
        doc(1, 0, 0, ms(0, 1), "La météo annonce 25 nœuds demain"),
        doc(2, 0, 1, ms(1, 2), "Les bateaux sont au ponton B"),
        doc(
            3,
            0,
            2,
            ms(2, 3),
            "The fuel dock closes at 18h, anchors aweigh",
        ),
        doc(4, 1, 0, ms(3, 4), "Le code du ponton est 4321 #mouillage"),
        doc(5, 2, 2, ms(4, 5), "Secret de Chloé : le code du ponton"),
        doc(6, 0, 1, ms(5, 6), "@anne le #GRIB de mardi est arrivé"),
        doc(7, 0, 3, ms(6, 7), "Carburant au quai, pas ce soir"),
    ]
}

fn indexed(dir: &std::path::Path, docs: &[IndexDoc]) -> (Search, FlotillaId) {
    let mut s = Search::new(dir.to_path_buf());
    let f = FlotillaId([9; 16]);
    for d in docs {
        s.upsert(&f, d).unwrap();
    }
    (s, f)
}

fn ids(search: &mut Search, f: &FlotillaId, query: &str, reader: u8) -> Vec<u8> {
    let plan = plan_for(query, reader);
    let mut out: Vec<u8> = found(search, f, &plan, None)
        .iter()
        .map(|id| id.0[0])
        .collect();
    out.sort_unstable();
    out
}

#[test]
fn french_and_english_cases() {
    let dir = tempfile::tempdir().unwrap();
    let (mut s, f) = indexed(dir.path(), &corpus());
    let cases: &[(&str, u8, &[u8])] = &[
        ("meteo", 0, &[1]),     // accents folded
        ("MÉTÉO", 0, &[1]),     // case and accents
        ("bateau", 0, &[2]),    // French plural stem
        ("anchor", 0, &[3]),    // English plural stem
        ("closing", 0, &[3]),   // English verb stem
        ("carbirant", 0, &[7]), // one typo, 9 letters
        ("pnton", 0, &[2, 4]),  // one typo (5 letters)
        ("cde", 0, &[]),        // no typo tolerance under 5 letters
        ("\"code du ponton\"", 0, &[4]),
        ("\"ponton du code\"", 0, &[]),
        ("ponton -code", 0, &[2]),
        ("ponton -\"code du\"", 0, &[2]),
        ("pont*", 0, &[2, 4]),
        ("from:u1", 0, &[2, 6]),
        ("from:u9", 0, &[]),
        ("in:c1", 0, &[4]),
        ("in:c2", 0, &[]), // private, reader not in it
        ("on:2026-12-02", 0, &[2]),
        ("after:2026-12-05", 0, &[6, 7]),
        ("before:2026-12-02 ponton", 0, &[]),
        ("before:2026-12-03", 0, &[1, 2]),
        ("#grib", 0, &[6]),
        ("#mouillage", 0, &[4]),
        ("@anne", 0, &[6]),
        ("mardi grib", 0, &[6]),
        ("code", 2, &[5]), // reader 2 sees channel 2, not channel 1
        ("code", 3, &[]),  // reader 3 sees only the public channel
    ];
    for (query, reader, want) in cases {
        assert_eq!(
            ids(&mut s, &f, query, *reader),
            *want,
            "{query} as reader {reader}"
        );
    }
}

#[test]
fn edits_replace_and_deletes_remove() {
    let dir = tempfile::tempdir().unwrap();
    let (mut s, f) = indexed(dir.path(), &corpus());
    let mut edited = corpus()[1].clone();
    edited = IndexDoc::new(
        edited.id,
        edited.channel,
        edited.author,
        edited.ms,
        "Les voiliers",
        &[],
        &[],
    );
    s.upsert(&f, &edited).unwrap();
    assert!(ids(&mut s, &f, "bateau", 0).is_empty());
    assert_eq!(ids(&mut s, &f, "voilier", 0), [2]);
    s.delete(&f, &EventId([1; 32])).unwrap();
    assert!(ids(&mut s, &f, "meteo", 0).is_empty());
}

#[test]
fn a_crash_loses_nothing_after_reconciliation() {
    let dir = tempfile::tempdir().unwrap();
    let docs = corpus();
    {
        let (mut s, f) = indexed(dir.path(), &docs[..3]);
        s.reconcile(&f, docs[..3].iter().cloned()).unwrap();
        for d in &docs[3..] {
            s.upsert(&f, d).unwrap();
        }
        // Dropped without a commit: the last writes are lost, as after kill -9.
    }
    let mut s = Search::new(dir.path().to_path_buf());
    let f = FlotillaId([9; 16]);
    assert!(s.needs_reconcile(&f));
    let stats = s.reconcile(&f, docs.iter().cloned()).unwrap();
    assert_eq!(stats.posts, docs.len());
    assert_eq!(ids(&mut s, &f, "#grib", 0), [6]);
    let again = s.reconcile(&f, docs.iter().cloned()).unwrap();
    assert_eq!(
        again.indexed + again.removed,
        0,
        "a second pass changes nothing"
    );
    let rebuilt = s.rebuild(&f, docs[..2].iter().cloned()).unwrap();
    assert_eq!(rebuilt.indexed, 2);
    assert!(ids(&mut s, &f, "#grib", 0).is_empty());
}

#[test]
fn a_full_queue_refuses_writes_and_the_catch_up_restores_them() {
    let dir = tempfile::tempdir().unwrap();
    let (mut s, f) = indexed(dir.path(), &corpus()[..1]);
    s.reconcile(&f, corpus().into_iter().take(1)).unwrap();
    let (release, held) = std::sync::mpsc::channel();
    s.hold(&f, held).unwrap();
    let fold: Vec<IndexDoc> = (0..INDEX_QUEUE + 100)
        .map(|n| {
            let mut id = [0xAB; 32];
            id[..8].copy_from_slice(&(n as u64).to_be_bytes());
            let mut d = doc(0, 0, 1, BASE_DAY * DAY + n as u64, "amarre au ponton");
            d.id = EventId(id);
            d
        })
        .collect();
    for d in &fold {
        s.upsert(&f, d).unwrap();
    }
    s.delete(&f, &corpus()[0].id).unwrap();
    assert!(s.dropped() > 0, "the held thread cannot take them all");
    assert!(
        !s.needs_reconcile(&f),
        "a few refused posts are caught up, not reconciled"
    );
    drop(release);
    let behind = s.take_behind(&f);
    assert_eq!(behind.len() as u64, s.dropped());
    let posts = behind
        .iter()
        .map(|id| (*id, fold.iter().find(|d| d.id == *id).cloned()));
    s.catch_up(&f, posts).unwrap();
    let plan = plan_for("amarre", 0);
    let hits = s
        .search(&f, &plan, Ranking::Newest, None, 2 * INDEX_QUEUE)
        .unwrap();
    assert_eq!(hits.len(), fold.len());
    assert!(
        ids(&mut s, &f, "meteo", 0).is_empty(),
        "the refused delete is caught up too"
    );
}

#[test]
fn a_foreign_index_is_wiped() {
    let dir = tempfile::tempdir().unwrap();
    let f = FlotillaId([9; 16]);
    let s = Search::new(dir.path().to_path_buf());
    let sub = s.dir_of(&f);
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(sub.join("meta.json"), "not json").unwrap();
    let mut s = Search::new(dir.path().to_path_buf());
    s.upsert(&f, &corpus()[0]).unwrap();
    assert_eq!(ids(&mut s, &f, "meteo", 0), [1]);
}

// ---- the property --------------------------------------------------------------------------

const VOCAB: &[&str] = &[
    "météo",
    "meteo",
    "bateau",
    "bateaux",
    "ponton",
    "pontons",
    "mouillage",
    "carburant",
    "vent",
    "anchor",
    "anchors",
    "sailing",
    "sails",
    "code",
    "du",
    "le",
    "fuel",
    "dock",
    "l'eau",
    "été",
    "marée",
    "cap",
    "sud",
    "#grib",
    "#météo",
    "@anne",
    "@bruno",
    "quai",
];
const QUERY_WORDS: &[&str] = &[
    "meteo",
    "bateau",
    "ponton",
    "mouilage",
    "carbirant",
    "vents",
    "anchor",
    "sail",
    "code",
    "du",
    "fuel",
    "eau",
    "ete",
    "maree",
    "cap",
    "quai",
    "pontn",
    "sailling",
    "docks",
];

#[derive(Debug, Clone)]
enum Op {
    Post {
        channel: u8,
        author: u8,
        day: u64,
        words: Vec<usize>,
    },
    Edit {
        target: usize,
        words: Vec<usize>,
    },
    Delete {
        target: usize,
    },
    Crash,
}

fn op() -> impl Strategy<Value = Op> {
    let words = prop::collection::vec(0..VOCAB.len(), 1..7);
    prop_oneof![
        6 => (0u8..3, 0u8..4, 0u64..5, words.clone())
            .prop_map(|(channel, author, day, words)| Op::Post { channel, author, day, words }),
        2 => (0usize..64, words).prop_map(|(target, words)| Op::Edit { target, words }),
        1 => (0usize..64).prop_map(|target| Op::Delete { target }),
        1 => Just(Op::Crash),
    ]
}

fn query_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(QUERY_WORDS).prop_map(str::to_owned),
        1 => (0..VOCAB.len() - 1).prop_map(|i| format!("\"{} {}\"", VOCAB[i], VOCAB[i + 1])),
        1 => prop::sample::select(QUERY_WORDS).prop_map(|w| format!("-{w}")),
        1 => (0..VOCAB.len() - 1).prop_map(|i| format!("-\"{} {}\"", VOCAB[i], VOCAB[i + 1])),
        1 => prop::sample::select(QUERY_WORDS).prop_map(|w| format!("{}*", &w[..3.min(w.len())])),
        1 => (0u8..5).prop_map(|n| format!("from:u{n}")),
        1 => (0u8..3).prop_map(|n| format!("in:c{n}")),
        1 => (0u64..5, prop::sample::select(&["on", "before", "after"][..]))
            .prop_map(|(d, k)| format!("{k}:2026-12-0{}", d + 1)),
        1 => prop::sample::select(&["#grib", "#meteo", "@anne", "@bruno"][..]).prop_map(str::to_owned),
    ]
}

fn text_of(words: &[usize]) -> String {
    words
        .iter()
        .map(|i| VOCAB[*i])
        .collect::<Vec<_>>()
        .join(" ")
}

fn run(ops: &[Op], queries: &[(Vec<String>, u8)]) {
    let dir = tempfile::tempdir().unwrap();
    let f = FlotillaId([7; 16]);
    let mut search = Search::new(dir.path().to_path_buf());
    let mut fold: BTreeMap<EventId, IndexDoc> = BTreeMap::new();
    let mut posted: Vec<EventId> = Vec::new();
    for (n, op) in ops.iter().enumerate() {
        match op {
            Op::Post {
                channel: c,
                author,
                day,
                words,
            } => {
                let ms = (BASE_DAY + day) * DAY + n as u64;
                let mut id = [0u8; 32];
                id[..8].copy_from_slice(&(n as u64).to_be_bytes());
                let d = IndexDoc::new(
                    EventId(id),
                    channel(*c),
                    user(*author),
                    ms,
                    &text_of(words),
                    &[],
                    &[],
                );
                search.upsert(&f, &d).unwrap();
                posted.push(d.id);
                fold.insert(d.id, d);
            }
            Op::Edit { target, words } => {
                let Some(id) = posted.get(target % posted.len().max(1)) else {
                    continue;
                };
                let Some(old) = fold.get(id).cloned() else {
                    continue;
                };
                let d = IndexDoc::new(
                    old.id,
                    old.channel,
                    old.author,
                    old.ms,
                    &text_of(words),
                    &[],
                    &[],
                );
                search.upsert(&f, &d).unwrap();
                fold.insert(d.id, d);
            }
            Op::Delete { target } => {
                let Some(id) = posted.get(target % posted.len().max(1)).copied() else {
                    continue;
                };
                search.delete(&f, &id).unwrap();
                fold.remove(&id);
            }
            Op::Crash => {
                drop(search);
                search = Search::new(dir.path().to_path_buf());
                search.reconcile(&f, fold.values().cloned()).unwrap();
            }
        }
    }
    for (pieces, reader) in queries {
        let query = pieces.join(" ");
        let plan = plan_for(&query, *reader);
        let until = fold.values().map(|d| d.ms).nth(fold.len() / 2);
        for until in [None, until] {
            let got = found(&mut search, &f, &plan, until);
            let want = expected(fold.values(), &plan, until);
            assert_eq!(got, want, "query {query:?} reader {reader} until {until:?}");
        }
        // Newest first, and a short page is the newest of the full answer.
        let page = search.search(&f, &plan, Ranking::Newest, None, 3).unwrap();
        let mut all: Vec<u64> = expected(fold.values(), &plan, None)
            .iter()
            .filter_map(|id| fold.get(id).map(|d| d.ms))
            .collect();
        all.sort_unstable_by(|a, b| b.cmp(a));
        let page_ms: Vec<u64> = page.iter().map(|h| h.ms).collect();
        assert_eq!(
            page_ms,
            all.into_iter().take(3).collect::<Vec<_>>(),
            "page of {query:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn the_index_answers_like_a_brute_force_filter_over_the_fold(
        ops in prop::collection::vec(op(), 1..40),
        queries in prop::collection::vec((prop::collection::vec(query_piece(), 1..4), 0u8..4), 1..16),
    ) {
        run(&ops, &queries);
    }
}

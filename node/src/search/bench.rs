//! Search figures for docs/performance.md (`#[ignore]`): index throughput, commit, size on
//! disk, query latency (p50/p99) and rebuild time on 100k and 1M synthetic chat posts (French
//! and English words, names, tags, dates over a season).
//!
//! `CARGO_PROFILE_TEST_OPT_LEVEL=3 cargo test -p flotilla-node --lib search::bench -- --ignored --nocapture`
//! (`FLOTILLA_SEARCH_BENCH_POSTS=1000000` for the 1M run).
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use flotilla_protocol as proto;
use proto::PublicKey;
use proto::id::{ChannelId, EventId, FlotillaId};

use super::*;

const WORDS: &[&str] = &[
    "météo",
    "vent",
    "nœuds",
    "bateau",
    "bateaux",
    "ponton",
    "mouillage",
    "carburant",
    "quai",
    "marée",
    "houle",
    "cap",
    "sud",
    "nord",
    "escale",
    "port",
    "capitainerie",
    "code",
    "demain",
    "ce",
    "soir",
    "le",
    "la",
    "les",
    "du",
    "de",
    "au",
    "est",
    "sont",
    "pour",
    "avec",
    "anchor",
    "sailing",
    "fuel",
    "dock",
    "weather",
    "forecast",
    "tomorrow",
    "wind",
    "knots",
    "harbour",
    "grib",
    "fichier",
    "apéro",
    "dîner",
    "plage",
    "annexe",
    "moteur",
    "voile",
    "génois",
    "ris",
    "prévision",
    "rafales",
    "orage",
    "baromètre",
    "radio",
    "vhf",
    "canal",
    "16",
    "18h",
    "9h30",
];
const QUERIES: &[&str] = &[
    "meteo",
    "bateau",
    "\"code du ponton\"",
    "carburant -demain",
    "mouill*",
    "from:u3 vent",
    "in:c2 marée",
    "#grib",
    "@u1",
    "after:2026-07-01 orage",
    "prevision rafales",
    "ancor",
    "capitainrie",
    "knots wind",
    "fichier grib from:u5 in:c1",
];
const CHANNELS: u8 = 8;
const USERS: u8 = 12;
const DAY_MS: u64 = 86_400_000;
/// 2026-06-01.
const START_DAY: u64 = 20_605;

/// A small deterministic generator (xorshift), enough for synthetic text.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn synthetic(n: usize, g: &mut Gen) -> IndexDoc {
    let len = 4 + g.below(14);
    let mut text: Vec<String> = (0..len)
        .map(|_| WORDS[g.below(WORDS.len())].to_owned())
        .collect();
    if g.below(20) == 0 {
        text.push("#grib".into());
    }
    if g.below(10) == 0 {
        text.push(format!("@u{}", g.below(USERS as usize)));
    }
    let mut id = [0u8; 32];
    id[..8].copy_from_slice(&(n as u64).to_be_bytes());
    let day = START_DAY + (n as u64 * 120 / 1_000_000).min(119);
    IndexDoc::new(
        EventId(id),
        ChannelId([g.below(CHANNELS as usize) as u8; 16]),
        PublicKey([g.below(USERS as usize) as u8; 32]),
        day * DAY_MS + n as u64,
        &text.join(" "),
        &[],
        &[],
    )
}

fn resolve(q: &Query) -> Resolved {
    let authors = (!q.from.is_empty()).then(|| {
        (0..USERS)
            .filter(|n| q.from.iter().any(|f| *f == format!("u{n}")))
            .map(|n| PublicKey([n; 32]))
            .collect()
    });
    let channels = (0..CHANNELS)
        .filter(|n| q.channels.is_empty() || q.channels.iter().any(|c| *c == format!("c{n}")))
        .map(|n| ChannelId([n; 16]))
        .collect();
    Resolved { authors, channels }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[test]
#[ignore = "benchmark: prints figures for docs/performance.md"]
fn index_and_query_figures() {
    let posts: usize = std::env::var("FLOTILLA_SEARCH_BENCH_POSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let f = FlotillaId([1; 16]);
    let mut g = Gen(0x9e37_79b9_7f4a_7c15);
    let docs: Vec<IndexDoc> = (0..posts).map(|n| synthetic(n, &mut g)).collect();

    let mut search = Search::new(dir.path().join("search"));
    let start = Instant::now();
    for d in &docs {
        search.upsert(&f, d).unwrap();
    }
    let added = start.elapsed();
    search.commit_all();
    let total = start.elapsed();
    println!(
        "index {posts} posts: {:.0} posts/s (add {:.2} s, with final commit {:.2} s), {:.1} MB on disk ({:.1} MB per 100k)",
        posts as f64 / total.as_secs_f64(),
        added.as_secs_f64(),
        total.as_secs_f64(),
        search.disk_bytes(&f) as f64 / 1e6,
        search.disk_bytes(&f) as f64 / 1e6 * 100_000.0 / posts as f64,
    );

    // Live ingest: one post at a time, each followed by a search (the worst case: a commit
    // per post).
    let live = 200;
    let start = Instant::now();
    for n in 0..live {
        search.upsert(&f, &synthetic(posts + n, &mut g)).unwrap();
        let plan = Plan::new(&parse("meteo").unwrap(), resolve(&parse("meteo").unwrap()));
        search.search(&f, &plan, Ranking::Newest, None, 20).unwrap();
    }
    println!(
        "live: post + search (commit each time): {:.2} ms per post",
        start.elapsed().as_secs_f64() * 1000.0 / live as f64
    );

    let mut times = Vec::new();
    for round in 0..20 {
        for q in QUERIES {
            let query = parse(q).unwrap();
            let plan = Plan::new(&query, resolve(&query));
            let t = Instant::now();
            let hits = search.search(&f, &plan, Ranking::Newest, None, 20).unwrap();
            times.push(t.elapsed());
            if round == 0 {
                println!("  {q:<32} {} hits on the first page", hits.len());
            }
        }
    }
    times.sort();
    println!(
        "query over {posts} posts, newest first, page of 20: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} queries)",
        percentile(&times, 0.5).as_secs_f64() * 1000.0,
        percentile(&times, 0.99).as_secs_f64() * 1000.0,
        times.last().unwrap().as_secs_f64() * 1000.0,
        times.len()
    );

    let start = Instant::now();
    let stats = search.rebuild(&f, docs.iter().cloned()).unwrap();
    println!(
        "rebuild {} posts: {:.2} s; reconcile with nothing changed: {:.2} s",
        stats.posts,
        start.elapsed().as_secs_f64(),
        {
            let t = Instant::now();
            search.reconcile(&f, docs.iter().cloned()).unwrap();
            t.elapsed().as_secs_f64()
        }
    );
}

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

/// The machine's load average (1, 5, 15 min) and its cores, for the record.
fn load() -> String {
    let avg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let avg: Vec<&str> = avg.split_whitespace().take(3).collect();
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    format!("load average {} on {cores} cores", avg.join(" "))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The analysis alone (the three analysed copies of each text), on this thread.
fn analysis_rate(docs: &[IndexDoc]) -> f64 {
    let sample = &docs[..docs.len().min(50_000)];
    let start = Instant::now();
    let mut analyzers: Vec<_> = [analysis::FRENCH, analysis::ENGLISH, analysis::EXACT]
        .into_iter()
        .filter_map(analysis::analyzer)
        .collect();
    let mut tokens = 0;
    for d in sample {
        for a in &mut analyzers {
            let mut stream = a.token_stream(&d.text);
            while stream.advance() {
                tokens += 1;
            }
        }
    }
    assert!(tokens > 0);
    sample.len() as f64 / start.elapsed().as_secs_f64()
}

/// Offers `n` new posts through the ingest path at `rate` posts/s (0: as fast as it goes),
/// then waits for the commit; returns (offered per second, dropped, seconds to drain).
fn ingest(
    search: &mut Search,
    f: &FlotillaId,
    g: &mut Gen,
    first: usize,
    n: usize,
    rate: u64,
) -> (f64, u64, f64) {
    let docs: Vec<IndexDoc> = (first..first + n).map(|i| synthetic(i, g)).collect();
    let dropped = search.dropped();
    let start = Instant::now();
    for (i, d) in docs.iter().enumerate() {
        if rate > 0 && i % 100 == 0 {
            let due = Duration::from_secs_f64(i as f64 / rate as f64);
            std::thread::sleep(due.saturating_sub(start.elapsed()));
        }
        search.upsert(f, d).unwrap();
    }
    let offered = n as f64 / start.elapsed().as_secs_f64();
    let t = Instant::now();
    search.sync(f).unwrap();
    (
        offered,
        search.dropped() - dropped,
        t.elapsed().as_secs_f64(),
    )
}

#[test]
#[ignore = "benchmark: prints figures for docs/performance.md"]
fn index_and_query_figures() {
    let posts: usize = std::env::var("FLOTILLA_SEARCH_BENCH_POSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    println!("start: {}", load());
    let dir = tempfile::tempdir().unwrap();
    let f = FlotillaId([1; 16]);
    let mut g = Gen(0x9e37_79b9_7f4a_7c15);
    let start = Instant::now();
    let docs: Vec<IndexDoc> = (0..posts).map(|n| synthetic(n, &mut g)).collect();
    println!(
        "{posts} documents made directly (no fold, no store): {:.2} s; analysis alone (3 analysed copies, one thread): {:.0} posts/s",
        start.elapsed().as_secs_f64(),
        analysis_rate(&docs)
    );

    // Bulk: the indexing thread as fast as it goes (the path of reconciliation and rebuild).
    let mut search = Search::new(dir.path().join("search"));
    let start = Instant::now();
    let stats = search.reconcile(&f, docs.iter().cloned()).unwrap();
    let total = start.elapsed();
    println!(
        "index {} posts (queue, analysis, final commit): {:.0} posts/s ({:.2} s), {:.1} MB on disk ({:.1} MB per 100k); {}",
        stats.indexed,
        posts as f64 / total.as_secs_f64(),
        total.as_secs_f64(),
        search.disk_bytes(&f) as f64 / 1e6,
        search.disk_bytes(&f) as f64 / 1e6 * 100_000.0 / posts as f64,
        load(),
    );

    // Ingest: the actor's non-blocking path; what the queue cannot take is dropped (and
    // reconciled at the next search).
    for rate in [20_000, 0] {
        let (offered, dropped, drain) = ingest(
            &mut search,
            &f,
            &mut g,
            posts + 100_000 * (rate as usize / 20_000),
            50_000,
            rate,
        );
        println!(
            "ingest path, 50,000 posts offered at {offered:.0} posts/s: {dropped} dropped, {drain:.2} s to commit the rest"
        );
    }

    // Live ingest: one post at a time, each followed by a search (the worst case: a commit
    // per post).
    let live = 200;
    let start = Instant::now();
    for n in 0..live {
        search
            .upsert(&f, &synthetic(posts + 200_000 + n, &mut g))
            .unwrap();
        let plan = Plan::new(&parse("meteo").unwrap(), resolve(&parse("meteo").unwrap()));
        search.search(&f, &plan, Ranking::Newest, None, 20).unwrap();
    }
    println!(
        "live: post + search (commit each time): {:.2} ms per post",
        ms(start.elapsed()) / live as f64
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
        "query over {posts} posts, newest first, page of 20: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} queries); {}",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
        ms(*times.last().unwrap()),
        times.len(),
        load(),
    );

    let start = Instant::now();
    let stats = search.rebuild(&f, docs.iter().cloned()).unwrap();
    let rebuilt = start.elapsed();
    let t = Instant::now();
    search.reconcile(&f, docs.iter().cloned()).unwrap();
    println!(
        "rebuild {} posts: {:.2} s; reconcile with nothing changed: {:.2} s; {}",
        stats.posts,
        rebuilt.as_secs_f64(),
        t.elapsed().as_secs_f64(),
        load(),
    );
}

//! A file across a shaped link (issue 11): boat 1 behind a 1 Mbit/s tbf link (both ways,
//! HaLow profile) fetches a 5 MB forecast from boat 0; the payload rate and a timeline are
//! printed (figures in docs/performance.md; printed, not asserted: speed is a benchmark
//! figure and the CI machine is shared). Then boats 2, 3 and 4 join and fetch it at once
//! from the two boats that hold it; each source's served chunks are printed.
//!
//! **Several sources** is asserted as: boat 0 served the newcomers (more than its 20 chunks
//! to boat 1) *and* at least one other source did — boat 1 or a newcomer (the sum of what
//! boat 1 and the newcomers served). Not "boat 1 served some": the newcomers sit on the LAN
//! with boat 0, and boat 1 becomes a source for them only once it has learnt they are
//! members and answered their `Have`, which can come after they have everything from
//! boat 0 (it did in one CI run). What holds whatever the timing is the scheduler's spread:
//! a downloader never has more than `max_per_peer` (4) of its `max_in_flight` (8) requests
//! at one source, so any other holder it knows gets the rest, and each downloader starts at
//! a random chunk, so the three newcomers hold different chunks after their first partial
//! `Have` (every 4 chunks) and serve each other. The check fails if the requests all go
//! to one source (no spreading) or if newcomers stop advertising partial sets.

use std::time::{Duration, Instant};

use anyhow::Context;

use super::boats::Boats;
use super::lab::NetnsLab;
use super::{CMD_TIMEOUT, READY_TIMEOUT};

/// The link rate of boat 1 (tc: 1 mbit = 1,000,000 bit/s).
const RATE_BITS: f64 = 1_000_000.0;
/// The file: 5 MB.
const SIZE: u64 = 5_000_000;
/// 5 MB at 1 Mbit/s is 40 s; room for a slower run.
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(90);

fn available_at(boats: &Boats, node: usize, file: &str) -> Option<Instant> {
    boats.got_line_at(node, &format!("available {file}"))
}

fn wait_available(boats: &mut Boats, nodes: &[usize], file: &str) -> anyhow::Result<()> {
    let want = format!("available {file}");
    boats.wait(
        &format!("nodes {nodes:?} to hold the file"),
        TRANSFER_TIMEOUT,
        |l| {
            nodes
                .iter()
                .all(|&i| l.iter().any(|l| l.node == i && l.text == want))
        },
    )?;
    Ok(())
}

fn stats(boats: &mut Boats, i: usize) -> anyhow::Result<[u64; 3]> {
    let s = boats.ask(i, "stats", "stats", CMD_TIMEOUT)?;
    let v: Vec<u64> = s.split(' ').map(str::parse).collect::<Result<_, _>>()?;
    v.try_into()
        .map_err(|_| anyhow::anyhow!("stats line `{s}`"))
}

#[test]
fn a_5mb_file_crosses_a_1_mbit_link_at_link_rate_then_3_boats_fetch_from_2_sources()
-> anyhow::Result<()> {
    let lab = match NetnsLab::new(5) {
        Ok(lab) => lab,
        Err(skip) => {
            skip.report("a_5mb_file_crosses_a_1_mbit_link_at_link_rate");
            return Ok(());
        }
    };
    lab.rate_limit(1, "1mbit")?;
    let mut boats = Boats::spawn(
        &lab,
        READY_TIMEOUT,
        |i| if i == 1 { "halow" } else { "lan" },
    )?;
    let code = boats.ask(0, "found Rallye", "invite", CMD_TIMEOUT)?;
    boats.ask(1, &format!("join {code}"), "joined", CMD_TIMEOUT)?;
    let file = boats.ask(0, &format!("putfile {SIZE}"), "file", CMD_TIMEOUT)?;
    // from the moment the post is made (the upload's hashing and encryption left out)
    let sent = boats
        .got_line_at(0, &format!("file {file}"))
        .context("boat 0 posted")?;
    // boat 1's received bytes, sampled: the steady rate runs from the first chunk to the last
    let total = SIZE + 20 * 16;
    let mut samples: Vec<(Instant, u64)> = Vec::new();
    let deadline = Instant::now() + TRANSFER_TIMEOUT;
    while samples.last().is_none_or(|s| s.1 < total) {
        anyhow::ensure!(
            Instant::now() < deadline,
            "boat 1 did not get the file: {samples:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
        let [bytes_in, _, _] = stats(&mut boats, 1)?;
        samples.push((Instant::now(), bytes_in));
    }
    wait_available(&mut boats, &[1], &file)?;
    let took = available_at(&boats, 1, &file)
        .context("boat 1 has it")?
        .duration_since(sent);
    let first = samples.iter().find(|s| s.1 > 0).context("a first chunk")?;
    let last = samples.last().context("a last sample")?;
    let steady = (last.1 - first.1) as f64 * 8.0 / last.0.duration_since(first.0).as_secs_f64();
    let end_to_end = total as f64 * 8.0 / took.as_secs_f64();
    println!(
        "5 MB across 1 Mbit/s tbf: {total} B of encrypted chunks; post to available on boat 1 \
         in {:.1} s = {:.0} kbit/s ({:.1} % of the link rate); steady transfer {:.0} kbit/s \
         ({:.1} %)",
        took.as_secs_f64(),
        end_to_end / 1000.0,
        end_to_end / RATE_BITS * 100.0,
        steady / 1000.0,
        steady / RATE_BITS * 100.0
    );
    // where the time goes: the post's gossip, the first whole chunk (one chunk is 2.1 s of
    // link time), the last one, and the file shown available (decrypted and checked)
    let at = |t: Option<Instant>| t.map_or(f64::NAN, |t| t.duration_since(sent).as_secs_f64());
    println!(
        "timeline on boat 1 after the post: post received {:.2} s, first whole chunk seen {:.2} s, \
         last chunk seen {:.2} s, available {:.2} s",
        at(boats.got_line_at(1, "got GRIB")),
        at(Some(first.0)),
        at(Some(last.0)),
        took.as_secs_f64()
    );
    // The rate is a figure to read (alone: 99.5 % steady, 88.8 % end to end, see
    // docs/performance.md), not asserted: the CI run shares 2 cores with every other test.
    let since = Instant::now();
    for i in 2..5 {
        boats.send(i, &format!("join {code}"))?;
    }
    wait_available(&mut boats, &[2, 3, 4], &file)?;
    let [_, _, from0] = stats(&mut boats, 0)?;
    let [_, _, from1] = stats(&mut boats, 1)?;
    let mut relayed = 0;
    for i in 2..5 {
        relayed += stats(&mut boats, i)?[2];
    }
    println!(
        "3 boats joined and fetched it in {:.1} s: boat 0 served {from0} chunks (20 to boat 1), \
         boat 1 served {from1}, the three newcomers {relayed} to each other",
        since.elapsed().as_secs_f64()
    );
    anyhow::ensure!(
        from0 > 20 && from1 + relayed > 0,
        "several sources served: boat 0 {from0} (20 to boat 1), boat 1 {from1}, newcomers {relayed}"
    );
    Ok(())
}

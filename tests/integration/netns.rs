//! Multi-host tests in Linux network namespaces (root): real mDNS over a bridge, cut links,
//! rate limits. [`lab::NetnsLab`] builds the LAN; the tests here run one process per
//! namespace and read what each prints.
//!
//! - `mdns_probes_find_each_other_and_again_after_a_cut`: 4 `mdns_probe` processes
//!   (node/examples/mdns_probe.rs, [`flotilla_node::discovery`] alone) each discover the 3
//!   others; then one boat's link is pulled (it reports the others lost within mdns-sd's 5 s
//!   interface check) and plugged back (it finds them all again).
//! - `mdns_probe_shutdown_says_goodbye`: a probe that stops ([`flotilla_node::discovery::
//!   Discovery::shutdown`]) is reported lost by the other at once (mDNS goodbye).
//! - `lab_rate_limit_installs_tbf`: [`lab::NetnsLab::rate_limit`] installs a tbf qdisc.
//!
//! Full nodes ([`boats::Boats`]: node/examples/netns_node.rs, a [`flotilla_node::Node`] with
//! mDNS on and no configured peer; node 0 founds a flotilla, the others join with its invite
//! code through whoever mDNS connected them to):
//! - `nodes_find_each_other_by_mdns_and_sync`: 4 nodes; a post from each reaches all four.
//! - `nodes_converge_after_a_cut_link_is_restored`: posts made on both sides of a cut all
//!   arrive after the link is plugged back.
//! - `posts_cross_a_150_kbit_link`: nodes 2 and 3 behind 150 kbit/s tbf (HaLow-class); prints
//!   the post → visible delays across and beside the slow link.
//!
//! - Boats moving between networks (issue 9): [`moves`] (a dead connection nobody closed, a
//!   new path with other addresses).
//! - [`files`]: a 5 MB file across a 1 Mbit/s tbf link (rate printed, ≥ 90 %), then three
//!   boats fetching it from two sources.
//!
//! Run them alone with timings:
//! `cargo test -p flotilla-tests --test integration netns -- --nocapture`

pub(crate) mod boats;
mod files;
pub(crate) mod lab;
mod moves;

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;

use boats::{Boats, Line, forward_lines};
use lab::NetnsLab;

/// How long all probes get to find each other (measured: about 1 s).
const DISCOVER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a cut or restored link gets to show (mdns-sd checks interfaces every 5 s).
const LINK_TIMEOUT: Duration = Duration::from_secs(12);

/// The path of an up-to-date `mdns_probe` example (`$MDNS_PROBE_BIN` if set).
fn probe_bin() -> anyhow::Result<PathBuf> {
    crate::artifact::built(
        "MDNS_PROBE_BIN",
        crate::artifact::Target::Example("mdns_probe"),
    )
}

/// Probe processes, one per namespace, and everything they printed. Kills them on drop.
struct Probes {
    children: Vec<Child>,
    peer_ids: Vec<String>,
    rx: mpsc::Receiver<Line>,
    lines: Vec<Line>,
    started: Instant,
}

impl Probes {
    /// Starts one probe per namespace; probe `i` exits on its own after `exit_after(i)` s.
    fn spawn(lab: &NetnsLab, exit_after: impl Fn(usize) -> u64) -> anyhow::Result<Self> {
        let bin = probe_bin()?;
        // The probes' log filter: `PROBE_LOG=mdns_sd=debug` shows mdns-sd's view on stderr.
        let probe_log = std::env::var("PROBE_LOG").unwrap_or_else(|_| "warn".into());
        let (tx, rx) = mpsc::channel();
        let mut probes = Self {
            children: Vec::new(),
            peer_ids: Vec::new(),
            rx,
            lines: Vec::new(),
            started: Instant::now(),
        };
        for i in 0..lab.len() {
            let peer_id = format!("12D3KooW{}node{i}", lab.tag());
            let exit_after = exit_after(i).to_string();
            let mut child = lab
                .command(i, &bin)
                .args(["--peer-id", &peer_id, "--port", "7171"])
                .args(["--exit-after", &exit_after])
                .env("RUST_LOG", probe_log.as_str())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .context("cannot start mdns_probe")?;
            let stdout = child.stdout.take().context("no stdout")?;
            let tx = tx.clone();
            forward_lines(stdout, i, tx);
            probes.children.push(child);
            probes.peer_ids.push(peer_id);
        }
        Ok(probes)
    }

    /// Reads lines until `done(lines)` holds; fails with everything printed after `timeout`.
    fn wait(
        &mut self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&[Line]) -> bool,
    ) -> anyhow::Result<Instant> {
        let deadline = Instant::now() + timeout;
        while !done(&self.lines) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(line) => self.lines.push(line),
                Err(_) => anyhow::bail!(
                    "timed out after {timeout:?} waiting for {what}; output:\n{}",
                    self.transcript()
                ),
            }
        }
        Ok(self.lines.last().map_or_else(Instant::now, |l| l.at))
    }

    /// The peers `node` reported with `verb` (`discovered`/`lost`) at or after `since`.
    fn reported(lines: &[Line], node: usize, verb: &str, since: Instant) -> HashSet<String> {
        lines
            .iter()
            .filter(|l| l.node == node && l.at >= since)
            .filter_map(|l| l.text.strip_prefix(verb)?.split_whitespace().next())
            .map(str::to_owned)
            .collect()
    }

    fn others(&self, node: usize) -> HashSet<String> {
        let mut all: HashSet<String> = self.peer_ids.iter().cloned().collect();
        all.remove(&self.peer_ids[node]);
        all
    }

    fn transcript(&self) -> String {
        self.lines
            .iter()
            .map(|l| {
                let ms = l.at.duration_since(self.started).as_millis();
                format!("  {ms:>6} ms  node{}: {}\n", l.node, l.text)
            })
            .collect()
    }
}

impl Drop for Probes {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn mdns_probes_find_each_other_and_again_after_a_cut() -> anyhow::Result<()> {
    const N: usize = 4;
    const CUT: usize = N - 1;
    let lab = match NetnsLab::new(N) {
        Ok(lab) => lab,
        Err(skip) => {
            skip.report("mdns_probes_find_each_other_and_again_after_a_cut");
            return Ok(());
        }
    };
    let mut probes = Probes::spawn(&lab, |_| 60)?;
    let t0 = probes.started;

    // 1. Everyone finds everyone.
    let others: Vec<HashSet<String>> = (0..N).map(|i| probes.others(i)).collect();
    let all_found = probes.wait(
        "every probe to discover the others",
        DISCOVER_TIMEOUT,
        |l| (0..N).all(|i| Probes::reported(l, i, "discovered ", t0).is_superset(&others[i])),
    )?;
    println!(
        "netns mDNS: {N} probes discovered all peers in {} ms",
        all_found.duration_since(t0).as_millis()
    );

    // 2. Pull one boat's cable: it drops the others once mdns-sd sees eth0 go down.
    let cut_at = Instant::now();
    lab.set_link(CUT, false)?;
    let lost = probes.wait("the cut probe to lose the others", LINK_TIMEOUT, |l| {
        Probes::reported(l, CUT, "lost ", cut_at).is_superset(&others[CUT])
    })?;
    println!(
        "netns mDNS: cut node reported all peers lost after {} ms",
        lost.duration_since(cut_at).as_millis()
    );

    // 3. Plug it back: it finds them all again.
    let restored_at = Instant::now();
    lab.set_link(CUT, true)?;
    let found_again = probes.wait("the restored probe to find the others", LINK_TIMEOUT, |l| {
        Probes::reported(l, CUT, "discovered ", restored_at).is_superset(&others[CUT])
    })?;
    println!(
        "netns mDNS: restored node rediscovered all peers after {} ms",
        found_again.duration_since(restored_at).as_millis()
    );
    println!("netns mDNS transcript:\n{}", probes.transcript());
    Ok(())
}

#[test]
fn mdns_probe_shutdown_says_goodbye() -> anyhow::Result<()> {
    const STAYS: usize = 0;
    const LEAVES: usize = 1;
    const LEAVES_AFTER_S: u64 = 3;
    let lab = match NetnsLab::new(2) {
        Ok(lab) => lab,
        Err(skip) => {
            skip.report("mdns_probe_shutdown_says_goodbye");
            return Ok(());
        }
    };
    let mut probes = Probes::spawn(&lab, |i| if i == LEAVES { LEAVES_AFTER_S } else { 60 })?;
    let (t0, leaver) = (probes.started, probes.peer_ids[LEAVES].clone());
    probes.wait("the probes to find each other", DISCOVER_TIMEOUT, |l| {
        Probes::reported(l, STAYS, "discovered ", t0).contains(&leaver)
    })?;
    // Discovery::shutdown unregisters: the goodbye makes the other side report it lost at
    // once, not when its records expire minutes later.
    let timeout = Duration::from_secs(LEAVES_AFTER_S) + DISCOVER_TIMEOUT;
    let lost = probes.wait(
        "the staying probe to report the leaver lost",
        timeout,
        |l| Probes::reported(l, STAYS, "lost ", t0).contains(&leaver),
    )?;
    println!(
        "netns mDNS: a probe that shut down after {LEAVES_AFTER_S} s was reported lost at {} ms",
        lost.duration_since(t0).as_millis()
    );
    Ok(())
}

#[test]
fn lab_rate_limit_installs_tbf() -> anyhow::Result<()> {
    let lab = match NetnsLab::new(2) {
        Ok(lab) => lab,
        Err(skip) => {
            skip.report("lab_rate_limit_installs_tbf");
            return Ok(());
        }
    };
    lab.rate_limit(0, "150kbit")?;
    let qdisc = lab.qdisc(0)?;
    assert!(
        qdisc.contains("tbf") && qdisc.contains("rate 150Kbit"),
        "no tbf at 150 kbit/s on eth0: {qdisc}"
    );
    assert!(!lab.qdisc(1)?.contains("tbf"), "node 1 is not limited");
    // The lab address is in place under the new qdisc.
    let addrs = lab.exec(0, &["ip", "-4", "addr", "show", "dev", "eth0"])?;
    assert!(addrs.contains(&lab.addr(0).to_string()), "{addrs}");
    Ok(())
}

/// How long nodes get to start and listen.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a command gets to answer (a join includes discovery and the admission).
const CMD_TIMEOUT: Duration = Duration::from_secs(30);
/// How long posts get to reach every node.
const SPREAD_TIMEOUT: Duration = Duration::from_secs(30);

/// Starts one node per namespace; node 0 founds a flotilla and the others join with its
/// invite code, through the peers mDNS connected them to (nobody is given an address).
/// Starts a boat per namespace (node `i` on link profile `profile(i)`), founds a flotilla on
/// boat 0 and has every other boat join it.
fn flotilla(lab: &NetnsLab, profile: impl Fn(usize) -> &'static str) -> anyhow::Result<Boats> {
    let mut boats = Boats::spawn(lab, READY_TIMEOUT, profile)?;
    let code = boats.ask(0, "found Rallye", "invite", CMD_TIMEOUT)?;
    let since = Instant::now();
    for i in 1..boats.len() {
        boats.send(i, &format!("join {code}"))?;
    }
    let n = boats.len();
    let joined = boats.wait("every node to join", CMD_TIMEOUT, |l| {
        (1..n).all(|i| {
            l.iter()
                .any(|l| l.node == i && l.at >= since && l.text.starts_with("joined "))
        })
    })?;
    println!(
        "netns nodes: {n} nodes started, found each other by mDNS and joined in {} ms",
        joined.duration_since(boats.started).as_millis()
    );
    Ok(boats)
}

/// Waits until each of `nodes` reported every text of `want`.
fn wait_got(
    boats: &mut Boats,
    nodes: &[usize],
    want: &HashSet<String>,
    timeout: Duration,
) -> anyhow::Result<Instant> {
    boats.wait(
        &format!("nodes {nodes:?} to show {} posts", want.len()),
        timeout,
        |l| {
            nodes.iter().all(|&i| {
                let got = Boats::got(l, i);
                want.iter().all(|t| got.contains(t))
            })
        },
    )
}

/// Milliseconds, for printing.
fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The median and the largest of some delays (sorted in place).
fn p50_max(delays: &mut [Duration]) -> (f64, f64) {
    delays.sort();
    let p50 = delays.get(delays.len() / 2).copied().unwrap_or_default();
    let max = delays.last().copied().unwrap_or_default();
    (ms(p50), ms(max))
}

#[test]
fn nodes_find_each_other_by_mdns_and_sync() -> anyhow::Result<()> {
    const N: usize = 4;
    let lab = match NetnsLab::new(N) {
        Ok(lab) => lab,
        Err(skip) => {
            skip.report("nodes_find_each_other_by_mdns_and_sync");
            return Ok(());
        }
    };
    let mut boats = flotilla(&lab, |_| "lan")?;
    let want: HashSet<String> = (0..N).map(|i| format!("hello from boat {i}")).collect();
    let since = Instant::now();
    for i in 0..N {
        boats.ask(
            i,
            &format!("post hello from boat {i}"),
            "posted",
            CMD_TIMEOUT,
        )?;
    }
    let all: Vec<usize> = (0..N).collect();
    let done = wait_got(&mut boats, &all, &want, SPREAD_TIMEOUT)?;
    println!(
        "netns nodes: a post from each of {N} nodes reached all of them {} ms after the first",
        done.duration_since(since).as_millis()
    );
    for i in 0..N {
        let count = boats.ask(i, "count", "count", CMD_TIMEOUT)?;
        assert_eq!(count, N.to_string(), "node {i} shows each post once");
    }
    Ok(())
}

#[test]
fn nodes_converge_after_a_cut_link_is_restored() -> anyhow::Result<()> {
    const N: usize = 3;
    const CUT: usize = 2;
    /// How long the link stays down: past mdns-sd's 5 s interface check, so the cut node
    /// reports its peers lost and has to find them again.
    const CUT_FOR: Duration = Duration::from_secs(6);
    let lab = match NetnsLab::new(N) {
        Ok(lab) => lab,
        Err(skip) => {
            skip.report("nodes_converge_after_a_cut_link_is_restored");
            return Ok(());
        }
    };
    let mut boats = flotilla(&lab, |_| "lan")?;
    boats.ask(0, "post avant", "posted", CMD_TIMEOUT)?;
    let mut want: HashSet<String> = ["avant".to_string()].into();
    wait_got(&mut boats, &[0, 1, 2], &want, SPREAD_TIMEOUT)?;

    let cut_at = Instant::now();
    lab.set_link(CUT, false)?;
    let mut near = HashSet::new();
    for k in 0..3 {
        for i in [0, CUT] {
            let text = format!("pendant la coupure {k} de {i}");
            boats.ask(i, &format!("post {text}"), "posted", CMD_TIMEOUT)?;
            if i == 0 {
                near.insert(text.clone());
            }
            want.insert(text);
        }
    }
    // Node 1 shares node 0's side: it gets node 0's posts, the cut node does not.
    wait_got(&mut boats, &[1], &near, SPREAD_TIMEOUT)?;
    let elapsed = cut_at.elapsed();
    if let Some(left) = CUT_FOR.checked_sub(elapsed) {
        std::thread::sleep(left); // the cut's length is the scenario, not a wait for a result
    }
    boats.drain();
    let crossed = near
        .iter()
        .filter(|t| boats.got_at(CUT, t).is_some())
        .count();
    assert_eq!(crossed, 0, "posts crossed a cut link");

    let restored_at = Instant::now();
    lab.set_link(CUT, true)?;
    let done = wait_got(&mut boats, &[0, 1, 2], &want, SPREAD_TIMEOUT)?;
    // Whether the old TCP connections survived the cut (retransmitted after it) or the
    // nodes reconnected (redial of the found address, or rediscovery by the cut node).
    let reconnects: usize = (0..N).map(|i| boats.count_since(i, "up ", cut_at)).sum();
    let drops: usize = (0..N).map(|i| boats.count_since(i, "down ", cut_at)).sum();
    println!(
        "netns nodes: link cut for {} ms; {} posts made during the cut reached every node {} ms after the restore ({drops} disconnections and {reconnects} connections seen since the cut)",
        restored_at.duration_since(cut_at).as_millis(),
        want.len() - 1,
        done.duration_since(restored_at).as_millis()
    );
    Ok(())
}

#[test]
fn posts_cross_a_150_kbit_link() -> anyhow::Result<()> {
    const N: usize = 4;
    const RATE: &str = "150kbit";
    const SAMPLES: usize = 5;
    let lab = match NetnsLab::new(N) {
        Ok(lab) => lab,
        Err(skip) => {
            skip.report("posts_cross_a_150_kbit_link");
            return Ok(());
        }
    };
    // Nodes 0 and 1 on the fast side; 2 and 3 behind their own 150 kbit/s links.
    lab.rate_limit(2, RATE)?;
    lab.rate_limit(3, RATE)?;
    // The boats behind the slow links run the HaLow profile, as their operators would set it.
    let mut boats = flotilla(&lab, |i| if i >= 2 { "halow" } else { "lan" })?;
    let all: Vec<usize> = (0..N).collect();
    let (mut across, mut back, mut beside) = (Vec::new(), Vec::new(), Vec::new());
    for k in 0..SAMPLES {
        let text = format!("vers le large {k}");
        let sent = boats.send(0, &format!("post {text}"))?;
        let want: HashSet<String> = [text.clone()].into();
        wait_got(&mut boats, &all, &want, SPREAD_TIMEOUT)?;
        let at = |i: usize| boats.got_at(i, &text).map(|t| t.duration_since(sent));
        across.push(at(3).context("node 3 got it")?);
        beside.push(at(1).context("node 1 got it")?);

        let text = format!("retour {k}");
        let sent = boats.send(3, &format!("post {text}"))?;
        let want: HashSet<String> = [text.clone()].into();
        wait_got(&mut boats, &[0], &want, SPREAD_TIMEOUT)?;
        back.push(
            boats
                .got_at(0, &text)
                .context("node 0 got it")?
                .duration_since(sent),
        );
    }
    let (a50, amax) = p50_max(&mut across);
    let (b50, bmax) = p50_max(&mut back);
    let (s50, smax) = p50_max(&mut beside);
    println!(
        "netns {RATE}: post -> visible, {SAMPLES} samples each: 0 -> 3 (across) p50 {a50:.1} ms max {amax:.1} ms; \
         3 -> 0 (back) p50 {b50:.1} ms max {bmax:.1} ms; 0 -> 1 (fast side) p50 {s50:.1} ms max {smax:.1} ms"
    );
    Ok(())
}

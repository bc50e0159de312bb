//! Crash safety, for real: a child process writes events one by one and prints each id only
//! after `insert` returned `Ok`; the parent SIGKILLs it mid-stream, reopens the store and
//! checks that every acknowledged id is there.
//!
//! The child is this test binary, re-run with `--exact crash::crash_child_writer --ignored`
//! and the store directory in [`CHILD_DIR_ENV`]. Without that variable the child test does
//! nothing, so `--include-ignored` runs stay harmless.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use flotilla_node::store::SledStore;
use flotilla_node::test_utils::EventMaker;
use flotilla_protocol::hlc::Hlc;
use flotilla_protocol::id::EventId;
use flotilla_protocol::store::Store;

const CHILD_DIR_ENV: &str = "FLOTILLA_CRASH_CHILD_DIR";
const CHILD_SEED_ENV: &str = "FLOTILLA_CRASH_CHILD_SEED";
/// Kill points of the successive rounds (acknowledgements read before SIGKILL).
const KILL_AFTER: [usize; 3] = [200, 500, 300];
/// How long the parent waits for the next acknowledgement before failing.
const ACK_TIMEOUT: Duration = Duration::from_secs(30);
const SIGKILL: i32 = 9;

#[test]
#[ignore = "child process of acknowledged_events_survive_sigkill"]
fn crash_child_writer() {
    let Some(dir) = std::env::var_os(CHILD_DIR_ENV) else {
        return;
    };
    let seed = std::env::var(CHILD_SEED_ENV)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut store = SledStore::open(Path::new(&dir)).expect("child opens the store");
    let mut maker = EventMaker::new(seed);
    let mut out = std::io::stdout().lock();
    for i in 0..1_000_000u64 {
        let event = maker.event(maker.channel((i % 4) as u32), Hlc::at(i));
        store.insert(&event).expect("child inserts");
        writeln!(out, "ACK {}", event.id())
            .and_then(|()| out.flush())
            .expect("child acknowledges");
    }
}

/// Runs one child on `dir`, kills it after `kill_after` acknowledgements; returns every id
/// it acknowledged (those printed after the kill point too).
fn run_child_and_kill(dir: &Path, seed: u64, kill_after: usize) -> anyhow::Result<Vec<EventId>> {
    let mut child = Command::new(std::env::current_exe()?)
        .args([
            "--exact",
            "crash::crash_child_writer",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR_ENV, dir)
        .env(CHILD_SEED_ENV, seed.to_string())
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no child stdout"))?;
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(id) = line.strip_prefix("ACK ")
                && tx.send(id.to_string()).is_err()
            {
                break;
            }
        }
    });
    let mut acked = Vec::new();
    while acked.len() < kill_after {
        match rx.recv_timeout(ACK_TIMEOUT) {
            Ok(id) => acked.push(id.parse::<EventId>()?),
            Err(e) => {
                child.kill()?;
                anyhow::bail!(
                    "child stopped acknowledging after {} events: {e}",
                    acked.len()
                );
            }
        }
    }
    child.kill()?; // SIGKILL on Unix: no destructor, no final flush
    let status = child.wait()?;
    reader
        .join()
        .map_err(|_| anyhow::anyhow!("reader thread panicked"))?;
    acked.extend(
        rx.try_iter()
            .map(|id| id.parse::<EventId>())
            .collect::<Result<Vec<_>, _>>()?,
    );
    anyhow::ensure!(
        status.signal() == Some(SIGKILL),
        "child was not killed mid-stream: {status}"
    );
    Ok(acked)
}

#[test]
fn acknowledged_events_survive_sigkill() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("store");
    let mut all_acked = Vec::new();
    for (round, kill_after) in KILL_AFTER.into_iter().enumerate() {
        let acked = run_child_and_kill(&dir, round as u64 + 100, kill_after)?;
        let store = SledStore::open(&dir)?;
        all_acked.extend(acked.iter().copied());
        let lost: Vec<_> = all_acked
            .iter()
            .filter(|id| !store.contains(id).unwrap_or(false))
            .collect();
        eprintln!(
            "crash round {round}: {} acknowledged before SIGKILL, {} stored in total, {} lost",
            acked.len(),
            store.event_count(),
            lost.len()
        );
        assert!(
            lost.is_empty(),
            "round {round}: acknowledged but lost: {lost:?}"
        );
        assert!(store.event_count() >= all_acked.len());
    }
    Ok(())
}

//! SIGKILL while a client posts through the HTTP API: every post the node acknowledged (a
//! 201 with its id) is there after a restart on the same data directory, for
//! [`ROUNDS`] rounds killed at random moments; then the node still serves and posts.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Client, Node, next_random, seed};

/// Kill/restart rounds (`FLOTILLA_KILL_ROUNDS` overrides).
const ROUNDS: usize = 20;
/// The kill comes this long after the restart, at random within the range (ms): from
/// "while the first posts arrive" to "in full flow".
const KILL_AFTER_MS: (u64, u64) = (20, 400);

/// Posts from one client thread until a request fails (the node died); the acknowledged
/// ids go to `acked`.
fn poster(client: Client, addr: String, round: usize, acked: Arc<Mutex<Vec<String>>>) {
    for k in 0.. {
        let Ok(a) = client.post(&addr, &format!("round {round} post {k}")) else {
            return;
        };
        if a.status != 201 {
            return; // the node is going down mid-request
        }
        let Some(id) = a
            .json()
            .ok()
            .and_then(|v| v["id"].as_str().map(str::to_owned))
        else {
            return;
        };
        acked.lock().unwrap_or_else(|e| e.into_inner()).push(id);
    }
}

#[test]
fn acknowledged_posts_survive_sigkill_at_random_moments() -> anyhow::Result<()> {
    let rounds = std::env::var("FLOTILLA_KILL_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ROUNDS);
    let mut rng = seed();
    println!("kill -9: seed {rng}");
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("data");
    let node = Node::start(&dir, &[])?;
    let client = Client::setup(&node)?;
    let mut node = Some(node);
    let mut all: Vec<String> = Vec::new();
    let mut checked = 0;
    let started = Instant::now();
    for round in 0..rounds {
        let n = match node.take() {
            Some(n) => n,
            None => Node::start(&dir, &[])?,
        };
        // What the last round acknowledged is there after its kill (all of it at the end).
        for id in &all[checked..] {
            anyhow::ensure!(
                client.has(&n.addr, id)?,
                "round {round}: acknowledged post {id} lost after SIGKILL"
            );
        }
        let acked = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let (client, addr, acked) = (client.clone(), n.addr.clone(), acked.clone());
            std::thread::spawn(move || poster(client, addr, round, acked))
        };
        let (lo, hi) = KILL_AFTER_MS;
        let after = lo + next_random(&mut rng) % (hi - lo);
        std::thread::sleep(Duration::from_millis(after));
        n.kill9()?;
        let _ = thread.join();
        let acked = std::mem::take(&mut *acked.lock().unwrap_or_else(|e| e.into_inner()));
        checked = all.len();
        all.extend(acked);
    }
    let n = Node::start(&dir, &[])?;
    for id in &all {
        anyhow::ensure!(client.has(&n.addr, id)?, "acknowledged post {id} lost");
    }
    let a = client.post(&n.addr, "after the storm")?;
    anyhow::ensure!(a.status == 201, "the restarted node posts: {a:?}");
    println!(
        "kill -9: {rounds} rounds, {} acknowledged posts all there after SIGKILLs ({:.1} s)",
        all.len(),
        started.elapsed().as_secs_f64()
    );
    anyhow::ensure!(!all.is_empty(), "no post was acknowledged at all");
    Ok(())
}

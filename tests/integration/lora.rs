//! The LoRa bridge end to end, with real `flotilla` processes on a simulated air
//! (`flotilla lora-air`: pseudo-terminal KISS modems, airtime, loss, duty cycle).
//!
//! Boat A has IP only; gateway G has IP (peered with A) and radio 0; boat B has radio 1 and
//! no IP path at all (it joined over IP first, then restarted LoRa-only). Figures (time and
//! bytes on air) are printed; docs/performance.md keeps them.
//!
//! - [`meshtastic`]: our stream-API frames against the Meshtastic Python package.
//! - [`api`]: a minimal HTTP client (DMs are written and read through the API).

mod api;
mod meshtastic;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::artifact::{Target, built};

/// How long a process gets to print its first lines.
const START: Duration = Duration::from_secs(30);
/// The 100-character French post of the figures (105 UTF-8 bytes).
pub(crate) const FRENCH_100: &str = "Le vent tourne au nord-ouest cet après-midi, on quitte le mouillage vers 15 h. Qui vient avec nous ?";

fn bin() -> anyhow::Result<PathBuf> {
    built("FLOTILLA_BIN", Target::Bin("flotilla"))
}

/// A child process killed on drop, its stdout lines collected.
struct Proc {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Proc {
    fn spawn(args: &[&str], wait_lines: usize) -> anyhow::Result<Proc> {
        let mut child = Command::new(bin()?)
            .args(args)
            .env(
                "RUST_LOG",
                std::env::var("FLOTILLA_TEST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().context("stdout")?;
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                sink.lock().unwrap_or_else(|e| e.into_inner()).push(line);
            }
        });
        let p = Proc { child, lines };
        wait_until(Instant::now() + START, "first lines", || {
            Ok(p.lines().len() >= wait_lines)
        })?;
        Ok(p)
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn signal(&self, sig: rustix::process::Signal) -> anyhow::Result<()> {
        let pid = rustix::process::Pid::from_raw(i32::try_from(self.child.id())?).context("pid")?;
        rustix::process::kill_process(pid, sig)?;
        Ok(())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_until(
    deadline: Instant,
    what: &str,
    mut check: impl FnMut() -> anyhow::Result<bool>,
) -> anyhow::Result<()> {
    loop {
        if check()? {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `flotilla --data-dir DIR ARGS`, expected to succeed; its stdout.
fn ok(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(bin()?)
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env("RUST_LOG", "warn")
        .env_remove("FLOTILLA_PASSWORD")
        .stdin(Stdio::null())
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "flotilla {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?)
}

/// A node: `flotilla serve` on loopback, no mDNS.
struct Boat {
    proc: Proc,
    dir: PathBuf,
    mesh: String,
    http: std::net::SocketAddr,
}

impl Boat {
    fn start(dir: &Path, extra: &[&str]) -> anyhow::Result<Boat> {
        let d = dir.to_string_lossy().into_owned();
        let mut args = vec![
            "--data-dir",
            &d,
            "serve",
            "--http",
            "127.0.0.1:0",
            "--no-mdns",
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
        ];
        args.extend_from_slice(extra);
        let proc = Proc::spawn(&args, 2)?;
        let lines = proc.lines();
        let mesh = lines[1].trim_start_matches("mesh address ").to_string();
        let http = lines[0]
            .split("http://")
            .nth(1)
            .and_then(|s| s.trim_end_matches('/').parse().ok())
            .with_context(|| format!("no HTTP address in {:?}", lines[0]))?;
        Ok(Boat {
            proc,
            dir: dir.to_path_buf(),
            mesh,
            http,
        })
    }

    fn ok(&self, args: &[&str]) -> anyhow::Result<String> {
        ok(&self.dir, args)
    }

    fn texts(&self) -> anyhow::Result<Vec<String>> {
        let out = self.ok(&[
            "messages",
            "--channel",
            "town-square",
            "--limit",
            "1000",
            "--json",
        ])?;
        let v: Vec<serde_json::Value> = serde_json::from_str(&out)?;
        Ok(v.iter()
            .filter_map(|m| m["text"].as_str().map(str::to_owned))
            .collect())
    }

    fn post(&self, user: &str, text: &str) -> anyhow::Result<()> {
        self.ok(&["post", "--as", user, "--channel", "town-square", text])
            .map(drop)
    }

    fn stop(mut self) -> anyhow::Result<()> {
        self.proc.signal(rustix::process::Signal::TERM)?;
        let deadline = Instant::now() + START;
        while self.proc.child.try_wait()?.is_none() {
            anyhow::ensure!(Instant::now() < deadline, "the node did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }
}

/// One radio's counters as `lora-air` prints them.
#[derive(Debug, Default, Clone)]
struct RadioLine {
    tx_frames: u64,
    tx_bytes: u64,
    airtime_ms: u64,
    duty_drops: u64,
    worst_hour_ms: u64,
    limit_hour_ms: u64,
}

/// The air's counters (asks with SIGUSR1).
fn air_stats(air: &Proc, radios: usize) -> anyhow::Result<Vec<RadioLine>> {
    let before = air.lines().len();
    air.signal(rustix::process::Signal::USR1)?;
    wait_until(Instant::now() + START, "air stats", || {
        Ok(air.lines().len() >= before + radios)
    })?;
    let lines = air.lines();
    lines[before..before + radios]
        .iter()
        .map(|l| {
            let get = |k: &str| -> anyhow::Result<u64> {
                let v = l
                    .split_whitespace()
                    .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
                    .with_context(|| format!("{k} in {l}"))?;
                Ok(v.parse()?)
            };
            Ok(RadioLine {
                tx_frames: get("tx_frames")?,
                tx_bytes: get("tx_bytes")?,
                airtime_ms: get("airtime_ms")?,
                duty_drops: get("duty_drops")?,
                worst_hour_ms: get("worst_hour_ms")?,
                limit_hour_ms: get("limit_hour_ms")?,
            })
        })
        .collect()
}

/// The fleet of the acceptance scenario on an air at `sf`.
struct Fleet {
    _tmp: tempfile::TempDir,
    air: Proc,
    air_dir: PathBuf,
    range: PathBuf,
    a: Boat,
    _g: Boat,
    b: Boat,
}

/// Who hears whom on the air of [`fleet`]: G and B (radios 0 and 1), and radios 2 and 3
/// (for Reticulum + LXMF side by side).
const IN_RANGE: &str = "0 1\n2 3\n";

fn fleet(sf: u8, loss: f64) -> anyhow::Result<Fleet> {
    fleet_with(sf, loss, 2, "5s")
}

fn fleet_with(sf: u8, loss: f64, radios: usize, beacon: &str) -> anyhow::Result<Fleet> {
    let tmp = tempfile::tempdir()?;
    let air_dir = tmp.path().join("air");
    let range = tmp.path().join("range");
    std::fs::write(&range, IN_RANGE)?;
    let (sf_s, loss_s, radios_s) = (sf.to_string(), loss.to_string(), radios.to_string());
    let air = Proc::spawn(
        &[
            "lora-air",
            "--dir",
            &air_dir.to_string_lossy(),
            "--radios",
            &radios_s,
            "--sf",
            &sf_s,
            "--loss",
            &loss_s,
            "--duty",
            "0.01",
            "--range",
            &range.to_string_lossy(),
            "--seed",
            "7",
        ],
        1,
    )?;
    let (dir_a, dir_g, dir_b) = (
        tmp.path().join("a"),
        tmp.path().join("g"),
        tmp.path().join("b"),
    );
    let lora_cfg = format!("[lora]\nsf = {sf}\nbeacon_interval = \"{beacon}\"\n");
    for d in [&dir_g, &dir_b] {
        std::fs::create_dir_all(d)?;
        std::fs::write(d.join("config.toml"), &lora_cfg)?;
    }
    let a = Boat::start(&dir_a, &["--name", "A"])?;
    a.ok(&[
        "user",
        "create",
        "--username",
        "anne",
        "--password",
        "a long passphrase",
        "--admin",
    ])?;
    a.ok(&["flotilla", "create", "Rallye"])?;
    let invite = a.ok(&["invite", "create", "--uses", "2", "--expires", "1h"])?;
    let code = invite.lines().last().context("no invite code")?.to_string();
    let radio0 = format!("kiss:{}", air_dir.join("radio0").display());
    let radio1 = format!("kiss:{}", air_dir.join("radio1").display());
    // G and B join over IP; their radios come on afterwards (so the setup's membership
    // events, which both boats hold, are not sent on air).
    let g = Boat::start(&dir_g, &["--name", "G", "--peer", &a.mesh])?;
    g.ok(&["flotilla", "join", &code])?;
    // B joins over IP, then leaves the IP mesh for good.
    let b = Boat::start(&dir_b, &["--name", "B", "--peer", &g.mesh])?;
    b.ok(&["flotilla", "join", &code])?;
    b.ok(&[
        "user",
        "create",
        "--username",
        "bob",
        "--password",
        "a long passphrase",
    ])?;
    b.post("bob", "bob est là")?;
    wait_until(Instant::now() + START, "bob's first post on A", || {
        Ok(a.texts()?.iter().any(|t| t == "bob est là"))
    })?;
    b.stop()?;
    g.stop()?;
    let g = Boat::start(
        &dir_g,
        &["--name", "G", "--peer", &a.mesh, "--lora", &radio0],
    )?;
    let b = Boat::start(&dir_b, &["--name", "B", "--lora", &radio1])?;
    wait_until(Instant::now() + START, "G back on A", || {
        let peers: Vec<serde_json::Value> = serde_json::from_str(&g.ok(&["peers", "--json"])?)?;
        Ok(peers.iter().any(|p| p["connected"] == true))
    })?;
    Ok(Fleet {
        _tmp: tmp,
        air,
        air_dir,
        range,
        a,
        _g: g,
        b,
    })
}

/// Waits until `boat` shows `text`; returns how long it took.
fn arrival(boat: &Boat, text: &str, within: Duration) -> anyhow::Result<Duration> {
    let t0 = Instant::now();
    wait_until(
        t0 + within,
        &format!("{text:?} on {}", boat.dir.display()),
        || Ok(boat.texts()?.iter().any(|t| t == text)),
    )?;
    Ok(t0.elapsed())
}

/// A post on A reaches B (LoRa only) through G, and B's reply reaches A. Prints the figures.
fn post_and_reply(f: &Fleet, sf: u8, within: Duration) -> anyhow::Result<()> {
    let before = air_stats(&f.air, 2)?;
    let t0 = Instant::now();
    let text = format!("A→B SF{sf}: {FRENCH_100}");
    f.a.post("anne", &text)?;
    let down = arrival(&f.b, &text, within)?;
    let mid = air_stats(&f.air, 2)?;
    let reply = format!("B→A SF{sf}: {FRENCH_100}");
    f.b.post("bob", &reply)?;
    let up = arrival(&f.a, &reply, within)?;
    let after = air_stats(&f.air, 2)?;
    let g_bytes = mid[0].tx_bytes - before[0].tx_bytes;
    let g_frames = mid[0].tx_frames - before[0].tx_frames;
    let b_bytes = after[1].tx_bytes - mid[1].tx_bytes;
    let b_frames = after[1].tx_frames - mid[1].tx_frames;
    println!(
        "LoRa SF{sf}, 1 % duty: A→B {:.1} s ({g_frames} frames, {g_bytes} B sent by G), B→A {:.1} s ({b_frames} frames, {b_bytes} B sent by B); total {:.1} s, airtime G {} ms, B {} ms",
        down.as_secs_f64(),
        up.as_secs_f64(),
        t0.elapsed().as_secs_f64(),
        after[0].airtime_ms,
        after[1].airtime_ms,
    );
    for r in &after {
        anyhow::ensure!(
            r.duty_drops == 0 && r.worst_hour_ms <= r.limit_hour_ms,
            "over the duty cycle: {r:?}"
        );
    }
    Ok(())
}

/// The password of the test users.
const PASSWORD: &str = "a long passphrase";

/// Anne's DM with bob, opened on A and known on B: (flotilla id, channel id).
fn open_dm(anne: &api::Session, bob: &api::Session) -> anyhow::Result<(String, String)> {
    let flotillas = anne.call("GET", "/api/v1/flotillas", None)?;
    let fl = flotillas[0]["id"]
        .as_str()
        .context("no flotilla")?
        .to_string();
    let dm = anne.call(
        "POST",
        &format!("/api/v1/flotillas/{fl}/dms"),
        Some(&serde_json::json!({"usernames": ["bob"]})),
    )?;
    let dm = dm["id"].as_str().context("no DM id")?.to_string();
    wait_until(
        Instant::now() + Duration::from_secs(120),
        "the DM channel on B",
        || {
            let channels = bob.call("GET", &format!("/api/v1/flotillas/{fl}/channels"), None)?;
            Ok(channels
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["id"] == dm.as_str())))
        },
    )?;
    Ok((fl, dm))
}

/// The texts of a channel's root posts, as `s` reads them.
fn api_texts(s: &api::Session, fl: &str, channel: &str) -> anyhow::Result<Vec<String>> {
    let page = s.call(
        "GET",
        &format!("/api/v1/flotillas/{fl}/channels/{channel}/posts?limit=200"),
        None,
    )?;
    Ok(page["posts"]
        .as_array()
        .map(|p| {
            p.iter()
                .filter_map(|p| p["text"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

/// What the UI shows on B (LoRa only) after `post_and_reply`: A's post marked 📡 "in" with
/// its hops, B's reply "out", A's boat reachable only by LoRa, B's radio with its airtime.
fn ui_fields_on_b(bob: &api::Session, fl: &str) -> anyhow::Result<()> {
    let channels = bob.call("GET", &format!("/api/v1/flotillas/{fl}/channels"), None)?;
    let town = channels
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "town-square"))
        .and_then(|c| c["id"].as_str())
        .context("no town-square")?
        .to_string();
    let page = bob.call(
        "GET",
        &format!("/api/v1/flotillas/{fl}/channels/{town}/posts?limit=200"),
        None,
    )?;
    let posts = page["posts"].as_array().context("no posts")?;
    let find = |prefix: &str| {
        posts
            .iter()
            .find(|p| p["text"].as_str().is_some_and(|t| t.starts_with(prefix)))
            .cloned()
            .with_context(|| format!("no post {prefix}"))
    };
    let down = find("A→B SF7")?;
    println!("on B, A's post: lora = {}", down["lora"]);
    anyhow::ensure!(down["lora"]["direction"] == "in", "{}", down["lora"]);
    anyhow::ensure!(down["lora"]["hops"].as_u64().is_some_and(|h| h >= 1));
    let up = find("B→A SF7")?;
    anyhow::ensure!(up["lora"]["direction"] == "out", "{}", up["lora"]);
    anyhow::ensure!(up["lora"]["hops"] == 0);
    let boats = bob.call("GET", &format!("/api/v1/flotillas/{fl}/nodes"), None)?;
    let a = boats
        .as_array()
        .and_then(|b| b.iter().find(|b| b["name"] == "A"))
        .context("no boat A")?;
    anyhow::ensure!(a["lora_only"] == true, "A on B: {a}");
    let radios = bob.call("GET", &format!("/api/v1/flotillas/{fl}/radios"), None)?;
    println!("B's radios: {radios}");
    let r = &radios[0];
    anyhow::ensure!(
        r["spec"].as_str().is_some_and(|s| s.starts_with("kiss:")),
        "{radios}"
    );
    anyhow::ensure!(r["airtime_ms_this_hour"].as_u64().is_some_and(|a| a > 0));
    anyhow::ensure!(
        r["airtime_ms_this_hour"].as_u64() <= r["duty_budget_ms"].as_u64(),
        "{radios}"
    );
    // 1 % of an hour, of which the bridge plans with 97 %.
    anyhow::ensure!(
        r["duty_budget_ms"]
            .as_u64()
            .is_some_and(|b| (34_000..=36_000).contains(&b)),
        "{radios}"
    );
    Ok(())
}

#[test]
fn lora_sf7_post_reply_burst_with_dms_first_and_catch_up() -> anyhow::Result<()> {
    let f = fleet(7, 0.1)?;
    post_and_reply(&f, 7, Duration::from_secs(60))?;
    let anne = api::Session::login(f.a.http, "anne", PASSWORD)?;
    let bob = api::Session::login(f.b.http, "bob", PASSWORD)?;
    let (fl, dm) = open_dm(&anne, &bob)?;
    ui_fields_on_b(&bob, &fl)?;

    // A burst of 20 posts: 14 in town-square written first (by 4 clients in parallel, so
    // that G's queue fills faster than the air drains), then 6 DMs anne → bob. The DMs go
    // on air before the channel posts still queued on G.
    let t0 = Instant::now();
    let burst: Vec<String> = (0..14)
        .map(|i| format!("rafale {i:02} : {FRENCH_100}"))
        .collect();
    let dms: Vec<String> = (0..6).map(|i| format!("MP {i} : {FRENCH_100}")).collect();
    // Written by 4 clients in parallel: G's queue fills faster than the air drains.
    std::thread::scope(|s| {
        let posts: Vec<_> = burst
            .chunks(5)
            .map(|texts| {
                s.spawn(|| {
                    texts.iter().try_for_each(|text| {
                        let mut tries = 0;
                        loop {
                            match f.a.post("anne", text) {
                                Err(e) if tries < 5 => {
                                    tries += 1;
                                    eprintln!("retrying a post: {e}");
                                    std::thread::sleep(Duration::from_millis(100));
                                }
                                other => return other,
                            }
                        }
                    })
                })
            })
            .collect();
        posts.into_iter().try_for_each(|p| {
            p.join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("panicked")))
        })
    })?;
    let channel_written = t0.elapsed();
    for text in &dms {
        anne.call(
            "POST",
            &format!("/api/v1/flotillas/{fl}/channels/{dm}/posts"),
            Some(&serde_json::json!({ "text": text })),
        )?;
    }
    let written = t0.elapsed();
    // (text, is a DM, when it showed on B)
    let mut seen: Vec<(String, bool, Duration)> = Vec::new();
    let waited = wait_until(t0 + Duration::from_secs(180), "the burst on B", || {
        let channel = f.b.texts()?;
        let direct = api_texts(&bob, &fl, &dm)?;
        let now = t0.elapsed();
        for (t, is_dm) in channel
            .into_iter()
            .map(|t| (t, false))
            .chain(direct.into_iter().map(|t| (t, true)))
        {
            let ours = if is_dm {
                dms.contains(&t)
            } else {
                burst.contains(&t)
            };
            if ours && !seen.iter().any(|(s, _, _)| *s == t) {
                seen.push((t, is_dm, now));
            }
        }
        Ok(seen.len() == burst.len() + dms.len())
    });
    let order: Vec<String> = seen
        .iter()
        .map(|(t, is_dm, d)| {
            let label = if *is_dm { "DM" } else { "post" };
            format!(
                "{label} {} @{:.1}s",
                &t[..t.find(' ').unwrap_or(0).max(2) + 3],
                d.as_secs_f64()
            )
        })
        .collect();
    println!("arrival order on B: {}", order.join(", "));
    if waited.is_err() {
        println!("seen {} of 20; air {:?}", seen.len(), air_stats(&f.air, 2)?);
    }
    waited?;
    println!(
        "burst of 20 (14 posts then 6 DMs) at SF7, 10 % loss: posts written in {:.1} s, DMs by {:.1} s, all on B after {:.1} s",
        channel_written.as_secs_f64(),
        written.as_secs_f64(),
        t0.elapsed().as_secs_f64()
    );
    // DMs first: the channel posts still waiting on G when the DMs were written arrive,
    // in the middle, after the DMs (a lost frame comes back by catch-up, later: the
    // medians allow two of the six DMs to be lost on air).
    let median = |mut v: Vec<Duration>| -> Option<Duration> {
        v.sort();
        v.get(v.len() / 2).copied()
    };
    let dm_times: Vec<Duration> = seen.iter().filter(|s| s.1).map(|s| s.2).collect();
    let queued_posts: Vec<Duration> = seen
        .iter()
        .filter(|s| !s.1 && s.2 > written)
        .map(|s| s.2)
        .collect();
    println!(
        "{} channel posts were still on their way when the DMs were written; median arrival: DMs {:?}, those posts {:?}",
        queued_posts.len(),
        median(dm_times.clone()),
        median(queued_posts.clone())
    );
    if let (Some(d), Some(p)) = (median(dm_times), median(queued_posts)) {
        anyhow::ensure!(d < p, "DMs not first on B: {}", order.join(", "));
    }

    // B out of range while 10 posts are written, then back: it catches up.
    std::fs::write(&f.range, "# nobody hears anybody\n")?;
    std::thread::sleep(Duration::from_millis(500));
    let missed: Vec<String> = (0..10)
        .map(|i| format!("pendant l'absence de B, {i}"))
        .collect();
    for text in &missed {
        f.a.post("anne", text)?;
    }
    std::thread::sleep(Duration::from_secs(5));
    anyhow::ensure!(
        !f.b.texts()?.iter().any(|t| missed.contains(t)),
        "B heard posts while out of range"
    );
    let back = Instant::now();
    std::fs::write(&f.range, IN_RANGE)?;
    wait_until(back + Duration::from_secs(120), "B's catch-up", || {
        let texts = f.b.texts()?;
        Ok(missed.iter().all(|m| texts.contains(m)))
    })?;
    println!(
        "B caught up 10 posts {:.1} s after coming back in range",
        back.elapsed().as_secs_f64()
    );
    let texts = f.b.texts()?;
    for t in burst.iter().chain(&missed) {
        anyhow::ensure!(
            texts.iter().filter(|x| *x == t).count() == 1,
            "{t:?} duplicated on B"
        );
    }
    for r in air_stats(&f.air, 2)? {
        anyhow::ensure!(
            r.duty_drops == 0 && r.worst_hour_ms <= r.limit_hour_ms,
            "over the duty cycle: {r:?}"
        );
    }
    let _ = std::io::stdout().flush();
    Ok(())
}

#[test]
fn lora_sf9_post_and_reply() -> anyhow::Result<()> {
    let f = fleet(9, 0.1)?;
    post_and_reply(&f, 9, Duration::from_secs(90))
}

#[test]
#[ignore = "SF12: slow (a frame lasts about 2.5 s); run with --ignored"]
fn lora_sf12_post_and_reply() -> anyhow::Result<()> {
    let f = fleet_with(12, 0.1, 2, "60s")?;
    post_and_reply(&f, 12, Duration::from_secs(300))
}

/// The texts of the side-by-side figures.
const SIDE_BY_SIDE: [&str; 3] = [
    FRENCH_100,
    "ok, à tout à l'heure",
    "Météo : NO 15-20 nœuds, rafales 25, mer agitée, houle 2 m. Départ reporté à demain 8 h, rendez-vous au ponton pour le briefing.",
];

/// Flotilla and Reticulum + LXMF on the same simulated air, the same texts: bytes the sender
/// puts on air per message and delivery time, printed as the rows of docs/performance.md.
#[test]
#[ignore = "figures for docs/performance.md; needs python with rns and lxmf ($FLOTILLA_PYTHON)"]
fn lora_side_by_side_with_lxmf() -> anyhow::Result<()> {
    let py = meshtastic::python()
        .context("no python: set FLOTILLA_PYTHON to a venv with rns and lxmf")?;
    for sf in [7u8, 9] {
        let f = fleet_with(sf, 0.0, 4, "1h")?;
        for text in SIDE_BY_SIDE {
            let before = air_stats(&f.air, 4)?;
            f.a.post("anne", text)?;
            let took = arrival(&f.b, text, Duration::from_secs(120))?;
            std::thread::sleep(Duration::from_secs(1));
            let after = air_stats(&f.air, 4)?;
            println!(
                "| flotilla | SF{sf} | {} chars ({} B UTF-8) | {} B in {} frame(s) | {:.1} s |",
                text.chars().count(),
                text.len(),
                after[0].tx_bytes - before[0].tx_bytes,
                after[0].tx_frames - before[0].tx_frames,
                took.as_secs_f64()
            );
        }
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/lora/lxmf_side_by_side.py");
        let work = f.air_dir.join("rns");
        let mut child = Command::new(&py)
            .arg(&script)
            .args([
                "send",
                &f.air_dir.join("radio2").to_string_lossy(),
                &f.air_dir.join("radio3").to_string_lossy(),
                &work.to_string_lossy(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        child
            .stdin
            .take()
            .context("stdin")?
            .write_all(SIDE_BY_SIDE.join("\n").as_bytes())?;
        let out = child.wait_with_output()?;
        anyhow::ensure!(out.status.success(), "the LXMF script failed");
        for line in String::from_utf8(out.stdout)?.lines() {
            let v: serde_json::Value = serde_json::from_str(line)?;
            if v.get("chars").is_some() {
                println!(
                    "| LXMF (opportunistic) | SF{sf} | {} chars ({} B UTF-8) | {} B + {} B proof | {} s |",
                    v["chars"], v["utf8"], v["message_bytes"], v["proof_bytes"], v["delivery_s"]
                );
            } else {
                println!(
                    "LXMF announce crossed in {} s ({} B)",
                    v["announce_s"], v["announce_rxb"]
                );
            }
        }
    }
    Ok(())
}

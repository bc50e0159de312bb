//! The real `flotilla` binary, run as a user would: `serve`, and the administration
//! commands through the admin socket, up to three nodes peered on loopback.
//!
//! The binary is found by [`crate::artifact::built`] (`$FLOTILLA_BIN` overrides it). Waits
//! poll a command's output against a deadline; there are no fixed sleeps.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::artifact::{Target, built};

mod search;

/// How long a node gets to print its URL or to exit.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The path of an up-to-date `flotilla` binary (`$FLOTILLA_BIN` if set; see [`artifact`]).
fn flotilla_bin() -> anyhow::Result<PathBuf> {
    built("FLOTILLA_BIN", Target::Bin("flotilla"))
}

/// Starts `flotilla --data-dir <dir> serve --http 127.0.0.1:0 --listen <loopback:0> ...`,
/// reads its URL line and checks that the next line is a mesh address with its peer id.
fn spawn_serve(dir: &Path, extra: &[&str]) -> anyhow::Result<(Child, String)> {
    spawn_serve_mesh(dir, extra).map(|(child, url, _)| (child, url))
}

/// [`spawn_serve`], also returning the mesh address (with `/p2p/<peer id>`).
fn spawn_serve_mesh(dir: &Path, extra: &[&str]) -> anyhow::Result<(Child, String, String)> {
    let mut child = Command::new(flotilla_bin()?)
        .arg("--data-dir")
        .arg(dir)
        .args(["serve", "--http", "127.0.0.1:0", "--no-mdns"])
        .args(["--listen", "/ip4/127.0.0.1/tcp/0"])
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().context("no stdout")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        for _ in 0..2 {
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
        }
        // Keep draining (the setup code, later lines) so the node never writes to a closed
        // pipe.
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    let (url, mesh) = match (rx.recv_timeout(TIMEOUT), rx.recv_timeout(TIMEOUT)) {
        (Ok(url), Ok(mesh)) => (url, mesh),
        (url, mesh) => {
            child.kill()?;
            anyhow::bail!("flotilla printed no URL and mesh address: {url:?} {mesh:?}")
        }
    };
    anyhow::ensure!(
        mesh.starts_with("mesh address /ip4/127.0.0.1/tcp/") && mesh.contains("/p2p/12D3Koo"),
        "second line: {mesh}"
    );
    Ok((
        child,
        url.trim_end().to_string(),
        mesh.trim_end()
            .trim_start_matches("mesh address ")
            .to_string(),
    ))
}

/// A minimal HTTP/1.1 GET: returns the status code and the body.
fn http_get(addr: &str, path: &str) -> anyhow::Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").context("no header end")?;
    let code = head.split(' ').nth(1).context("no status")?.parse()?;
    Ok((code, body.to_string()))
}

fn wait_with_timeout(child: &mut Child) -> anyhow::Result<ExitStatus> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if Instant::now() > deadline {
            child.kill()?;
            anyhow::bail!("flotilla did not exit within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Asks for a clean shutdown with SIGTERM (through kill(1): the tests stay libc-free).
fn terminate(child: &mut Child) -> anyhow::Result<ExitStatus> {
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()?;
    anyhow::ensure!(sent.success(), "kill -TERM failed");
    wait_with_timeout(child)
}

#[test]
fn serve_prints_its_url_serves_status_and_stops_on_sigterm() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("data");
    let (mut child, line) = spawn_serve(&dir, &["--name", "Ondine <3"])?;
    let rest = line
        .strip_prefix("flotilla node ")
        .with_context(|| format!("unexpected line: {line}"))?;
    let (short, url) = rest
        .split_once(" listening on ")
        .with_context(|| format!("unexpected line: {line}"))?;
    let addr = url
        .strip_prefix("http://")
        .and_then(|a| a.strip_suffix('/'))
        .context("bad URL")?;
    assert!(
        !addr.ends_with(":0"),
        "printed the asked port, not the bound one: {addr}"
    );

    let (code, body) = http_get(addr, "/api/v1/status")?;
    assert_eq!(code, 200, "{body}");
    let status: serde_json::Value = serde_json::from_str(&body)?;
    let node_id = status["node_id"].as_str().context("node_id")?;
    assert!(
        node_id.len() == 64 && node_id.starts_with(short),
        "{status}"
    );
    assert_eq!(status["name"], "Ondine <3");
    assert_eq!(status["peers"], 0);
    assert!(
        status.get("data_dir").is_none() && !body.contains(&*dir.to_string_lossy()),
        "the public status shows no data directory: {status}"
    );

    let (code, page) = http_get(addr, "/")?;
    assert_eq!(code, 200);
    assert!(
        page.contains("/js/main.js"),
        "the crew's UI is at /: {page}"
    );
    let (code, page) = http_get(addr, "/status")?;
    assert_eq!(code, 200);
    assert!(
        page.contains("Ondine &lt;3") && page.contains(node_id) && page.contains("crew"),
        "{page}"
    );

    let mode = std::fs::metadata(dir.join("node.key"))?
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let status = terminate(&mut child)?;
    assert!(
        status.success(),
        "SIGTERM should stop the node cleanly: {status}"
    );

    let (mut again, line2) = spawn_serve(&dir, &[])?;
    assert!(
        line2.starts_with(&format!("flotilla node {short} ")),
        "same key after restart: {line2}"
    );
    again.kill()?;
    again.wait()?;
    Ok(())
}

fn run(args: &[&str]) -> anyhow::Result<(ExitStatus, String)> {
    let out = Command::new(flotilla_bin()?)
        .args(args)
        .stdin(Stdio::null())
        .output()?;
    Ok((
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

#[test]
fn bad_flags_and_configs_exit_non_zero_with_a_message() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().to_str().context("utf-8 temp dir")?;

    let (status, stderr) = run(&["--data-dir", data, "serve", "--bogus"])?;
    assert!(
        !status.success() && stderr.contains("--bogus"),
        "{status} {stderr}"
    );

    let (status, stderr) = run(&["--data-dir", data, "serve", "--http", "not-an-address"])?;
    assert!(
        !status.success() && stderr.contains("--http"),
        "{status} {stderr}"
    );

    let config = tmp.path().join("bad.toml");
    std::fs::write(&config, "htp = \"127.0.0.1:1\"\n")?;
    let (status, stderr) = run(&[
        "--config",
        config.to_str().context("utf-8")?,
        "--data-dir",
        data,
        "serve",
    ])?;
    assert!(
        !status.success() && stderr.contains("unknown field"),
        "{status} {stderr}"
    );

    let key_dir = tmp.path().join("leaky");
    std::fs::create_dir(&key_dir)?;
    std::fs::write(key_dir.join("node.key"), format!("{}\n", "ab".repeat(32)))?;
    std::fs::set_permissions(
        key_dir.join("node.key"),
        std::fs::Permissions::from_mode(0o644),
    )?;
    let key_arg = key_dir.to_str().context("utf-8")?;
    let (status, stderr) = run(&["--data-dir", key_arg, "serve", "--http", "127.0.0.1:0"])?;
    assert!(
        !status.success() && stderr.contains("chmod 600"),
        "{status} {stderr}"
    );
    Ok(())
}

/// A `flotilla serve` process, killed on drop (a failing test leaves nothing running).
pub(crate) struct Serve {
    child: Child,
    dir: PathBuf,
    pub(crate) mesh: String,
    /// The HTTP address, `127.0.0.1:PORT`.
    pub(crate) http: String,
}

impl Serve {
    pub(crate) fn start(dir: &Path, extra: &[&str]) -> anyhow::Result<Serve> {
        let (child, url, mesh) = spawn_serve_mesh(dir, extra)?;
        let http = url
            .split("://")
            .nth(1)
            .map(|a| a.trim_end_matches('/').to_owned())
            .unwrap_or_default();
        Ok(Serve {
            child,
            dir: dir.to_path_buf(),
            mesh,
            http,
        })
    }

    /// Runs `flotilla --data-dir <dir> <args>` and expects success; returns stdout.
    pub(crate) fn ok(&self, args: &[&str]) -> anyhow::Result<String> {
        ok(&self.dir, args)
    }

    /// Runs `flotilla --data-dir <dir> <args>` and expects failure; returns stderr.
    pub(crate) fn fails(&self, args: &[&str]) -> anyhow::Result<String> {
        fails(&self.dir, args)
    }

    /// `messages --channel <channel> --json`, parsed.
    pub(crate) fn messages(&self, channel: &str) -> anyhow::Result<Vec<serde_json::Value>> {
        let out = self.ok(&[
            "messages",
            "--channel",
            channel,
            "--limit",
            "1000",
            "--json",
        ])?;
        Ok(serde_json::from_str(&out)?)
    }

    /// How many messages of `channel` have exactly `text`.
    fn count(&self, channel: &str, text: &str) -> anyhow::Result<usize> {
        Ok(self
            .messages(channel)?
            .iter()
            .filter(|m| m["text"] == text)
            .count())
    }

    /// SIGTERM, and waits for a clean exit.
    pub(crate) fn stop(mut self) -> anyhow::Result<()> {
        let status = terminate(&mut self.child)?;
        anyhow::ensure!(status.success(), "unclean exit: {status}");
        Ok(())
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill(); // already gone after stop()
        let _ = self.child.wait();
    }
}

fn flotilla(dir: &Path, args: &[&str]) -> anyhow::Result<std::process::Output> {
    Ok(Command::new(flotilla_bin()?)
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env("RUST_LOG", "warn")
        .env_remove("FLOTILLA_PASSWORD")
        .stdin(Stdio::null())
        .output()?)
}

fn ok(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = flotilla(dir, args)?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    anyhow::ensure!(
        out.status.success(),
        "flotilla {args:?}: {}: {stderr}",
        out.status
    );
    Ok(String::from_utf8(out.stdout)?)
}

fn fails(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = flotilla(dir, args)?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    anyhow::ensure!(
        !out.status.success(),
        "flotilla {args:?} should fail: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    anyhow::ensure!(
        stderr.contains("error"),
        "flotilla {args:?}: no message: {stderr}"
    );
    Ok(stderr)
}

/// The one line of `out`, checked to be a lowercase hex id of `len` characters.
pub(crate) fn hex_id(out: &str, len: usize) -> anyhow::Result<String> {
    let id = out.trim();
    anyhow::ensure!(
        id.len() == len && id.chars().all(|c| c.is_ascii_hexdigit()),
        "not a {len}-character id: {out:?}"
    );
    Ok(id.to_string())
}

/// Polls `check` until it holds, or fails naming `what` at `deadline`.
pub(crate) fn wait_until(
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

fn is_rfc3339_utc(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 24
        && b[4] == b'-'
        && b[10] == b'T'
        && b[19] == b'.'
        && s.ends_with('Z')
        && s[..4].parse::<u32>().is_ok_and(|y| y >= 2024)
}

#[test]
fn admin_commands_work_and_refuse_bad_input_with_a_message() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("a");
    let stderr = fails(&dir, &["peers", "--json"])?;
    let shown = dir.display().to_string();
    assert!(
        stderr.contains(&format!("no node is running on {shown}"))
            && stderr.contains(&format!("flotilla --data-dir {shown} serve")),
        "{stderr}"
    );

    let a = Serve::start(&dir, &[])?;
    let socket = dir.join("admin.sock");
    assert_eq!(
        std::fs::metadata(&socket)?.permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(a.ok(&["peers", "--json"])?.trim(), "[]");

    // Users.
    let err = a.fails(&["flotilla", "create", "Rallye"])?;
    assert!(
        err.contains("user create") && err.contains("--admin"),
        "{err}"
    );
    assert_eq!(
        a.ok(&["flotilla", "list", "--json"])?.trim(),
        "[]",
        "nothing founded"
    );
    let err = a.fails(&[
        "user",
        "create",
        "--username",
        "a b",
        "--password",
        "long enough",
    ])?;
    assert!(err.contains("username"), "{err}");
    let err = a.fails(&[
        "user",
        "create",
        "--username",
        "anne",
        "--password",
        "short",
    ])?;
    assert!(err.contains("password"), "{err}");
    let out = a.ok(&[
        "user",
        "create",
        "--username",
        "anne",
        "--password",
        "a long passphrase",
        "--admin",
    ])?;
    assert_eq!(out.trim(), "user anne created (node admin)");
    let err = a.fails(&[
        "user",
        "create",
        "--username",
        "anne",
        "--password",
        "another one",
    ])?;
    assert!(err.contains("already exists"), "{err}");

    // Flotilla and channels.
    let err = a.fails(&["flotilla", "create", " "])?;
    assert!(err.contains("flotilla name"), "{err}");
    let flotilla = hex_id(&a.ok(&["flotilla", "create", "Rallye des Abers"])?, 32)?;
    let list: serde_json::Value = serde_json::from_str(&a.ok(&["flotilla", "list", "--json"])?)?;
    assert_eq!(list[0]["id"], flotilla.as_str());
    assert_eq!(list[0]["name"], "Rallye des Abers");
    let mouillage = hex_id(&a.ok(&["channel", "create", "mouillage"])?, 32)?;
    let err = a.fails(&["channel", "create", "mouillage"])?;
    assert!(err.contains("already exists"), "{err}");
    let err = a.fails(&["channel", "create", "x", "--flotilla", "nope"])?;
    assert!(err.contains("no flotilla `nope`"), "{err}");
    hex_id(
        &a.ok(&[
            "channel",
            "create",
            "equipage",
            "--private",
            "--flotilla",
            &flotilla,
        ])?,
        32,
    )?;
    let channels: Vec<serde_json::Value> =
        serde_json::from_str(&a.ok(&["channel", "list", "--json"])?)?;
    let find = |name: &str| channels.iter().find(|c| c["name"] == name).cloned();
    assert_eq!(
        find("mouillage").map(|c| c["id"].clone()),
        Some(mouillage.clone().into())
    );
    assert_eq!(
        find("equipage").map(|c| c["private"].clone()),
        Some(true.into())
    );
    assert_eq!(
        find("town-square").map(|c| c["private"].clone()),
        Some(false.into())
    );
    assert_eq!(channels.len(), 4, "{channels:?}");
    assert!(a.ok(&["channel", "list"])?.contains("equipage"));

    // Invites.
    let out = a.ok(&["invite", "create", "--uses", "1", "--expires", "24h"])?;
    let code = out.lines().last().context("no code")?.to_string();
    assert!(code.starts_with("fl2") && code.len() == 163, "{out}");
    let invite_id = out
        .split_whitespace()
        .nth(1)
        .context("no invite id")?
        .to_string();
    assert!(code.contains(&invite_id), "{out}");
    let err = a.fails(&["invite", "create", "--uses", "0"])?;
    assert!(err.contains("--uses"), "{err}");
    let err = a.fails(&["invite", "create", "--expires", "soon"])?;
    assert!(err.contains("--expires"), "{err}");
    let err = a.fails(&["invite", "revoke", &"0".repeat(32)])?;
    assert!(err.contains("not found"), "{err}");
    let err = a.fails(&["invite", "revoke", "nope"])?;
    assert!(err.contains("invalid"), "{err}");
    let out = a.ok(&["invite", "revoke", &invite_id])?;
    assert_eq!(out.trim(), format!("invite {invite_id} revoked"));
    let second = a.ok(&["invite", "create"])?;
    let second = second.lines().last().context("no code")?;
    assert!(a.ok(&["invite", "revoke", second])?.contains("revoked"));
    let err = a.fails(&["flotilla", "join", "fl2nope"])?;
    assert!(err.contains("invite code"), "{err}");

    // Posts and messages.
    let root = hex_id(
        &a.ok(&[
            "post",
            "--as",
            "anne",
            "--channel",
            "mouillage",
            "6 m, sand",
        ])?,
        64,
    )?;
    let reply = hex_id(
        &a.ok(&[
            "post",
            "--as",
            "anne",
            "--channel",
            &mouillage,
            "--reply-to",
            &root,
            "Coffee at 10?",
        ])?,
        64,
    )?;
    let err = a.fails(&["post", "--as", "nobody", "--channel", "mouillage", "hi"])?;
    assert!(err.contains("user `nobody`"), "{err}");
    let err = a.fails(&["post", "--as", "anne", "--channel", "nope", "hi"])?;
    assert!(err.contains("no channel `nope`"), "{err}");
    let err = a.fails(&[
        "post",
        "--as",
        "anne",
        "--channel",
        "mouillage",
        "--reply-to",
        &"0".repeat(64),
        "hi",
    ])?;
    assert!(err.contains("not found"), "{err}");
    let err = a.fails(&["post", "--as", "anne", "--channel", "mouillage", ""])?;
    assert!(err.contains("text"), "{err}");

    let messages = a.messages("mouillage")?;
    assert_eq!(
        messages.len(),
        2,
        "refused posts are not stored: {messages:?}"
    );
    assert_eq!(messages[0]["id"], root.as_str());
    assert_eq!(messages[0]["root_id"], serde_json::Value::Null);
    assert_eq!(messages[1]["id"], reply.as_str());
    assert_eq!(messages[1]["root_id"], root.as_str());
    for m in &messages {
        assert_eq!(m["channel"], "mouillage");
        assert_eq!(m["author"], "anne");
        let at = m["created_at"].as_str().context("created_at")?;
        assert!(is_rfc3339_utc(at), "{at}");
    }
    let newest = a.ok(&[
        "messages",
        "--channel",
        "mouillage",
        "--limit",
        "1",
        "--json",
    ])?;
    let newest: Vec<serde_json::Value> = serde_json::from_str(&newest)?;
    assert_eq!(newest.len(), 1);
    assert_eq!(newest[0]["text"], "Coffee at 10?");
    let err = a.fails(&[
        "messages",
        "--channel",
        "mouillage",
        "--limit",
        "0",
        "--json",
    ])?;
    assert!(err.contains("--limit"), "{err}");
    assert!(
        a.ok(&["messages", "--channel", "mouillage"])?
            .contains("anne: 6 m, sand")
    );

    a.stop()?;
    assert!(!socket.exists(), "the socket is removed on shutdown");
    let err = fails(&dir, &["messages", "--channel", "mouillage", "--json"])?;
    assert!(err.contains("no node is running"), "{err}");
    Ok(())
}

/// The acceptance test: A–B–C on loopback, peered only A–B and B–C (B dials both, so a
/// restarted B, on a new port, finds them again). C joins through B; posts cross B; B goes
/// down; A and C post; B comes back; every post reaches every node, once.
#[test]
fn three_nodes_join_post_and_catch_up_after_a_restart() -> anyhow::Result<()> {
    let started = Instant::now();
    let deadline = || Instant::now() + Duration::from_secs(30);
    let tmp = tempfile::tempdir()?;
    let (dir_a, dir_b, dir_c) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
    );
    let a = Serve::start(&dir_a, &["--name", "Ondine"])?;
    let c = Serve::start(&dir_c, &["--name", "Kerlouan"])?;
    let b_flags = [
        "--name",
        "Pourquoi-Pas",
        "--peer",
        &a.mesh,
        "--peer",
        &c.mesh,
    ];
    let b_flags: Vec<&str> = b_flags.iter().map(|s| &**s).collect();
    let b = Serve::start(&dir_b, &b_flags)?;

    a.ok(&[
        "user",
        "create",
        "--username",
        "anne",
        "--password",
        "a long passphrase",
        "--admin",
    ])?;
    c.ok(&[
        "user",
        "create",
        "--username",
        "carl",
        "--password",
        "a long passphrase",
    ])?;
    let flotilla = hex_id(&a.ok(&["flotilla", "create", "Rallye"])?, 32)?;
    let invite = a.ok(&["invite", "create", "--uses", "2", "--expires", "1h"])?;
    let code = invite.lines().last().context("no code")?;

    assert_eq!(
        b.ok(&["flotilla", "join", code])?.trim(),
        flotilla,
        "B joins from A"
    );
    assert_eq!(
        c.ok(&["flotilla", "join", code])?.trim(),
        flotilla,
        "C joins through B"
    );
    let peers: Vec<serde_json::Value> = serde_json::from_str(&c.ok(&["peers", "--json"])?)?;
    assert!(
        peers.iter().all(
            |p| p["peer_id"] != a.mesh.rsplit('/').next().unwrap_or_default()
                || p["connected"] == false
        ),
        "C is never connected to A: {peers:?}"
    );
    assert!(
        peers
            .iter()
            .any(|p| p["connected"] == true && p["last_seen"].is_string())
    );

    a.ok(&[
        "post",
        "--as",
        "anne",
        "--channel",
        "town-square",
        "hello from Ondine",
    ])?;
    wait_until(deadline(), "A's post on C", || {
        Ok(c.count("town-square", "hello from Ondine")? == 1)
    })?;

    b.stop()?;
    a.ok(&[
        "post",
        "--as",
        "anne",
        "--channel",
        "town-square",
        "A while B is away",
    ])?;
    c.ok(&[
        "post",
        "--as",
        "carl",
        "--channel",
        "town-square",
        "C while B is away",
    ])?;
    let b = Serve::start(&dir_b, &b_flags)?;

    let posts = [
        "hello from Ondine",
        "A while B is away",
        "C while B is away",
    ];
    for (name, node) in [("A", &a), ("B", &b), ("C", &c)] {
        wait_until(deadline(), &format!("every post on {name}"), || {
            let mut all = true;
            for text in posts {
                let n = node.count("town-square", text)?;
                anyhow::ensure!(n <= 1, "{text:?} shown {n} times on {name}");
                all &= n == 1;
            }
            Ok(all)
        })?;
    }
    let on_a = a.messages("town-square")?;
    let carl = on_a.iter().find(|m| m["text"] == "C while B is away");
    assert_eq!(carl.map(|m| m["author"].clone()), Some("carl".into()));
    eprintln!("three-node acceptance took {:?}", started.elapsed());
    Ok(())
}

mod accounts;
mod mmctl;
mod removal;

//! The real `flotilla` binary, run as a user would.
//!
//! The binary is found by [`crate::artifact::built`] (`$FLOTILLA_BIN` overrides it).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::artifact::{Target, built};

/// How long a node gets to print its URL or to exit.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The path of an up-to-date `flotilla` binary (`$FLOTILLA_BIN` if set; see [`artifact`]).
fn flotilla_bin() -> anyhow::Result<PathBuf> {
    built("FLOTILLA_BIN", Target::Bin("flotilla"))
}

/// Starts `flotilla --data-dir <dir> serve --http 127.0.0.1:0 --listen <loopback:0> ...`,
/// reads its URL line and checks that the next line is a mesh address with its peer id.
fn spawn_serve(dir: &Path, extra: &[&str]) -> anyhow::Result<(Child, String)> {
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
    Ok((child, url.trim_end().to_string()))
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
    assert_eq!(status["events"], 0);
    assert_eq!(status["peers"], 0);
    assert_eq!(
        status["data_dir"].as_str().map(PathBuf::from),
        Some(std::path::absolute(&dir)?)
    );

    let (code, page) = http_get(addr, "/")?;
    assert_eq!(code, 200);
    assert!(
        page.contains("Ondine &lt;3") && page.contains(node_id) && page.contains("later version"),
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

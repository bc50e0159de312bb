//! A node that survives faults (issue 9), with the real `flotilla` binary driven through its
//! HTTP API as a client would:
//!
//! - [`kill9`]: SIGKILL at random moments while a client posts; every acknowledged post is
//!   there after the restart, round after round.
//! - [`diskfull`]: a small tmpfs filled up (root only; prints SKIPPED otherwise): posts and
//!   uploads refused with 507 and a message, the CLI says so and exits non-zero, reads keep
//!   working, and writes work again once space is freed.
//! - [`schemathesis`]: every API operation under schemathesis, checked against the node's
//!   own OpenAPI description (SKIPPED without schemathesis).
//!
//! [`Node`] starts `flotilla serve` and makes an admin, a flotilla and a bearer token.

mod diskfull;
mod kill9;
mod schemathesis;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::Context;

use crate::artifact::{Target, built};

/// How long a node gets to start, and a request to answer.
const TIMEOUT: Duration = Duration::from_secs(30);
/// The admin the tests make.
const ADMIN: &str = "skipper";
pub(crate) const PASSWORD: &str = "a long passphrase";

fn flotilla_bin() -> anyhow::Result<PathBuf> {
    built("FLOTILLA_BIN", Target::Bin("flotilla"))
}

/// An HTTP answer: status and body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: String,
    pub(crate) body: String,
}

impl Answer {
    pub(crate) fn json(&self) -> anyhow::Result<serde_json::Value> {
        serde_json::from_str(&self.body).with_context(|| format!("not JSON: {}", self.body))
    }
}

/// One HTTP/1.1 request on a new connection (`Connection: close`); `headers` are extra
/// header lines.
pub(crate) fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[String],
    content_type: &str,
    body: &[u8],
) -> anyhow::Result<Answer> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    for h in headers {
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").context("no header end")?;
    let status = head.split(' ').nth(1).context("no status")?.parse()?;
    Ok(Answer {
        status,
        headers: head.to_string(),
        body: body.to_string(),
    })
}

/// A `flotilla serve` process on loopback (no mDNS), killed on drop.
pub(crate) struct Node {
    pub(crate) child: Child,
    pub(crate) dir: PathBuf,
    /// `127.0.0.1:port` of its HTTP API.
    pub(crate) addr: String,
    /// Its mesh address, `/ip4/127.0.0.1/tcp/…/p2p/…`.
    pub(crate) mesh: String,
    envs: Vec<(String, String)>,
}

impl Node {
    /// Starts `flotilla --data-dir <dir> serve` with `envs` set; waits for its URL line.
    pub(crate) fn start(dir: &Path, envs: &[(&str, &str)]) -> anyhow::Result<Node> {
        Self::start_with(dir, &[], envs)
    }

    /// [`Self::start`] with more `serve` flags (`--peer ADDR`, `--name N`); waits for its
    /// URL line and its mesh address line.
    pub(crate) fn start_with(
        dir: &Path,
        flags: &[&str],
        envs: &[(&str, &str)],
    ) -> anyhow::Result<Node> {
        let envs: Vec<(String, String)> = envs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let mut child = Command::new(flotilla_bin()?)
            .arg("--data-dir")
            .arg(dir)
            .args(["serve", "--http", "127.0.0.1:0", "--no-mdns"])
            .args(["--listen", "/ip4/127.0.0.1/tcp/0"])
            .args(flags)
            .envs(envs.iter().map(|(k, v)| (k, v)))
            // `FLOTILLA_TEST_LOG=flotilla_node::http=debug` to see more of the nodes.
            .env(
                "RUST_LOG",
                std::env::var("FLOTILLA_TEST_LOG").unwrap_or_else(|_| "error".into()),
            )
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
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let (line, mesh) = match (rx.recv_timeout(TIMEOUT), rx.recv_timeout(TIMEOUT)) {
            (Ok(line), Ok(mesh)) if line.contains("listening on http://") => (line, mesh),
            other => {
                let _ = child.kill();
                let _ = child.wait();
                anyhow::bail!("flotilla printed no URL and mesh address: {other:?}");
            }
        };
        let addr = line
            .trim_end()
            .rsplit("http://")
            .next()
            .and_then(|a| a.strip_suffix('/'))
            .context("bad URL line")?
            .to_string();
        let mesh = mesh
            .trim()
            .strip_prefix("mesh address ")
            .context("bad mesh address line")?
            .to_string();
        Ok(Node {
            child,
            dir: dir.to_path_buf(),
            addr,
            mesh,
            envs,
        })
    }

    /// Runs `flotilla --data-dir <dir> <args>`: its exit success, stdout and stderr.
    pub(crate) fn cli(&self, args: &[&str]) -> anyhow::Result<(bool, String, String)> {
        let out = Command::new(flotilla_bin()?)
            .arg("--data-dir")
            .arg(&self.dir)
            .args(args)
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .env("RUST_LOG", "error")
            .env_remove("FLOTILLA_PASSWORD")
            .stdin(Stdio::null())
            .output()?;
        Ok((
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }

    /// [`Self::cli`], expecting success; its stdout.
    pub(crate) fn cli_ok(&self, args: &[&str]) -> anyhow::Result<String> {
        let (ok, out, err) = self.cli(args)?;
        anyhow::ensure!(ok, "flotilla {args:?} failed: {err}");
        Ok(out)
    }

    /// SIGKILL, and reaps it.
    pub(crate) fn kill9(mut self) -> anyhow::Result<()> {
        self.child.kill()?; // SIGKILL on Unix
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a client needs to post: the flotilla, town-square's id and a bearer token.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    pub(crate) flotilla: String,
    pub(crate) channel: String,
    pub(crate) token: String,
}

impl Client {
    /// Makes the admin, founds a flotilla, logs in and creates a token.
    pub(crate) fn setup(node: &Node) -> anyhow::Result<Client> {
        node.cli_ok(&[
            "user",
            "create",
            "--username",
            ADMIN,
            "--password",
            PASSWORD,
            "--admin",
        ])?;
        let flotilla = node
            .cli_ok(&["flotilla", "create", "Rallye"])?
            .trim()
            .to_string();
        Self::login(node, ADMIN, &flotilla)
    }

    /// Logs `username` (password [`PASSWORD`]) in on `node` and creates a token; finds
    /// town-square of `flotilla`.
    pub(crate) fn login(node: &Node, username: &str, flotilla: &str) -> anyhow::Result<Client> {
        let flotilla = flotilla.to_string();
        let login = serde_json::json!({"username": username, "password": PASSWORD}).to_string();
        let a = http(
            &node.addr,
            "POST",
            "/api/v1/login",
            &[],
            "application/json",
            login.as_bytes(),
        )?;
        anyhow::ensure!(a.status == 200, "login: {a:?}");
        let csrf = a.json()?["csrf_token"]
            .as_str()
            .context("csrf")?
            .to_string();
        let cookie = a
            .headers
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("set-cookie")
                    .then(|| v.trim().to_string())
            })
            .and_then(|c| c.split(';').next().map(str::to_owned))
            .context("no session cookie")?;
        let hdrs = [format!("Cookie: {cookie}"), format!("X-CSRF-Token: {csrf}")];
        let body = br#"{"name":"faults"}"#;
        let a = http(
            &node.addr,
            "POST",
            "/api/v1/tokens",
            &hdrs,
            "application/json",
            body,
        )?;
        anyhow::ensure!(a.status == 201, "token: {a:?}");
        let token = a.json()?["token"].as_str().context("token")?.to_string();
        let mut client = Client {
            flotilla,
            channel: String::new(),
            token,
        };
        let path = format!("/api/v1/flotillas/{}/channels", client.flotilla);
        let a = client.get(&node.addr, &path)?;
        anyhow::ensure!(a.status == 200, "channels: {a:?}");
        client.channel = a
            .json()?
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["name"] == "town-square"))
            .and_then(|c| c["id"].as_str())
            .context("no town-square")?
            .to_string();
        Ok(client)
    }

    fn auth(&self) -> [String; 1] {
        [format!("Authorization: Bearer {}", self.token)]
    }

    pub(crate) fn get(&self, addr: &str, path: &str) -> anyhow::Result<Answer> {
        http(addr, "GET", path, &self.auth(), "", &[])
    }

    /// Posts `text` in town-square.
    pub(crate) fn post(&self, addr: &str, text: &str) -> anyhow::Result<Answer> {
        let path = format!(
            "/api/v1/flotillas/{}/channels/{}/posts",
            self.flotilla, self.channel
        );
        let body = serde_json::json!({ "text": text }).to_string();
        http(
            addr,
            "POST",
            &path,
            &self.auth(),
            "application/json",
            body.as_bytes(),
        )
    }

    /// Uploads `bytes` as a file for town-square.
    pub(crate) fn upload(&self, addr: &str, bytes: &[u8]) -> anyhow::Result<Answer> {
        let path = format!(
            "/api/v1/flotillas/{}/files?channel={}&name=ballast.bin",
            self.flotilla, self.channel
        );
        http(
            addr,
            "POST",
            &path,
            &self.auth(),
            "application/octet-stream",
            bytes,
        )
    }

    /// Whether post `id` is there (200), or not (404).
    pub(crate) fn has(&self, addr: &str, id: &str) -> anyhow::Result<bool> {
        let a = self.get(
            addr,
            &format!("/api/v1/flotillas/{}/posts/{id}", self.flotilla),
        )?;
        anyhow::ensure!(a.status == 200 || a.status == 404, "get post: {a:?}");
        Ok(a.status == 200)
    }
}

/// A small random number from the clock (the tests print their seed).
pub(crate) fn seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1
}

/// xorshift64: the next random number of `state`.
pub(crate) fn next_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

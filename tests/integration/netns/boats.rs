//! [`Boats`]: one real node per namespace (node/examples/netns_node.rs: a full
//! [`flotilla_node::Node`] with mDNS on and no configured peers), driven through its line
//! protocol, with every line it prints timestamped on arrival.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::lab::NetnsLab;

/// The path of an up-to-date `netns_node` example (`$NETNS_NODE_BIN` if set).
fn node_bin() -> anyhow::Result<PathBuf> {
    crate::artifact::built(
        "NETNS_NODE_BIN",
        crate::artifact::Target::Example("netns_node"),
    )
}

/// One line a process in the lab (a node or an mDNS probe) printed.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub(crate) at: Instant,
    pub(crate) node: usize,
    pub(crate) text: String,
}

/// Forwards each line `node` prints on `stdout`, stamped on arrival, until the reader or the
/// receiver is gone (a thread per process: the tests wait on the receiver with deadlines).
pub(crate) fn forward_lines(
    stdout: impl std::io::Read + Send + 'static,
    node: usize,
    tx: mpsc::Sender<Line>,
) {
    std::thread::spawn(move || {
        for text in BufReader::new(stdout).lines().map_while(Result::ok) {
            let line = Line {
                at: Instant::now(),
                node,
                text,
            };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
}

/// Node processes, one per namespace. Kills them on drop (declare the lab first).
pub(crate) struct Boats {
    children: Vec<Child>,
    stdins: Vec<ChildStdin>,
    rx: mpsc::Receiver<Line>,
    lines: Vec<Line>,
    pub(crate) started: Instant,
    _dirs: Vec<tempfile::TempDir>,
}

impl Boats {
    /// Starts one node per namespace of `lab` (user `sailor{i}`), node `i` with the link
    /// profile `profile(i)` (`lan` or `halow`), and waits until each prints `ready`.
    pub(crate) fn spawn(
        lab: &NetnsLab,
        timeout: Duration,
        profile: impl Fn(usize) -> &'static str,
    ) -> anyhow::Result<Self> {
        let bin = node_bin()?;
        // `NODE_LOG=flotilla_node=debug` shows the nodes' logs on stderr.
        let log = std::env::var("NODE_LOG").unwrap_or_else(|_| "warn".into());
        let (tx, rx) = mpsc::channel();
        let mut boats = Self {
            children: Vec::new(),
            stdins: Vec::new(),
            rx,
            lines: Vec::new(),
            started: Instant::now(),
            _dirs: Vec::new(),
        };
        for i in 0..lab.len() {
            let dir = tempfile::tempdir()?;
            let mut child = lab
                .command(i, &bin)
                .arg("--data-dir")
                .arg(dir.path())
                .args(["--user", &format!("sailor{i}")])
                .args(["--link-profile", profile(i)])
                .env("RUST_LOG", log.as_str())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .context("cannot start netns_node")?;
            let stdout = child.stdout.take().context("no stdout")?;
            let stdin = child.stdin.take().context("no stdin")?;
            let tx = tx.clone();
            forward_lines(stdout, i, tx);
            boats.children.push(child);
            boats.stdins.push(stdin);
            boats._dirs.push(dir);
        }
        let n = lab.len();
        boats.wait("every node to be ready", timeout, |l| {
            (0..n).all(|i| {
                l.iter()
                    .any(|l| l.node == i && l.text.starts_with("ready "))
            })
        })?;
        Ok(boats)
    }

    /// How many nodes.
    pub(crate) fn len(&self) -> usize {
        self.children.len()
    }

    /// Sends one command line to node `i`; returns the time just before it was written
    /// (the answer may be read, and timestamped, before the write call returns).
    pub(crate) fn send(&mut self, i: usize, cmd: &str) -> anyhow::Result<Instant> {
        let at = Instant::now();
        let stdin = &mut self.stdins[i];
        writeln!(stdin, "{cmd}").context("node stdin")?;
        stdin.flush()?;
        Ok(at)
    }

    /// Reads lines until `done(lines)` holds; fails with everything printed after `timeout`.
    /// A line starting with `error` fails at once.
    pub(crate) fn wait(
        &mut self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&[Line]) -> bool,
    ) -> anyhow::Result<Instant> {
        let deadline = Instant::now() + timeout;
        while !done(&self.lines) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(line) => {
                    let failed = line.text.starts_with("error ");
                    self.lines.push(line);
                    anyhow::ensure!(
                        !failed,
                        "a node failed waiting for {what}; output:\n{}",
                        self.transcript()
                    );
                }
                Err(_) => anyhow::bail!(
                    "timed out after {timeout:?} waiting for {what}; output:\n{}",
                    self.transcript()
                ),
            }
        }
        Ok(self.lines.last().map_or_else(Instant::now, |l| l.at))
    }

    /// Takes in every line printed so far without waiting.
    pub(crate) fn drain(&mut self) {
        while let Ok(line) = self.rx.try_recv() {
            self.lines.push(line);
        }
    }

    /// Sends `cmd` to node `i` and waits for its answer line starting with `answer`; returns
    /// the rest of that line.
    pub(crate) fn ask(
        &mut self,
        i: usize,
        cmd: &str,
        answer: &str,
        timeout: Duration,
    ) -> anyhow::Result<String> {
        let since = self.send(i, cmd)?;
        let prefix = format!("{answer} ");
        self.wait(&format!("node {i} to answer `{cmd}`"), timeout, |l| {
            first_after(l, i, &prefix, since).is_some()
        })?;
        let text = first_after(&self.lines, i, &prefix, since).unwrap_or_default();
        Ok(text)
    }

    /// The texts node `i` reported with `got` (posts it accepted, its own included).
    pub(crate) fn got(lines: &[Line], i: usize) -> BTreeSet<String> {
        lines
            .iter()
            .filter(|l| l.node == i)
            .filter_map(|l| l.text.strip_prefix("got "))
            .map(str::to_owned)
            .collect()
    }

    /// When node `i` first reported `got text`.
    pub(crate) fn got_at(&self, i: usize, text: &str) -> Option<Instant> {
        self.lines
            .iter()
            .find(|l| l.node == i && l.text.strip_prefix("got ") == Some(text))
            .map(|l| l.at)
    }

    /// When node `i` first printed exactly `text`.
    pub(crate) fn got_line_at(&self, i: usize, text: &str) -> Option<Instant> {
        self.lines
            .iter()
            .find(|l| l.node == i && l.text == text)
            .map(|l| l.at)
    }

    /// How many lines of node `i` since `since` start with `prefix`.
    pub(crate) fn count_since(&self, i: usize, prefix: &str, since: Instant) -> usize {
        self.lines
            .iter()
            .filter(|l| l.node == i && l.at >= since && l.text.starts_with(prefix))
            .count()
    }

    /// Everything printed so far, with times since the start.
    pub(crate) fn transcript(&self) -> String {
        self.lines
            .iter()
            .map(|l| {
                let ms = l.at.duration_since(self.started).as_millis();
                format!("  {ms:>6} ms  node{}: {}\n", l.node, l.text)
            })
            .collect()
    }
}

fn first_after(lines: &[Line], node: usize, prefix: &str, since: Instant) -> Option<String> {
    lines
        .iter()
        .find(|l| l.node == node && l.at >= since && l.text.starts_with(prefix))
        .map(|l| l.text[prefix.len()..].to_owned())
}

impl Drop for Boats {
    fn drop(&mut self) {
        for stdin in &mut self.stdins {
            let _ = writeln!(stdin, "quit");
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        for child in &mut self.children {
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

//! The chromedriver process: started on a free loopback port (retrying on a clash), waited
//! for until `/status` says ready, and killed with everything it started (its process
//! group: chromium and its helpers) when dropped.

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hyper::Method;

use super::http;

/// The driver Debian's `chromium-driver` package installs.
pub(crate) const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How many ports to try when another process takes the free port first.
const MAX_PORT_ATTEMPTS: usize = 5;
/// Bound on chromedriver becoming ready.
const READY_TIMEOUT: Duration = Duration::from_secs(15);
/// How often readiness is polled.
const READY_POLL: Duration = Duration::from_millis(20);
/// Bound on one `/status` request.
const STATUS_TIMEOUT: Duration = Duration::from_secs(2);
/// How much of the driver's log an error quotes.
const LOG_TAIL_BYTES: usize = 2000;

/// Why chromedriver could not be started.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DriverError {
    #[error(
        "{CHROMEDRIVER} is missing: install Debian's chromium and chromium-driver (scripts/test.sh does)"
    )]
    Missing,
    #[error("chromedriver: {0}")]
    Io(#[from] std::io::Error),
    #[error("chromedriver exited ({status}) before it was ready; its log:\n{log}")]
    Exited {
        status: std::process::ExitStatus,
        log: String,
    },
    #[error("chromedriver not ready within {READY_TIMEOUT:?}; its log:\n{log}")]
    NotReady { log: String },
    #[error("chromedriver could not get a free port in {MAX_PORT_ATTEMPTS} attempts: {last}")]
    NoPort { last: Box<DriverError> },
}

/// A running chromedriver, killed with its process group on drop.
#[derive(Debug)]
pub(crate) struct Chromedriver {
    child: Child,
    addr: SocketAddr,
}

impl Chromedriver {
    /// Starts chromedriver with `env` added to its (and so chromium's) environment, logging
    /// to `log`, and waits until it is ready for sessions.
    pub(crate) async fn start(env: &[(&str, &Path)], log: &Path) -> Result<Self, DriverError> {
        Chromedriver::start_on(free_port, env, log).await
    }

    /// [`Self::start`] on the ports `next_port` gives, trying the next one on a clash.
    async fn start_on(
        mut next_port: impl FnMut() -> std::io::Result<u16>,
        env: &[(&str, &Path)],
        log: &Path,
    ) -> Result<Self, DriverError> {
        if !Path::new(CHROMEDRIVER).exists() {
            return Err(DriverError::Missing);
        }
        let mut last = None;
        for _ in 0..MAX_PORT_ATTEMPTS {
            let port = next_port()?;
            let mut driver = Chromedriver::spawn(port, env, log)?;
            match driver.wait_ready(log).await {
                Ok(()) => return Ok(driver),
                // A clash makes chromedriver exit at once ("bind() failed"): try another port.
                Err(e @ DriverError::Exited { .. }) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(DriverError::NoPort {
            last: Box::new(last.unwrap_or(DriverError::NotReady { log: String::new() })),
        })
    }

    /// Where the driver listens.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The driver's process id (also its process group's).
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    fn spawn(port: u16, env: &[(&str, &Path)], log: &Path) -> Result<Self, DriverError> {
        let out = File::create(log)?;
        let err = out.try_clone()?;
        let mut command = Command::new(CHROMEDRIVER);
        command
            .arg(format!("--port={port}"))
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            // Its own process group, so that drop kills chromium and its helpers too.
            .process_group(0);
        let child = command.spawn()?;
        Ok(Chromedriver {
            child,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        })
    }

    async fn wait_ready(&mut self, log: &Path) -> Result<(), DriverError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                let log = log_tail(log);
                return Err(DriverError::Exited { status, log });
            }
            if self.ready().await {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(DriverError::NotReady { log: log_tail(log) });
            }
            tokio::time::sleep(READY_POLL).await;
        }
    }

    async fn ready(&self) -> bool {
        let answer = http::request(self.addr, Method::GET, "/status", None, STATUS_TIMEOUT).await;
        answer.is_ok_and(|r| r.status == 200 && r.body["value"]["ready"] == true)
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // SIGKILL to the whole group: chromedriver, chromium and its zygotes and renderers.
        // (The crash handlers chromium detaches exit when chromium goes.)
        let group = rustix::process::Pid::from_child(&self.child);
        let signal = rustix::process::Signal::KILL;
        if rustix::process::kill_process_group(group, signal).is_err() {
            let _ = self.child.kill(); // at least the driver; it may have exited already
        }
        let _ = self.child.wait(); // reap it
    }
}

/// A loopback port nobody listened on a moment ago.
fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// The end of the driver's log, for error messages.
fn log_tail(log: &Path) -> String {
    let text = std::fs::read(log).unwrap_or_default();
    let start = text.len().saturating_sub(LOG_TAIL_BYTES);
    String::from_utf8_lossy(&text[start..]).into_owned()
}

/// Every live (non-zombie) process whose command line mentions `needle`.
pub(crate) fn processes_mentioning(needle: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            // Zombies have an empty command line, so they never match.
            let cmdline = std::fs::read(PathBuf::from(format!("/proc/{pid}/cmdline")));
            cmdline.is_ok_and(|c| String::from_utf8_lossy(&c).contains(needle))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A port someone else took between our probe and chromedriver's bind: the next one is
    /// used.
    #[tokio::test]
    async fn a_port_clash_moves_on_to_another_port() -> anyhow::Result<()> {
        let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let taken_port = taken.local_addr()?.port();
        let mut ports = [Ok(taken_port)]
            .into_iter()
            .chain(std::iter::repeat_with(free_port));
        let dir = tempfile::tempdir()?;
        let log = dir.path().join("chromedriver.log");
        let driver =
            Chromedriver::start_on(|| ports.next().unwrap_or_else(free_port), &[], &log).await?;
        assert_ne!(driver.addr().port(), taken_port);
        let pid = driver.pid();
        drop(driver);
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "chromedriver {pid} survived its drop"
        );
        Ok(())
    }

    #[test]
    fn the_log_tail_is_bounded() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let log = dir.path().join("log");
        std::fs::write(&log, "x".repeat(3 * LOG_TAIL_BYTES) + "the end")?;
        let tail = log_tail(&log);
        assert_eq!(tail.len(), LOG_TAIL_BYTES);
        assert!(tail.ends_with("the end"));
        assert_eq!(log_tail(&dir.path().join("missing")), "");
        Ok(())
    }
}

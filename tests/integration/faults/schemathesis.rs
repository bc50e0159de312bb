//! The HTTP API under property-based attack (issue 9): schemathesis (PyPI) reads the node's
//! own `/api/v1/openapi.json` and sends generated requests, valid and invalid, to every
//! operation, authenticated with a personal access token. Checks: no 5xx, status codes,
//! content types and bodies as documented, and every 4xx in the `{"error","message"}` shape
//! (`error_shape` in `schemathesis_hooks.py`, which also feeds the real flotilla and channel
//! ids into half the paths). Bounded: a few examples per operation, a wall-clock limit.
//!
//! schemathesis comes from `scripts/test.sh` (`need_schemathesis`: a venv in
//! `~/.cache/flotilla/schemathesis`); `$FLOTILLA_SCHEMATHESIS` names another `st`. Without it
//! the test prints SKIPPED.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

use super::{Client, Node};

/// Generated cases per operation and phase.
const MAX_EXAMPLES: &str = "12";
/// The whole schemathesis run is killed (and the test fails) after this.
const WALL_LIMIT: Duration = Duration::from_secs(420);
/// The checks run on every answer.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance,error_shape";

/// The `st` executable, if installed.
fn schemathesis() -> Option<PathBuf> {
    let st = std::env::var_os("FLOTILLA_SCHEMATHESIS")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| Path::new(&h).join(".cache/flotilla/schemathesis/bin/st"))
        })?;
    let ok = Command::new(&st)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(st)
}

#[test]
fn every_operation_answers_as_its_openapi_description_says() -> anyhow::Result<()> {
    let Some(st) = schemathesis() else {
        println!(
            "SKIPPED: no schemathesis (scripts/test.sh installs it; or FLOTILLA_SCHEMATHESIS)"
        );
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let node = Node::start(dir.path(), &[])?;
    let client = Client::setup(&node)?;
    let keep = own_identity(&node, &client)?;
    let report = dir.path().join("schemathesis");
    let hooks_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("integration/faults");
    let mut child = Command::new(&st)
        .arg("run")
        .arg(format!("http://{}/api/v1/openapi.json", node.addr))
        .args(["--checks", CHECKS])
        .args(["--max-examples", MAX_EXAMPLES])
        .args(["--workers", "2", "--request-timeout", "20", "--no-shrink"])
        .arg("--header")
        .arg(format!("Authorization: Bearer {}", client.token))
        .arg("--report-dir")
        .arg(&report)
        .env("SCHEMATHESIS_HOOKS", "schemathesis_hooks")
        .env("PYTHONPATH", &hooks_dir)
        .env("FLOTILLA_ST_FLOTILLA", &client.flotilla)
        .env("FLOTILLA_ST_CHANNEL", &client.channel)
        .env("FLOTILLA_ST_KEEP", keep.join(","))
        .env("NO_COLOR", "1")
        .current_dir(dir.path())
        .spawn()
        .context("cannot run schemathesis")?;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > WALL_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            anyhow::bail!("schemathesis still running after {WALL_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    println!("schemathesis ran {:.1} s", started.elapsed().as_secs_f64());
    anyhow::ensure!(status.success(), "schemathesis found failures (above)");
    // The node is still up and serving, and the run's token still works.
    let a = client.get(&node.addr, "/api/v1/status")?;
    anyhow::ensure!(a.status == 200, "status after the run: {a:?}");
    let a = client.get(&node.addr, "/api/v1/me")?;
    anyhow::ensure!(a.status == 200, "the run's token after the run: {a:?}");
    Ok(())
}

/// What the run must not revoke, demote or remove (see `before_call` in the hooks): the
/// caller's token ids, username and key, and the node's id.
fn own_identity(node: &Node, client: &Client) -> anyhow::Result<Vec<String>> {
    let me = client.get(&node.addr, "/api/v1/me")?.json()?;
    let tokens = client.get(&node.addr, "/api/v1/tokens")?.json()?;
    let status = client.get(&node.addr, "/api/v1/status")?.json()?;
    let mut keep: Vec<String> = tokens
        .as_array()
        .context("token list")?
        .iter()
        .filter_map(|t| t["id"].as_str().map(str::to_owned))
        .collect();
    for v in [&me["username"], &me["key"], &status["node_id"]] {
        keep.push(v.as_str().context("identity field")?.to_owned());
    }
    Ok(keep)
}

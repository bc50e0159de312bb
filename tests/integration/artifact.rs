//! Up-to-date executables of this workspace, for tests that run real processes.
//!
//! `env!("CARGO_BIN_EXE_…")` only exists for the integration tests of the package that owns
//! the binary, and `cargo test` builds another package's binaries only for those. So
//! [`built`] uses an override variable if set, else runs `cargo build -p flotilla-node …`
//! once per target (cheap when up to date, and never stale) with the same cargo and target
//! directory as this test, and takes the executable's path from cargo's JSON messages.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use anyhow::Context;

/// What kind of target to build.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target {
    /// `--bin NAME`
    Bin(&'static str),
    /// `--example NAME`
    Example(&'static str),
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Bin(n) | Target::Example(n) => n,
        }
    }

    fn flag(self) -> &'static str {
        match self {
            Target::Bin(_) => "--bin",
            Target::Example(_) => "--example",
        }
    }
}

/// The path of `target` of the flotilla-node package: `$override_var` if set, else built.
pub(crate) fn built(override_var: &str, target: Target) -> anyhow::Result<PathBuf> {
    static BUILT: Mutex<Option<HashMap<&'static str, Result<PathBuf, String>>>> = Mutex::new(None);
    if let Some(bin) = std::env::var_os(override_var) {
        return Ok(bin.into());
    }
    let mut cache = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    cache
        .get_or_insert_with(HashMap::new)
        .entry(target.name())
        .or_insert_with(|| build(target).map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(anyhow::Error::msg)
}

fn build(target: Target) -> anyhow::Result<PathBuf> {
    let name = target.name();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .args(["build", "-p", "flotilla-node", target.flag(), name])
        .arg("--message-format=json")
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run cargo to build {name}"))?;
    anyhow::ensure!(out.status.success(), "cargo build of {name} failed");
    for line in out.stdout.split(|b| *b == b'\n') {
        let Ok(msg) = serde_json::from_slice::<serde_json::Value>(line) else {
            continue;
        };
        if msg["target"]["name"] == name
            && let Some(exe) = msg["executable"].as_str()
        {
            return Ok(exe.into());
        }
    }
    anyhow::bail!("cargo did not report the {name} executable")
}

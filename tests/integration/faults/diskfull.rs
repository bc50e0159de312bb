//! A full disk: the data directory on a small tmpfs (root only; SKIPPED otherwise), filled
//! with a ballast file down to less than the node's reserve
//! (`FLOTILLA_DISK_RESERVE_BYTES`).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;

use super::{Client, Node};

/// The tmpfs' size and the node's reserve on it.
const FS_SIZE: &str = "48m";
const RESERVE: u64 = 8 * 1024 * 1024;

/// A tmpfs mounted for the test, unmounted (lazily) on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path) -> anyhow::Result<Tmpfs> {
        std::fs::create_dir_all(at)?;
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={FS_SIZE},mode=0700"),
                "tmpfs",
            ])
            .arg(at)
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "mount tmpfs: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(Tmpfs(at.to_path_buf()))
    }

    fn free(&self) -> anyhow::Result<u64> {
        let st = rustix::fs::statvfs(&self.0)?;
        Ok(st.f_bavail * st.f_frsize)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

#[test]
fn a_full_disk_refuses_writes_keeps_reads_and_recovers() -> anyhow::Result<()> {
    let skip = |why: &str| {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED a_full_disk_refuses_writes_keeps_reads_and_recovers: {why}"
        );
    };
    if !is_root() {
        skip("not root (mounting a tmpfs needs it)");
        return Ok(());
    }
    let tmp = tempfile::tempdir()?;
    let fs = match Tmpfs::mount(&tmp.path().join("disk")) {
        Ok(fs) => fs,
        Err(e) => {
            skip(&format!("{e:#}"));
            return Ok(());
        }
    };
    let dir = fs.0.join("data");
    let reserve = RESERVE.to_string();
    let envs = [("FLOTILLA_DISK_RESERVE_BYTES", reserve.as_str())];
    let node = Node::start(&dir, &envs)?;
    let client = Client::setup(&node)?;
    let a = client.post(&node.addr, "before the disk fills")?;
    anyhow::ensure!(a.status == 201, "{a:?}");
    let before = a.json()?["id"].as_str().context("id")?.to_string();

    // Fill the disk to half the reserve.
    let ballast = fs.0.join("ballast");
    let fill = fs.free()?.saturating_sub(RESERVE / 2);
    std::fs::write(&ballast, vec![0u8; usize::try_from(fill)?])?;

    let a = client.post(&node.addr, "on a full disk")?;
    assert_eq!(a.status, 507, "a post on a full disk: {a:?}");
    let body = a.json()?;
    assert_eq!(body["error"], "insufficient_storage", "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("disk is full")),
        "{body}"
    );
    let a = client.upload(&node.addr, &[7u8; 4096])?;
    assert_eq!(a.status, 507, "an upload on a full disk: {a:?}");
    let (ok, _, err) = node.cli(&[
        "post",
        "--as",
        super::ADMIN,
        "--channel",
        "town-square",
        "from the CLI on a full disk",
    ])?;
    assert!(!ok, "the CLI's post must fail");
    assert!(err.contains("disk is full"), "the CLI says why: {err}");

    // Reads keep working.
    assert!(client.has(&node.addr, &before)?, "the old post reads back");
    let status = super::http(&node.addr, "GET", "/api/v1/status", &[], "", &[])?;
    assert_eq!(status.status, 200, "{status:?}");

    // Space freed: writes work again, without a restart.
    std::fs::remove_file(&ballast)?;
    let a = client.post(&node.addr, "after freeing space")?;
    assert_eq!(a.status, 201, "a post once space is freed: {a:?}");
    let after = a.json()?["id"].as_str().context("id")?.to_string();
    node.cli_ok(&[
        "post",
        "--as",
        super::ADMIN,
        "--channel",
        "town-square",
        "from the CLI, space freed",
    ])?;
    let a = client.upload(&node.addr, &[7u8; 4096])?;
    assert_eq!(a.status, 201, "an upload once space is freed: {a:?}");

    // Nothing corrupted: a restart reads everything back.
    node.kill9()?;
    let node = Node::start(&dir, &envs)?;
    assert!(client.has(&node.addr, &before)? && client.has(&node.addr, &after)?);
    println!(
        "disk full: posts and uploads refused with 507 below the {RESERVE}-byte reserve, reads kept, writes back once freed"
    );
    Ok(())
}

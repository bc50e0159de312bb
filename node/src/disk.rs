//! The disk guard: new posts and uploads are refused while the data directory's filesystem
//! has less than a reserve of free space, so the store never runs into a full disk.
//!
//! Why refuse early rather than let the write fail: sled 0.34 remembers the first I/O error
//! of its background flusher as a global error and fails every later operation with it,
//! reads included, until the process restarts. A write that hits `ENOSPC` would turn a full
//! disk into a dead node. With the guard, a full disk costs only the writes the user asked
//! for: they fail with [`Error::DiskFull`] (HTTP 507 with a message, the CLI a message and a
//! non-zero exit), reads keep working, and writes work again as soon as space is freed (the
//! free space is read on each write, nothing is cached).
//!
//! The reserve ([`DEFAULT_RESERVE`], or [`RESERVE_ENV`] in bytes) covers what the node
//! writes on its own while a user is refused: events arriving from peers, sled's segment
//! preallocation (512 KiB each), sessions. Events from peers are not refused: they are
//! what the boat came to the anchorage for, and they are small.
//!
//! ```
//! use flotilla_node::disk::DiskGuard;
//! let guard = DiskGuard::new(std::env::temp_dir(), 0);
//! assert!(guard.check(1).is_ok());
//! ```

use std::path::{Path, PathBuf};

use crate::Error;

/// Free space kept for the node's own writes: 64 MiB (a few hundred thousand events, or
/// sled's segments). Small next to any SD card or disk a boat's computer has.
pub const DEFAULT_RESERVE: u64 = 64 * 1024 * 1024;

/// The environment variable that overrides [`DEFAULT_RESERVE`], in bytes (tests use a
/// small filesystem and a small reserve).
pub const RESERVE_ENV: &str = "FLOTILLA_DISK_RESERVE_BYTES";

/// Refuses writes when the filesystem of `dir` has less than `reserve` bytes free.
#[derive(Debug, Clone)]
pub struct DiskGuard {
    dir: PathBuf,
    reserve: u64,
}

impl DiskGuard {
    /// The guard of `dir` with `reserve` bytes kept free.
    pub fn new(dir: impl Into<PathBuf>, reserve: u64) -> Self {
        Self {
            dir: dir.into(),
            reserve,
        }
    }

    /// The guard of `dir` with the reserve of [`RESERVE_ENV`], else [`DEFAULT_RESERVE`].
    pub fn for_dir(dir: &Path) -> Self {
        let reserve = std::env::var(RESERVE_ENV)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(DEFAULT_RESERVE);
        Self::new(dir, reserve)
    }

    /// The bytes an unprivileged process may still write on `dir`'s filesystem.
    ///
    /// # Errors
    /// The `statvfs` failure (the directory is gone).
    pub fn free_bytes(&self) -> std::io::Result<u64> {
        let st = rustix::fs::statvfs(&self.dir)?;
        Ok(st.f_bavail.saturating_mul(st.f_frsize))
    }

    /// Whether `need` more bytes may be written: `Ok` if, after them, the reserve is still
    /// free. A failing `statvfs` lets the write through (the store will say what is wrong).
    ///
    /// # Errors
    /// [`Error::DiskFull`].
    pub fn check(&self, need: u64) -> Result<(), Error> {
        let Ok(free) = self.free_bytes() else {
            return Ok(());
        };
        if free < self.reserve.saturating_add(need) {
            tracing::warn!(
                free,
                reserve = self.reserve,
                need,
                "disk full: refusing a write"
            );
            return Err(Error::DiskFull {
                free,
                reserve: self.reserve,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reserve_larger_than_the_disk_refuses_and_zero_accepts() {
        let dir = std::env::temp_dir();
        let free = DiskGuard::new(&dir, 0).free_bytes().unwrap_or(0);
        assert!(free > 0, "a temp dir has some free space");
        assert!(DiskGuard::new(&dir, 0).check(0).is_ok());
        let err = DiskGuard::new(&dir, u64::MAX).check(1);
        assert!(
            matches!(
                err,
                Err(Error::DiskFull {
                    reserve: u64::MAX,
                    ..
                })
            ),
            "{err:?}"
        );
        assert!(
            DiskGuard::new(&dir, 0).check(u64::MAX).is_err(),
            "need counts"
        );
    }

    #[test]
    fn a_missing_directory_does_not_block_writes() {
        let guard = DiskGuard::new("/nonexistent/flotilla/disk/guard", u64::MAX);
        assert!(guard.free_bytes().is_err());
        assert!(guard.check(1).is_ok());
    }
}

//! The per-flotilla storage budget and its eviction rule.
//!
//! When the encrypted chunks a node holds for a flotilla exceed its budget, blobs are
//! evicted **oldest first** (by when this node learnt of them) until the total fits, and
//! never:
//! - a file the user pinned (a file attached to a pinned post),
//! - the newest forecast of each area (so every boat keeps today's GRIB),
//! - a blob being fetched right now.
//!
//! Evicting removes the encrypted chunks and the plaintext copy; the manifest stays, so the
//! file shows "on demand" and can be fetched again from another boat.

use super::blobs::BlobId;

/// The default budget per flotilla: 500 MB (a season of daily 5 MB forecasts, or a hundred
/// 10 MB attachments, on a Raspberry Pi's SD card).
pub const DEFAULT_BUDGET_BYTES: u64 = 500_000_000;

/// One blob as the eviction rule sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The blob.
    pub blob: BlobId,
    /// Bytes it takes on disk.
    pub bytes: u64,
    /// When this node learnt of it.
    pub added_ms: u64,
    /// Never evicted (pinned, newest forecast of an area, being fetched).
    pub keep: bool,
}

/// The blobs to evict so that `entries` fit in `budget` (oldest first, kept ones skipped).
/// If the kept ones alone exceed the budget, every other blob goes and the rest stays.
pub fn evict(entries: &[Entry], budget: u64) -> Vec<BlobId> {
    let mut total: u64 = entries.iter().map(|e| e.bytes).sum();
    let mut order: Vec<&Entry> = entries.iter().filter(|e| !e.keep).collect();
    order.sort_by_key(|e| (e.added_ms, e.blob));
    let mut out = Vec::new();
    for e in order {
        if total <= budget {
            break;
        }
        total = total.saturating_sub(e.bytes);
        out.push(e.blob);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(n: u8, bytes: u64, added_ms: u64, keep: bool) -> Entry {
        Entry {
            blob: [n; 32],
            bytes,
            added_ms,
            keep,
        }
    }

    #[test]
    fn oldest_go_first_and_kept_files_never_go() {
        let entries = [
            e(1, 40, 1, true),  // pinned, oldest
            e(2, 40, 2, false), // old attachment
            e(3, 40, 3, false),
            e(4, 40, 4, true), // newest forecast of its area
        ];
        assert_eq!(evict(&entries, 200), Vec::<BlobId>::new());
        assert_eq!(evict(&entries, 120), vec![[2; 32]]);
        assert_eq!(
            evict(&entries, 10),
            vec![[2; 32], [3; 32]],
            "kept ones stay"
        );
    }
}

//! Sizes for people: the one formatting of byte counts in messages and answers (the error
//! of an oversized upload, the files API), so that `error` and `files` need not know each
//! other.

/// `10 MB`, `512 KB`, `900 B` (decimal units, rounded down).
pub fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000 => format!("{} MB", b / 1_000_000),
        b if b >= 1_000 => format!("{} KB", b / 1_000),
        b => format!("{b} B"),
    }
}

//! A file's state on this boat, as the API and the UI show it.

use std::sync::Arc;

use super::grib::GribSummary;

/// Where a file's bytes are, from this boat's point of view.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FileStatus {
    /// The bytes are here.
    Available,
    /// Chunks are arriving.
    Fetching,
    /// Wanted, but no connected boat holds a missing chunk.
    #[default]
    Waiting,
    /// Not fetched by the policy of this link: a user must ask ("download").
    OnDemand,
}

impl FileStatus {
    /// The API word: `available`, `fetching`, `waiting`, `on_demand`.
    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Available => "available",
            FileStatus::Fetching => "fetching",
            FileStatus::Waiting => "waiting",
            FileStatus::OnDemand => "on_demand",
        }
    }
}

/// A file's state: status, progress, sources and, for GRIB files, the weather preview.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileState {
    /// The status.
    pub status: FileStatus,
    /// Chunks held, in thousandths (1000 = all).
    pub progress_permille: u16,
    /// Boats known to hold chunks of it (this one included when available).
    pub sources: u32,
    /// The GRIB preview, or why it is not readable; `None` for other files.
    pub grib: Option<Arc<Result<GribSummary, String>>>,
}

impl FileState {
    /// The bytes are here.
    pub fn available(&self) -> bool {
        self.status == FileStatus::Available
    }

    /// Progress 0–1.
    pub fn progress(&self) -> f64 {
        f64::from(self.progress_permille) / 1000.0
    }
}

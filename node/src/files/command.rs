//! The file service's commands to the actor ([`crate::handle::Command::Files`]).

use flotilla_protocol::id::FileId;
use tokio::sync::oneshot;

use super::transfers::Stats;
use super::weather::Forecast;
use crate::Error;
use crate::handle::Acting;
use crate::handle::views::FileInfo;

type Reply<T> = oneshot::Sender<Result<T, Error>>;

/// A request to the actor's file service.
#[derive(Debug)]
pub enum FileCommand {
    /// One file with its state on this boat (the user must be able to read its channel).
    Info {
        /// Who asks.
        who: Acting,
        /// The file.
        file: FileId,
        /// The answer.
        reply: Reply<FileInfo>,
    },
    /// Every file of the flotilla the user can read, newest first.
    List {
        /// Who asks.
        who: Acting,
        /// The answer.
        reply: Reply<Vec<FileInfo>>,
    },
    /// Fetch now, whatever the policy.
    Fetch {
        /// Who asks.
        who: Acting,
        /// The file.
        file: FileId,
        /// The answer (its state after the fetch started).
        reply: Reply<FileInfo>,
    },
    /// The forecasts the user can read, grouped by area, newest first.
    Weather {
        /// Who asks.
        who: Acting,
        /// The answer.
        reply: Reply<Vec<Forecast>>,
    },
    /// Transfer counters.
    Stats {
        /// The answer.
        reply: Reply<Stats>,
    },
}

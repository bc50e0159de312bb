//! [`NodeHandle`] methods of the file service (see [`crate::files`]).

use flotilla_protocol::id::{FileId, FlotillaId};

use super::{Command, NodeHandle, Reply};
use crate::Error;
use crate::files::command::FileCommand;
use crate::files::transfers::Stats;
use crate::files::weather::Forecast;
use crate::handle::Acting;
use crate::handle::views::FileInfo;

fn acting(flotilla: FlotillaId, as_user: &str) -> Acting {
    Acting {
        flotilla,
        as_user: as_user.to_owned(),
    }
}

impl NodeHandle {
    async fn files_ask<T>(&self, make: impl FnOnce(Reply<T>) -> FileCommand) -> Result<T, Error> {
        self.ask(|reply| Command::Files(make(reply))).await
    }

    /// A file and its state on this boat (available, fetching, waiting, on demand).
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Forbidden`], [`Error::ActorGone`].
    pub async fn file_info(
        &self,
        flotilla: FlotillaId,
        file: FileId,
        as_user: &str,
    ) -> Result<FileInfo, Error> {
        let who = acting(flotilla, as_user);
        self.files_ask(|reply| FileCommand::Info { who, file, reply })
            .await
    }

    /// Every file of the flotilla `as_user` may read, with its state.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::ActorGone`].
    pub async fn file_list(
        &self,
        flotilla: FlotillaId,
        as_user: &str,
    ) -> Result<Vec<FileInfo>, Error> {
        let who = acting(flotilla, as_user);
        self.files_ask(|reply| FileCommand::List { who, reply })
            .await
    }

    /// Fetches a file now, whatever the link's policy.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Forbidden`], [`Error::ActorGone`].
    pub async fn fetch_file(
        &self,
        flotilla: FlotillaId,
        file: FileId,
        as_user: &str,
    ) -> Result<FileInfo, Error> {
        let who = acting(flotilla, as_user);
        self.files_ask(|reply| FileCommand::Fetch { who, file, reply })
            .await
    }

    /// The forecasts `as_user` may read, grouped by area, newest first.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::ActorGone`].
    pub async fn weather(
        &self,
        flotilla: FlotillaId,
        as_user: &str,
    ) -> Result<Vec<Forecast>, Error> {
        let who = acting(flotilla, as_user);
        self.files_ask(|reply| FileCommand::Weather { who, reply })
            .await
    }

    /// Transfer counters (bytes and chunks received, chunks served).
    ///
    /// # Errors
    /// [`Error::ActorGone`].
    pub async fn file_stats(&self) -> Result<Stats, Error> {
        self.files_ask(|reply| FileCommand::Stats { reply }).await
    }
}

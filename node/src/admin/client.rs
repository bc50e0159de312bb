//! [`Client`]: one connection to a node's admin socket (the CLI's side).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::DeserializeOwned;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

use super::wire::{ErrorCode, Request, Response};
use super::{JOIN_TIMEOUT, SOCKET_FILE};

/// How long a call waits for its answer (a join takes up to `JOIN_TIMEOUT`).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(JOIN_TIMEOUT.as_secs() + 30);
/// Longest response line read (a page of `MAX_MESSAGES_LIMIT` long posts).
const MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

/// A failed call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// Nothing answers on the data directory's socket.
    #[error(
        "no node is running on {dir} (start it with `flotilla --data-dir {dir} serve`)",
        dir = .dir.display()
    )]
    NotRunning {
        /// The data directory.
        dir: PathBuf,
    },
    /// The node refused or failed the request.
    #[error("{message}")]
    Remote {
        /// What went wrong, for programs.
        code: ErrorCode,
        /// What went wrong, for people.
        message: String,
    },
    /// The connection failed.
    #[error("admin socket: {0}")]
    Io(#[from] std::io::Error),
    /// The node's answer is not what was expected.
    #[error("admin socket: unexpected answer: {0}")]
    Protocol(String),
    /// No answer within [`CALL_TIMEOUT`].
    #[error("the node did not answer within {0:?}")]
    Timeout(Duration),
}

/// A connection to a node's admin socket.
#[derive(Debug)]
pub struct Client {
    stream: BufReader<UnixStream>,
}

impl Client {
    /// Connects to `admin.sock` in `data_dir`.
    ///
    /// # Errors
    /// [`ClientError::NotRunning`] when no node serves it (no socket, or a stale one).
    pub async fn connect(data_dir: &Path) -> Result<Client, ClientError> {
        let path = data_dir.join(SOCKET_FILE);
        match UnixStream::connect(&path).await {
            Ok(stream) => Ok(Client {
                stream: BufReader::new(stream),
            }),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
                ) =>
            {
                Err(ClientError::NotRunning {
                    dir: data_dir.to_path_buf(),
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Sends `request` and reads its answer as `T`.
    ///
    /// # Errors
    /// [`ClientError::Remote`] with the node's code and message, else a transport error.
    pub async fn call<T: DeserializeOwned>(&mut self, request: &Request) -> Result<T, ClientError> {
        tokio::time::timeout(CALL_TIMEOUT, self.exchange(request))
            .await
            .map_err(|_| ClientError::Timeout(CALL_TIMEOUT))?
    }

    async fn exchange<T: DeserializeOwned>(&mut self, request: &Request) -> Result<T, ClientError> {
        let mut line =
            serde_json::to_vec(request).map_err(|e| ClientError::Protocol(e.to_string()))?;
        line.push(b'\n');
        self.stream.get_mut().write_all(&line).await?;
        let mut answer = Vec::new();
        let read = tokio::io::AsyncReadExt::take(&mut self.stream, MAX_RESPONSE_BYTES)
            .read_until(b'\n', &mut answer)
            .await?;
        if read == 0 {
            return Err(ClientError::Protocol(
                "the node closed the connection".into(),
            ));
        }
        match serde_json::from_slice(&answer).map_err(|e| ClientError::Protocol(e.to_string()))? {
            Response::Ok { ok } => {
                serde_json::from_value(ok).map_err(|e| ClientError::Protocol(e.to_string()))
            }
            Response::Error { error, message } => Err(ClientError::Remote {
                code: error,
                message,
            }),
        }
    }
}

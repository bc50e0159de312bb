//! [`Server`]: binds `admin.sock` and answers requests with a [`NodeHandle`].

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use flotilla_protocol as proto;
use proto::author::InviteCode;
use proto::id::{ChannelId, EventId, FlotillaId, InviteId};
use serde::Serialize;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{Semaphore, oneshot};
use tokio::task::{JoinHandle, JoinSet};

use super::wire::{
    ChannelView, ErrorCode, FlotillaStatusView, FlotillaView, InviteView, MessageView, PeerView,
    PostView, Request, Response, RevokedView, StatusView, UserView, parse_request, rfc3339,
};
use super::{
    DEFAULT_MESSAGES_LIMIT, IDLE_TIMEOUT, JOIN_TIMEOUT, MAX_CLIENTS, MAX_MESSAGES_LIMIT,
    MAX_REQUEST_BYTES, SOCKET_FILE,
};
use crate::Error;
use crate::handle::{ChannelInfo, NodeHandle};
use crate::http::Auth;

/// The node's HTTP sessions and login limits, when the server was started for a whole
/// [`crate::Node`] ([`Server::start_node`]).
pub(super) type HttpAuth = Option<Arc<Auth>>;

/// How often a join waits again for a connected peer, or retries a peer that is not a member
/// yet.
const JOIN_RETRY: Duration = Duration::from_millis(250);
/// How long a `busy` answer may take to write before the connection is dropped.
const BUSY_WRITE: Duration = Duration::from_millis(200);
/// Longest path a Unix socket address holds on Linux (`sun_path`, with its NUL).
const MAX_SOCKET_PATH: usize = 107;

/// The server's bounds (the defaults are the module constants; tests shrink them).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest request line.
    pub max_request_bytes: usize,
    /// Connections served at once.
    pub max_clients: usize,
    /// Idle connections are closed after this.
    pub idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_request_bytes: MAX_REQUEST_BYTES,
            max_clients: MAX_CLIENTS,
            idle_timeout: IDLE_TIMEOUT,
        }
    }
}

/// The admin socket could not be served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// Another process answers on the socket.
    #[error("{} is in use: another node is running on this data directory", path.display())]
    InUse {
        /// The socket.
        path: PathBuf,
    },
    /// The path is longer than a Unix socket address holds.
    #[error("{} is too long for a Unix socket (at most {MAX_SOCKET_PATH} bytes): use a shorter --data-dir", path.display())]
    PathTooLong {
        /// The socket.
        path: PathBuf,
    },
    /// Binding or setting its mode failed.
    #[error("cannot serve the admin socket {}: {source}", path.display())]
    Io {
        /// The socket.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The running admin socket. [`Server::shutdown`] (or dropping it) stops serving and removes
/// the socket file.
#[derive(Debug)]
pub struct Server {
    path: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves `admin.sock` in `data_dir` for `node`, with the default [`Limits`]. A stale
    /// socket left by a crashed node is replaced; a live one is refused.
    ///
    /// # Errors
    /// [`ServerError`].
    pub fn start(data_dir: &Path, node: NodeHandle) -> Result<Server, ServerError> {
        Self::start_with(&data_dir.join(SOCKET_FILE), node, Limits::default())
    }

    /// Serves `admin.sock` in `data_dir` for a running node, with the default [`Limits`]:
    /// account requests also end the HTTP sessions and tokens of a deactivated, deleted or
    /// re-passworded account, and `user unlock` clears the HTTP login limit (with
    /// [`Server::start`], they change the account only and `user unlock` is unavailable).
    ///
    /// # Errors
    /// [`ServerError`].
    pub fn start_node(data_dir: &Path, node: &crate::Node) -> Result<Server, ServerError> {
        Self::serve(
            &data_dir.join(SOCKET_FILE),
            node.handle().clone(),
            Some(Arc::clone(node.auth())),
            Limits::default(),
        )
    }

    /// Serves the socket at `path` with `limits`.
    ///
    /// # Errors
    /// [`ServerError`].
    pub fn start_with(
        path: &Path,
        node: NodeHandle,
        limits: Limits,
    ) -> Result<Server, ServerError> {
        Self::serve(path, node, None, limits)
    }

    fn serve(
        path: &Path,
        node: NodeHandle,
        auth: HttpAuth,
        limits: Limits,
    ) -> Result<Server, ServerError> {
        let listener = bind(path)?;
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(accept_loop(listener, node, auth, limits, stopped));
        tracing::debug!(path = %path.display(), "admin socket listening");
        Ok(Server {
            path: path.to_path_buf(),
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops accepting, drops open connections and removes the socket file.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(()); // the loop may be gone already
        }
        if let Some(task) = self.task.take() {
            let _ = task.await; // it only ends by the stop or by an abort
        }
        self.remove_file();
    }

    fn remove_file(&self) {
        if let Err(e) = std::fs::remove_file(&self.path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.path.display(), %e, "cannot remove the admin socket");
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            self.remove_file();
        }
    }
}

fn bind(path: &Path) -> Result<UnixListener, ServerError> {
    let io = |source| ServerError::Io {
        path: path.to_path_buf(),
        source,
    };
    if path.as_os_str().len() > MAX_SOCKET_PATH {
        return Err(ServerError::PathTooLong {
            path: path.to_path_buf(),
        });
    }
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(ServerError::InUse {
                path: path.to_path_buf(),
            });
        }
        tracing::info!(path = %path.display(), "replacing a stale admin socket");
        std::fs::remove_file(path).map_err(io)?;
    }
    let listener = UnixListener::bind(path).map_err(io)?;
    // The data directory is 0700 already; 0600 keeps the socket private if it is not.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    Ok(listener)
}

async fn accept_loop(
    listener: UnixListener,
    node: NodeHandle,
    auth: HttpAuth,
    limits: Limits,
    mut stopped: oneshot::Receiver<()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_clients));
    let mut clients = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => match slots.clone().try_acquire_owned() {
                    Ok(slot) => {
                        let node = node.clone();
                        let auth = auth.clone();
                        clients.spawn(async move {
                            serve_client(stream, &node, auth.as_ref(), limits).await;
                            drop(slot);
                        });
                    }
                    Err(_) => refuse_busy(stream).await,
                },
                Err(e) => {
                    // Out of file descriptors, usually: wait instead of spinning.
                    tracing::warn!(%e, "admin socket accept failed");
                    tokio::time::sleep(JOIN_RETRY).await;
                }
            },
            Some(_) = clients.join_next(), if !clients.is_empty() => {}
        }
    }
    clients.shutdown().await;
}

async fn refuse_busy(mut stream: UnixStream) {
    let line = response_line(&failure(
        ErrorCode::Busy,
        "too many admin connections; try again",
    ));
    let _ = tokio::time::timeout(BUSY_WRITE, stream.write_all(&line)).await;
}

/// What reading one request line gave.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Line {
    /// The client closed the connection.
    Eof,
    /// Longer than the limit (the rest is not read).
    TooLarge,
    /// One line, without its newline.
    Request(Vec<u8>),
}

/// Reads one line of at most `max` bytes (plus its newline).
pub(super) async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    max: usize,
) -> std::io::Result<Line> {
    let mut buf = Vec::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    let n = (&mut *reader)
        .take(limit)
        .read_until(b'\n', &mut buf)
        .await?;
    if n == 0 {
        return Ok(Line::Eof);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
    } else if buf.len() > max {
        return Ok(Line::TooLarge);
    }
    Ok(Line::Request(buf))
}

async fn serve_client(
    stream: UnixStream,
    node: &NodeHandle,
    auth: Option<&Arc<Auth>>,
    limits: Limits,
) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let line = tokio::time::timeout(
            limits.idle_timeout,
            read_line(&mut reader, limits.max_request_bytes),
        )
        .await;
        let (response, last) = match line {
            Err(_) | Ok(Err(_)) | Ok(Ok(Line::Eof)) => return,
            Ok(Ok(Line::TooLarge)) => {
                let message = format!("request longer than {} bytes", limits.max_request_bytes);
                (failure(ErrorCode::TooLarge, &message), true)
            }
            Ok(Ok(Line::Request(bytes))) if bytes.iter().all(u8::is_ascii_whitespace) => continue,
            Ok(Ok(Line::Request(bytes))) => {
                let response = match parse_request(&bytes) {
                    Ok(request) => answer(node, auth, request).await,
                    Err((code, message)) => failure(code, &message),
                };
                (response, false)
            }
        };
        if write.write_all(&response_line(&response)).await.is_err() || last {
            return;
        }
    }
}

fn response_line(response: &Response) -> Vec<u8> {
    let mut line = serde_json::to_vec(response)
        .unwrap_or_else(|_| br#"{"error":"internal","message":"unencodable response"}"#.to_vec());
    line.push(b'\n');
    line
}

fn failure(error: ErrorCode, message: &str) -> Response {
    Response::Error {
        error,
        message: message.to_owned(),
    }
}

/// A failed request: its code and message.
pub(super) type Failure = (ErrorCode, String);

pub(super) fn from_node(e: Error) -> Failure {
    let code = match &e {
        Error::NotFound(_) => ErrorCode::NotFound,
        Error::Invalid { .. } => ErrorCode::Invalid,
        Error::Exists(_) | Error::Conflict(_) => ErrorCode::Exists,
        Error::Author(_) | Error::Forbidden(_) => ErrorCode::Refused,
        Error::JoinRefused(_) => ErrorCode::JoinRefused,
        Error::Join(_) => ErrorCode::JoinFailed,
        Error::ActorGone => ErrorCode::Unavailable,
        _ => {
            tracing::warn!(%e, "admin request failed");
            ErrorCode::Internal
        }
    };
    (code, e.to_string())
}

pub(super) fn invalid(what: &str, reason: impl std::fmt::Display) -> Failure {
    (ErrorCode::Invalid, format!("invalid {what}: {reason}"))
}

async fn answer(node: &NodeHandle, auth: Option<&Arc<Auth>>, request: Request) -> Response {
    match dispatch(node, auth, request).await {
        Ok(ok) => Response::Ok { ok },
        Err((error, message)) => Response::Error { error, message },
    }
}

pub(super) fn to_value(view: impl Serialize) -> Result<serde_json::Value, Failure> {
    serde_json::to_value(view).map_err(|e| (ErrorCode::Internal, e.to_string()))
}

async fn dispatch(
    node: &NodeHandle,
    auth: Option<&Arc<Auth>>,
    request: Request,
) -> Result<serde_json::Value, Failure> {
    match request {
        Request::UserDeactivate { username } => {
            to_value(super::accounts::set_deactivated(node, auth, &username, true).await?)
        }
        Request::UserActivate { username } => {
            to_value(super::accounts::set_deactivated(node, auth, &username, false).await?)
        }
        Request::UserDelete { username, confirm } => {
            to_value(super::accounts::delete(node, auth, &username, confirm).await?)
        }
        Request::UserUnlock { username } => {
            to_value(super::accounts::unlock(node, auth, &username).await?)
        }
        Request::UserPassword { username, password } => {
            to_value(super::accounts::password(node, auth, username, password).await?)
        }
        Request::UserCreate {
            username,
            password,
            admin,
        } => to_value(user_create(node, username, password, admin).await?),
        Request::FlotillaCreate { name } => to_value(flotilla_create(node, &name).await?),
        Request::FlotillaJoin { code } => to_value(flotilla_join(node, &code).await?),
        Request::FlotillaList {} => to_value(flotilla_list(node).await?),
        Request::InviteCreate {
            flotilla,
            uses,
            expires_secs,
        } => to_value(invite_create(node, flotilla.as_deref(), uses, expires_secs).await?),
        Request::InviteRevoke { code_or_id } => to_value(invite_revoke(node, &code_or_id).await?),
        Request::ChannelCreate {
            name,
            private,
            flotilla,
        } => to_value(channel_create(node, &name, private, flotilla.as_deref()).await?),
        Request::ChannelList { flotilla } => {
            let flotilla = resolve_flotilla(node, flotilla.as_deref()).await?;
            let channels = node.channels(flotilla).await.map_err(from_node)?;
            let views: Vec<ChannelView> = channels
                .into_iter()
                .map(|c| channel_view(&c, &flotilla))
                .collect();
            to_value(views)
        }
        Request::Post {
            as_user,
            channel,
            text,
            reply_to,
            flotilla,
        } => {
            let flotilla = resolve_flotilla(node, flotilla.as_deref()).await?;
            let channel = resolve_channel(node, &flotilla, &channel).await?;
            let reply_to = reply_to
                .map(|r| EventId::from_str(r.trim()).map_err(|e| invalid("--reply-to id", e)))
                .transpose()?;
            if text.trim().is_empty() {
                return Err(invalid("text", "empty"));
            }
            let id = node
                .post(flotilla, channel.id, &as_user, &text, reply_to)
                .await
                .map_err(from_node)?;
            to_value(PostView { id: id.to_string() })
        }
        Request::Messages {
            channel,
            limit,
            flotilla,
        } => to_value(messages(node, &channel, limit, flotilla.as_deref()).await?),
        Request::FileList { flotilla } => {
            let flotilla = resolve_flotilla(node, flotilla.as_deref()).await?;
            let admin = node_admin(node).await?;
            let files = node.file_list(flotilla, &admin).await.map_err(from_node)?;
            let views: Vec<crate::http::dto::File> = files.into_iter().map(Into::into).collect();
            to_value(views)
        }
        Request::FileFetch { id, flotilla } => {
            let flotilla = resolve_flotilla(node, flotilla.as_deref()).await?;
            let file = proto::id::FileId::from_str(id.trim()).map_err(|e| invalid("file id", e))?;
            let admin = node_admin(node).await?;
            let info = node
                .fetch_file(flotilla, file, &admin)
                .await
                .map_err(from_node)?;
            to_value(crate::http::dto::File::from(info))
        }
        Request::Search {
            as_user,
            query,
            limit,
            flotilla,
        } => to_value(
            super::search::search(node, &as_user, &query, limit, flotilla.as_deref()).await?,
        ),
        Request::IndexRebuild {} => to_value(super::search::rebuild(node).await?),
        Request::ImportBatch { flotilla, batch } => {
            let flotilla = resolve_flotilla(node, flotilla.as_deref()).await?;
            to_value(import_batch(node, flotilla, batch).await?)
        }
        Request::UserList {} => {
            let users = node.users().await.map_err(from_node)?;
            let views: Vec<UserView> = users
                .into_iter()
                .filter(|u| u.account)
                .map(super::accounts::user_view)
                .collect();
            to_value(views)
        }
        Request::ChannelArchive {
            channel,
            archived,
            flotilla,
        } => {
            let flotilla = resolve_flotilla(node, flotilla.as_deref()).await?;
            let channel = resolve_channel(node, &flotilla, &channel).await?;
            let admin = node_admin(node).await?;
            node.archive_channel(flotilla, channel.id, &admin, archived)
                .await
                .map_err(from_node)?;
            to_value(channel_view(&channel, &flotilla))
        }
        Request::InviteRegenerate {
            flotilla,
            uses,
            expires_secs,
        } => {
            let id = resolve_flotilla(node, flotilla.as_deref()).await?;
            let open = node.open_invites(id).await.map_err(from_node)?;
            for invite in &open {
                node.revoke_invite(*invite, Some(id))
                    .await
                    .map_err(from_node)?;
            }
            let id = id.to_string();
            let mut view = invite_create(node, Some(&id), uses, expires_secs).await?;
            view.revoked = Some(open.len());
            to_value(view)
        }
        Request::FlotillaRename { name, flotilla } => {
            check_name("flotilla name", &name)?;
            let id = resolve_flotilla(node, flotilla.as_deref()).await?;
            node.rename_flotilla(id, name.trim())
                .await
                .map_err(from_node)?;
            to_value(FlotillaView {
                id: id.to_string(),
                name: name.trim().to_owned(),
                member: true,
            })
        }
        Request::PostDelete { id, flotilla } => {
            let post = EventId::from_str(id.trim()).map_err(|e| invalid("post id", e))?;
            let flotilla = resolve_flotilla(node, flotilla.as_deref()).await?;
            let admin = node_admin(node).await?;
            node.delete_post(flotilla, post, &admin)
                .await
                .map_err(from_node)?;
            to_value(PostView {
                id: post.to_string(),
            })
        }
        Request::PostMove {
            id,
            channel,
            flotilla,
        } => {
            let post = EventId::from_str(id.trim()).map_err(|e| invalid("post id", e))?;
            let flotilla = resolve_flotilla(node, flotilla.as_deref()).await?;
            let channel = resolve_channel(node, &flotilla, &channel).await?;
            let admin = node_admin(node).await?;
            let copy = node
                .move_thread(flotilla, post, channel.id, &admin)
                .await
                .map_err(from_node)?;
            to_value(PostView {
                id: copy.id.to_string(),
            })
        }
        Request::ChannelModify {
            channel,
            name,
            display_name,
            private,
            flotilla,
        } => {
            if let Some(name) = &name {
                check_name("channel name", name)?;
            }
            let flotilla = resolve_flotilla(node, flotilla.as_deref()).await?;
            let channel = resolve_channel(node, &flotilla, &channel).await?;
            let admin = node_admin(node).await?;
            let change = crate::handle::ChannelChange {
                name,
                display_name,
                private,
                ..Default::default()
            };
            let v = node
                .modify_channel(flotilla, channel.id, &admin, change)
                .await
                .map_err(from_node)?;
            to_value(ChannelView {
                id: v.id.to_string(),
                name: v.name,
                display_name: v.display_name,
                private: v.kind != crate::handle::views::ChannelKind::Public,
                flotilla: flotilla.to_string(),
            })
        }
        Request::ExportBulk {
            flotilla,
            file,
            attachments,
        } => {
            let flotilla = resolve_flotilla(node, flotilla.as_deref()).await?;
            let report = crate::import::export(node, flotilla, &file, attachments)
                .await
                .map_err(from_node)?;
            to_value(report)
        }
        Request::Status {} => {
            let s = node.status().await.map_err(from_node)?;
            to_value(StatusView {
                node: s.node.to_string(),
                name: s.name,
                ingest_rate: s.ingest_rate,
                ingested: s.ingested,
                store_bytes: s.store_bytes,
                peers_connected: s.peers_connected,
                flotillas: s
                    .flotillas
                    .into_iter()
                    .map(|f| FlotillaStatusView {
                        id: f.id.to_string(),
                        name: f.name,
                        member: f.member,
                        events: f.events,
                        channels: f.channels,
                        members: f.members,
                        boats: f.boats,
                        boats_connected: f.boats_connected,
                    })
                    .collect(),
            })
        }
        Request::Peers {} => {
            let peers = node.peers().await.map_err(from_node)?;
            let views: Vec<PeerView> = peers
                .into_iter()
                .map(|p| PeerView {
                    peer_id: p.peer.to_string(),
                    node_key: p.node.map(|k| k.to_string()),
                    addresses: p.addresses.iter().map(ToString::to_string).collect(),
                    connected: p.connected,
                    last_seen: (p.last_seen_ms > 0).then(|| rfc3339(p.last_seen_ms)),
                })
                .collect();
            to_value(views)
        }
        Request::MemberList { flotilla } => {
            let flotilla = resolve_flotilla(node, flotilla.as_deref()).await?;
            to_value(super::members::list(node, flotilla).await?)
        }
        Request::MemberRemove { user, flotilla } => {
            let flotilla = resolve_flotilla(node, flotilla.as_deref()).await?;
            to_value(super::members::remove(node, flotilla, &user).await?)
        }
        Request::NodeList { flotilla } => {
            let flotilla = resolve_flotilla(node, flotilla.as_deref()).await?;
            to_value(super::members::nodes(node, flotilla).await?)
        }
        Request::NodeRemove {
            node: which,
            flotilla,
        } => {
            let flotilla = resolve_flotilla(node, flotilla.as_deref()).await?;
            to_value(super::members::remove_node(node, flotilla, &which).await?)
        }
        Request::Roles {
            role,
            user,
            flotilla,
        } => super::members::roles(node, &role, &user, flotilla.as_deref()).await,
    }
}

async fn import_batch(
    node: &NodeHandle,
    flotilla: FlotillaId,
    batch: crate::import::Batch,
) -> Result<crate::import::BatchReport, Failure> {
    let users = node.users().await.map_err(from_node)?;
    let admin = users.iter().find(|u| u.admin && u.account).ok_or_else(|| {
        (
            ErrorCode::NotFound,
            "no node admin: make one first".to_owned(),
        )
    })?;
    crate::import::apply(node, flotilla, &admin.username, batch)
        .await
        .map_err(|e| {
            let (code, message) = from_node(e.error);
            (code, format!("line {}: {message}", e.line))
        })
}

async fn user_create(
    node: &NodeHandle,
    username: String,
    password: String,
    admin: bool,
) -> Result<UserView, Failure> {
    crate::users::check_username(&username).map_err(from_node)?;
    // argon2 is slow on purpose: off the runtime's worker threads.
    let phc = tokio::task::spawn_blocking(move || crate::users::hash_password(&password))
        .await
        .map_err(|e| (ErrorCode::Internal, e.to_string()))?
        .map_err(from_node)?;
    let key = node
        .create_account(&username, phc, admin)
        .await
        .map_err(from_node)?;
    Ok(UserView {
        username,
        user_key: key.to_string(),
        admin,
        deactivated: false,
    })
}

fn check_name(what: &str, name: &str) -> Result<(), Failure> {
    let max = proto::event::MAX_NAME_CHARS;
    if name.trim().is_empty() || name.chars().count() > max || name.chars().any(char::is_control) {
        return Err(invalid(
            what,
            format!("`{name}`: 1 to {max} characters, not blank"),
        ));
    }
    Ok(())
}

/// The node admin that acts for the node (the first by username).
async fn node_admin(node: &NodeHandle) -> Result<String, Failure> {
    let users = node.users().await.map_err(from_node)?;
    users
        .into_iter()
        .find(|u| u.admin)
        .map(|u| u.username)
        .ok_or_else(|| {
            (
                ErrorCode::NotFound,
                "this node has no admin user: create one first with \
             `flotilla user create --username NAME --password PASSWORD --admin`"
                    .to_owned(),
            )
        })
}

async fn flotilla_create(node: &NodeHandle, name: &str) -> Result<FlotillaView, Failure> {
    check_name("flotilla name", name)?;
    let admin = node_admin(node).await?;
    let id = node
        .create_flotilla(name, &admin)
        .await
        .map_err(from_node)?;
    Ok(FlotillaView {
        id: id.to_string(),
        name: name.to_owned(),
        member: true,
    })
}

async fn flotilla_list(node: &NodeHandle) -> Result<Vec<FlotillaView>, Failure> {
    let flotillas = node.flotillas().await.map_err(from_node)?;
    Ok(flotillas
        .into_iter()
        .map(|f| FlotillaView {
            id: f.id.to_string(),
            name: f.name,
            member: f.member,
        })
        .collect())
}

/// Joins through the connected peers: waits for one, and retries while the peers asked are
/// not members yet (a peer that is itself still joining), until [`JOIN_TIMEOUT`].
async fn flotilla_join(node: &NodeHandle, code: &str) -> Result<FlotillaView, Failure> {
    use crate::net::codec::JoinRefusal;
    let code = InviteCode::from_str(code).map_err(|e| invalid("invite code", e))?;
    let deadline = tokio::time::Instant::now() + JOIN_TIMEOUT;
    let id = loop {
        let last = if node.connected_peers() == 0 {
            Error::Join(
                "no connected peer: connect to a member first (same network, or --peer)".into(),
            )
        } else {
            match node.join(&code, None).await {
                Ok(id) => break id,
                Err(
                    e @ (Error::Join(_)
                    | Error::JoinRefused(
                        JoinRefusal::UnknownFlotilla | JoinRefusal::NotReady(_),
                    )),
                ) => e,
                Err(e) => return Err(from_node(e)),
            }
        };
        if tokio::time::Instant::now() + JOIN_RETRY >= deadline {
            return Err(from_node(last));
        }
        tokio::time::sleep(JOIN_RETRY).await;
    };
    let name = node
        .flotillas()
        .await
        .map_err(from_node)?
        .into_iter()
        .find(|f| f.id == id)
        .map(|f| f.name)
        .unwrap_or_default();
    Ok(FlotillaView {
        id: id.to_string(),
        name,
        member: true,
    })
}

async fn invite_create(
    node: &NodeHandle,
    flotilla: Option<&str>,
    uses: Option<u32>,
    expires_secs: Option<u64>,
) -> Result<InviteView, Failure> {
    if uses == Some(0) {
        return Err(invalid("--uses", "at least 1"));
    }
    if expires_secs == Some(0) {
        return Err(invalid("--expires", "a duration longer than zero"));
    }
    let flotilla = resolve_flotilla(node, flotilla).await?;
    let expires_ms =
        expires_secs.map(|s| crate::actor::now_ms().saturating_add(s.saturating_mul(1000)));
    let code = node
        .invite(flotilla, uses, expires_ms)
        .await
        .map_err(from_node)?;
    Ok(InviteView {
        invite_id: code.invite.to_string(),
        flotilla: flotilla.to_string(),
        code: code.to_string(),
        uses,
        expires_at: expires_ms.map(rfc3339),
        revoked: None,
    })
}

async fn invite_revoke(node: &NodeHandle, code_or_id: &str) -> Result<RevokedView, Failure> {
    let text = code_or_id.trim();
    let invite = if text.starts_with("fl2") {
        InviteCode::from_str(text)
            .map_err(|e| invalid("invite code", e))?
            .invite
    } else {
        InviteId::from_str(text).map_err(|e| invalid("invite code or id", e))?
    };
    let flotilla = node.revoke_invite(invite, None).await.map_err(from_node)?;
    Ok(RevokedView {
        invite_id: invite.to_string(),
        flotilla: flotilla.to_string(),
    })
}

async fn channel_create(
    node: &NodeHandle,
    name: &str,
    private: bool,
    flotilla: Option<&str>,
) -> Result<ChannelView, Failure> {
    check_name("channel name", name)?;
    let flotilla = resolve_flotilla(node, flotilla).await?;
    let channels = node.channels(flotilla).await.map_err(from_node)?;
    if channels.iter().any(|c| c.name == name) {
        return Err((
            ErrorCode::Exists,
            format!("channel `{name}` already exists"),
        ));
    }
    let admin = node_admin(node).await?;
    let id = node
        .create_channel_with(flotilla, &admin, name, private)
        .await
        .map_err(from_node)?;
    Ok(ChannelView {
        id: id.to_string(),
        name: name.to_owned(),
        display_name: String::new(),
        private,
        flotilla: flotilla.to_string(),
    })
}

async fn messages(
    node: &NodeHandle,
    channel: &str,
    limit: Option<usize>,
    flotilla: Option<&str>,
) -> Result<Vec<MessageView>, Failure> {
    let limit = limit.unwrap_or(DEFAULT_MESSAGES_LIMIT);
    if !(1..=MAX_MESSAGES_LIMIT).contains(&limit) {
        return Err(invalid("--limit", format!("1 to {MAX_MESSAGES_LIMIT}")));
    }
    let flotilla = resolve_flotilla(node, flotilla).await?;
    let channel = resolve_channel(node, &flotilla, channel).await?;
    let messages = node
        .messages(flotilla, channel.id, limit)
        .await
        .map_err(from_node)?;
    Ok(messages
        .into_iter()
        .map(|m| MessageView {
            id: m.id.to_string(),
            channel: channel.name.clone(),
            author: m.author,
            author_deleted: m.author_deleted,
            text: m.text,
            root_id: m.root_id.map(|r| r.to_string()),
            created_at: rfc3339(m.created_at),
        })
        .collect())
}

fn channel_view(c: &ChannelInfo, flotilla: &FlotillaId) -> ChannelView {
    ChannelView {
        id: c.id.to_string(),
        name: c.name.clone(),
        display_name: String::new(),
        private: c.private,
        flotilla: flotilla.to_string(),
    }
}

/// `--flotilla`: an id or a name; left out, the one flotilla this node is a member of.
pub(super) async fn resolve_flotilla(
    node: &NodeHandle,
    given: Option<&str>,
) -> Result<FlotillaId, Failure> {
    let flotillas = node.flotillas().await.map_err(from_node)?;
    let Some(given) = given.map(str::trim) else {
        let member: Vec<_> = flotillas.iter().filter(|f| f.member).collect();
        return match member.as_slice() {
            [one] => Ok(one.id),
            [] => Err((
                ErrorCode::NotFound,
                "this node is in no flotilla yet: `flotilla flotilla create NAME` or \
                 `flotilla flotilla join CODE`"
                    .to_owned(),
            )),
            many => Err((
                ErrorCode::Invalid,
                format!(
                    "this node is in {} flotillas: choose one with --flotilla ({})",
                    many.len(),
                    many.iter()
                        .map(|f| format!("{} {}", f.id, f.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        };
    };
    if let Ok(id) = FlotillaId::from_str(given)
        && flotillas.iter().any(|f| f.id == id)
    {
        return Ok(id);
    }
    let named: Vec<_> = flotillas.iter().filter(|f| f.name == given).collect();
    match named.as_slice() {
        [one] => Ok(one.id),
        [] => Err((
            ErrorCode::NotFound,
            format!("no flotilla `{given}` on this node"),
        )),
        _ => Err((
            ErrorCode::Invalid,
            format!("several flotillas are named `{given}`: use the id"),
        )),
    }
}

/// `--channel`: an id or a name, in `flotilla`.
async fn resolve_channel(
    node: &NodeHandle,
    flotilla: &FlotillaId,
    given: &str,
) -> Result<ChannelInfo, Failure> {
    let given = given.trim();
    let channels = node.channels(*flotilla).await.map_err(from_node)?;
    if let Ok(id) = ChannelId::from_str(given)
        && let Some(c) = channels.iter().find(|c| c.id == id)
    {
        return Ok(c.clone());
    }
    let named: Vec<_> = channels.into_iter().filter(|c| c.name == given).collect();
    match <[ChannelInfo; 1]>::try_from(named) {
        Ok([one]) => Ok(one),
        Err(named) if named.is_empty() => Err((
            ErrorCode::NotFound,
            format!("no channel `{given}` in flotilla {flotilla}"),
        )),
        Err(_) => Err((
            ErrorCode::Invalid,
            format!("several channels are named `{given}`: use the id"),
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    async fn read(input: &[u8], max: usize) -> Vec<Line> {
        let mut reader = BufReader::new(input);
        let mut out = Vec::new();
        loop {
            let line = read_line(&mut reader, max).await.unwrap();
            let done = matches!(line, Line::Eof | Line::TooLarge);
            out.push(line);
            if done {
                return out;
            }
        }
    }

    #[tokio::test]
    async fn lines_are_bounded() {
        assert_eq!(
            read(b"ab\ncd", 4).await,
            [
                Line::Request(b"ab".to_vec()),
                Line::Request(b"cd".to_vec()),
                Line::Eof
            ]
        );
        assert_eq!(
            read(b"abcd\n", 4).await,
            [Line::Request(b"abcd".to_vec()), Line::Eof],
            "exactly the limit, plus its newline"
        );
        assert_eq!(read(b"abcde\n", 4).await, [Line::TooLarge]);
        assert_eq!(read(b"abcdefgh", 4).await, [Line::TooLarge]);
    }
}

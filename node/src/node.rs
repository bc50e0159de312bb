//! [`Node`]: a running node. It opens the data directory, the key and the store, starts the
//! actor (libp2p mesh + sync, see `crate::actor`) and serves HTTP.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use flotilla_protocol::PublicKey;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::Error;
use crate::actor::{self, Setup};
use crate::config::Config;
use crate::datadir::DataDir;
use crate::handle::NodeHandle;
use crate::http::{self, AppState, NodeInfo};
use crate::store::SledStore;

/// A running node. Dropping it aborts the HTTP server; [`Node::shutdown`] stops it gracefully.
#[derive(Debug)]
pub struct Node {
    info: Arc<NodeInfo>,
    auth: Arc<http::Auth>,
    state: AppState,
    handle: NodeHandle,
    actor: Option<JoinHandle<()>>,
    http: SocketAddr,
    store: SledStore,
    grace: Duration,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
    /// mDNS discovery, if `config.mdns` (see `crate::mdns`).
    mdns: Option<crate::mdns::Mdns>,
}

impl Node {
    /// Opens the data directory (creating it and the node key on first start), opens the
    /// store and starts serving HTTP on `config.http`.
    ///
    /// # Errors
    /// [`Error::DataDir`] (unusable directory, insecure or malformed key), [`Error::Store`]
    /// (schema too new, store locked by another node), [`Error::Bind`].
    ///
    /// # Cancel safety
    /// Dropping the future before it completes leaves nothing running.
    pub async fn start(config: Config) -> Result<Node, Error> {
        let data_dir = config.data_dir.clone();
        let passphrase_file = config.key_passphrase_file.clone();
        let (dir, key, store) = tokio::task::spawn_blocking(move || -> Result<_, Error> {
            let dir = DataDir::open(&data_dir)?;
            let passphrase = passphrase_file
                .as_deref()
                .map(crate::datadir::sealed::read_passphrase)
                .transpose()?;
            let key = dir.node_key_with(passphrase.as_ref().map(|p| p.as_slice()))?;
            let store = SledStore::open(&dir.store_path())?;
            Ok((dir, key, store))
        })
        .await??;
        let tls = crate::tls::for_config(&config, dir.path()).await?;
        let info = Arc::new(NodeInfo {
            id: key.public(),
            name: config.name.clone(),
            data_dir: dir.path().to_path_buf(),
            max_attachment_bytes: config.max_attachment_bytes,
            tls_fingerprint: tls.as_ref().map(|t| t.fingerprint().to_owned()),
        });
        let auth = {
            let store = store.clone();
            Arc::new(tokio::task::spawn_blocking(move || http::Auth::load(&store)).await??)
        };
        let setup = Setup {
            name: config
                .name
                .clone()
                .unwrap_or_else(|| format!("node-{}", key.public().fmt_short())),
            key,
            store: store.clone(),
            timeouts: config.timeouts(),
            listen: config.listen.clone(),
            peers: config.peers.clone(),
            lora: config.lora.clone(),
            attachments: crate::files::Attachments {
                dir: dir.path().join(crate::files::FILES_DIR),
                default_limit: config.max_attachment_bytes,
                limits: config.flotilla_max_attachment_bytes.clone(),
                profile: config.link_profile,
                auto_fetch_max_bytes: config.auto_fetch_max_bytes,
                budget_bytes: config.file_budget_bytes,
            },
            disk: crate::disk::DiskGuard::for_dir(dir.path()),
        };
        let (handle, actor) = actor::spawn(setup)?;
        // mDNS: advertise the mesh port once known, feed found peers to the actor.
        let mdns = config
            .mdns
            .then(|| crate::mdns::start(handle.clone(), None));
        let listener = TcpListener::bind(config.http)
            .await
            .map_err(|source| Error::Bind {
                addr: config.http,
                source,
            })?;
        let http = listener.local_addr().map_err(|source| Error::Bind {
            addr: config.http,
            source,
        })?;
        let (stop, stopped) = oneshot::channel();
        let state = AppState {
            info: info.clone(),
            store: store.clone(),
            node: handle.clone(),
            auth: Arc::clone(&auth),
            live: http::live::Hub::start(handle.clone()),
        };
        let app = http::router(state.clone());
        let server = crate::tls::serve(listener, tls.as_ref(), app, async move {
            stopped.await.unwrap_or(());
        })
        .map_err(|source| Error::Bind {
            addr: config.http,
            source,
        })?;
        tracing::info!(node = %info.id.fmt_short(), %http, "node started");
        Ok(Node {
            info,
            auth,
            state,
            handle,
            actor: Some(actor),
            http,
            store,
            grace: config.shutdown_grace,
            stop: Some(stop),
            server: Some(server),
            mdns,
        })
    }

    /// The node's public key.
    pub fn id(&self) -> PublicKey {
        self.info.id
    }

    /// The address HTTP is bound to (the real port when the config asked for port 0).
    pub fn http_addr(&self) -> SocketAddr {
        self.http
    }

    /// With `serve --tls`: the HTTPS certificate's SHA-256 fingerprint.
    pub fn tls_fingerprint(&self) -> Option<&str> {
        self.info.tls_fingerprint.as_deref()
    }

    /// The one-time code that makes the first admin in the web UI, while the node has no
    /// account (the CLI prints it at start).
    pub fn setup_code(&self) -> Option<String> {
        self.auth.setup_code()
    }

    /// The node's HTTP sessions, tokens and login limits (the admin socket ends and clears
    /// them for `user deactivate|delete|unlock`).
    pub fn auth(&self) -> &Arc<http::Auth> {
        &self.auth
    }

    /// A new copy of the node's HTTP app, for in-process requests (router tests).
    pub fn router(&self) -> axum::Router {
        http::router(self.state.clone())
    }

    /// The node's store.
    pub fn store(&self) -> &SledStore {
        &self.store
    }

    /// The handle on the node's actor (clone it freely).
    pub fn handle(&self) -> &NodeHandle {
        &self.handle
    }

    /// Withdraws the mDNS advertisement (peers get a goodbye), stops the actor (closing every
    /// peer connection), stops accepting HTTP connections, waits up to the configured grace
    /// period for open requests, then flushes the store.
    ///
    /// # Errors
    /// [`Error::Serve`] if the server had failed, [`Error::Store`] if the final flush fails.
    pub async fn shutdown(mut self) -> Result<(), Error> {
        if let Some(mdns) = self.mdns.take() {
            mdns.shutdown().await; // the goodbye goes out while the node still answers
        }
        if let Some(actor) = self.actor.take() {
            let stopped = self.handle.shutdown().await;
            if let Err(e) = stopped {
                tracing::warn!(%e, "the actor did not stop cleanly");
            }
            if tokio::time::timeout(self.grace, actor).await.is_err() {
                tracing::warn!("the actor did not stop in time");
            }
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(()); // the server may already be gone; then there is nothing to stop
        }
        if let Some(mut server) = self.server.take() {
            match tokio::time::timeout(self.grace, &mut server).await {
                Ok(joined) => joined?.map_err(Error::Serve)?,
                Err(_) => {
                    tracing::warn!(grace = ?self.grace, "open HTTP requests did not finish; dropping them");
                    server.abort();
                }
            }
        }
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.flush()).await??;
        tracing::info!(node = %self.info.id.fmt_short(), "node stopped");
        Ok(())
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(actor) = self.actor.take() {
            actor.abort();
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn start_binds_a_real_port_refuses_a_second_node_and_shuts_down() {
        let tmp = tempfile::tempdir().unwrap();
        let node = Node::start(Config::for_tests(tmp.path())).await.unwrap();
        assert_ne!(node.http_addr().port(), 0);
        assert!(tmp.path().join("node.key").exists());
        let second = Node::start(Config::for_tests(tmp.path())).await;
        assert!(matches!(second, Err(Error::Store(_))), "{second:?}");
        let id = node.id();
        node.shutdown().await.unwrap();
        let again = Node::start(Config::for_tests(tmp.path())).await.unwrap();
        assert_eq!(again.id(), id, "the key survives a restart");
        assert_eq!(again.store().event_count(), 0);
    }

    /// After a restart the first page loads its channel only (the fold is lazy per channel);
    /// the views that follow still see every channel, edits included.
    #[tokio::test]
    async fn a_fold_loaded_channel_by_channel_shows_every_channel() {
        use flotilla_protocol::id::ChannelId;
        let tmp = tempfile::tempdir().unwrap();
        let node = Node::start(Config::for_tests(tmp.path())).await.unwrap();
        let h = node.handle().clone();
        h.add_user("alice").await.unwrap();
        let f = h.create_flotilla("Rallye", "alice").await.unwrap();
        let town = ChannelId::derived(&f, "town-square");
        let bosun = h.create_channel(f, "alice", "bosun").await.unwrap();
        h.post(f, town, "alice", "in town", None).await.unwrap();
        let first = h.post(f, bosun, "alice", "first", None).await.unwrap();
        h.edit_post(f, first, "alice", "edited").await.unwrap();
        node.shutdown().await.unwrap();
        let node = Node::start(Config::for_tests(tmp.path())).await.unwrap();
        let h = node.handle().clone();
        let texts = |page: crate::handle::views::PostPage| -> Vec<String> {
            page.posts.into_iter().map(|p| p.text).collect()
        };
        let page = h.posts(f, town, "alice", None, 50).await.unwrap();
        assert_eq!(texts(page), ["in town"]);
        h.post(f, bosun, "alice", "second", None).await.unwrap();
        let page = h.posts(f, bosun, "alice", None, 50).await.unwrap();
        assert_eq!(texts(page), ["edited", "second"]);
        let channels = h.channels_for(f, "alice").await.unwrap();
        let b = channels.iter().find(|c| c.id == bosun).unwrap();
        assert!(b.last_post_at.is_some());
        node.shutdown().await.unwrap();
    }

    /// A full command queue is served in groups of `MAX_GROUP`: every command taken off the
    /// queue is answered (one per group was dropped, its caller told `ActorGone`, which lost
    /// WebSocket pushes under load).
    #[tokio::test]
    async fn a_full_command_queue_loses_no_command() {
        let tmp = tempfile::tempdir().unwrap();
        let node = Node::start(Config::for_tests(tmp.path())).await.unwrap();
        let handle = node.handle().clone();
        let asks = (0..crate::handle::CMD_CAP * 8).map(|_| {
            let h = handle.clone();
            tokio::spawn(async move { h.users().await })
        });
        let answers = futures::future::join_all(asks).await;
        let failed = answers
            .into_iter()
            .filter(|a| !matches!(a, Ok(Ok(_))))
            .count();
        assert_eq!(failed, 0, "commands unanswered");
        node.shutdown().await.unwrap();
    }

    #[tokio::test]
    async fn a_sealed_key_needs_its_passphrase_file() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let pass = tmp.path().join("passphrase");
        std::fs::write(&pass, "grand largue\n").unwrap();
        std::fs::set_permissions(&pass, std::fs::Permissions::from_mode(0o600)).unwrap();
        let mut config = Config::for_tests(&data);
        config.key_passphrase_file = Some(pass.clone());
        let node = Node::start(config.clone()).await.unwrap();
        let id = node.id();
        node.shutdown().await.unwrap();
        let locked = Node::start(Config::for_tests(&data)).await;
        assert!(
            matches!(
                locked,
                Err(Error::DataDir(crate::datadir::Error::Locked { .. }))
            ),
            "{locked:?}"
        );
        let again = Node::start(config).await.unwrap();
        assert_eq!(again.id(), id);
        again.shutdown().await.unwrap();
    }
}

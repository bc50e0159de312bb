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
        let (dir, key, store) = tokio::task::spawn_blocking(move || -> Result<_, Error> {
            let dir = DataDir::open(&data_dir)?;
            let key = dir.node_key()?;
            let store = SledStore::open(&dir.store_path())?;
            Ok((dir, key, store))
        })
        .await??;
        let info = Arc::new(NodeInfo {
            id: key.public(),
            name: config.name.clone(),
            data_dir: dir.path().to_path_buf(),
            max_attachment_bytes: config.max_attachment_bytes,
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
            },
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
        };
        let app = http::router(state.clone());
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move { stopped.await.unwrap_or(()) })
                .await
        });
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

    /// The one-time code that makes the first admin in the web UI, while the node has no
    /// account (the CLI prints it at start).
    pub fn setup_code(&self) -> Option<String> {
        self.auth.setup_code()
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
}

//! [`WebNode`]: a real node in this process, serving HTTP on loopback for a browser to open.
//! Like `TestNet`'s nodes (temp data dir, mDNS off, loopback only), but keeping the [`Node`]
//! itself reachable for its HTTP address and its one-time setup code.

use std::time::Duration;

use anyhow::Context;
use flotilla_node::config::Config;
use flotilla_node::test_utils::{CONNECT_TIMEOUT, TEST_JOIN_GRACE, eventually, init_tracing};
use flotilla_node::{Node, NodeHandle};
use libp2p::Multiaddr;

/// A node serving HTTP on 127.0.0.1, its data in a temp dir.
#[derive(Debug)]
pub(crate) struct WebNode {
    node: Node,
    mesh_addr: Multiaddr,
    _dir: tempfile::TempDir,
}

impl WebNode {
    /// Starts a node named `name`.
    pub(crate) async fn start(name: &str) -> anyhow::Result<WebNode> {
        init_tracing();
        let dir = tempfile::tempdir()?;
        let mut config = Config::for_tests(dir.path());
        config.name = Some(name.to_owned());
        config.join_grace = Some(TEST_JOIN_GRACE);
        let node = Node::start(config).await.context("start a web node")?;
        let handle = node.handle().clone();
        eventually(CONNECT_TIMEOUT, "a mesh listen address", || async {
            handle.listeners().await.is_ok_and(|a| !a.is_empty())
        })
        .await?;
        let mesh_addr = handle
            .listeners()
            .await?
            .into_iter()
            .next()
            .context("a mesh listen address")?;
        Ok(WebNode {
            node,
            mesh_addr,
            _dir: dir,
        })
    }

    /// The node.
    pub(crate) fn node(&self) -> &Node {
        &self.node
    }

    /// The node's actor.
    pub(crate) fn handle(&self) -> &NodeHandle {
        self.node.handle()
    }

    /// Its mesh address, with `/p2p/<peer id>`.
    pub(crate) fn mesh_addr(&self) -> Multiaddr {
        self.mesh_addr.clone()
    }

    /// `http://<its HTTP address><path>`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.node.http_addr())
    }

    /// The one-time setup code the node prints while it has no account.
    pub(crate) fn setup_code(&self) -> anyhow::Result<String> {
        self.node
            .setup_code()
            .context("no setup code: the node already has an account")
    }

    /// Dials `other` and waits until both see the connection.
    pub(crate) async fn connect(&self, other: &WebNode) -> anyhow::Result<()> {
        self.handle().dial(other.mesh_addr()).await?;
        let (a, b) = (self.handle(), other.handle());
        eventually(CONNECT_TIMEOUT, "the two web nodes connected", || async {
            linked(a, b).await && linked(b, a).await
        })
        .await
    }

    /// Stops the node gracefully.
    pub(crate) async fn shutdown(self) -> anyhow::Result<()> {
        tokio::time::timeout(SHUTDOWN_TIMEOUT, self.node.shutdown())
            .await
            .context("node shutdown timed out")??;
        Ok(())
    }
}

/// Bound on a node's graceful shutdown.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// Does `a` see a connection to `b`?
async fn linked(a: &NodeHandle, b: &NodeHandle) -> bool {
    let peer = b.peer_id();
    a.peers()
        .await
        .is_ok_and(|peers| peers.iter().any(|p| p.peer == peer && p.connected))
}

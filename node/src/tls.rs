//! `serve --tls`: HTTPS for the web UI on a shared Wi-Fi (passwords and session cookies
//! must not cross a marina's network in clear).
//!
//! On first start the node generates a self-signed certificate (rcgen, ECDSA P-256) and
//! keeps it in its data directory ([`CERT_FILE`], [`KEY_FILE`], mode 0600); later starts
//! reuse it, so its fingerprint stays the same. No certificate authority can vouch for a
//! boat's laptop, so the crew checks the SHA-256 fingerprint the node prints on its console
//! (and the UI's settings show) against what the browser shows, once.
//!
//! [`TlsListener`] is an `axum::serve` listener: a background task accepts TCP
//! connections and runs at most [`MAX_HANDSHAKES`] handshakes at once, each bounded by
//! [`HANDSHAKE_TIMEOUT`], so one slow client cannot stall the others.

use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::Digest;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// The certificate, PEM, in the data directory.
pub const CERT_FILE: &str = "tls-cert.pem";
/// Its private key, PEM, mode 0600.
pub const KEY_FILE: &str = "tls-key.pem";
/// Handshakes in progress at once, at most.
pub const MAX_HANDSHAKES: usize = 64;
/// A client that has not finished its handshake by then is dropped.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Finished handshakes waiting for the server to take them.
const ACCEPTED_CAP: usize = 16;

/// The certificate could not be made, read or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Generating the certificate.
    #[error("cannot generate the TLS certificate: {0}")]
    Generate(String),
    /// A stored certificate or key that does not parse or does not fit.
    #[error(
        "unusable TLS certificate or key in the data directory ({0}): delete both files to make new ones"
    )]
    Invalid(String),
}

/// A certificate ready to serve, and its fingerprint.
#[derive(Clone)]
pub struct Tls {
    acceptor: TlsAcceptor,
    fingerprint: String,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// Loads the data directory's certificate, or makes one (valid for `names`: host names
    /// or IP addresses) if there is none.
    ///
    /// # Errors
    /// [`Error`].
    pub fn load_or_create(dir: &Path, names: &[String]) -> Result<Tls, Error> {
        let (cert_path, key_path) = (dir.join(CERT_FILE), dir.join(KEY_FILE));
        if !cert_path.exists() || !key_path.exists() {
            create(&cert_path, &key_path, names)?;
        }
        let cert = CertificateDer::from_pem_file(&cert_path)
            .map_err(|e| Error::Invalid(format!("{}: {e}", cert_path.display())))?;
        let key = PrivateKeyDer::from_pem_file(&key_path)
            .map_err(|e| Error::Invalid(format!("{}: {e}", key_path.display())))?;
        let fingerprint = fingerprint(&cert);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Invalid(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .map_err(|e| Error::Invalid(e.to_string()))?;
        Ok(Tls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            fingerprint,
        })
    }

    /// The certificate's SHA-256 fingerprint, `AB:CD:…` (as browsers show it).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Serves TLS on `listener`.
    pub fn listen(&self, listener: TcpListener) -> std::io::Result<TlsListener> {
        let local = listener.local_addr()?;
        let (tx, rx) = mpsc::channel(ACCEPTED_CAP);
        let task = tokio::spawn(accept_loop(listener, self.acceptor.clone(), tx));
        Ok(TlsListener {
            rx,
            local,
            _task: AbortOnDrop(task),
        })
    }
}

/// The node's certificate if `config.tls` (made on first start, off the runtime: key
/// generation and file writes block).
///
/// # Errors
/// [`crate::Error::Tls`].
pub(crate) async fn for_config(
    config: &crate::config::Config,
    dir: &Path,
) -> Result<Option<Tls>, crate::Error> {
    if !config.tls {
        return Ok(None);
    }
    let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let ip = config.http.ip();
    if !ip.is_unspecified() && !ip.is_loopback() {
        names.push(ip.to_string());
    }
    if let Some(name) = config.name.as_ref().filter(|n| is_dns_label(n)) {
        names.push(format!("{}.local", name.to_lowercase()));
    }
    let dir = dir.to_path_buf();
    let tls = tokio::task::spawn_blocking(move || Tls::load_or_create(&dir, &names)).await??;
    Ok(Some(tls))
}

fn is_dns_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Serves `app` on `listener` (HTTPS if `tls`) until `stop` completes; the clients'
/// addresses are the connect info either way.
///
/// # Errors
/// The listener's address cannot be read.
pub(crate) fn serve(
    listener: TcpListener,
    tls: Option<&Tls>,
    app: axum::Router,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<tokio::task::JoinHandle<std::io::Result<()>>> {
    use axum::serve::ListenerExt;
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    Ok(match tls {
        None => tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await
        }),
        Some(tls) => {
            let listener = tls.listen(listener)?.tap_io(|_| {});
            tokio::spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(stop)
                    .await
            })
        }
    })
}

/// SHA-256 of a certificate's DER, as colon-separated upper-case hex.
pub fn fingerprint(cert: &[u8]) -> String {
    sha2::Sha256::digest(cert)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn create(cert_path: &Path, key_path: &Path, names: &[String]) -> Result<(), Error> {
    let certified = rcgen::generate_simple_self_signed(names.to_vec())
        .map_err(|e| Error::Generate(e.to_string()))?;
    write_private(key_path, certified.key_pair.serialize_pem().as_bytes())?;
    write_private(cert_path, certified.cert.pem().as_bytes())?;
    tracing::info!(cert = %cert_path.display(), "generated a TLS certificate");
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)
}

#[derive(Debug)]
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// TLS connections for `axum::serve` (wrap it with `ListenerExt::tap_io` to get the
/// client's `SocketAddr` as connect info).
#[derive(Debug)]
pub struct TlsListener {
    rx: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    _task: AbortOnDrop,
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    tx: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    let slots = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let (tcp, addr) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, usually: wait instead of spinning.
                tracing::warn!(%e, "HTTPS accept failed");
                tokio::time::sleep(Duration::from_millis(250)).await;
                continue;
            }
        };
        let (acceptor, tx) = (acceptor.clone(), tx.clone());
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => {
                    let _ = tx.send((tls, addr)).await; // the server may be stopping
                }
                Ok(Err(e)) => tracing::debug!(%addr, %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%addr, "TLS handshake timed out"),
            }
            drop(slot);
        });
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(accepted) => accepted,
            // The accept task is gone: accept nothing more (graceful shutdown still ends).
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

#[cfg(test)]
mod tests;

//! The browser tests' transport: one JSON request over HTTP/1.1 to a local chromedriver
//! (plain TCP, no TLS, one connection per request), bounded in time and size.

use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::Method;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

/// Longest response accepted: a full-page screenshot in base64 is a few MB.
pub(crate) const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// Why an HTTP exchange with chromedriver failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpError {
    #[error("connect to {addr}: {source}")]
    Connect {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{method} {path}: no answer within {timeout:?}")]
    Timeout {
        method: Method,
        path: String,
        timeout: Duration,
    },
    #[error("{method} {path}: {source}")]
    Protocol {
        method: Method,
        path: String,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("{method} {path}: answer is not JSON ({source}): {body}")]
    NotJson {
        method: Method,
        path: String,
        body: String,
        source: serde_json::Error,
    },
}

/// An HTTP status and its JSON body.
#[derive(Debug)]
pub(crate) struct JsonResponse {
    pub(crate) status: u16,
    pub(crate) body: Value,
}

/// Sends `body` (if any) as JSON to `http://addr/path` and reads the JSON answer, all within
/// `timeout`.
pub(crate) async fn request(
    addr: SocketAddr,
    method: Method,
    path: &str,
    body: Option<&Value>,
    timeout: Duration,
) -> Result<JsonResponse, HttpError> {
    let exchange = exchange(addr, method.clone(), path, body);
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| HttpError::Timeout {
            method,
            path: path.to_owned(),
            timeout,
        })?
}

async fn exchange(
    addr: SocketAddr,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Result<JsonResponse, HttpError> {
    let protocol = |source: Box<dyn std::error::Error + Send + Sync>| HttpError::Protocol {
        method: method.clone(),
        path: path.to_owned(),
        source,
    };
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|source| HttpError::Connect { addr, source })?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| protocol(e.into()))?;
    // The connection task ends with the exchange (or when the request is dropped).
    tokio::spawn(connection);
    let payload = body.map(Value::to_string).unwrap_or_default();
    let request = hyper::Request::builder()
        .method(method.clone())
        .uri(path)
        .header(hyper::header::HOST, addr.to_string())
        .header(
            hyper::header::CONTENT_TYPE,
            "application/json; charset=utf-8",
        )
        .body(Full::new(Bytes::from(payload)))
        .map_err(|e| protocol(e.into()))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| protocol(e.into()))?;
    let status = response.status().as_u16();
    let bytes = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
        .collect()
        .await
        .map_err(protocol)?
        .to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).map_err(|source| HttpError::NotJson {
            method: method.clone(),
            path: path.to_owned(),
            body: String::from_utf8_lossy(&bytes[..bytes.len().min(500)]).into_owned(),
            source,
        })?
    };
    Ok(JsonResponse { status, body })
}

//! A minimal HTTP/1.1 JSON client for the LoRa tests (std only, one connection per request,
//! bounded in time): logs in with a session cookie and sends its CSRF token on writes.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::Context;
use serde_json::Value;

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(20);
/// Largest answer read.
const MAX_ANSWER: u64 = 8 * 1024 * 1024;

/// A logged-in user of one node's API.
pub(crate) struct Session {
    addr: SocketAddr,
    cookie: String,
    csrf: String,
}

/// One exchange: the status and the JSON body (`Null` when empty).
fn exchange(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &str,
    body: Option<&Value>,
) -> anyhow::Result<(u16, String, Value)> {
    let mut s = TcpStream::connect_timeout(&addr, TIMEOUT)?;
    s.set_read_timeout(Some(TIMEOUT))?;
    s.set_write_timeout(Some(TIMEOUT))?;
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{headers}\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    s.take(MAX_ANSWER).read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text.split_once("\r\n\r\n").context("no HTTP header end")?;
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .context("no status")?
        .parse()?;
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        unchunk(rest)?
    } else {
        rest.to_string()
    };
    let json = if body.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&body).with_context(|| format!("{method} {path}: {body}"))?
    };
    Ok((status, head.to_string(), json))
}

fn unchunk(mut s: &str) -> anyhow::Result<String> {
    let mut out = String::new();
    loop {
        let (len, rest) = s.split_once("\r\n").context("chunk size")?;
        let len = usize::from_str_radix(len.trim(), 16)?;
        if len == 0 {
            return Ok(out);
        }
        out.push_str(rest.get(..len).context("short chunk")?);
        s = rest.get(len + 2..).context("chunk end")?;
    }
}

impl Session {
    /// Logs `username` in on the node whose API listens at `addr`.
    pub(crate) fn login(addr: SocketAddr, username: &str, password: &str) -> anyhow::Result<Self> {
        let body = serde_json::json!({"username": username, "password": password});
        let (status, head, me) = exchange(addr, "POST", "/api/v1/login", "", Some(&body))?;
        anyhow::ensure!(status == 200, "login {username}: {status} {me}");
        let cookie = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("set-cookie")
                    .then(|| v.trim().split(';').next().unwrap_or("").to_string())
            })
            .context("no session cookie")?;
        let csrf = me["csrf_token"]
            .as_str()
            .context("no CSRF token")?
            .to_string();
        Ok(Session { addr, cookie, csrf })
    }

    /// A request as this user; fails on any status but 2xx.
    pub(crate) fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let headers = format!("Cookie: {}\r\nX-CSRF-Token: {}\r\n", self.cookie, self.csrf);
        let (status, _, v) = exchange(self.addr, method, path, &headers, body)?;
        anyhow::ensure!(
            (200..300).contains(&status),
            "{method} {path}: {status} {v}"
        );
        Ok(v)
    }
}

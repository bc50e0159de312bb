//! mmctl-style account and channel administration through the binary: `user list --json`,
//! `user deactivate` / `activate` (checked by logging in over HTTP), `user unlock` (after a
//! lock-out from another address), `user delete --confirm` (the posts stay, shown as a
//! deleted user), `channel archive` / `unarchive`; each with a bad argument refused by a
//! non-zero exit and a message naming it.

use std::net::SocketAddr;

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::Serve;

const PASSWORD: &str = "a long passphrase";

/// `POST /api/v1/login` from source address `from` (any 127.x.y.z reaches the node on
/// loopback): the HTTP status.
fn login(node: &Serve, username: &str, password: &str, from: [u8; 4]) -> anyhow::Result<u16> {
    let body = serde_json::json!({"username": username, "password": password}).to_string();
    let addr: SocketAddr = node.http.parse().context("the node's HTTP address")?;
    let host = node.http.clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(SocketAddr::from((from, 0)))?;
        let mut stream = socket.connect(addr).await?;
        let request = format!(
            "POST /api/v1/login HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await?;
        let code = response.split(' ').nth(1).context("no status")?.parse()?;
        Ok(code)
    })
}

fn users(node: &Serve) -> anyhow::Result<Vec<serde_json::Value>> {
    Ok(serde_json::from_str(
        &node.ok(&["user", "list", "--json"])?,
    )?)
}

const ME: [u8; 4] = [127, 0, 0, 1];
const OTHER: [u8; 4] = [127, 0, 0, 2];

#[test]
fn user_lifecycle_and_channel_archive_through_the_binary() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let a = Serve::start(&tmp.path().join("a"), &["--name", "Ondine"])?;
    for (name, admin) in [("anne", true), ("bob", false)] {
        let mut args = vec!["user", "create", "--username", name, "--password", PASSWORD];
        if admin {
            args.push("--admin");
        }
        a.ok(&args)?;
    }
    a.ok(&["flotilla", "create", "Rallye"])?;
    a.ok(&[
        "post",
        "--as",
        "bob",
        "--channel",
        "town-square",
        "message de bob",
    ])?;

    // user list --json: both, active.
    let list = users(&a)?;
    let bob = list
        .iter()
        .find(|u| u["username"] == "bob")
        .context("bob")?;
    assert_eq!(bob["deactivated"], false, "{list:?}");
    assert_eq!(bob["admin"], false);
    assert!(a.ok(&["user", "list"])?.contains("anne  (node admin)"));
    assert_eq!(login(&a, "bob", PASSWORD, ME)?, 200);

    // deactivate / activate.
    let out = a.ok(&["user", "deactivate", "bob"])?;
    assert!(out.contains("bob deactivated"), "{out}");
    let list = users(&a)?;
    let bob = list
        .iter()
        .find(|u| u["username"] == "bob")
        .context("bob")?;
    assert_eq!(bob["deactivated"], true, "{list:?}");
    assert!(a.ok(&["user", "list"])?.contains("bob  (deactivated)"));
    assert_eq!(
        login(&a, "bob", PASSWORD, ME)?,
        403,
        "a deactivated account"
    );
    let err = a.fails(&["post", "--as", "bob", "--channel", "town-square", "encore"])?;
    assert!(err.contains("bob") && err.contains("deactivated"), "{err}");
    let err = a.fails(&["user", "deactivate", "personne"])?;
    assert!(err.contains("personne"), "{err}");
    let err = a.fails(&["user", "deactivate", "anne"])?;
    assert!(err.contains("anne") && err.contains("node admin"), "{err}");
    let out = a.ok(&["user", "activate", "bob"])?;
    assert!(out.contains("bob activated"), "{out}");
    assert_eq!(login(&a, "bob", PASSWORD, ME)?, 200);
    let err = a.fails(&["user", "activate", "personne"])?;
    assert!(err.contains("personne"), "{err}");

    // unlock: five wrong passwords from another address lock bob out everywhere.
    for _ in 0..5 {
        assert_eq!(login(&a, "bob", "wrong password", OTHER)?, 401);
    }
    assert_eq!(login(&a, "bob", PASSWORD, ME)?, 429);
    let out = a.ok(&["user", "unlock", "bob"])?;
    assert!(out.contains("bob: login unlocked"), "{out}");
    assert_eq!(login(&a, "bob", PASSWORD, ME)?, 200);
    let out = a.ok(&["user", "unlock", "bob"])?;
    assert!(out.contains("was not locked"), "{out}");
    let err = a.fails(&["user", "unlock", "personne"])?;
    assert!(err.contains("personne"), "{err}");

    // delete: refused without --confirm; then gone, the post stays as a deleted user's.
    let err = a.fails(&["user", "delete", "bob"])?;
    assert!(err.contains("--confirm"), "{err}");
    assert!(users(&a)?.iter().any(|u| u["username"] == "bob"));
    let err = a.fails(&["user", "delete", "personne", "--confirm"])?;
    assert!(err.contains("personne"), "{err}");
    let err = a.fails(&["user", "delete", "anne", "--confirm"])?;
    assert!(err.contains("anne"), "{err}");
    let out = a.ok(&["user", "delete", "bob", "--confirm"])?;
    assert!(
        out.contains("bob deleted") && out.contains("1 flotilla"),
        "{out}"
    );
    assert!(!users(&a)?.iter().any(|u| u["username"] == "bob"));
    assert_eq!(login(&a, "bob", PASSWORD, ME)?, 401);
    let messages = a.messages("town-square")?;
    let post = messages
        .iter()
        .find(|m| m["text"] == "message de bob")
        .context("bob's post stays")?;
    assert_eq!(post["author"], "bob");
    assert_eq!(post["author_deleted"], true);
    let plain = a.ok(&["messages", "--channel", "town-square"])?;
    assert!(
        plain.contains("bob (deleted user): message de bob"),
        "{plain}"
    );

    // channel archive / unarchive (mmctl names).
    a.ok(&["channel", "create", "galley"])?;
    let out = a.ok(&["channel", "archive", "galley"])?;
    assert!(out.contains("galley archived"), "{out}");
    let err = a.fails(&["post", "--as", "anne", "--channel", "galley", "refusé"])?;
    assert!(err.contains("archived"), "{err}");
    let out = a.ok(&["channel", "unarchive", "galley"])?;
    assert!(out.contains("galley unarchived"), "{out}");
    a.ok(&["post", "--as", "anne", "--channel", "galley", "accepté"])?;
    let err = a.fails(&["channel", "archive", "nulle-part"])?;
    assert!(err.contains("nulle-part"), "{err}");
    let err = a.fails(&["channel", "unarchive", "nulle-part"])?;
    assert!(err.contains("nulle-part"), "{err}");
    a.stop()
}

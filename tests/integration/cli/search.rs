//! `flotilla search` and `flotilla index rebuild` through the real binary: French words and
//! filters, a private channel's posts never shown to a non-member, and no post missing from
//! the index after a SIGKILL and a restart.

use std::time::{Duration, Instant};

use super::{Serve, wait_until};

/// Posts written just before the SIGKILL.
const POSTS_BEFORE_KILL: usize = 4;

fn search(node: &Serve, user: &str, query: &str) -> anyhow::Result<Vec<serde_json::Value>> {
    let out = node.ok(&["search", "--as", user, "--json", "--limit", "200", query])?;
    Ok(serde_json::from_str(&out)?)
}

#[test]
fn search_finds_what_the_user_may_read_and_survives_a_sigkill() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("a");
    let node = Serve::start(&dir, &[])?;
    node.ok(&[
        "user",
        "create",
        "--username",
        "anne",
        "--password",
        "a long passphrase",
        "--admin",
    ])?;
    node.ok(&[
        "user",
        "create",
        "--username",
        "bruno",
        "--password",
        "a long passphrase",
    ])?;
    node.ok(&["flotilla", "create", "Rallye"])?;
    node.ok(&["channel", "create", "capitaines", "--private"])?;
    node.ok(&[
        "post",
        "--as",
        "anne",
        "--channel",
        "town-square",
        "La météo annonce 25 nœuds #grib",
    ])?;
    node.ok(&[
        "post",
        "--as",
        "bruno",
        "--channel",
        "town-square",
        "Les bateaux sont au ponton",
    ])?;
    node.ok(&[
        "post",
        "--as",
        "anne",
        "--channel",
        "capitaines",
        "Le code du ponton est 4321",
    ])?;

    let found = search(&node, "bruno", "meteo")?;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["author"], "anne");
    assert_eq!(found[0]["channel"], "town-square");
    assert_eq!(found[0]["text"], "La météo annonce 25 nœuds #grib");
    assert_eq!(
        search(&node, "bruno", "#grib in:town-square from:anne")?.len(),
        1
    );
    assert_eq!(
        search(&node, "bruno", "ponton")?.len(),
        1,
        "not the private post"
    );
    assert!(search(&node, "bruno", "\"code du ponton\"")?.is_empty());
    let plain = node.ok(&["search", "--as", "bruno", "meteo"])?;
    assert!(plain.contains("~town-square anne: La météo"), "{plain}");
    let err = node.fails(&["search", "--as", "bruno", "on:2026-02-30"])?;
    assert!(err.contains("date"), "{err}");

    // Posts acknowledged just before a SIGKILL are all found after the restart.
    for i in 0..POSTS_BEFORE_KILL {
        node.ok(&[
            "post",
            "--as",
            "bruno",
            "--channel",
            "town-square",
            &format!("amarre numéro {i}"),
        ])?;
    }
    drop(node); // SIGKILL: no clean shutdown, no index commit
    let node = Serve::start(&dir, &[])?;
    let deadline = Instant::now() + Duration::from_secs(30);
    wait_until(deadline, "the restarted node to answer", || {
        Ok(search(&node, "anne", "amarre").is_ok())
    })?;
    assert_eq!(search(&node, "anne", "amarre")?.len(), POSTS_BEFORE_KILL);

    let out = node.ok(&["index", "rebuild"])?;
    assert!(out.contains("posts indexed"), "{out}");
    assert_eq!(search(&node, "anne", "amarres")?.len(), POSTS_BEFORE_KILL);
    node.stop()
}

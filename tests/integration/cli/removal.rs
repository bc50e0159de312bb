//! Roles and removal with the real binary: three boats A, B, C on loopback, each peered with
//! the others. `member`, `node` and `roles` list and act; A removes boat B; A's next post
//! reaches C and is neither shown by B nor found in B's data directory; what B writes
//! afterwards never appears on C.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::{Serve, flotilla, hex_id, wait_until};

const PASSWORD: &str = "a long passphrase";

fn create_user(node: &Serve, name: &str, admin: bool) -> anyhow::Result<()> {
    let mut args = vec!["user", "create", "--username", name, "--password", PASSWORD];
    if admin {
        args.push("--admin");
    }
    node.ok(&args)?;
    Ok(())
}

fn json_list(out: &str) -> anyhow::Result<Vec<serde_json::Value>> {
    Ok(serde_json::from_str(out)?)
}

/// Is `needle` in any file under `dir`?
fn found_in_files(dir: &Path, needle: &[u8]) -> anyhow::Result<bool> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if found_in_files(&path, needle)? {
                return Ok(true);
            }
        } else if let Ok(bytes) = std::fs::read(&path)
            && bytes.windows(needle.len()).any(|w| w == needle)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

fn post(node: &Serve, user: &str, text: &str) -> anyhow::Result<()> {
    node.ok(&["post", "--as", user, "--channel", "town-square", text])?;
    Ok(())
}

#[test]
fn a_removed_boat_reads_nothing_new_and_writes_nothing_that_counts() -> anyhow::Result<()> {
    let started = Instant::now();
    let deadline = || Instant::now() + Duration::from_secs(30);
    let tmp = tempfile::tempdir()?;
    let (dir_a, dir_b, dir_c) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
    );
    let a = Serve::start(&dir_a, &["--name", "Ondine"])?;
    let c = Serve::start(&dir_c, &["--name", "Kerlouan", "--peer", &a.mesh])?;
    let b = Serve::start(
        &dir_b,
        &[
            "--name",
            "Pourquoi-Pas",
            "--peer",
            &a.mesh,
            "--peer",
            &c.mesh,
        ],
    )?;
    create_user(&a, "anne", true)?;
    create_user(&b, "bob", false)?;
    create_user(&c, "carl", true)?;
    create_user(&c, "skipper", false)?;
    let flotilla_id = hex_id(&a.ok(&["flotilla", "create", "Rallye"])?, 32)?;
    create_user(&a, "skipper", false)?;
    let invite = a.ok(&["invite", "create", "--uses", "2", "--expires", "1h"])?;
    let code = invite.lines().last().context("no code")?;
    assert_eq!(b.ok(&["flotilla", "join", code])?.trim(), flotilla_id);
    assert_eq!(c.ok(&["flotilla", "join", code])?.trim(), flotilla_id);

    // Everyone, on every boat, with `name@boat` where two boats have the name.
    wait_until(deadline(), "five users on A", || {
        Ok(json_list(&a.ok(&["member", "list", "--json"])?)?.len() == 5)
    })?;
    let members = json_list(&a.ok(&["member", "list", "--json"])?)?;
    let displays: Vec<&str> = members
        .iter()
        .filter_map(|m| m["display"].as_str())
        .collect();
    for want in ["anne", "bob", "carl", "skipper@Ondine", "skipper@Kerlouan"] {
        assert!(displays.contains(&want), "{want} in {displays:?}");
    }
    let anne = members
        .iter()
        .find(|m| m["username"] == "anne")
        .context("anne")?;
    assert_eq!(anne["admin"], true);
    assert_eq!(anne["home_boat"], "Ondine");
    assert_eq!(anne["fingerprint"].as_str().map(str::len), Some(35));
    assert!(a.ok(&["member", "list"])?.contains("skipper@Kerlouan"));

    // Roles and a refused ambiguous name.
    let err = a.fails(&["member", "remove", "skipper"])?;
    assert!(
        err.contains("skipper@Ondine") && err.contains("skipper@Kerlouan"),
        "{err}"
    );
    let out = a.ok(&["member", "remove", "skipper@Kerlouan"])?;
    assert!(out.contains("removed"), "{out}");
    let out = a.ok(&["roles", "admin", "bob"])?;
    assert!(out.contains("bob is a flotilla admin"), "{out}");
    let out = a.ok(&["roles", "member", "bob", "--flotilla", "Rallye"])?;
    assert!(out.contains("bob is a flotilla member"), "{out}");
    let err = a.fails(&["roles", "member", "nobody"])?;
    assert!(err.contains("nobody"), "{err}");
    let out = a.ok(&["roles", "system_admin", "skipper"])?;
    assert!(out.contains("skipper is a node admin"), "{out}");
    let err = a.fails(&["roles", "system_admin", "carl"])?;
    assert!(err.contains("carl"), "not a local account of A: {err}");

    post(&a, "anne", "before the removal")?;
    wait_until(deadline(), "A's first post on B", || {
        Ok(b.count("town-square", "before the removal")? == 1)
    })?;

    // The boats, then B's removal.
    let nodes = json_list(&a.ok(&["node", "list", "--json"])?)?;
    assert_eq!(nodes.len(), 3, "{nodes:?}");
    let b_node = nodes
        .iter()
        .find(|n| n["name"] == "Pourquoi-Pas")
        .context("B listed")?;
    assert_eq!(b_node["id"].as_str().map(str::len), Some(64));
    assert_eq!(b_node["connected"], true);
    let err = a.fails(&["node", "remove", "Nope"])?;
    assert!(err.contains("Nope"), "{err}");
    let err = a.fails(&["node", "remove", "Ondine"])?;
    assert!(err.contains("itself"), "{err}");
    let out = a.ok(&["node", "remove", "Pourquoi-Pas"])?;
    assert!(
        out.contains("Pourquoi-Pas") && out.contains("removed"),
        "{out}"
    );
    wait_until(deadline(), "B's removal on C", || {
        let nodes = json_list(&c.ok(&["node", "list", "--json"])?)?;
        Ok(nodes.len() == 2 && nodes.iter().all(|n| n["name"] != "Pourquoi-Pas"))
    })?;

    let secret = "after B left: meet at the north buoy";
    post(&a, "anne", secret)?;
    wait_until(deadline(), "A's post on C", || {
        Ok(c.count("town-square", secret)? == 1)
    })?;
    // What B writes now (refused locally if B learned its removal) never reaches C.
    let _ = flotilla(
        &dir_b,
        &[
            "post",
            "--as",
            "bob",
            "--channel",
            "town-square",
            "from removed B",
        ],
    )?;
    post(&a, "anne", "marker after B wrote")?;
    wait_until(deadline(), "A's marker on C", || {
        Ok(c.count("town-square", "marker after B wrote")? == 1)
    })?;
    assert_eq!(c.count("town-square", "from removed B")?, 0);
    assert_eq!(a.count("town-square", "from removed B")?, 0);
    let shown_on_b = b.count("town-square", secret).unwrap_or(0);
    assert_eq!(shown_on_b, 0, "B shows a post written after its removal");
    b.stop()?;
    assert!(
        !found_in_files(&dir_b, secret.as_bytes())?,
        "the post written after B's removal is in B's data directory"
    );
    eprintln!("removal acceptance took {:?}", started.elapsed());
    Ok(())
}

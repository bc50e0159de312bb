//! mmctl-style channel administration through the binary: `channel rename` (with a display
//! name) and `channel modify --private|--public` on boat A, the rename seen on boat B;
//! `user password`, `invite regenerate`, `post delete`, `post move`, `flotilla rename` (seen on B); bad arguments refused with a message naming them.

use std::time::{Duration, Instant};

use anyhow::Context;

use super::{Serve, wait_until};

const PASSWORD: &str = "a long passphrase";

fn channels(node: &Serve) -> anyhow::Result<Vec<serde_json::Value>> {
    Ok(serde_json::from_str(
        &node.ok(&["channel", "list", "--json"])?,
    )?)
}

#[test]
fn channel_rename_and_modify_through_the_binary() -> anyhow::Result<()> {
    let deadline = || Instant::now() + Duration::from_secs(30);
    let tmp = tempfile::tempdir()?;
    let a = Serve::start(&tmp.path().join("a"), &["--name", "Ondine"])?;
    let b = Serve::start(
        &tmp.path().join("b"),
        &["--name", "Kerlouan", "--peer", &a.mesh],
    )?;
    let admin = [
        "user",
        "create",
        "--username",
        "anne",
        "--password",
        PASSWORD,
        "--admin",
    ];
    a.ok(&admin)?;
    b.ok(&[
        "user",
        "create",
        "--username",
        "bob",
        "--password",
        PASSWORD,
        "--admin",
    ])?;
    a.ok(&["flotilla", "create", "Rallye"])?;
    let invite = a.ok(&["invite", "create", "--uses", "1"])?;
    b.ok(&[
        "flotilla",
        "join",
        invite.lines().last().context("no code")?,
    ])?;
    a.ok(&["channel", "create", "galley"])?;

    let out = a.ok(&[
        "channel",
        "rename",
        "galley",
        "cuisine",
        "--display-name",
        "La Cuisine",
    ])?;
    assert!(out.contains("cuisine"), "{out}");
    let list = channels(&a)?;
    let c = list
        .iter()
        .find(|c| c["name"] == "cuisine")
        .context("renamed")?;
    assert!(!list.iter().any(|c| c["name"] == "galley"), "{list:?}");
    assert_eq!(c["private"], false);
    wait_until(deadline(), "the rename on B", || {
        Ok(channels(&b)?.iter().any(|c| c["name"] == "cuisine"))
    })?;

    let out = a.ok(&["channel", "modify", "cuisine", "--private"])?;
    assert!(out.contains("private"), "{out}");
    a.ok(&[
        "post",
        "--as",
        "anne",
        "--channel",
        "cuisine",
        "recette secrète",
    ])?;
    let out = a.ok(&["channel", "modify", "cuisine", "--public"])?;
    assert!(out.contains("public"), "{out}");

    // user password: set, then refused for an unknown account or a short password.
    let out = a.ok(&["user", "password", "anne", "another long passphrase"])?;
    assert!(out.contains("anne"), "{out}");
    let err = a.fails(&["user", "password", "personne", "another long passphrase"])?;
    assert!(err.contains("personne"), "{err}");
    let err = a.fails(&["user", "password", "anne", "court"])?;
    assert!(err.contains("password"), "{err}");

    // invite regenerate: the one open invite (B's was used up) is revoked, a new code given.
    a.ok(&["invite", "create", "--expires", "1h"])?;
    let out = a.ok(&["invite", "regenerate"])?;
    assert!(out.contains("1 open invite(s) revoked"), "{out}");
    assert!(
        out.lines().last().is_some_and(|l| l.starts_with("fl2")),
        "{out}"
    );
    let out = a.ok(&["invite", "regenerate"])?;
    assert!(out.contains("1 open invite(s) revoked"), "{out}");
    let err = a.fails(&["invite", "regenerate", "--flotilla", "Nulle"])?;
    assert!(err.contains("Nulle"), "{err}");

    // post delete: gone from the channel; a bad id is named.
    let id = a.ok(&[
        "post",
        "--as",
        "anne",
        "--channel",
        "town-square",
        "à effacer",
    ])?;
    let id = id.trim();
    assert!(
        a.ok(&["messages", "--channel", "town-square"])?
            .contains("à effacer")
    );
    let out = a.ok(&["post", "delete", id])?;
    assert!(out.contains("deleted"), "{out}");
    assert!(
        !a.ok(&["messages", "--channel", "town-square"])?
            .contains("à effacer")
    );
    let err = a.fails(&["post", "delete", "pas-un-id"])?;
    assert!(err.contains("post id"), "{err}");

    // post move: the thread goes to off-topic under its author; a bad channel is named.
    let id = a.ok(&[
        "post",
        "--as",
        "anne",
        "--channel",
        "town-square",
        "à déplacer",
    ])?;
    let err = a.fails(&["post", "move", id.trim(), "nulle-part"])?;
    assert!(err.contains("nulle-part"), "{err}");
    let out = a.ok(&["post", "move", id.trim(), "off-topic"])?;
    assert!(out.contains("thread moved to ~off-topic"), "{out}");
    let moved = a.ok(&["messages", "--channel", "off-topic"])?;
    assert!(
        moved.contains("à déplacer") && moved.contains("anne"),
        "{moved}"
    );

    // flotilla rename, seen on B.
    let out = a.ok(&["flotilla", "rename", "Rallye d'automne"])?;
    assert!(out.contains("Rallye d'automne"), "{out}");
    wait_until(deadline(), "the new flotilla name on B", || {
        Ok(b.ok(&["flotilla", "list"])?.contains("Rallye d'automne"))
    })?;
    let err = a.fails(&["flotilla", "rename", " "])?;
    assert!(err.contains("flotilla name"), "{err}");

    // Bad arguments: non-zero exit and a message naming what was wrong.
    let err = a.fails(&["channel", "rename", "nulle-part", "x"])?;
    assert!(err.contains("nulle-part"), "{err}");
    let err = a.fails(&["channel", "rename", "cuisine", "Pas Bon!"])?;
    assert!(err.contains("channel name"), "{err}");
    let err = a.fails(&["channel", "rename", "cuisine", "town-square"])?;
    assert!(err.contains("town-square"), "{err}");
    let err = a.fails(&["channel", "modify", "town-square", "--private"])?;
    assert!(err.contains("default"), "{err}");
    let err = a.fails(&["channel", "modify", "cuisine"])?;
    assert!(
        err.contains("--public") || err.contains("--private"),
        "{err}"
    );
    let err = a.fails(&["channel", "modify", "cuisine", "--public", "--private"])?;
    assert!(
        err.contains("--private") || err.contains("--public"),
        "{err}"
    );
    Ok(())
}

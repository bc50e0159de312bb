//! `flotilla import bulk` and `flotilla export bulk` through the real binary, with a
//! Mattermost bulk export written by hand from Mattermost's documented format
//! (`tests/fixtures/mattermost/`, not produced by our exporter): validated, imported, imported
//! again (nothing added), synced to a second boat, refused when malformed, exported and
//! re-imported into a fresh node.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::Value;

use crate::cli::{Serve, hex_id, wait_until};

const CLUB: &str = "Club de Voile";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mattermost")
}

/// Copies the fixture (so the passwords file is written in a temp dir).
fn copy_fixture(to: &Path) -> anyhow::Result<PathBuf> {
    let dir = to.join("export");
    let attach = dir.join("data/20240612/attachments");
    std::fs::create_dir_all(&attach)?;
    std::fs::copy(fixture().join("import.jsonl"), dir.join("import.jsonl"))?;
    std::fs::copy(
        fixture().join("data/20240612/attachments/meteo.txt"),
        attach.join("meteo.txt"),
    )?;
    Ok(dir)
}

fn messages(node: &Serve, flotilla: &str, channel: &str) -> anyhow::Result<Vec<Value>> {
    let out = node.ok(&[
        "messages",
        "--flotilla",
        flotilla,
        "--channel",
        channel,
        "--limit",
        "1000",
        "--json",
    ])?;
    Ok(serde_json::from_str(&out)?)
}

/// `(author, text, created_at, root text)` of every message of a channel.
fn shape(node: &Serve, flotilla: &str, channel: &str) -> anyhow::Result<Vec<[String; 4]>> {
    let list = messages(node, flotilla, channel)?;
    let text_of = |id: &Value| {
        list.iter()
            .find(|m| m["id"] == *id)
            .map(|m| m["text"].as_str().unwrap_or_default().to_owned())
            .unwrap_or_default()
    };
    Ok(list
        .iter()
        .map(|m| {
            [
                m["author"].as_str().unwrap_or_default().to_owned(),
                m["text"].as_str().unwrap_or_default().to_owned(),
                m["created_at"].as_str().unwrap_or_default().to_owned(),
                text_of(&m["root_id"]),
            ]
        })
        .collect())
}

fn admin(node: &Serve) -> anyhow::Result<()> {
    node.ok(&[
        "user",
        "create",
        "--username",
        "capitaine",
        "--password",
        "a long passphrase",
        "--admin",
    ])?;
    Ok(())
}

#[test]
fn a_mattermost_export_is_validated_imported_once_synced_and_exported() -> anyhow::Result<()> {
    let t0 = Instant::now();
    let tmp = tempfile::tempdir()?;
    let export = copy_fixture(tmp.path())?;
    let export_s = export.to_str().context("path")?;
    let a = Serve::start(&tmp.path().join("a"), &["--name", "Ondine"])?;
    admin(&a)?;
    eprintln!("started {:?}", t0.elapsed());

    // Malformed files: every problem with its line, and nothing imported.
    let bad = tmp.path().join("bad.jsonl");
    let good = std::fs::read_to_string(export.join("import.jsonl"))?;
    let mut lines: Vec<&str> = good.lines().collect();
    lines.insert(4, r#"{"type":"post","post":{"team":"club-voile","channel":"meteo","user":"anne","message":"trop tôt","create_at":1}}"#);
    lines.insert(
        3,
        r#"{"type":"channel","channel":{"team":"inconnue","name":"x"}}"#,
    );
    lines.insert(2, r#"{"type":"team", "team": {"name": "#);
    std::fs::write(&bad, lines.join("\n"))?;
    let bad_s = bad.to_str().context("path")?;
    for args in [
        &["import", "bulk", bad_s, "--validate"][..],
        &["import", "bulk", bad_s],
    ] {
        let err = a.fails(args)?;
        for expected in [
            "line 3: malformed JSON",
            "line 5: unknown team `inconnue`",
            "line 7: post before its channel `club-voile/meteo`",
        ] {
            assert!(err.contains(expected), "{expected}: {err}");
        }
    }
    let no_version = tmp.path().join("no-version.jsonl");
    std::fs::write(&no_version, lines[1..].join("\n"))?;
    let err = a.fails(&["import", "bulk", no_version.to_str().context("path")?])?;
    assert!(err.contains("line 1: the first line must be"), "{err}");
    assert_eq!(a.ok(&["flotilla", "list"])?.trim(), "", "nothing imported");

    eprintln!("malformed {:?}", t0.elapsed());
    // Validate, then import.
    let valid = a.ok(&["import", "bulk", export_s, "--validate"])?;
    assert!(
        valid.contains("valid: 2 team(s), 6 channel(s), 4 user(s), 12 post(s)"),
        "{valid}"
    );
    assert_eq!(
        a.ok(&["flotilla", "list"])?.trim(),
        "",
        "--validate imports nothing"
    );
    let first = a.ok(&["import", "bulk", export_s])?;
    assert!(first.contains("4 account(s) created"), "{first}");
    assert!(
        first.contains("12 post(s) and replies (0 already there)"),
        "{first}"
    );
    assert!(
        first.contains("4 reaction(s), 1 pin(s), 1 file(s), 1 channel(s) archived"),
        "{first}"
    );
    let passwords = PathBuf::from(format!("{}/import.jsonl.passwords", export_s));
    let mode = std::fs::metadata(&passwords)?.permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the passwords file is private");
    assert_eq!(std::fs::read_to_string(&passwords)?.lines().count(), 4);

    eprintln!("imported {:?}", t0.elapsed());
    let town = shape(&a, CLUB, "town-square")?;
    let at = |s: &str| s.to_owned();
    assert_eq!(
        town,
        [
            [
                at("anne"),
                at("Bonjour à tous ! Départ samedi à 9 h, rendez-vous au ponton ⛵"),
                at("2024-06-12T09:00:00.000Z"),
                at("")
            ],
            [
                at("bruno"),
                at("J'apporte les gilets 🦺"),
                at("2024-06-12T09:05:00.000Z"),
                at("Bonjour à tous ! Départ samedi à 9 h, rendez-vous au ponton ⛵")
            ],
            [
                at("chloe"),
                at("Présente, avec l'équipage de « Ondine »"),
                at("2024-06-12T09:10:00.000Z"),
                at("Bonjour à tous ! Départ samedi à 9 h, rendez-vous au ponton ⛵")
            ],
            [
                at("denis.marin"),
                at("Qui a vu mon ciré jaune ? 🙂"),
                at("2024-06-12T11:00:00.000Z"),
                at("")
            ],
        ],
        "original authors, times and threads"
    );
    let bureau = shape(&a, CLUB, "bureau")?;
    assert_eq!(bureau.len(), 2, "private channel: {bureau:?}");
    assert_eq!(bureau[1][3], bureau[0][1], "reply in the private channel");
    assert_eq!(shape(&a, "Régate d'été", "town-square")?.len(), 1);

    // A second import adds nothing.
    let second = a.ok(&["import", "bulk", export_s])?;
    assert!(second.contains("0 user(s), 0 channel(s), 0 post(s) and replies (12 already there), 0 reaction(s), 0 pin(s)"), "{second}");
    assert_eq!(shape(&a, CLUB, "town-square")?, town);
    assert_eq!(std::fs::read_to_string(&passwords)?.lines().count(), 4);

    eprintln!("second {:?}", t0.elapsed());
    // Another boat receives the history.
    let b = Serve::start(
        &tmp.path().join("b"),
        &["--name", "Kerlouan", "--peer", &a.mesh],
    )?;
    let invite = a.ok(&["invite", "create", "--flotilla", CLUB])?;
    let code = invite.lines().last().context("no code")?;
    let flotilla = hex_id(&b.ok(&["flotilla", "join", code])?, 32)?;
    let deadline = Instant::now() + Duration::from_secs(30);
    wait_until(deadline, "the imported history on the other boat", || {
        Ok(shape(&b, &flotilla, "town-square").unwrap_or_default() == town)
    })?;
    eprintln!("synced {:?}", t0.elapsed());

    // Export, re-import into a fresh node, export again: the same file.
    let out1 = tmp.path().join("out1/import.jsonl");
    let out2 = tmp.path().join("out2/import.jsonl");
    std::fs::create_dir_all(tmp.path().join("out1"))?;
    std::fs::create_dir_all(tmp.path().join("out2"))?;
    let out1_s = out1.to_str().context("path")?;
    let exported = a.ok(&[
        "export",
        "bulk",
        out1_s,
        "--flotilla",
        CLUB,
        "--attachments",
    ])?;
    assert!(
        exported.contains("7 channel(s), 5 user(s), 11 post(s) and replies, 1 file(s)"),
        "{exported}"
    );
    let text1 = std::fs::read_to_string(&out1)?;
    for expected in [
        r#""is_pinned":true"#,
        r#""emoji_name":"sailboat""#,
        r#""deleted_at":"#,
        r#""type":"P""#,
        r#""channel_members":["anne","bruno","chloe"]"#,
        "Bienvenue à bord",
        "⛵",
    ] {
        assert!(text1.contains(expected), "{expected} in {text1}");
    }
    let c = Serve::start(&tmp.path().join("c"), &["--name", "Houat"])?;
    admin(&c)?;
    let dir1 = tmp.path().join("out1");
    c.ok(&["import", "bulk", dir1.to_str().context("path")?])?;
    for channel in ["town-square", "bureau", "meteo", "saison-2023", "off-topic"] {
        assert_eq!(
            shape(&c, CLUB, channel)?,
            shape(&a, CLUB, channel)?,
            "{channel} after the round trip"
        );
    }
    c.ok(&[
        "export",
        "bulk",
        out2.to_str().context("path")?,
        "--attachments",
    ])?;
    let text2 = std::fs::read_to_string(&out2)?;
    let without_info = |t: &str| t.lines().skip(1).map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(
        without_info(&text2),
        without_info(&text1),
        "a stable round trip"
    );
    eprintln!("round trip {:?}", t0.elapsed());

    // mmctl-style administration: user list, channel archive / unarchive.
    let users: Vec<Value> = serde_json::from_str(&c.ok(&["user", "list", "--json"])?)?;
    let names: Vec<&str> = users
        .iter()
        .filter_map(|u| u["username"].as_str())
        .collect();
    assert_eq!(names.len(), 5, "{names:?}");
    for name in ["capitaine", "anne", "bruno", "chloe", "denis.marin"] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let archived_meteo = |node: &Serve| -> anyhow::Result<bool> {
        let out = tmp.path().join("out2/check.jsonl");
        node.ok(&["export", "bulk", out.to_str().context("path")?])?;
        let text = std::fs::read_to_string(&out)?;
        let line = text
            .lines()
            .find(|l| l.contains(r#""name":"meteo""#) && l.contains(r#""type":"channel""#))
            .context("meteo")?
            .to_owned();
        Ok(line.contains("deleted_at"))
    };
    assert!(!archived_meteo(&c)?);
    assert!(c.ok(&["channel", "archive", "meteo"])?.contains("archived"));
    assert!(archived_meteo(&c)?);
    assert!(
        c.ok(&["channel", "unarchive", "meteo"])?
            .contains("unarchived")
    );
    assert!(!archived_meteo(&c)?);
    let err = c.fails(&["channel", "archive", "nulle-part"])?;
    assert!(err.contains("nulle-part"), "{err}");
    Ok(())
}

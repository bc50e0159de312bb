//! Our Meshtastic stream-API frames against the Meshtastic project's own Python package
//! (`meshtastic` on PyPI, in the venv `need_meshtastic_py` of scripts/test.sh makes): it
//! decodes the `ToRadio` frames we write, and frames `FromRadio`/`ToRadio` that we decode.
//! Without that Python the test prints SKIPPED and passes.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::Context;
use flotilla_node::lora::meshtastic;

/// The venv's python: `$FLOTILLA_PYTHON`, else `~/.cache/flotilla/venv/bin/python`.
pub(crate) fn python() -> Option<PathBuf> {
    let p = std::env::var_os("FLOTILLA_PYTHON")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".cache/flotilla/venv/bin/python"))
        })?;
    p.exists().then_some(p)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> anyhow::Result<Vec<u8>> {
    (0..s.len())
        .step_by(2)
        .map(|i| Ok(u8::from_str_radix(s.get(i..i + 2).context("odd hex")?, 16)?))
        .collect()
}

#[test]
fn meshtastic_frames_match_the_meshtastic_python_package() -> anyhow::Result<()> {
    let Some(py) = python() else {
        println!(
            "SKIPPED: no python with the meshtastic package (scripts/test.sh need_meshtastic_py)"
        );
        return Ok(());
    };
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/lora/meshtastic_interop.py");
    // A frame of ours, with bytes that look like stream headers inside.
    let payload: Vec<u8> = [1u8, 0x94, 0xC3, 0, 5]
        .iter()
        .copied()
        .chain(0..=200)
        .collect();
    let request = serde_json::json!({
        "hello": hex(&meshtastic::hello(99)),
        "packet": hex(&meshtastic::to_radio(&payload, 0xDEAD_BEEF, 3)),
        "heartbeat": hex(&meshtastic::heartbeat()),
        "payload": hex(&payload),
        "config_id": 99,
        "id": 0xDEAD_BEEFu32,
    });
    let mut child = Command::new(&py)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .context("stdin")?
        .write_all(request.to_string().as_bytes())?;
    let out = child.wait_with_output()?;
    anyhow::ensure!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout)?;

    let mut d = meshtastic::Decoder::default();
    let protos = d.feed(&unhex(
        answer["from_radio"].as_str().context("from_radio")?,
    )?);
    anyhow::ensure!(protos.len() == 1, "{} frames", protos.len());
    let p = meshtastic::parse_from_radio(&protos[0]).context("no packet in their FromRadio")?;
    assert_eq!(
        (u64::from(p.from), u64::from(p.id)),
        (
            answer["from"].as_u64().unwrap_or(0),
            answer["id"].as_u64().unwrap_or(0)
        )
    );
    assert_eq!(p.payload, payload);
    let protos = d.feed(&unhex(answer["to_radio"].as_str().context("to_radio")?)?);
    let p = protos
        .first()
        .and_then(|b| meshtastic::parse_to_radio(b))
        .context("no packet in their ToRadio")?;
    assert_eq!((p.id, p.payload), (4321, payload));
    Ok(())
}

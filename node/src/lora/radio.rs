//! One task per radio: open the transport (a serial device in raw mode, or TCP), say hello
//! (RNode setup, or Meshtastic's `want_config_id`), then move frames both ways, reconnecting
//! with backoff when the device goes away.
//!
//! A serial device is read and written by two blocking threads (a pseudo-terminal or a USB
//! serial port has no readiness events that tokio's file API uses); a TCP socket by tokio.

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use super::spec::{Spec, Transport};
use super::{Input, LoraConfig, RADIO_CAP, kiss, meshtastic};

/// Byte chunks between a transport and its radio task.
const LINK_CAP: usize = 64;
/// First wait before reconnecting; doubles up to [`RECONNECT_MAX`].
const RECONNECT_MIN: Duration = Duration::from_millis(500);
/// Longest wait before reconnecting.
const RECONNECT_MAX: Duration = Duration::from_secs(30);
/// Meshtastic heartbeat period (keeps TCP sessions open).
const HEARTBEAT: Duration = Duration::from_secs(300);

/// Starts the task of radio `index`; returns where to send the frames to transmit.
pub(crate) fn spawn(
    index: usize,
    spec: Spec,
    cfg: LoraConfig,
    input: mpsc::Sender<Input>,
) -> mpsc::Sender<Vec<u8>> {
    let (tx, rx) = mpsc::channel(RADIO_CAP);
    tokio::spawn(run(index, spec, cfg, input, rx));
    tx
}

async fn run(
    index: usize,
    spec: Spec,
    cfg: LoraConfig,
    input: mpsc::Sender<Input>,
    mut frames: mpsc::Receiver<Vec<u8>>,
) {
    let mut backoff = RECONNECT_MIN;
    loop {
        let transport = match &spec {
            Spec::Kiss(t) | Spec::Meshtastic(t) => t,
        };
        match open(transport).await {
            Ok((link_rx, link_tx)) => {
                tracing::info!(radio = index, %spec, "radio connected");
                backoff = RECONNECT_MIN;
                if !serve(index, &spec, &cfg, &input, &mut frames, link_rx, link_tx).await {
                    return; // the node stopped
                }
                tracing::warn!(radio = index, %spec, "radio link closed");
            }
            Err(e) => tracing::warn!(radio = index, %spec, "cannot open radio: {e}"),
        }
        if input.is_closed() {
            return;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(RECONNECT_MAX);
    }
}

/// The framing of one radio kind.
enum Framing {
    Kiss(kiss::Decoder),
    Meshtastic(meshtastic::Decoder),
}

/// Moves frames until the link closes (`true`) or the node stops (`false`).
async fn serve(
    index: usize,
    spec: &Spec,
    cfg: &LoraConfig,
    input: &mpsc::Sender<Input>,
    frames: &mut mpsc::Receiver<Vec<u8>>,
    mut link_rx: mpsc::Receiver<Vec<u8>>,
    link_tx: mpsc::Sender<Vec<u8>>,
) -> bool {
    let (mut framing, hello) = match spec {
        Spec::Kiss(_) => {
            let p = cfg.params;
            let hello = if cfg.rnode {
                kiss::rnode_setup(cfg.frequency_hz, p.bw_hz, cfg.tx_power_dbm, p.sf, p.cr)
            } else {
                Vec::new()
            };
            (Framing::Kiss(kiss::Decoder::default()), hello)
        }
        Spec::Meshtastic(_) => (
            Framing::Meshtastic(meshtastic::Decoder::default()),
            meshtastic::hello(rand_u32()),
        ),
    };
    if !hello.is_empty() && link_tx.send(hello).await.is_err() {
        return true;
    }
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.tick().await;
    loop {
        tokio::select! {
            bytes = link_rx.recv() => {
                let Some(bytes) = bytes else { return true };
                let heard: Vec<Vec<u8>> = match &mut framing {
                    Framing::Kiss(d) => kiss::data_frames(d.feed(&bytes)).collect(),
                    Framing::Meshtastic(d) => d
                        .feed(&bytes)
                        .iter()
                        .filter_map(|p| meshtastic::parse_from_radio(p))
                        .map(|p| p.payload)
                        .collect(),
                };
                for frame in heard {
                    if input.send(Input::Frame { radio: index, frame }).await.is_err() {
                        return false;
                    }
                }
            }
            frame = frames.recv() => {
                let Some(frame) = frame else { return false };
                let bytes = match framing {
                    Framing::Kiss(_) => kiss::data(&frame),
                    Framing::Meshtastic(_) => meshtastic::to_radio(&frame, rand_u32(), 3),
                };
                if link_tx.send(bytes).await.is_err() {
                    return true;
                }
            }
            _ = heartbeat.tick(), if matches!(framing, Framing::Meshtastic(_)) => {
                if link_tx.send(meshtastic::heartbeat()).await.is_err() {
                    return true;
                }
            }
        }
    }
}

fn rand_u32() -> u32 {
    let mut b = [0u8; 4];
    let _ = getrandom::fill(&mut b); // a packet id: any value will do if this ever fails
    u32::from_le_bytes(b)
}

type Link = (mpsc::Receiver<Vec<u8>>, mpsc::Sender<Vec<u8>>);

async fn open(t: &Transport) -> std::io::Result<Link> {
    match t {
        Transport::Serial(path) => open_serial(path),
        Transport::Tcp(addr) => open_tcp(addr).await,
    }
}

/// Puts a terminal in raw mode at 115 200 baud (RNode and Meshtastic's serial speed);
/// does nothing to what is not a terminal.
pub(crate) fn make_raw(file: &std::fs::File) {
    use rustix::termios;
    if let Ok(mut t) = termios::tcgetattr(file) {
        t.make_raw();
        let _ = t.set_speed(115_200);
        let _ = termios::tcsetattr(file, termios::OptionalActions::Now, &t);
    }
}

fn open_serial(path: &Path) -> std::io::Result<Link> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(rustix::fs::OFlags::NOCTTY.bits() as i32)
        .open(path)?;
    make_raw(&file);
    let mut reader = file.try_clone()?;
    let mut writer = file;
    let (in_tx, in_rx) = mpsc::channel(LINK_CAP);
    let (out_tx, mut out_rx) = mpsc::channel::<Vec<u8>>(LINK_CAP);
    std::thread::Builder::new()
        .name("lora-read".into())
        .spawn(move || {
            let mut buf = [0u8; 512];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if in_tx.blocking_send(buf[..n].to_vec()).is_err() {
                            return;
                        }
                    }
                }
            }
        })?;
    std::thread::Builder::new()
        .name("lora-write".into())
        .spawn(move || {
            while let Some(bytes) = out_rx.blocking_recv() {
                if writer
                    .write_all(&bytes)
                    .and_then(|()| writer.flush())
                    .is_err()
                {
                    return;
                }
            }
        })?;
    Ok((in_rx, out_tx))
}

async fn open_tcp(addr: &str) -> std::io::Result<Link> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (mut r, mut w) = stream.into_split();
    let (in_tx, in_rx) = mpsc::channel(LINK_CAP);
    let (out_tx, mut out_rx) = mpsc::channel::<Vec<u8>>(LINK_CAP);
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        loop {
            match r.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if in_tx.send(buf[..n].to_vec()).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    tokio::spawn(async move {
        while let Some(bytes) = out_rx.recv().await {
            if w.write_all(&bytes).await.is_err() {
                return;
            }
        }
    });
    Ok((in_rx, out_tx))
}

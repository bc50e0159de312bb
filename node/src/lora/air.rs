//! `flotilla lora-air`: a simulated LoRa channel for tests and demos, shipped with the binary.
//!
//! It creates `DIR/radio0` … `DIR/radio{N-1}`, links to pseudo-terminals that behave as KISS
//! modems sharing one medium. A data frame written to a radio goes on air after carrier
//! sense (the modem waits for a clear channel, then a random backoff, as RNode does), lasts
//! the Semtech airtime of its size at the chosen SF/BW/CR, and reaches every radio in range
//! at its end unless: the receiver was transmitting (half duplex), another transmission it
//! hears overlapped (collision), or the random loss hit. Each radio has a duty-cycle budget
//! over a sliding hour: a frame over budget is dropped, as a regulated modem would.
//!
//! `--range FILE` names a file of pairs `a b` (one per line) that hear each other; only those
//! do. The file is read again while running, so a test can move a boat out of range and back.
//! Per-radio counters are printed on SIGUSR1 and at the end (SIGINT/SIGTERM).
//!
//! The air itself (carrier sense, airtime, half duplex, collisions, loss, duty cycle) is
//! [`proto::lora::medium`], the model the seeded simulator runs too; this file is its IO
//! shell: the pseudo-terminals, the KISS framing, the wall clock and the range file.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use flotilla_protocol as proto;
use proto::entropy::SeededEntropy;
use proto::lora::RadioParams;
use proto::lora::budget::DutyBudget;
use proto::lora::medium::{AirEvent, MODEM_QUEUE, Medium, MediumConfig, MediumStats};

use super::kiss;

/// How often the range file is read again, at most.
const RANGE_REFRESH: Duration = Duration::from_millis(200);

/// `flotilla lora-air` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct AirArgs {
    /// Where to create the radios (`DIR/radio0` …).
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// How many radios.
    #[arg(long, value_name = "N")]
    pub radios: usize,
    /// Spreading factor (7–12).
    #[arg(long, default_value_t = 9)]
    pub sf: u8,
    /// Bandwidth in kHz.
    #[arg(long, default_value_t = 125)]
    pub bw: u32,
    /// Coding rate denominator (5 for 4/5 … 8 for 4/8).
    #[arg(long, default_value_t = 5)]
    pub cr: u8,
    /// Probability that a receiver misses a frame.
    #[arg(long, default_value_t = 0.0)]
    pub loss: f64,
    /// Duty cycle per radio (0.01 = 1 %).
    #[arg(long, default_value_t = 0.01)]
    pub duty: f64,
    /// A file of `a b` pairs that hear each other (default: all hear all).
    #[arg(long, value_name = "FILE")]
    pub range: Option<PathBuf>,
    /// Seed of the loss and backoff draws (default: random).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print every frame.
    #[arg(long)]
    pub verbose: bool,
}

fn print_stats(stats: &Mutex<Vec<MediumStats>>, limit_us: u64) {
    let stats = stats.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = std::io::stdout().lock();
    for (i, s) in stats.iter().enumerate() {
        let _ = writeln!(
            out,
            "radio{i} tx_frames={} tx_bytes={} airtime_ms={} rx_frames={} rx_bytes={} collisions={} lost={} duty_drops={} worst_hour_ms={} limit_hour_ms={}",
            s.tx_frames,
            s.tx_bytes,
            s.airtime_us / 1000,
            s.rx_frames,
            s.rx_bytes,
            s.collisions,
            s.lost,
            s.duty_drops,
            s.worst_hour_us / 1000,
            limit_us / 1000,
        );
    }
    let _ = out.flush();
}

/// Runs the air until SIGINT or SIGTERM.
///
/// # Errors
/// Bad arguments, or the pseudo-terminals cannot be made.
pub async fn run(args: AirArgs) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let params = RadioParams {
        sf: args.sf,
        bw_hz: args.bw.saturating_mul(1000),
        cr: args.cr,
        ..RadioParams::default()
    };
    anyhow::ensure!(params.is_valid(), "--sf 7–12, --bw 7.8–500 kHz, --cr 5–8");
    anyhow::ensure!((1..=64).contains(&args.radios), "--radios 1–64");
    anyhow::ensure!((0.0..=1.0).contains(&args.loss), "--loss is a probability");
    anyhow::ensure!(args.duty > 0.0 && args.duty <= 1.0, "--duty in (0, 1]");
    std::fs::create_dir_all(&args.dir).with_context(|| format!("create {}", args.dir.display()))?;
    let (tx_req, rx_req) = mpsc::channel::<(usize, Vec<u8>)>();
    let mut writers = Vec::new();
    let mut keep = Vec::new();
    for i in 0..args.radios {
        let (master, slave) = open_pty(&args.dir.join(format!("radio{i}")))?;
        keep.push(slave);
        writers.push(spawn_modem(i, master, tx_req.clone())?);
    }
    drop(tx_req);
    let stats = Arc::new(Mutex::new(vec![MediumStats::default(); args.radios]));
    let seed = args.seed.unwrap_or_else(|| {
        let mut b = [0u8; 8];
        let _ = getrandom::fill(&mut b);
        u64::from_le_bytes(b)
    });
    let limit_us = DutyBudget::new(args.duty).limit_us();
    let air = Air::new(&args, params, writers, seed, stats.clone());
    std::thread::Builder::new()
        .name("lora-air".into())
        .spawn(move || air.run(rx_req))?;
    println!(
        "lora-air {} radios in {} (SF{} BW {} kHz CR 4/{}, loss {}, duty {}, seed {seed})",
        args.radios,
        args.dir.display(),
        args.sf,
        args.bw,
        args.cr,
        args.loss,
        args.duty
    );
    let _ = std::io::stdout().flush();
    let mut usr1 = signal(SignalKind::user_defined1())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    loop {
        tokio::select! {
            _ = usr1.recv() => print_stats(&stats, limit_us),
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    print_stats(&stats, limit_us);
    drop(keep);
    Ok(())
}

/// Creates a pseudo-terminal in raw mode, links `link` to its terminal side, and returns
/// its controller side and an open handle on the terminal side (so the controller never
/// sees a hang-up while no node has the radio open).
fn open_pty(link: &Path) -> anyhow::Result<(std::fs::File, std::fs::File)> {
    use rustix::pty;
    let master = pty::openpt(pty::OpenptFlags::RDWR | pty::OpenptFlags::NOCTTY)?;
    pty::grantpt(&master)?;
    pty::unlockpt(&master)?;
    let name = pty::ptsname(&master, Vec::new())?;
    let path = PathBuf::from(name.to_string_lossy().into_owned());
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)?;
    super::radio::make_raw(&slave);
    let _ = std::fs::remove_file(link);
    std::os::unix::fs::symlink(&path, link).with_context(|| format!("link {}", link.display()))?;
    Ok((std::fs::File::from(master), slave))
}

/// Starts radio `i`'s reader (KISS data frames → the medium) and writer threads.
fn spawn_modem(
    i: usize,
    master: std::fs::File,
    to_medium: mpsc::Sender<(usize, Vec<u8>)>,
) -> anyhow::Result<SyncSender<Vec<u8>>> {
    let mut reader = master.try_clone()?;
    let mut writer = master;
    std::thread::Builder::new()
        .name(format!("radio{i}-rx"))
        .spawn(move || {
            let mut d = kiss::Decoder::default();
            let mut buf = [0u8; 1024];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) => std::thread::sleep(Duration::from_millis(50)),
                    Ok(n) => {
                        for frame in kiss::data_frames(d.feed(&buf[..n])) {
                            if to_medium.send((i, frame)).is_err() {
                                return;
                            }
                        }
                    }
                    // No terminal side open (cannot happen while we hold one): wait.
                    Err(_) => std::thread::sleep(Duration::from_millis(50)),
                }
            }
        })?;
    let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(MODEM_QUEUE);
    std::thread::Builder::new()
        .name(format!("radio{i}-tx"))
        .spawn(move || {
            while let Ok(frame) = rx.recv() {
                if writer.write_all(&kiss::data(&frame)).is_err() {
                    return;
                }
            }
        })?;
    Ok(tx)
}

/// The shared channel's IO shell (runs on its own thread): frames from the modems' readers
/// go to the [`Medium`], at the wall-clock times it asks for; what it delivers goes to the
/// modems' writers.
struct Air {
    epoch: Instant,
    verbose: bool,
    range_file: Option<PathBuf>,
    range_read: Option<Instant>,
    medium: Medium<SeededEntropy>,
    to_nodes: Vec<SyncSender<Vec<u8>>>,
    stats: Arc<Mutex<Vec<MediumStats>>>,
}

impl Air {
    fn new(
        args: &AirArgs,
        params: RadioParams,
        to_nodes: Vec<SyncSender<Vec<u8>>>,
        seed: u64,
        stats: Arc<Mutex<Vec<MediumStats>>>,
    ) -> Self {
        let cfg = MediumConfig {
            params,
            loss: args.loss,
            duty: Some(args.duty),
        };
        Air {
            epoch: Instant::now(),
            verbose: args.verbose,
            range_file: args.range.clone(),
            range_read: None,
            medium: Medium::new(to_nodes.len(), &cfg, SeededEntropy::new(seed)),
            to_nodes,
            stats,
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn run(mut self, requests: mpsc::Receiver<(usize, Vec<u8>)>) {
        loop {
            let now = self.now();
            let wake = self.medium.next_wake(now);
            match requests.recv_timeout(Duration::from_millis(wake.saturating_sub(now))) {
                Ok((radio, frame)) => self.medium.submit(radio, frame),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            self.refresh_range();
            let now = self.now();
            let mut events = self.medium.land(now);
            events.extend(self.medium.transmit(now));
            for ev in events {
                match ev {
                    AirEvent::Heard { radio, frame } => {
                        // A node that does not read its radio loses frames, as a full modem would.
                        let _ = self.to_nodes[radio].try_send(frame);
                    }
                    AirEvent::Sent {
                        radio,
                        bytes,
                        airtime_us,
                        ..
                    } if self.verbose => {
                        eprintln!("radio{radio} tx {bytes} B, {} ms on air", airtime_us / 1000);
                    }
                    AirEvent::OverBudget { radio, bytes } if self.verbose => {
                        eprintln!("radio{radio} over its duty cycle: frame of {bytes} B dropped");
                    }
                    _ => {}
                }
            }
            *self.stats.lock().unwrap_or_else(|e| e.into_inner()) = self.medium.stats();
        }
    }

    fn refresh_range(&mut self) {
        let Some(file) = &self.range_file else {
            return;
        };
        if self.range_read.is_some_and(|t| t.elapsed() < RANGE_REFRESH) {
            return;
        }
        self.range_read = Some(Instant::now());
        let Ok(text) = std::fs::read_to_string(file) else {
            self.medium.set_hears(None);
            return;
        };
        let pairs: Vec<(usize, usize)> = text
            .lines()
            .map(|l| l.split('#').next().unwrap_or_default().trim())
            .filter(|l| !l.is_empty())
            .filter_map(|l| {
                let mut it = l.split_whitespace().map(str::parse::<usize>);
                Some((it.next()?.ok()?, it.next()?.ok()?))
            })
            .collect();
        self.medium.set_pairs(&pairs);
    }
}

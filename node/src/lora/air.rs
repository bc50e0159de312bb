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

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use flotilla_protocol as proto;
use proto::entropy::{Entropy, SeededEntropy};
use proto::lora::RadioParams;
use proto::lora::budget::DutyBudget;

use super::kiss;

/// Frames waiting for one radio's modem or its reader.
const MODEM_QUEUE: usize = 64;
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

/// One radio's counters.
#[derive(Debug, Clone, Default)]
pub struct AirStats {
    /// Frames sent.
    pub tx_frames: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Airtime sent, in µs.
    pub airtime_us: u64,
    /// Frames received.
    pub rx_frames: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Frames lost to collisions at this receiver.
    pub collisions: u64,
    /// Frames lost at random at this receiver.
    pub lost: u64,
    /// Frames dropped because this radio was over its duty cycle.
    pub duty_drops: u64,
    /// The most airtime spent in any sliding hour, in µs.
    pub worst_hour_us: u64,
}

fn print_stats(stats: &Mutex<Vec<AirStats>>, limit_us: u64) {
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
    let stats = Arc::new(Mutex::new(vec![AirStats::default(); args.radios]));
    let seed = args.seed.unwrap_or_else(|| {
        let mut b = [0u8; 8];
        let _ = getrandom::fill(&mut b);
        u64::from_le_bytes(b)
    });
    let limit_us = DutyBudget::new(args.duty).limit_us();
    let medium = Medium::new(&args, params, writers, seed, stats.clone());
    std::thread::Builder::new()
        .name("lora-air".into())
        .spawn(move || medium.run(rx_req))?;
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

#[derive(Debug, Clone)]
struct Transmission {
    from: usize,
    start: u64,
    end: u64,
    frame: Vec<u8>,
}

#[derive(Debug)]
struct Modem {
    to_node: SyncSender<Vec<u8>>,
    pending: VecDeque<Vec<u8>>,
    busy_until: u64,
    next_try: u64,
    budget: DutyBudget,
    sent: VecDeque<(u64, u64)>,
}

/// The shared channel (runs on its own thread).
struct Medium {
    epoch: Instant,
    params: RadioParams,
    loss: f64,
    verbose: bool,
    rng: SeededEntropy,
    range_file: Option<PathBuf>,
    range: Option<Vec<(usize, usize)>>,
    range_read: Option<Instant>,
    modems: Vec<Modem>,
    flying: Vec<Transmission>,
    done: Vec<Transmission>,
    stats: Arc<Mutex<Vec<AirStats>>>,
}

impl Medium {
    fn new(
        args: &AirArgs,
        params: RadioParams,
        writers: Vec<SyncSender<Vec<u8>>>,
        seed: u64,
        stats: Arc<Mutex<Vec<AirStats>>>,
    ) -> Self {
        Medium {
            epoch: Instant::now(),
            params,
            loss: args.loss,
            verbose: args.verbose,
            rng: SeededEntropy::new(seed),
            range_file: args.range.clone(),
            range: None,
            range_read: None,
            modems: writers
                .into_iter()
                .map(|to_node| Modem {
                    to_node,
                    pending: VecDeque::new(),
                    busy_until: 0,
                    next_try: 0,
                    budget: DutyBudget::new(args.duty),
                    sent: VecDeque::new(),
                })
                .collect(),
            flying: Vec::new(),
            done: Vec::new(),
            stats,
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn run(mut self, requests: mpsc::Receiver<(usize, Vec<u8>)>) {
        loop {
            let now = self.now();
            let mut wake = now + 1000;
            for t in &self.flying {
                wake = wake.min(t.end);
            }
            for m in self.modems.iter().filter(|m| !m.pending.is_empty()) {
                wake = wake.min(m.busy_until.max(m.next_try).max(now + 1));
            }
            match requests.recv_timeout(Duration::from_millis(wake.saturating_sub(now))) {
                Ok((radio, frame)) => {
                    let m = &mut self.modems[radio];
                    if m.pending.len() >= MODEM_QUEUE {
                        m.pending.pop_front();
                    }
                    m.pending.push_back(frame);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            self.refresh_range();
            self.land();
            for i in 0..self.modems.len() {
                self.carrier_sense(i);
            }
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
            self.range = None;
            return;
        };
        let pairs = text
            .lines()
            .map(|l| l.split('#').next().unwrap_or_default().trim())
            .filter(|l| !l.is_empty())
            .filter_map(|l| {
                let mut it = l.split_whitespace().map(str::parse::<usize>);
                Some((it.next()?.ok()?, it.next()?.ok()?))
            })
            .collect();
        self.range = Some(pairs);
    }

    fn hears(&self, from: usize, to: usize) -> bool {
        from != to
            && self.range.as_ref().is_none_or(|pairs| {
                pairs
                    .iter()
                    .any(|&(a, b)| (a, b) == (from, to) || (b, a) == (from, to))
            })
    }

    fn carrier_sense(&mut self, i: usize) {
        let now = self.now();
        let m = &self.modems[i];
        if m.pending.is_empty() || m.busy_until > now || m.next_try > now {
            return;
        }
        if self.flying.iter().any(|t| self.hears(t.from, i)) {
            let backoff = 10 + self.rng.next_u64() % 300;
            self.modems[i].next_try = now + backoff;
            return;
        }
        let m = &mut self.modems[i];
        let Some(frame) = m.pending.pop_front() else {
            return;
        };
        let airtime_us = self.params.airtime_us(frame.len());
        let mut stats = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        let s = &mut stats[i];
        if !m.budget.allows(now, airtime_us) {
            s.duty_drops += 1;
            if self.verbose {
                eprintln!(
                    "radio{i} over its duty cycle: frame of {} B dropped",
                    frame.len()
                );
            }
            return;
        }
        m.budget.record(now, airtime_us);
        m.sent.push_back((now, airtime_us));
        while m
            .sent
            .front()
            .is_some_and(|(t, a)| t + a.div_ceil(1000) + proto::lora::budget::WINDOW_MS <= now)
        {
            m.sent.pop_front();
        }
        s.worst_hour_us = s.worst_hour_us.max(m.sent.iter().map(|(_, a)| a).sum());
        s.tx_frames += 1;
        s.tx_bytes += frame.len() as u64;
        s.airtime_us += airtime_us;
        let end = now + airtime_us.div_ceil(1000);
        m.busy_until = end;
        if self.verbose {
            eprintln!(
                "radio{i} tx {} B, {} ms on air",
                frame.len(),
                airtime_us / 1000
            );
        }
        self.flying.push(Transmission {
            from: i,
            start: now,
            end,
            frame,
        });
    }

    fn land(&mut self) {
        let now = self.now();
        let (ended, flying): (Vec<_>, Vec<_>) = std::mem::take(&mut self.flying)
            .into_iter()
            .partition(|t| t.end <= now);
        self.flying = flying;
        self.done.retain(|t| t.end + 60_000 > now);
        self.done.extend(ended.iter().cloned());
        for tx in ended {
            for to in 0..self.modems.len() {
                if !self.hears(tx.from, to) {
                    continue;
                }
                let overlaps = |o: &Transmission| o.start < tx.end && tx.start < o.end;
                let all = || self.done.iter().chain(&self.flying);
                if all().any(|o| o.from == to && overlaps(o)) {
                    continue; // half duplex: it was sending
                }
                let collided = all().any(|o| {
                    o.from != tx.from && o.from != to && self.hears(o.from, to) && overlaps(o)
                });
                let roll = (self.rng.next_u64() % 1_000_000) as f64 / 1_000_000.0;
                let mut stats = self.stats.lock().unwrap_or_else(|e| e.into_inner());
                if collided {
                    stats[to].collisions += 1;
                } else if roll < self.loss {
                    stats[to].lost += 1;
                } else if self.modems[to].to_node.try_send(tx.frame.clone()).is_ok() {
                    stats[to].rx_frames += 1;
                    stats[to].rx_bytes += tx.frame.len() as u64;
                }
            }
        }
    }
}

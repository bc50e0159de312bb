//! [`NetnsLab`]: a private LAN of Linux network namespaces, for tests that need real multicast,
//! cut links or slow links (research/tech.md §8.2).
//!
//! ```text
//!   <p>n0 (eth0 10.77.X.1) ──veth── p0 ┐
//!   <p>n1 (eth0 10.77.X.2) ──veth── p1 ┼─ br0 in <p>b
//!   ...                                ┘
//! ```
//! `<p>` is `flt` and a random suffix, so labs of parallel tests never clash; `X` is drawn
//! from the same random value. Nothing touches the root namespace: the bridge lives in its
//! own namespace, and 10.77.0.0/16 exists only inside the lab. Node indexes are 0-based;
//! node `i` has address `10.77.X.(i+1)`.
//!
//! Everything is torn down on drop (also when a test panics): the namespaces are deleted,
//! which removes their veths. Kill the processes started in a lab before it drops (declare
//! the lab first, so it drops last).
//!
//! [`NetnsLab::new`] returns [`Skip`] when the machine refuses: not root, no `ip` binary
//! (iproute2), or the kernel refuses namespaces, bridges or veths. Tests print the reason and
//! pass, unless `FLOTILLA_NETNS_REQUIRED=1` (for CI machines known to allow namespaces), where
//! a skip is a failure.

use std::fmt;
use std::net::Ipv4Addr;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;

/// Why a namespace test cannot run here.
#[derive(Debug, Clone)]
pub(crate) struct Skip(pub(crate) String);

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Skip {
    /// Prints the reason, and panics instead if `FLOTILLA_NETNS_REQUIRED=1`.
    pub(crate) fn report(&self, test: &str) {
        let required = std::env::var("FLOTILLA_NETNS_REQUIRED").is_ok_and(|v| v == "1");
        assert!(!required, "{test}: FLOTILLA_NETNS_REQUIRED=1 but: {self}");
        // Straight to the stderr handle: libtest captures `println!`/`eprintln!`, and a skip
        // must show in a normal `cargo test` run.
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {self}");
    }
}

/// A bridge and `n` namespaces on it (see the module docs).
#[derive(Debug)]
pub(crate) struct NetnsLab {
    prefix: String,
    subnet: u8,
    n: usize,
    /// Namespaces created so far, deleted on drop.
    created: Vec<String>,
}

impl NetnsLab {
    /// Creates the bridge namespace and `n` node namespaces with `lo` and `eth0` up.
    pub(crate) fn new(n: usize) -> Result<Self, Skip> {
        if !is_root() {
            return Err(Skip(
                "not root: network namespaces need CAP_NET_ADMIN".into(),
            ));
        }
        if let Err(e) = Command::new("ip").arg("-V").output() {
            return Err(Skip(format!(
                "no usable `ip` binary ({e}): install iproute2 (scripts/test.sh does as root)"
            )));
        }
        let seed = random_u32();
        let mut lab = Self {
            prefix: format!("flt{seed:08x}"),
            subnet: (seed % 254 + 1) as u8,
            n,
            created: Vec::new(),
        };
        lab.build().map_err(Skip)?;
        Ok(lab)
    }

    fn build(&mut self) -> Result<(), String> {
        let br = self.bridge_ns();
        self.add_ns(&br)?;
        ip(&["-n", &br, "link", "add", "br0", "type", "bridge"])?;
        ip(&["-n", &br, "link", "set", "br0", "up"])?;
        for i in 0..self.n {
            let ns = self.ns(i);
            let port = format!("p{i}");
            let addr = format!("{}/24", self.addr(i));
            self.add_ns(&ns)?;
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
            ip(&[
                "link", "add", "eth0", "netns", &ns, "type", "veth", "peer", "name", &port,
                "netns", &br,
            ])?;
            ip(&["-n", &br, "link", "set", &port, "master", "br0"])?;
            ip(&["-n", &br, "link", "set", &port, "up"])?;
            ip(&["-n", &ns, "addr", "add", &addr, "dev", "eth0"])?;
            ip(&["-n", &ns, "link", "set", "eth0", "up"])?;
        }
        Ok(())
    }

    fn add_ns(&mut self, name: &str) -> Result<(), String> {
        ip(&["netns", "add", name]).map_err(|e| format!("the kernel refuses namespaces: {e}"))?;
        self.created.push(name.to_owned());
        Ok(())
    }

    /// How many node namespaces.
    pub(crate) fn len(&self) -> usize {
        self.n
    }

    /// The name of node `i`'s namespace.
    pub(crate) fn ns(&self, i: usize) -> String {
        format!("{}n{i}", self.prefix)
    }

    /// The name of the bridge's namespace.
    pub(crate) fn bridge_ns(&self) -> String {
        format!("{}b", self.prefix)
    }

    /// The lab's random tag, for unique names (peer ids, temp files) in a test.
    pub(crate) fn tag(&self) -> &str {
        &self.prefix
    }

    /// Node `i`'s IPv4 address on the lab LAN.
    pub(crate) fn addr(&self, i: usize) -> Ipv4Addr {
        assert!(i < self.n && i < 254, "no node {i} in a lab of {}", self.n);
        Ipv4Addr::new(10, 77, self.subnet, (i + 1) as u8)
    }

    /// A command that runs `program` inside node `i`'s namespace (`ip netns exec`, which execs
    /// the program: the child's pid is the program's). Add arguments, then spawn it.
    pub(crate) fn command(&self, i: usize, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.ns(i)]).arg(program);
        cmd
    }

    /// Runs `args` (program first) inside node `i`'s namespace to completion; its stdout.
    pub(crate) fn exec(&self, i: usize, args: &[&str]) -> anyhow::Result<String> {
        let (program, rest) = args.split_first().context("exec: empty command")?;
        let out = self
            .command(i, program)
            .args(rest)
            .output()
            .with_context(|| format!("cannot run {args:?} in {}", self.ns(i)))?;
        anyhow::ensure!(
            out.status.success(),
            "{args:?} in {} failed: {}",
            self.ns(i),
            String::from_utf8_lossy(&out.stderr).trim()
        );
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Plugs node `i`'s cable into the bridge (`up`) or pulls it (`!up`): sets the bridge port
    /// up or down, so node `i`'s eth0 loses its carrier as a boat leaving Wi-Fi range would.
    pub(crate) fn set_link(&self, i: usize, up: bool) -> anyhow::Result<()> {
        let state = if up { "up" } else { "down" };
        ip(&[
            "-n",
            &self.bridge_ns(),
            "link",
            "set",
            &format!("p{i}"),
            state,
        ])
        .map_err(anyhow::Error::msg)?;
        Ok(())
    }

    /// Limits node `i`'s link to `rate` (tc syntax: `150kbit`, `1mbit`) in both directions:
    /// a token bucket (`tbf ... burst 1600 latency 10s`) on its eth0 (upload) and on its bridge
    /// port (download). Calling it again replaces the limit. tbf delays nothing while the
    /// bucket has tokens (research/tech.md §8.2): it models bandwidth, not latency.
    pub(crate) fn rate_limit(&self, i: usize, rate: &str) -> anyhow::Result<()> {
        let tbf = [
            "root", "tbf", "rate", rate, "burst", "1600", "latency", "10s",
        ];
        let port = format!("p{i}");
        for (ns, dev) in [(self.ns(i), "eth0"), (self.bridge_ns(), port.as_str())] {
            let mut args = vec!["netns", "exec", &ns, "tc", "qdisc", "replace", "dev", dev];
            args.extend(tbf);
            ip(&args).map_err(anyhow::Error::msg)?;
        }
        Ok(())
    }

    /// Gives nodes `a` and `b` a cable of their own (a boat's hotspot, a direct link): a veth
    /// pair `to<b>` in `a`'s namespace and `to<a>` in `b`'s, on a second subnet
    /// `10.78.X.0/24` where node `i` is `10.78.X.(i+1)`. Returns `a`'s and `b`'s addresses.
    pub(crate) fn direct_link(&self, a: usize, b: usize) -> anyhow::Result<(Ipv4Addr, Ipv4Addr)> {
        let (na, nb) = (self.ns(a), self.ns(b));
        let (ia, ib) = (format!("to{b}"), format!("to{a}"));
        let addr = |i: usize| Ipv4Addr::new(10, 78, self.subnet, (i + 1) as u8);
        let steps: [Vec<String>; 5] = [
            [
                "link", "add", &ia, "netns", &na, "type", "veth", "peer", "name", &ib, "netns", &nb,
            ]
            .map(String::from)
            .to_vec(),
            vec![
                "-n".into(),
                na.clone(),
                "addr".into(),
                "add".into(),
                format!("{}/24", addr(a)),
                "dev".into(),
                ia.clone(),
            ],
            vec![
                "-n".into(),
                nb.clone(),
                "addr".into(),
                "add".into(),
                format!("{}/24", addr(b)),
                "dev".into(),
                ib.clone(),
            ],
            vec![
                "-n".into(),
                na,
                "link".into(),
                "set".into(),
                ia,
                "up".into(),
            ],
            vec![
                "-n".into(),
                nb,
                "link".into(),
                "set".into(),
                ib,
                "up".into(),
            ],
        ];
        for step in &steps {
            let args: Vec<&str> = step.iter().map(String::as_str).collect();
            ip(&args).map_err(anyhow::Error::msg)?;
        }
        Ok((addr(a), addr(b)))
    }

    /// Makes node `i`'s link silently drop every packet both ways, its carrier up (as when a
    /// boat drifts out of Wi-Fi range without its interface noticing), or (`!lossy`) removes
    /// that. It is a token bucket smaller than any packet (`tbf burst 10 limit 1`: tbf drops
    /// a packet larger than its bucket) on its eth0 and its bridge port, the effect of
    /// `netem loss 100%` with the qdisc every kernel here has (sch_netem is often a module
    /// that containers cannot load).
    pub(crate) fn set_loss(&self, i: usize, lossy: bool) -> anyhow::Result<()> {
        let port = format!("p{i}");
        for (ns, dev) in [(self.ns(i), "eth0"), (self.bridge_ns(), port.as_str())] {
            let mut args = vec!["netns", "exec", &ns, "tc", "qdisc"];
            if lossy {
                args.extend(["replace", "dev", dev, "root", "tbf", "rate", "1kbit"]);
                args.extend(["burst", "10", "limit", "1"]);
            } else {
                args.extend(["del", "dev", dev, "root"]);
            }
            ip(&args).map_err(anyhow::Error::msg)?;
        }
        Ok(())
    }

    /// Moves node `i` to another address on the LAN (`10.77.X.(101+i)`, a new DHCP lease):
    /// the old address is removed from its eth0. Returns the new address.
    pub(crate) fn readdress(&self, i: usize) -> anyhow::Result<Ipv4Addr> {
        let ns = self.ns(i);
        let new = Ipv4Addr::new(10, 77, self.subnet, (101 + i) as u8);
        let (old, new_cidr) = (format!("{}/24", self.addr(i)), format!("{new}/24"));
        // Deleting a primary address deletes the secondaries of its subnet with it: the old
        // one goes first.
        ip(&["-n", &ns, "addr", "del", &old, "dev", "eth0"]).map_err(anyhow::Error::msg)?;
        ip(&["-n", &ns, "addr", "add", &new_cidr, "dev", "eth0"]).map_err(anyhow::Error::msg)?;
        Ok(new)
    }

    /// `tc qdisc show dev eth0` in node `i`'s namespace.
    pub(crate) fn qdisc(&self, i: usize) -> anyhow::Result<String> {
        self.exec(i, &["tc", "qdisc", "show", "dev", "eth0"])
    }
}

impl Drop for NetnsLab {
    fn drop(&mut self) {
        for ns in self.created.iter().rev() {
            if let Err(e) = ip(&["netns", "del", ns]) {
                eprintln!("netns lab: cannot delete {ns}: {e}");
            }
        }
    }
}

/// Runs `ip args`; its stdout, or a message with its stderr.
fn ip(args: &[&str]) -> Result<String, String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run ip {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "`ip {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Whether the effective user is root (from /proc, to need no libc).
fn is_root() -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .is_some_and(|euid| euid == "0")
}

/// Enough randomness for unique names: the clock's nanoseconds mixed with the pid and a
/// per-process counter.
fn random_u32() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mixed = nanos as u64 ^ (u64::from(std::process::id()) << 32) ^ u64::from(count) << 16;
    let h = mixed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h >> 32) as u32
}

//! Radio specs: which kind of radio, over which transport.

use std::path::PathBuf;
use std::str::FromStr;

/// How to reach the radio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// A serial device (or a pseudo-terminal of `flotilla lora-air`).
    Serial(PathBuf),
    /// A TCP endpoint, `HOST:PORT`.
    Tcp(String),
}

/// A radio, as given to `--lora`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    /// A KISS modem (RNode or any KISS TNC).
    Kiss(Transport),
    /// A Meshtastic device, through its stream API.
    Meshtastic(Transport),
}

/// A spec that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a radio: use kiss:/dev/ttyUSB0, kiss:tcp:HOST:PORT, meshtastic:/dev/ttyACM0 or meshtastic:tcp:HOST:4403"
)]
pub struct BadSpec(pub String);

fn transport(rest: &str, default_port: Option<u16>) -> Option<Transport> {
    if let Some(addr) = rest.strip_prefix("tcp:") {
        if addr.is_empty() {
            return None;
        }
        let has_port = addr
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok());
        return match (has_port, default_port) {
            (true, _) => Some(Transport::Tcp(addr.to_string())),
            (false, Some(port)) => Some(Transport::Tcp(format!("{addr}:{port}"))),
            (false, None) => None,
        };
    }
    (!rest.is_empty()).then(|| Transport::Serial(PathBuf::from(rest)))
}

impl FromStr for Spec {
    type Err = BadSpec;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadSpec(s.to_string());
        let (kind, rest) = s.split_once(':').ok_or_else(bad)?;
        match kind {
            "kiss" => transport(rest, None).map(Spec::Kiss).ok_or_else(bad),
            "meshtastic" => transport(rest, Some(4403))
                .map(Spec::Meshtastic)
                .ok_or_else(bad),
            _ => Err(bad()),
        }
    }
}

impl std::fmt::Display for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (kind, t) = match self {
            Spec::Kiss(t) => ("kiss", t),
            Spec::Meshtastic(t) => ("meshtastic", t),
        };
        match t {
            Transport::Serial(p) => write!(f, "{kind}:{}", p.display()),
            Transport::Tcp(a) => write!(f, "{kind}:tcp:{a}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_specs_parse() {
        let ok = [
            (
                "kiss:/dev/ttyUSB0",
                Spec::Kiss(Transport::Serial("/dev/ttyUSB0".into())),
            ),
            (
                "kiss:tcp:127.0.0.1:8001",
                Spec::Kiss(Transport::Tcp("127.0.0.1:8001".into())),
            ),
            (
                "meshtastic:/dev/ttyACM0",
                Spec::Meshtastic(Transport::Serial("/dev/ttyACM0".into())),
            ),
            (
                "meshtastic:tcp:boat.local:4403",
                Spec::Meshtastic(Transport::Tcp("boat.local:4403".into())),
            ),
            (
                "meshtastic:tcp:10.0.0.5",
                Spec::Meshtastic(Transport::Tcp("10.0.0.5:4403".into())),
            ),
        ];
        for (s, spec) in ok {
            assert_eq!(s.parse::<Spec>(), Ok(spec.clone()), "{s}");
            assert_eq!(spec.to_string().parse::<Spec>(), Ok(spec));
        }
        for bad in [
            "",
            "kiss",
            "kiss:",
            "lora:/dev/x",
            "kiss:tcp:",
            "kiss:tcp:host",
        ] {
            assert!(bad.parse::<Spec>().is_err(), "{bad}");
        }
    }
}

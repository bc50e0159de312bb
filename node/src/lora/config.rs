//! The `[lora]` section of the config file, and its checked form.
//!
//! ```toml
//! [lora]
//! radios = ["kiss:/dev/ttyUSB0"]   # also `--lora SPEC` (repeatable)
//! region = "EU868"                 # EU868 (868.1 MHz, 1 %), EU868-G3 (869.525 MHz, 10 %), US915
//! preset = "MediumFast"            # or sf / bw_hz / cr
//! duty = 0.01                      # fraction of every hour a radio may transmit
//! flotillas = []                   # flotilla ids allowed on the radios (empty: all)
//! ```

use std::time::Duration;

use flotilla_protocol as proto;
use proto::id::FlotillaId;
use proto::lora::{RadioConfig, RadioParams};
use serde::Deserialize;

use super::spec::Spec;

/// A number read from the config file, comparable (the config types are `Eq`).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(transparent)]
pub struct Number(pub f64);

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

impl Eq for Number {}

/// `[lora]` as written: every key optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawLoraConfig {
    /// Radio specs, as `--lora` takes them. Default: none (no bridge).
    pub radios: Vec<String>,
    /// `EU868` (default), `EU868-G3` or `US915`: the default frequency and duty cycle.
    pub region: Option<String>,
    /// Carrier frequency in Hz (default: the region's).
    pub frequency_hz: Option<u32>,
    /// A Meshtastic-style preset: `ShortFast`, `ShortSlow`, `MediumFast`, `MediumSlow`,
    /// `LongFast`, `LongModerate`, `LongSlow`. Default: SF9 / 125 kHz / 4/5.
    pub preset: Option<String>,
    /// Spreading factor 7–12 (overrides the preset).
    pub sf: Option<u8>,
    /// Bandwidth in Hz (overrides the preset).
    pub bw_hz: Option<u32>,
    /// Coding rate denominator 5–8 (overrides the preset).
    pub cr: Option<u8>,
    /// Transmit power in dBm, for radios that take it (default 14, the EU868 limit).
    pub tx_power_dbm: Option<u8>,
    /// Fraction of every hour a radio may transmit (default: the region's).
    pub duty: Option<Number>,
    /// Largest frame in bytes, header included (default: 222 at SF7–8, 115 from SF9).
    pub mtu: Option<usize>,
    /// Hops a frame may take after its origin (default 3).
    pub hop_limit: Option<u8>,
    /// Mean time between catch-up summaries (default `"5m"`).
    #[serde(with = "humantime_serde")]
    pub beacon_interval: Option<Duration>,
    /// The most events sent per hour to answer catch-up (default 60).
    pub catchup_per_hour: Option<u32>,
    /// Flotilla ids (hex) allowed on the radios. Default: every flotilla of the node.
    pub flotillas: Vec<String>,
    /// Send RNode's radio commands (frequency, bandwidth, SF, CR, power, radio on) to KISS
    /// modems (default true; a plain KISS TNC ignores or mis-reads them).
    pub rnode: Option<bool>,
}

/// The checked `[lora]` configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct LoraConfig {
    /// The radios.
    pub radios: Vec<Spec>,
    /// Carrier frequency in Hz.
    pub frequency_hz: u32,
    /// Modulation.
    pub params: RadioParams,
    /// Transmit power in dBm.
    pub tx_power_dbm: u8,
    /// Duty cycle.
    pub duty: f64,
    /// Largest frame.
    pub mtu: usize,
    /// The bridge's settings.
    pub hop_limit: u8,
    /// Mean time between summaries.
    pub beacon_interval: Duration,
    /// Catch-up events per hour.
    pub catchup_per_hour: u32,
    /// Allowed flotillas (empty: all).
    pub flotillas: Vec<FlotillaId>,
    /// Send RNode commands.
    pub rnode: bool,
}

/// A bad `[lora]` value: the key and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("lora.{key}: {reason}")]
pub struct BadLoraConfig {
    /// The key.
    pub key: &'static str,
    /// Why.
    pub reason: String,
}

fn bad(key: &'static str, reason: impl Into<String>) -> BadLoraConfig {
    BadLoraConfig {
        key,
        reason: reason.into(),
    }
}

/// (sf, bw_hz, cr) of a preset.
fn preset(name: &str) -> Option<(u8, u32, u8)> {
    Some(match name {
        "ShortFast" => (7, 250_000, 5),
        "ShortSlow" => (8, 250_000, 5),
        "MediumFast" => (9, 250_000, 5),
        "MediumSlow" => (10, 250_000, 5),
        "LongFast" => (11, 250_000, 5),
        "LongModerate" => (11, 125_000, 8),
        "LongSlow" => (12, 125_000, 8),
        _ => return None,
    })
}

/// (frequency, duty) of a region.
fn region(name: &str) -> Option<(u32, f64)> {
    Some(match name {
        "EU868" => (868_100_000, 0.01),
        "EU868-G3" => (869_525_000, 0.10),
        "US915" => (906_875_000, 1.0),
        _ => return None,
    })
}

impl RawLoraConfig {
    /// Checks every value; `extra` are `--lora` specs from the command line.
    ///
    /// # Errors
    /// [`BadLoraConfig`] naming the first bad key.
    pub fn validate(&self, extra: &[String]) -> Result<LoraConfig, BadLoraConfig> {
        let radios = self
            .radios
            .iter()
            .chain(extra)
            .map(|s| s.parse::<Spec>().map_err(|e| bad("radios", e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        let region_name = self.region.as_deref().unwrap_or("EU868");
        let (freq, region_duty) = region(region_name)
            .ok_or_else(|| bad("region", format!("unknown region `{region_name}`")))?;
        let (mut sf, mut bw, mut cr) = (9, 125_000, 5);
        if let Some(name) = &self.preset {
            (sf, bw, cr) =
                preset(name).ok_or_else(|| bad("preset", format!("unknown preset `{name}`")))?;
        }
        let params = RadioParams {
            sf: self.sf.unwrap_or(sf),
            bw_hz: self.bw_hz.unwrap_or(bw),
            cr: self.cr.unwrap_or(cr),
            ..RadioParams::default()
        };
        if !params.is_valid() {
            return Err(bad("sf", "sf 7–12, bw_hz 7800–500000, cr 5–8"));
        }
        let duty = self.duty.map_or(region_duty, |d| d.0);
        if !(duty > 0.0 && duty <= 1.0) {
            return Err(bad("duty", "a fraction in (0, 1], like 0.01 for 1 %"));
        }
        let mtu = self.mtu.unwrap_or(params.default_mtu());
        if !(proto::lora::frame::HEADER_LEN + 16..=proto::lora::airtime::RADIO_MAX_FRAME)
            .contains(&mtu)
        {
            return Err(bad("mtu", "between 26 and 255 bytes"));
        }
        let hop_limit = self.hop_limit.unwrap_or(3);
        if hop_limit > proto::lora::frame::MAX_HOPS {
            return Err(bad("hop_limit", "at most 15"));
        }
        let beacon_interval = self.beacon_interval.unwrap_or(Duration::from_secs(300));
        if beacon_interval < Duration::from_secs(1) {
            return Err(bad("beacon_interval", "at least 1s"));
        }
        let flotillas = self
            .flotillas
            .iter()
            .map(|f| {
                f.parse()
                    .map_err(|_| bad("flotillas", format!("`{f}` is not a flotilla id")))
            })
            .collect::<Result<_, _>>()?;
        Ok(LoraConfig {
            radios,
            frequency_hz: self.frequency_hz.unwrap_or(freq),
            params,
            tx_power_dbm: self.tx_power_dbm.unwrap_or(14),
            duty,
            mtu,
            hop_limit,
            beacon_interval,
            catchup_per_hour: self.catchup_per_hour.unwrap_or(60),
            flotillas,
            rnode: self.rnode.unwrap_or(true),
        })
    }
}

// Validated: `duty` is a finite number, so equality is an equivalence.
impl Eq for LoraConfig {}

impl LoraConfig {
    /// No radios (the bridge is off), default settings.
    pub fn off() -> Self {
        RawLoraConfig::default()
            .validate(&[])
            .unwrap_or_else(|e| unreachable!("the defaults are valid: {e}"))
    }

    /// The bridge's settings.
    pub fn bridge(&self) -> proto::lora::Config {
        proto::lora::Config {
            hop_limit: self.hop_limit,
            beacon_interval_ms: u64::try_from(self.beacon_interval.as_millis()).unwrap_or(u64::MAX),
            catchup_per_hour: self.catchup_per_hour,
            ..proto::lora::Config::default()
        }
    }

    /// One radio's settings: Meshtastic devices flood on their own, so the bridge does not
    /// relay on them, and their payload is at most 233 bytes.
    pub fn radio(&self, spec: &Spec) -> RadioConfig {
        let mut r = RadioConfig::new(self.params, self.duty);
        r.mtu = self.mtu;
        if let Spec::Meshtastic(_) = spec {
            r.relay = false;
            r.mtu = r.mtu.min(super::meshtastic::MAX_PAYLOAD);
        }
        r
    }

    /// May `flotilla` use the radios?
    pub fn allows(&self, flotilla: &FlotillaId) -> bool {
        self.flotillas.is_empty() || self.flotillas.contains(flotilla)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_regions_and_overrides() {
        let raw: RawLoraConfig = toml::from_str(
            "radios = [\"kiss:/dev/ttyUSB0\"]\nregion = \"EU868-G3\"\npreset = \"LongFast\"\nsf = 10\n",
        )
        .unwrap_or_default();
        let c = raw
            .validate(&["meshtastic:tcp:10.0.0.2".into()])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.radios.len(), 2);
        assert_eq!((c.params.sf, c.params.bw_hz, c.duty), (10, 250_000, 0.10));
        assert_eq!(c.frequency_hz, 869_525_000);
        assert!(!c.radio(&c.radios[1]).relay);
        let d = RawLoraConfig::default()
            .validate(&[])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((d.params.sf, d.duty, d.mtu, d.hop_limit), (9, 0.01, 115, 3));
        for (text, key) in [
            ("region = \"MARS\"", "region"),
            ("preset = \"Fast\"", "preset"),
            ("sf = 13", "sf"),
            ("duty = 0.0", "duty"),
            ("mtu = 300", "mtu"),
            ("flotillas = [\"zz\"]", "flotillas"),
            ("radios = [\"lora:x\"]", "radios"),
        ] {
            let raw: RawLoraConfig = toml::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(raw.validate(&[]).map_err(|e| e.key), Err(key), "{text}");
        }
    }
}

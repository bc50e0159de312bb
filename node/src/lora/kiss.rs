//! KISS framing (the TNC protocol RNode modems and APRS TNCs speak): `FEND cmd data FEND`,
//! with FEND (0xC0) and FESC (0xDB) escaped as `FESC TFEND` and `FESC TFESC`. Command 0x00
//! carries a data frame; RNode adds commands to set the radio up (frequency, bandwidth,
//! power, SF, CR, radio state), sent by [`rnode_setup`].

/// Frame delimiter.
pub const FEND: u8 = 0xC0;
/// Escape.
pub const FESC: u8 = 0xDB;
/// Escaped FEND.
pub const TFEND: u8 = 0xDC;
/// Escaped FESC.
pub const TFESC: u8 = 0xDD;
/// A data frame on port 0.
pub const CMD_DATA: u8 = 0x00;
/// The longest frame a decoder keeps (anything longer is line noise).
pub const MAX_FRAME: usize = 1024;

// RNode's commands (RNode firmware, KISS extensions).
const CMD_FREQUENCY: u8 = 0x01;
const CMD_BANDWIDTH: u8 = 0x02;
const CMD_TXPOWER: u8 = 0x03;
const CMD_SF: u8 = 0x04;
const CMD_CR: u8 = 0x05;
const CMD_RADIO_STATE: u8 = 0x06;

/// One KISS frame: `cmd` and its data, escaped.
pub fn encode(cmd: u8, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 4);
    out.push(FEND);
    out.push(cmd);
    for &b in data {
        match b {
            FEND => out.extend_from_slice(&[FESC, TFEND]),
            FESC => out.extend_from_slice(&[FESC, TFESC]),
            _ => out.push(b),
        }
    }
    out.push(FEND);
    out
}

/// A data frame.
pub fn data(frame: &[u8]) -> Vec<u8> {
    encode(CMD_DATA, frame)
}

/// RNode's setup: frequency, bandwidth, power, SF, CR, then radio on.
pub fn rnode_setup(frequency_hz: u32, bw_hz: u32, tx_power_dbm: u8, sf: u8, cr: u8) -> Vec<u8> {
    [
        encode(CMD_FREQUENCY, &frequency_hz.to_be_bytes()),
        encode(CMD_BANDWIDTH, &bw_hz.to_be_bytes()),
        encode(CMD_TXPOWER, &[tx_power_dbm]),
        encode(CMD_SF, &[sf]),
        encode(CMD_CR, &[cr]),
        encode(CMD_RADIO_STATE, &[0x01]),
    ]
    .concat()
}

/// A streaming decoder: feed it bytes, get whole frames `(cmd, data)`.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    in_frame: bool,
    escaped: bool,
    overflow: bool,
}

impl Decoder {
    /// Consumes `bytes`; returns the frames they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
        let mut out = Vec::new();
        for &b in bytes {
            match (b, self.escaped) {
                (FEND, _) => {
                    if self.in_frame && !self.buf.is_empty() && !self.overflow {
                        let cmd = self.buf[0];
                        out.push((cmd, self.buf[1..].to_vec()));
                    }
                    self.buf.clear();
                    self.in_frame = true;
                    self.escaped = false;
                    self.overflow = false;
                }
                _ if !self.in_frame => {}
                (FESC, false) => self.escaped = true,
                (_, true) => {
                    self.escaped = false;
                    let v = match b {
                        TFEND => FEND,
                        TFESC => FESC,
                        other => other,
                    };
                    self.push(v);
                }
                (_, false) => self.push(b),
            }
        }
        out
    }

    fn push(&mut self, b: u8) {
        if self.buf.len() >= MAX_FRAME {
            self.overflow = true;
        } else {
            self.buf.push(b);
        }
    }
}

/// The data frames among decoded KISS frames (port 0 only; RNode reports are skipped).
pub fn data_frames(frames: Vec<(u8, Vec<u8>)>) -> impl Iterator<Item = Vec<u8>> {
    frames
        .into_iter()
        .filter(|(cmd, _)| *cmd == CMD_DATA)
        .map(|(_, d)| d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escapes_round_trip_across_chunks() {
        let frame = vec![1, FEND, 2, FESC, 3, TFEND];
        let wire = data(&frame);
        assert_eq!(
            wire,
            [FEND, 0, 1, FESC, TFEND, 2, FESC, TFESC, 3, TFEND, FEND]
        );
        let mut d = Decoder::default();
        let mut got = Vec::new();
        for chunk in wire.chunks(3) {
            got.extend(data_frames(d.feed(chunk)));
        }
        assert_eq!(got, vec![frame]);
        // Setup commands decode as non-data frames.
        let setup = d.feed(&rnode_setup(868_100_000, 125_000, 14, 9, 5));
        assert_eq!(setup.len(), 6);
        assert_eq!(data_frames(setup).count(), 0);
    }

    proptest! {
        #[test]
        fn any_frame_round_trips(frame in proptest::collection::vec(any::<u8>(), 1..300), noise in proptest::collection::vec(any::<u8>(), 0..20)) {
            let mut d = Decoder::default();
            let _ = d.feed(&noise);
            let got: Vec<_> = data_frames(d.feed(&data(&frame))).collect();
            prop_assert_eq!(got.last(), Some(&frame));
        }
    }
}

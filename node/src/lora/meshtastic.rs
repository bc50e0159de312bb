//! The Meshtastic stream API (serial and TCP port 4403): each protobuf travels as
//! `0x94 0xC3 <len hi> <len lo> <bytes>`, `ToRadio` to the device and `FromRadio` back.
//! Our frames ride as the payload of a broadcast `MeshPacket` whose `Data.portnum` is
//! `PRIVATE_APP` (256); the firmware does its own flooding (hop limit) and channel
//! encryption, and our frames stay sealed with the flotilla's key inside.
//!
//! Messages used (field numbers from meshtastic/protobufs `mesh.proto`):
//! - `ToRadio { packet = 1: MeshPacket, want_config_id = 3: uint32, heartbeat = 7 }`
//! - `FromRadio { id = 1: uint32, packet = 2: MeshPacket, … }`
//! - `MeshPacket { from = 1: fixed32, to = 2: fixed32, channel = 3, decoded = 4: Data,
//!   id = 6: fixed32, hop_limit = 9, want_ack = 10, hop_start = 15 }`
//! - `Data { portnum = 1: PortNum, payload = 2: bytes }`
//!
//! Bytes outside a frame are the device's debug console and are skipped.

use super::protobuf::{self, Value, Writer};

/// First magic byte.
pub const START1: u8 = 0x94;
/// Second magic byte.
pub const START2: u8 = 0xC3;
/// The largest protobuf in one stream frame.
pub const MAX_PACKET: usize = 512;
/// `PortNum.PRIVATE_APP`.
pub const PRIVATE_APP: u64 = 256;
/// The largest `Data.payload` the firmware sends (`DATA_PAYLOAD_LEN`).
pub const MAX_PAYLOAD: usize = 233;
/// The broadcast node number.
pub const BROADCAST: u32 = 0xFFFF_FFFF;

/// Wraps one protobuf in the stream header.
pub fn frame(proto: &[u8]) -> Vec<u8> {
    let len = proto.len().min(MAX_PACKET) as u16;
    let mut out = vec![START1, START2];
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&proto[..usize::from(len)]);
    out
}

/// What a client sends first: a burst of START2 bytes to wake the device, then
/// `ToRadio { want_config_id }` (the device answers with its config and starts forwarding
/// packets).
pub fn hello(config_id: u32) -> Vec<u8> {
    let mut out = vec![START2; 32];
    let mut w = Writer::default();
    w.varint(3, u64::from(config_id));
    out.extend(frame(&w.buf));
    out
}

/// `ToRadio { heartbeat: {} }`, sent now and then to keep a TCP session alive.
pub fn heartbeat() -> Vec<u8> {
    let mut w = Writer::default();
    w.bytes(7, &[]);
    frame(&w.buf)
}

fn mesh_packet(payload: &[u8], from: u32, id: u32, hop_limit: u32) -> Vec<u8> {
    let mut data = Writer::default();
    data.varint(1, PRIVATE_APP).bytes(2, payload);
    let mut p = Writer::default();
    if from != 0 {
        p.fixed32(1, from);
    }
    p.fixed32(2, BROADCAST)
        .bytes(4, &data.buf)
        .fixed32(6, id)
        .varint(9, u64::from(hop_limit));
    p.buf
}

/// `ToRadio { packet }`: our frame as a broadcast `PRIVATE_APP` packet, framed.
pub fn to_radio(payload: &[u8], id: u32, hop_limit: u32) -> Vec<u8> {
    let mut w = Writer::default();
    w.bytes(1, &mesh_packet(payload, 0, id, hop_limit));
    frame(&w.buf)
}

/// `FromRadio { id, packet }` as a device would send it (for tests and simulated devices).
pub fn from_radio(payload: &[u8], from: u32, id: u32) -> Vec<u8> {
    let mut w = Writer::default();
    w.varint(1, u64::from(id))
        .bytes(2, &mesh_packet(payload, from, id, 3));
    frame(&w.buf)
}

/// A `PRIVATE_APP` packet heard by the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// The sending node number.
    pub from: u32,
    /// The packet id.
    pub id: u32,
    /// Our frame.
    pub payload: Vec<u8>,
}

fn packet_of(mesh: &[u8]) -> Option<Packet> {
    let p = protobuf::fields(mesh)?;
    let Some(Value::Bytes(data)) = protobuf::field(&p, 4) else {
        return None; // still encrypted for a channel we do not have
    };
    let d = protobuf::fields(data)?;
    if protobuf::field(&d, 1) != Some(Value::Varint(PRIVATE_APP)) {
        return None;
    }
    let Some(Value::Bytes(payload)) = protobuf::field(&d, 2) else {
        return None;
    };
    let fixed = |n| match protobuf::field(&p, n) {
        Some(Value::Fixed32(v)) => v,
        _ => 0,
    };
    Some(Packet {
        from: fixed(1),
        id: fixed(6),
        payload: payload.to_vec(),
    })
}

/// Our packet in a `FromRadio`, if it carries one.
pub fn parse_from_radio(proto: &[u8]) -> Option<Packet> {
    let f = protobuf::fields(proto)?;
    match protobuf::field(&f, 2)? {
        Value::Bytes(mesh) => packet_of(mesh),
        _ => None,
    }
}

/// Our packet in a `ToRadio`, if it carries one (what a device would transmit).
pub fn parse_to_radio(proto: &[u8]) -> Option<Packet> {
    let f = protobuf::fields(proto)?;
    match protobuf::field(&f, 1)? {
        Value::Bytes(mesh) => packet_of(mesh),
        _ => None,
    }
}

/// A streaming decoder of `0x94 0xC3` frames.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
}

impl Decoder {
    /// Consumes `bytes`; returns the protobufs they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        loop {
            // Skip to the next START1 START2.
            match self.buf.windows(2).position(|w| w == [START1, START2]) {
                Some(0) => {}
                Some(i) => {
                    self.buf.drain(..i);
                }
                None => {
                    let keep = usize::from(self.buf.last() == Some(&START1));
                    let n = self.buf.len() - keep;
                    self.buf.drain(..n);
                    return out;
                }
            }
            if self.buf.len() < 4 {
                return out;
            }
            let len = usize::from(u16::from_be_bytes([self.buf[2], self.buf[3]]));
            if len > MAX_PACKET {
                self.buf.drain(..2); // not a real header: resync
                continue;
            }
            if self.buf.len() < 4 + len {
                return out;
            }
            out.push(self.buf[4..4 + len].to_vec());
            self.buf.drain(..4 + len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_frames_round_trip_through_to_and_from_radio() {
        let ours = vec![1u8, 0x94, 0xC3, 7, 8];
        let wire = to_radio(&ours, 42, 3);
        assert_eq!(&wire[..2], &[START1, START2]);
        let mut d = Decoder::default();
        let mut protos = d.feed(b"debug console noise\r\n");
        for chunk in wire.chunks(5) {
            protos.extend(d.feed(chunk));
        }
        assert_eq!(protos.len(), 1);
        let p = parse_to_radio(&protos[0]).unwrap_or_else(|| panic!("no packet"));
        assert_eq!((p.id, p.payload.as_slice()), (42, ours.as_slice()));
        let back = d.feed(&from_radio(&ours, 0x1234, 9));
        let p = back
            .first()
            .and_then(|b| parse_from_radio(b))
            .unwrap_or_else(|| panic!());
        assert_eq!((p.from, p.id, p.payload), (0x1234, 9, ours));
        // hello: wake bytes then want_config_id
        let h = hello(7);
        assert_eq!(d.feed(&h), vec![vec![0x18, 7]]);
        assert_eq!(heartbeat(), vec![START1, START2, 0, 2, 0x3A, 0]);
    }

    #[test]
    fn other_ports_and_garbage_are_skipped() {
        let mut data = Writer::default();
        data.varint(1, 1).bytes(2, b"text message");
        let mut p = Writer::default();
        p.bytes(4, &data.buf);
        let mut f = Writer::default();
        f.bytes(2, &p.buf);
        assert_eq!(parse_from_radio(&f.buf), None);
        let mut d = Decoder::default();
        assert!(d.feed(&[0x94, 0xC3, 0xFF, 0xFF, 0x94]).is_empty());
        assert_eq!(parse_from_radio(&[0xFF, 0xFF]), None);
    }
}

//! The few protobuf wire rules the Meshtastic stream API needs, by hand: varints, tags,
//! fixed32 and length-delimited fields. Decoding never panics and skips unknown fields.

/// Wire type of a varint field.
pub const VARINT: u8 = 0;
/// Wire type of a 64-bit field.
pub const FIXED64: u8 = 1;
/// Wire type of a length-delimited field.
pub const LEN: u8 = 2;
/// Wire type of a 32-bit field.
pub const FIXED32: u8 = 5;

/// Appends protobuf fields.
#[derive(Debug, Default)]
pub struct Writer {
    /// The encoded bytes.
    pub buf: Vec<u8>,
}

impl Writer {
    fn varint_raw(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    fn tag(&mut self, field: u32, wire: u8) {
        self.varint_raw((u64::from(field) << 3) | u64::from(wire));
    }

    /// A varint field (uint32, uint64, bool, enum).
    pub fn varint(&mut self, field: u32, v: u64) -> &mut Self {
        self.tag(field, VARINT);
        self.varint_raw(v);
        self
    }

    /// A fixed32 field.
    pub fn fixed32(&mut self, field: u32, v: u32) -> &mut Self {
        self.tag(field, FIXED32);
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// A bytes, string or embedded message field.
    pub fn bytes(&mut self, field: u32, v: &[u8]) -> &mut Self {
        self.tag(field, LEN);
        self.varint_raw(v.len() as u64);
        self.buf.extend_from_slice(v);
        self
    }
}

/// A field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    /// Varint.
    Varint(u64),
    /// 64-bit.
    Fixed64(u64),
    /// Length-delimited.
    Bytes(&'a [u8]),
    /// 32-bit.
    Fixed32(u32),
}

fn read_varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos)?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// The fields of a message, in order; `None` if it is malformed.
pub fn fields(buf: &[u8]) -> Option<Vec<(u32, Value<'_>)>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let key = read_varint(buf, &mut pos)?;
        let field = u32::try_from(key >> 3).ok()?;
        let value = match (key & 7) as u8 {
            VARINT => Value::Varint(read_varint(buf, &mut pos)?),
            FIXED64 => {
                let b = buf.get(pos..pos + 8)?;
                pos += 8;
                Value::Fixed64(u64::from_le_bytes(b.try_into().ok()?))
            }
            LEN => {
                let len = usize::try_from(read_varint(buf, &mut pos)?).ok()?;
                let b = buf.get(pos..pos.checked_add(len)?)?;
                pos += len;
                Value::Bytes(b)
            }
            FIXED32 => {
                let b = buf.get(pos..pos + 4)?;
                pos += 4;
                Value::Fixed32(u32::from_le_bytes(b.try_into().ok()?))
            }
            _ => return None,
        };
        out.push((field, value));
    }
    Some(out)
}

/// The last value of `field` (protobuf: the last one wins).
pub fn field<'a>(fields: &[(u32, Value<'a>)], field: u32) -> Option<Value<'a>> {
    fields
        .iter()
        .rev()
        .find(|(f, _)| *f == field)
        .map(|(_, v)| *v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn writes_and_reads_every_wire_type() {
        let mut w = Writer::default();
        w.varint(1, 300).fixed32(2, 0xFFFF_FFFF).bytes(4, b"hi");
        assert_eq!(
            w.buf,
            [
                0x08, 0xAC, 0x02, 0x15, 0xFF, 0xFF, 0xFF, 0xFF, 0x22, 2, b'h', b'i'
            ]
        );
        let f = fields(&w.buf).unwrap_or_default();
        assert_eq!(field(&f, 1), Some(Value::Varint(300)));
        assert_eq!(field(&f, 2), Some(Value::Fixed32(u32::MAX)));
        assert_eq!(field(&f, 4), Some(Value::Bytes(b"hi")));
        assert_eq!(fields(&[0x22, 5, 1]), None);
    }

    proptest! {
        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = fields(&bytes);
        }
    }
}

//! Text compression for LoRa: a static, canonical Huffman code over bytes, built once from a
//! table of byte frequencies of French and English chat (UTF-8, so `é` is two common bytes).
//! No per-message table is sent; a short post of 100 French characters (about 105 UTF-8
//! bytes) shrinks to about 60. Every byte value has a code, so any UTF-8 text round-trips;
//! when the code would not be shorter, the text is sent as is.
//!
//! Format: `varint((len << 1) | huffman)`, then `len` raw bytes, or the bit stream of `len`
//! symbols (most significant bit first, padded with zero bits to a byte).

use std::sync::OnceLock;

use super::LoraError;
use super::bytes::{Reader, Writer};

/// The longest text accepted, in bytes (a post of 16 383 characters, 4 bytes each at most).
pub const MAX_TEXT_BYTES: usize = 4 * crate::event::MAX_POST_CHARS;

/// The sample the frequencies come from (what sailors write to each other).
const SAMPLE: &str = "Bonjour à tous, on lève l'ancre demain matin vers 7 h pour rejoindre la \
baie. Le vent d'ouest devrait forcir dans l'après-midi, prévoir un ris. Qui a la météo \
de ce soir ? Nous sommes au mouillage derrière la pointe, il y a de la place pour deux \
bateaux. Apéro à bord à 19 h, apportez des verres ! La marina est complète, on reste \
sur bouée. Attention aux casiers à l'entrée du chenal. Merci pour le fichier GRIB, \
très utile. On a cassé une latte de grand-voile, quelqu'un a une pièce de rechange ? \
Départ reporté à cause de la houle, on verra demain. Il fait beau, la mer est calme, \
les enfants se baignent. Rendez-vous au port vers midi pour faire le plein d'eau et de \
gasoil. Est-ce que vous êtes bien arrivés ? Oui, tout va bien, belle navigation. \
Good morning, we leave at dawn. Wind is picking up from the west, reef early. \
Anchored behind the point, there is room for two more boats. See you at the marina. \
Thanks for the weather file! Where are you now? We are ten miles south of the island.";

/// Extra weight for bytes the sample does not show often enough.
fn frequencies() -> [u32; 256] {
    let mut f = [1u32; 256];
    for b in SAMPLE.bytes() {
        f[usize::from(b)] += 8;
    }
    for b in b"0123456789.,:;!?'-()" {
        f[usize::from(*b)] += 6;
    }
    for b in b"\n" {
        f[usize::from(*b)] += 10;
    }
    f
}

/// A canonical Huffman code.
#[derive(Debug)]
struct Code {
    /// Code length of each byte value.
    len: [u8; 256],
    /// Code (right-aligned) of each byte value.
    code: [u32; 256],
    /// Symbols sorted by (length, value): the canonical order.
    sorted: Vec<u8>,
    /// How many codes have each length (index = length).
    count: [u32; 33],
}

fn code() -> &'static Code {
    static CODE: OnceLock<Code> = OnceLock::new();
    CODE.get_or_init(|| build(&frequencies()))
}

/// Code lengths by Huffman's algorithm (deterministic: ties broken by node order).
fn lengths(freq: &[u32; 256]) -> [u8; 256] {
    // nodes: (weight, id); leaves 0..256, internal nodes after; parent links.
    let mut weight: Vec<u64> = freq.iter().map(|&f| u64::from(f)).collect();
    let mut parent: Vec<usize> = vec![usize::MAX; 256];
    let mut live: std::collections::BTreeSet<(u64, usize)> =
        (0..256).map(|i| (weight[i], i)).collect();
    while live.len() > 1 {
        let (Some(a), Some(b)) = (live.pop_first(), live.pop_first()) else {
            break;
        };
        let id = weight.len();
        weight.push(a.0 + b.0);
        parent.push(usize::MAX);
        parent[a.1] = id;
        parent[b.1] = id;
        live.insert((a.0 + b.0, id));
    }
    let mut out = [0u8; 256];
    for (sym, l) in out.iter_mut().enumerate() {
        let mut depth = 0u8;
        let mut n = sym;
        while parent[n] != usize::MAX {
            n = parent[n];
            depth += 1;
        }
        *l = depth;
    }
    out
}

fn build(freq: &[u32; 256]) -> Code {
    let len = lengths(freq);
    let mut sorted: Vec<u8> = (0..=255u8).collect();
    sorted.sort_by_key(|&s| (len[usize::from(s)], s));
    let mut count = [0u32; 33];
    for &l in &len {
        count[usize::from(l.min(32))] += 1;
    }
    let mut code = [0u32; 256];
    let mut next = 0u32;
    let mut prev_len = 0u8;
    for &s in &sorted {
        let l = len[usize::from(s)];
        next <<= l - prev_len;
        code[usize::from(s)] = next;
        next += 1;
        prev_len = l;
    }
    Code {
        len,
        code,
        sorted,
        count,
    }
}

/// Appends `text` in the format above.
pub(crate) fn encode(text: &str, w: &mut Writer) {
    let c = code();
    let bytes = text.as_bytes();
    let bits: usize = bytes
        .iter()
        .map(|&b| usize::from(c.len[usize::from(b)]))
        .sum();
    let packed_len = bits.div_ceil(8);
    if packed_len >= bytes.len() {
        w.varint((bytes.len() as u64) << 1);
        w.raw(bytes);
        return;
    }
    w.varint(((bytes.len() as u64) << 1) | 1);
    let mut acc: u64 = 0;
    let mut nacc = 0u32;
    for &b in bytes {
        let l = u32::from(c.len[usize::from(b)]);
        acc = (acc << l) | u64::from(c.code[usize::from(b)]);
        nacc += l;
        while nacc >= 8 {
            nacc -= 8;
            w.u8((acc >> nacc) as u8);
        }
        acc &= (1u64 << nacc) - 1;
    }
    if nacc > 0 {
        w.u8((acc << (8 - nacc)) as u8);
    }
}

/// Reads a text written by [`encode`].
pub(crate) fn decode(r: &mut Reader<'_>) -> Result<String, LoraError> {
    let head = r.varint("text length")?;
    let len = usize::try_from(head >> 1).map_err(|_| LoraError::Invalid("text length"))?;
    if len > MAX_TEXT_BYTES {
        return Err(LoraError::Invalid("text length"));
    }
    let bytes = if head & 1 == 0 {
        r.take(len, "text")?.to_vec()
    } else {
        unpack(r, len)?
    };
    String::from_utf8(bytes).map_err(|_| LoraError::Invalid("text (not UTF-8)"))
}

fn unpack(r: &mut Reader<'_>, len: usize) -> Result<Vec<u8>, LoraError> {
    let c = code();
    let mut out = Vec::with_capacity(len);
    let mut byte = 0u8;
    let mut left = 0u32;
    while out.len() < len {
        // canonical decoding: walk lengths, comparing with the first code of each length
        let (mut code, mut first, mut index) = (0u32, 0u32, 0u32);
        let mut found = None;
        for l in 1..=32usize {
            if left == 0 {
                byte = r.u8("text bits")?;
                left = 8;
            }
            left -= 1;
            code = (code << 1) | u32::from((byte >> left) & 1);
            let n = c.count[l];
            if code < first + n {
                found = c.sorted.get((index + code - first) as usize).copied();
                break;
            }
            index += n;
            first = (first + n) << 1;
        }
        out.push(found.ok_or(LoraError::Invalid("text bits"))?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round(text: &str) -> (usize, String) {
        let mut w = Writer::default();
        encode(text, &mut w);
        let n = w.buf.len();
        let back = decode(&mut Reader::new(&w.buf));
        (n, back.unwrap_or_default())
    }

    #[test]
    fn french_chat_shrinks_by_a_third_or_more() {
        let text = "Le vent tourne au nord-ouest cet après-midi, on quitte le mouillage \
                    vers 15 h. Qui vient avec nous ?";
        assert_eq!(text.chars().count(), 100);
        let (n, back) = round(text);
        assert_eq!(back, text);
        assert!(n <= text.len() * 2 / 3, "{n} bytes for {}", text.len());
    }

    #[test]
    fn rare_bytes_fall_back_to_raw() {
        let text = "🌊🌊🌊⛵";
        let (n, back) = round(text);
        assert_eq!(back, text);
        assert_eq!(n, text.len() + 1);
    }

    proptest! {
        #[test]
        fn any_text_round_trips(text in ".{0,300}") {
            prop_assert_eq!(round(&text).1, text);
        }

        #[test]
        fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode(&mut Reader::new(&bytes));
        }
    }
}

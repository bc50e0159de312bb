//! [`ChunkSet`]: which chunks of a file a node holds, as a bitmap.

use serde::{Deserialize, Serialize};

/// A bitmap of `len` chunks; bit `i` (byte `i / 8`, bit `i % 8`) is chunk `i`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkSet {
    len: u32,
    bits: Vec<u8>,
}

/// A bitmap whose length does not match its chunk count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a bitmap of {got} bytes for {len} chunks")]
pub struct ChunkSetError {
    /// Chunk count.
    pub len: u32,
    /// Bytes received.
    pub got: usize,
}

impl ChunkSet {
    /// No chunk of `len`.
    pub fn empty(len: u32) -> Self {
        ChunkSet {
            len,
            bits: vec![0; (len as usize).div_ceil(8)],
        }
    }

    /// Every chunk of `len`.
    pub fn full(len: u32) -> Self {
        let mut s = Self::empty(len);
        for i in 0..len {
            s.insert(i);
        }
        s
    }

    /// A set from its bytes ([`ChunkSet::as_bytes`]); bits past `len` are ignored.
    ///
    /// # Errors
    /// [`ChunkSetError`] if `bytes` is not `ceil(len / 8)` long.
    pub fn from_bytes(len: u32, bytes: &[u8]) -> Result<Self, ChunkSetError> {
        if bytes.len() != (len as usize).div_ceil(8) {
            return Err(ChunkSetError {
                len,
                got: bytes.len(),
            });
        }
        let mut s = ChunkSet {
            len,
            bits: bytes.to_vec(),
        };
        if let (Some(last), r) = (s.bits.last_mut(), len % 8)
            && r != 0
        {
            *last &= (1u8 << r) - 1;
        }
        Ok(s)
    }

    /// The bitmap bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bits
    }

    /// The number of chunks of the file.
    pub fn len(&self) -> u32 {
        self.len
    }

    /// A file without chunks?
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds chunk `i` (ignored past the end); true if it was missing.
    pub fn insert(&mut self, i: u32) -> bool {
        if i >= self.len {
            return false;
        }
        let (byte, bit) = ((i / 8) as usize, 1u8 << (i % 8));
        let new = self.bits[byte] & bit == 0;
        self.bits[byte] |= bit;
        new
    }

    /// Removes chunk `i`.
    pub fn remove(&mut self, i: u32) {
        if i < self.len {
            self.bits[(i / 8) as usize] &= !(1u8 << (i % 8));
        }
    }

    /// Holds chunk `i`?
    pub fn contains(&self, i: u32) -> bool {
        i < self.len && self.bits[(i / 8) as usize] & (1u8 << (i % 8)) != 0
    }

    /// How many chunks are held.
    pub fn count(&self) -> u32 {
        self.bits.iter().map(|b| b.count_ones()).sum()
    }

    /// Every chunk held?
    pub fn is_full(&self) -> bool {
        self.count() == self.len
    }

    /// The chunks not held, in order.
    pub fn missing(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.len).filter(|i| !self.contains(*i))
    }
}

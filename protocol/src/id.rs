//! Identifiers: [`EventId`], [`FlotillaId`], [`ChannelId`], [`InviteId`], [`FileId`].
//!
//! Every id has one canonical text form, lowercase hex, used by `Display` and `FromStr`,
//! and a short form ([`EventId::fmt_short`]) for logs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The text form of an id did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseIdError {
    /// Wrong number of hex characters.
    #[error("expected {expected} hex characters, got {got}")]
    Length {
        /// How many characters the id needs.
        expected: usize,
        /// How many were given.
        got: usize,
    },
    /// A character outside `0-9a-fA-F`.
    #[error("invalid hex character at position {0}")]
    Char(usize),
}

/// Encodes bytes as lowercase hex.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0x0f) as usize] as char);
    }
    out
}

/// Decodes exactly `N` bytes of hex (either case).
///
/// # Errors
/// [`ParseIdError`] on a wrong length or a non-hex character.
pub fn from_hex<const N: usize>(s: &str) -> Result<[u8; N], ParseIdError> {
    let s = s.as_bytes();
    if s.len() != N * 2 {
        return Err(ParseIdError::Length {
            expected: N * 2,
            got: s.len(),
        });
    }
    let nibble = |i: usize| -> Result<u8, ParseIdError> {
        match s[i] {
            c @ b'0'..=b'9' => Ok(c - b'0'),
            c @ b'a'..=b'f' => Ok(c - b'a' + 10),
            c @ b'A'..=b'F' => Ok(c - b'A' + 10),
            _ => Err(ParseIdError::Char(i)),
        }
    };
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = (nibble(2 * i)? << 4) | nibble(2 * i + 1)?;
    }
    Ok(out)
}

macro_rules! byte_id {
    ($(#[$doc:meta])* $name:ident, $len:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            /// Length of the id in bytes.
            pub const LEN: usize = $len;

            /// The raw bytes.
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            /// The first 8 hex characters, for logs.
            pub fn fmt_short(&self) -> String {
                to_hex(&self.0[..4])
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&to_hex(&self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.fmt_short())
            }
        }

        impl FromStr for $name {
            type Err = ParseIdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                from_hex::<$len>(s).map($name)
            }
        }
    };
}

byte_id!(
    /// The id of an event: BLAKE3 of its canonical envelope bytes.
    EventId,
    32
);
byte_id!(
    /// A flotilla (Mattermost's "team"): 16 random bytes chosen at genesis.
    FlotillaId,
    16
);
byte_id!(
    /// A channel of a flotilla: 16 bytes, random, or derived for the default channels.
    ChannelId,
    16
);
byte_id!(
    /// An invite: 16 random bytes; the secret that goes with it never enters an event.
    InviteId,
    16
);
byte_id!(
    /// A file's content address: BLAKE3 of the whole file.
    FileId,
    32
);

impl EventId {
    /// The id of the given canonical envelope bytes.
    pub fn of(envelope_bytes: &[u8]) -> Self {
        EventId(*blake3::hash(envelope_bytes).as_bytes())
    }
}

impl ChannelId {
    /// The pseudo-channel that carries a flotilla's control events (membership, roles,
    /// invites, channel structure). Synced like any channel.
    pub const CONTROL: ChannelId = ChannelId([0u8; 16]);

    /// A channel id derived from the flotilla and a name, so that every node agrees on the
    /// ids of the default channels (`town-square`, `off-topic`) without talking.
    pub fn derived(flotilla: &FlotillaId, name: &str) -> Self {
        let mut h = blake3::Hasher::new_derive_key("flotilla/v1 default channel id");
        h.update(&flotilla.0);
        h.update(name.as_bytes());
        let mut out = [0u8; 16];
        out.copy_from_slice(&h.finalize().as_bytes()[..16]);
        ChannelId(out)
    }

    /// Is this the control pseudo-channel?
    pub fn is_control(&self) -> bool {
        *self == Self::CONTROL
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_errors() {
        let id = EventId::of(b"hello");
        let text = id.to_string();
        assert_eq!(text.len(), 64);
        assert_eq!(text.parse::<EventId>(), Ok(id));
        assert_eq!(text.to_uppercase().parse::<EventId>(), Ok(id));
        assert!(matches!(
            "abc".parse::<EventId>(),
            Err(ParseIdError::Length { .. })
        ));
        let bad = format!("{}zz", &text[..62]);
        assert_eq!(bad.parse::<EventId>(), Err(ParseIdError::Char(62)));
    }

    #[test]
    fn derived_channel_ids_are_stable_and_distinct() {
        let f = FlotillaId([7; 16]);
        assert_eq!(
            ChannelId::derived(&f, "town-square"),
            ChannelId::derived(&f, "town-square")
        );
        assert_ne!(
            ChannelId::derived(&f, "town-square"),
            ChannelId::derived(&f, "off-topic")
        );
        assert!(!ChannelId::derived(&f, "x").is_control());
    }
}

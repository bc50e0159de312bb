//! Test helpers for this crate and the `flotilla-tests` crate (feature `test-utils`):
//! valid signed events made from a seed, without the author module.

use flotilla_protocol as proto;
use proto::entropy::{Entropy, SeededEntropy};
use proto::event::{ENVELOPE_VERSION, Envelope, Kind, Sealed, SignedEvent};
use proto::hlc::Hlc;
use proto::id::{ChannelId, EventId, FlotillaId};
use proto::{PublicKey, SecretKey};

/// Makes sealed content events (random ciphertext) signed by one key, in one flotilla.
#[derive(Debug)]
pub struct EventMaker {
    key: SecretKey,
    flotilla: FlotillaId,
    rng: SeededEntropy,
}

impl EventMaker {
    /// A maker whose key, flotilla and ciphertexts all derive from `seed`.
    pub fn new(seed: u64) -> Self {
        let mut rng = SeededEntropy::new(seed);
        let key = SecretKey::generate(&mut rng);
        let flotilla = FlotillaId(rng.array());
        EventMaker { key, flotilla, rng }
    }

    /// The signing key's public half.
    pub fn author(&self) -> PublicKey {
        self.key.public()
    }

    /// The flotilla every event belongs to.
    pub fn flotilla(&self) -> FlotillaId {
        self.flotilla
    }

    /// The `n`th test channel of the flotilla (never the control channel).
    pub fn channel(&self, n: u32) -> ChannelId {
        ChannelId::derived(&self.flotilla, &format!("test-{n}"))
    }

    /// A signed sealed event in `channel` at `hlc`, with 16..80 bytes of random ciphertext.
    ///
    /// # Panics
    /// If signing fails, which only a bug in this helper can cause.
    pub fn event(&mut self, channel: ChannelId, hlc: Hlc) -> SignedEvent {
        let len = 16 + (self.rng.next_u64() % 64) as usize;
        let mut ciphertext = vec![0; len];
        self.rng.fill(&mut ciphertext);
        let sealed = Sealed {
            key: EventId([1; 32]),
            nonce: self.rng.array(),
            ciphertext,
        };
        let envelope = Envelope {
            v: ENVELOPE_VERSION,
            flotilla: self.flotilla,
            channel,
            author: self.key.public(),
            hlc,
            deps: vec![EventId([2; 32])],
            kind: Kind::SEALED,
            payload: postcard::to_stdvec(&sealed).expect("a Sealed always encodes"),
        };
        SignedEvent::sign(envelope, &self.key).expect("test envelope is valid")
    }
}

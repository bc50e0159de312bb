//! [`Snapshot::digest`]: BLAKE3 over a canonical encoding of a snapshot.
//!
//! The encoding is written by hand rather than through serde, so that it is fixed here, in
//! one place, and cannot fail. Integers are little-endian `u64`; fixed-size ids and keys are
//! their raw bytes; strings and byte strings are a length then the bytes; sequences and maps
//! are a count then their items (maps in key order); options and booleans are one byte. The
//! hash is keyed by a versioned context string, so a change of encoding changes the context.

use std::collections::{BTreeMap, BTreeSet};

use super::view::{ChannelSnapshot, ChannelView, PostView, Snapshot};
use crate::crypto::PublicKey;
use crate::hlc::Hlc;

const DIGEST_CONTEXT: &str = "flotilla/v1 fold snapshot digest";

impl Snapshot {
    /// BLAKE3 of the snapshot's canonical encoding: equal snapshots, equal digests.
    pub fn digest(&self) -> [u8; 32] {
        let mut enc = Encoder(blake3::Hasher::new_derive_key(DIGEST_CONTEXT));
        enc.len(self.channels.len());
        for (id, channel) in &self.channels {
            enc.raw(&id.0);
            enc.channel(channel);
        }
        *enc.0.finalize().as_bytes()
    }
}

/// Feeds the canonical encoding straight into the hasher.
struct Encoder(blake3::Hasher);

impl Encoder {
    fn raw(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn u64(&mut self, v: u64) {
        self.raw(&v.to_le_bytes());
    }

    fn len(&mut self, n: usize) {
        self.u64(n as u64);
    }

    fn flag(&mut self, b: bool) {
        self.raw(&[u8::from(b)]);
    }

    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.raw(s.as_bytes());
    }

    fn hlc(&mut self, t: Hlc) {
        self.u64(t.ms);
        self.u64(u64::from(t.logical));
    }

    fn keys<'a>(&mut self, keys: impl ExactSizeIterator<Item = &'a PublicKey>) {
        self.len(keys.len());
        for k in keys {
            self.raw(&k.0);
        }
    }

    fn channel(&mut self, c: &ChannelSnapshot) {
        self.channel_view(&c.view);
        self.len(c.timeline.len());
        for post in &c.timeline {
            self.post(post);
        }
    }

    fn channel_view(&mut self, v: &ChannelView) {
        self.str(&v.name);
        self.str(&v.header);
        self.str(&v.purpose);
        self.flag(v.archived);
        self.len(v.pinned.len());
        for id in &v.pinned {
            self.raw(&id.0);
        }
    }

    fn post(&mut self, p: &PostView) {
        self.raw(&p.id.0);
        self.raw(&p.channel.0);
        self.raw(&p.author.0);
        self.hlc(p.hlc);
        self.str(&p.text);
        self.flag(p.edited);
        self.flag(p.root.is_some());
        if let Some(root) = &p.root {
            self.raw(&root.0);
        }
        self.len(p.files.len());
        for f in &p.files {
            self.raw(&f.0);
        }
        self.keys(p.mentions.iter());
        self.reactions(&p.reactions);
        self.len(p.reply_count);
        self.flag(p.pinned);
    }

    fn reactions(&mut self, r: &BTreeMap<String, BTreeSet<PublicKey>>) {
        self.len(r.len());
        for (emoji, users) in r {
            self.str(emoji);
            self.keys(users.iter());
        }
    }
}

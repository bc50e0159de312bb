//! Entry points for fuzzing every decoder that reads bytes from the network or the disk,
//! and the markdown renderer (fuzz/ runs them under AFL++; a test here replays the kept
//! corpus through them in `cargo test`).
//!
//! Each target takes arbitrary bytes and must never panic. Where an encoder exists, what
//! decodes must encode again and decode to the same value (a decoder that accepts what the
//! encoder cannot write back is a bug too).
//!
//! | target | decoder | bytes from |
//! | --- | --- | --- |
//! | `wire_frame` | [`proto::wire::decode`] | peers (sync frames) |
//! | `signed_event` | [`proto::SignedEvent::decode`] | peers, gossip, the store |
//! | `invite_code` | `InviteCode::from_str` | users, other boats |
//! | `rr_codec` | [`codec::split_frame`], `Request`/`Response::from_body` | peers |
//! | `stored_record` | the store's keys and values (first byte picks which) | the disk |
//! | `markdown` | [`crate::markdown::render`] | post authors |

use flotilla_protocol as proto;

use crate::net::codec::{self, Request, Response};
use crate::store::{Account, StoredSession, StoredToken};

/// A fuzz target: takes any bytes, panics only on a bug.
pub type Target = fn(&[u8]);

/// The targets, by name (fuzz/'s binaries and corpus folders use these names).
pub const TARGETS: [(&str, Target); 6] = [
    ("wire_frame", wire_frame),
    ("signed_event", signed_event),
    ("invite_code", invite_code),
    ("rr_codec", rr_codec),
    ("stored_record", stored_record),
    ("markdown", markdown),
];

/// A sync frame from a peer.
pub fn wire_frame(data: &[u8]) {
    if let Ok(msg) = proto::wire::decode(data) {
        #[allow(clippy::expect_used)] // a decoded frame must encode: a failure is the finding
        let again = proto::wire::encode(&msg).expect("a decoded frame encodes");
        assert_eq!(
            proto::wire::decode(&again).ok(),
            Some(msg),
            "frame round trip"
        );
    }
}

/// A signed event (gossip, sync, the store).
pub fn signed_event(data: &[u8]) {
    if let Ok(event) = proto::SignedEvent::decode(data) {
        assert_eq!(event.bytes(), data, "an event is its canonical bytes");
        let again = proto::SignedEvent::decode(event.bytes()).ok();
        assert_eq!(again.map(|e| e.id()), Some(event.id()), "event round trip");
    }
}

/// An invite code, as text.
pub fn invite_code(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(code) = text.parse::<proto::author::InviteCode>() {
        let again = code.to_string().parse::<proto::author::InviteCode>().ok();
        assert_eq!(again.map(|c| c.to_string()), Some(code.to_string()));
    }
}

/// A request-response frame: the first byte says request (even) or response (odd), the rest
/// is the length-prefixed frame as read from a stream.
pub fn rr_codec(data: &[u8]) {
    let Some((&kind, frame)) = data.split_first() else {
        return;
    };
    let Ok(body) = codec::split_frame(frame) else {
        return;
    };
    if kind % 2 == 0 {
        if let Ok(req) = Request::from_body(body)
            && let Ok(again) = req.to_body()
        {
            assert!(Request::from_body(&again).is_ok(), "request round trip");
        }
    } else if let Ok(resp) = Response::from_body(body) {
        #[allow(clippy::expect_used)] // a decoded response must encode
        let again = postcard::to_stdvec(&resp).expect("a decoded response encodes");
        assert_eq!(
            Response::from_body(&again).ok(),
            Some(resp),
            "response round trip"
        );
    }
}

/// A stored key or value; the first byte picks the record kind.
pub fn stored_record(data: &[u8]) {
    use crate::store::keys;
    let Some((&kind, bytes)) = data.split_first() else {
        return;
    };
    match kind % 8 {
        0 => {
            let _ = keys::decode_item(bytes);
        }
        1 => {
            let _ = keys::decode_channel(bytes);
        }
        2 => {
            let _ = keys::decode_hlc(bytes);
        }
        3 => {
            let _ = keys::decode_at(bytes);
        }
        4 => {
            let _ = postcard::from_bytes::<Account>(bytes);
        }
        5 => {
            let _ = postcard::from_bytes::<StoredSession>(bytes);
        }
        6 => {
            let _ = postcard::from_bytes::<StoredToken>(bytes);
        }
        _ => {
            let _ = proto::SignedEvent::decode(bytes);
        }
    }
}

/// A post's markdown, rendered for the web UI.
pub fn markdown(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let html = crate::markdown::render(&text, &crate::markdown::RenderCtx::anonymous());
    assert!(
        !html.contains("<script"),
        "the renderer let a script through"
    );
    let _ = crate::markdown::mentioned_usernames(&text);
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::TARGETS;

    /// The CI smoke of the fuzzers: every input of the kept corpus (fuzz/corpus/<target>/,
    /// crashes found included once fixed: fuzz/regressions/<target>/) goes through its target.
    #[test]
    fn the_fuzz_corpus_replays_without_a_panic() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
        let mut replayed = 0;
        for (name, target) in TARGETS {
            for folder in ["corpus", "regressions"] {
                let Ok(dir) = std::fs::read_dir(root.join(folder).join(name)) else {
                    continue;
                };
                for entry in dir.flatten() {
                    if let Ok(bytes) = std::fs::read(entry.path()) {
                        target(&bytes);
                        replayed += 1;
                    }
                }
            }
            target(&[]);
            target(&[0xff; 64]);
        }
        println!("fuzz smoke: {replayed} kept inputs replayed");
    }
}

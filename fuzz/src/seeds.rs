//! A few valid inputs per target, to start a corpus from (AFL++ needs at least one).

use std::path::Path;

use flotilla_node::net::codec::{Request, Response};
use flotilla_node::test_utils::EventMaker;
use flotilla_protocol::author::InviteCode;
use flotilla_protocol::hlc::Hlc;
use flotilla_protocol::id::{EventId, InviteId};
use flotilla_protocol::wire::{self, ChannelSummary, PeerMsg};

/// Writes `dir/<target>/seed-<n>` files.
pub(crate) fn write(dir: &Path) -> std::io::Result<()> {
    let mut maker = EventMaker::new(7);
    let (flotilla, channel) = (maker.flotilla(), maker.channel(0));
    let event = maker.event(channel, Hlc::at(1_700_000_000_000));
    let msgs = [
        PeerMsg::Hello {
            flotilla,
            summaries: vec![ChannelSummary {
                channel,
                count: 3,
                fingerprint: [9; 16],
            }],
        },
        PeerMsg::Want {
            flotilla,
            ids: vec![event.id()],
        },
        PeerMsg::Events {
            flotilla,
            events: vec![event.bytes().to_vec()],
        },
        PeerMsg::Reconcile {
            flotilla,
            channel,
            round: 1,
            msg: vec![0x61, 0, 1, 2],
        },
    ];
    let frames: Vec<Vec<u8>> = msgs.iter().filter_map(|m| wire::encode(m).ok()).collect();
    let code = InviteCode {
        genesis: EventId([3; 32]),
        invite: InviteId([4; 16]),
        secret: flotilla_protocol::crypto::SecretKey::from_bytes(&[5; 32]),
    };
    let framed = |kind: u8, body: Vec<u8>| {
        let mut out = vec![kind];
        out.extend_from_slice(&(body.len() as u32).to_be_bytes());
        out.extend(body);
        out
    };
    let mut rr = Vec::new();
    for m in msgs {
        if let Ok(body) = Request::Sync(m).to_body() {
            rr.push(framed(0, body));
        }
    }
    let responses = [
        Response::Ack,
        Response::Joined {
            genesis: EventId([3; 32]),
            flotilla,
        },
    ];
    for r in responses {
        if let Ok(body) = postcard::to_stdvec(&r) {
            rr.push(framed(1, body));
        }
    }
    let mut stored = vec![[&[7u8][..], event.bytes()].concat()];
    stored.push([&[2u8][..], &[0, 0, 1, 0x8b, 0, 0, 0, 0, 0, 1]].concat());
    let markdown = [
        "**bold** _it_ `code` ~~gone~~ :sailboat: @channel ~town-square #regate https://example.org",
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n- [ ] todo\n\n> quote\n\n```rust\nfn main() {}\n```",
        "<script>alert(1)</script> [x](javascript:alert(1)) ![i](http://x/y.png) <b onclick=x>hi</b>",
    ];
    let sets: [(&str, Vec<Vec<u8>>); 6] = [
        ("wire_frame", frames),
        ("signed_event", vec![event.bytes().to_vec()]),
        ("invite_code", vec![code.to_string().into_bytes()]),
        ("rr_codec", rr),
        ("stored_record", stored),
        (
            "markdown",
            markdown.iter().map(|m| m.as_bytes().to_vec()).collect(),
        ),
    ];
    for (target, inputs) in sets {
        let folder = dir.join(target);
        std::fs::create_dir_all(&folder)?;
        for (n, bytes) in inputs.iter().enumerate() {
            std::fs::write(folder.join(format!("seed-{n}")), bytes)?;
        }
    }
    Ok(())
}

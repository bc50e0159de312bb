//! Codec tests: every event kind round-trips through sign → bytes → decode; arbitrary and
//! mutated bytes never panic the decoder; limits are enforced.

use proptest::prelude::*;

use super::*;
use crate::entropy::SeededEntropy;
use crate::id::{ChannelId, EventId, FileId, FlotillaId, InviteId};
use crate::keyring::Keyring;

fn key() -> SecretKey {
    SecretKey::from_bytes(&[42; 32])
}

fn arb_pk() -> impl Strategy<Value = PublicKey> {
    any::<[u8; 32]>().prop_map(PublicKey)
}

fn arb_name() -> impl Strategy<Value = String> {
    "[a-zA-Zé0-9 _-]{1,20}".prop_filter("not blank", |s| !s.trim().is_empty())
}

fn arb_box() -> impl Strategy<Value = SealedBox> {
    (
        any::<[u8; 32]>(),
        any::<[u8; 24]>(),
        proptest::collection::vec(any::<u8>(), 0..80),
    )
        .prop_map(|(ephemeral, nonce, ciphertext)| SealedBox {
            ephemeral,
            nonce,
            ciphertext,
        })
}

fn arb_sig() -> impl Strategy<Value = Signature> {
    (any::<[u8; 32]>(), any::<[u8; 32]>()).prop_map(|(a, b)| {
        let mut s = [0u8; 64];
        s[..32].copy_from_slice(&a);
        s[32..].copy_from_slice(&b);
        Signature(s)
    })
}

fn arb_proof() -> impl Strategy<Value = crate::proof::AdmitProof> {
    (
        proptest::option::of((any::<[u8; 16]>(), arb_sig())),
        arb_sig(),
    )
        .prop_map(|(invite, node_sig)| crate::proof::AdmitProof {
            invite: invite.map(|(i, sig)| crate::proof::InviteSig {
                invite: InviteId(i),
                sig,
            }),
            node_sig,
        })
}

fn arb_rotations() -> impl Strategy<Value = Vec<ChannelRotation>> {
    proptest::collection::btree_map(any::<[u8; 16]>(), arb_seals(), 0..3).prop_map(|m| {
        m.into_iter()
            .map(|(c, seals)| ChannelRotation {
                channel: ChannelId(c),
                seals,
                commit: [c[0]; 32],
            })
            .collect()
    })
}

fn arb_seals() -> impl Strategy<Value = Vec<NodeSeal>> {
    proptest::collection::vec(
        (arb_pk(), arb_box()).prop_map(|(node, sealed)| NodeSeal { node, sealed }),
        0..4,
    )
}

fn arb_node() -> impl Strategy<Value = NodeInfo> {
    (arb_pk(), any::<[u8; 32]>(), arb_name()).prop_map(|(key, x, name)| NodeInfo {
        key,
        x25519: X25519Public(x),
        name,
    })
}

fn arb_cut() -> impl Strategy<Value = crate::event::Cut> {
    prop_oneof![
        Just(crate::event::Cut::NONE),
        (1..u64::MAX, arb_id()).prop_map(|(seq, id)| crate::event::Cut {
            seq,
            head: Some(id)
        }),
    ]
}

fn arb_control() -> impl Strategy<Value = Control> {
    let ch = any::<[u8; 16]>().prop_map(ChannelId);
    prop_oneof![
        (arb_name(), arb_node(), arb_pk(), arb_name(), arb_box()).prop_map(
            |(name, founder, admin, username, keys)| {
                let admin = UserInfo {
                    key: admin,
                    username,
                    home: founder.key,
                };
                Control::Genesis {
                    name,
                    founder,
                    admin,
                    keys,
                    commit: [5; 32],
                }
            }
        ),
        (arb_node(), arb_proof(), arb_box()).prop_map(|(node, proof, keys)| Control::NodeAdmit {
            node,
            proof,
            keys
        }),
        (arb_pk(), arb_cut(), arb_seals(), arb_rotations()).prop_map(
            |(node, cut, rotation, channels)| Control::NodeRemove {
                node,
                cuts: vec![(node, cut)],
                rotation,
                commit: [6; 32],
                channels
            }
        ),
        (arb_pk(), arb_name(), arb_pk(), arb_sig()).prop_map(|(key, username, home, sig)| {
            Control::UserAdd {
                user: UserInfo {
                    key,
                    username,
                    home,
                },
                sig,
            }
        }),
        (arb_pk(), arb_cut(), arb_seals(), arb_rotations()).prop_map(
            |(user, cut, rotation, channels)| Control::UserRemove {
                user,
                cut,
                rotation,
                commit: [7; 32],
                channels
            }
        ),
        arb_pk().prop_map(|user| Control::RoleGrant {
            user,
            role: Role::Admin
        }),
        (arb_pk(), arb_cut()).prop_map(|(user, cut)| Control::RoleRevoke {
            user,
            role: Role::Admin,
            cut
        }),
        (
            any::<[u8; 16]>(),
            arb_pk(),
            any::<Option<u64>>(),
            proptest::option::of(1u32..)
        )
            .prop_map(|(i, key, expires_ms, max_uses)| Control::InviteCreate {
                invite: InviteId(i),
                key,
                expires_ms,
                max_uses
            }),
        any::<[u8; 16]>().prop_map(|i| Control::InviteRevoke {
            invite: InviteId(i)
        }),
        (
            ch.clone(),
            proptest::collection::vec(arb_pk(), 0..4),
            arb_seals()
        )
            .prop_map(|(channel, members, keys)| Control::ChannelCreate {
                channel,
                private: true,
                members,
                keys,
                commit: Some([8; 32])
            }),
        ch.clone().prop_map(|channel| Control::ChannelCreate {
            channel,
            private: false,
            members: vec![],
            keys: vec![],
            commit: None
        }),
        (ch.clone(), arb_pk(), arb_seals()).prop_map(|(channel, user, keys)| {
            Control::ChannelMemberAdd {
                channel,
                user,
                keys,
            }
        }),
        (ch, arb_pk(), arb_seals()).prop_map(|(channel, user, rotation)| {
            Control::ChannelMemberRemove {
                channel,
                user,
                rotation,
                commit: None,
            }
        }),
        (
            "[a-z ]{0,30}",
            "[a-z ]{0,30}",
            "[a-z ]{0,30}",
            proptest::option::of(any::<[u8; 32]>())
        )
            .prop_map(|(display_name, full_name, position, picture)| {
                Control::Profile {
                    display_name,
                    full_name,
                    position,
                    picture: picture.map(FileId),
                }
            }),
    ]
}

fn arb_id() -> impl Strategy<Value = EventId> {
    any::<[u8; 32]>().prop_map(EventId)
}

fn arb_content() -> impl Strategy<Value = Content> {
    prop_oneof![
        (arb_name(), ".{0,40}", ".{0,40}").prop_map(|(name, header, purpose)| {
            Content::ChannelInfo {
                name,
                header,
                purpose,
            }
        }),
        any::<bool>().prop_map(|archived| Content::ChannelArchive { archived }),
        (
            ".{0,200}",
            proptest::option::of(arb_id()),
            proptest::collection::vec(any::<[u8; 32]>().prop_map(FileId), 0..3),
            proptest::collection::vec(arb_pk(), 0..3)
        )
            .prop_map(|(text, root, files, mentions)| Content::Post {
                text,
                root,
                files,
                mentions
            }),
        (arb_id(), ".{0,100}").prop_map(|(target, text)| Content::Edit { target, text }),
        arb_id().prop_map(|target| Content::Delete { target }),
        (arb_id(), arb_name()).prop_map(|(target, emoji)| Content::ReactionAdd { target, emoji }),
        (arb_id(), arb_name())
            .prop_map(|(target, emoji)| Content::ReactionRemove { target, emoji }),
        arb_id().prop_map(|target| Content::Pin { target }),
        arb_id().prop_map(|target| Content::Unpin { target }),
        (
            any::<[u8; 32]>(),
            arb_name(),
            proptest::collection::vec(any::<[u8; 32]>(), 0..5)
        )
            .prop_map(|(f, name, chunks)| {
                let size = chunks.len() as u64 * 1000;
                Content::FileManifest {
                    file: FileId(f),
                    name,
                    size,
                    mime: "application/octet-stream".into(),
                    chunk_size: 1000,
                    chunks,
                }
            }),
    ]
}

fn envelope(channel: ChannelId, kind: Kind, payload: Vec<u8>, genesis: bool) -> Envelope {
    let deps = if genesis {
        vec![]
    } else {
        vec![EventId([1; 32])]
    };
    Envelope {
        v: ENVELOPE_VERSION,
        flotilla: FlotillaId([3; 16]),
        channel,
        author: key().public(),
        hlc: Hlc {
            ms: 1_750_000_000_000,
            logical: 2,
        },
        seq: 1,
        prev: None,
        deps,
        kind,
        payload,
    }
}

proptest! {
    #[test]
    fn every_control_kind_round_trips(control in arb_control()) {
        let genesis = matches!(control, Control::Genesis { .. });
        let payload = postcard::to_stdvec(&control).expect("encode");
        let ev = SignedEvent::sign(envelope(ChannelId::CONTROL, Kind::CONTROL, payload, genesis), &key()).expect("sign");
        let back = SignedEvent::decode(ev.bytes()).expect("decode");
        prop_assert_eq!(&back, &ev);
        prop_assert_eq!(back.control(), Some(control));
    }

    #[test]
    fn every_content_kind_round_trips_encrypted(content in arb_content(), seed in any::<u64>()) {
        let mut rng = SeededEntropy::new(seed);
        let mut ring = Keyring::new();
        let key_id = EventId([1; 32]);
        ring.insert(key_id, crate::crypto::SymmetricKey::generate(&mut rng));
        let channel = ChannelId([5; 16]);
        let env = envelope(channel, Kind::SEALED, vec![], false);
        let sealed = ring.seal_content(&env.flotilla, &channel, key_id, &env.author, &content, &mut rng).expect("seal");
        let env = Envelope { payload: postcard::to_stdvec(&sealed).expect("encode"), ..env };
        let ev = SignedEvent::sign(env, &key()).expect("sign");
        let back = SignedEvent::decode(ev.bytes()).expect("decode");
        prop_assert_eq!(&back, &ev);
        prop_assert_eq!(ring.open_content(&back).expect("open"), content);
    }

    #[test]
    fn unknown_kinds_are_kept_opaque(kind in 3u16.., payload in proptest::collection::vec(any::<u8>(), 0..300)) {
        let ev = SignedEvent::sign(envelope(ChannelId([5; 16]), Kind(kind), payload.clone(), false), &key()).expect("sign");
        let back = SignedEvent::decode(ev.bytes()).expect("decode");
        prop_assert_eq!(back.envelope().payload.clone(), payload);
        prop_assert!(back.control().is_none() && back.sealed().is_none());
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = SignedEvent::decode(&bytes);
    }

    #[test]
    fn decoding_mutated_events_never_panics_and_never_accepts(control in arb_control(), pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let genesis = matches!(control, Control::Genesis { .. });
        let payload = postcard::to_stdvec(&control).expect("encode");
        let ev = SignedEvent::sign(envelope(ChannelId::CONTROL, Kind::CONTROL, payload, genesis), &key()).expect("sign");
        let mut bytes = ev.bytes().to_vec();
        let i = pos.index(bytes.len());
        prop_assume!(bytes[i] != byte);
        bytes[i] = byte;
        prop_assert!(SignedEvent::decode(&bytes).is_err());
    }
}

#[test]
fn limits_are_enforced_with_typed_errors() {
    let long = "é".repeat(MAX_POST_CHARS + 1);
    let post = Content::Post {
        text: long,
        root: None,
        files: vec![],
        mentions: vec![],
    };
    assert!(
        matches!(post.check(), Err(InvalidEvent::FieldTooLong { field: "text", len, max: MAX_POST_CHARS }) if len == MAX_POST_CHARS + 1)
    );
    let ok = Content::Post {
        text: "é".repeat(MAX_POST_CHARS),
        root: None,
        files: vec![],
        mentions: vec![],
    };
    assert_eq!(ok.check(), Ok(()));
    let big = envelope(ChannelId([5; 16]), Kind(77), vec![0; MAX_EVENT_SIZE], false);
    assert!(matches!(
        SignedEvent::sign(big, &key()),
        Err(InvalidEvent::TooLarge { .. })
    ));
    assert!(matches!(
        SignedEvent::decode(&vec![0; MAX_EVENT_SIZE + 1]),
        Err(InvalidEvent::TooLarge { .. })
    ));
    let many = Envelope {
        deps: (0..=MAX_DEPS as u8).map(|i| EventId([i; 32])).collect(),
        ..envelope(ChannelId([5; 16]), Kind(77), vec![], false)
    };
    assert!(matches!(
        SignedEvent::sign(many, &key()),
        Err(InvalidEvent::FieldTooLong { field: "deps", .. })
    ));
    let wrong_author = SignedEvent::sign(
        envelope(ChannelId([5; 16]), Kind(77), vec![], false),
        &SecretKey::from_bytes(&[1; 32]),
    );
    assert!(matches!(wrong_author, Err(InvalidEvent::BadField(_))));
    let content_in_control = envelope(ChannelId::CONTROL, Kind::SEALED, vec![], false);
    assert!(SignedEvent::sign(content_in_control, &key()).is_err());
}

fn profile(full_name: &str, position: &str) -> Control {
    Control::Profile {
        display_name: "Marie".into(),
        full_name: full_name.into(),
        position: position.into(),
        picture: Some(FileId([9; 32])),
    }
}

fn profile_envelope(control: &Control) -> Envelope {
    let payload = postcard::to_stdvec(control).expect("encode");
    envelope(ChannelId::CONTROL, Kind::CONTROL, payload, false)
}

#[test]
fn profile_fields_are_bounded() {
    let ok = profile(&"é".repeat(MAX_NAME_CHARS), &"p".repeat(MAX_POSITION_CHARS));
    let ev = SignedEvent::sign(profile_envelope(&ok), &key()).expect("at the limits");
    assert_eq!(
        SignedEvent::decode(ev.bytes()).expect("decodes").control(),
        Some(ok)
    );
    let long_name = profile(&"x".repeat(MAX_NAME_CHARS + 1), "");
    assert_eq!(
        SignedEvent::sign(profile_envelope(&long_name), &key()),
        Err(InvalidEvent::FieldTooLong {
            field: "full name",
            len: MAX_NAME_CHARS + 1,
            max: MAX_NAME_CHARS
        })
    );
    let long_position = profile("", &"x".repeat(MAX_POSITION_CHARS + 1));
    assert!(matches!(
        SignedEvent::sign(profile_envelope(&long_position), &key()),
        Err(InvalidEvent::FieldTooLong {
            field: "position",
            ..
        })
    ));
}

/// Another member cannot put a profile under someone else's name: a profile names no
/// subject, so it would need the victim as author, and only the victim's key signs that.
#[test]
fn a_forged_profile_is_refused() {
    let mallory = SecretKey::from_bytes(&[7; 32]);
    let victim_env = profile_envelope(&profile("Faux Nom", "pirate"));
    assert_eq!(
        SignedEvent::sign(victim_env.clone(), &mallory),
        Err(InvalidEvent::BadField("author (not the signing key)"))
    );
    let env_bytes = postcard::to_stdvec(&victim_env).expect("encode");
    let signature = mallory.sign(&signing_message(&EventId::of(&env_bytes)));
    let forged = postcard::to_stdvec(&RawEvent {
        envelope: env_bytes,
        signature,
    })
    .expect("encode");
    assert_eq!(
        SignedEvent::decode(&forged),
        Err(InvalidEvent::Signature(CryptoError::BadSignature))
    );
}

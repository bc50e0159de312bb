#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use proto::crypto::X25519Public;
use proto::event::{NodeInfo, UserInfo};
use proto::membership::{NodeState, UserState};

use super::*;

fn key(n: u8) -> PublicKey {
    PublicKey([n; 32])
}

/// Boats 1 (Ondine) and 2 (Kerlouan); `skipper` on both, `anne` on Ondine only.
fn fleet() -> AuthState {
    let mut auth = AuthState::default();
    for (k, name) in [(1, "Ondine"), (2, "Kerlouan")] {
        let info = NodeInfo {
            key: key(k),
            x25519: X25519Public([k; 32]),
            name: name.into(),
        };
        auth.nodes.insert(
            key(k),
            NodeState {
                info,
                removed: None,
            },
        );
    }
    for (k, name, home) in [(10, "skipper", 1), (20, "skipper", 2), (11, "anne", 1)] {
        let info = UserInfo {
            key: key(k),
            username: name.into(),
            home: key(home),
        };
        let user = UserState {
            info,
            roles: BTreeSet::new(),
            display_name: None,
            profile: Default::default(),
            admin_periods: vec![],
            removed: None,
        };
        auth.users.insert(key(k), user);
    }
    auth
}

#[test]
fn a_name_two_boats_have_is_refused_with_the_candidates() {
    let auth = fleet();
    let err = resolve_user(&auth, "skipper").unwrap_err().to_string();
    assert!(
        err.contains("skipper@Ondine") && err.contains("skipper@Kerlouan"),
        "{err}"
    );
    assert_eq!(resolve_user(&auth, "skipper@Kerlouan").ok(), Some(key(20)));
    assert_eq!(
        resolve_user(&auth, &key(10).to_string()).ok(),
        Some(key(10))
    );
    assert_eq!(resolve_user(&auth, " anne ").ok(), Some(key(11)));
    assert!(matches!(
        resolve_user(&auth, "nobody"),
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        resolve_user(&auth, &key(99).to_string()),
        Err(Error::NotFound(_))
    ));
}

#[test]
fn clashing_names_are_shown_with_their_boat() {
    let mut auth = fleet();
    assert_eq!(display_name(&auth, &key(10)), "skipper@Ondine");
    assert_eq!(display_name(&auth, &key(11)), "anne");
    if let Some(u) = auth.users.get_mut(&key(20)) {
        u.removed = Some(proto::hlc::Hlc::default());
    }
    assert_eq!(display_name(&auth, &key(10)), "skipper", "no clash left");
    assert_eq!(resolve_user(&auth, "skipper").ok(), Some(key(10)));
}

#[test]
fn nodes_resolve_by_key_or_unique_name() {
    let auth = fleet();
    assert_eq!(resolve_node(&auth, "Kerlouan").ok(), Some(key(2)));
    assert_eq!(resolve_node(&auth, &key(1).to_string()).ok(), Some(key(1)));
    assert!(resolve_node(&auth, "Nope").is_err());
}

#[test]
fn fingerprints_are_six_groups_of_five_digits_per_key() {
    let f = fingerprint(&key(1));
    assert_eq!(f.len(), FINGERPRINT_DIGITS + 5, "{f}");
    assert!(
        f.split(' ')
            .all(|g| g.len() == 5 && g.bytes().all(|b| b.is_ascii_digit()))
    );
    assert_eq!(f, fingerprint(&key(1)));
    assert_ne!(f, fingerprint(&key(2)));
}

#[test]
fn a_qualified_mention_reaches_only_that_user() {
    let auth = fleet();
    assert_eq!(mentioned(&auth, "hi @skipper@Kerlouan!", 16), vec![key(20)]);
    let both = mentioned(&auth, "hi @skipper and @anne", 16);
    assert_eq!(both, vec![key(10), key(11), key(20)]);
    assert!(mentioned(&auth, "@nobody @skipper@Nowhere", 16).is_empty());
    assert_eq!(mentioned(&auth, "@skipper @anne", 1).len(), 1);
}

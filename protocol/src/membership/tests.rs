//! Security tests of the membership rules: tampering, outsiders, removal, roles, invites,
//! key rotation, and order-independence of the ledger.

use proptest::prelude::*;

use crate::author::{self, AuthorError, Ctx};
use crate::crypto::SecretKey;
use crate::entropy::SeededEntropy;
use crate::event::{Content, Control, NodeInfo, Role, SignedEvent};
use crate::hlc::Clock;
use crate::id::{ChannelId, EventId, FlotillaId};
use crate::keyring::{Keyring, OpenError};
use crate::membership::{AuthError, Ledger, Link, Verdict};
use crate::proof::{AdmitProof, prove_admission};

const T0: u64 = 1_750_000_000_000;

/// A flotilla: founder node `n0` with admin `alice`; node `n1` admitted with user `bob`.
struct Fleet {
    rng: SeededEntropy,
    clock: Clock,
    now: u64,
    n0: SecretKey,
    n1: SecretKey,
    alice: SecretKey,
    bob: SecretKey,
    ledger: Ledger,
    keyring: Keyring,
    log: Vec<SignedEvent>,
    town: ChannelId,
    flotilla: FlotillaId,
}

fn node_info(k: &SecretKey, name: &str) -> NodeInfo {
    NodeInfo {
        key: k.public(),
        x25519: k.x25519_public(),
        name: name.into(),
    }
}

impl Fleet {
    fn new(seed: u64) -> Self {
        let mut rng = SeededEntropy::new(seed);
        let (n0, n1, alice, bob) = (
            SecretKey::generate(&mut rng),
            SecretKey::generate(&mut rng),
            SecretKey::generate(&mut rng),
            SecretKey::generate(&mut rng),
        );
        let mut clock = Clock::new();
        let f = author::found(
            &n0, "Ondine", &alice, "alice", "Rallye", &mut clock, T0, &mut rng,
        )
        .expect("found");
        let town = ChannelId::derived(&f.flotilla, "town-square");
        let mut fleet = Fleet {
            rng,
            clock,
            now: T0,
            n0,
            n1,
            alice,
            bob,
            ledger: f.ledger,
            keyring: f.keyring,
            log: f.events,
            town,
            flotilla: f.flotilla,
        };
        let n1_info = node_info(&fleet.n1, "Albatros");
        let n0 = fleet.n0.clone();
        let proof = fleet.direct(&fleet.n1.clone(), &n1_info);
        let admit = fleet
            .build(|c| c.admit(&n0, n1_info, proof))
            .expect_err("a node cannot admit without an invite");
        assert_eq!(admit, AuthorError::Refused(AuthError::NotAdmin));
        let alice = fleet.alice.clone();
        let n1_info = node_info(&fleet.n1, "Albatros");
        let proof = fleet.direct(&fleet.n1.clone(), &n1_info);
        fleet.apply(|c| c.admit(&alice, n1_info, proof));
        let (n1, bob) = (fleet.n1.clone(), fleet.bob.clone());
        fleet.apply(|c| c.add_user(&n1, &bob, "bob"));
        fleet
    }

    /// A node's own proof for a direct admission.
    fn direct(&self, node: &SecretKey, info: &NodeInfo) -> AdmitProof {
        prove_admission(&self.ledger.genesis(), None, node, info)
    }

    fn build<T>(
        &mut self,
        f: impl FnOnce(&mut Ctx<'_, SeededEntropy>) -> Result<T, AuthorError>,
    ) -> Result<T, AuthorError> {
        self.now += 1_000;
        let mut ctx = Ctx {
            ledger: &mut self.ledger,
            keyring: &self.keyring,
            clock: &mut self.clock,
            now_ms: self.now,
            rng: &mut self.rng,
        };
        f(&mut ctx)
    }

    fn ingest(&mut self, ev: &SignedEvent) {
        assert_eq!(self.ledger.check(ev), Verdict::Accept);
        self.ledger.insert(ev);
        self.keyring.absorb(ev, &self.n0);
        self.log.push(ev.clone());
    }

    fn apply(
        &mut self,
        f: impl FnOnce(&mut Ctx<'_, SeededEntropy>) -> Result<SignedEvent, AuthorError>,
    ) -> SignedEvent {
        let ev = self.build(f).expect("build");
        self.ingest(&ev);
        ev
    }

    fn post(&mut self, who: &SecretKey, text: &str) -> Result<SignedEvent, AuthorError> {
        let (who, town) = (who.clone(), self.town);
        let post = Content::Post {
            text: text.into(),
            root: None,
            files: vec![],
            mentions: vec![],
        };
        self.build(|c| c.content(&who, town, &post))
    }

    /// A fresh ledger holding the same control events (another node's view).
    fn replica(&self) -> Ledger {
        let mut l = Ledger::new(self.log[0].id());
        for ev in &self.log {
            l.insert(ev);
        }
        l
    }
}

#[test]
fn every_flipped_bit_is_rejected() {
    let mut fleet = Fleet::new(1);
    let bob = fleet.bob.clone();
    let ev = fleet.post(&bob, "bonjour").expect("post");
    let bytes = ev.bytes().to_vec();
    assert_eq!(SignedEvent::decode(&bytes).as_ref(), Ok(&ev));
    for i in 0..bytes.len() {
        for bit in [0x01u8, 0x80] {
            let mut b = bytes.clone();
            b[i] ^= bit;
            assert!(
                SignedEvent::decode(&b).is_err(),
                "flip of bit {bit:#x} at byte {i} was accepted"
            );
        }
    }
    assert!(SignedEvent::decode(&bytes[..bytes.len() - 1]).is_err());
    assert!(SignedEvent::decode(&[bytes.as_slice(), &[0]].concat()).is_err());
}

#[test]
fn outsider_events_are_rejected() {
    let mut fleet = Fleet::new(2);
    let outsider = SecretKey::generate(&mut fleet.rng);
    // An outsider that knows the ledger heads and even an epoch key still cannot write.
    let err = fleet.post(&outsider, "spam").expect_err("outsider post");
    assert_eq!(err, AuthorError::Refused(AuthError::NotMember));
    let info = node_info(&outsider, "Pirate");
    let proof = fleet.direct(&outsider, &info);
    let err = fleet
        .build(|c| c.admit(&outsider, info, proof))
        .expect_err("self-admission");
    assert_eq!(err, AuthorError::Refused(AuthError::NotMember));
    let err = fleet
        .build(|c| c.add_user(&outsider, &outsider, "eve"))
        .expect_err("user add");
    assert_eq!(err, AuthorError::Refused(AuthError::NotMember));
}

#[test]
fn non_admin_cannot_grant_roles_or_remove_members() {
    let mut fleet = Fleet::new(3);
    let (bob, alice, n0) = (fleet.bob.clone(), fleet.alice.public(), fleet.n0.public());
    let grant = Control::RoleGrant {
        user: bob.public(),
        role: Role::Admin,
    };
    assert_eq!(
        fleet.build(|c| c.control(&bob, &grant)),
        Err(AuthorError::Refused(AuthError::NotAdmin))
    );
    assert_eq!(
        fleet.build(|c| c.remove_node(&bob, n0)),
        Err(AuthorError::Refused(AuthError::NotAdmin))
    );
    assert_eq!(
        fleet.build(|c| c.remove_user(&bob, alice)),
        Err(AuthorError::Refused(AuthError::NotAdmin))
    );
    let revoke = Control::RoleRevoke {
        user: alice,
        role: Role::Admin,
        cut: crate::event::Cut::NONE,
    };
    assert_eq!(
        fleet.build(|c| c.control(&bob, &revoke)),
        Err(AuthorError::Refused(AuthError::NotAdmin))
    );
    // The last admin cannot be demoted; once bob is admin too, alice can step down.
    let alice_key = fleet.alice.clone();
    assert_eq!(
        fleet.build(|c| c.control(&alice_key, &revoke)),
        Err(AuthorError::Refused(AuthError::LastAdmin))
    );
    fleet.apply(|c| c.control(&alice_key, &grant));
    fleet.apply(|c| c.control(&alice_key, &revoke));
    assert!(fleet.ledger.state().is_admin(&bob.public()));
    assert!(!fleet.ledger.state().is_admin(&alice));
}

#[test]
fn removed_member_is_rejected_after_removal_even_when_relayed_late() {
    let mut fleet = Fleet::new(4);
    let bob = fleet.bob.clone();
    let before = fleet.post(&bob, "before").expect("post before removal");
    // Bob's node keeps writing without hearing of the removal: a stale view of the ledger.
    let mut stale = fleet.replica();
    // Bob's node stored what bob wrote: it numbers his next event after it.
    stale.observe(&before);
    let alice = fleet.alice.clone();
    let removal = fleet.apply(|c| c.remove_user(&alice, bob.public()));
    fleet.now += 5_000;
    let town = fleet.town;
    let after = {
        let post = Content::Post {
            text: "after".into(),
            root: None,
            files: vec![],
            mentions: vec![],
        };
        let mut ctx = Ctx {
            ledger: &mut stale,
            keyring: &fleet.keyring,
            clock: &mut fleet.clock,
            now_ms: fleet.now,
            rng: &mut fleet.rng,
        };
        ctx.content(&bob, town, &post)
            .expect("bob's stale node signs it")
    };
    assert!(!after.envelope().deps.contains(&removal.id()));
    // Any node that knows of the removal refuses it, whenever it arrives.
    assert_eq!(
        fleet.ledger.check(&after),
        Verdict::Reject(AuthError::Removed)
    );
    assert_eq!(
        fleet.replica().check(&after),
        Verdict::Reject(AuthError::Removed)
    );
    // What bob wrote before his removal stays valid.
    assert_eq!(fleet.ledger.check(&before), Verdict::Accept);
    // And a post naming the removal in its deps is refused as from a non-member.
    assert_eq!(
        fleet.post(&bob, "x"),
        Err(AuthorError::Refused(AuthError::Removed))
    );
}

#[test]
fn removed_node_cannot_decrypt_the_new_epoch() {
    let mut fleet = Fleet::new(5);
    let (alice, n1) = (fleet.alice.clone(), fleet.n1.clone());
    // n1's own keyring, built from the events it would receive.
    let mut n1_ring = Keyring::new();
    for ev in &fleet.log {
        n1_ring.absorb(ev, &n1);
    }
    let old = fleet.post(&alice, "old epoch").expect("post");
    assert!(
        n1_ring.open_content(&old).is_ok(),
        "n1 reads the epoch it was admitted into"
    );
    let removal = fleet.apply(|c| c.remove_node(&alice, n1.public()));
    assert_eq!(
        n1_ring.absorb(&removal, &n1),
        0,
        "no key is sealed to the removed node"
    );
    let new = fleet.post(&alice, "new epoch").expect("post");
    assert_eq!(new.sealed().map(|s| s.key), Some(removal.id()));
    assert_eq!(
        n1_ring.open_content(&new),
        Err(OpenError::NoKey(removal.id()))
    );
    assert!(
        fleet.keyring.open_content(&new).is_ok(),
        "the remaining node reads it"
    );
}

#[test]
fn revoked_expired_or_used_up_invites_admit_no_one() {
    let mut fleet = Fleet::new(6);
    let (alice, n0, n1) = (fleet.alice.clone(), fleet.n0.clone(), fleet.n1.clone());
    let joiners: Vec<SecretKey> = (0..4)
        .map(|_| SecretKey::generate(&mut fleet.rng))
        .collect();
    let (inv, code) = fleet
        .build(|c| c.invite(&alice, None, Some(1)))
        .expect("invite");
    let by = |code: &crate::author::InviteCode, j: &SecretKey, name: &str| {
        let info = node_info(j, name);
        let proof = code.prove(j, &info);
        (info, proof)
    };
    fleet.ingest(&inv);
    let invite = match inv.control() {
        Some(Control::InviteCreate { invite, .. }) => invite,
        other => panic!("unexpected {other:?}"),
    };
    // A member node admits by invite; the second use is refused.
    let _ = invite;
    let (i0, p0) = by(&code, &joiners[0], "J0");
    fleet.apply(|c| c.admit(&n1, i0, p0));
    let (i1, p1) = by(&code, &joiners[1], "J1");
    let used_up = fleet.build(|c| c.admit(&n0, i1, p1));
    assert_eq!(
        used_up,
        Err(AuthorError::Refused(AuthError::InviteUnusable("used up")))
    );
    // Revoked.
    let (inv2, code2) = fleet
        .build(|c| c.invite(&alice, None, None))
        .expect("invite");
    fleet.ingest(&inv2);
    let Some(Control::InviteCreate {
        invite: invite2, ..
    }) = inv2.control()
    else {
        panic!("not an invite")
    };
    fleet.apply(|c| c.control(&alice, &Control::InviteRevoke { invite: invite2 }));
    let (i2, p2) = by(&code2, &joiners[2], "J2");
    let revoked = fleet.build(|c| c.admit(&n0, i2, p2));
    assert_eq!(
        revoked,
        Err(AuthorError::Refused(AuthError::InviteUnusable("revoked")))
    );
    // Expired.
    let expires = fleet.now + 1_500;
    let (inv3, code3) = fleet
        .build(|c| c.invite(&alice, Some(expires), None))
        .expect("invite");
    fleet.ingest(&inv3);
    let Some(Control::InviteCreate {
        invite: invite3, ..
    }) = inv3.control()
    else {
        panic!("not an invite")
    };
    fleet.now += 10_000;
    let _ = invite3;
    let (i3, p3) = by(&code3, &joiners[3], "J3");
    let expired = fleet.build(|c| c.admit(&n0, i3.clone(), p3.clone()));
    assert_eq!(
        expired,
        Err(AuthorError::Refused(AuthError::InviteUnusable("expired")))
    );
    // A user key cannot admit by invite either: admission is a node's act.
    let by_user = fleet.build(|c| c.admit(&alice, i3, p3));
    assert!(by_user.is_err());
}

#[test]
fn private_channel_is_sealed_to_its_members_and_rotates_on_removal() {
    let mut fleet = Fleet::new(7);
    let (alice, bob, n1) = (fleet.alice.clone(), fleet.bob.clone(), fleet.n1.clone());
    let dm = ChannelId([9; 16]);
    fleet.apply(|c| c.create_channel(&alice, dm, true, &[bob.public()]));
    let mut n1_ring = Keyring::new();
    for ev in &fleet.log {
        n1_ring.absorb(ev, &n1);
    }
    let secret = Content::Post {
        text: "secret".into(),
        root: None,
        files: vec![],
        mentions: vec![],
    };
    let ev = fleet
        .build(|c| c.content(&alice, dm, &secret))
        .expect("post");
    fleet.ingest(&ev);
    assert!(n1_ring.open_content(&ev).is_ok(), "bob's node reads the DM");
    // An outsider to the channel cannot post in it.
    let carol = SecretKey::generate(&mut fleet.rng);
    let n0 = fleet.n0.clone();
    fleet.apply(|c| c.add_user(&n0, &carol, "carol"));
    let err = fleet.build(|c| c.content(&carol, dm, &secret));
    assert!(err.is_err(), "carol is not in the channel: {err:?}");
    // Removing bob rotates the channel key away from his node.
    let removal = fleet.apply(|c| c.remove_channel_member(&alice, dm, bob.public()));
    n1_ring.absorb(&removal, &n1);
    let later = fleet
        .build(|c| c.content(&alice, dm, &secret))
        .expect("post");
    assert_eq!(
        n1_ring.open_content(&later),
        Err(OpenError::NoKey(removal.id()))
    );
    assert!(fleet.keyring.open_content(&later).is_ok());
}

#[test]
fn a_second_genesis_and_wrong_flotilla_are_rejected() {
    let mut fleet = Fleet::new(8);
    let mut rng = SeededEntropy::new(99);
    let other = author::found(
        &fleet.n0,
        "Ondine",
        &fleet.alice,
        "alice",
        "Autre",
        &mut Clock::new(),
        T0,
        &mut rng,
    )
    .expect("found");
    assert_eq!(
        fleet.ledger.check(&other.events[0]),
        Verdict::Reject(AuthError::WrongFlotilla)
    );
    assert_eq!(
        fleet.ledger.check(&other.events[1]),
        Verdict::Reject(AuthError::WrongFlotilla)
    );
    // A second genesis forged for the same flotilla id (by its own founder, even) is refused:
    // the ledger is pinned to the genesis named in invite codes.
    let mut forged = fleet.log[0].envelope().clone();
    forged.hlc.logical += 1;
    let forged = SignedEvent::sign(forged, &fleet.n0).expect("sign");
    assert_eq!(
        fleet.ledger.check(&forged),
        Verdict::Reject(AuthError::NotOurGenesis)
    );
    assert_ne!(other.flotilla, fleet.flotilla);
}

#[test]
fn missing_deps_are_named() {
    let fleet = Fleet::new(9);
    let mut fresh = Ledger::new(fleet.log[0].id());
    let last = fleet.log.last().expect("events");
    match fresh.check(last) {
        Verdict::MissingDeps(ids) => assert!(!ids.is_empty()),
        v => panic!("expected missing deps, got {v:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// The ledger's state depends on the set of control events, not their arrival order.
    #[test]
    fn ledger_state_is_order_independent(seed in 0u64..1_000, shuffle in any::<u64>()) {
        let mut fleet = Fleet::new(seed);
        let (alice, bob, n1) = (fleet.alice.clone(), fleet.bob.clone(), fleet.n1.clone());
        // Two concurrent branches: a stale replica writes while the main line changes roles.
        let mut branch = fleet.replica();
        let grant = Control::RoleGrant { user: bob.public(), role: Role::Admin };
        fleet.apply(|c| c.control(&alice, &grant));
        let profile = Control::Profile {
            display_name: "Bob le marin".into(),
            full_name: String::new(),
            position: String::new(),
            picture: None,
        };
        let concurrent = {
            let mut ctx = Ctx { ledger: &mut branch, keyring: &fleet.keyring, clock: &mut Clock::new(), now_ms: fleet.now + 1, rng: &mut fleet.rng };
            ctx.control(&bob, &profile).expect("profile")
        };
        fleet.ingest(&concurrent);
        fleet.apply(|c| c.remove_node(&alice, n1.public()));
        let mut order: Vec<SignedEvent> = fleet.log.iter().filter(|e| e.control().is_some()).cloned().collect();
        let mut s = shuffle;
        for i in (1..order.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            order.swap(i, (s >> 33) as usize % (i + 1));
        }
        // Deliver in that order, retrying events whose deps are not in yet (as sync does).
        let mut replay = Ledger::new(fleet.log[0].id());
        let mut pending: Vec<SignedEvent> = order;
        while !pending.is_empty() {
            let before = pending.len();
            pending.retain(|e| !(replay.check(e) == Verdict::Accept && replay.insert(e)));
            prop_assert!(pending.len() < before, "stuck with {} events", pending.len());
        }
        prop_assert_eq!(replay.state(), fleet.ledger.state());
        prop_assert_eq!(replay.heads(), fleet.ledger.heads());
        let _ = EventId([0; 32]);
    }
}

#[test]
fn only_the_creator_or_an_admin_switches_a_channel_and_keys_follow() {
    let mut fleet = Fleet::new(11);
    let (alice, bob, n1) = (fleet.alice.clone(), fleet.bob.clone(), fleet.n1.clone());
    let ch = ChannelId([7; 16]);
    fleet.apply(|c| c.create_channel(&alice, ch, false, &[]));
    // Bob, a member but neither its creator nor an admin, may not switch it.
    let err = fleet
        .build(|c| c.set_channel_privacy(&bob, ch, true))
        .expect_err("bob is not an admin");
    assert_eq!(err, AuthorError::Refused(AuthError::NotAdmin));
    // Nobody switches a default channel.
    let town = fleet.town;
    let err = fleet
        .build(|c| c.set_channel_privacy(&alice, town, true))
        .expect_err("a default channel");
    assert_eq!(err, AuthorError::Refused(AuthError::DefaultChannel));
    let post = |text: &str| Content::Post {
        text: text.into(),
        root: None,
        files: vec![],
        mentions: vec![],
    };
    let public = fleet
        .build(|c| c.content(&alice, ch, &post("public")))
        .expect("post");
    fleet.ingest(&public);
    // To private: sealed to alice's node only (bob never joined); bob can no longer post.
    let switch = fleet.apply(|c| c.set_channel_privacy(&alice, ch, true));
    let auth = fleet.ledger.state().channels[&ch].clone();
    assert!(auth.private && auth.switched);
    assert_eq!(auth.keys, vec![switch.id()]);
    let mut n1_ring = Keyring::new();
    for ev in &fleet.log {
        n1_ring.absorb(ev, &n1);
    }
    let secret = fleet
        .build(|c| c.content(&alice, ch, &post("secret")))
        .expect("post");
    fleet.ingest(&secret);
    assert_eq!(
        n1_ring.open_content(&secret),
        Err(OpenError::NoKey(switch.id()))
    );
    assert!(
        n1_ring.open_content(&public).is_ok(),
        "the public past stays"
    );
    assert!(fleet.build(|c| c.content(&bob, ch, &post("x"))).is_err());
    // Back to public: epoch key again; the private past is hidden from non-members.
    let back = fleet.apply(|c| c.set_channel_privacy(&alice, ch, false));
    let auth = fleet.ledger.state().channels[&ch].clone();
    assert!(!auth.private);
    let history = auth.private_history.as_ref().expect("a private past");
    assert_eq!(history.until, back.envelope().hlc);
    assert!(auth.hides(&bob.public(), secret.envelope().hlc));
    assert!(!auth.hides(&alice.public(), secret.envelope().hlc));
    let later = fleet
        .build(|c| c.content(&bob, ch, &post("hello")))
        .expect("bob posts again");
    fleet.ingest(&later);
    assert!(n1_ring.open_content(&later).is_ok());
    assert!(!auth.hides(&bob.public(), later.envelope().hlc));
    // The same control log gives the same state elsewhere.
    assert_eq!(
        fleet.replica().state().channels[&ch],
        fleet.ledger.state().channels[&ch]
    );
}

#[test]
fn only_an_admin_renames_the_flotilla() {
    let mut fleet = Fleet::new(12);
    let (alice, bob) = (fleet.alice.clone(), fleet.bob.clone());
    let rename = |name: &str| Control::FlotillaRename { name: name.into() };
    let err = fleet
        .build(|c| c.control(&bob, &rename("Pirates")))
        .expect_err("bob is not an admin");
    assert_eq!(err, AuthorError::Refused(AuthError::NotAdmin));
    assert_eq!(fleet.ledger.state().name, "Rallye");
    fleet.apply(|c| c.control(&alice, &rename("Rallye d'automne")));
    assert_eq!(fleet.ledger.state().name, "Rallye d'automne");
    assert_eq!(fleet.replica().state().name, "Rallye d'automne");
    assert!(fleet.build(|c| c.control(&alice, &rename("  "))).is_err());
}

fn profile(nick: &str, full_name: &str, picture: Option<[u8; 32]>) -> Control {
    Control::Profile {
        display_name: nick.into(),
        full_name: full_name.into(),
        position: "mousse".into(),
        picture: picture.map(crate::id::FileId),
    }
}

#[test]
fn a_profile_is_its_authors_own_and_the_last_one_wins() {
    let mut fleet = Fleet::new(21);
    let (alice, bob, n1) = (fleet.alice.clone(), fleet.bob.clone(), fleet.n1.clone());
    fleet.apply(|c| c.control(&bob, &profile("Bob", "Bob Marin", Some([1; 32]))));
    fleet.apply(|c| c.control(&alice, &profile("Al", "Alice Cap", None)));
    fleet.apply(|c| c.control(&bob, &profile("", "Robert Marin", Some([2; 32]))));
    let state = fleet.ledger.state();
    let b = &state.users[&bob.public()];
    assert_eq!(b.display_name, None, "an empty nickname clears it");
    assert_eq!(b.profile.full_name.as_deref(), Some("Robert Marin"));
    assert_eq!(b.profile.position.as_deref(), Some("mousse"));
    assert_eq!(b.profile.picture, Some(crate::id::FileId([2; 32])));
    let a = &state.users[&alice.public()];
    assert_eq!(a.display_name.as_deref(), Some("Al"));
    assert_eq!(a.profile.picture, None);
    // A boat's key is not a user: it has no profile to set.
    assert_eq!(
        fleet.build(|c| c.control(&n1, &profile("x", "x", None))),
        Err(AuthorError::Refused(AuthError::WrongAuthor))
    );
    // A removed user sets nothing any more.
    fleet.apply(|c| c.remove_user(&alice, bob.public()));
    assert!(
        fleet
            .build(|c| c.control(&bob, &profile("y", "y", None)))
            .is_err()
    );
}
/// Chain links are kept for cut authors only: an uncut author's posts leave none; after the
/// author's removal, `needs_links` names it once and the links passed then (as the node
/// passes its stored ones) and those observed afterwards are kept.
#[test]
fn links_are_kept_for_cut_authors_only() {
    let mut fleet = Fleet::new(41);
    let bob = fleet.bob.clone();
    let mut stored = Vec::new();
    for i in 0..5 {
        let ev = fleet.post(&bob, &format!("post {i}")).expect("post");
        fleet.ledger.observe(&ev);
        stored.push(ev);
    }
    assert_eq!(fleet.ledger.link_count(), 0, "no cut: no link kept");
    assert!(fleet.ledger.needs_links().is_empty());
    let alice = fleet.alice.clone();
    fleet.apply(|c| c.remove_user(&alice, bob.public()));
    assert_eq!(fleet.ledger.needs_links(), vec![bob.public()]);
    assert!(fleet.ledger.needs_links().is_empty(), "named once");
    for ev in &stored {
        fleet.ledger.add_link(ev.id(), Link::of(ev));
    }
    assert_eq!(fleet.ledger.link_count(), stored.len());
    let cut = fleet
        .ledger
        .state()
        .cut_of(&bob.public())
        .expect("bob is cut");
    for ev in &stored {
        assert!(
            fleet
                .ledger
                .state()
                .counts(&cut, &ev.id(), ev.envelope().seq),
            "a post before the removal counts"
        );
    }
}

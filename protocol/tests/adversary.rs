//! Attacks on the membership and key model (issue 8), one test per attack: an outsider on
//! the Wi-Fi, a rogue member node, a removed or demoted member, a stale relay. Each test
//! builds the attack the way the attacker would (forged deps and timestamps included) and
//! checks that honest ledgers, keyrings and folds refuse it.
//!
//! The port points (what an attacker can build with this version of the protocol) are the
//! helpers at the top; the tests below them state the attacks.

use std::collections::BTreeSet;

use flotilla_protocol::author::{self, AuthorError, Ctx, InviteCode};
use flotilla_protocol::crypto::SymmetricKey;
use flotilla_protocol::entropy::SeededEntropy;
use flotilla_protocol::event::{
    Content, Control, ENVELOPE_VERSION, Envelope, Kind, NodeInfo, Role, UserInfo,
};
use flotilla_protocol::fold::ChatState;
use flotilla_protocol::hlc::{Clock, Hlc};
use flotilla_protocol::keyring::{KeyBundle, Keyring, key_commitment, seal_to_nodes};
use flotilla_protocol::membership::{Ledger, Link, Verdict};
use flotilla_protocol::proof::{AdmitProof, InviteSig, admit_statement, prove_admission};
use flotilla_protocol::sim::{Network, SeedGuard, seeds};
use flotilla_protocol::{ChannelId, EventId, FlotillaId, PublicKey, SecretKey, SignedEvent};

const T0: u64 = 1_750_000_000_000;

/// A flotilla seen from above: every key, every event, and a ledger holding them all.
struct World {
    rng: SeededEntropy,
    clock: Clock,
    now: u64,
    flotilla: FlotillaId,
    ledger: Ledger,
    /// Node keys: 0 Ondine (alice, admin), 1 Albatros (bob), 2 Corsaire (carol, the rogue).
    nodes: Vec<SecretKey>,
    /// User keys: 0 alice, 1 bob, 2 carol.
    users: Vec<SecretKey>,
    log: Vec<SignedEvent>,
    town: ChannelId,
}

fn info(k: &SecretKey, name: &str) -> NodeInfo {
    NodeInfo {
        key: k.public(),
        x25519: k.x25519_public(),
        name: name.into(),
    }
}

impl World {
    /// Alice founds on Ondine; Corsaire (carol) is admitted first, then Albatros (bob).
    fn new(seed: u64) -> Self {
        let mut rng = SeededEntropy::new(seed);
        let nodes: Vec<SecretKey> = (0..3).map(|_| SecretKey::generate(&mut rng)).collect();
        let users: Vec<SecretKey> = (0..3).map(|_| SecretKey::generate(&mut rng)).collect();
        let mut clock = Clock::new();
        let f = author::found(
            &nodes[0], "Ondine", &users[0], "alice", "Rallye", &mut clock, T0, &mut rng,
        )
        .expect("found");
        let town = ChannelId::derived(&f.flotilla, "town-square");
        let mut w = World {
            rng,
            clock,
            now: T0,
            flotilla: f.flotilla,
            ledger: f.ledger,
            nodes,
            users,
            log: f.events,
            town,
        };
        w.admit_direct(2, "Corsaire");
        w.add_user(2, 2, "carol");
        w.admit_direct(1, "Albatros");
        w.add_user(1, 1, "bob");
        w
    }

    fn ctx<T>(&mut self, f: impl FnOnce(&mut Ctx<'_, SeededEntropy>) -> T) -> T {
        self.now += 1_000;
        let keyring = self.keyring(0);
        let mut ctx = Ctx {
            ledger: &mut self.ledger,
            keyring: &keyring,
            clock: &mut self.clock,
            now_ms: self.now,
            rng: &mut self.rng,
        };
        f(&mut ctx)
    }

    /// Builds with the global view and ingests.
    fn apply(
        &mut self,
        f: impl FnOnce(&mut Ctx<'_, SeededEntropy>) -> Result<SignedEvent, AuthorError>,
    ) -> SignedEvent {
        let ev = self.ctx(f).expect("build");
        self.ingest(&ev);
        ev
    }

    fn ingest(&mut self, ev: &SignedEvent) {
        assert_eq!(
            self.ledger.check(ev),
            Verdict::Accept,
            "honest event refused"
        );
        self.ledger.observe(ev);
        self.ledger.insert(ev);
        self.log.push(ev.clone());
        load_links(&mut self.ledger, &self.log);
    }

    /// Node `i`'s keyring: every key sealed to it in the log.
    fn keyring(&self, i: usize) -> Keyring {
        let mut k = Keyring::new();
        for e in &self.log {
            k.absorb(e, &self.nodes[i]);
        }
        k
    }

    fn user(&self, i: usize) -> SecretKey {
        self.users[i].clone()
    }

    fn node(&self, i: usize) -> SecretKey {
        self.nodes[i].clone()
    }

    // ----- port points: how events of this protocol version are built -----

    fn admit_direct(&mut self, node: usize, name: &str) -> SignedEvent {
        let (alice, n) = (self.user(0), info(&self.nodes[node], name));
        let proof = prove_admission(&self.ledger.genesis(), None, &self.nodes[node], &n);
        self.apply(|c| c.admit(&alice, n, proof))
    }

    fn add_user(&mut self, node: usize, user: usize, name: &str) -> SignedEvent {
        let (n, u) = (self.node(node), self.user(user));
        self.apply(|c| c.add_user(&n, &u, name))
    }

    fn invite(&mut self, expires_ms: Option<u64>, uses: Option<u32>) -> InviteCode {
        let alice = self.user(0);
        let (ev, code) = self
            .ctx(|c| c.invite(&alice, expires_ms, uses))
            .expect("invite");
        self.ingest(&ev);
        code
    }

    /// What a joiner sends to the member it asks (the capture of an eavesdropper): its node
    /// and its admission proof, signed with the invite's secret key and its own.
    fn join_message(&mut self, code: &InviteCode, joiner: &SecretKey) -> (NodeInfo, AdmitProof) {
        let n = info(joiner, "joiner");
        let proof = code.prove(joiner, &n);
        (n, proof)
    }

    /// The admission a member node builds for the node `joiner` from a join message.
    fn admission(
        &mut self,
        by: usize,
        joiner: &SecretKey,
        msg: &(NodeInfo, AdmitProof),
    ) -> Control {
        let _ = by;
        let keys = flotilla_protocol::keyring::seal_bundle(
            &self.flotilla,
            &KeyBundle::default(),
            &joiner.x25519_public(),
            &mut self.rng,
        )
        .expect("seal");
        Control::NodeAdmit {
            node: info(joiner, "joiner"),
            proof: msg.1.clone(),
            keys,
        }
    }

    /// An admission naming an invite with no valid invite proof (the stranger signs its own
    /// half; nobody signs with the invite's secret key).
    fn admission_without_proof(&mut self, joiner: &SecretKey, invite: &InviteCode) -> Control {
        let n = info(joiner, "joiner");
        let genesis = self.ledger.genesis();
        let statement = admit_statement(&genesis, Some(&invite.invite), &n);
        let proof = AdmitProof {
            invite: Some(InviteSig {
                invite: invite.invite,
                sig: joiner.sign(&statement),
            }),
            node_sig: joiner.sign(&statement),
        };
        self.admission(1, joiner, &(n, proof))
    }

    /// A re-declaration of user `user` with `home` as its home node (the attacker reuses
    /// the user's real signature; it does not hold the user's key).
    fn user_redeclaration(&mut self, user: usize, name: &str, home: usize) -> Control {
        let key = self.users[user].public();
        let sig = self
            .log
            .iter()
            .find_map(|e| match e.control() {
                Some(Control::UserAdd { user: u, sig }) if u.key == key => Some(sig),
                _ => None,
            })
            .expect("the user's declaration");
        Control::UserAdd {
            user: UserInfo {
                key,
                username: name.into(),
                home: self.nodes[home].public(),
            },
            sig,
        }
    }

    /// A re-declaration of node `node` with the attacker's X25519 key (the attacker holds
    /// the invite code, and reuses the node's real signature).
    fn node_redeclaration(&mut self, node: usize, attacker: usize, code: &InviteCode) -> Control {
        let key = self.nodes[node].public();
        let real = self
            .log
            .iter()
            .find_map(|e| match e.control() {
                Some(Control::NodeAdmit { node: n, proof, .. }) if n.key == key => Some(proof),
                _ => None,
            })
            .expect("the node's admission");
        let mut fake = info(&self.nodes[node], "Albatros");
        fake.x25519 = self.nodes[attacker].x25519_public();
        let mut proof = code.prove(&self.nodes[attacker], &fake);
        proof.node_sig = real.node_sig;
        let keys = flotilla_protocol::keyring::seal_bundle(
            &self.flotilla,
            &KeyBundle::default(),
            &fake.x25519,
            &mut self.rng,
        )
        .expect("seal");
        Control::NodeAdmit {
            node: fake,
            proof,
            keys,
        }
    }

    /// A removal of `user` as its author would forge it (no keys to rotate).
    fn removal_of(&self, user: usize) -> Control {
        let key = self.users[user].public();
        Control::UserRemove {
            user: key,
            cut: self.ledger.head_of(&key),
            rotation: vec![],
            commit: [0; 32],
            channels: vec![],
        }
    }

    fn revoke_admin(&mut self, by: usize, user: usize) -> SignedEvent {
        let (a, u) = (self.user(by), self.users[user].public());
        self.apply(|c| c.revoke_role(&a, u, Role::Admin))
    }

    /// Signs an event with chosen deps and timestamp (what a forger controls); its sequence
    /// number is the next one its software would use.
    fn forge(
        &self,
        key: &SecretKey,
        deps: &[EventId],
        hlc: Hlc,
        channel: ChannelId,
        kind: Kind,
        payload: Vec<u8>,
    ) -> SignedEvent {
        let env = Envelope {
            v: ENVELOPE_VERSION,
            flotilla: self.flotilla,
            channel,
            author: key.public(),
            hlc,
            seq: self.ledger.seq_of(&key.public()) + 1,
            prev: self.ledger.head_of(&key.public()).head,
            deps: deps.to_vec(),
            kind,
            payload,
        };
        SignedEvent::sign(env, key).expect("sign")
    }

    /// Signs an event with a chosen sequence number and `prev` (a fork of the author's
    /// own numbering: a reused or skipped number).
    #[allow(clippy::too_many_arguments)]
    fn forge_numbered(
        &self,
        key: &SecretKey,
        seq: u64,
        prev: Option<EventId>,
        deps: &[EventId],
        hlc: Hlc,
        channel: ChannelId,
        payload: Vec<u8>,
    ) -> SignedEvent {
        let env = Envelope {
            v: ENVELOPE_VERSION,
            flotilla: self.flotilla,
            channel,
            author: key.public(),
            hlc,
            seq,
            prev,
            deps: deps.to_vec(),
            kind: Kind::SEALED,
            payload,
        };
        SignedEvent::sign(env, key).expect("sign")
    }

    // ----- end of port points -----

    /// `content` by user `user` in town-square, sealed with the epoch key as of `deps`.
    fn sealed_by(&mut self, user: usize, deps: &[EventId], content: &Content) -> Vec<u8> {
        let key = self.users[user].public();
        let keyring = self.keyring(0);
        let epoch = self.ledger.state_at(deps).epoch().expect("epoch");
        let sealed = keyring
            .seal_content(
                &self.flotilla,
                &self.town,
                epoch,
                &key,
                content,
                &mut self.rng,
            )
            .expect("seal");
        postcard::to_stdvec(&sealed).expect("encode")
    }

    /// User `user` posts `text` in town-square (honestly).
    fn post(&mut self, user: usize, text: &str) -> SignedEvent {
        let (key, town) = (self.user(user), self.town);
        self.apply(|c| c.content(&key, town, &post(text)))
    }

    fn forge_control(
        &self,
        key: &SecretKey,
        deps: &[EventId],
        hlc: Hlc,
        c: &Control,
    ) -> SignedEvent {
        let payload = postcard::to_stdvec(c).expect("encode");
        self.forge(key, deps, hlc, ChannelId::CONTROL, Kind::CONTROL, payload)
    }

    fn grant_admin(&mut self, user: usize) -> SignedEvent {
        let (alice, u) = (self.user(0), self.users[user].public());
        self.apply(|c| {
            c.control(
                &alice,
                &Control::RoleGrant {
                    user: u,
                    role: Role::Admin,
                },
            )
        })
    }

    fn heads(&self) -> Vec<EventId> {
        self.ledger.heads()
    }
}

fn post(text: &str) -> Content {
    Content::Post {
        text: text.into(),
        root: None,
        files: vec![],
        mentions: vec![],
    }
}

/// A node's chat after receiving `events` in this order (retried as [`honest`] does): the
/// texts of the town-square posts it shows, with its ledger's final state.
fn shown(w: &World, events: &[SignedEvent]) -> BTreeSet<String> {
    let (ledger, refused) = honest(w.ledger.genesis(), events);
    let keyring = w.keyring(0);
    let mut chat = ChatState::new();
    for e in events.iter().filter(|e| !refused.contains(&e.id())) {
        if let Ok(c) = keyring.open_content(e) {
            chat.apply(e, &c);
        }
    }
    chat.timeline(ledger.state(), &w.town)
        .iter()
        .map(|p| p.text.clone())
        .collect()
}

/// Just before `t`, but after `floor` (a forged timestamp that still passes the deps rule).
fn just_before(t: Hlc, floor: Hlc) -> Hlc {
    let h = Hlc {
        ms: t.ms.saturating_sub(1),
        ..t
    };
    assert!(h > floor, "no room to backdate");
    h
}

/// An honest node's ledger after receiving `events` in the given order (retrying those
/// whose deps came later, and those refused, as the next reconciliation offers them
/// again); returns it with the ids it still refuses.
fn honest(genesis: EventId, events: &[SignedEvent]) -> (Ledger, BTreeSet<EventId>) {
    let mut ledger = Ledger::new(genesis);
    let mut stored: Vec<SignedEvent> = Vec::new();
    let mut waiting: Vec<SignedEvent> = events.to_vec();
    let mut refused = BTreeSet::new();
    loop {
        let mut progress = false;
        let mut still = Vec::new();
        refused.clear();
        for e in waiting {
            match ledger.check(&e) {
                Verdict::Accept => {
                    ledger.observe(&e);
                    progress |= ledger.insert(&e) || e.control().is_none();
                    stored.push(e.clone());
                    load_links(&mut ledger, &stored);
                }
                Verdict::MissingDeps(_) => still.push(e),
                Verdict::Reject(_) => {
                    refused.insert(e.id());
                    still.push(e);
                }
            }
        }
        waiting = still;
        if !progress || waiting.is_empty() {
            break;
        }
    }
    (ledger, refused)
}

/// What the node does after storing events: the ledger keeps chain links of cut authors
/// only, so it is given the stored links of each author a cut newly names.
fn load_links(ledger: &mut Ledger, stored: &[SignedEvent]) {
    for author in ledger.needs_links() {
        for e in stored.iter().filter(|e| e.envelope().author == author) {
            ledger.add_link(e.id(), Link::of(e));
        }
    }
}

/// The control events of `log` plus `extra`, in the log's order and in reverse.
fn both_orders(w: &World, extra: &[SignedEvent]) -> Vec<(Ledger, BTreeSet<EventId>)> {
    let mut all: Vec<SignedEvent> = w.log.clone();
    all.extend(extra.iter().cloned());
    let genesis = w.ledger.genesis();
    let forward = honest(genesis, &all);
    let mut rev = all.clone();
    rev.reverse();
    let backward = honest(genesis, &rev);
    vec![forward, backward]
}

#[test]
fn outsider_replays_a_captured_join_message() {
    let mut w = World::new(1);
    let code = w.invite(None, None);
    let joiner = SecretKey::generate(&mut w.rng);
    let outsider = SecretKey::generate(&mut w.rng);
    // The joiner's message, captured on the Wi-Fi, is replayed by the outsider to a member
    // that builds the admission for the outsider's node.
    let captured = w.join_message(&code, &joiner);
    let admission = w.admission(1, &outsider, &captured);
    let n1 = w.node(1);
    let built = w.ctx(|c| c.control(&n1, &admission));
    let admitted = match built {
        Ok(ev) => matches!(w.ledger.check(&ev), Verdict::Accept) && w.ledger.insert(&ev),
        Err(_) => false,
    };
    assert!(
        !admitted && !w.ledger.state().is_active_node(&outsider.public()),
        "the outsider was admitted with a captured join message"
    );
}

#[test]
fn admission_without_a_valid_invite_proof() {
    let mut w = World::new(2);
    let code = w.invite(None, None);
    let stranger = SecretKey::generate(&mut w.rng);
    // A rogue member node (carol's) admits a stranger naming the invite, without its secret.
    let admission = w.admission_without_proof(&stranger, &code);
    let (n2, heads) = (w.node(2), w.heads());
    let hlc = Hlc {
        ms: w.now + 10_000,
        logical: 0,
    };
    let ev = w.forge_control(&n2, &heads, hlc, &admission);
    for (ledger, _) in both_orders(&w, &[ev]) {
        assert!(
            !ledger.state().is_active_node(&stranger.public()),
            "a member node admitted a stranger without an invite proof"
        );
    }
}

#[test]
fn backdated_removal_of_the_remover() {
    let mut w = World::new(3);
    let grant = w.grant_admin(1);
    let before = w.heads();
    let (bob, alice_key) = (w.user(1), w.users[0].public());
    let removal = w.apply(|c| c.remove_user(&bob, alice_key));
    // Alice, removed, signs the removal of bob "before" her own removal.
    let forged = w.removal_of(1);
    let alice = w.user(0);
    let hlc = just_before(removal.hlc(), grant.hlc());
    let ev = w.forge_control(&alice, &before, hlc, &forged);
    for (ledger, _) in both_orders(&w, &[ev]) {
        assert!(
            !ledger.state().is_active_user(&alice_key),
            "the removed admin came back by a backdated removal of her remover"
        );
    }
}

#[test]
fn backdated_user_add_redeclaration() {
    let mut w = World::new(4);
    // Corsaire joined before Albatros and bob: it re-declares bob as its own user,
    // naming deps from before bob existed and a timestamp before bob's declaration.
    let bob_hlc = w
        .log
        .iter()
        .find(|e| matches!(e.control(), Some(Control::UserAdd { ref user, .. }) if user.username == "bob"))
        .map(|e| e.hlc())
        .expect("bob's declaration");
    let carol_add = w
        .log
        .iter()
        .find(|e| e.author() == w.nodes[2].public())
        .cloned()
        .expect("carol's add");
    let forged = w.user_redeclaration(1, "bob", 2);
    let n2 = w.node(2);
    let hlc = just_before(bob_hlc, carol_add.hlc());
    let ev = w.forge_control(&n2, &[carol_add.id()], hlc, &forged);
    let victim = w.nodes[1].public();
    for (ledger, _) in both_orders(&w, std::slice::from_ref(&ev)) {
        let home = ledger
            .state()
            .users
            .get(&w.users[1].public())
            .map(|u| u.info.home);
        assert_eq!(
            home,
            Some(victim),
            "bob's home was taken by a re-declaration"
        );
    }
    // And a private channel with bob seals its key to Albatros, never to Corsaire.
    let mut all = w.log.clone();
    all.push(ev);
    let (mut ledger, _) = honest(w.ledger.genesis(), &all);
    let keyring = w.keyring(0);
    let (alice, bob) = (w.user(0), w.users[1].public());
    let mut ctx = Ctx {
        ledger: &mut ledger,
        keyring: &keyring,
        clock: &mut w.clock,
        now_ms: w.now + 60_000,
        rng: &mut w.rng,
    };
    let dm = ChannelId([0x42; 16]);
    if let Ok(create) = ctx.create_channel(&alice, dm, true, &[bob]) {
        let sealed_to: Vec<PublicKey> = match create.control() {
            Some(Control::ChannelCreate { keys, .. }) => keys.iter().map(|s| s.node).collect(),
            _ => vec![],
        };
        assert!(
            !sealed_to.contains(&w.nodes[2].public()),
            "a DM with bob was sealed to the node that re-declared him"
        );
    }
}

#[test]
fn backdated_node_admit_redeclaration() {
    let mut w = World::new(5);
    // An invite exists (created after Corsaire joined, before Albatros).
    let code = w.invite(None, None);
    let before = w.heads();
    let floor = w.ledger.max_hlc(&before);
    let n3 = SecretKey::generate(&mut w.rng);
    w.nodes.push(n3.clone());
    let admit = w.admit_direct(3, "Étoile");
    // Corsaire re-declares Étoile's node key with its own X25519 key, backdated.
    let forged = w.node_redeclaration(3, 2, &code);
    let n2 = w.node(2);
    let ev = w.forge_control(&n2, &before, just_before(admit.hlc(), floor), &forged);
    for (ledger, _) in both_orders(&w, std::slice::from_ref(&ev)) {
        let x = ledger
            .state()
            .nodes
            .get(&n3.public())
            .map(|n| n.info.x25519);
        assert_eq!(
            x,
            Some(n3.x25519_public()),
            "a re-declaration replaced a node's X25519 key"
        );
    }
}

#[test]
fn backdated_channel_create_redeclaration() {
    let mut w = World::new(6);
    let before = w.heads();
    let floor = w.ledger.max_hlc(&before);
    let (bob, alice) = (w.user(1), w.users[0].public());
    let channel = ChannelId([0x77; 16]);
    let real = w.apply(|c| c.create_channel(&bob, channel, true, &[alice]));
    // Carol re-declares the same channel id with herself and alice, sealing a key she knows.
    let carol = w.user(2);
    let key = SymmetricKey::generate(&mut w.rng);
    let commit = Some(key_commitment(&key));
    let bundle = KeyBundle {
        existing: vec![],
        new: Some(key),
    };
    let recipients = [
        (w.nodes[0].public(), w.nodes[0].x25519_public()),
        (w.nodes[2].public(), w.nodes[2].x25519_public()),
    ];
    let keys = seal_to_nodes(&w.flotilla, &bundle, &recipients, &mut w.rng).expect("seal");
    let mut members = vec![carol.public(), alice];
    members.sort();
    let forged = Control::ChannelCreate {
        channel,
        private: true,
        members,
        keys,
        commit,
    };
    let ev = w.forge_control(&carol, &before, just_before(real.hlc(), floor), &forged);
    for (ledger, _) in both_orders(&w, std::slice::from_ref(&ev)) {
        let st = ledger.state();
        let ch = st.channels.get(&channel);
        assert!(
            ch.is_none_or(
                |c| !c.members.contains(&carol.public()) && c.keys.last() != Some(&ev.id())
            ),
            "a backdated re-declaration took over a private channel"
        );
    }
}

#[test]
fn revoked_invite_with_a_backdated_admission() {
    let mut w = World::new(7);
    let code = w.invite(None, None);
    let before = w.heads();
    let floor = w.ledger.max_hlc(&before);
    let alice = w.user(0);
    let invite = code.invite;
    let revoke = w.apply(|c| c.control(&alice, &Control::InviteRevoke { invite }));
    // A member node admits a joiner after the revocation, dating the admission before it.
    let joiner = SecretKey::generate(&mut w.rng);
    let msg = w.join_message(&code, &joiner);
    let admission = w.admission(1, &joiner, &msg);
    let n1 = w.node(1);
    let ev = w.forge_control(&n1, &before, just_before(revoke.hlc(), floor), &admission);
    for (ledger, _) in both_orders(&w, std::slice::from_ref(&ev)) {
        assert!(
            !ledger.state().is_active_node(&joiner.public()),
            "a backdated admission used a revoked invite"
        );
    }
}

#[test]
fn used_up_invite_with_a_backdated_admission() {
    let mut w = World::new(8);
    let code = w.invite(None, Some(1));
    let before = w.heads();
    let floor = w.ledger.max_hlc(&before);
    let first = SecretKey::generate(&mut w.rng);
    let msg = w.join_message(&code, &first);
    let admission = w.admission(1, &first, &msg);
    let n1 = w.node(1);
    let used = w.apply(|c| c.control(&n1, &admission));
    // A second joiner with the same single-use code, admitted by a rogue member, backdated.
    let second = SecretKey::generate(&mut w.rng);
    let msg = w.join_message(&code, &second);
    let admission = w.admission(2, &second, &msg);
    let n2 = w.node(2);
    let ev = w.forge_control(&n2, &before, just_before(used.hlc(), floor), &admission);
    for (ledger, _) in both_orders(&w, std::slice::from_ref(&ev)) {
        assert!(
            !ledger.state().is_active_node(&second.public()),
            "a used-up invite admitted a second node by a backdated admission"
        );
    }
}

#[test]
fn key_bundle_substitution() {
    let mut w = World::new(9);
    let epoch = w.ledger.state().epoch().expect("epoch");
    let real = w
        .keyring(1)
        .get(&epoch)
        .cloned()
        .expect("bob's node holds the epoch key");
    // Carol creates a private channel with bob; the bundle sealed to Albatros also carries
    // a key of her choosing for the current epoch id.
    let fake = SymmetricKey::generate(&mut w.rng);
    let new = SymmetricKey::generate(&mut w.rng);
    let commit = Some(key_commitment(&new));
    let bundle = KeyBundle {
        existing: vec![(epoch, fake)],
        new: Some(new),
    };
    let recipients = [
        (w.nodes[1].public(), w.nodes[1].x25519_public()),
        (w.nodes[2].public(), w.nodes[2].x25519_public()),
    ];
    let keys = seal_to_nodes(&w.flotilla, &bundle, &recipients, &mut w.rng).expect("seal");
    let carol = w.user(2);
    let mut members = vec![carol.public(), w.users[1].public()];
    members.sort();
    let control = Control::ChannelCreate {
        channel: ChannelId([0x55; 16]),
        private: true,
        members,
        keys,
        commit,
    };
    let ev = w.ctx(|c| c.control(&carol, &control));
    if let Ok(ev) = ev {
        w.ingest(&ev);
    }
    let held = w.keyring(1).get(&epoch).cloned();
    assert!(
        held == Some(real),
        "a key bundle replaced the epoch key a node already held"
    );
}

#[test]
fn demoted_admins_backdated_delete() {
    let mut w = World::new(10);
    let grant = w.grant_admin(1);
    let town = w.town;
    let carol = w.user(2);
    let post = w.ctx(|c| {
        c.content(
            &carol,
            town,
            &Content::Post {
                text: "bonjour".into(),
                root: None,
                files: vec![],
                mentions: vec![],
            },
        )
    });
    let post = post.expect("post");
    let before = w.heads();
    let revoke = w.revoke_admin(0, 1);
    // Bob, no longer admin, deletes carol's post "while he still was".
    let bob = w.user(1);
    let keyring = w.keyring(1);
    let epoch = w.ledger.state_at(&before).epoch().expect("epoch");
    let sealed = keyring
        .seal_content(
            &w.flotilla,
            &town,
            epoch,
            &bob.public(),
            &Content::Delete { target: post.id() },
            &mut w.rng,
        )
        .expect("seal");
    let payload = postcard::to_stdvec(&sealed).expect("encode");
    let floor = grant.hlc().max(post.hlc());
    let hlc = just_before(revoke.hlc(), floor);
    let delete = w.forge(&bob, &before, hlc, town, Kind::SEALED, payload);
    let (mut ledger, refused) = honest(w.ledger.genesis(), &w.log);
    let accepted = !refused.contains(&delete.id())
        && matches!(
            ledger.check(&delete),
            Verdict::Accept | Verdict::MissingDeps(_)
        );
    let mut chat = ChatState::new();
    let k0 = w.keyring(0);
    for e in [&post, &delete] {
        if (e.id() == post.id() || accepted)
            && let Ok(c) = k0.open_content(e)
        {
            chat.apply(e, &c);
        }
    }
    assert!(
        chat.post(ledger.state(), &post.id()).is_some(),
        "a demoted admin deleted a post by backdating the delete"
    );
}

#[test]
fn removed_members_dm_and_private_channel_keys_rotated() {
    let mut w = World::new(11);
    let (alice, bob) = (w.user(0), w.user(1));
    let (channel, dm) = (ChannelId([0x31; 16]), ChannelId([0x32; 16]));
    let carol = w.users[2].public();
    w.apply(|c| c.create_channel(&alice, channel, true, &[bob.public(), carol]));
    w.apply(|c| c.create_channel(&alice, dm, true, &[bob.public()]));
    let old: Vec<Option<EventId>> = [channel, dm]
        .iter()
        .map(|c| w.ledger.state().channels[c].keys.last().copied())
        .collect();
    let bob_key = bob.public();
    w.apply(|c| c.remove_user(&alice, bob_key));
    let state = w.ledger.state().clone();
    let (k0, k1, k2) = (w.keyring(0), w.keyring(1), w.keyring(2));
    for (c, old) in [channel, dm].iter().zip(old) {
        let ch = &state.channels[c];
        let current = ch.keys.last().copied();
        assert_ne!(
            current, old,
            "a private channel's key was not rotated on removal"
        );
        let current = current.expect("key");
        assert!(k0.contains(&current), "a remaining member lost the channel");
        assert!(
            !k1.contains(&current),
            "the removed member's node got the new key"
        );
        assert!(!ch.members.contains(&bob_key), "bob is still a member");
    }
    assert!(k2.contains(&state.channels[&channel].keys.last().copied().expect("key")));
    let epoch = state.epoch().expect("epoch");
    assert!(k0.contains(&epoch) && k2.contains(&epoch) && k1.contains(&epoch));
}

#[test]
fn stale_peer_relays_the_removed_members_later_events() {
    let mut w = World::new(12);
    // Albatros's ledger stops here: it never hears of bob's removal.
    let mut stale = w.ledger.clone();
    let mut stale_clock = w.clock;
    let (alice, bob_key) = (w.user(0), w.users[1].public());
    // Alice's clock runs ahead of Albatros's (boats' clocks are wrong).
    w.now += 3_600_000;
    w.apply(|c| c.remove_user(&alice, bob_key));
    let bob = w.user(1);
    let keyring = w.keyring(1);
    let mut rng = SeededEntropy::new(99);
    let town = w.town;
    let text = Content::Post {
        text: "toujours là".into(),
        root: None,
        files: vec![],
        mentions: vec![],
    };
    let mut ctx = Ctx {
        ledger: &mut stale,
        keyring: &keyring,
        clock: &mut stale_clock,
        now_ms: w.now - 3_000_000, // after the removal in real time; its clock is behind
        rng: &mut rng,
    };
    let later_post = ctx
        .content(&bob, town, &text)
        .expect("bob's stale node posts");
    let later_channel = ctx
        .create_channel(&bob, ChannelId([0x66; 16]), false, &[])
        .expect("bob's stale node creates a channel");
    // A stale peer relays both to a node that knows of the removal.
    for ev in [&later_post, &later_channel] {
        let verdict = w.ledger.clone().check(ev);
        assert!(
            matches!(verdict, Verdict::Reject(_)),
            "a removed member's later event was accepted from a stale relay: {verdict:?}"
        );
    }
}

/// Mutual removal of two admins and a channel re-add racing a channel removal, on both
/// sides of a partition, in a seeded network: every node ends in the same state, and that
/// state follows the rules (both removed; the removal beats the re-add).
#[test]
fn concurrent_mutual_removal_and_re_add_converge() {
    let count = if cfg!(debug_assertions) { 12 } else { 48 };
    for seed in seeds(count) {
        let _guard = SeedGuard(seed);
        mutual_removal_scenario(seed);
    }
}

fn mutual_removal_scenario(seed: u64) {
    let mut net = Network::new(seed);
    net.add_nodes(4);
    net.found(0);
    for (a, b) in [(0, 1), (1, 2), (2, 3), (3, 0)] {
        net.connect(a, b);
    }
    for i in 1..4 {
        net.admit(0, i).expect("admit");
    }
    let all = [0, 1, 2, 3];
    assert!(
        net.run_until(|n| all.iter().all(|&i| n.sees_members(i, &all)), 120_000),
        "admission"
    );
    for i in 1..4 {
        net.add_user(i, "crew").expect("user");
    }
    assert!(net.run_until(|n| n.converged(&all), 120_000), "users");
    let f = net.flotilla_id();
    let key_of = |net: &Network, node: usize, user: usize| net.node(node).users[user].public();
    let (admin0, admin1, crew2) = (key_of(&net, 0, 0), key_of(&net, 1, 0), key_of(&net, 2, 0));
    net.publish_with(0, |c, _, u| {
        c.control(
            &u[0],
            &Control::RoleGrant {
                user: admin1,
                role: Role::Admin,
            },
        )
    })
    .expect("grant");
    let channel = ChannelId([0x99; 16]);
    net.publish_with(0, |c, _, u| c.create_channel(&u[0], channel, false, &[]))
        .expect("channel");
    assert!(net.run_until(|n| n.converged(&all), 120_000), "channel");
    net.publish_with(2, |c, _, u| c.add_channel_member(&u[0], channel, crew2))
        .expect("crew2 joins");
    assert!(net.run_until(|n| n.converged(&all), 120_000), "setup");
    // Apart: each admin removes the other. Left, the channel's creator removes crew2 from
    // the channel; right, crew2 leaves and admin1 adds it back, concurrently.
    net.partition(&[0, 3], &[1, 2]);
    net.publish_with(0, |c, _, u| c.remove_user(&u[0], admin1))
        .expect("0 removes 1");
    net.publish_with(0, |c, _, u| c.remove_channel_member(&u[0], channel, crew2))
        .expect("channel removal");
    net.publish_with(1, |c, _, u| c.remove_user(&u[0], admin0))
        .expect("1 removes 0");
    net.publish_with(2, |c, _, u| c.remove_channel_member(&u[0], channel, crew2))
        .expect("crew2 leaves");
    let jitter = net.range(1_000, 5_000);
    net.run_for(jitter);
    net.publish_with(1, |c, _, u| c.add_channel_member(&u[0], channel, crew2))
        .expect("re-add");
    net.heal();
    assert!(
        net.run_until(|n| n.converged(&all), 240_000),
        "not converged: {:?}",
        net.divergence(&all)
    );
    let state = net
        .node(3)
        .state
        .ledger(&f)
        .expect("ledger")
        .state()
        .clone();
    for i in all {
        assert_eq!(
            net.node(i).state.ledger(&f).map(|l| l.state().clone()),
            Some(state.clone())
        );
    }
    assert!(
        !state.is_active_user(&admin0),
        "mutual removal: admin0 survived"
    );
    assert!(
        !state.is_active_user(&admin1),
        "mutual removal: admin1 survived"
    );
    assert!(
        !state.channels[&channel].members.contains(&crew2),
        "a re-add concurrent with a removal won"
    );
}

/// A node admitted concurrently with a removal misses the removal's new epoch key (it was
/// sealed before the node was known): any member that holds the key re-seals it to it
/// (the rekey exchange), and the node reads what is written with it.
#[test]
fn a_node_that_missed_a_rotation_is_rekeyed() {
    for seed in seeds(if cfg!(debug_assertions) { 4 } else { 16 }) {
        let _guard = SeedGuard(seed);
        let mut net = Network::new(seed);
        net.add_nodes(4);
        net.found(0);
        for (a, b) in [(0, 1), (1, 2), (1, 3), (0, 2)] {
            net.connect(a, b);
        }
        net.admit(0, 1).expect("admit 1");
        net.admit(0, 2).expect("admit 2");
        let three = [0, 1, 2];
        assert!(net.run_until(
            |n| n.sees_members(0, &three) && n.sees_members(1, &three),
            120_000
        ));
        net.add_user(1, "second").expect("user");
        assert!(net.run_until(|n| n.converged(&three), 120_000), "setup");
        let second = net.node(1).users[0].public();
        net.publish_with(0, |c, _, u| {
            c.control(
                &u[0],
                &Control::RoleGrant {
                    user: second,
                    role: Role::Admin,
                },
            )
        })
        .expect("grant");
        assert!(net.run_until(|n| n.converged(&three), 120_000), "grant");
        // Apart: node 0 removes node 2; node 1's admin admits node 3.
        net.partition(&[0], &[1, 2, 3]);
        let removed = net.node(2).secret.public();
        net.publish_with(0, |c, _, u| c.remove_node(&u[0], removed))
            .expect("removal");
        net.admit(1, 3).expect("admit 3");
        net.heal();
        let members = [0, 1, 3];
        assert!(
            net.run_until(|n| n.converged(&members), 240_000),
            "not converged: {:?}",
            net.divergence(&members)
        );
        let f = net.flotilla_id();
        let ok = net.run_until(
            |n| {
                let node = &n.node(3).state;
                let epoch = node.ledger(&f).and_then(|l| l.state().epoch());
                epoch.is_some_and(|e| node.keyring(&f).is_some_and(|k| k.contains(&e)))
            },
            240_000,
        );
        assert!(ok, "node 3 never got the epoch key it missed");
    }
}

/// Figures for docs/performance.md: the cost of a full resolution (an event concurrent with
/// others forces one) and of the state as of old deps, with `n` control events.
/// `cargo test --release -p flotilla-protocol --features test-utils --test adversary
/// resolution_cost -- --ignored --nocapture`
#[test]
#[ignore = "benchmark: prints figures"]
fn resolution_cost() {
    for n in [100usize, 500, 1000] {
        let mut w = World::new(77);
        let node = w.node(0);
        let mut old = Vec::new();
        for i in 0..n {
            let user = SecretKey::generate(&mut w.rng);
            let name = format!("u{i}");
            w.apply(|c| c.add_user(&node, &user, &name));
            if i % 10 == 0 {
                old.push(w.heads());
            }
        }
        // A concurrent event (deps not the heads) forces a full resolution.
        let deps = old[old.len() / 2].clone();
        let floor = w.ledger.max_hlc(&deps);
        let user = SecretKey::generate(&mut w.rng);
        let sig_info = UserInfo {
            key: user.public(),
            username: "late".into(),
            home: node.public(),
        };
        let sig = user.sign(&flotilla_protocol::proof::user_statement(
            &w.ledger.genesis(),
            &sig_info,
        ));
        let c = Control::UserAdd {
            user: sig_info,
            sig,
        };
        let hlc = Hlc {
            ms: floor.ms + 1,
            logical: 0,
        };
        let ev = w.forge_control(&node, &deps, hlc, &c);
        let t = std::time::Instant::now();
        assert_eq!(w.ledger.check(&ev), Verdict::Accept);
        assert!(w.ledger.insert(&ev));
        let full = t.elapsed();
        let t = std::time::Instant::now();
        for d in &old {
            let _ = w.ledger.state_at(d);
        }
        let per_state = t.elapsed() / old.len() as u32;
        println!(
            "{n} control events: check + insert of a concurrent event {full:?}; state as of old deps (cache miss) {per_state:?}"
        );
    }
}

#[test]
fn removed_member_forks_an_old_number_after_removal() {
    let mut w = World::new(13);
    let p1 = w.post(1, "un");
    let p2 = w.post(1, "deux");
    let before = w.heads();
    let (alice, bob_key) = (w.user(0), w.users[1].public());
    let removal = w.apply(|c| c.remove_user(&alice, bob_key));
    // Bob signs new content under numbers the removal's cut covers, naming old deps and
    // an old time: a second event 2 after event 1, and a second event 1.
    let bob = w.user(1);
    let hlc = just_before(removal.hlc(), p2.hlc());
    let payload = w.sealed_by(1, &before, &post("fourche deux"));
    let fork2 = w.forge_numbered(&bob, 2, Some(p1.id()), &before, hlc, w.town, payload);
    let payload = w.sealed_by(1, &before, &post("fourche un"));
    let fork1 = w.forge_numbered(&bob, 1, None, &before, hlc, w.town, payload);
    let forks = [fork2, fork1];
    for (ledger, refused) in both_orders(&w, &forks) {
        for f in &forks {
            // Refused, or (held before the removal was known) withdrawn.
            assert!(
                refused.contains(&f.id()) || ledger.is_withdrawn(f),
                "a fork of a removed author was kept"
            );
            assert!(
                matches!(ledger.clone().check(f), Verdict::Reject(_)),
                "a fork of a removed author is accepted"
            );
        }
    }
    // A node that held the forks before it heard of the removal never shows them.
    let mut early = w.log.clone();
    let at = early
        .iter()
        .position(|e| e.id() == removal.id())
        .expect("removal");
    for f in &forks {
        early.insert(at, f.clone());
    }
    for order in [early.clone(), early.iter().rev().cloned().collect()] {
        let texts = shown(&w, &order);
        assert!(texts.contains("un") && texts.contains("deux"), "{texts:?}");
        assert!(
            !texts.contains("fourche deux") && !texts.contains("fourche un"),
            "a removed author's fork is shown: {texts:?}"
        );
    }
    // And a fork held before the removal is withdrawn once it is known.
    let (ledger, _) = honest(w.ledger.genesis(), &early);
    for f in &forks {
        assert!(ledger.is_withdrawn(f), "a held fork is not withdrawn");
    }
    assert!(!ledger.is_withdrawn(&p1) && !ledger.is_withdrawn(&p2));
}

#[test]
fn removed_member_fills_the_numbers_it_skipped_after_removal() {
    let mut w = World::new(14);
    w.post(1, "un");
    let p2 = w.post(1, "deux");
    // Bob's software skips from 2 to 1000 (its own choice), before the removal.
    let bob = w.user(1);
    let deps = w.heads();
    w.now += 1_000;
    let hlc = w.clock.tick(w.now);
    let payload = w.sealed_by(1, &deps, &post("mille"));
    let p1000 = w.forge_numbered(&bob, 1000, Some(p2.id()), &deps, hlc, w.town, payload);
    w.ingest(&p1000);
    let (alice, bob_key) = (w.user(0), w.users[1].public());
    let removal = w.apply(|c| c.remove_user(&alice, bob_key));
    assert_eq!(w.ledger.state().cut_of(&bob_key).map(|c| c.seq), Some(1000));
    // After the removal he fills the gap: 3 after 2, and 500 after nothing he wrote.
    let hlc = just_before(removal.hlc(), p1000.hlc());
    let payload = w.sealed_by(1, &deps, &post("trois"));
    let f3 = w.forge_numbered(&bob, 3, Some(p2.id()), &deps, hlc, w.town, payload);
    let payload = w.sealed_by(1, &deps, &post("cinq cents"));
    let f500 = w.forge_numbered(
        &bob,
        500,
        Some(EventId([9; 32])),
        &deps,
        hlc,
        w.town,
        payload,
    );
    let fills = [f3, f500];
    // Refused by every node that knows the removal. (A node that stored them before, and
    // never holds bob's 2 because it learnt the removal first, cannot tell that his chain is
    // broken below 999: it keeps them stored but never counts them, below.)
    for (ledger, _) in both_orders(&w, &fills) {
        for f in &fills {
            assert!(matches!(ledger.clone().check(f), Verdict::Reject(_)));
        }
    }
    let mut early = w.log.clone();
    let at = early
        .iter()
        .position(|e| e.id() == removal.id())
        .expect("removal");
    for f in &fills {
        early.insert(at, f.clone());
    }
    for order in [early.clone(), early.iter().rev().cloned().collect()] {
        let texts = shown(&w, &order);
        // 1000 counts (the cut's head); 1 and 2 do not: bob's 1000 names 2 as its `prev`,
        // which is not the event numbered 999, so bob broke his own chain there.
        assert!(texts.contains("mille"), "{texts:?}");
        assert!(
            !texts.contains("un") && !texts.contains("deux"),
            "{texts:?}"
        );
        assert!(
            !texts.contains("trois") && !texts.contains("cinq cents"),
            "a removed author's filled gap is shown: {texts:?}"
        );
    }
}

#[test]
fn demoted_admin_forks_a_number_within_its_cut_to_delete() {
    let mut w = World::new(15);
    w.grant_admin(1);
    let b1 = w.post(1, "b1");
    w.post(1, "b2");
    let target = w.post(2, "bonjour");
    let before = w.heads();
    let revoke = w.revoke_admin(0, 1);
    assert_eq!(
        w.ledger.state().users[&w.users[1].public()].admin_periods[0]
            .1
            .map(|c| c.seq),
        Some(2)
    );
    // Bob, demoted at his event 2, signs a second event 2 that deletes carol's post.
    let bob = w.user(1);
    let hlc = just_before(revoke.hlc(), target.hlc());
    let payload = w.sealed_by(
        1,
        &before,
        &Content::Delete {
            target: target.id(),
        },
    );
    let delete = w.forge_numbered(&bob, 2, Some(b1.id()), &before, hlc, w.town, payload);
    let mut all = w.log.clone();
    all.push(delete.clone());
    for order in [all.clone(), all.iter().rev().cloned().collect()] {
        let texts = shown(&w, &order);
        assert!(
            texts.contains("bonjour"),
            "a demoted admin deleted a post with a fork of its numbering"
        );
        assert!(texts.contains("b1") && texts.contains("b2"));
    }
}

/// A removed author's posts written before its removal reach nodes in any order (gossip):
/// every node ends up showing all of them.
#[test]
fn removed_authors_earlier_posts_in_any_order_are_all_shown() {
    let count = if cfg!(debug_assertions) { 8 } else { 32 };
    for seed in seeds(count) {
        let _guard = SeedGuard(seed);
        let mut w = World::new(100 + seed);
        let texts: Vec<String> = (0..6).map(|i| format!("avant {i}")).collect();
        for t in &texts {
            w.post(1, t);
        }
        let (alice, bob_key) = (w.user(0), w.users[1].public());
        w.apply(|c| c.remove_user(&alice, bob_key));
        let mut order = w.log.clone();
        let mut rng = SeededEntropy::new(seed);
        for i in (1..order.len()).rev() {
            let j =
                (flotilla_protocol::entropy::Entropy::next_u64(&mut rng) % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        let shown = shown(&w, &order);
        for t in &texts {
            assert!(shown.contains(t), "seed {seed}: {t} is missing: {shown:?}");
        }
    }
}

// ----- thread moves (issue 14): only flotilla admins, only within the flotilla -----

/// Bob's post in town-square with carol's reply.
fn bobs_thread(w: &mut World) -> (SignedEvent, SignedEvent) {
    let (bob, carol, town) = (w.user(1), w.user(2), w.town);
    let root = w.apply(|c| c.content(&bob, town, &post("bonjour")));
    let reply = Content::Post {
        text: "salut".into(),
        root: Some(root.id()),
        files: vec![],
        mentions: vec![],
    };
    let reply = w.apply(|c| c.content(&carol, town, &reply));
    (root, reply)
}

/// User `by` copies bob's root to `to` (honestly built) and leaves the marker in town-square.
fn move_root(w: &mut World, by: usize, root: &SignedEvent, to: ChannelId) -> [SignedEvent; 2] {
    let (key, town, bob) = (w.user(by), w.town, w.users[1].public());
    let copy = Content::MovedPost {
        original: root.id(),
        author: bob,
        at: root.hlc(),
        text: "bonjour".into(),
        root: None,
        files: vec![],
    };
    let copy = w.apply(|c| c.content(&key, to, &copy));
    let marker = Content::ThreadMoved {
        root: root.id(),
        to,
        new_root: copy.id(),
    };
    let marker = w.apply(|c| c.content(&key, town, &marker));
    [copy, marker]
}

/// An honest node's chat after receiving `events` in this order, with its ledger.
fn chat_of(w: &World, events: &[SignedEvent]) -> (ChatState, Ledger) {
    let (ledger, refused) = honest(w.ledger.genesis(), events);
    let keyring = w.keyring(0);
    let mut chat = ChatState::new();
    for e in events.iter().filter(|e| !refused.contains(&e.id())) {
        if let Ok(c) = keyring.open_content(e) {
            chat.apply(e, &c);
        }
    }
    (chat, ledger)
}

#[test]
fn non_admin_moves_someone_elses_thread() {
    let mut w = World::new(40);
    let (root, reply) = bobs_thread(&mut w);
    let off = ChannelId::derived(&w.flotilla, "off-topic");
    let [copy, _] = move_root(&mut w, 2, &root, off);
    let (chat, ledger) = chat_of(&w, &w.log);
    let auth = ledger.state();
    let marker = chat.post(auth, &root.id()).expect("root shown");
    assert_eq!(marker.moved_to, None, "a non-admin's move marker counted");
    assert!(chat.post(auth, &reply.id()).is_some(), "reply hidden");
    assert!(
        chat.post(auth, &copy.id()).is_none(),
        "non-admin's copy shown"
    );
}

#[test]
fn admin_moves_a_thread_to_another_flotillas_channel() {
    let mut w = World::new(41);
    let (root, reply) = bobs_thread(&mut w);
    let foreign = ChannelId::derived(&World::new(42).flotilla, "off-topic");
    let (alice, town) = (w.user(0), w.town);
    let marker = Content::ThreadMoved {
        root: root.id(),
        to: foreign,
        new_root: root.id(),
    };
    w.apply(|c| c.content(&alice, town, &marker));
    let (chat, ledger) = chat_of(&w, &w.log);
    let auth = ledger.state();
    assert_eq!(chat.post(auth, &root.id()).and_then(|p| p.moved_to), None);
    assert!(chat.post(auth, &reply.id()).is_some(), "thread lost");
}

#[test]
fn demoted_admins_backdated_move() {
    let mut w = World::new(43);
    let grant = w.grant_admin(1);
    let (root, reply) = bobs_thread(&mut w);
    let before = w.heads();
    let revoke = w.revoke_admin(0, 1);
    // Bob, no longer admin, moves the thread "while he still was".
    let off = ChannelId::derived(&w.flotilla, "off-topic");
    let marker = Content::ThreadMoved {
        root: root.id(),
        to: off,
        new_root: root.id(),
    };
    let payload = w.sealed_by(1, &before, &marker);
    let floor = grant.hlc().max(reply.hlc());
    let hlc = just_before(revoke.hlc(), floor);
    let bob = w.user(1);
    let forged = w.forge(&bob, &before, hlc, w.town, Kind::SEALED, payload);
    let mut all = w.log.clone();
    all.push(forged);
    for order in [all.clone(), all.iter().rev().cloned().collect()] {
        let (chat, ledger) = chat_of(&w, &order);
        let auth = ledger.state();
        assert_eq!(
            chat.post(auth, &root.id()).and_then(|p| p.moved_to),
            None,
            "a demoted admin moved a thread by backdating the move"
        );
        assert!(chat.post(auth, &reply.id()).is_some());
    }
}

#[test]
fn replayed_move_changes_nothing() {
    let mut w = World::new(44);
    let (root, reply) = bobs_thread(&mut w);
    let off = ChannelId::derived(&w.flotilla, "off-topic");
    let [copy, marker] = move_root(&mut w, 0, &root, off);
    let (once, ledger) = chat_of(&w, &w.log);
    let auth = ledger.state();
    assert_eq!(
        once.post(auth, &root.id()).and_then(|p| p.moved_to),
        Some((off, copy.id()))
    );
    assert!(once.post(auth, &reply.id()).is_none());
    // The same events again, reversed and with the move replayed twice.
    let mut replayed: Vec<SignedEvent> = w.log.iter().rev().cloned().collect();
    replayed.extend([marker.clone(), copy.clone(), marker]);
    let (again, ledger2) = chat_of(&w, &replayed);
    assert_eq!(once.digest(auth), again.digest(ledger2.state()));
    let shown = again.post(ledger2.state(), &copy.id()).expect("copy");
    assert_eq!(shown.author, w.users[1].public());
    assert_eq!(shown.hlc, root.hlc());
}

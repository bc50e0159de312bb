//! Tests of the chat fold: one unit test per rule, then properties over random scripts of real
//! signed, encrypted events (any order, any duplicates, same snapshot).

use proptest::prelude::*;

use super::*;
use crate::author::{self, Ctx};
use crate::crypto::SecretKey;
use crate::entropy::{Entropy, SeededEntropy};
use crate::event::{Control, Role};
use crate::hlc::Clock;
use crate::keyring::Keyring;
use crate::membership::Ledger;

const T0: u64 = 1_700_000_000_000;
const ALICE: usize = 0;
const BOB: usize = 1;
const CAROL: usize = 2;

/// A founded flotilla with alice (admin), bob and carol on one node, each user with its own
/// clock (so two users writing in the same millisecond get equal HLCs), and every content
/// event written so far with its decrypted payload.
pub(super) struct Fixture {
    node: SecretKey,
    users: Vec<SecretKey>,
    pub(super) channels: [ChannelId; 2],
    ledger: Ledger,
    /// Ledgers frozen just before a user's removal: that user keeps writing with them, as a
    /// boat that never heard of the removal would.
    stale: BTreeMap<usize, Ledger>,
    keyring: Keyring,
    clocks: Vec<Clock>,
    node_clock: Clock,
    rng: SeededEntropy,
    now_ms: u64,
    pub(super) events: Vec<(SignedEvent, Content)>,
}

impl Fixture {
    pub(super) fn new(n_users: usize) -> Self {
        let mut rng = SeededEntropy::new(7);
        let node = SecretKey::generate(&mut rng);
        let users: Vec<SecretKey> = (0..n_users)
            .map(|_| SecretKey::generate(&mut rng))
            .collect();
        let mut node_clock = Clock::new();
        let founded = author::found(
            &node,
            "Ondine",
            &users[ALICE],
            "alice",
            "Rallye",
            &mut node_clock,
            T0,
            &mut rng,
        )
        .expect("found");
        let channels = author::DEFAULT_CHANNELS.map(|n| ChannelId::derived(&founded.flotilla, n));
        let mut fx = Fixture {
            node,
            users,
            channels,
            ledger: founded.ledger,
            stale: BTreeMap::new(),
            keyring: founded.keyring,
            clocks: vec![Clock::new(); n_users],
            node_clock,
            rng,
            now_ms: T0 + 1,
            events: Vec::new(),
        };
        for ev in &founded.events {
            if let Ok(content) = fx.keyring.open_content(ev) {
                fx.events.push((ev.clone(), content));
            }
        }
        for (i, name) in ["bob", "carol"].iter().enumerate().take(n_users - 1) {
            fx.add_user(i + 1, name);
        }
        fx
    }

    fn ctx_parts(&mut self, user: Option<usize>) -> Ctx<'_, SeededEntropy> {
        let (ledger, clock) = match user {
            Some(u) => (
                self.stale.get_mut(&u).unwrap_or(&mut self.ledger),
                &mut self.clocks[u],
            ),
            None => (&mut self.ledger, &mut self.node_clock),
        };
        Ctx {
            ledger,
            keyring: &self.keyring,
            clock,
            now_ms: self.now_ms,
            rng: &mut self.rng,
        }
    }

    fn add_user(&mut self, user: usize, name: &str) {
        let (node, key) = (self.node.clone(), self.users[user].clone());
        let ev = self
            .ctx_parts(None)
            .add_user(&node, &key, name)
            .expect("user add");
        self.insert_control(&ev);
    }

    fn insert_control(&mut self, ev: &SignedEvent) {
        assert!(self.ledger.insert(ev));
        self.keyring.absorb(ev, &self.node);
    }

    /// Alice removes `user`, who keeps writing with the ledger it had.
    fn remove(&mut self, user: usize) -> bool {
        let before = self.ledger.clone();
        let alice = self.users[ALICE].clone();
        let key = self.users[user].public();
        let Ok(ev) = self.ctx_parts(None).remove_user(&alice, key) else {
            return false;
        };
        self.stale.insert(user, before);
        self.insert_control(&ev);
        true
    }

    /// `user` writes `content` in channel `chan` (an index); returns the event id.
    pub(super) fn write(&mut self, user: usize, chan: usize, content: Content) -> EventId {
        let key = self.users[user].clone();
        let channel = self.channels[chan];
        let ev = self
            .ctx_parts(Some(user))
            .content(&key, channel, &content)
            .expect("content");
        let opened = self.keyring.open_content(&ev).expect("open");
        assert_eq!(opened, content);
        let id = ev.id();
        self.events.push((ev, opened));
        id
    }

    pub(super) fn post(
        &mut self,
        user: usize,
        chan: usize,
        text: &str,
        root: Option<EventId>,
    ) -> EventId {
        self.write(user, chan, post(text, root))
    }

    pub(super) fn auth(&self) -> &AuthState {
        self.ledger.state()
    }

    pub(super) fn pk(&self, user: usize) -> PublicKey {
        self.users[user].public()
    }

    pub(super) fn tick(&mut self) {
        self.now_ms += 1;
    }
}

fn post(text: &str, root: Option<EventId>) -> Content {
    Content::Post {
        text: text.to_owned(),
        root,
        files: vec![],
        mentions: vec![],
    }
}

pub(super) fn fold<'a>(events: impl IntoIterator<Item = &'a (SignedEvent, Content)>) -> ChatState {
    let mut s = ChatState::new();
    for (ev, content) in events {
        s.apply(ev, content);
    }
    s
}

fn texts(views: &[PostView]) -> Vec<&str> {
    views.iter().map(|v| v.text.as_str()).collect()
}

#[test]
fn posts_and_replies_form_timeline_and_thread() {
    let mut fx = Fixture::new(2);
    let root = fx.post(ALICE, 0, "root", None);
    fx.tick();
    let reply = fx.post(BOB, 0, "reply", Some(root));
    fx.tick();
    fx.post(BOB, 1, "elsewhere", None);
    let s = fold(&fx.events);
    let auth = fx.auth();
    assert_eq!(texts(&s.timeline(auth, &fx.channels[0])), ["root", "reply"]);
    assert_eq!(texts(&s.thread(auth, &root)), ["root", "reply"]);
    assert_eq!(s.post(auth, &root).map(|p| p.reply_count), Some(1));
    assert_eq!(s.post(auth, &reply).and_then(|p| p.root), Some(root));
    assert_eq!(texts(&s.timeline(auth, &fx.channels[1])), ["elsewhere"]);
}

#[test]
fn reply_before_root_is_resolved_when_root_arrives() {
    let mut fx = Fixture::new(2);
    let root = fx.post(ALICE, 0, "root", None);
    fx.post(BOB, 0, "reply", Some(root));
    let (first, rest) = fx.events.split_at(fx.events.len() - 2);
    let mut s = fold(first);
    s.apply(&rest[1].0, &rest[1].1);
    assert!(s.thread(fx.auth(), &root).is_empty());
    s.apply(&rest[0].0, &rest[0].1);
    assert_eq!(texts(&s.thread(fx.auth(), &root)), ["root", "reply"]);
    assert_eq!(s.post(fx.auth(), &root).map(|p| p.reply_count), Some(1));
}

#[test]
fn edits_are_last_writer_wins_and_may_arrive_first() {
    let mut fx = Fixture::new(2);
    let p = fx.post(ALICE, 0, "v0", None);
    for text in ["v1", "v2"] {
        fx.tick();
        let text = text.to_owned();
        fx.write(ALICE, 0, Content::Edit { target: p, text });
    }
    let s = fold(fx.events.iter().rev());
    let view = s.post(fx.auth(), &p).expect("visible");
    assert_eq!((view.text.as_str(), view.edited), ("v2", true));
}

#[test]
fn edit_by_non_author_is_ignored() {
    let mut fx = Fixture::new(3);
    let p = fx.post(BOB, 0, "mine", None);
    fx.tick();
    let text = "hijacked".to_owned();
    fx.write(CAROL, 0, Content::Edit { target: p, text });
    let view = fold(&fx.events).post(fx.auth(), &p).expect("visible");
    assert_eq!((view.text.as_str(), view.edited), ("mine", false));
}

#[test]
fn an_admin_edits_anyones_post() {
    let mut fx = Fixture::new(2);
    let p = fx.post(BOB, 0, "insulte", None);
    fx.tick();
    let text = "(modéré)".to_owned();
    fx.write(ALICE, 0, Content::Edit { target: p, text });
    let view = fold(&fx.events).post(fx.auth(), &p).expect("visible");
    assert_eq!((view.text.as_str(), view.edited), ("(modéré)", true));
    assert_eq!(view.author, fx.pk(BOB), "still bob's");
}

#[test]
fn delete_beats_a_later_edit() {
    let mut fx = Fixture::new(2);
    let p = fx.post(BOB, 0, "oops", None);
    fx.tick();
    fx.write(BOB, 0, Content::Delete { target: p });
    fx.tick();
    let text = "after".to_owned();
    fx.write(BOB, 0, Content::Edit { target: p, text });
    let s = fold(&fx.events);
    assert_eq!(s.post(fx.auth(), &p), None);
    assert!(s.timeline(fx.auth(), &fx.channels[0]).is_empty());
}

#[test]
fn admin_can_delete_others_post_and_non_admin_cannot() {
    let mut fx = Fixture::new(3);
    let by_bob = fx.post(BOB, 0, "bob's", None);
    let by_carol = fx.post(CAROL, 0, "carol's", None);
    fx.tick();
    fx.write(ALICE, 0, Content::Delete { target: by_bob });
    fx.write(BOB, 0, Content::Delete { target: by_carol });
    let s = fold(&fx.events);
    assert_eq!(s.post(fx.auth(), &by_bob), None);
    assert!(s.post(fx.auth(), &by_carol).is_some());
}

#[test]
fn an_admins_delete_stands_after_the_admin_is_demoted() {
    let mut fx = Fixture::new(3);
    let by_carol = fx.post(CAROL, 0, "carol's", None);
    let alice = fx.users[ALICE].clone();
    let bob = fx.pk(BOB);
    let grant = Control::RoleGrant {
        user: bob,
        role: Role::Admin,
    };
    let ev = fx.ctx_parts(None).control(&alice, &grant).expect("grant");
    fx.insert_control(&ev);
    fx.tick();
    fx.write(BOB, 0, Content::Delete { target: by_carol });
    fx.tick();
    let ev = fx
        .ctx_parts(None)
        .revoke_role(&alice, bob, Role::Admin)
        .expect("revoke");
    fx.insert_control(&ev);
    assert!(!fx.auth().is_admin(&bob));
    let s = fold(&fx.events);
    assert_eq!(
        s.post(fx.auth(), &by_carol),
        None,
        "deleted while bob was admin"
    );
    // After the demotion, bob's deletes of others' posts no longer count.
    fx.tick();
    let later = fx.post(CAROL, 0, "carol again", None);
    fx.tick();
    fx.write(BOB, 0, Content::Delete { target: later });
    let s = fold(&fx.events);
    assert!(s.post(fx.auth(), &later).is_some());
}

#[test]
fn deleted_reply_leaves_thread_and_reply_count() {
    let mut fx = Fixture::new(2);
    let root = fx.post(ALICE, 0, "root", None);
    fx.tick();
    let reply = fx.post(BOB, 0, "reply", Some(root));
    fx.tick();
    fx.post(BOB, 0, "kept", Some(root));
    fx.tick();
    fx.write(BOB, 0, Content::Delete { target: reply });
    let s = fold(&fx.events);
    assert_eq!(texts(&s.thread(fx.auth(), &root)), ["root", "kept"]);
    assert_eq!(s.post(fx.auth(), &root).map(|p| p.reply_count), Some(1));
}

#[test]
fn reactions_are_add_remove_registers_per_user_and_emoji() {
    let mut fx = Fixture::new(3);
    let p = fx.post(ALICE, 0, "hi", None);
    let react = |add: bool| {
        let (target, emoji) = (p, "wave".to_owned());
        if add {
            Content::ReactionAdd { target, emoji }
        } else {
            Content::ReactionRemove { target, emoji }
        }
    };
    for (user, add) in [(BOB, true), (CAROL, true), (BOB, false), (CAROL, false)] {
        fx.tick();
        fx.write(user, 0, react(add));
    }
    fx.tick();
    fx.write(CAROL, 0, react(true));
    for s in [fold(&fx.events), fold(fx.events.iter().rev())] {
        let view = s.post(fx.auth(), &p).expect("visible");
        let wavers: Vec<PublicKey> = view.reactions["wave"].iter().copied().collect();
        assert_eq!(wavers, [fx.pk(CAROL)]);
        assert_eq!(view.reactions.len(), 1);
    }
}

#[test]
fn pin_and_unpin_are_last_writer_wins() {
    let mut fx = Fixture::new(2);
    let a = fx.post(ALICE, 0, "a", None);
    let b = fx.post(ALICE, 0, "b", None);
    fx.tick();
    fx.write(BOB, 0, Content::Pin { target: a });
    fx.write(BOB, 0, Content::Pin { target: b });
    fx.tick();
    fx.write(ALICE, 0, Content::Unpin { target: a });
    let s = fold(fx.events.iter().rev());
    let channel = s.channel(fx.auth(), &fx.channels[0]).expect("channel");
    assert_eq!(channel.pinned, [b]);
    assert_eq!(s.post(fx.auth(), &a).map(|p| p.pinned), Some(false));
    assert_eq!(s.post(fx.auth(), &b).map(|p| p.pinned), Some(true));
}

fn info(name: &str) -> Content {
    Content::ChannelInfo {
        name: name.to_owned(),
        header: format!("{name} header"),
        purpose: String::new(),
    }
}

#[test]
fn channel_info_is_last_writer_wins_with_ties_broken_by_id() {
    let mut fx = Fixture::new(2);
    fx.tick();
    let first = fx.write(ALICE, 0, info("first"));
    let second = fx.write(BOB, 0, info("second"));
    let n = fx.events.len();
    let (ha, hb) = (fx.events[n - 2].0.hlc(), fx.events[n - 1].0.hlc());
    assert_eq!(ha, hb, "two clocks, one millisecond: an HLC tie");
    let winner = if first > second { "first" } else { "second" };
    let s = fold(fx.events.iter().rev());
    let view = s.channel(fx.auth(), &fx.channels[0]).expect("channel");
    assert_eq!(view.header, format!("{winner} header"));
    // The name (a rename) counts only from the creator or an admin: alice, not bob.
    assert_eq!(view.name, "first");
    fx.tick();
    fx.write(BOB, 0, info("third"));
    let s = fold(&fx.events);
    let view = s.channel(fx.auth(), &fx.channels[0]).expect("channel");
    assert_eq!(
        (view.name.as_str(), view.header.as_str()),
        ("first", "third header")
    );
    fx.tick();
    fx.write(ALICE, 0, info("fourth"));
    let s = fold(&fx.events);
    assert_eq!(
        s.channel(fx.auth(), &fx.channels[0]).map(|c| c.name),
        Some("fourth".into())
    );
    let other = s.channel(fx.auth(), &fx.channels[1]).expect("channel");
    assert_eq!(other.name, "off-topic");
}

#[test]
fn display_name_counts_from_admin_or_creator_only() {
    let mut fx = Fixture::new(2);
    fx.tick();
    let shown = |name: &str| Content::ChannelDisplayName {
        display_name: name.to_owned(),
    };
    fx.write(ALICE, 0, shown("Centre-Ville"));
    fx.tick();
    fx.write(BOB, 0, shown("Chez Bob"));
    let s = fold(&fx.events);
    let view = s.channel(fx.auth(), &fx.channels[0]).expect("channel");
    assert_eq!(view.display_name, "Centre-Ville");
}

#[test]
fn archive_counts_from_admin_or_creator_only() {
    let mut fx = Fixture::new(2);
    fx.write(BOB, 0, Content::ChannelArchive { archived: true });
    let s = fold(&fx.events);
    assert_eq!(
        s.channel(fx.auth(), &fx.channels[0]).map(|c| c.archived),
        Some(false)
    );
    fx.tick();
    fx.write(ALICE, 0, Content::ChannelArchive { archived: true });
    let s = fold(&fx.events);
    assert_eq!(
        s.channel(fx.auth(), &fx.channels[0]).map(|c| c.archived),
        Some(true)
    );
}

#[test]
fn removed_authors_late_content_is_hidden_even_if_applied_first() {
    let mut fx = Fixture::new(3);
    let early = fx.post(CAROL, 0, "before", None);
    let target = fx.post(ALICE, 0, "target", None);
    fx.tick();
    assert!(fx.remove(CAROL));
    fx.tick();
    let late = fx.post(CAROL, 0, "after", None);
    let emoji = "skull".to_owned();
    fx.write(CAROL, 0, Content::ReactionAdd { target, emoji });
    fx.write(CAROL, 0, Content::Delete { target: early });
    let s = fold(&fx.events);
    let stale_auth = fx.stale[&CAROL].state();
    assert!(
        s.post(stale_auth, &late).is_some(),
        "shown while the removal is unknown"
    );
    let auth = fx.auth();
    assert!(s.post(auth, &late).is_none());
    assert_eq!(s.post(auth, &early).map(|p| p.text), Some("before".into()));
    assert!(s.post(auth, &target).expect("visible").reactions.is_empty());
}

#[test]
fn ops_from_another_channel_are_ignored() {
    let mut fx = Fixture::new(2);
    let p = fx.post(BOB, 0, "here", None);
    fx.tick();
    let text = "there".to_owned();
    fx.write(BOB, 1, Content::Edit { target: p, text });
    fx.write(BOB, 1, Content::Pin { target: p });
    fx.write(BOB, 1, Content::Delete { target: p });
    let view = fold(&fx.events).post(fx.auth(), &p).expect("visible");
    assert_eq!((view.text.as_str(), view.pinned), ("here", false));
}

#[test]
fn digest_follows_the_snapshot() {
    let mut fx = Fixture::new(2);
    let p = fx.post(ALICE, 0, "hello", None);
    let s = fold(&fx.events);
    let twice = fold(fx.events.iter().chain(&fx.events));
    assert_eq!(s.snapshot(fx.auth()), twice.snapshot(fx.auth()));
    assert_eq!(s.digest(fx.auth()), twice.digest(fx.auth()));
    fx.tick();
    let emoji = "+1".to_owned();
    fx.write(BOB, 0, Content::ReactionAdd { target: p, emoji });
    assert_ne!(s.digest(fx.auth()), fold(&fx.events).digest(fx.auth()));
}

/// One step of a random script. Targets index the posts written so far.
#[derive(Clone, Debug)]
pub(super) enum Op {
    Post {
        user: usize,
        chan: usize,
    },
    Reply {
        user: usize,
        target: prop::sample::Index,
    },
    Edit {
        user: usize,
        target: prop::sample::Index,
    },
    Delete {
        user: usize,
        target: prop::sample::Index,
    },
    React {
        user: usize,
        target: prop::sample::Index,
        emoji: usize,
        add: bool,
    },
    Pin {
        user: usize,
        target: prop::sample::Index,
        pin: bool,
    },
    Info {
        user: usize,
        chan: usize,
        name: usize,
    },
    Archive {
        user: usize,
        chan: usize,
        archived: bool,
    },
    Remove,
    /// Copy the target's thread root to the other channel and leave a marker (valid or not:
    /// by any user, with a made-up time).
    Move {
        user: usize,
        target: prop::sample::Index,
    },
}

#[derive(Clone, Debug)]
pub(super) struct Step {
    op: Op,
    /// Write in the same millisecond as the step before (HLC ties across users).
    same_ms: bool,
    /// Aim a post operation from the other channel (must be ignored).
    cross: bool,
}

fn op() -> impl Strategy<Value = Op> {
    use prop::sample::Index;
    let u = 0..3usize;
    prop_oneof![
        3 => (u.clone(), 0..2usize).prop_map(|(user, chan)| Op::Post { user, chan }),
        2 => (u.clone(), any::<Index>()).prop_map(|(user, target)| Op::Reply { user, target }),
        2 => (u.clone(), any::<Index>()).prop_map(|(user, target)| Op::Edit { user, target }),
        1 => (u.clone(), any::<Index>()).prop_map(|(user, target)| Op::Delete { user, target }),
        2 => (u.clone(), any::<Index>(), 0..2usize, any::<bool>())
            .prop_map(|(user, target, emoji, add)| Op::React { user, target, emoji, add }),
        1 => (u.clone(), any::<Index>(), any::<bool>())
            .prop_map(|(user, target, pin)| Op::Pin { user, target, pin }),
        1 => (u.clone(), 0..2usize, 0..3usize)
            .prop_map(|(user, chan, name)| Op::Info { user, chan, name }),
        1 => (u, 0..2usize, any::<bool>())
            .prop_map(|(user, chan, archived)| Op::Archive { user, chan, archived }),
        1 => Just(Op::Remove),
        1 => (0..3usize, any::<Index>()).prop_map(|(user, target)| Op::Move { user, target }),
    ]
}

pub(super) fn script() -> impl Strategy<Value = (usize, Vec<Step>)> {
    let step = (op(), prop::bool::weighted(0.3), prop::bool::weighted(0.1))
        .prop_map(|(op, same_ms, cross)| Step { op, same_ms, cross });
    (2..=3usize, prop::collection::vec(step, 1..40))
}

/// Runs a script; returns the fixture holding every content event written, in order.
pub(super) fn run(n_users: usize, steps: &[Step]) -> Fixture {
    let mut fx = Fixture::new(n_users);
    let mut posts: Vec<(EventId, usize)> = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        if !step.same_ms {
            fx.tick();
        }
        if let Some(id) = run_step(&mut fx, &posts, step, i) {
            posts.push(id);
        }
    }
    fx
}

/// Writes one step; returns the post written, if it wrote one.
fn run_step(
    fx: &mut Fixture,
    posts: &[(EventId, usize)],
    step: &Step,
    i: usize,
) -> Option<(EventId, usize)> {
    let n = fx.users.len();
    let pick = |t: &prop::sample::Index| {
        let (id, chan) = posts.get(t.index(posts.len().max(1)))?;
        Some((*id, if step.cross { 1 - chan } else { *chan }))
    };
    let text = format!("text {i}");
    match &step.op {
        Op::Post { user, chan } => return Some((fx.post(user % n, *chan, &text, None), *chan)),
        Op::Reply { user, target } => {
            let (root, chan) = pick(target)?;
            return Some((fx.post(user % n, chan, &text, Some(root)), chan));
        }
        Op::Edit { user, target } => {
            let (target, chan) = pick(target)?;
            fx.write(user % n, chan, Content::Edit { target, text });
        }
        Op::Delete { user, target } => {
            let (target, chan) = pick(target)?;
            fx.write(user % n, chan, Content::Delete { target });
        }
        Op::React {
            user,
            target,
            emoji,
            add,
        } => {
            let (target, chan) = pick(target)?;
            let emoji = ["wave", "anchor"][*emoji].to_owned();
            let content = if *add {
                Content::ReactionAdd { target, emoji }
            } else {
                Content::ReactionRemove { target, emoji }
            };
            fx.write(user % n, chan, content);
        }
        Op::Pin { user, target, pin } => {
            let (target, chan) = pick(target)?;
            let content = if *pin {
                Content::Pin { target }
            } else {
                Content::Unpin { target }
            };
            fx.write(user % n, chan, content);
        }
        Op::Info { user, chan, name } => {
            fx.write(user % n, *chan, info(["dock", "reef", "cove"][*name]));
        }
        Op::Archive {
            user,
            chan,
            archived,
        } => {
            fx.write(
                user % n,
                *chan,
                Content::ChannelArchive {
                    archived: *archived,
                },
            );
        }
        Op::Remove => {
            fx.remove(n - 1);
        }
        Op::Move { user, target } => {
            let (root, chan) = pick(target)?;
            let copy = Content::MovedPost {
                original: root,
                author: fx.pk(user % n),
                at: Hlc::at(T0 + i as u64),
                text,
                root: None,
                files: vec![],
            };
            let new_root = fx.write(user % n, 1 - chan, copy);
            let to = fx.channels[1 - chan];
            fx.write(user % n, chan, Content::ThreadMoved { root, to, new_root });
            return Some((new_root, 1 - chan));
        }
    }
    None
}

/// The events in a seeded random order, about a third of them twice.
fn shuffled_with_duplicates(
    events: &[(SignedEvent, Content)],
    seed: u64,
) -> Vec<&(SignedEvent, Content)> {
    let mut rng = SeededEntropy::new(seed);
    let mut out: Vec<&(SignedEvent, Content)> = events.iter().collect();
    out.extend(events.iter().filter(|_| rng.next_u64().is_multiple_of(3)));
    for i in (1..out.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        out.swap(i, j);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_order_with_duplicates_gives_the_same_snapshot(
        (n_users, steps) in script(),
        seed in any::<u64>(),
    ) {
        let fx = run(n_users, &steps);
        let auth = fx.auth();
        let in_order = fold(&fx.events).snapshot(auth);
        let shuffled = fold(shuffled_with_duplicates(&fx.events, seed)).snapshot(auth);
        prop_assert_eq!(in_order.digest(), shuffled.digest());
        prop_assert_eq!(in_order, shuffled);
    }

    #[test]
    fn folding_a_set_twice_equals_folding_it_once((n_users, steps) in script()) {
        let fx = run(n_users, &steps);
        let auth = fx.auth();
        let once = fold(&fx.events).snapshot(auth);
        let twice = fold(fx.events.iter().chain(&fx.events)).snapshot(auth);
        prop_assert_eq!(once, twice);
    }
}

fn imported(text: &str, root: Option<EventId>, created_ms: u64) -> Content {
    Content::ImportedPost {
        text: text.to_owned(),
        root,
        files: vec![],
        created_ms,
    }
}

#[test]
fn imported_posts_are_shown_and_ordered_at_their_original_time() {
    let mut fx = Fixture::new(2);
    fx.post(ALICE, 0, "live", None);
    fx.tick();
    let old_root = fx.write(BOB, 0, imported("old root", None, 1_000));
    fx.tick();
    let old_reply = fx.write(ALICE, 0, imported("old reply", Some(old_root), 2_000));
    fx.tick();
    fx.write(ALICE, 0, imported("older", None, 500));
    fx.tick();
    fx.write(BOB, 0, Content::Pin { target: old_root });
    let s = fold(&fx.events);
    let auth = fx.auth();
    let timeline = s.timeline(auth, &fx.channels[0]);
    assert_eq!(
        texts(&timeline),
        ["older", "old root", "old reply", "live"],
        "ordered by original time, before the live post"
    );
    assert_eq!(
        timeline[1].hlc,
        Hlc::at(1_000),
        "shown at its original time"
    );
    assert_eq!(timeline[1].author, fx.pk(BOB));
    assert!(timeline[1].pinned && timeline[1].reply_count == 1);
    let thread = s.thread(auth, &old_root);
    assert_eq!(texts(&thread), ["old root", "old reply"]);
    assert_eq!(thread[1].id, old_reply);
    let newest = s.newest(auth, &fx.channels[0]).expect("newest");
    assert_eq!(
        newest.hlc.ms, timeline[3].hlc.ms,
        "the live post is the newest"
    );
    let mut reversed = fx.events.clone();
    reversed.reverse();
    assert_eq!(
        fold(&reversed).snapshot(auth),
        s.snapshot(auth),
        "order-free"
    );
}

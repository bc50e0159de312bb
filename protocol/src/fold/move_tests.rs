//! Tests of the thread-move rules: a marker on the root in the source channel, copies in the
//! target channel under the original authors and times, only from an admin.

use super::tests::{Fixture, fold};
use super::*;

const ALICE: usize = 0;
const BOB: usize = 1;
const CAROL: usize = 2;

/// Bob's root and carol's reply in town-square (channel 0).
fn thread(fx: &mut Fixture) -> (EventId, EventId) {
    let root = fx.post(BOB, 0, "root", None);
    fx.tick();
    let reply = fx.post(CAROL, 0, "reply", Some(root));
    fx.tick();
    (root, reply)
}

/// `by` copies the thread to channel 1 and leaves the marker; returns the root's copy.
fn moved(fx: &mut Fixture, by: usize, root: EventId, reply: EventId) -> EventId {
    let s = fold(&fx.events);
    let (r, p) = {
        let auth = fx.auth();
        (
            s.post(auth, &root).expect("root"),
            s.post(auth, &reply).expect("reply"),
        )
    };
    let new_root = fx.write(by, 1, copy(&r, None));
    fx.write(by, 1, copy(&p, Some(new_root)));
    let to = fx.channels[1];
    fx.write(by, 0, Content::ThreadMoved { root, to, new_root });
    fx.tick();
    new_root
}

fn copy(p: &PostView, root: Option<EventId>) -> Content {
    Content::MovedPost {
        original: p.id,
        author: p.author,
        at: p.hlc,
        text: p.text.clone(),
        root,
        files: p.files.clone(),
    }
}

#[test]
fn an_admins_move_copies_the_thread_and_leaves_a_marker() {
    let mut fx = Fixture::new(3);
    let (root, reply) = thread(&mut fx);
    let before = fold(&fx.events).post(fx.auth(), &root).expect("root").hlc;
    let new_root = moved(&mut fx, ALICE, root, reply);
    let s = fold(fx.events.iter().rev());
    let auth = fx.auth();
    let marker = s.post(auth, &root).expect("marker stays");
    assert_eq!(marker.moved_to, Some((fx.channels[1], new_root)));
    assert_eq!(marker.reply_count, 0);
    assert!(
        s.post(auth, &reply).is_none(),
        "reply hidden in the old place"
    );
    let there = s.thread(auth, &new_root);
    let who: Vec<_> = there.iter().map(|p| (p.author, p.text.as_str())).collect();
    assert_eq!(who, [(fx.pk(BOB), "root"), (fx.pk(CAROL), "reply")]);
    assert_eq!(there[0].hlc, before, "keeps its time");
    assert_eq!(there[0].moved_by, Some(fx.pk(ALICE)));
    assert_eq!(there[0].reply_count, 1);
}

#[test]
fn a_non_admins_move_is_ignored() {
    let mut fx = Fixture::new(3);
    let (root, reply) = thread(&mut fx);
    let new_root = moved(&mut fx, BOB, root, reply);
    let s = fold(&fx.events);
    let auth = fx.auth();
    assert_eq!(s.post(auth, &root).and_then(|p| p.moved_to), None);
    assert!(s.post(auth, &reply).is_some());
    assert!(
        s.post(auth, &new_root).is_none(),
        "copy by a non-admin hidden"
    );
    assert!(s.timeline(auth, &fx.channels[1]).is_empty());
}

#[test]
fn a_copy_misattributing_a_held_post_is_hidden() {
    let mut fx = Fixture::new(3);
    let (root, _) = thread(&mut fx);
    let s = fold(&fx.events);
    let mut view = s.post(fx.auth(), &root).expect("root");
    view.author = fx.pk(CAROL);
    let forged = fx.write(ALICE, 1, copy(&view, None));
    let s = fold(&fx.events);
    assert!(s.post(fx.auth(), &forged).is_none());
}

#[test]
fn the_original_author_edits_a_copy_and_an_admin_deletes_it() {
    let mut fx = Fixture::new(3);
    let (root, reply) = thread(&mut fx);
    let new_root = moved(&mut fx, ALICE, root, reply);
    let text = "edited".to_owned();
    fx.write(
        BOB,
        1,
        Content::Edit {
            target: new_root,
            text,
        },
    );
    let s = fold(&fx.events);
    assert_eq!(
        s.post(fx.auth(), &new_root).map(|p| p.text),
        Some("edited".into())
    );
    fx.tick();
    let text = "hijacked".to_owned();
    fx.write(
        CAROL,
        1,
        Content::Edit {
            target: new_root,
            text,
        },
    );
    let s = fold(&fx.events);
    assert_eq!(
        s.post(fx.auth(), &new_root).map(|p| p.text),
        Some("edited".into())
    );
    fx.write(ALICE, 1, Content::Delete { target: new_root });
    assert!(fold(&fx.events).post(fx.auth(), &new_root).is_none());
}

#[test]
fn a_marker_to_its_own_channel_or_elsewhere_than_the_root_is_ignored() {
    let mut fx = Fixture::new(3);
    let (root, reply) = thread(&mut fx);
    let to = fx.channels[0];
    fx.write(
        ALICE,
        0,
        Content::ThreadMoved {
            root,
            to,
            new_root: reply,
        },
    );
    let to = fx.channels[1];
    fx.write(
        ALICE,
        1,
        Content::ThreadMoved {
            root,
            to,
            new_root: reply,
        },
    );
    let s = fold(&fx.events);
    assert_eq!(s.post(fx.auth(), &root).and_then(|p| p.moved_to), None);
    assert!(s.post(fx.auth(), &reply).is_some());
}

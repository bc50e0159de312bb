//! Tests of the paged views: paging through every page gives the full timeline's root posts;
//! pins, unread counts and the newest position agree with the full views.

use proptest::prelude::*;

use super::super::tests::{Fixture, fold, run, script};
use super::*;
use crate::event::Content;

/// Every page of `channel`, walked with the cursors, `limit` posts at a time.
fn all_pages(
    chat: &ChatState,
    auth: &AuthState,
    channel: &ChannelId,
    limit: usize,
) -> Vec<PostView> {
    let mut out = Vec::new();
    let mut before = None;
    for _ in 0..10_000 {
        let page = chat.roots_page(auth, channel, before, limit);
        assert!(page.posts.len() <= limit.clamp(1, MAX_PAGE_POSTS));
        out.extend(page.posts);
        match page.next {
            Some(next) => before = Some(next),
            None => return out,
        }
    }
    panic!("paging did not end");
}

fn full_roots(chat: &ChatState, auth: &AuthState, channel: &ChannelId) -> Vec<PostView> {
    let mut roots: Vec<PostView> = chat
        .timeline(auth, channel)
        .into_iter()
        .filter(|p| p.root.is_none())
        .collect();
    roots.reverse();
    roots
}

#[test]
fn pages_are_newest_first_and_end_without_an_empty_page() {
    let mut fx = Fixture::new(2);
    let ids: Vec<EventId> = (0..5)
        .map(|i| {
            fx.tick();
            fx.post(0, 0, &format!("p{i}"), None)
        })
        .collect();
    fx.tick();
    fx.post(1, 0, "reply", Some(ids[0]));
    let chat = fold(&fx.events);
    let auth = fx.auth();
    let ch = fx.channels[0];
    let first = chat.roots_page(auth, &ch, None, 2);
    let texts: Vec<&str> = first.posts.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(texts, ["p4", "p3"]);
    let second = chat.roots_page(auth, &ch, first.next, 3);
    assert_eq!(second.posts.len(), 3);
    assert_eq!(second.next, None, "nothing older: no cursor");
    assert_eq!(second.posts[2].reply_count, 1);
}

#[test]
fn deleted_posts_are_skipped_and_pins_and_unread_follow() {
    let mut fx = Fixture::new(2);
    fx.tick();
    let a = fx.post(0, 0, "a", None);
    fx.tick();
    let b = fx.post(1, 0, "b @alice", None);
    fx.tick();
    let c = fx.post(1, 0, "c @here", None);
    fx.tick();
    fx.write(1, 0, Content::Delete { target: c });
    fx.write(0, 0, Content::Pin { target: b });
    fx.write(0, 0, Content::Pin { target: a });
    fx.tick();
    fx.write(0, 0, Content::Unpin { target: a });
    let chat = fold(&fx.events);
    let auth = fx.auth();
    let ch = fx.channels[0];
    let page = chat.roots_page(auth, &ch, None, 10);
    let ids: Vec<EventId> = page.posts.iter().map(|p| p.id).collect();
    assert_eq!(ids, [b, a]);
    let pins: Vec<EventId> = chat.pins(auth, &ch).iter().map(|p| p.id).collect();
    assert_eq!(pins, [b]);
    let alice = fx.pk(0);
    let unread = chat.unread(auth, &ch, None, &alice, false);
    assert_eq!(
        unread,
        Unread {
            posts: 1,
            mentions: 0
        },
        "b has no key mention: text alone does not count"
    );
    let newest = chat.newest(auth, &ch).map(|c| c.id);
    assert_eq!(newest, Some(b));
    let after_b = chat.unread(auth, &ch, chat.newest(auth, &ch), &alice, true);
    assert_eq!(after_b, Unread::default());
    let dm = chat.unread(auth, &ch, None, &alice, true);
    assert_eq!(
        dm,
        Unread {
            posts: 1,
            mentions: 1
        }
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn paging_through_every_page_equals_the_full_timeline(
        (n_users, steps) in script(),
        limit in 1..6usize,
    ) {
        let fx = run(n_users, &steps);
        let chat = fold(&fx.events);
        let auth = fx.auth();
        for ch in &fx.channels {
            prop_assert_eq!(all_pages(&chat, auth, ch, limit), full_roots(&chat, auth, ch));
            let pinned: Vec<EventId> = chat.pins(auth, ch).iter().map(|p| p.id).collect();
            let want = chat.channel(auth, ch).map(|v| v.pinned).unwrap_or_default();
            prop_assert_eq!(pinned, want);
            let newest = chat.timeline(auth, ch).last().map(|p| Cursor { hlc: p.hlc, id: p.id });
            prop_assert_eq!(chat.newest(auth, ch), newest);
        }
    }
}

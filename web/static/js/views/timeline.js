// views/timeline.js: an ordered list of posts in a container, kept sorted by time and
// updated in place (insert, update, remove, prepend an older page) with author grouping
// and day separators recomputed around each change.

import { rememberPost, isMine } from '../state.js';
import { comparePosts, continuesGroup, startsDay } from '../format.js';
import { renderPost } from './post.js';

/**
 * A timeline in `list` (an element holding only post elements).
 * `opts.inThread`: the thread panel (the first post is the root, never grouped with replies).
 */
export function createTimeline(list, opts) {
  const inThread = Boolean(opts && opts.inThread);
  let posts = [];
  const elements = new Map();

  function draw(index) {
    const post = posts[index];
    const prev = index > 0 ? posts[index - 1] : null;
    const rootBoundary = inThread && index === 1;
    return renderPost(post, { grouped: !rootBoundary && continuesGroup(prev, post), newDay: !inThread && startsDay(prev, post), inThread });
  }

  function redraw(index) {
    if (index < 0 || index >= posts.length) return;
    const old = elements.get(posts[index].id);
    if (old && old.classList.contains('editing')) return;
    const fresh = draw(index);
    if (old && old.classList.contains('show-actions')) fresh.classList.add('show-actions');
    elements.set(posts[index].id, fresh);
    if (old) old.replaceWith(fresh);
  }

  function insertAt(index, post) {
    posts.splice(index, 0, post);
    const el = draw(index);
    elements.set(post.id, el);
    const next = posts[index + 1];
    if (next) elements.get(next.id).before(el);
    else list.append(el);
    redraw(index + 1);
  }

  return {
    /** Replace everything with `items` (sorted here). */
    set(items) {
      posts = [...items].sort(inThread ? () => 0 : comparePosts);
      items.forEach(rememberPost);
      elements.clear();
      list.textContent = '';
      posts.forEach((post, i) => {
        const el = draw(i);
        elements.set(post.id, el);
        list.append(el);
      });
    },
    /** Add an older page before the first post. */
    prepend(items) {
      const older = items.filter((p) => !elements.has(p.id)).sort(comparePosts);
      older.forEach(rememberPost);
      const firstOld = list.firstChild;
      posts = older.concat(posts);
      older.forEach((post, i) => {
        const el = draw(i);
        elements.set(post.id, el);
        list.insertBefore(el, firstOld);
      });
      redraw(older.length);
    },
    /** Insert or update a post; returns 'inserted', 'updated' or null when it is not shown here. */
    upsert(post, allowBefore) {
      rememberPost(post);
      const index = posts.findIndex((p) => p.id === post.id);
      if (index >= 0) {
        posts[index] = post;
        redraw(index);
        return 'updated';
      }
      let at = posts.length;
      while (at > (inThread ? 1 : 0) && comparePosts(posts[at - 1], post) > 0) at -= 1;
      if (at === 0 && posts.length > 0 && !allowBefore) return null;
      insertAt(at, post);
      return 'inserted';
    },
    /** Remove a post; returns whether it was shown. */
    remove(id) {
      const index = posts.findIndex((p) => p.id === id);
      if (index < 0) return false;
      posts.splice(index, 1);
      elements.get(id).remove();
      elements.delete(id);
      redraw(index);
      return true;
    },
    /** The newest post of mine (Up on an empty composer edits it). */
    lastMine() {
      for (let i = posts.length - 1; i >= 0; i -= 1) if (isMine(posts[i])) return posts[i];
      return null;
    },
    /** The element of a post. */
    element(id) {
      return elements.get(id) || null;
    },
    /** Whether the post is shown. */
    has(id) {
      return elements.has(id);
    },
    /** Re-render every post (language change, emoji list loaded). */
    redrawAll() {
      posts.forEach((_, i) => redraw(i));
    },
    get size() {
      return posts.length;
    },
  };
}

// views/channel.js: the centre pane: channel title/header/purpose with its menu, the
// timeline (#post-list, scroll-back through the `next` cursor, live updates) and the composer.

import { h, icon, ICONS } from '../dom.js';
import { t } from '../i18n.js';
import { api, fpath } from '../api.js';
import { store, on, channelLabel, channelPurpose, isMine } from '../state.js';
import { markRead, userIsLooking, upsertChannel } from '../session.js';
import { createTimeline } from './timeline.js';
import { createComposer } from './composer.js';
import { wirePostActions, startEdit } from './actions.js';
import { openChannelMenu, openPins } from './channels.js';
import { refreshTimes } from './post.js';
import { errorText, toast } from './dialogs.js';
import { searchTools } from './search.js';

/** Posts fetched per page. */
export const PAGE_SIZE = 50;
/** Load the older page when scrolled this close to the top. */
export const SCROLL_LOAD_MARGIN_PX = 400;
/** "Near the bottom": new posts scroll into view. */
export const STICK_TO_BOTTOM_PX = 120;

/** The channel's icon: ~ for public, a lock for private, @ for a DM. */
export function channelIcon(channel) {
  if (channel.kind === 'dm') return '@';
  if (channel.kind === 'private') return icon(ICONS.lock);
  return '~';
}

function headerBar(channel, onBack) {
  const title = h('h1', { id: 'channel-title' }, h('span', { class: 'channel-icon', 'aria-hidden': 'true' }, channelIcon(channel)), channelLabel(channel), channel.archived ? h('span', { class: 'tag' }, t('channel.archived')) : null);
  return h(
    'header',
    { class: 'pane-head channel-head' },
    h('button', { type: 'button', class: 'icon-button back', 'aria-label': t('action.back'), onclick: onBack }, icon(ICONS.back)),
    h('div', { class: 'channel-titles' }, title, h('p', { id: 'channel-header', class: 'channel-header' }, channel.header || ''), channelPurpose(channel) ? h('p', { class: 'channel-purpose', id: 'channel-purpose' }, channelPurpose(channel)) : null),
    searchTools(),
    h('button', { type: 'button', class: 'icon-button', id: 'pins-button', title: t('channel.pinned'), 'aria-label': t('channel.pinned'), onclick: () => openPins(channel) }, icon(ICONS.pin)),
    h('button', { type: 'button', class: 'icon-button', id: 'channel-menu-button', title: t('channel.menu'), 'aria-label': t('channel.menu'), onclick: () => openChannelMenu(store.channels.get(channel.id) || channel) }, icon(ICONS.menu)),
  );
}

function joinBar(channel) {
  const join = h('button', { type: 'button', class: 'button primary', id: 'join-channel' }, t('channel.join'));
  join.addEventListener('click', async () => {
    try {
      upsertChannel(await api.post(fpath(store.flotillaId, 'channels', channel.id, 'join')));
    } catch (err) {
      toast(errorText(err), 'error');
    }
  });
  return h('div', { class: 'join-bar' }, h('p', {}, t('channel.notMember')), join);
}

function footer(channel, composer) {
  if (channel.archived) return h('div', { class: 'join-bar' }, h('p', {}, t('channel.archivedNotice')));
  if (!channel.member) return joinBar(channel);
  return composer.el;
}

/** Most older pages loaded to reach a post a search result points at. */
export const MAX_JUMP_PAGES = 400;

/**
 * Render `channel` into `main`. `onBack()` shows the sidebar (phones). `focusPost`: a post id to
 * scroll to and highlight (loading older pages until it is there). Returns {dispose(), jumpTo(id)}.
 */
export function renderChannelView(main, channel, onBack, focusPost) {
  const start = h('div', { class: 'timeline-start' }, t('channel.loading'));
  const list = h('div', { class: 'posts' });
  const postList = h('div', { id: 'post-list', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', 'aria-label': t('channel.messages', { name: channelLabel(channel) }), tabindex: '0' }, start, list);
  const timeline = createTimeline(list);
  const composer = createComposer({
    id: 'composer',
    channel,
    placeholder: t('composer.placeholder', { name: channelLabel(channel) }),
    onEditLast: () => {
      const mine = timeline.lastMine();
      if (mine) startEdit(timeline.element(mine.id), mine);
    },
  });
  const foot = h('div', { class: 'channel-foot' }, footer(channel, composer));
  const view = h('section', { class: 'channel-view', 'aria-label': channelLabel(channel) }, headerBar(channel, onBack), postList, foot);
  main.replaceChildren(view);
  composer.afterMount();
  composer.dropTarget(view);
  wirePostActions(list);

  let next = null;
  let loading = false;
  let complete = false;
  const nearBottom = () => postList.scrollHeight - postList.scrollTop - postList.clientHeight < STICK_TO_BOTTOM_PX;
  const toBottom = () => {
    postList.scrollTop = postList.scrollHeight;
  };

  async function loadPage(before) {
    loading = true;
    const query = `?limit=${PAGE_SIZE}${before ? `&before=${encodeURIComponent(before)}` : ''}`;
    try {
      const page = await api.get(fpath(store.flotillaId, 'channels', channel.id, 'posts') + query);
      next = page.next || null;
      complete = !next;
      start.textContent = complete ? t('channel.beginning', { name: channelLabel(channel) }) : '';
      return page.posts || [];
    } catch (err) {
      start.textContent = errorText(err);
      return null;
    } finally {
      loading = false;
    }
  }

  async function loadOlder() {
    if (loading || complete || !next) return;
    const height = postList.scrollHeight;
    postList.setAttribute('aria-busy', 'true');
    const posts = await loadPage(next);
    if (posts) timeline.prepend(posts);
    postList.scrollTop += postList.scrollHeight - height;
    postList.removeAttribute('aria-busy');
  }

  (async () => {
    const posts = await loadPage(null);
    if (!posts) return;
    timeline.set(posts);
    toBottom();
    if (channel.member) markRead(channel.id);
    if (focusPost) await jumpTo(focusPost);
    else if (postList.scrollHeight <= postList.clientHeight) loadOlder();
  })();

  /** Load older pages until `postId` is shown, then scroll to it and highlight it. */
  async function jumpTo(postId) {
    for (let i = 0; !timeline.element(postId) && !complete && i < MAX_JUMP_PAGES; i += 1) {
      while (loading) await new Promise((r) => setTimeout(r, 20));
      await loadOlder();
    }
    const el = timeline.element(postId);
    if (!el) return toast(t('search.gone'), 'error');
    list.querySelectorAll('.post-highlight').forEach((x) => x.classList.remove('post-highlight'));
    el.classList.add('post-highlight');
    el.scrollIntoView({ block: 'center' });
    el.focus({ preventScroll: true });
  }

  postList.addEventListener('scroll', () => {
    if (postList.scrollTop < SCROLL_LOAD_MARGIN_PX) loadOlder();
  });

  const offs = [
    on('post', (post) => {
      if (post.channel !== channel.id || post.root_id) return;
      const stick = nearBottom() || isMine(post);
      const result = timeline.upsert(post, complete);
      if (result && stick) toBottom();
      if (result === 'inserted' && !isMine(post) && userIsLooking()) markRead(channel.id);
    }),
    on('post-deleted', (gone) => {
      if (gone.channel === channel.id) timeline.remove(gone.post_id);
    }),
    on('channel', (updated) => {
      if (updated.id !== channel.id) return;
      const changed = updated.member !== channel.member || updated.archived !== channel.archived;
      Object.assign(channel, updated);
      view.querySelector('.channel-head').replaceWith(headerBar(channel, onBack));
      if (changed) foot.replaceChildren(footer(channel, composer));
    }),
    on('emoji', () => timeline.redrawAll()),
  ];
  const focusRead = () => {
    const current = store.channels.get(channel.id);
    if (current && current.unread > 0 && userIsLooking()) markRead(channel.id);
  };
  window.addEventListener('focus', focusRead);
  document.addEventListener('visibilitychange', focusRead);
  const clock = setInterval(() => refreshTimes(list), 60 * 1000);
  if (window.matchMedia('(min-width: 700px)').matches) composer.focus();

  return {
    channelId: channel.id,
    jumpTo,
    dispose() {
      offs.forEach((off) => off());
      window.removeEventListener('focus', focusRead);
      document.removeEventListener('visibilitychange', focusRead);
      clearInterval(clock);
    },
  };
}

// views/thread.js: the right-hand thread panel (#thread-panel): the root post, its replies
// (oldest first, live) and the reply composer (#thread-composer).

import { h, icon, ICONS } from '../dom.js';
import { t } from '../i18n.js';
import { api, fpath } from '../api.js';
import { store, on, channelLabel } from '../state.js';
import { createTimeline } from './timeline.js';
import { createComposer } from './composer.js';
import { wirePostActions, startEdit } from './actions.js';
import { refreshTimes } from './post.js';
import { errorText } from './dialogs.js';

/** Open the thread of `rootId` in `channel`. `onClose()` closes it. Returns {el, rootId, dispose()}. */
export function renderThread(channel, rootId, onClose) {
  const list = h('div', { class: 'posts thread-posts', role: 'log', 'aria-live': 'polite' }, h('p', { class: 'hint' }, t('channel.loading')));
  const timeline = createTimeline(list, { inThread: true });
  const composer = createComposer({
    id: 'thread-composer',
    channel,
    rootId,
    placeholder: t('thread.placeholder'),
    onEditLast: () => {
      const mine = timeline.lastMine();
      if (mine) startEdit(timeline.element(mine.id), mine);
    },
  });
  const close = h('button', { type: 'button', class: 'icon-button', id: 'thread-close', 'aria-label': t('action.close'), onclick: onClose }, icon(ICONS.close));
  const back = h('button', { type: 'button', class: 'icon-button back', 'aria-label': t('action.back'), onclick: onClose }, icon(ICONS.back));
  const canWrite = channel.member && !channel.archived;
  const el = h(
    'aside',
    { id: 'thread-panel', 'aria-label': t('thread.title') },
    h('header', { class: 'pane-head' }, back, h('div', { class: 'channel-titles' }, h('h2', {}, t('thread.title')), h('p', { class: 'channel-header' }, `${channel.kind === 'dm' ? '@' : '~'}${channelLabel(channel)}`)), close),
    h('div', { class: 'thread-scroll' }, list),
    canWrite ? h('div', { class: 'channel-foot' }, composer.el) : null,
  );
  wirePostActions(list);
  const scroller = el.querySelector('.thread-scroll');
  const toBottom = () => {
    scroller.scrollTop = scroller.scrollHeight;
  };

  api
    .get(fpath(store.flotillaId, 'posts', rootId, 'thread'))
    .then((thread) => {
      timeline.set([thread.root, ...thread.replies]);
      toBottom();
    })
    .catch((err) => list.replaceChildren(h('p', { class: 'form-error' }, errorText(err))));

  const offs = [
    on('post', (post) => {
      if (post.id !== rootId && post.root_id !== rootId) return;
      if (timeline.upsert(post, false) === 'inserted') toBottom();
    }),
    on('post-deleted', (gone) => {
      if (gone.post_id === rootId) onClose();
      else timeline.remove(gone.post_id);
    }),
  ];
  const clock = setInterval(() => refreshTimes(list), 60 * 1000);
  return {
    el,
    rootId,
    channelId: channel.id,
    afterMount() {
      composer.afterMount();
      composer.dropTarget(el);
      composer.focus();
    },
    dispose() {
      offs.forEach((off) => off());
      clearInterval(clock);
    },
  };
}

// views/post.js: one post as DOM: author, time, the server-rendered html, "(edited)",
// files, reactions, reply count, pin marker and the action buttons. Hooks: docs/ui.md.

import { h, icon, ICONS } from '../dom.js';
import { t, tn, language } from '../i18n.js';
import { fileChip } from './files.js';
import { store, isMine, canDelete, emojiChar, currentFlotilla } from '../state.js';
import { relativeTime, fullDateTime, clockTime, dayLabel } from '../format.js';
import { loraMark } from '../lora.js';
import { authorOf, authorName, avatarFor } from './avatar.js';
import { displaySettings, uses24h } from '../profile.js';

function avatar(post) {
  return avatarFor(authorOf(post), post.author, post.author_key);
}

/** The clock-time text of a grouped post, per the 24-hour setting. */
function clock(ms) {
  return clockTime(ms, language(), uses24h(displaySettings(), language()));
}

/** A <time> whose text is relative ("il y a 3 min") and title the full date; refreshed by refreshTimes. */
export function timeElement(ms, className) {
  return h('time', { class: className || 'post-time', datetime: new Date(ms).toISOString(), title: fullDateTime(ms, language(), uses24h(displaySettings(), language())), dataset: { ts: String(ms) } }, relativeTime(ms, Date.now(), language()));
}

/** Re-render every relative time under `root`. */
export function refreshTimes(root) {
  const now = Date.now();
  for (const el of root.querySelectorAll('time[data-ts]')) {
    const ms = Number(el.dataset.ts);
    el.textContent = el.classList.contains('clock') ? clock(ms) : relativeTime(ms, now, language());
  }
}

function fileList(post) {
  if (!post.files || post.files.length === 0) return null;
  return h('div', { class: 'post-files' }, post.files.map(fileChip));
}

function reactionList(post) {
  const reactions = post.reactions || [];
  return h(
    'div',
    { class: 'reactions' },
    reactions.map((r) =>
      h(
        'button',
        { type: 'button', class: `reaction ${r.me ? 'mine' : ''}`, dataset: { emoji: r.emoji }, 'aria-pressed': r.me ? 'true' : 'false', title: `${(r.users || []).join(', ')} :${r.emoji}:` },
        h('span', { class: 'emoji' }, emojiChar(r.emoji)),
        h('span', { class: 'count' }, String(r.count)),
      ),
    ),
    reactions.length ? h('button', { type: 'button', class: 'reaction add', dataset: { action: 'react' }, 'aria-label': t('post.react') }, '+') : null,
  );
}

function actionButton(action, path, label) {
  return h('button', { type: 'button', class: 'icon-button', dataset: { action }, title: label, 'aria-label': label }, icon(path));
}

function actionBar(post, inThread) {
  const pinned = Boolean(post.pinned);
  return h(
    'div',
    { class: 'post-actions', role: 'toolbar', 'aria-label': t('post.actions') },
    actionButton('react', ICONS.smile, t('post.react')),
    inThread && post.root_id ? null : actionButton('reply', ICONS.reply, t('post.reply')),
    actionButton('pin', ICONS.pin, pinned ? t('post.unpin') : t('post.pin')),
    actionButton('copy-link', ICONS.link, t('post.copyLink')),
    actionButton('save', ICONS.bookmark, t('post.save')),
    canDelete(post) ? actionButton('edit', ICONS.edit, t('post.edit')) : null,
    canDelete(post) ? actionButton('delete', ICONS.trash, t('post.delete')) : null,
    canMove(post) ? actionButton('move', ICONS.back, t('post.moveThread')) : null,
  );
}

/** The 📡 mark of a post that came or left by LoRa, with its hop count. */
function loraBadge(post) {
  const mark = loraMark(post.lora);
  if (!mark) return null;
  const title = mark.key === 'lora.in' ? tn('lora.in', mark.count) : t('lora.out');
  return h('span', { class: 'lora-mark', title, 'aria-label': title, dataset: { direction: post.lora.direction, hops: String(mark.count) } }, mark.text);
}

function replyLink(post, inThread) {
  if (inThread || !post.reply_count) return null;
  return h('button', { type: 'button', class: 'link-button replies', dataset: { action: 'open-thread' } }, icon(ICONS.reply), h('span', { class: 'reply-count' }, String(post.reply_count)), ' ', h('span', {}, tn('post.replies', post.reply_count)));
}

/**
 * Render a post. `opts` = {grouped: continues the author's group, newDay: a day separator
 * goes before it, inThread: shown in the thread panel}.
 */
export function renderPost(post, opts) {
  const { grouped, newDay, inThread } = opts || {};
  if (post.moved_to) return movedMarker(post, newDay);
  const text = h('div', { class: 'post-text markdown' });
  text.innerHTML = post.html || '';
  const classes = ['post', grouped ? 'grouped' : '', isMine(post) ? 'mine' : '', post.pinned ? 'pinned' : '', post.mentions_me ? 'mentions-me' : ''];
  const gone = post.author_deleted ? h('span', { class: 'post-author-deleted tag' }, t('post.deletedUser')) : null;
  const name = authorName(post);
  const author = h('span', { class: `post-author ${grouped ? 'sr-only' : ''}`, title: name === post.author ? null : post.author }, name, gone);
  const meta = grouped
    ? h('div', { class: 'post-meta sr-only-meta' }, author)
    : h('div', { class: 'post-meta' }, author, timeElement(post.created_at), loraBadge(post), post.pinned ? h('span', { class: 'pin-marker' }, '📌 ', t('post.pinned')) : null);
  return h(
    'article',
    { class: classes.filter(Boolean).join(' '), dataset: { postId: post.id, author: post.author, authorKey: post.author_key || '' }, tabindex: '-1', 'aria-label': post.author },
    newDay ? h('div', { class: 'day-separator', role: 'separator' }, h('span', {}, dayLabel(post.created_at, Date.now(), language()))) : null,
    h(
      'div',
      { class: 'post-row' },
      h('div', { class: 'post-gutter' }, grouped ? h('time', { class: 'post-time clock', dataset: { ts: String(post.created_at) }, title: fullDateTime(post.created_at, language(), uses24h(displaySettings(), language())) }, clock(post.created_at)) : avatar(post)),
      h(
        'div',
        { class: 'post-body' },
        meta,
        grouped && post.pinned ? h('span', { class: 'pin-marker' }, '📌 ', t('post.pinned')) : null,
        grouped ? loraBadge(post) : null,
        text,
        post.edited ? h('span', { class: 'post-edited' }, t('post.edited')) : null,
        movedBy(post),
        fileList(post),
        reactionList(post),
        replyLink(post, inThread),
      ),
      actionBar(post, inThread),
    ),
  );
}

// --- moved threads (moderation) ---

/** Flotilla admins may move a thread (from its root or a reply), unless it was moved already. */
function canMove(post) {
  const flotilla = currentFlotilla();
  return Boolean(flotilla && flotilla.admin) && !post.moved_to;
}

/** "Moved here by X", under a post an admin moved from another channel. */
function movedBy(post) {
  return post.moved_by ? h('span', { class: 'post-moved-by hint' }, t('post.movedBy', { name: post.moved_by })) : null;
}

/** What stays in the old channel of a moved thread: a link to where it went. */
export function movedMarker(post, newDay) {
  const link = h('button', { type: 'button', class: 'link-button moved-link', dataset: { action: 'open-moved' } }, t('post.movedTo', { name: post.moved_to.name }));
  return h(
    'article',
    { class: 'post moved-marker', dataset: { postId: post.id, author: post.author }, tabindex: '-1', 'aria-label': t('post.movedTo', { name: post.moved_to.name }) },
    newDay ? h('div', { class: 'day-separator', role: 'separator' }, h('span', {}, dayLabel(post.created_at, Date.now(), language()))) : null,
    h('div', { class: 'post-row' }, h('div', { class: 'post-gutter' }, '↪'), h('div', { class: 'post-body' }, h('div', { class: 'post-meta' }, h('span', { class: 'post-author' }, post.author), timeElement(post.created_at)), link)),
  );
}

// views/actions.js: what the buttons of a post do (reply, react, edit, delete, pin, copy
// link, toggling a reaction), wired by event delegation on a post container.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { api, fpath, seg } from '../api.js';
import { store, publishPost, publishDeleted } from '../state.js';
import { channelHash, navigate } from '../router.js';
import { editAction } from '../keys.js';
import { openEmojiPicker } from './emoji.js';
import { confirmDialog, toast, errorText } from './dialogs.js';
import { openMoveThread } from './channels.js';

async function attempt(work) {
  try {
    return await work();
  } catch (err) {
    toast(errorText(err), 'error');
    return null;
  }
}

function postPath(post, ...rest) {
  return fpath(store.flotillaId, 'posts', post.id, ...rest);
}

/** Add or remove my reaction `emoji` on `post`. */
export async function toggleReaction(post, emoji) {
  const mine = (post.reactions || []).some((r) => r.emoji === emoji && r.me);
  const path = `${fpath(store.flotillaId, 'posts', post.id, 'reactions')}/${seg(emoji)}`;
  const updated = await attempt(() => (mine ? api.del(path) : api.put(path)));
  if (updated) publishPost(updated);
}

async function togglePin(post) {
  const path = postPath(post, 'pin');
  const updated = await attempt(() => (post.pinned ? api.del(path) : api.put(path)));
  if (updated) publishPost(updated);
}

async function deletePost(post) {
  const ok = await confirmDialog({ title: t('post.deleteTitle'), message: t('post.deleteConfirm'), okLabel: t('post.delete'), danger: true });
  if (!ok) return;
  const done = await attempt(async () => {
    await api.del(postPath(post));
    return true;
  });
  if (done) publishDeleted({ flotilla: store.flotillaId, channel: post.channel, post_id: post.id, root_id: post.root_id || null });
}

/** Copy `text` to the clipboard (also on plain-HTTP pages, where navigator.clipboard is absent). */
export async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall back below
  }
  const area = h('textarea', { class: 'offscreen', readonly: true }, text);
  document.body.append(area);
  area.select();
  const ok = document.execCommand('copy');
  area.remove();
  return ok;
}

async function copyLink(post) {
  const link = `${location.origin}${location.pathname}${channelHash(store.flotillaId, post.channel, post.root_id || post.id)}`;
  toast((await copyText(link)) ? t('post.linkCopied') : link);
}

/** Replace the post's text by an edit box (Enter saves, Escape cancels). */
export function startEdit(postEl, post) {
  if (postEl.classList.contains('editing')) return;
  const text = postEl.querySelector('.post-text');
  const box = h('textarea', { class: 'edit-box', 'aria-label': t('post.edit'), rows: Math.min(10, post.text.split('\n').length + 1) }, post.text);
  const hint = h('small', { class: 'edit-hint' }, t('post.editHint'));
  const finish = () => {
    box.remove();
    hint.remove();
    text.hidden = false;
    postEl.classList.remove('editing');
    const latest = store.posts.get(post.id);
    if (latest) publishPost(latest);
  };
  box.addEventListener('keydown', async (event) => {
    const action = editAction(event);
    if (!action) return;
    event.preventDefault();
    event.stopPropagation();
    if (action === 'cancel' || box.value === post.text) return finish();
    if (!box.value.trim()) return toast(t('post.emptyEdit'), 'error');
    box.disabled = true;
    const updated = await attempt(() => api.put(postPath(post), { text: box.value }));
    box.disabled = false;
    if (updated) rememberAndFinish(updated);
  });
  const rememberAndFinish = (updated) => {
    store.posts.set(updated.id, updated);
    finish();
  };
  postEl.classList.add('editing');
  text.hidden = true;
  text.after(box, hint);
  box.focus();
  box.setSelectionRange(box.value.length, box.value.length);
}

async function savePost(post) {
  try {
    await api.put(fpath(store.flotillaId, 'posts', post.id, 'saved'), {});
    toast(t('search.savedToast'));
  } catch (err) {
    toast(errorText(err), 'error');
  }
}

function runAction(action, button, postEl, post) {
  if (action === 'reply' || action === 'open-thread') return navigate(channelHash(store.flotillaId, post.channel, post.root_id || post.id));
  if (action === 'react') return openEmojiPicker(button, (emoji) => toggleReaction(post, emoji));
  if (action === 'edit') return startEdit(postEl, post);
  if (action === 'delete') return deletePost(post);
  if (action === 'pin') return togglePin(post);
  if (action === 'copy-link') return copyLink(post);
  if (action === 'save') return savePost(post);
  if (action === 'move') return openMoveThread(post);
  if (action === 'open-moved') return navigate(channelHash(store.flotillaId, post.moved_to.channel, post.moved_to.root_id));
  return null;
}

/** Handle clicks on post buttons and reactions inside `container`. */
export function wirePostActions(container) {
  container.addEventListener('click', (event) => {
    const postEl = event.target.closest('[data-post-id]');
    if (!postEl || !container.contains(postEl)) return;
    const post = store.posts.get(postEl.dataset.postId);
    if (!post) return;
    const button = event.target.closest('button[data-action], .reactions button[data-emoji]');
    if (!button) {
      if (!event.target.closest('a, textarea, input')) postEl.classList.toggle('show-actions');
      return;
    }
    event.preventDefault();
    if (button.dataset.action) runAction(button.dataset.action, button, postEl, post);
    else toggleReaction(post, button.dataset.emoji);
  });
}

// views/profile.js: the "Profile" and "Display" groups of the settings dialog. Profile: full
// name, nickname, position (PUT /flotillas/{f}/me/profile) and the picture, previewed in the
// browser, then sent as is (PUT /flotillas/{f}/me/picture): the node crops, resizes and
// re-encodes it. Display (this browser only, localStorage): how names show, Enter or
// Ctrl+Enter to send, the 24-hour clock, compact display. Also the refresher that redraws the
// authors and avatars of the posts on screen when the members or the settings change.

import { h } from '../dom.js';
import { t, language } from '../i18n.js';
import { api, fpath, request } from '../api.js';
import { store, currentFlotilla, emit, on } from '../state.js';
import { reloadMembers } from '../session.js';
import { NAME_DISPLAYS, SEND_ON, displaySettings, memberFor, setDisplay, uses24h } from '../profile.js';
import { avatarFor, authorName } from './avatar.js';
import { actionForm, errorText, toast } from './dialogs.js';

/** The largest picture the browser sends (the node says the same with a 413). */
export const MAX_PICTURE_BYTES = 12 * 1024 * 1024;

function group(title, ...content) {
  return h('section', { class: 'settings-group' }, h('h3', {}, title), ...content);
}

function me() {
  return store.me ? memberFor(store.members, store.me.key, store.me.username) : null;
}

function profileForm(flotilla) {
  const m = me() || {};
  return actionForm({
    fields: [
      { name: 'full_name', id: 'profile-full-name', label: t('profile.fullName'), value: m.full_name || '', maxlength: 64 },
      { name: 'nickname', id: 'profile-nickname', label: t('profile.nickname'), value: m.display_name || '', maxlength: 64 },
      { name: 'position', id: 'profile-position', label: t('profile.position'), value: m.position || '', maxlength: 128, hint: t('profile.positionHint') },
    ],
    submitLabel: t('profile.save'),
    onSubmit: (v) => api.put(fpath(flotilla.id, 'me', 'profile'), { full_name: v.full_name.trim(), nickname: v.nickname.trim(), position: v.position.trim() }),
    onDone: async () => {
      await reloadMembers().catch(() => {});
      toast(t('profile.saved'));
    },
  });
}

/** PUT the picture file raw (CSRF and errors as every request); answers the member. */
function sendPicture(flotilla, file) {
  return request('PUT', fpath(flotilla.id, 'me', 'picture'), file, file.type);
}

function pictureField(flotilla) {
  const m = me();
  const preview = h('span', { class: 'profile-preview', id: 'profile-preview' }, avatarFor(m, store.me ? store.me.username : '?', store.me && store.me.key, 'avatar-large'));
  const error = h('p', { class: 'form-error', role: 'alert' });
  const input = h('input', { type: 'file', id: 'profile-picture', accept: 'image/png,image/jpeg', class: 'sr-only-file' });
  const remove = h('button', { type: 'button', class: 'button', id: 'profile-picture-remove', hidden: !(m && m.picture) }, t('profile.removePicture'));
  const done = async (msg) => {
    await reloadMembers().catch(() => {});
    remove.hidden = !(me() && me().picture);
    preview.replaceChildren(avatarFor(me(), store.me.username, store.me.key, 'avatar-large'));
    toast(msg);
  };
  input.addEventListener('change', async () => {
    const file = input.files && input.files[0];
    error.textContent = '';
    if (!file) return;
    if (!['image/png', 'image/jpeg'].includes(file.type)) {
      error.textContent = t('profile.wrongType');
      return;
    }
    if (file.size > MAX_PICTURE_BYTES) {
      error.textContent = t('profile.tooBig');
      return;
    }
    const local = h('img', { class: 'avatar-img', alt: '', src: URL.createObjectURL(file) });
    preview.replaceChildren(h('span', { class: 'avatar avatar-large' }, local));
    try {
      await sendPicture(flotilla, file);
      await done(t('profile.pictureSaved'));
    } catch (err) {
      error.textContent = errorText(err);
    } finally {
      input.value = '';
    }
  });
  remove.addEventListener('click', async () => {
    try {
      await api.del(fpath(flotilla.id, 'me', 'picture'));
      await done(t('profile.pictureRemoved'));
    } catch (err) {
      error.textContent = errorText(err);
    }
  });
  return h(
    'div',
    { class: 'profile-picture' },
    preview,
    h('div', { class: 'profile-picture-actions' }, h('label', { class: 'button', for: 'profile-picture' }, t('profile.choosePicture')), input, remove, h('small', { class: 'hint' }, t('profile.pictureHint'))),
    error,
  );
}

/** The settings dialog's profile group (for the current flotilla). */
export function profileGroup() {
  const flotilla = currentFlotilla();
  if (!flotilla) return null;
  return group(t('profile.title'), pictureField(flotilla), profileForm(flotilla));
}

function select(id, label, value, options, onchange) {
  const el = h('select', { id, onchange: (e) => onchange(e.target.value) }, options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
  return h('div', { class: 'field' }, h('label', { for: id }, label), el);
}

function checkbox(id, label, checked, onchange) {
  const el = h('input', { type: 'checkbox', id, checked, onchange: (e) => onchange(e.target.checked) });
  return h('label', { class: 'field checkbox' }, el, h('span', {}, label));
}

/** The settings dialog's display group (this browser). */
export function displayGroup() {
  const s = displaySettings();
  const changed = (patch) => {
    setDisplay(patch);
    emit('display', displaySettings());
  };
  return group(
    t('display.title'),
    select('display-names', t('display.names'), s.nameDisplay, NAME_DISPLAYS.map((v) => [v, t(`display.names.${v}`)]), (v) => changed({ nameDisplay: v })),
    select('display-send', t('display.send'), s.sendOn, SEND_ON.map((v) => [v, t(`display.send.${v}`)]), (v) => changed({ sendOn: v })),
    checkbox('display-clock24', t('display.clock24'), uses24h(s, language()), (v) => changed({ clock24: v })),
    checkbox('display-compact', t('display.compact'), s.compact, (v) => changed({ compact: v })),
    h('small', { class: 'hint' }, t('display.hint')),
  );
}

/** Redraw the author name and avatar of every post under `root` (members or settings changed). */
export function refreshAuthors(root = document) {
  for (const article of root.querySelectorAll('article.post[data-post-id]')) {
    const post = store.posts.get(article.dataset.postId);
    if (!post) continue;
    const name = article.querySelector('.post-author');
    if (name && name.firstChild && name.firstChild.nodeType === Node.TEXT_NODE) name.firstChild.textContent = authorName(post);
    const old = article.querySelector('.post-gutter > .avatar');
    if (old) {
      const m = memberFor(store.members, post.author_key, post.author);
      old.replaceWith(avatarFor(m, post.author, post.author_key));
    }
  }
}

/** Keep the posts on screen in step with the members and the display settings. */
export function watchAuthors() {
  on('members', () => refreshAuthors());
  on('display', () => refreshAuthors());
}


// views/channels.js: channel management dialogs: create, browse and join public channels,
// the channel menu (edit header/purpose, add a member, leave, archive), pinned posts and
// new direct / group messages.

import { h } from '../dom.js';
import { t, tn } from '../i18n.js';
import { api, fpath } from '../api.js';
import { store, channelLabel, currentFlotilla } from '../state.js';
import { upsertChannel, reloadChannels } from '../session.js';
import { channelHash, navigate } from '../router.js';
import { fold } from '../autocomplete.js';
import { openDialog, formDialog, confirmDialog, toast, errorText } from './dialogs.js';
import { renderPost } from './post.js';

/** Channel names: what the node accepts (docs/api.md). */
export const CHANNEL_NAME_PATTERN = '[a-z0-9_\\-]{1,64}';
/** A group message holds at most this many people, me included. */
export const MAX_GROUP_MEMBERS = 8;

const cpath = (channel, ...rest) => fpath(store.flotillaId, 'channels', channel.id, ...rest);

function go(channel) {
  upsertChannel(channel);
  navigate(channelHash(store.flotillaId, channel.id));
}

/** Create a channel. */
export function openCreateChannel() {
  formDialog({
    title: t('channels.create'),
    submitLabel: t('action.create'),
    fields: [
      { name: 'name', label: t('channels.name'), required: true, pattern: CHANNEL_NAME_PATTERN, maxlength: 64, hint: t('channels.nameHint') },
      { name: 'private', label: t('channels.private'), type: 'checkbox', value: false },
      { name: 'purpose', label: t('channels.purpose'), maxlength: 250 },
      { name: 'header', label: t('channels.header'), maxlength: 1024 },
    ],
    onSubmit: (v) => api.post(fpath(store.flotillaId, 'channels'), { name: v.name.trim().toLowerCase(), private: v.private, header: v.header || undefined, purpose: v.purpose || undefined }),
    onDone: go,
  });
}

/** Browse the public channels; join one. */
export function openBrowseChannels() {
  const search = h('input', { type: 'search', id: 'browse-search', placeholder: t('channels.search'), 'aria-label': t('channels.search') });
  const list = h('ul', { class: 'pick-list' });
  const fill = () => {
    const q = fold(search.value);
    const channels = [...store.channels.values()].filter((c) => c.kind === 'public' && (!c.archived || c.member) && fold(c.name).includes(q)).sort((a, b) => a.name.localeCompare(b.name));
    list.replaceChildren(
      ...channels.map((c) => {
        const button = h('button', { type: 'button', class: 'button small', dataset: { joinChannel: c.id } }, c.member ? t('channels.open') : t('channel.join'));
        button.addEventListener('click', async () => {
          try {
            go(c.member ? c : await api.post(cpath(c, 'join')));
            dlg.close();
          } catch (err) {
            toast(errorText(err), 'error');
          }
        });
        return h('li', {}, h('div', {}, h('strong', {}, `~${c.name}`), c.purpose ? h('p', { class: 'hint' }, c.purpose) : null), button);
      }),
    );
    if (!channels.length) list.append(h('li', { class: 'hint' }, t('channels.none')));
  };
  search.addEventListener('input', fill);
  fill();
  const dlg = openDialog({ title: t('channels.browse'), body: h('div', { class: 'dialog-body' }, search, list), wide: true });
  search.focus();
}

function editHeader(channel) {
  formDialog({
    title: t('channel.edit'),
    submitLabel: t('action.save'),
    fields: [
      { name: 'header', label: t('channels.header'), type: 'textarea', value: channel.header, maxlength: 1024 },
      { name: 'purpose', label: t('channels.purpose'), type: 'textarea', value: channel.purpose, maxlength: 250 },
    ],
    onSubmit: (v) => api.patch(cpath(channel), { header: v.header, purpose: v.purpose }),
    onDone: upsertChannel,
  });
}

function addMember(channel) {
  const present = new Set(channel.members || []);
  const options = store.members.filter((m) => !present.has(m.username)).map((m) => [m.username, m.display_name ? `${m.username} (${m.display_name})` : m.username]);
  if (!options.length) return toast(t('channel.everyoneIn'));
  return formDialog({
    title: t('channel.addMember'),
    submitLabel: t('action.add'),
    fields: [{ name: 'username', label: t('channel.member'), type: 'select', options }],
    onSubmit: (v) => api.post(cpath(channel, 'members'), { username: v.username }),
    onDone: upsertChannel,
  });
}

async function leave(channel) {
  const ok = await confirmDialog({ title: t('channel.leave'), message: t('channel.leaveConfirm', { name: channelLabel(channel) }), okLabel: t('channel.leave'), danger: true });
  if (!ok) return;
  try {
    await api.post(cpath(channel, 'leave'));
    await reloadChannels();
    navigate(`#/f/${store.flotillaId}`);
  } catch (err) {
    toast(errorText(err), 'error');
  }
}

async function archive(channel) {
  const archived = !channel.archived;
  if (archived) {
    const ok = await confirmDialog({ title: t('channel.archive'), message: t('channel.archiveConfirm', { name: channelLabel(channel) }), okLabel: t('channel.archive'), danger: true });
    if (!ok) return;
  }
  try {
    upsertChannel(await api.post(cpath(channel, 'archive'), { archived }));
  } catch (err) {
    toast(errorText(err), 'error');
  }
}

/** The channel menu: details and what the user may do. */
export function openChannelMenu(channel) {
  const flotilla = currentFlotilla();
  const item = (label, id, action) => h('button', { type: 'button', class: 'menu-item', id, onclick: () => (dlg.close(), action(channel)) }, label);
  const members = channel.kind === 'public' ? null : h('p', { class: 'hint' }, tn('channel.memberCount', (channel.members || []).length), ' — ', (channel.members || []).join(', '));
  const body = h(
    'div',
    { class: 'dialog-body menu' },
    channel.purpose ? h('p', {}, channel.purpose) : null,
    members,
    channel.member && !channel.archived ? item(t('channel.edit'), 'channel-edit', editHeader) : null,
    channel.kind === 'private' && channel.member && !channel.archived ? item(t('channel.addMember'), 'channel-add-member', addMember) : null,
    channel.kind !== 'dm' && (flotilla && flotilla.admin ? true : channel.member) ? item(channel.archived ? t('channel.unarchive') : t('channel.archive'), 'channel-archive', archive) : null,
    channel.member && channel.kind !== 'dm' ? item(t('channel.leave'), 'channel-leave', leave) : null,
  );
  const dlg = openDialog({ title: `${channel.kind === 'dm' ? '' : '~'}${channelLabel(channel)}`, body });
}

/** The pinned posts of a channel. */
export async function openPins(channel) {
  const list = h('div', { class: 'pins' }, h('p', { class: 'hint' }, t('channel.loading')));
  const dlg = openDialog({ title: t('channel.pinned'), body: h('div', { class: 'dialog-body' }, list), wide: true });
  try {
    const pins = await api.get(cpath(channel, 'pins'));
    list.replaceChildren(...pins.map((post) => renderPost(post, { inThread: true })));
    if (!pins.length) list.append(h('p', { class: 'hint' }, t('channel.noPins')));
    for (const el of list.querySelectorAll('.post-actions')) el.remove();
    list.addEventListener('click', (event) => {
      const postEl = event.target.closest('[data-post-id]');
      const post = postEl && pins.find((p) => p.id === postEl.dataset.postId);
      if (!post || event.target.closest('a')) return;
      dlg.close();
      navigate(channelHash(store.flotillaId, post.channel, post.root_id || post.id));
    });
  } catch (err) {
    list.replaceChildren(h('p', { class: 'form-error' }, errorText(err)));
  }
}

/** Start a direct message (one person) or a group message (2–7 others). */
export function openNewDm() {
  const me = store.me ? store.me.username : '';
  const checks = store.members
    .filter((m) => m.username !== me)
    .map((m) => h('label', { class: 'field checkbox' }, h('input', { type: 'checkbox', name: 'dm-user', value: m.username }), h('span', {}, m.username, m.display_name ? h('span', { class: 'hint' }, ` ${m.display_name}`) : null)));
  const error = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'button primary', id: 'dm-submit' }, t('dm.start'));
  const form = h('form', { class: 'form' }, h('p', { class: 'hint' }, t('dm.hint', { max: MAX_GROUP_MEMBERS - 1 })), h('div', { class: 'pick-list checks' }, checks.length ? checks : h('p', { class: 'hint' }, t('dm.nobody'))), error, h('div', { class: 'dialog-actions' }, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const usernames = [...form.querySelectorAll('input[name="dm-user"]:checked')].map((c) => c.value);
    if (usernames.length === 0 || usernames.length > MAX_GROUP_MEMBERS - 1) {
      error.textContent = t('dm.count', { max: MAX_GROUP_MEMBERS - 1 });
      return;
    }
    try {
      go(await api.post(fpath(store.flotillaId, 'dms'), { usernames }));
      dlg.close();
    } catch (err) {
      error.textContent = errorText(err);
    }
  });
  const dlg = openDialog({ title: t('dm.new'), body: h('div', { class: 'dialog-body' }, form) });
}

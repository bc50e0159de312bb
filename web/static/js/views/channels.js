// views/channels.js: channel management dialogs: create, browse and join public channels
// (archived ones too), the channel menu (settings, add a member, leave), the channel
// settings dialog (names, header, purpose, privacy, archive), moving a thread, pinned posts
// and new direct / group messages.

import { h } from '../dom.js';
import { t, tn } from '../i18n.js';
import { api, fpath } from '../api.js';
import { store, channelLabel, currentFlotilla, DEFAULT_CHANNELS } from '../state.js';
import { upsertChannel, reloadChannels } from '../session.js';
import { channelHash, navigate } from '../router.js';
import { fold } from '../autocomplete.js';
import { openDialog, formDialog, confirmDialog, toast, errorText, actionForm } from './dialogs.js';
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

/** Which channels the browser lists: public ones to join, or (with `archived`) archived ones. */
export function browsable(channel, archived) {
  if (archived) return channel.archived && channel.kind !== 'dm';
  return channel.kind === 'public' && (!channel.archived || channel.member);
}

/** Browse the public channels; join one. The "archived" switch lists archived channels. */
export function openBrowseChannels() {
  const search = h('input', { type: 'search', id: 'browse-search', placeholder: t('channels.search'), 'aria-label': t('channels.search') });
  const archivedBox = h('input', { type: 'checkbox', id: 'browse-archived' });
  const archivedToggle = h('label', { class: 'field checkbox' }, archivedBox, h('span', {}, t('channels.showArchived')));
  const list = h('ul', { class: 'pick-list' });
  const fill = () => {
    const q = fold(search.value);
    const archived = archivedBox.checked;
    const channels = [...store.channels.values()].filter((c) => browsable(c, archived) && fold(`${c.name} ${c.display_name || ''}`).includes(q)).sort((a, b) => a.name.localeCompare(b.name));
    list.replaceChildren(
      ...channels.map((c) => {
        const open = c.member || c.archived;
        const button = h('button', { type: 'button', class: 'button small', dataset: { joinChannel: c.id } }, open ? t('channels.open') : t('channel.join'));
        button.addEventListener('click', async () => {
          try {
            go(open ? c : await api.post(cpath(c, 'join')));
            dlg.close();
          } catch (err) {
            toast(errorText(err), 'error');
          }
        });
        const label = c.display_name ? `${c.display_name} (~${c.name})` : `~${c.name}`;
        return h('li', {}, h('div', {}, h('strong', {}, label), c.archived ? h('span', { class: 'tag' }, t('channel.archived')) : null, c.purpose ? h('p', { class: 'hint' }, c.purpose) : null), button);
      }),
    );
    if (!channels.length) list.append(h('li', { class: 'hint' }, t('channels.none')));
  };
  search.addEventListener('input', fill);
  archivedBox.addEventListener('change', fill);
  fill();
  const dlg = openDialog({ title: t('channels.browse'), body: h('div', { class: 'dialog-body' }, search, archivedToggle, list), wide: true });
  search.focus();
}

/** May the signed-in user change a channel's names, privacy and archive flag (admin or creator)? */
function mayManage(channel) {
  const flotilla = currentFlotilla();
  return Boolean(flotilla && flotilla.admin) || Boolean(store.me && channel.creator === store.me.username);
}

/** The PATCH body of the settings form: only what changed, so a member's header edit sends no admin field. */
export function settingsPatch(channel, v) {
  const patch = {};
  for (const key of ['header', 'purpose', 'display_name']) {
    if (key in v && v[key] !== (channel[key] || '')) patch[key] = v[key];
  }
  if ('name' in v && v.name.trim().toLowerCase() !== channel.name) patch.name = v.name.trim().toLowerCase();
  if ('private' in v && v.private !== (channel.kind === 'private')) patch.private = v.private;
  return patch;
}

/** The channel settings: display name, URL name, header, purpose, privacy; archive or unarchive. */
export function openChannelSettings(channel) {
  const manage = mayManage(channel);
  const fields = [];
  if (!channel.archived) {
    if (manage) {
      fields.push({ name: 'display_name', label: t('channels.displayName'), value: channel.display_name || '', maxlength: 64, hint: t('channels.displayNameHint') });
      fields.push({ name: 'name', label: t('channels.urlName'), value: channel.name, required: true, pattern: CHANNEL_NAME_PATTERN, maxlength: 64, hint: t('channels.nameHint') });
    }
    fields.push({ name: 'header', label: t('channels.header'), type: 'textarea', value: channel.header, maxlength: 1024 });
    fields.push({ name: 'purpose', label: t('channels.purpose'), type: 'textarea', value: channel.purpose, maxlength: 250 });
    if (manage && !(channel.name in DEFAULT_CHANNELS)) fields.push({ name: 'private', label: t('channels.private'), type: 'checkbox', value: channel.kind === 'private' });
  }
  const archiveButton = manage ? h('button', { type: 'button', class: channel.archived ? 'button' : 'button danger', id: 'channel-settings-archive' }, channel.archived ? t('channel.unarchive') : t('channel.archive')) : null;
  const extra = h('div', { class: 'settings-archive' }, channel.archived ? h('p', { class: 'hint' }, t('channel.archivedNotice')) : null, archiveButton);
  let dlg = null;
  const body = h('div', { class: 'dialog-body' });
  if (fields.length) {
    const form = actionForm({
      fields,
      submitLabel: t('action.save'),
      extra,
      onSubmit: async (v) => {
        const patch = settingsPatch(channel, v);
        return Object.keys(patch).length ? api.patch(cpath(channel), patch) : channel;
      },
      onDone: (updated) => {
        dlg.close();
        upsertChannel(updated);
        toast(t('channels.saved'));
      },
    });
    form.id = 'channel-settings-form';
    body.append(form);
  } else {
    body.append(extra);
  }
  if (archiveButton) {
    archiveButton.addEventListener('click', async () => {
      dlg.close();
      await archive(channel);
    });
  }
  dlg = openDialog({ title: t('channels.settings', { name: channelLabel(channel) }), body, wide: true });
  return dlg;
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
    channel.kind !== 'dm' && (channel.member || (flotilla && flotilla.admin)) ? item(t('channels.settingsItem'), 'channel-settings', openChannelSettings) : null,
    channel.kind === 'private' && channel.member && !channel.archived ? item(t('channel.addMember'), 'channel-add-member', addMember) : null,
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

// --- moving a thread (flotilla admins) ---

/** The channels a thread in `from` may move to: others of the flotilla, not archived, that I can write to. */
export function moveTargets(from) {
  return [...store.channels.values()].filter((c) => c.id !== from && c.kind !== 'dm' && !c.archived && c.member).sort((a, b) => a.name.localeCompare(b.name));
}

/** Ask where to move the thread of `post`; moves it and opens it in its new channel. */
export function openMoveThread(post) {
  const options = moveTargets(post.channel).map((c) => [c.id, c.display_name ? `~${c.name} (${c.display_name})` : `~${c.name}`]);
  if (!options.length) return toast(t('post.moveNowhere'));
  return formDialog({
    title: t('post.moveTitle'),
    submitLabel: t('post.move'),
    fields: [{ name: 'channel', label: t('post.moveTo'), type: 'select', options, id: 'move-channel' }],
    extra: h('p', { class: 'hint' }, t('post.moveHint')),
    onSubmit: (v) => api.post(fpath(store.flotillaId, 'posts', post.id, 'move'), { channel: v.channel }),
    onDone: (copy) => {
      toast(t('post.moved'));
      navigate(channelHash(store.flotillaId, copy.channel, copy.id));
    },
  });
}

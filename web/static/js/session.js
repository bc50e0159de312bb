// session.js: loading what the signed-in user sees (flotillas, channels, members, boats,
// emoji) into the store, and the read markers. Emits `flotillas`, `channels`, `channel`,
// `members`, `boats` and `emoji` for the views.

import { api, fpath } from './api.js';
import { store, emit } from './state.js';

/** A burst of new posts marks the channel read once, after this pause. */
export const READ_DEBOUNCE_MS = 400;

/** Load the flotilla list. */
export async function loadFlotillas() {
  store.flotillas = await api.get('/flotillas');
  emit('flotillas', store.flotillas);
  return store.flotillas;
}

/** Load the emoji list once (public, cacheable). */
export async function loadEmoji() {
  const list = await api.get('/emoji');
  store.emoji = Array.isArray(list) ? list : [];
  store.emojiChars = new Map(store.emoji);
  emit('emoji', store.emoji);
}

/** Load the channels, members and boats of flotilla `id` and make it current. */
export async function loadFlotilla(id) {
  const [channels, members, boats] = await Promise.all([api.get(fpath(id, 'channels')), api.get(fpath(id, 'members')), api.get(fpath(id, 'nodes'))]);
  store.flotillaId = id;
  store.channels = new Map(channels.map((c) => [c.id, c]));
  store.members = members;
  store.boats = boats;
  emit('channels', store.channels);
  emit('members', store.members);
  emit('boats', store.boats);
}

/** Reload the current flotilla's channels (after a resync or a reconnection). */
export async function reloadChannels() {
  if (!store.flotillaId) return;
  const channels = await api.get(fpath(store.flotillaId, 'channels'));
  store.channels = new Map(channels.map((c) => [c.id, c]));
  emit('channels', store.channels);
}

/** Reload the current flotilla's boats. */
export async function reloadBoats() {
  if (!store.flotillaId) return;
  store.boats = await api.get(fpath(store.flotillaId, 'nodes'));
  emit('boats', store.boats);
}

/** Reload the current flotilla's members (for mentions and DMs). */
export async function reloadMembers() {
  if (!store.flotillaId) return;
  store.members = await api.get(fpath(store.flotillaId, 'members'));
  emit('members', store.members);
}

/** A channel is new or changed. */
export function upsertChannel(channel) {
  if (channel.flotilla && channel.flotilla !== store.flotillaId) return;
  store.channels.set(channel.id, channel);
  emit('channels', store.channels);
  emit('channel', channel);
}

/** A channel's counts changed. */
export function setCounts(channelId, unread, mentions) {
  const channel = store.channels.get(channelId);
  if (!channel || (channel.unread === unread && channel.mentions === mentions)) return;
  store.channels.set(channelId, { ...channel, unread, mentions });
  emit('channels', store.channels);
}

const readTimers = new Map();

/** Mark a channel read (debounced); its badges clear at once. */
export function markRead(channelId) {
  const channel = store.channels.get(channelId);
  if (!channel || !channel.member) return;
  clearTimeout(readTimers.get(channelId));
  readTimers.set(
    channelId,
    setTimeout(() => {
      readTimers.delete(channelId);
      api.post(fpath(store.flotillaId, 'channels', channelId, 'read')).catch(() => {});
    }, READ_DEBOUNCE_MS),
  );
  setCounts(channelId, 0, 0);
}

/** Whether the user is looking at the page now (visible and focused). */
export function userIsLooking() {
  return document.visibilityState === 'visible' && document.hasFocus();
}

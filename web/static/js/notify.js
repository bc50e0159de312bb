// notify.js: browser notifications for mentions and direct messages while the page is
// hidden. Permission is asked only from the settings toggle, never on load.

import { store, channelLabel, isMine } from './state.js';
import { t } from './i18n.js';

export const NOTIFY_STORAGE_KEY = 'flotilla.notify';
/** Posts older than this when they reach us are catch-up, not news: no notification. */
export const NOTIFY_MAX_AGE_MS = 2 * 60 * 1000;
/** Post ids remembered to notify once per post. */
export const MAX_NOTIFIED_IDS = 1000;
/** Notification text is cut to this many characters. */
export const NOTIFY_TEXT_CHARS = 140;

const notified = new Set();

/** Whether the user turned notifications on (and the browser allows them). */
export function notificationsWanted() {
  try {
    return localStorage.getItem(NOTIFY_STORAGE_KEY) === '1' && 'Notification' in window && Notification.permission === 'granted';
  } catch {
    return false;
  }
}

/** Turn notifications on (asking permission) or off; resolves to the resulting state. */
export async function setNotificationsWanted(wanted) {
  let granted = false;
  if (wanted && 'Notification' in window) granted = (await Notification.requestPermission()) === 'granted';
  try {
    localStorage.setItem(NOTIFY_STORAGE_KEY, granted ? '1' : '0');
  } catch {
    // storage unavailable
  }
  return granted;
}

/** Whether a freshly received post deserves a notification. */
export function shouldNotify(post, channel, nowMs, hidden) {
  if (!hidden || !channel || isMine(post) || post.edited) return false;
  if (nowMs - post.created_at > NOTIFY_MAX_AGE_MS) return false;
  return Boolean(post.mentions_me) || channel.kind === 'dm';
}

/** Show a notification for `post` when wanted. */
export function maybeNotify(post) {
  if (notified.has(post.id) || !notificationsWanted()) return;
  const channel = store.channels.get(post.channel);
  if (!shouldNotify(post, channel, Date.now(), document.hidden)) return;
  if (notified.size >= MAX_NOTIFIED_IDS) notified.delete(notified.values().next().value);
  notified.add(post.id);
  const title = channel.kind === 'dm' ? t('notify.dm', { name: post.author }) : t('notify.mention', { name: post.author, channel: channelLabel(channel) });
  const note = new Notification(title, { body: post.text.slice(0, NOTIFY_TEXT_CHARS), tag: post.id });
  note.addEventListener('click', () => {
    window.focus();
    location.hash = `#/f/${store.flotillaId}/c/${post.channel}${post.root_id ? `/t/${post.root_id}` : ''}`;
    note.close();
  });
}

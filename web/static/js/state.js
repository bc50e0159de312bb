// state.js: the session's shared state (who I am, flotillas, channels, members, boats, emoji,
// known posts) and a small event bus views subscribe to. Only app.js and the WebSocket
// handlers write here; views read and re-render on events.

import { t } from './i18n.js';

/** At most this many posts are kept in the post cache (older entries are dropped). */
export const MAX_CACHED_POSTS = 20000;

export const store = {
  me: null,
  flotillas: [],
  flotillaId: null,
  channels: new Map(),
  members: [],
  boats: [],
  emoji: [],
  emojiChars: new Map(),
  posts: new Map(),
  route: { name: 'home' },
  connected: false,
};

const listeners = new Map();

/** Subscribe to an event; returns the unsubscribe function. */
export function on(event, fn) {
  if (!listeners.has(event)) listeners.set(event, new Set());
  listeners.get(event).add(fn);
  return () => listeners.get(event).delete(fn);
}

/** Tell every subscriber of `event`. A throwing subscriber does not stop the others. */
export function emit(event, data) {
  for (const fn of [...(listeners.get(event) || [])]) {
    try {
      fn(data);
    } catch (err) {
      console.error(`listener of ${event} failed`, err);
    }
  }
}

/** Remember a post (bounded cache) and return it. */
export function rememberPost(post) {
  if (store.posts.size >= MAX_CACHED_POSTS && !store.posts.has(post.id)) {
    const oldest = store.posts.keys().next().value;
    store.posts.delete(oldest);
  }
  store.posts.set(post.id, post);
  return post;
}

/** The current flotilla object, if any. */
export function currentFlotilla() {
  return store.flotillas.find((f) => f.id === store.flotillaId) || null;
}

/** The channel with this id in the current flotilla. */
export function channelById(id) {
  return store.channels.get(id) || null;
}

/** Whether the signed-in user may delete this post (author, or flotilla admin). */
export function canDelete(post) {
  const flotilla = currentFlotilla();
  return isMine(post) || Boolean(flotilla && flotilla.admin);
}

/** Whether the post was written by the signed-in user. */
export function isMine(post) {
  return Boolean(store.me) && (post.author_key === store.me.key || (!post.author_key && post.author === store.me.username));
}

/** The emoji character of a shortcode (or the `:code:` text when unknown). */
export function emojiChar(code) {
  return store.emojiChars.get(code) || `:${code}:`;
}

/** The name shown for a channel: `name` for channels, the other members for a DM. */
/**
 * The default channels every flotilla has, by URL name: their i18n key suffix. The UI shows
 * them as "Town Square" / "Centre-Ville" and "Off-Topic" / "Hors-sujet"; their names (links,
 * `~town-square`, the API) stay.
 */
export const DEFAULT_CHANNELS = { 'town-square': 'townSquare', 'off-topic': 'offTopic' };

/** How a public or private channel is shown: its display name, a default channel's name in the UI language, else its name. */
export function channelTitle(channel, translate = t) {
  if (channel.display_name) return channel.display_name;
  const key = DEFAULT_CHANNELS[channel.name];
  return key ? translate(`channel.name.${key}`) : channel.name;
}

/** A channel's purpose, or a default channel's own in the UI language when none was set. */
export function channelPurpose(channel, translate = t) {
  if (!channel || channel.kind === 'dm') return '';
  if (channel.purpose) return channel.purpose;
  const key = DEFAULT_CHANNELS[channel.name];
  return key ? translate(`channel.purpose.${key}`) : '';
}

export function channelLabel(channel) {
  if (!channel) return '';
  if (channel.kind !== 'dm') return channelTitle(channel);
  const me = store.me ? store.me.username : '';
  const others = (channel.members || []).filter((u) => u !== me);
  return others.length ? others.join(', ') : me;
}

/** A post is new or changed (from the API or the WebSocket): remember it and tell the views. */
export function publishPost(post) {
  rememberPost(post);
  emit('post', post);
}

/** A post is gone: forget it and tell the views ({channel, post_id, root_id}). */
export function publishDeleted(gone) {
  store.posts.delete(gone.post_id);
  emit('post-deleted', gone);
}

// live.js: applies the WebSocket's messages (docs/api.md) to the store: posts, deletions,
// channels, unread counts, boats and the flotilla list; `resync` and reconnections reload.

import { api, fpath } from './api.js';
import { store, emit, publishPost, publishDeleted } from './state.js';
import { upsertChannel, setCounts, markRead, reloadBoats, reloadMembers, loadFlotillas, reloadChannels, userIsLooking } from './session.js';
import { connectSocket } from './ws.js';
import { maybeNotify } from './notify.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { redrawFile } from './views/files.js';

/** A root's reply count is re-fetched once per burst of replies, after this pause. */
export const ROOT_REFRESH_MS = 300;

const rootTimers = new Map();

/** Re-fetch a root post we show (its reply count changed). */
function refreshRoot(rootId) {
  if (!rootId || !store.posts.has(rootId)) return;
  clearTimeout(rootTimers.get(rootId));
  rootTimers.set(
    rootId,
    setTimeout(() => {
      rootTimers.delete(rootId);
      api.get(fpath(store.flotillaId, 'posts', rootId)).then(publishPost, () => {});
    }, ROOT_REFRESH_MS),
  );
}

function onPost(msg) {
  if (msg.flotilla !== store.flotillaId || !msg.post) return;
  const isNew = !store.posts.has(msg.post.id);
  publishPost(msg.post);
  if (msg.post.root_id && isNew) refreshRoot(msg.post.root_id);
  maybeNotify(msg.post);
}

function onUnread(msg) {
  if (msg.flotilla !== store.flotillaId) return;
  setCounts(msg.channel, msg.unread, msg.mentions);
  const route = store.route;
  if (route.channel === msg.channel && msg.unread > 0 && userIsLooking()) markRead(msg.channel);
}

/** Reload everything shown (after `resync` or a reconnection). */
export async function reloadAll() {
  await loadFlotillas().catch(() => {});
  await reloadChannels().catch(() => {});
  await reloadBoats().catch(() => {});
  emit('reload');
}

/** The signed-in user was removed from the current flotilla: say so, show nothing more. */
function lostAccess() {
  store.channels = new Map();
  store.posts.clear();
  emit('channels', store.channels);
  if (document.getElementById('access-lost')) return;
  document.body.append(h('div', { id: 'access-lost', class: 'access-lost', role: 'alert' }, t('access.lost')));
}

/** Membership or roles changed: re-read members, flotillas and channels. */
function onMembers(msg) {
  if (msg.flotilla !== store.flotillaId) return;
  reloadMembers().then(
    () => Promise.all([loadFlotillas(), reloadChannels()]).catch(() => {}),
    (err) => {
      if (err && err.status === 403) lostAccess();
    },
  );
}

const HANDLERS = {
  post: onPost,
  post_deleted: (msg) => {
    if (msg.flotilla !== store.flotillaId) return;
    publishDeleted(msg);
    refreshRoot(msg.root_id);
  },
  channel: (msg) => msg.channel && upsertChannel({ ...msg.channel, flotilla: msg.channel.flotilla || msg.flotilla }),
  unread: onUnread,
  peers: () => reloadBoats().catch(() => {}),
  flotillas: () => loadFlotillas().catch(() => {}),
  resync: () => reloadAll(),
  members: onMembers,
  file: (msg) => {
    if (msg.flotilla !== store.flotillaId) return;
    redrawFile(msg.file);
    emit('file', msg.file);
  },
};

/** Open the WebSocket for this session. Returns {close()}. */
export function startLive() {
  return connectSocket({
    message: (msg) => {
      const handler = HANDLERS[msg.type];
      if (handler) handler(msg);
    },
    open: (isReconnect) => {
      if (isReconnect) reloadAll();
    },
    status: (connected) => {
      store.connected = connected;
      emit('connection', connected);
    },
  });
}

// --- the session ended (logout elsewhere, `user deactivate`, `user delete`) ---
// The server closes the socket next; asking who I am gets the 401 that returns to the login page.
HANDLERS.session_ended = () => api.get('/me').catch(() => {});

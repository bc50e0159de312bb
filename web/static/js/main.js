// main.js: the entry point: language, first-start setup or login, then the session
// (flotillas, emoji, WebSocket) and the hash routes of docs/ui.md rendered by views/shell.js.

import { api, setCsrfToken, onUnauthorized } from './api.js';
import { store, on } from './state.js';
import { initialLanguage, loadLanguage, LANG_STORAGE_KEY } from './i18n.js';
import { parseRoute, channelHash, navigate } from './router.js';
import { loadFlotillas, loadFlotilla, loadEmoji } from './session.js';
import { startLive } from './live.js';
import { renderLogin, renderSetup } from './views/login.js';
import { renderShell } from './views/shell.js';
import { toast, errorText } from './views/dialogs.js';
import { installSearchKeys, closeSearch } from './views/search.js';
import { watchAuthors } from './views/profile.js';
import { applyDisplay } from './profile.js';

const root = document.getElementById('root');
let setupNeeded = false;
let live = null;
let shell = null;
let renderSeq = 0;

function storedLanguage() {
  try {
    return localStorage.getItem(LANG_STORAGE_KEY);
  } catch {
    return null;
  }
}

async function startSession() {
  const me = await api.get('/me');
  store.me = me;
  setCsrfToken(me.csrf_token);
  await Promise.all([loadFlotillas(), loadEmoji().catch(() => {})]);
  live = startLive();
}

function endSession() {
  if (live) live.close();
  live = null;
  if (shell) shell.dispose();
  shell = null;
  closeSearch();
  store.me = null;
  store.flotillaId = null;
  store.channels = new Map();
  store.posts.clear();
  setCsrfToken(null);
}

async function logout() {
  try {
    await api.post('/logout');
  } catch {
    // the session is gone either way
  }
  endSession();
  navigate('#/login');
  render();
}

/** The channel to open in a flotilla: town-square, else the first joined channel. */
function defaultChannel() {
  const joined = [...store.channels.values()].filter((c) => c.member && !c.archived);
  const town = joined.find((c) => c.name === 'town-square');
  return town || joined.sort((a, b) => a.name.localeCompare(b.name))[0] || null;
}

async function ensureFlotilla(id) {
  // A flotilla founded or joined since the list was loaded (by another tab, or the CLI).
  const known = (f) => store.flotillas.some((x) => x.id === f);
  if ((id && !known(id)) || store.flotillas.length === 0) await loadFlotillas();
  const wanted = id || store.flotillaId || (store.flotillas[0] && store.flotillas[0].id);
  if (!wanted) return false;
  if (store.flotillaId !== wanted) await loadFlotilla(wanted);
  return true;
}

function renderLoggedOut(route) {
  if (shell) endSession();
  const done = async () => {
    setupNeeded = false;
    try {
      await startSession();
      navigate('#/');
      render();
    } catch (err) {
      toast(errorText(err), 'error');
    }
  };
  if (setupNeeded) {
    if (route.name !== 'setup') navigate('#/setup');
    renderSetup(root, done);
  } else {
    if (route.name !== 'login') navigate('#/login');
    renderLogin(root, done);
  }
}

async function renderApp(route, seq) {
  const flotillaId = route.flotilla || null;
  if (!(await ensureFlotilla(flotillaId))) {
    if (!shell) shell = renderShell(root, logout);
    return shell.show({ name: 'home' });
  }
  if (seq !== renderSeq) return null;
  const needsChannel = ['home', 'login', 'setup', 'flotilla', 'channel-link'].includes(route.name);
  if (needsChannel) {
    const channel = route.name === 'channel-link' ? store.channels.get(route.channel) : defaultChannel();
    if (channel) return navigate(channelHash(store.flotillaId, channel.id));
  }
  if (!shell) shell = renderShell(root, logout);
  shell.show(needsChannel ? { name: 'home' } : route);
  if (route.name === 'home' || route.name === 'flotilla') document.getElementById('app').dataset.pane = 'sidebar';
  return null;
}

async function render() {
  renderSeq += 1;
  const seq = renderSeq;
  const route = parseRoute(location.hash);
  root.removeAttribute('aria-busy');
  if (!store.me) return renderLoggedOut(route);
  try {
    return await renderApp(route, seq);
  } catch (err) {
    toast(errorText(err), 'error');
    return null;
  }
}

async function boot() {
  await loadLanguage(initialLanguage(storedLanguage(), navigator.languages), false);
  onUnauthorized(() => {
    if (!store.me) return;
    endSession();
    render();
  });
  on('language', async (lang) => {
    await loadLanguage(lang, true);
    if (shell) shell.dispose();
    shell = null;
    render();
  });
  window.addEventListener('hashchange', render);
  installSearchKeys();
  applyDisplay();
  watchAuthors();
  try {
    const setup = await api.get('/setup');
    setupNeeded = Boolean(setup && setup.needed);
  } catch {
    setupNeeded = false;
  }
  if (!setupNeeded) await startSession().catch(() => endSession());
  render();
}

boot();

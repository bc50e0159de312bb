// views/search.js: search in the channel header (#search-box), the results panel
// (#search-panel: author, channel, time, highlighted terms; a click opens the channel at the
// post), "Recent mentions" (#mentions-button), "Saved messages" (#saved-button), and the
// Ctrl+K quick switcher (#quick-switcher) for channels and people.

import { h, icon, ICONS } from '../dom.js';
import { t, language } from '../i18n.js';
import { api, fpath } from '../api.js';
import { store, channelLabel } from '../state.js';
import { channelHash, postHash, navigate } from '../router.js';
import { fullDateTime, shortDate } from '../format.js';
import { fold, matchMembers, matchChannels } from '../autocomplete.js';
import { queryTerms, highlightPieces } from '../highlight.js';
import { upsertChannel } from '../session.js';
import { errorText, openDialog } from './dialogs.js';

/** Results per page. */
export const RESULTS_PAGE = 20;
/** Icon paths of this module (24x24). */
const SEARCH_ICON = 'M11 4a7 7 0 100 14 7 7 0 000-14zM16.5 16.5L21 21';
const AT_ICON = 'M16 12a4 4 0 10-1.2 2.9M16 8v5a2.5 2.5 0 005 0v-1a9 9 0 10-3.5 7.1';
const BOOKMARK_ICON = 'M6 3h12v18l-6-4-6 4z';

let panel = null;

function closePanel() {
  if (panel) panel.remove();
  panel = null;
}

function resultItem(post, terms, saved) {
  const channel = store.channels.get(post.channel);
  const text = h('p', { class: 'result-text' }, highlightPieces(post.text, terms).map((p) => (p.mark ? h('mark', {}, p.text) : p.text)));
  const item = h(
    'li',
    { class: 'search-result', dataset: { resultId: post.id, channelId: post.channel }, tabindex: '0', role: 'button' },
    h(
      'div',
      { class: 'result-meta' },
      h('span', { class: 'result-channel' }, channel ? `${channel.kind === 'dm' ? '@' : '~'}${channelLabel(channel)}` : '~?'),
      h('span', { class: 'result-author' }, post.author),
      h('time', { class: 'result-time', title: fullDateTime(post.created_at, language()) }, shortDate(post.created_at, language())),
    ),
    text,
    saved ? h('button', { type: 'button', class: 'link-button unsave', dataset: { action: 'unsave' } }, t('post.unsave')) : null,
  );
  const open = () => {
    // On a phone the panel covers the channel: close it to show the post.
    if (!window.matchMedia('(min-width: 700px)').matches) closePanel();
    navigate(postHash(store.flotillaId, post.channel, post.root_id || post.id));
  };
  item.addEventListener('click', async (e) => {
    if (!e.target.closest('[data-action="unsave"]')) return open();
    e.stopPropagation();
    try {
      await toggleSaved(post, true);
      item.remove();
    } catch (err) {
      item.append(h('p', { class: 'form-error' }, errorText(err)));
    }
  });
  item.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') open();
  });
  return item;
}

/** Open the results panel for `title`, loading pages from `path` (a GET returning {posts, next}). */
function openResults(title, path, terms, saved) {
  closePanel();
  const list = h('ul', { class: 'search-results' });
  const status = h('p', { class: 'hint', id: 'search-status' }, t('channel.loading'));
  const more = h('button', { type: 'button', class: 'button', id: 'search-more', hidden: true }, t('search.more'));
  const close = h('button', { type: 'button', class: 'icon-button', id: 'search-close', 'aria-label': t('action.close'), onclick: closePanel }, icon(ICONS.close));
  panel = h('aside', { id: 'search-panel', 'aria-label': title }, h('header', { class: 'pane-head' }, h('h2', {}, title), close), h('div', { class: 'search-scroll' }, status, list, more));
  document.body.append(panel);
  let next = null;
  async function load() {
    const sep = path.includes('?') ? '&' : '?';
    const url = `${path}${sep}limit=${RESULTS_PAGE}${next ? `&before=${encodeURIComponent(next)}` : ''}`;
    try {
      const page = await api.get(url);
      for (const post of page.posts || []) list.append(resultItem(post, terms, saved));
      next = page.next || null;
      more.hidden = !next;
      status.textContent = list.children.length ? '' : t('search.none');
    } catch (err) {
      status.textContent = errorText(err);
    }
  }
  more.addEventListener('click', load);
  load();
}

/** Search the current flotilla for `query`. */
export function runSearch(query) {
  const q = String(query || '').trim();
  if (!q || !store.flotillaId) return;
  openResults(t('search.results', { query: q }), `${fpath(store.flotillaId, 'search')}?q=${encodeURIComponent(q)}`, queryTerms(q));
}

/** The recent mentions of the user. */
export function openMentions() {
  if (!store.flotillaId) return;
  openResults(t('search.mentions'), fpath(store.flotillaId, 'mentions'), store.me ? queryTerms(store.me.username) : []);
}

/** The user's saved messages. */
export function openSaved() {
  if (!store.flotillaId) return;
  openResults(t('search.saved'), fpath(store.flotillaId, 'saved'), [], true);
}

/** The search box and the mentions/saved buttons, for the channel header. */
export function searchTools() {
  const input = h('input', { type: 'search', id: 'search-box', class: 'search-box', placeholder: t('search.placeholder'), 'aria-label': t('search.placeholder'), autocomplete: 'off', enterkeyhint: 'search' });
  const form = h('form', { class: 'search-form', role: 'search' }, icon(SEARCH_ICON), input);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    runSearch(input.value);
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') closePanel();
  });
  return [
    form,
    h('button', { type: 'button', class: 'icon-button', id: 'mentions-button', title: t('search.mentions'), 'aria-label': t('search.mentions'), onclick: openMentions }, icon(AT_ICON)),
    h('button', { type: 'button', class: 'icon-button', id: 'saved-button', title: t('search.saved'), 'aria-label': t('search.saved'), onclick: openSaved }, icon(BOOKMARK_ICON)),
  ];
}

/** Save (or unsave) a post for the user. */
export async function toggleSaved(post, saved) {
  const path = fpath(store.flotillaId, 'posts', post.id, 'saved');
  if (saved) await api.del(path);
  else await api.put(path, {});
}

/** Channels and people matching `query` for the quick switcher. */
export function switcherItems(query) {
  const q = fold(query);
  const channels = [...store.channels.values()];
  const chans = q ? matchChannels(channels, q) : channels.filter((c) => c.kind !== 'dm').slice(0, 8).map((c) => ({ label: c.name, keys: [c.name] }));
  const found = chans
    .map((c) => channels.find((x) => x.name === c.label && x.kind !== 'dm'))
    .filter(Boolean)
    .map((c) => ({ kind: 'channel', id: c.id, label: `~${channelLabel(c)}` }));
  const me = store.me ? store.me.username : '';
  const people = q ? matchMembers(store.members, q, me).filter((m) => !m.special) : [];
  return found.concat(people.map((m) => ({ kind: 'user', id: m.label, label: `@${m.label}` })));
}

async function openItem(item) {
  if (item.kind === 'channel') return navigate(channelHash(store.flotillaId, item.id));
  const channel = await api.post(fpath(store.flotillaId, 'dms'), { usernames: [item.id] });
  upsertChannel(channel);
  navigate(channelHash(store.flotillaId, channel.id));
}

/** Ctrl+K: jump to a channel or a person. */
export function openQuickSwitcher() {
  if (!store.flotillaId || document.getElementById('quick-switcher')) return;
  const input = h('input', { type: 'text', id: 'switcher-input', placeholder: t('search.switcher'), 'aria-label': t('search.switcher'), autocomplete: 'off' });
  const list = h('ul', { class: 'switcher-list', id: 'switcher-list', role: 'listbox' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  let items = [];
  let active = 0;
  const draw = () => {
    items = switcherItems(input.value);
    active = Math.min(active, Math.max(items.length - 1, 0));
    list.replaceChildren(
      ...items.map((it, i) => {
        const li = h('li', { role: 'option', class: i === active ? 'active' : '', 'aria-selected': i === active ? 'true' : 'false', dataset: { kind: it.kind, id: it.id } }, it.label);
        li.addEventListener('click', () => choose(it));
        return li;
      }),
    );
  };
  const choose = async (it) => {
    try {
      await openItem(it);
      dlg.close();
    } catch (err) {
      error.textContent = errorText(err);
    }
  };
  input.addEventListener('input', () => {
    active = 0;
    draw();
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') active = Math.min(active + 1, items.length - 1);
    else if (e.key === 'ArrowUp') active = Math.max(active - 1, 0);
    else if (e.key === 'Enter' && items[active]) {
      e.preventDefault();
      choose(items[active]);
      return;
    } else return;
    e.preventDefault();
    draw();
  });
  const dlg = openDialog({ title: t('search.switcherTitle'), body: h('div', { class: 'dialog-body', id: 'quick-switcher' }, input, list, error) });
  draw();
  input.focus();
}

/** Install the global keys: Ctrl+K (or Cmd+K) opens the quick switcher. */
export function installSearchKeys() {
  document.addEventListener('keydown', (e) => {
    if ((e.ctrlKey || e.metaKey) && !e.altKey && (e.key === 'k' || e.key === 'K')) {
      e.preventDefault();
      openQuickSwitcher();
    }
  });
}

/** Close the results panel (leaving the flotilla, logging out). */
export function closeSearch() {
  closePanel();
}

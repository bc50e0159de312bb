// views/shell.js: the logged-in layout (#app): sidebar, centre pane (a channel or the fleet
// panel) and the thread panel; on a phone (< 700px) one pane at a time (`data-pane`).

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { store, on } from '../state.js';
import { channelHash, navigate } from '../router.js';
import { renderSidebar } from './sidebar.js';
import { renderChannelView } from './channel.js';
import { renderThread } from './thread.js';
import { renderFleet } from './fleet.js';
import { renderWeather } from './weather.js';
import { renderFirstRun } from './firstrun.js';

/** Build #app in `root`. Returns {show(route), dispose()}. */
export function renderShell(root, onLogout) {
  const nav = h('nav', { id: 'sidebar', 'aria-label': t('sidebar.label') });
  const main = h('main', { id: 'main' });
  const app = h('div', { id: 'app', dataset: { pane: 'main' } }, nav, main);
  root.replaceChildren(app);
  const sidebar = renderSidebar(nav, onLogout);
  let centre = null;
  let thread = null;
  const showSidebar = () => {
    app.dataset.pane = 'sidebar';
  };

  function closeThread() {
    if (!thread) return;
    thread.dispose();
    thread.el.remove();
    thread = null;
    app.classList.remove('with-thread');
  }

  function showCentre(route) {
    const channel = store.channels.get(route.channel);
    if (route.name === 'weather') {
      if (centre && centre.kind === 'weather') return;
      if (centre) centre.dispose();
      centre = { kind: 'weather', ...renderWeather(main, showSidebar) };
      return;
    }
    if (route.name === 'fleet') {
      if (centre && centre.kind === 'fleet') return;
      if (centre) centre.dispose();
      centre = { kind: 'fleet', ...renderFleet(main, showSidebar) };
      return;
    }
    if (centre && centre.channelId === route.channel) {
      if (route.post && centre.jumpTo) centre.jumpTo(route.post);
      return;
    }
    if (centre) centre.dispose();
    centre = channel ? renderChannelView(main, channel, showSidebar, route.post) : null;
    if (channel) return;
    if (store.flotillaId) main.replaceChildren(h('div', { class: 'empty-pane' }, h('p', {}, t('channel.pick'))));
    else renderFirstRun(main);
  }

  function showThread(route) {
    if (!route.thread) return closeThread();
    if (thread && thread.rootId === route.thread) return;
    closeThread();
    const channel = store.channels.get(route.channel);
    if (!channel) return;
    thread = renderThread(channel, route.thread, () => navigate(channelHash(store.flotillaId, route.channel)));
    app.append(thread.el);
    app.classList.add('with-thread');
    thread.afterMount();
  }

  function show(route) {
    store.route = route;
    sidebar.setRoute(route);
    showCentre(route);
    showThread(route);
    app.dataset.pane = route.thread ? 'thread' : 'main';
  }

  const offs = [
    on('reload', () => {
      const route = store.route;
      if (centre) centre.dispose();
      centre = null;
      closeThread();
      show(route);
    }),
  ];
  return {
    show,
    dispose() {
      offs.forEach((off) => off());
      sidebar.dispose();
      if (centre) centre.dispose();
      closeThread();
    },
  };
}

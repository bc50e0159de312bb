// views/sidebar.js: the left pane: flotilla switcher (#flotilla-select), the fleet link,
// Public channels / Private channels / Direct messages with unread (.badge-unread) and
// mention (.badge-mention) badges, and the user's corner (prefs, settings, #logout).

import { h, icon, ICONS } from '../dom.js';
import { t, tn } from '../i18n.js';
import { store, on, channelLabel } from '../state.js';
import { channelHash, fleetHash, weatherHash, navigate } from '../router.js';
import { channelIcon } from './channel.js';
import { openCreateChannel, openBrowseChannels, openNewDm } from './channels.js';
import { openSettings } from './settings.js';
import { prefsPickers } from './prefs.js';

const SECTIONS = [
  { kind: 'public', title: 'sidebar.public', add: openCreateChannel, addLabel: 'channels.create', more: openBrowseChannels, moreLabel: 'channels.browse' },
  { kind: 'private', title: 'sidebar.private', add: openCreateChannel, addLabel: 'channels.create' },
  { kind: 'dm', title: 'sidebar.dms', add: openNewDm, addLabel: 'dm.new' },
];

function badges(channel) {
  const unread = channel.unread || 0;
  const mentions = channel.mentions || 0;
  return [
    mentions > 0 ? h('span', { class: 'badge badge-mention', title: tn('sidebar.mentions', mentions) }, String(mentions)) : null,
    unread > 0 ? h('span', { class: 'badge badge-unread', title: tn('sidebar.unread', unread) }, String(unread)) : null,
  ];
}

function entry(channel, route) {
  const current = route.channel === channel.id;
  return h(
    'li',
    {},
    h(
      'a',
      { href: channelHash(store.flotillaId, channel.id), class: `channel-entry ${channel.unread > 0 ? 'unread' : ''} ${current ? 'current' : ''} ${channel.archived ? 'archived' : ''}`, dataset: { channelId: channel.id }, 'aria-current': current ? 'page' : null },
      h('span', { class: 'channel-icon', 'aria-hidden': 'true' }, channelIcon(channel)),
      h('span', { class: 'channel-name' }, channelLabel(channel)),
      badges(channel),
    ),
  );
}

/** Whether a channel shows in the sidebar: joined and not archived (unless open). */
function listed(channel, route) {
  return channel.member && (!channel.archived || route.channel === channel.id);
}

function section(spec, route) {
  const channels = [...store.channels.values()].filter((c) => c.kind === spec.kind && listed(c, route)).sort((a, b) => channelLabel(a).localeCompare(channelLabel(b)));
  const buttons = [
    spec.more ? h('button', { type: 'button', class: 'icon-button small', id: 'browse-channels', title: t(spec.moreLabel), 'aria-label': t(spec.moreLabel), onclick: spec.more }, icon(ICONS.search)) : null,
    h('button', { type: 'button', class: 'icon-button small', id: spec.kind === 'dm' ? 'new-dm' : `create-${spec.kind}`, title: t(spec.addLabel), 'aria-label': t(spec.addLabel), onclick: spec.add }, icon(ICONS.plus)),
  ];
  return h('section', { class: 'sidebar-section', dataset: { section: spec.kind } }, h('h2', {}, h('span', {}, t(spec.title)), buttons), h('ul', {}, channels.map((c) => entry(c, route))));
}

function flotillaSelect() {
  const select = h(
    'select',
    { id: 'flotilla-select', 'aria-label': t('sidebar.flotilla') },
    store.flotillas.map((f) => h('option', { value: f.id, selected: f.id === store.flotillaId }, f.name)),
  );
  select.addEventListener('change', () => navigate(`#/f/${select.value}`));
  return select;
}

/** Render the sidebar into `nav`, kept current. `onLogout()` logs out. Returns {dispose(), setRoute(route)}. */
export function renderSidebar(nav, onLogout) {
  let route = store.route;
  const connection = h('span', { class: 'connection', role: 'status' });
  const top = h('div', { class: 'sidebar-top' });
  const scroll = h('div', { class: 'sidebar-scroll' });
  const me = store.me ? store.me.username : '';
  const bottom = h(
    'div',
    { class: 'sidebar-bottom' },
    h('div', { class: 'me-row' }, connection, h('span', { class: 'me-name', id: 'me-name' }, me), h('button', { type: 'button', class: 'icon-button', id: 'settings-button', title: t('settings.title'), 'aria-label': t('settings.title'), onclick: openSettings }, icon(ICONS.gear)), h('button', { type: 'button', class: 'icon-button', id: 'logout', title: t('action.logout'), 'aria-label': t('action.logout'), onclick: onLogout }, icon(ICONS.logout))),
    prefsPickers(),
  );
  nav.replaceChildren(top, scroll, bottom);
  const draw = () => {
    top.replaceChildren(h('span', { class: 'brand', 'aria-hidden': 'true' }, '⛵'), flotillaSelect());
    // replaceChildren would show a null as the text "null": leave the absent parts out.
    const parts = [
      store.flotillaId ? h('a', { href: fleetHash(store.flotillaId), class: `channel-entry fleet-link ${route.name === 'fleet' ? 'current' : ''}`, id: 'fleet-link' }, h('span', { class: 'channel-icon' }, icon(ICONS.anchor)), h('span', {}, t('fleet.title'))) : h('p', { class: 'hint' }, t('sidebar.noFlotilla')),
      store.flotillaId ? h('a', { href: weatherHash(store.flotillaId), class: `channel-entry fleet-link ${route.name === 'weather' ? 'current' : ''}`, id: 'weather-link' }, h('span', { class: 'channel-icon', 'aria-hidden': 'true' }, '🌬'), h('span', {}, t('weather.title'))) : null,
      ...(store.flotillaId ? SECTIONS.map((spec) => section(spec, route)) : []),
    ];
    scroll.replaceChildren(...parts.filter(Boolean));
    drawConnection();
  };
  const drawConnection = () => {
    connection.className = `connection ${store.connected ? 'online' : 'offline'}`;
    connection.title = store.connected ? t('sidebar.online') : t('sidebar.offline');
    connection.setAttribute('aria-label', connection.title);
  };
  draw();
  const offs = [on('channels', draw), on('flotillas', draw), on('connection', drawConnection)];
  return {
    setRoute(next) {
      route = next;
      draw();
    },
    dispose() {
      offs.forEach((off) => off());
    },
  };
}

// views/fleet.js: the fleet panel (#fleet-panel): every boat of the flotilla, connected or
// not, when it was last seen, and its crew; then the member list (views/crew.js), with the
// admins' actions.

import { h, icon, ICONS } from '../dom.js';
import { t, tn, language } from '../i18n.js';
import { store, on, currentFlotilla } from '../state.js';
import { reloadBoats } from '../session.js';
import { relativeTime, fullDateTime } from '../format.js';
import { crewList, isFlotillaAdmin, removeBoat } from './crew.js';
import { api, fpath } from '../api.js';
import { loraOnlyBoats, airtimePercent, seconds } from '../lora.js';

/** Boats are re-fetched this often while the panel is shown. */
export const FLEET_REFRESH_MS = 30 * 1000;

function lastSeen(boat) {
  if (boat.me) return t('fleet.thisBoat');
  if (boat.connected) return t('fleet.connected');
  if (boat.lora_only) return t('lora.only', { hops: boat.lora_hops ?? '?' });
  if (boat.last_seen_ms === null || boat.last_seen_ms === undefined) return t('fleet.neverSeen');
  return t('fleet.lastSeen', { when: relativeTime(boat.last_seen_ms, Date.now(), language()) });
}

function boatCard(boat) {
  const crew = store.members.filter((m) => m.node === boat.key);
  const connected = boat.me || boat.connected;
  const state = connected ? 'connected' : boat.lora_only ? 'lora-only' : 'disconnected';
  return h(
    'li',
    { class: `boat ${state}`, dataset: { nodeKey: boat.key } },
    h('span', { class: 'status-dot', 'aria-hidden': 'true' }),
    h(
      'div',
      { class: 'boat-info' },
      h('strong', { class: 'boat-name' }, '⛵ ', boat.name || boat.key.slice(0, 12)),
      h('span', { class: 'boat-seen', title: boat.last_seen_ms ? fullDateTime(boat.last_seen_ms, language()) : '' }, lastSeen(boat)),
      h('span', { class: 'boat-key hint' }, boat.key.slice(0, 16)),
      crew.length ? h('span', { class: 'boat-crew' }, tn('fleet.crew', crew.length), ' : ', crew.map((m) => m.display || m.username).join(', ')) : null,
    ),
    isFlotillaAdmin() && !boat.me ? h('button', { type: 'button', class: 'button danger remove-boat', onclick: () => removeBoat(boat) }, t('fleet.remove')) : null,
  );
}

function radioLine(radio) {
  const text = t('lora.radio', {
    spec: radio.spec,
    used: seconds(radio.airtime_ms_this_hour),
    budget: seconds(radio.duty_budget_ms),
    percent: airtimePercent(radio),
    queue: radio.queue,
  });
  return h('li', { class: 'radio', dataset: { radio: String(radio.index), queue: String(radio.queue) } }, text);
}

/** Render the fleet panel into `main`. Returns {dispose()}. */
export function renderFleet(main, onBack) {
  const list = h('ul', { class: 'fleet-list' });
  const summary = h('p', { class: 'hint' });
  const loraSummary = h('p', { class: 'hint lora-summary' });
  const radioList = h('ul', { class: 'radio-list', 'aria-label': t('lora.radios') });
  let radios = [];
  const flotilla = currentFlotilla();
  const panel = h(
    'section',
    { id: 'fleet-panel', 'aria-label': t('fleet.title') },
    h('header', { class: 'pane-head' }, h('button', { type: 'button', class: 'icon-button back', 'aria-label': t('action.back'), onclick: onBack }, icon(ICONS.back)), h('div', { class: 'channel-titles' }, h('h1', {}, icon(ICONS.anchor), ' ', t('fleet.title')), h('p', { class: 'channel-header' }, flotilla ? flotilla.name : ''))),
    h('div', { class: 'fleet-scroll' }, summary, loraSummary, radioList, list),
  );
  const crewPanel = crewList();
  panel.querySelector('.fleet-scroll').append(crewPanel.el);
  const fill = () => {
    crewPanel.fill();
    const boats = [...store.boats].sort((a, b) => Number(b.me) - Number(a.me) || Number(b.connected) - Number(a.connected) || String(a.name).localeCompare(String(b.name)));
    const online = boats.filter((b) => b.me || b.connected).length;
    summary.textContent = t('fleet.summary', { online, total: boats.length });
    const loraOnly = loraOnlyBoats(boats).length;
    loraSummary.textContent = loraOnly ? tn('lora.onlyCount', loraOnly) : '';
    radioList.replaceChildren(...radios.map(radioLine));
    list.replaceChildren(...boats.map(boatCard));
  };
  // The radios of this boat (none without LoRa): re-fetched with the boats.
  const reloadRadios = () =>
    flotilla
      ? api
          .get(fpath(flotilla.id, 'radios'))
          .then((r) => {
            radios = Array.isArray(r) ? r : [];
            fill();
          })
          .catch(() => {})
      : Promise.resolve();
  fill();
  main.replaceChildren(panel);
  const offs = [on('boats', fill), on('members', fill), on('display', fill)];
  const timer = setInterval(() => {
    reloadBoats().catch(() => {});
    reloadRadios();
  }, FLEET_REFRESH_MS);
  reloadBoats().catch(() => {});
  reloadRadios();
  return {
    dispose() {
      offs.forEach((off) => off());
      clearInterval(timer);
    },
  };
}

// views/crew.js: the member list of the fleet panel (#crew-list): every user of the
// flotilla with their avatar, name per the display setting (`name` or `name@boat` when two
// boats have one name), position, home boat, their key's
// fingerprint (to compare aloud before trusting a DM), and for flotilla admins the actions:
// make admin / make member, remove a user, remove a boat. The node judges every action.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { api, fpath, seg } from '../api.js';
import { store, currentFlotilla } from '../state.js';
import { reloadMembers, reloadBoats } from '../session.js';
import { confirmDialog, toast, errorText } from './dialogs.js';
import { avatarFor } from './avatar.js';
import { displaySettings, shownName } from '../profile.js';

async function act(run, done) {
  try {
    await run();
    await Promise.all([reloadMembers(), reloadBoats()]).catch(() => {});
    toast(done);
  } catch (err) {
    toast(errorText(err), 'error');
  }
}

function setRole(member, role) {
  const flotilla = currentFlotilla();
  return act(
    () => api.put(fpath(flotilla.id, 'members', member.key, 'role'), { role }),
    t(role === 'admin' ? 'crew.nowAdmin' : 'crew.nowMember', { name: member.display }),
  );
}

async function removeUser(member) {
  const ok = await confirmDialog({ message: t('crew.removeConfirm', { name: member.display }), okLabel: t('crew.remove'), danger: true });
  if (!ok) return;
  const flotilla = currentFlotilla();
  await act(() => api.del(`${fpath(flotilla.id, 'members')}/${seg(member.key)}`), t('crew.removed', { name: member.display }));
}

/** Ask, then remove `boat` (and its crew) from the current flotilla. */
export async function removeBoat(boat) {
  const ok = await confirmDialog({ message: t('fleet.removeConfirm', { name: boat.name }), okLabel: t('fleet.remove'), danger: true });
  if (!ok) return;
  const flotilla = currentFlotilla();
  await act(() => api.del(`${fpath(flotilla.id, 'nodes')}/${seg(boat.key)}`), t('fleet.removed', { name: boat.name }));
}

/** Can the signed-in user administer the current flotilla? */
export function isFlotillaAdmin() {
  const flotilla = currentFlotilla();
  return Boolean(flotilla && flotilla.admin);
}

function memberRow(member) {
  const me = store.me && member.username === store.me.username && member.key === store.me.key;
  const actions = [];
  if (isFlotillaAdmin() && !me) {
    actions.push(
      member.admin
        ? h('button', { type: 'button', class: 'button make-member', onclick: () => setRole(member, 'member') }, t('crew.makeMember'))
        : h('button', { type: 'button', class: 'button make-admin', onclick: () => setRole(member, 'admin') }, t('crew.makeAdmin')),
      h('button', { type: 'button', class: 'button danger remove-user', onclick: () => removeUser(member) }, t('crew.remove')),
    );
  }
  return h(
    'li',
    { class: 'crew-member', dataset: { username: member.username, userKey: member.key, admin: String(member.admin) } },
    avatarFor(member, member.username, member.key, 'avatar-small'),
    h('strong', { class: 'crew-name' }, shownName(member, displaySettings().nameDisplay, member.username)),
    shownName(member, displaySettings().nameDisplay) !== (member.display || member.username) ? h('span', { class: 'hint crew-username' }, `@${member.username}`) : null,
    member.position ? h('span', { class: 'hint crew-position' }, member.position) : null,
    member.admin ? h('span', { class: 'badge crew-admin' }, t('crew.admin')) : null,
    h('span', { class: 'hint crew-boat' }, '⛵ ', member.boat || ''),
    h('code', { class: 'crew-fingerprint', title: t('crew.fingerprint') }, member.fingerprint || ''),
    actions.length ? h('span', { class: 'crew-actions' }, ...actions) : null,
  );
}

/** The member list, filled from store.members. Returns {el, fill()}. */
export function crewList() {
  const list = h('ul', { id: 'crew-list', class: 'crew-list' });
  const el = h('section', { class: 'crew' }, h('h2', {}, t('crew.title')), list);
  const fill = () => {
    const members = [...store.members].sort((a, b) => Number(b.admin) - Number(a.admin) || String(a.display).localeCompare(String(b.display)));
    list.replaceChildren(...members.map(memberRow));
  };
  fill();
  return { el, fill };
}

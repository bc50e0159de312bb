// views/accounts.js: for node admins, this node's accounts (#accounts-list) in the settings
// dialog, each with its actions: deactivate / activate (sessions and tokens end at once),
// unlock (clears the login rate limit), delete (removed from every flotilla; posts stay).
// The node judges every action (`POST /users/{u}/deactivate|activate|unlock`,
// `DELETE /users/{u}`).

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { api, seg } from '../api.js';
import { store } from '../state.js';
import { confirmDialog, toast, errorText } from './dialogs.js';

/** The actions offered for `user`: `[action, label key]`, none on one's own account. */
export function accountActions(user, me) {
  if (user.username === me) return [];
  return [user.deactivated ? ['activate', 'accounts.activate'] : ['deactivate', 'accounts.deactivate'], ['unlock', 'accounts.unlock'], ['delete', 'accounts.delete']];
}

async function run(action, user) {
  const path = `/users/${seg(user.username)}`;
  if (action === 'delete') {
    const ok = await confirmDialog({ title: t('accounts.delete'), message: t('accounts.deleteConfirm', { name: user.username }), okLabel: t('accounts.delete'), danger: true });
    if (!ok) return false;
    await api.del(path);
  } else {
    await api.post(`${path}/${action}`);
  }
  toast(t(`accounts.done.${action}`, { name: user.username }));
  return true;
}

function row(user, refill) {
  const me = store.me ? store.me.username : '';
  const buttons = accountActions(user, me).map(([action, label]) => {
    const button = h('button', { type: 'button', class: action === 'delete' ? 'button small danger' : 'button small', dataset: { accountAction: action, user: user.username } }, t(label));
    button.addEventListener('click', async () => {
      try {
        if (await run(action, user)) await refill();
      } catch (err) {
        toast(errorText(err), 'error');
      }
    });
    return button;
  });
  const tags = [user.admin ? h('span', { class: 'tag' }, t('accounts.admin')) : null, user.deactivated ? h('span', { class: 'tag', dataset: { deactivated: 'true' } }, t('accounts.deactivated')) : null];
  return h('li', { dataset: { account: user.username } }, h('div', {}, h('strong', {}, user.username), ...tags), h('div', { class: 'account-actions' }, buttons));
}

/** The accounts list, filled from the node. */
export function accountsList() {
  const list = h('ul', { class: 'pick-list', id: 'accounts-list' });
  const refill = async () => {
    try {
      const users = await api.get('/users');
      list.replaceChildren(...users.map((u) => row(u, refill)));
    } catch (err) {
      list.replaceChildren(h('li', { class: 'form-error' }, errorText(err)));
    }
  };
  refill();
  return list;
}

// views/settings.js: the settings dialog: the user's profile and this browser's display
// settings (views/profile.js), browser notifications (asked from a toggle, never
// on load), change password; for node admins: create users, reset passwords, create or
// join a flotilla; for flotilla admins: an invite code.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { api, fpath, seg } from '../api.js';
import { store, currentFlotilla } from '../state.js';
import { loadFlotillas } from '../session.js';
import { notificationsWanted, setNotificationsWanted } from '../notify.js';
import { openDialog, actionForm, toast } from './dialogs.js';
import { profileGroup, displayGroup } from './profile.js';
import { accountsList } from './accounts.js';

function group(title, ...content) {
  return h('section', { class: 'settings-group' }, h('h3', {}, title), ...content);
}

function notificationsToggle() {
  const box = h('input', { type: 'checkbox', id: 'notify-toggle', checked: notificationsWanted() });
  const state = h('small', { class: 'hint' });
  const describe = () => {
    const permission = 'Notification' in window ? Notification.permission : 'unsupported';
    state.textContent = t(`notify.${permission}`);
  };
  box.addEventListener('change', async () => {
    box.checked = await setNotificationsWanted(box.checked);
    describe();
  });
  describe();
  return h('div', {}, h('label', { class: 'field checkbox' }, box, h('span', {}, t('notify.toggle'))), state);
}

function passwordForm() {
  return actionForm({
    fields: [
      { name: 'current', label: t('settings.currentPassword'), type: 'password', required: true, autocomplete: 'current-password' },
      { name: 'new', label: t('settings.newPassword'), type: 'password', required: true, autocomplete: 'new-password' },
    ],
    submitLabel: t('settings.changePassword'),
    onSubmit: (v) => api.put('/me/password', { current: v.current, new: v.new }),
    onDone: (_, form) => {
      form.reset();
      toast(t('settings.passwordChanged'));
    },
  });
}

/** Open a flotilla just founded or joined: reload the list, then go to it (its Town Square). */
async function openNew(flotilla, form) {
  form.reset();
  await loadFlotillas();
  location.hash = `#/f/${flotilla.id}`;
}

/** The node admin's "create a flotilla" form; `idPrefix` names its fields (`<prefix>name`). */
export function createFlotillaForm(idPrefix = 'field-') {
  return actionForm({
    fields: [{ name: 'name', id: `${idPrefix}name`, label: t('admin.flotillaName'), required: true }],
    submitLabel: t('admin.createFlotilla'),
    onSubmit: (v) => api.post('/flotillas', { name: v.name.trim() }),
    onDone: openNew,
  });
}

/** The node admin's "join with a code" form; `idPrefix` names its fields (`<prefix>code`, `<prefix>via`). */
export function joinFlotillaForm(idPrefix = 'field-') {
  return actionForm({
    fields: [
      { name: 'code', id: `${idPrefix}code`, label: t('admin.inviteCode'), required: true },
      { name: 'via', id: `${idPrefix}via`, label: t('admin.via'), hint: t('admin.viaHint') },
    ],
    submitLabel: t('admin.joinFlotilla'),
    onSubmit: (v) => api.post('/flotillas/join', v.via.trim() ? { code: v.code.trim(), via: v.via.trim() } : { code: v.code.trim() }),
    onDone: openNew,
  });
}

function adminForms() {
  const createUser = actionForm({
    fields: [
      { name: 'username', label: t('login.username'), required: true },
      { name: 'password', label: t('login.password'), type: 'password', required: true, autocomplete: 'new-password' },
      { name: 'admin', label: t('admin.isAdmin'), type: 'checkbox', value: false },
    ],
    submitLabel: t('admin.createUser'),
    onSubmit: (v) => api.post('/users', { username: v.username.trim(), password: v.password, admin: v.admin }),
    onDone: (user, form) => {
      form.reset();
      toast(t('admin.userCreated', { name: user.username }));
    },
  });
  const reset = actionForm({
    fields: [
      { name: 'username', label: t('login.username'), required: true },
      { name: 'password', label: t('settings.newPassword'), type: 'password', required: true, autocomplete: 'new-password' },
    ],
    submitLabel: t('admin.resetPassword'),
    onSubmit: (v) => api.put(`/users/${seg(v.username.trim())}/password`, { password: v.password }),
    onDone: (_, form) => {
      form.reset();
      toast(t('settings.passwordChanged'));
    },
  });
  const createFlotilla = createFlotillaForm();
  const join = joinFlotillaForm();
  return [group(t('admin.createUser'), createUser), group(t('accounts.title'), accountsList()), group(t('admin.resetPassword'), reset), group(t('admin.createFlotilla'), createFlotilla), group(t('admin.joinFlotilla'), join)];
}

function inviteForm(flotilla) {
  const result = h('p', { class: 'invite-code', id: 'invite-code' });
  return actionForm({
    fields: [{ name: 'uses', label: t('admin.inviteUses'), type: 'number', value: '1' }],
    submitLabel: t('admin.createInvite'),
    extra: result,
    onSubmit: (v) => api.post(fpath(flotilla.id, 'invites'), { uses: Number(v.uses) || 1 }),
    onDone: (invite) => {
      result.textContent = invite.code;
    },
  });
}

/** The HTTPS certificate's fingerprint (serve --tls), filled once the status answers. */
function tlsFingerprint() {
  const code = h('code', { id: 'tls-fingerprint', class: 'crew-fingerprint' });
  const section = group(t('settings.tlsFingerprint'), code);
  section.hidden = true;
  api.get('/status').then((s) => {
    if (s && s.tls_fingerprint) {
      code.textContent = s.tls_fingerprint;
      section.hidden = false;
    }
  }, () => {});
  return section;
}

/** Open the settings dialog. */
export function openSettings() {
  const flotilla = currentFlotilla();
  const body = h(
    'div',
    { class: 'dialog-body settings' },
    profileGroup(),
    displayGroup(),
    group(t('notify.title'), notificationsToggle()),
    tlsFingerprint(),
    group(t('settings.changePassword'), passwordForm()),
    flotilla && flotilla.admin ? group(t('admin.invite', { name: flotilla.name }), inviteForm(flotilla)) : null,
    store.me && store.me.admin ? adminForms() : null,
  );
  openDialog({ title: t('settings.title'), body, wide: true });
}

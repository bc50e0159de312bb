// views/login.js: the first-start setup form (console setup code, first admin) and the login form.

import { h, replaceChildren } from '../dom.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { errorText } from './dialogs.js';
import { prefsPickers } from './prefs.js';

function screen(root, title, form) {
  replaceChildren(
    root,
    h(
      'main',
      { class: 'auth-screen' },
      h('div', { class: 'auth-card' }, h('div', { class: 'brand', 'aria-hidden': 'true' }, '⛵'), h('h1', {}, title), form),
      prefsPickers(),
    ),
  );
  const first = form.querySelector('input');
  if (first) first.focus();
}

function field(id, label, type, autocomplete, extra) {
  return h('div', { class: 'field' }, h('label', { for: id }, label), h('input', { id, type, autocomplete, required: true, ...extra }));
}

/** The setup form; `onDone(me)` once the first admin is created and logged in. */
export function renderSetup(root, onDone) {
  const error = h('p', { id: 'setup-error', class: 'form-error', role: 'alert' });
  const submit = h('button', { id: 'setup-submit', type: 'submit', class: 'button primary wide' }, t('setup.submit'));
  const form = h(
    'form',
    { class: 'form' },
    h('p', { class: 'hint' }, t('setup.intro')),
    field('setup-code', t('setup.code'), 'text', 'one-time-code', { inputmode: 'numeric', placeholder: '1234-5678-9012' }),
    field('setup-username', t('login.username'), 'text', 'username', { autocapitalize: 'none', spellcheck: 'false' }),
    field('setup-password', t('login.password'), 'password', 'new-password'),
    error,
    submit,
  );
  onSubmit(form, submit, error, async () => {
    const body = { code: form.querySelector('#setup-code').value.trim(), username: form.querySelector('#setup-username').value.trim(), password: form.querySelector('#setup-password').value };
    onDone(await api.post('/setup', body));
  }, errorText);
  screen(root, t('setup.title'), form);
}

/** Runs `send()` when `form` is submitted, with `submit` disabled meanwhile; a failure shows
 * `describe(err)` in `error`. */
function onSubmit(form, submit, error, send, describe) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    submit.disabled = true;
    try {
      await send();
    } catch (err) {
      error.textContent = describe(err);
    } finally {
      submit.disabled = false;
    }
  });
}

/** The login form; `onDone(me)` once logged in. */
export function renderLogin(root, onDone) {
  const error = h('p', { id: 'login-error', class: 'form-error', role: 'alert' });
  const submit = h('button', { id: 'login-submit', type: 'submit', class: 'button primary wide' }, t('login.submit'));
  const form = h(
    'form',
    { class: 'form' },
    field('login-username', t('login.username'), 'text', 'username', { autocapitalize: 'none', spellcheck: 'false' }),
    field('login-password', t('login.password'), 'password', 'current-password'),
    error,
    submit,
  );
  onSubmit(form, submit, error, async () => {
    onDone(await api.post('/login', { username: form.querySelector('#login-username').value.trim(), password: form.querySelector('#login-password').value }));
  }, (err) => (err.status === 401 ? t('login.wrong') : errorText(err)));
  screen(root, t('login.title'), form);
}

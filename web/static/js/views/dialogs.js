// views/dialogs.js: modal dialogs (native <dialog>), the delete confirmation
// (#confirm-ok / #confirm-cancel), small forms with inline errors, and toasts.

import { h, icon, ICONS } from '../dom.js';
import { t } from '../i18n.js';
import { ApiError } from '../api.js';

/** Toasts shown at once at most. */
export const MAX_TOASTS = 3;
/** How long a toast stays. */
export const TOAST_MS = 5000;

/** The text to show for an error: the server's message, or a translated network error. */
export function errorText(err) {
  if (err instanceof ApiError) return err.code === 'network' ? t('error.network') : err.message;
  return t('error.unexpected');
}

/** A short message at the bottom of the screen. */
export function toast(message, kind) {
  const box = document.getElementById('toasts');
  if (!box) return;
  while (box.children.length >= MAX_TOASTS) box.firstChild.remove();
  const el = h('div', { class: `toast ${kind || ''}` }, message);
  box.append(el);
  setTimeout(() => el.remove(), TOAST_MS);
}

/** Open a modal: {title, body (Node), wide}. Returns {el, close}. Closing removes it. */
export function openDialog({ title, body, wide, onClose }) {
  const close = () => {
    if (dialog.open) dialog.close();
  };
  const dialog = h(
    'dialog',
    { class: `dialog ${wide ? 'wide' : ''}`, 'aria-labelledby': 'dialog-title' },
    h('header', { class: 'dialog-head' }, h('h2', { id: 'dialog-title' }, title), h('button', { type: 'button', class: 'icon-button', onclick: close, 'aria-label': t('action.close') }, icon(ICONS.close))),
    body,
  );
  dialog.addEventListener('close', () => {
    dialog.remove();
    if (onClose) onClose();
  });
  dialog.addEventListener('click', (event) => {
    if (event.target === dialog) close();
  });
  document.body.append(dialog);
  dialog.showModal();
  return { el: dialog, close };
}

/** Ask a yes/no question; resolves true on #confirm-ok. */
export function confirmDialog({ title, message, okLabel, danger }) {
  return new Promise((resolve) => {
    let answer = false;
    const ok = h('button', { type: 'button', id: 'confirm-ok', class: danger ? 'button danger' : 'button primary' }, okLabel || t('action.ok'));
    const cancel = h('button', { type: 'button', id: 'confirm-cancel', class: 'button' }, t('action.cancel'));
    const body = h('div', { class: 'dialog-body' }, h('p', {}, message), h('div', { class: 'dialog-actions' }, cancel, ok));
    const dlg = openDialog({ title: title || t('confirm.title'), body, onClose: () => resolve(answer) });
    ok.addEventListener('click', () => {
      answer = true;
      dlg.close();
    });
    cancel.addEventListener('click', () => dlg.close());
    cancel.focus();
  });
}

/** A labelled form field. `field` = {name, label, type, value, required, options, hint, autocomplete, id (default `field-<name>`)}. */
export function formField(field) {
  const id = field.id || `field-${field.name}`;
  let input;
  if (field.type === 'select') {
    input = h('select', { id, name: field.name }, field.options.map(([value, label]) => h('option', { value, selected: value === field.value }, label)));
  } else if (field.type === 'textarea') {
    input = h('textarea', { id, name: field.name, rows: 3, maxlength: field.maxlength }, field.value || '');
  } else if (field.type === 'checkbox') {
    input = h('input', { id, name: field.name, type: 'checkbox', checked: field.value });
    return h('label', { class: 'field checkbox' }, input, h('span', {}, field.label));
  } else {
    input = h('input', { id, name: field.name, type: field.type || 'text', value: field.value || '', required: field.required, autocomplete: field.autocomplete || 'off', pattern: field.pattern, maxlength: field.maxlength, minlength: field.minlength });
  }
  return h('div', { class: 'field' }, h('label', { for: id }, field.label), input, field.hint ? h('small', { class: 'hint' }, field.hint) : null);
}

/** Read a form's fields into an object (checkboxes as booleans). */
export function formValues(form) {
  const values = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    values[el.name] = el.type === 'checkbox' ? el.checked : el.value;
  }
  return values;
}

/**
 * A form whose submit calls `onSubmit(values)`; its error (thrown) shows under the form.
 * Returns the <form>; `onDone(result)` runs after a successful submit.
 */
export function actionForm({ fields, submitLabel, onSubmit, onDone, extra }) {
  const error = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'button primary' }, submitLabel);
  const form = h('form', { class: 'form' }, fields.map(formField), extra || null, error, h('div', { class: 'dialog-actions' }, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    submit.disabled = true;
    try {
      const result = await onSubmit(formValues(form), form);
      if (onDone) onDone(result, form);
    } catch (err) {
      error.textContent = errorText(err);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

/** A dialog holding one actionForm; closes on success. */
export function formDialog({ title, fields, submitLabel, onSubmit, onDone, extra }) {
  let dlg = null;
  const form = actionForm({
    fields,
    submitLabel,
    onSubmit,
    extra,
    onDone: (result) => {
      dlg.close();
      if (onDone) onDone(result);
    },
  });
  dlg = openDialog({ title, body: h('div', { class: 'dialog-body' }, form) });
  const first = form.querySelector('input, textarea, select');
  if (first) first.focus();
  return dlg;
}

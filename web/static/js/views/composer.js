// views/composer.js: the message box of a channel (#composer) or thread (#thread-composer):
// Enter (or Ctrl+Enter, per the display setting) sends, Shift+Enter new line, Up on empty edits my last post, autocomplete, file
// attach / drag-and-drop / paste (uploaded first, then posted with `file_ids`), drafts,
// and the server's error message on failure.

import { h, icon, ICONS } from '../dom.js';
import { t, language } from '../i18n.js';
import { api, fpath } from '../api.js';
import { store, publishPost } from '../state.js';
import { composerAction } from '../keys.js';
import { formatSize } from '../format.js';
import { attachSuggestions } from './suggest.js';
import { errorText } from './dialogs.js';
import { displaySettings } from '../profile.js';

/** Files attached to one post at most (as in Mattermost). */
export const MAX_FILES_PER_POST = 10;
/** Drafts kept in memory at most. */
export const MAX_DRAFTS = 100;
/** The composer grows up to this many pixels, then scrolls. */
const MAX_COMPOSER_HEIGHT = 240;

const drafts = new Map();

function saveDraft(key, text) {
  drafts.delete(key);
  if (!text) return;
  if (drafts.size >= MAX_DRAFTS) drafts.delete(drafts.keys().next().value);
  drafts.set(key, text);
}

/**
 * A composer. `opts` = {id, channel (Channel), rootId?, placeholder, onEditLast()}.
 * Returns {el, focus(), dropTarget(el), dispose()}.
 */
export function createComposer(opts) {
  const draftKey = `${opts.channel.id}/${opts.rootId || ''}`;
  const textarea = h('textarea', { id: opts.id, class: 'composer-input', rows: 1, placeholder: opts.placeholder, 'aria-label': opts.placeholder, maxlength: 16383 }, drafts.get(draftKey) || '');
  const fileInput = h('input', { type: 'file', multiple: true, hidden: true, tabindex: '-1' });
  const attachButton = h('button', { type: 'button', class: 'icon-button', title: t('composer.attach'), 'aria-label': t('composer.attach'), onclick: () => fileInput.click() }, icon(ICONS.attach));
  const sendButton = h('button', { type: 'button', class: 'icon-button send', title: t('composer.send'), 'aria-label': t('composer.send') }, icon(ICONS.send));
  const chips = h('div', { class: 'attachments' });
  const error = h('p', { class: 'composer-error', role: 'alert' });
  const el = h('div', { class: 'composer' }, error, chips, h('div', { class: 'composer-row' }, attachButton, textarea, sendButton), fileInput);
  const suggest = attachSuggestions(textarea);
  const pending = [];
  let uploading = 0;
  /** Uploads under way: {name, fraction}, shown as chips with a progress bar. */
  const sendingFiles = new Set();
  let sending = false;

  const grow = () => {
    textarea.style.height = 'auto';
    textarea.style.height = `${Math.min(textarea.scrollHeight, MAX_COMPOSER_HEIGHT)}px`;
  };

  function renderChips() {
    chips.textContent = '';
    for (const file of pending) {
      const remove = h('button', { type: 'button', class: 'chip-remove', 'aria-label': t('composer.removeFile', { name: file.name }) }, '×');
      remove.addEventListener('click', () => {
        pending.splice(pending.indexOf(file), 1);
        renderChips();
      });
      chips.append(h('span', { class: 'chip' }, `📎 ${file.name} (${formatSize(file.size, language())})`, remove));
    }
    for (const up of sendingFiles) {
      const percent = Math.round(up.fraction * 100);
      up.bar = h('progress', { max: '100', value: String(percent), 'aria-label': t('composer.uploadProgress', { name: up.name, percent }) });
      up.label = h('span', { class: 'upload-percent' }, `${percent} %`);
      chips.append(h('span', { class: 'chip busy uploading', dataset: { name: up.name } }, `📤 ${up.name} `, up.bar, ' ', up.label));
    }
  }

  async function upload(files) {
    error.textContent = '';
    for (const file of files) {
      if (pending.length + uploading >= MAX_FILES_PER_POST) {
        error.textContent = t('composer.tooManyFiles', { max: MAX_FILES_PER_POST });
        return;
      }
      uploading += 1;
      const up = { name: file.name || 'file', fraction: 0 };
      sendingFiles.add(up);
      renderChips();
      const progress = (fraction) => {
        up.fraction = fraction;
        const percent = Math.round(fraction * 100);
        if (up.bar) up.bar.value = percent;
        if (up.label) up.label.textContent = `${percent} %`;
      };
      try {
        pending.push(await api.upload(store.flotillaId, opts.channel.id, file, progress));
      } catch (err) {
        error.textContent = `${file.name}: ${errorText(err)}`;
      } finally {
        uploading -= 1;
        sendingFiles.delete(up);
        renderChips();
      }
    }
  }

  async function send() {
    const text = textarea.value;
    if (sending || uploading || (!text.trim() && pending.length === 0)) return;
    sending = true;
    error.textContent = '';
    const body = { text };
    if (opts.rootId) body.root_id = opts.rootId;
    if (pending.length) body.file_ids = pending.map((f) => f.id);
    try {
      const post = await api.post(fpath(store.flotillaId, 'channels', opts.channel.id, 'posts'), body);
      textarea.value = '';
      pending.length = 0;
      renderChips();
      saveDraft(draftKey, '');
      grow();
      publishPost(post);
    } catch (err) {
      error.textContent = errorText(err);
    } finally {
      sending = false;
    }
  }

  textarea.addEventListener('keydown', (event) => {
    const ctrlEnter = displaySettings().sendOn === 'ctrl-enter';
    const action = composerAction(event, { empty: textarea.value === '', suggesting: suggest.isOpen(), ctrlEnter });
    if (!action) return;
    event.preventDefault();
    if (action === 'send') send();
    else if (action === 'edit-last') opts.onEditLast();
    else if (action === 'suggest-next') suggest.move(1);
    else if (action === 'suggest-prev') suggest.move(-1);
    else if (action === 'suggest-pick') suggest.pick();
    else if (action === 'suggest-close') suggest.close();
  });
  textarea.addEventListener('input', () => {
    saveDraft(draftKey, textarea.value);
    grow();
  });
  textarea.addEventListener('paste', (event) => {
    const files = [...(event.clipboardData ? event.clipboardData.files : [])];
    if (files.length) {
      event.preventDefault();
      upload(files);
    }
  });
  sendButton.addEventListener('click', send);
  fileInput.addEventListener('change', () => {
    upload([...fileInput.files]);
    fileInput.value = '';
  });

  return {
    el,
    focus: () => textarea.focus(),
    afterMount: grow,
    /** Accept files dropped anywhere on `target`. */
    dropTarget(target) {
      target.addEventListener('dragover', (event) => {
        if (event.dataTransfer && [...event.dataTransfer.types].includes('Files')) {
          event.preventDefault();
          target.classList.add('dragging');
        }
      });
      target.addEventListener('dragleave', (event) => {
        if (!target.contains(event.relatedTarget)) target.classList.remove('dragging');
      });
      target.addEventListener('drop', (event) => {
        target.classList.remove('dragging');
        if (!event.dataTransfer || event.dataTransfer.files.length === 0) return;
        event.preventDefault();
        upload([...event.dataTransfer.files]);
      });
    },
  };
}

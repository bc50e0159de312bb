// views/suggest.js: the autocomplete popup of a composer textarea (@members, ~channels,
// :emoji:), driven by the pure matching of autocomplete.js; members with their avatar.

import { h } from '../dom.js';
import { store } from '../state.js';
import { findTrigger, suggestionsFor, applyCompletion } from '../autocomplete.js';
import { memberFor } from '../profile.js';
import { avatarFor } from './avatar.js';

let nextId = 0;

/** Attach a popup to `textarea`. Returns {isOpen, move(delta), pick(), close(), update()}. */
export function attachSuggestions(textarea) {
  nextId += 1;
  const listId = `suggest-${nextId}`;
  const popup = h('ul', { class: 'suggest', id: listId, role: 'listbox', hidden: true });
  textarea.setAttribute('aria-autocomplete', 'list');
  textarea.setAttribute('aria-controls', listId);
  textarea.after(popup);
  let items = [];
  let selected = 0;
  let trigger = null;

  function render() {
    popup.textContent = '';
    items.forEach((item, i) => {
      const option = h(
        'li',
        { role: 'option', id: `${listId}-${i}`, class: i === selected ? 'selected' : '', 'aria-selected': i === selected ? 'true' : 'false' },
        item.char ? h('span', { class: 'emoji' }, item.char) : null,
        item.key ? avatarFor(memberFor(store.members, item.key, item.label), item.label, item.key, 'avatar-small') : null,
        h('span', { class: 'suggest-label' }, item.char ? item.label : item.insert),
        item.detail ? h('span', { class: 'suggest-detail' }, item.detail) : null,
      );
      option.addEventListener('mousedown', (event) => {
        event.preventDefault();
        selected = i;
        api.pick();
      });
      popup.append(option);
    });
    popup.hidden = items.length === 0;
    textarea.setAttribute('aria-expanded', items.length ? 'true' : 'false');
    if (items.length) textarea.setAttribute('aria-activedescendant', `${listId}-${selected}`);
    else textarea.removeAttribute('aria-activedescendant');
  }

  const api = {
    isOpen: () => items.length > 0,
    update() {
      trigger = findTrigger(textarea.value, textarea.selectionStart);
      const channels = [...store.channels.values()];
      items = suggestionsFor(trigger, { members: store.members, channels, emoji: store.emoji, me: store.me && store.me.username });
      selected = 0;
      render();
    },
    move(delta) {
      if (!items.length) return;
      selected = (selected + delta + items.length) % items.length;
      render();
    },
    pick() {
      const item = items[selected];
      if (!item || !trigger) return;
      const done = applyCompletion(textarea.value, trigger, item.insert, textarea.selectionStart);
      textarea.value = done.text;
      textarea.setSelectionRange(done.caret, done.caret);
      textarea.dispatchEvent(new Event('input'));
      api.close();
    },
    close() {
      items = [];
      render();
    },
  };
  textarea.addEventListener('input', () => api.update());
  textarea.addEventListener('click', () => api.update());
  textarea.addEventListener('blur', () => setTimeout(() => api.close(), 150));
  return api;
}

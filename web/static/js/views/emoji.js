// views/emoji.js: the reaction picker (#emoji-picker, entries [data-emoji]) with a filter;
// the first entries are the ones sailors use most.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { store } from '../state.js';
import { fold } from '../autocomplete.js';

/** At most this many entries are rendered at once (the filter narrows the rest). */
export const MAX_PICKER_ENTRIES = 600;
/** Shown first when present in the node's list. */
export const FAVOURITE_EMOJI = ['+1', 'thumbsup', 'heart', 'smile', 'joy', 'ok_hand', 'tada', 'eyes', 'sailboat', 'anchor', 'sunny', 'ocean', 'white_check_mark', 'warning', '-1'];

let openPicker = null;

/** Close the picker if open. */
export function closeEmojiPicker() {
  if (openPicker) openPicker();
}

function ordered(filter) {
  const q = fold(filter);
  const favourites = FAVOURITE_EMOJI.filter((code) => store.emojiChars.has(code)).map((code) => [code, store.emojiChars.get(code)]);
  const seen = new Set(favourites.map(([code]) => code));
  const all = favourites.concat(store.emoji.filter(([code]) => !seen.has(code)));
  return (q ? all.filter(([code]) => code.includes(q)) : all).slice(0, MAX_PICKER_ENTRIES);
}

/** Open the picker next to `anchor`; `onPick(shortcode)` on a choice. */
export function openEmojiPicker(anchor, onPick) {
  closeEmojiPicker();
  const grid = h('div', { class: 'emoji-grid', role: 'listbox', 'aria-label': t('emoji.title') });
  const search = h('input', { type: 'search', class: 'emoji-search', placeholder: t('emoji.search'), 'aria-label': t('emoji.search') });
  const picker = h('div', { id: 'emoji-picker', role: 'dialog', 'aria-label': t('emoji.title') }, search, grid);
  const fill = () => {
    grid.textContent = '';
    for (const [code, char] of ordered(search.value)) {
      grid.append(h('button', { type: 'button', class: 'emoji-entry', role: 'option', dataset: { emoji: code }, title: `:${code}:`, 'aria-label': code }, char));
    }
  };
  const close = () => {
    picker.remove();
    document.removeEventListener('mousedown', outside, true);
    document.removeEventListener('keydown', escape, true);
    openPicker = null;
  };
  const outside = (event) => {
    if (!picker.contains(event.target)) close();
  };
  const escape = (event) => {
    if (event.key === 'Escape') {
      event.stopPropagation();
      close();
      anchor.focus();
    }
  };
  grid.addEventListener('click', (event) => {
    const entry = event.target.closest('[data-emoji]');
    if (!entry) return;
    close();
    onPick(entry.dataset.emoji);
  });
  search.addEventListener('input', fill);
  fill();
  document.body.append(picker);
  place(picker, anchor);
  document.addEventListener('mousedown', outside, true);
  document.addEventListener('keydown', escape, true);
  openPicker = close;
  search.focus();
}

function place(picker, anchor) {
  const rect = anchor.getBoundingClientRect();
  const width = picker.offsetWidth;
  const height = picker.offsetHeight;
  const left = Math.max(8, Math.min(rect.right - width, window.innerWidth - width - 8));
  const below = rect.bottom + 4 + height < window.innerHeight;
  picker.style.left = `${left}px`;
  picker.style.top = `${Math.max(8, below ? rect.bottom + 4 : rect.top - height - 4)}px`;
}

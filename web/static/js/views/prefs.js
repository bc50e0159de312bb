// views/prefs.js: the language (#lang-select) and theme (#theme-select) pickers, shown on
// the login/setup screens and at the foot of the sidebar (one screen at a time, so the ids stay unique).

import { h } from '../dom.js';
import { t, language, LANGUAGES } from '../i18n.js';
import { THEMES, currentTheme, applyTheme } from '../theme.js';
import { emit } from '../state.js';

/** The two pickers; a language change emits `language` (main.js reloads strings and re-renders). */
export function prefsPickers() {
  const lang = h(
    'select',
    { id: 'lang-select', 'aria-label': t('settings.language'), onchange: (e) => emit('language', e.target.value) },
    LANGUAGES.map((code) => h('option', { value: code, selected: code === language() }, t(`lang.${code}`))),
  );
  const theme = h(
    'select',
    { id: 'theme-select', 'aria-label': t('settings.theme'), onchange: (e) => applyTheme(e.target.value) },
    THEMES.map((name) => h('option', { value: name, selected: name === currentTheme() }, t(`theme.${name}`))),
  );
  return h('div', { class: 'prefs' }, h('label', { class: 'pref' }, h('span', { class: 'pref-label' }, '🌐'), lang), h('label', { class: 'pref' }, h('span', { class: 'pref-label' }, '◐'), theme));
}

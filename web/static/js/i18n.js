// i18n.js: French and English strings (i18n/fr.json, i18n/en.json), the language choice
// (browser preference, then the user's pick kept in localStorage) and lookups with
// `{name}` placeholders and plural forms (`key.one` / `key.other`).

export const LANGUAGES = ['fr', 'en'];
export const DEFAULT_LANGUAGE = 'en';
export const LANG_STORAGE_KEY = 'flotilla.lang';

let dict = {};
let current = DEFAULT_LANGUAGE;

/** The first of the browser's languages we speak ("fr-CA" counts as fr), else English. */
export function pickLanguage(languages) {
  for (const tag of languages || []) {
    const base = String(tag).toLowerCase().split(/[-_]/)[0];
    if (LANGUAGES.includes(base)) return base;
  }
  return DEFAULT_LANGUAGE;
}

/** The stored choice when valid, else the browser's preference. */
export function initialLanguage(stored, languages) {
  return LANGUAGES.includes(stored) ? stored : pickLanguage(languages);
}

/** Look `key` up in `table`, filling `{name}` placeholders from `vars`; the key itself when missing. */
export function lookup(table, key, vars) {
  const text = table[key];
  if (typeof text !== 'string') return key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (vars && name in vars ? String(vars[name]) : whole));
}

/** The plural variant of `key` for `count` in `lang`: `key.one` or `key.other`. */
export function pluralKey(lang, key, count) {
  const category = new Intl.PluralRules(lang).select(count);
  return `${key}.${category === 'one' ? 'one' : 'other'}`;
}

/** Translate `key` in the current language. */
export function t(key, vars) {
  return lookup(dict, key, vars);
}

/** Translate a counted string: tn('post.replies', 3) uses `post.replies.other` with {count}. */
export function tn(key, count, vars) {
  return lookup(dict, pluralKey(current, key, count), { count, ...vars });
}

/** The language in use. */
export function language() {
  return current;
}

/** Use an already-loaded table (tests, and loadLanguage). */
export function useTable(lang, table) {
  current = lang;
  dict = table;
}

/** Fetch and switch to `lang`; sets `<html lang>` and remembers the choice when `remember`. */
export async function loadLanguage(lang, remember) {
  const chosen = LANGUAGES.includes(lang) ? lang : DEFAULT_LANGUAGE;
  const res = await fetch(`/i18n/${chosen}.json`);
  if (!res.ok) throw new Error(`i18n/${chosen}.json: HTTP ${res.status}`);
  useTable(chosen, await res.json());
  document.documentElement.lang = chosen;
  if (remember) {
    try {
      localStorage.setItem(LANG_STORAGE_KEY, chosen);
    } catch {
      // storage unavailable (private mode): the choice lasts for this page only
    }
  }
  return chosen;
}

// format.js: localized times, dates and sizes (Intl), and the grouping rule of the timeline.

/** Posts by the same author within this window are grouped under one header. */
export const GROUP_WINDOW_MS = 5 * 60 * 1000;

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "à l'instant", "il y a 12 min", "hier"…; older than a week: the date. */
export function relativeTime(ms, nowMs, lang) {
  const diff = ms - nowMs;
  const abs = Math.abs(diff);
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: 'auto', style: 'short' });
  if (abs < 45 * 1000) return rtf.format(0, 'second');
  if (abs < HOUR) return rtf.format(Math.round(diff / MINUTE), 'minute');
  if (abs < DAY) return rtf.format(Math.round(diff / HOUR), 'hour');
  if (abs < 7 * DAY) return rtf.format(Math.round(diff / DAY), 'day');
  return shortDate(ms, lang);
}

/** "21 nov. 2026". */
export function shortDate(ms, lang) {
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium' }).format(new Date(ms));
}

/** "samedi 21 novembre 2026 à 10:42:05", for tooltips. */
export function fullDateTime(ms, lang, clock24) {
  const cycle = typeof clock24 === 'boolean' ? { hourCycle: clock24 ? 'h23' : 'h12' } : {};
  return new Intl.DateTimeFormat(lang, { dateStyle: 'full', timeStyle: 'medium', ...cycle }).format(new Date(ms));
}

/** "10:42"; `clock24` true: "22:42", false: "10:42 PM", undefined/null: the locale's habit. */
export function clockTime(ms, lang, clock24) {
  const cycle = typeof clock24 === 'boolean' ? { hourCycle: clock24 ? 'h23' : 'h12' } : {};
  return new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit', ...cycle }).format(new Date(ms));
}

/** The local calendar day of a time, as a comparable string. */
export function dayKey(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/** The day separator label: "aujourd'hui", "hier", or the full date. */
export function dayLabel(ms, nowMs, lang) {
  const today = dayKey(nowMs);
  if (dayKey(ms) === today) return new Intl.RelativeTimeFormat(lang, { numeric: 'auto' }).format(0, 'day');
  if (dayKey(ms) === dayKey(nowMs - DAY)) return new Intl.RelativeTimeFormat(lang, { numeric: 'auto' }).format(-1, 'day');
  return new Intl.DateTimeFormat(lang, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' }).format(new Date(ms));
}

/** "12 Ko" / "1,5 Mo" (fr) or "12 kB" / "1.5 MB" (en). */
export function formatSize(bytes, lang) {
  const units = lang === 'fr' ? ['o', 'Ko', 'Mo', 'Go'] : ['B', 'kB', 'MB', 'GB'];
  let value = Number(bytes) || 0;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  return `${new Intl.NumberFormat(lang, { maximumFractionDigits: digits }).format(value)} ${units[unit]}`;
}

/** Whether `post` continues `prev` (same author, within GROUP_WINDOW_MS, same day). */
export function continuesGroup(prev, post) {
  if (!prev || !post) return false;
  const sameAuthor = (prev.author_key || prev.author) === (post.author_key || post.author);
  const close = post.created_at - prev.created_at >= 0 && post.created_at - prev.created_at < GROUP_WINDOW_MS;
  return sameAuthor && close && dayKey(prev.created_at) === dayKey(post.created_at);
}

/** Whether a day separator goes before `post`. */
export function startsDay(prev, post) {
  return !prev || dayKey(prev.created_at) !== dayKey(post.created_at);
}

/** Order of posts in a timeline: by creation time, then id. */
export function comparePosts(a, b) {
  return a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

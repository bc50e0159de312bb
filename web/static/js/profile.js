// profile.js: members' profiles as the UI shows them (the name per the "Teammate name
// display" setting, the avatar: picture or initial) and the display settings, kept per
// browser in localStorage (like the theme and the language): how names show, Enter or
// Ctrl+Enter to send, the 24-hour clock, compact or standard message display.

/** localStorage key of the display settings. */
export const DISPLAY_KEY = 'flotilla.display';

/** The settings before any choice: names as usernames, Enter sends, the locale's clock, standard. */
export const DISPLAY_DEFAULTS = Object.freeze({ nameDisplay: 'username', sendOn: 'enter', clock24: null, compact: false });

/** The choices of each setting (the first is the default). */
export const NAME_DISPLAYS = ['username', 'nickname', 'full_name'];
export const SEND_ON = ['enter', 'ctrl-enter'];

/** Avatar colours (indexes into --avatar-N custom properties). */
export const AVATAR_COLORS = 8;

/** How many times a picture that is still on its way (409) is asked again. */
export const PICTURE_RETRIES = 10;
/** Wait between two asks of a picture on its way, in ms. */
export const PICTURE_RETRY_MS = 3000;

/** Settings read from `raw` (a JSON string or null): unknown or bad values fall back to the defaults. */
export function parseDisplay(raw) {
  let v = {};
  try {
    v = JSON.parse(raw || '{}') || {};
  } catch {
    v = {};
  }
  return {
    nameDisplay: NAME_DISPLAYS.includes(v.nameDisplay) ? v.nameDisplay : DISPLAY_DEFAULTS.nameDisplay,
    sendOn: SEND_ON.includes(v.sendOn) ? v.sendOn : DISPLAY_DEFAULTS.sendOn,
    clock24: typeof v.clock24 === 'boolean' ? v.clock24 : null,
    compact: v.compact === true,
  };
}

function storage() {
  try {
    return globalThis.localStorage || null;
  } catch {
    return null;
  }
}

/** This browser's display settings. */
export function displaySettings() {
  const s = storage();
  return parseDisplay(s ? s.getItem(DISPLAY_KEY) : null);
}

/** Change some settings, save them, apply the compact class; answers the new settings. */
export function setDisplay(patch) {
  const next = parseDisplay(JSON.stringify({ ...displaySettings(), ...patch }));
  const s = storage();
  if (s) s.setItem(DISPLAY_KEY, JSON.stringify(next));
  applyDisplay(next);
  return next;
}

/** Mark the document for compact display (CSS: body.display-compact). */
export function applyDisplay(settings = displaySettings()) {
  if (globalThis.document && document.body) document.body.classList.toggle('display-compact', settings.compact);
}

/** Whether the clock is 24-hour: the setting, else the language's habit (French yes, English no). */
export function uses24h(settings, lang) {
  return typeof settings.clock24 === 'boolean' ? settings.clock24 : lang !== 'en';
}

/**
 * The name to show for `member` per `nameDisplay` (Mattermost's "Teammate name display"):
 * `full_name` → the full name, else the username; `nickname` → the nickname, else the full
 * name, else the username; `username` → the username (`name@boat` when two boats have it).
 */
export function shownName(member, nameDisplay, fallback = '') {
  if (!member) return fallback;
  const user = member.display || member.username || fallback;
  if (nameDisplay === 'full_name') return member.full_name || user;
  if (nameDisplay === 'nickname') return member.display_name || member.full_name || user;
  return user;
}

/** The member with this key (else this username) in `members`. */
export function memberFor(members, key, username) {
  return (key && members.find((m) => m.key === key)) || members.find((m) => m.username === username) || null;
}

/** A stable number for a text (the avatar colour). */
export function hashOf(text) {
  let hash = 0;
  for (const ch of String(text)) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return hash;
}

/** The initial shown when there is no picture. */
export function initialOf(name) {
  return (String(name || '?').trim().slice(0, 1) || '?').toUpperCase();
}

/** URL of a member's picture bytes (the picture's file: immutable, cached). */
export function pictureUrl(flotilla, pictureId) {
  return `/api/v1/flotillas/${encodeURIComponent(flotilla)}/files/${encodeURIComponent(pictureId)}`;
}

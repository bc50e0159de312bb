// autocomplete.js: pure matching for the composer's suggestions: which trigger (@, ~, :)
// sits before the caret, which members / channels / emoji match it, and the text once one
// is picked. The popup itself is views/suggest.js.

/** At most this many suggestions are shown. */
export const MAX_SUGGESTIONS = 8;
/** Emoji suggestions start after this many characters (as in Mattermost). */
export const MIN_EMOJI_QUERY = 2;
/** Mentions that reach everyone, offered after the members. */
export const SPECIAL_MENTIONS = ['channel', 'all', 'here'];

const TRIGGER = /(^|[\s([{"'])([@~:])([\p{L}\p{N}_.+-]*)$/u;

/** The trigger before the caret: {kind: '@'|'~'|':', query, start} or null. */
export function findTrigger(text, caret) {
  const before = String(text).slice(0, caret);
  const match = TRIGGER.exec(before);
  if (!match) return null;
  const kind = match[2];
  const query = match[3];
  if (kind === ':' && query.length < MIN_EMOJI_QUERY) return null;
  return { kind, query, start: caret - query.length - 1 };
}

/** Lower case without accents: "Éloïse" → "eloise". */
export function fold(text) {
  return String(text || '')
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase();
}

function rank(candidates, query) {
  const q = fold(query);
  const scored = [];
  for (const c of candidates) {
    const keys = c.keys.map(fold);
    if (keys.some((k) => k.startsWith(q))) scored.push([0, c]);
    else if (keys.some((k) => k.split(/[\s._-]+/).some((w) => w.startsWith(q)))) scored.push([1, c]);
    else if (q.length >= 2 && keys.some((k) => k.includes(q))) scored.push([2, c]);
  }
  scored.sort((a, b) => a[0] - b[0] || a[1].label.localeCompare(b[1].label));
  return scored.slice(0, MAX_SUGGESTIONS).map(([, c]) => c);
}

/** Members matching `query` by username, nickname or full name, then @channel/@all/@here. */
export function matchMembers(members, query, myUsername) {
  const people = members
    .filter((m) => m.username !== myUsername)
    .map((m) => ({ insert: `@${m.username}`, label: m.username, key: m.key, detail: [m.full_name, m.display_name].filter(Boolean).join(' · '), keys: [m.username, m.display_name || '', m.full_name || ''] }));
  const specials = SPECIAL_MENTIONS.map((s) => ({ insert: `@${s}`, label: s, detail: '', special: true, keys: [s] }));
  const found = rank(people, query);
  return found.length >= MAX_SUGGESTIONS ? found : found.concat(rank(specials, query)).slice(0, MAX_SUGGESTIONS);
}

/** Public and private channels (not DMs, not archived) matching `query`. */
export function matchChannels(channels, query) {
  const usable = channels
    .filter((c) => c.kind !== 'dm' && !c.archived)
    .map((c) => ({ insert: `~${c.name}`, label: c.name, detail: c.purpose || '', keys: [c.name] }));
  return rank(usable, query);
}

/** Emoji ([shortcode, char] pairs) matching `query`. */
export function matchEmoji(emoji, query) {
  const list = emoji.map(([code, char]) => ({ insert: `:${code}:`, label: `:${code}:`, char, keys: [code] }));
  return rank(list, query);
}

/** The suggestions for a trigger. */
export function suggestionsFor(trigger, { members, channels, emoji, me }) {
  if (!trigger) return [];
  if (trigger.kind === '@') return matchMembers(members, trigger.query, me);
  if (trigger.kind === '~') return matchChannels(channels, trigger.query);
  return matchEmoji(emoji, trigger.query);
}

/** Replace the trigger with `insert` and a space; returns {text, caret}. */
export function applyCompletion(text, trigger, insert, caret) {
  const head = text.slice(0, trigger.start) + insert;
  const rest = text.slice(caret);
  const spaced = rest.startsWith(' ') ? head : `${head} `;
  return { text: spaced + rest, caret: spaced.length + (rest.startsWith(' ') ? 1 : 0) };
}

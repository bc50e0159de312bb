// router.js: the hash routes of docs/ui.md, parsed into plain objects and built back.
//   #/login, #/setup, #/f/<f>, #/f/<f>/c/<c>, #/f/<f>/c/<c>/t/<post>, #/f/<f>/fleet,
//   #/f/<f>/weather,
//   and #/c/<c> (the ~channel links the node renders inside posts: current flotilla).

const ID = /^[A-Za-z0-9_-]{1,128}$/;

/** Parse a location hash into {name, flotilla?, channel?, thread?}; unknown → {name: 'home'}. */
export function parseRoute(hash) {
  const path = String(hash || '').replace(/^#\/?/, '');
  const parts = path.split('/').filter(Boolean).map(safeDecode);
  if (parts.some((p) => p === null)) return { name: 'home' };
  const [a, b, c, d, e, f] = parts;
  if (parts.length === 1 && (a === 'login' || a === 'setup')) return { name: a };
  if (a === 'c' && parts.length === 2 && ID.test(b)) return { name: 'channel-link', channel: b };
  if (a !== 'f' || !ID.test(b || '')) return { name: 'home' };
  if (parts.length === 2) return { name: 'flotilla', flotilla: b };
  if (parts.length === 3 && c === 'fleet') return { name: 'fleet', flotilla: b };
  if (parts.length === 3 && c === 'weather') return { name: 'weather', flotilla: b };
  if (c !== 'c' || !ID.test(d || '')) return { name: 'home' };
  if (parts.length === 4) return { name: 'channel', flotilla: b, channel: d };
  if (parts.length === 6 && e === 't' && ID.test(f)) return { name: 'channel', flotilla: b, channel: d, thread: f };
  if (parts.length === 6 && e === 'p' && ID.test(f)) return { name: 'channel', flotilla: b, channel: d, post: f };
  return { name: 'home' };
}

function safeDecode(part) {
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
}

/** The hash of a channel (and optionally an open thread). */
export function channelHash(flotilla, channel, thread) {
  const base = `#/f/${flotilla}/c/${channel}`;
  return thread ? `${base}/t/${thread}` : base;
}

/** The hash of a channel scrolled to one of its posts (highlighted): search results. */
export function postHash(flotilla, channel, post) {
  return `#/f/${flotilla}/c/${channel}/p/${post}`;
}

/** The hash of a flotilla's fleet panel. */
export function fleetHash(flotilla) {
  return `#/f/${flotilla}/fleet`;
}

/** The hash of a flotilla's weather view. */
export function weatherHash(flotilla) {
  return `#/f/${flotilla}/weather`;
}

/** Go to `hash` (a no-op when already there). */
export function navigate(hash) {
  if (location.hash !== hash) location.hash = hash;
}

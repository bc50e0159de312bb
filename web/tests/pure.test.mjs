// Unit tests of the UI's pure modules (node --test web/tests/): i18n, router, format,
// autocomplete, composer keys, WebSocket backoff. No npm packages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pickLanguage, initialLanguage, lookup, pluralKey } from '../static/js/i18n.js';
import { parseRoute, channelHash, fleetHash, weatherHash } from '../static/js/router.js';
import { relativeTime, formatSize, continuesGroup, startsDay, comparePosts, GROUP_WINDOW_MS } from '../static/js/format.js';
import { findTrigger, matchMembers, matchChannels, matchEmoji, applyCompletion, fold, MAX_SUGGESTIONS } from '../static/js/autocomplete.js';
import { composerAction, editAction } from '../static/js/keys.js';
import { backoffDelay, socketUrl, WS_MAX_DELAY_MS } from '../static/js/ws.js';
import { initialTheme } from '../static/js/theme.js';

const here = dirname(fileURLToPath(import.meta.url));
const staticDir = join(here, '..', 'static');
const readJson = (p) => JSON.parse(readFileSync(join(staticDir, p), 'utf8'));

test('language: first French or English browser language wins, else English', () => {
  assert.equal(pickLanguage(['fr-FR', 'en-US']), 'fr');
  assert.equal(pickLanguage(['de-DE', 'en-GB', 'fr']), 'en');
  assert.equal(pickLanguage(['de', 'fr-CA']), 'fr');
  assert.equal(pickLanguage(['de']), 'en');
  assert.equal(pickLanguage(undefined), 'en');
  assert.equal(initialLanguage('en', ['fr-FR']), 'en');
  assert.equal(initialLanguage('xx', ['fr-FR']), 'fr');
});

test('i18n lookup fills placeholders and falls back to the key', () => {
  const table = { hi: 'Bonjour {name}, {name} !', plain: 'x' };
  assert.equal(lookup(table, 'hi', { name: 'Ana' }), 'Bonjour Ana, Ana !');
  assert.equal(lookup(table, 'hi', {}), 'Bonjour {name}, {name} !');
  assert.equal(lookup(table, 'missing'), 'missing');
  assert.equal(pluralKey('fr', 'k', 0), 'k.one');
  assert.equal(pluralKey('en', 'k', 0), 'k.other');
  assert.equal(pluralKey('en', 'k', 1), 'k.one');
  assert.equal(pluralKey('fr', 'k', 1000000), 'k.other');
});

test('fr.json and en.json have the same keys, none empty', () => {
  const fr = readJson('i18n/fr.json');
  const en = readJson('i18n/en.json');
  assert.deepEqual(Object.keys(fr).sort(), Object.keys(en).sort());
  for (const [k, v] of Object.entries({ ...fr, ...en })) assert.ok(typeof v === 'string' && v.length > 0, k);
});

function sources(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.js') ? [path] : [];
  });
}

test('every string key used in the code exists in the tables', () => {
  const en = readJson('i18n/en.json');
  const missing = [];
  for (const file of sources(join(staticDir, 'js'))) {
    const code = readFileSync(file, 'utf8');
    for (const [, fn, key] of code.matchAll(/\b(tn?)\('([a-zA-Z]+\.[a-zA-Z.]+)'/g)) {
      const keys = fn === 'tn' ? [`${key}.one`, `${key}.other`] : [key];
      for (const k of keys) if (!(k in en)) missing.push(`${file}: ${k}`);
    }
    for (const [, key] of code.matchAll(/(?:title|addLabel|moreLabel): '([a-z]+\.[a-zA-Z]+)'/g)) if (!(key in en)) missing.push(`${file}: ${key}`);
  }
  for (const k of ['lang.fr', 'lang.en', 'theme.light', 'theme.dark', 'theme.night', 'notify.default', 'notify.granted', 'notify.denied', 'notify.unsupported']) if (!(k in en)) missing.push(k);
  assert.deepEqual(missing, []);
});

test('router parses every documented route and rejects junk', () => {
  assert.deepEqual(parseRoute('#/login'), { name: 'login' });
  assert.deepEqual(parseRoute('#/setup'), { name: 'setup' });
  assert.deepEqual(parseRoute('#/f/ab12/c/cd34'), { name: 'channel', flotilla: 'ab12', channel: 'cd34' });
  assert.deepEqual(parseRoute('#/f/ab12/c/cd34/t/ef56'), { name: 'channel', flotilla: 'ab12', channel: 'cd34', thread: 'ef56' });
  assert.deepEqual(parseRoute('#/f/ab12/fleet'), { name: 'fleet', flotilla: 'ab12' });
  assert.deepEqual(parseRoute('#/f/ab12/weather'), { name: 'weather', flotilla: 'ab12' });
  assert.deepEqual(parseRoute('#/f/ab12'), { name: 'flotilla', flotilla: 'ab12' });
  assert.deepEqual(parseRoute('#/c/cd34'), { name: 'channel-link', channel: 'cd34' });
  for (const junk of ['', '#', '#/f', '#/f/a b/c/x', '#/f/ab/c/cd/t', '#/f/ab/c/cd/x/y', '#/%E0%A4%A', '#/f/ab/c/<script>']) assert.equal(parseRoute(junk).name, 'home', junk);
  assert.equal(channelHash('a', 'b'), '#/f/a/c/b');
  assert.equal(channelHash('a', 'b', 'c'), '#/f/a/c/b/t/c');
  assert.deepEqual(parseRoute(channelHash('a', 'b', 'c')), { name: 'channel', flotilla: 'a', channel: 'b', thread: 'c' });
  assert.equal(fleetHash('a'), '#/f/a/fleet');
  assert.equal(weatherHash('a'), '#/f/a/weather');
});

const spaces = (s) => s.replace(/[\u00a0\u202f]/g, ' ');

test('relative times are localized', () => {
  const now = Date.UTC(2026, 10, 21, 12, 0, 0);
  assert.equal(relativeTime(now - 12 * 60 * 1000, now, 'en'), '12 min. ago');
  assert.equal(spaces(relativeTime(now - 12 * 60 * 1000, now, 'fr')), 'il y a 12 min');
  assert.equal(relativeTime(now - 5000, now, 'fr'), 'maintenant');
  assert.equal(relativeTime(now - 26 * 3600 * 1000, now, 'fr'), 'hier');
  assert.match(relativeTime(now - 30 * 86400 * 1000, now, 'fr'), /oct\. 2026/);
  assert.equal(spaces(formatSize(1500000, 'fr')), '1,5 Mo');
  assert.equal(formatSize(999, 'en'), '999 B');
});

test('posts group by author within the window, and sort by time then id', () => {
  const t0 = Date.UTC(2026, 10, 21, 12, 0, 0);
  const a = { id: '1', author_key: 'k1', created_at: t0 };
  const b = { id: '2', author_key: 'k1', created_at: t0 + 60000 };
  const c = { id: '3', author_key: 'k2', created_at: t0 + 61000 };
  const late = { id: '4', author_key: 'k1', created_at: t0 + GROUP_WINDOW_MS + 1 };
  assert.ok(continuesGroup(a, b));
  assert.ok(!continuesGroup(b, c));
  assert.ok(!continuesGroup(a, late));
  assert.ok(!continuesGroup(null, a));
  assert.ok(startsDay(null, a));
  assert.ok(!startsDay(a, b));
  assert.deepEqual([c, b, a, { ...a, id: '0' }].sort(comparePosts).map((p) => p.id), ['0', '1', '2', '3']);
});

test('autocomplete triggers only at word starts, emoji after two characters', () => {
  assert.deepEqual(findTrigger('hello @al', 9), { kind: '@', query: 'al', start: 6 });
  assert.deepEqual(findTrigger('@', 1), { kind: '@', query: '', start: 0 });
  assert.deepEqual(findTrigger('go ~ann', 7), { kind: '~', query: 'ann', start: 3 });
  assert.equal(findTrigger('mail a@b', 8), null);
  assert.equal(findTrigger('ok :s', 5), null);
  assert.deepEqual(findTrigger('ok :sm', 6), { kind: ':', query: 'sm', start: 3 });
  assert.equal(findTrigger('12:30', 5), null);
  assert.equal(fold('Éloïse'), 'eloise');
});

test('autocomplete matches members, channels and emoji, prefix first, bounded', () => {
  const members = [
    { username: 'alice', display_name: 'Alice Martin' },
    { username: 'bob', display_name: 'Éric Bob' },
    { username: 'me', display_name: '' },
  ];
  assert.deepEqual(matchMembers(members, 'al', 'me').map((s) => s.insert), ['@alice', '@all']);
  assert.deepEqual(matchMembers(members, 'eric', 'me').map((s) => s.insert), ['@bob']);
  assert.ok(!matchMembers(members, '', 'me').some((s) => s.insert === '@me'));
  const many = Array.from({ length: 30 }, (_, i) => ({ username: `user${i}` }));
  assert.equal(matchMembers(many, 'u', 'me').length, MAX_SUGGESTIONS);
  const channels = [{ name: 'meteo', kind: 'public' }, { name: 'town-square', kind: 'public' }, { name: '@dm', kind: 'dm' }, { name: 'old', kind: 'public', archived: true }];
  assert.deepEqual(matchChannels(channels, 'squ').map((s) => s.insert), ['~town-square']);
  assert.deepEqual(matchChannels(channels, '').map((s) => s.label), ['meteo', 'town-square']);
  const emoji = [['smile', '😄'], ['sailboat', '⛵'], ['heart_eyes_smile', '😍']];
  assert.deepEqual(matchEmoji(emoji, 'smi').map((s) => s.insert), [':smile:', ':heart_eyes_smile:']);
});

test('applying a completion replaces the trigger and adds one space', () => {
  const text = 'hi @al how';
  const trigger = findTrigger(text, 6);
  assert.deepEqual(applyCompletion(text, trigger, '@alice', 6), { text: 'hi @alice how', caret: 10 });
  const end = findTrigger('yo @al', 6);
  assert.deepEqual(applyCompletion('yo @al', end, '@alice', 6), { text: 'yo @alice ', caret: 10 });
});

const key = (k, mods) => ({ key: k, shiftKey: false, altKey: false, ctrlKey: false, metaKey: false, isComposing: false, ...mods });

test('composer keys: Enter sends, Shift+Enter is a new line, Up on empty edits', () => {
  assert.equal(composerAction(key('Enter'), { empty: false, suggesting: false }), 'send');
  assert.equal(composerAction(key('Enter', { shiftKey: true }), { empty: false, suggesting: false }), null);
  assert.equal(composerAction(key('Enter', { isComposing: true }), { empty: false, suggesting: false }), null);
  assert.equal(composerAction(key('ArrowUp'), { empty: true, suggesting: false }), 'edit-last');
  assert.equal(composerAction(key('ArrowUp'), { empty: false, suggesting: false }), null);
  assert.equal(composerAction(key('ArrowUp'), { empty: true, suggesting: true }), 'suggest-prev');
  assert.equal(composerAction(key('ArrowDown'), { empty: false, suggesting: true }), 'suggest-next');
  assert.equal(composerAction(key('Tab'), { empty: false, suggesting: true }), 'suggest-pick');
  assert.equal(composerAction(key('Enter'), { empty: false, suggesting: true }), 'suggest-pick');
  assert.equal(composerAction(key('Escape'), { empty: false, suggesting: true }), 'suggest-close');
  assert.equal(composerAction(key('Tab'), { empty: false, suggesting: false }), null);
  assert.equal(editAction(key('Enter')), 'save');
  assert.equal(editAction(key('Enter', { shiftKey: true })), null);
  assert.equal(editAction(key('Escape')), 'cancel');
});

test('WebSocket backoff grows, is jittered and capped', () => {
  assert.equal(backoffDelay(0, 0), 250);
  assert.equal(backoffDelay(0, 0.999999), 500);
  assert.ok(backoffDelay(3, 0) < backoffDelay(4, 0));
  assert.ok(backoffDelay(50, 1) <= WS_MAX_DELAY_MS);
  assert.equal(socketUrl({ protocol: 'https:', host: 'boat:8080' }), 'wss://boat:8080/api/v1/ws');
  assert.equal(socketUrl({ protocol: 'http:', host: '10.0.0.1' }), 'ws://10.0.0.1/api/v1/ws');
});

test('theme: stored choice, else the system preference', () => {
  assert.equal(initialTheme('night', false), 'night');
  assert.equal(initialTheme(null, true), 'dark');
  assert.equal(initialTheme('bogus', false), 'light');
});

test('search highlight: folded stems, prefixes and phrases are marked, filters are not', async () => {
  const { queryTerms, highlightPieces } = await import('../static/js/highlight.js');
  const terms = queryTerms('meteo "code du" bat* from:anne -vent');
  assert.deepEqual(terms.map((x) => x.word), ['meteo', 'code', 'du', 'bat']);
  const marked = highlightPieces('La Météo: code du ponton, bateaux, vent', terms)
    .filter((p) => p.mark)
    .map((p) => p.text);
  assert.deepEqual(marked, ['Météo', 'code', 'du', 'bateaux']);
  assert.deepEqual(highlightPieces('rien', terms), [{ text: 'rien', mark: false }]);
});

test('router: a post route opens the channel at that post', async () => {
  const { postHash } = await import('../static/js/router.js');
  assert.equal(postHash('f1', 'c1', 'p1'), '#/f/f1/c/c1/p/p1');
  assert.deepEqual(parseRoute('#/f/f1/c/c1/p/p1'), { name: 'channel', flotilla: 'f1', channel: 'c1', post: 'p1' });
  assert.deepEqual(parseRoute('#/f/f1/c/c1/x/p1'), { name: 'home' });
});

test('lora: a post that crossed the radio is marked with its hops; junk is no mark', async () => {
  const { loraMark, loraOnlyBoats, airtimePercent, seconds, LORA_MARK } = await import('../static/js/lora.js');
  assert.equal(loraMark(null), null);
  assert.equal(loraMark(undefined), null);
  assert.equal(loraMark({ direction: 'sideways', hops: 1 }), null);
  assert.deepEqual(loraMark({ direction: 'in', hops: 2 }), { text: `${LORA_MARK} 2`, key: 'lora.in', count: 2 });
  assert.deepEqual(loraMark({ direction: 'in', hops: -3 }), { text: `${LORA_MARK} 0`, key: 'lora.in', count: 0 });
  assert.deepEqual(loraMark({ direction: 'out', hops: 0 }), { text: LORA_MARK, key: 'lora.out', count: 0 });
  const boats = [{ name: 'me', me: true, lora_only: true }, { name: 'b', lora_only: true }, { name: 'c', lora_only: false }, null];
  assert.deepEqual(loraOnlyBoats(boats).map((b) => b.name), ['b']);
  assert.deepEqual(loraOnlyBoats(undefined), []);
  assert.equal(airtimePercent({ airtime_ms_this_hour: 9000, duty_budget_ms: 36000 }), 25);
  assert.equal(airtimePercent({ airtime_ms_this_hour: 99999, duty_budget_ms: 36000 }), 100);
  assert.equal(airtimePercent({ airtime_ms_this_hour: 5, duty_budget_ms: 0 }), 100);
  assert.equal(airtimePercent({}), 0);
  assert.equal(seconds(12345), '12.3');
  const en = readJson('i18n/en.json');
  const fr = readJson('i18n/fr.json');
  for (const k of ['lora.in.one', 'lora.in.other', 'lora.out', 'lora.only', 'lora.radio', 'lora.radios', 'lora.onlyCount.one', 'lora.onlyCount.other']) {
    assert.ok(k in en && k in fr, k);
  }
});

test('default channels show in the UI language, their URL names unchanged', async () => {
  const { DEFAULT_CHANNELS, channelTitle, channelPurpose } = await import('../static/js/state.js');
  const fr = readJson('i18n/fr.json');
  const en = readJson('i18n/en.json');
  for (const key of Object.values(DEFAULT_CHANNELS)) {
    for (const table of [fr, en]) {
      assert.ok(table[`channel.name.${key}`], key);
      assert.ok(table[`channel.purpose.${key}`], key);
    }
  }
  const inFrench = (k) => lookup(fr, k);
  const inEnglish = (k) => lookup(en, k);
  const town = { name: 'town-square', kind: 'public', purpose: '' };
  assert.equal(channelTitle(town, inFrench), 'Centre-Ville');
  assert.equal(channelTitle({ name: 'off-topic', kind: 'public' }, inFrench), 'Hors-sujet');
  assert.equal(channelTitle(town, inEnglish), 'Town Square');
  assert.equal(channelTitle({ name: 'off-topic', kind: 'public' }, inEnglish), 'Off-Topic');
  assert.equal(channelTitle({ name: 'meteo', kind: 'public' }, inFrench), 'meteo');
  assert.equal(channelTitle({ name: 'cuisine', display_name: 'La Cuisine', kind: 'public' }, inFrench), 'La Cuisine');
  assert.ok(channelPurpose(town, inFrench).includes('flottille'));
  assert.equal(channelPurpose({ ...town, purpose: 'Rendez-vous à 18 h' }, inFrench), 'Rendez-vous à 18 h');
  assert.equal(channelPurpose({ name: 'meteo', kind: 'public' }, inFrench), '');
});

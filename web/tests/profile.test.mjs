// Unit tests of profile.js (names per the "Teammate name display" setting, display settings)
// and of the Ctrl+Enter send setting in keys.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDisplay, shownName, memberFor, uses24h, initialOf, pictureUrl, DISPLAY_DEFAULTS } from '../static/js/profile.js';
import { composerAction } from '../static/js/keys.js';
import { clockTime } from '../static/js/format.js';

const marie = { username: 'marie', display: 'marie', key: 'k1', display_name: 'Mimi', full_name: 'Marie Curie' };
const bob = { username: 'bob', display: 'bob@Aurore', key: 'k2', display_name: null, full_name: null };

test('names follow the display setting, with fallbacks', () => {
  assert.equal(shownName(marie, 'username'), 'marie');
  assert.equal(shownName(marie, 'full_name'), 'Marie Curie');
  assert.equal(shownName(marie, 'nickname'), 'Mimi');
  assert.equal(shownName({ ...marie, display_name: null }, 'nickname'), 'Marie Curie');
  assert.equal(shownName(bob, 'full_name'), 'bob@Aurore');
  assert.equal(shownName(bob, 'nickname'), 'bob@Aurore');
  assert.equal(shownName(null, 'full_name', 'ghost'), 'ghost');
});

test('members are found by key first, then by username', () => {
  const members = [marie, bob, { ...marie, key: 'k3' }];
  assert.equal(memberFor(members, 'k3', 'marie').key, 'k3');
  assert.equal(memberFor(members, 'unknown', 'bob').key, 'k2');
  assert.equal(memberFor(members, null, 'nobody'), null);
});

test('display settings parse with defaults and ignore bad values', () => {
  assert.deepEqual(parseDisplay(null), { ...DISPLAY_DEFAULTS });
  assert.deepEqual(parseDisplay('not json'), { ...DISPLAY_DEFAULTS });
  assert.deepEqual(parseDisplay('{"nameDisplay":"full_name","sendOn":"ctrl-enter","clock24":false,"compact":true}'), {
    nameDisplay: 'full_name',
    sendOn: 'ctrl-enter',
    clock24: false,
    compact: true,
  });
  assert.deepEqual(parseDisplay('{"nameDisplay":"x","sendOn":1,"clock24":"yes","compact":"1"}'), { ...DISPLAY_DEFAULTS });
});

test('the 24-hour clock: the setting, else French yes and English no', () => {
  assert.equal(uses24h({ clock24: null }, 'fr'), true);
  assert.equal(uses24h({ clock24: null }, 'en'), false);
  assert.equal(uses24h({ clock24: true }, 'en'), true);
  assert.equal(uses24h({ clock24: false }, 'fr'), false);
  const evening = new Date(2026, 5, 1, 22, 5).getTime();
  assert.match(clockTime(evening, 'en', true), /^22:05/);
  assert.match(clockTime(evening, 'fr', false), /10:05/);
});

test('with Ctrl+Enter to send, Enter is a new line', () => {
  const key = (mods) => ({ key: 'Enter', shiftKey: false, altKey: false, ctrlKey: false, metaKey: false, isComposing: false, ...mods });
  const ctx = { empty: false, suggesting: false, ctrlEnter: true };
  assert.equal(composerAction(key({}), ctx), null);
  assert.equal(composerAction(key({ ctrlKey: true }), ctx), 'send');
  assert.equal(composerAction(key({ metaKey: true }), ctx), 'send');
  assert.equal(composerAction(key({}), { ...ctx, suggesting: true }), 'suggest-pick');
});

test('avatar helpers', () => {
  assert.equal(initialOf('élodie'), 'É');
  assert.equal(initialOf(''), '?');
  assert.equal(pictureUrl('f1', 'ab'), '/api/v1/flotillas/f1/files/ab');
});

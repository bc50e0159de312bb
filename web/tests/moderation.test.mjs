// Unit tests of the moderation UI's pure helpers (node --test web/tests/): what the channel
// settings form sends, which channels the browser lists, which account actions are offered,
// where a thread may move.

import { test } from 'node:test';
import assert from 'node:assert/strict';

const { settingsPatch, browsable, moveTargets } = await import('../static/js/views/channels.js');
const { accountActions } = await import('../static/js/views/accounts.js');
const { store } = await import('../static/js/state.js');

const galley = { id: 'c1', name: 'galley', display_name: '', kind: 'public', header: 'h', purpose: 'p', archived: false, member: true };

test('the settings form sends only what changed', () => {
  const same = { display_name: '', name: 'galley', header: 'h', purpose: 'p', private: false };
  assert.deepEqual(settingsPatch(galley, same), {});
  assert.deepEqual(settingsPatch(galley, { ...same, name: ' Cuisine ', display_name: 'La Cuisine', private: true }), { name: 'cuisine', display_name: 'La Cuisine', private: true });
  // A member without admin fields sends header and purpose only.
  assert.deepEqual(settingsPatch(galley, { header: 'new', purpose: 'p' }), { header: 'new' });
});

test('the channel browser lists public channels, or archived ones', () => {
  const archived = { ...galley, archived: true, member: false };
  const dm = { ...galley, kind: 'dm', archived: true };
  const secret = { ...galley, kind: 'private', archived: true };
  assert.equal(browsable(galley, false), true);
  assert.equal(browsable(archived, false), false);
  assert.equal(browsable(archived, true), true);
  assert.equal(browsable(secret, true), true);
  assert.equal(browsable(dm, true), false);
  assert.equal(browsable(galley, true), false);
});

test('a thread moves to another joined, unarchived, non-DM channel', () => {
  store.channels = new Map(
    [galley, { ...galley, id: 'c2', name: 'deck' }, { ...galley, id: 'c3', name: 'old', archived: true }, { ...galley, id: 'c4', name: 'x', kind: 'dm' }, { ...galley, id: 'c5', name: 'far', member: false }].map((c) => [c.id, c]),
  );
  assert.deepEqual(moveTargets('c1').map((c) => c.id), ['c2']);
});

test('account actions: none on oneself; activate or deactivate, unlock, delete', () => {
  assert.deepEqual(accountActions({ username: 'anne' }, 'anne'), []);
  assert.deepEqual(accountActions({ username: 'bob', deactivated: false }, 'anne').map(([a]) => a), ['deactivate', 'unlock', 'delete']);
  assert.deepEqual(accountActions({ username: 'bob', deactivated: true }, 'anne').map(([a]) => a), ['activate', 'unlock', 'delete']);
});

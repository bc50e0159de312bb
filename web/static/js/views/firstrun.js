// views/firstrun.js: the centre pane while the node is in no flotilla (first run, as
// Mattermost's "create a team / join a team"): a node admin creates a flotilla or joins one
// with an invite code right there (#first-run, #first-create, #first-join); anyone else reads
// who can. Either way the new flotilla opens on its Town Square.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { store } from '../state.js';
import { createFlotillaForm, joinFlotillaForm } from './settings.js';

/** Fill `main` with the first-run page. */
export function renderFirstRun(main) {
  const admin = Boolean(store.me && store.me.admin);
  const card = (id, title, hint, form) => h('section', { class: 'first-run-card', id }, h('h2', {}, title), h('p', { class: 'hint' }, hint), form);
  main.replaceChildren(
    h(
      'div',
      { class: 'first-run', id: 'first-run' },
      h('h1', {}, t('firstRun.title')),
      h('p', {}, admin ? t('firstRun.intro') : t('firstRun.notAdmin')),
      admin
        ? h(
            'div',
            { class: 'first-run-cards' },
            card('first-create', t('admin.createFlotilla'), t('firstRun.createHint'), createFlotillaForm('first-flotilla-')),
            card('first-join', t('firstRun.join'), t('firstRun.joinHint'), joinFlotillaForm('first-join-')),
          )
        : null,
    ),
  );
  const first = main.querySelector('input');
  if (first) first.focus();
}

// views/files.js: an attachment as a post shows it, with its state on this boat (on this
// boat, fetching N % from K boats, waiting for a boat that has it, on demand + "download"),
// a GRIB file's one-line preview; the WebSocket's `file` messages redraw it in place.

import { h } from '../dom.js';
import { t, language } from '../i18n.js';
import { api, fpath, fileUrl } from '../api.js';
import { store } from '../state.js';
import { formatSize, shortDate } from '../format.js';

/** The state line of a file (`data-state` carries the API word for tests and CSS). */
export function stateText(file) {
  switch (file.state) {
    case 'available':
      return t('file.available');
    case 'fetching':
      return t('file.fetching', { percent: Math.round((file.progress || 0) * 100), sources: file.sources || 0 });
    case 'on_demand':
      return t('file.onDemand');
    default:
      return t('file.waiting');
  }
}

/** "GRIB2 ecmf · 7 déc. 2026 · +0…+72 h · wind, pressure". */
export function gribLine(grib) {
  const hours = grib.forecast_hours || [];
  const span = hours.length ? `+${hours[0]}…+${hours[hours.length - 1]} h` : '';
  // area and grid step as grib_ls gives them: none for spherical harmonics or projections
  const a = grib.area;
  const area = a ? `${a.north}°N…${a.south}°N ${a.west}°E…${a.east}°E` : '';
  const step = typeof grib.resolution === 'number' ? `${grib.resolution}°` : '';
  return [`GRIB${grib.edition} ${grib.centre}`, shortDate(grib.reference_time, language()), span, area, step, (grib.parameters || []).join(', ')].filter(Boolean).join(' · ');
}

function download(file, button) {
  button.disabled = true;
  api.post(fpath(store.flotillaId, 'files', file.id, 'fetch')).then(redrawFile, () => {
    button.disabled = false;
  });
}

/** One attachment. */
export function fileChip(file) {
  const url = fileUrl(store.flotillaId, file.id);
  const available = file.available !== false;
  const size = formatSize(file.size, language());
  const state = h('span', { class: 'file-state', dataset: { state: file.state || 'available' } }, stateText(file));
  const extra = [];
  if (file.grib) extra.push(h('span', { class: 'file-grib hint' }, gribLine(file.grib)));
  if (file.grib_error) extra.push(h('span', { class: 'file-grib hint' }, t('file.notGrib')));
  if (!available && file.state === 'on_demand') {
    const button = h('button', { type: 'button', class: 'file-download' }, t('file.download'));
    button.onclick = () => download(file, button);
    extra.push(button);
  }
  if (available && String(file.mime).startsWith('image/')) {
    return h('span', { class: 'file-box', dataset: { fileId: file.id } }, h('a', { class: 'file image', href: url, target: '_blank', rel: 'noopener', title: `${file.name} (${size})` }, h('img', { src: url, alt: file.name, loading: 'lazy' })));
  }
  const name = available
    ? h('a', { class: 'file', href: url, download: file.name }, '📎 ', h('span', { class: 'file-name' }, file.name))
    : h('span', { class: 'file' }, '📎 ', h('span', { class: 'file-name' }, file.name));
  return h('span', { class: 'file-box', dataset: { fileId: file.id } }, name, h('span', { class: 'file-size' }, ` ${size} `), state, ...extra);
}

/** Redraw every chip of `file` on the page (a WebSocket `file` message or a fetch answer). */
export function redrawFile(file) {
  if (!file || !file.id) return;
  for (const el of document.querySelectorAll(`[data-file-id="${CSS.escape(file.id)}"]`)) {
    el.replaceWith(fileChip(file));
  }
  for (const post of store.posts.values()) {
    const i = (post.files || []).findIndex((f) => f.id === file.id);
    if (i >= 0) post.files[i] = file;
  }
}

// views/weather.js: the weather view (#weather-panel): forecasts grouped by area, newest run
// first with its age ("il y a 3 h"), older runs of an area marked superseded; the newest
// forecast's 10 m wind drawn as arrows over its area from the node's down-sampled grid,
// with a slider over its forecast hours.

import { h, icon, ICONS } from '../dom.js';
import { t, language } from '../i18n.js';
import { api, fpath } from '../api.js';
import { store, on, currentFlotilla } from '../state.js';
import { relativeTime, fullDateTime } from '../format.js';
import { fileChip, gribLine } from './files.js';

const KNOT = 1.943844;

function areaText(a) {
  if (!a) return ''; // spherical harmonics, projections: no lat/lon extent
  return t('weather.area', { north: a.north, south: a.south, west: a.west, east: a.east });
}

function forecastCard(fc) {
  const grib = fc.file.grib || {};
  return h(
    'li',
    { class: `forecast ${fc.superseded ? 'superseded' : 'newest'}`, dataset: { fileId: fc.file.id, area: fc.area } },
    h('strong', { class: 'forecast-name' }, fc.file.name),
    h('span', { class: 'forecast-run', title: fullDateTime(fc.reference_time, language()) }, t('weather.run', { when: relativeTime(fc.reference_time, Date.now(), language()) })),
    h('span', { class: 'forecast-meta hint' }, gribLine(grib)),
    h('span', { class: 'forecast-badge' }, fc.superseded ? t('weather.superseded') : t('weather.newest')),
    fileChip(fc.file),
  );
}

/** Draw `wind` ({lats, lons, u, v}) as arrows on `canvas`; colour and length by speed. */
export function drawWind(canvas, wind) {
  const ctx = canvas.getContext('2d');
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  const rows = wind.lats.length;
  const cols = wind.lons.length;
  if (!rows || !cols) return;
  const cell = Math.min(width / cols, height / rows);
  for (let r = 0; r < rows; r += 1) {
    for (let c = 0; c < cols; c += 1) {
      const u = wind.u[r * cols + c];
      const v = wind.v[r * cols + c];
      const knots = Math.hypot(u, v) * KNOT;
      const x = (c + 0.5) * cell;
      const y = (r + 0.5) * cell;
      const len = Math.min(cell * 0.45, 4 + knots * 0.6);
      const angle = Math.atan2(-v, u);
      ctx.strokeStyle = knots < 10 ? '#2a9d8f' : knots < 20 ? '#e9c46a' : knots < 30 ? '#f4a261' : '#e63946';
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.moveTo(x - Math.cos(angle) * len, y - Math.sin(angle) * len);
      ctx.lineTo(x + Math.cos(angle) * len, y + Math.sin(angle) * len);
      ctx.lineTo(x + Math.cos(angle + 2.6) * 4 + Math.cos(angle) * len, y + Math.sin(angle + 2.6) * 4 + Math.sin(angle) * len);
      ctx.stroke();
    }
  }
}

function windPicture(fc) {
  const canvas = h('canvas', { id: 'wind-canvas', width: 480, height: 480, 'aria-label': fc.file.name });
  const label = h('span', { class: 'hint' });
  const slider = h('input', { type: 'range', id: 'wind-step', min: 0, max: 0, value: 0 });
  const box = h('div', { class: 'wind-picture' }, h('p', { class: 'hint' }, areaText(fc.file.grib.area)), canvas, h('label', {}, label, slider));
  let steps = [];
  const load = (step) =>
    api.get(`${fpath(store.flotillaId, 'files', fc.file.id, 'wind')}${step === undefined ? '' : `?step=${step}`}`).then(
      (wind) => {
        steps = wind.steps;
        slider.max = String(Math.max(0, steps.length - 1));
        slider.value = String(steps.indexOf(wind.step));
        label.textContent = `${t('weather.step', { hours: wind.step })} `;
        drawWind(canvas, wind);
        canvas.dataset.drawn = String(wind.step);
      },
      () => box.replaceChildren(h('p', { class: 'hint' }, t('weather.noWind'))),
    );
  slider.oninput = () => load(steps[Number(slider.value)]);
  load();
  return box;
}

/** Render the weather view into `main`. Returns {dispose()}. */
export function renderWeather(main, onBack) {
  const list = h('ul', { class: 'forecast-list' });
  const picture = h('div', {});
  const flotilla = currentFlotilla();
  const panel = h(
    'section',
    { id: 'weather-panel', 'aria-label': t('weather.title') },
    h('header', { class: 'pane-head' }, h('button', { type: 'button', class: 'icon-button back', 'aria-label': t('action.back'), onclick: onBack }, icon(ICONS.back)), h('div', { class: 'channel-titles' }, h('h1', {}, '🌬 ', t('weather.title')), h('p', { class: 'channel-header' }, flotilla ? flotilla.name : ''))),
    h('div', { class: 'fleet-scroll' }, picture, list),
  );
  let shownWind = null;
  const fill = () =>
    api.get(fpath(store.flotillaId, 'weather')).then((forecasts) => {
      if (!forecasts.length) {
        list.replaceChildren(h('p', { class: 'hint' }, t('weather.empty')));
        return;
      }
      list.replaceChildren(...forecasts.map(forecastCard));
      const newest = forecasts.find((f) => !f.superseded && f.file.grib && (f.file.grib.parameters || []).includes('wind'));
      if (newest && newest.file.id !== shownWind) {
        shownWind = newest.file.id;
        picture.replaceChildren(windPicture(newest));
      }
    }, () => {});
  fill();
  main.replaceChildren(panel);
  const offs = [on('file', fill)];
  return {
    dispose() {
      offs.forEach((off) => off());
    },
  };
}

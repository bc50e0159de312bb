// dom.js: a tiny element builder and DOM helpers. User data always goes in as text;
// only the server-sanitized post `html` is ever inserted as HTML (see views/post.js).

/** Build an element: h('button', {class: 'x', onclick: fn, dataset: {id: 1}}, 'text', child). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') el.className = value;
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'value') el.value = value;
    else if (name === 'checked' || name === 'selected' || name === 'disabled' || name === 'hidden') el[name] = Boolean(value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Remove every child of `el`, then append `children`. */
export function replaceChildren(el, ...children) {
  el.textContent = '';
  append(el, children);
  return el;
}

/** An inline SVG icon from a path `d` (24x24 view box, stroked with currentColor). */
export function icon(d, label) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', d);
  svg.append(path);
  if (!label) return svg;
  const wrap = document.createElement('span');
  wrap.append(svg, h('span', { class: 'sr-only' }, label));
  return wrap;
}

/** Icon paths (24x24). */
export const ICONS = {
  reply: 'M10 9V5l-7 7 7 7v-4.1c5 0 8.5 1.6 11 5.1-1-5-4-10-11-11z',
  smile: 'M12 3a9 9 0 100 18 9 9 0 000-18zM8.5 10h.01M15.5 10h.01M8 14.5c1 1.5 2.4 2.2 4 2.2s3-.7 4-2.2',
  edit: 'M4 20h4L19 9l-4-4L4 16v4zM14 6l4 4',
  trash: 'M5 7h14M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3',
  pin: 'M9 3h6l-1 6 4 4H6l4-4-1-6zM12 13v8',
  link: 'M10 14a4 4 0 005.7 0l3-3a4 4 0 00-5.7-5.7l-1 1M14 10a4 4 0 00-5.7 0l-3 3a4 4 0 005.7 5.7l1-1',
  plus: 'M12 5v14M5 12h14',
  back: 'M15 5l-7 7 7 7',
  bookmark: 'M6 3h12v18l-6-4-6 4z',
  close: 'M6 6l12 12M18 6L6 18',
  gear: 'M12 9a3 3 0 100 6 3 3 0 000-6zM19 12l2-1-1-3-2 .2-1.3-1.3.2-2-3-1-1 2h-1.8l-1-2-3 1 .2 2L6 7.2 4 7l-1 3 2 1v1.8l-2 1 1 3 2-.2 1.3 1.3-.2 2 3 1 1-2h1.8l1 2 3-1-.2-2 1.3-1.3 2 .2 1-3-2-1z',
  attach: 'M20 11l-8 8a5 5 0 01-7-7l8-8a3.5 3.5 0 015 5l-8 8a2 2 0 01-3-3l7-7',
  send: 'M3 20l18-8L3 4l2 8-2 8zM5 12h8',
  search: 'M11 4a7 7 0 100 14 7 7 0 000-14zM16 16l5 5',
  menu: 'M12 5h.01M12 12h.01M12 19h.01',
  anchor: 'M12 8a2 2 0 100-4 2 2 0 000 4zM12 8v13M5 13a7 7 0 0014 0M8 11h8',
  lock: 'M6 11h12v9H6zM8 11V8a4 4 0 018 0v3',
  logout: 'M15 4h4v16h-4M10 8l-4 4 4 4M6 12h10',
};

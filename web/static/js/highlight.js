// highlight.js: which words of a search result to mark (pure). The node's analysis (accent
// folding, French/English stems, typos) is approximated here: a text word is marked when its
// folded form shares a stem-length prefix with a folded query word, or starts with a prefix*.

import { fold } from './autocomplete.js';

/** Query words shorter than this are matched whole; longer ones by their first letters. */
export const STEM_CHARS = 4;

const FILTER = /^-|^(from|in|channel|on|before|after):/i;

/** The folded terms of a query worth highlighting: words, phrase words, prefixes, #tags, @names. */
export function queryTerms(query) {
  const terms = [];
  const pieces = String(query || '').match(/-?"[^"]*"?|\S+/g) || [];
  for (const piece of pieces) {
    if (FILTER.test(piece)) continue;
    for (const raw of piece.replace(/"/g, ' ').split(/[^\p{L}\p{N}*]+/u)) {
      if (!raw) continue;
      const prefix = raw.endsWith('*');
      const word = fold(raw.replace(/\*+$/, ''));
      if (word) terms.push({ word, prefix });
    }
  }
  return terms;
}

function matches(token, term) {
  const t = fold(token);
  if (term.prefix) return t.startsWith(term.word);
  if (term.word.length <= STEM_CHARS) return t === term.word;
  const stem = term.word.slice(0, Math.max(STEM_CHARS, term.word.length - 2));
  return t.startsWith(stem);
}

/** Split `text` into [{text, mark}] pieces, marking the words the terms match. */
export function highlightPieces(text, terms) {
  const out = [];
  const source = String(text || '');
  const re = /[\p{L}\p{N}]+/gu;
  let last = 0;
  for (const m of source.matchAll(re)) {
    if (!terms.some((term) => matches(m[0], term))) continue;
    if (m.index > last) out.push({ text: source.slice(last, m.index), mark: false });
    out.push({ text: m[0], mark: true });
    last = m.index + m[0].length;
  }
  if (last < source.length) out.push({ text: source.slice(last), mark: false });
  return out;
}

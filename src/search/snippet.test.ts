import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MARK_END, MARK_START } from '../store/search.ts';
import { stems } from './stemmer.ts';
import { bestWindow, highlightOf, snippetsOf, tokenOffsets, TOKEN_RE, type Highlight } from './snippet.ts';

/** Letters, digits, marks, punctuation, CJK, an astral letter and emoji: the tokeniser's edge cases. */
const pieces = ['a', 'Z', '9', 'é', 'e\u0301', '\u0301', 'ß', 'İ', 'Σ', '中', '𝑥', '😀', '-', ' ', '\n', '$', '\\', '_', "'", '\uE000', 'int8', 'LLaMA-2'];
const text = fc.oneof(fc.array(fc.constantFrom(...pieces), { maxLength: 60 }).map((a) => a.join('')), fc.string({ unit: 'binary', maxLength: 60 }));

test('tokenOffsets finds exactly the tokens TOKEN_RE finds', () => {
  fc.assert(
    fc.property(text, (s) => {
      const at: number[] = [];
      const end: number[] = [];
      tokenOffsets(s, at, end);
      const want = [...s.matchAll(TOKEN_RE)].map((m) => [m.index, m.index + m[0].length]);
      assert.deepEqual(
        at.map((a, i) => [a, end[i]]),
        want,
      );
    }),
    { numRuns: 2000 },
  );
});

/** The plain version: every token lower-cased and stemmed, marked when its stem is a term or it starts with a prefix. */
function reference(t: string, h: Highlight, size = 40): string | undefined {
  const tokens = [...t.matchAll(TOKEN_RE)];
  const stemmed = stems(tokens.map((m) => m[0].toLowerCase()));
  const key = tokens.map((m, i) => {
    const w = m[0].toLowerCase();
    const s = stemmed[i] ?? '';
    if (h.terms.has(s)) return s;
    const p = h.prefixes.find((x) => s.startsWith(x) || w.startsWith(x));
    return p === undefined ? null : `${p}*`;
  });
  if (!key.some((k) => k !== null)) return undefined;
  const [start, stop] = bestWindow(key, size);
  let out = start > 0 ? '…' : '';
  let pos = tokens[start]!.index;
  for (let i = start; i < stop; i++) {
    const m = tokens[i]!;
    out += t.slice(pos, m.index) + (key[i] === null ? m[0] : `${MARK_START}${m[0]}${MARK_END}`);
    pos = m.index + m[0].length;
  }
  return stop < key.length ? `${out}…` : out + t.slice(pos).replace(/\s+$/, '');
}

test('snippetsOf marks the same words, in the same window, as the plain version', () => {
  const vocabulary = ['model', 'models', 'modelling', 'network', 'networks', 'Networked', 'learn', 'learning', 'LEARNED', 'int8', 'quant', 'quantised', 'é', 'résumé', 'the', 'of', 'graph', 'graphs'];
  const words = fc.array(fc.constantFrom(...vocabulary, ...pieces), { maxLength: 120 }).map((a) => a.join(' '));
  fc.assert(
    fc.property(fc.array(fc.oneof(words, text), { minLength: 1, maxLength: 5 }), fc.subarray(['model', 'networks', 'learning', 'int8', 'résumé']), fc.subarray(['quant', 'gra']), fc.integer({ min: 3, max: 40 }), (texts, terms, prefixes, size) => {
      const h = highlightOf(terms, prefixes);
      assert.deepEqual(
        snippetsOf(texts, h, size),
        texts.map((t) => reference(t, h, size)),
      );
    }),
    { numRuns: 500 },
  );
});

test('a snippet marks stemmed matches and cuts long text around them', () => {
  const long = `${'filler words here '.repeat(30)}We train Networks on graphs. ${'more filler text '.repeat(30)}`;
  const [s] = snippetsOf([long], highlightOf(['network', 'graph'], []), 12);
  assert.ok(s !== undefined && s.startsWith('…') && s.endsWith('…'), s);
  assert.ok(s.includes(`${MARK_START}Networks${MARK_END}`) && s.includes(`${MARK_START}graphs${MARK_END}`), s);
});

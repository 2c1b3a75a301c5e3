import { describe, expect, it } from 'vitest';
import { applyScroll, findScroll, isBlankRow, paintCost, rowHash, sameCells } from '../../client/scroll-detect.js';
import { Row } from '../../protocol/framebuffer.js';
import { textRow } from '../support/screen-builder.js';

const COLS = 30;
const blank = Row.blank(COLS);
const rows = (texts: readonly string[]): Row[] => texts.map((t) => (t === '' ? blank : textRow(COLS, t)));
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa', 'lambda', 'mu'];
/** Lines n (from..to-1) of a text whose lines differ in most of their cells, as real text does. */
const numbered = (from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => {
    const n = from + i;
    return `${WORDS[n % WORDS.length]} ${WORDS[(n * 5 + 3) % WORDS.length]} ${n}`;
  });

describe('findScroll', () => {
  it('finds a whole-screen scroll up, matching rows by content', () => {
    const shown = rows(numbered(0, 10));
    const target = rows(numbered(2, 12));
    expect(findScroll(shown, target, blank)).toEqual({ top: 0, bottom: 9, shift: 2 });
  });

  it('finds a scroll inside a region, leaving a status line alone', () => {
    const shown = rows([...numbered(0, 9), 'status']);
    const target = rows([...numbered(1, 10), 'status']);
    expect(findScroll(shown, target, blank)).toEqual({ top: 0, bottom: 8, shift: 1 });
  });

  it('finds a scroll down', () => {
    const shown = rows(numbered(5, 15));
    const target = rows(numbered(3, 13));
    expect(findScroll(shown, target, blank)).toEqual({ top: 0, bottom: 9, shift: -2 });
  });

  it('finds nothing when only one row changed, or nothing moved', () => {
    const shown = rows(numbered(0, 10));
    const one = shown.slice();
    one[4] = textRow(COLS, 'changed');
    expect(findScroll(shown, one, blank)).toBeNull();
    const two = one.slice();
    two[7] = textRow(COLS, 'also changed');
    expect(findScroll(shown, two, blank)).toBeNull();
  });

  it('does not scroll blank rows around (they vote for nothing)', () => {
    const shown = rows(['a', '', '', '', '', 'b']);
    const target = rows(['c', '', '', '', '', 'd']);
    expect(findScroll(shown, target, blank)).toBeNull();
  });

  it('declines a scroll that costs more than repainting', () => {
    // One short line moved a long way: rewriting it is cheaper than nine line feeds.
    const shown = rows(['p', '', '', '', '', '', '', '', '', 'ab']);
    const target = rows(['ab', '', '', '', '', '', '', '', '', 'q']);
    expect(findScroll(shown, target, blank)).toBeNull();
    // The same move of a long line pays for itself.
    const long = 'a long line of text, twenty-odd';
    expect(findScroll(rows(['p', '', '', '', '', '', '', '', '', long]), rows([long, '', '', '', '', '', '', '', '', 'q']), blank)).toEqual({ top: 0, bottom: 9, shift: 9 });
  });
});

describe('applyScroll', () => {
  it('moves rows as the terminal does and brings in blanks', () => {
    const r = rows(['a', 'b', 'c', 'd', 'e']);
    const up = r.slice();
    applyScroll(up, { top: 1, bottom: 3, shift: 1 }, blank);
    expect(up.map((x) => x.toString().trim())).toEqual(['a', 'c', 'd', '', 'e']);
    const down = r.slice();
    applyScroll(down, { top: 0, bottom: 4, shift: -2 }, blank);
    expect(down.map((x) => x.toString().trim())).toEqual(['', '', 'a', 'b', 'c']);
  });
});

describe('row helpers', () => {
  it('hashes and compares by content, not identity or wrap flag', () => {
    const a = textRow(COLS, 'same');
    const b = textRow(COLS, 'same');
    b.wrapped = true;
    expect(rowHash(a)).toBe(rowHash(b));
    expect(sameCells(a, b)).toBe(true);
    expect(sameCells(a, textRow(COLS, 'Same'))).toBe(false);
    expect(isBlankRow(Row.blank(COLS))).toBe(true);
    expect(isBlankRow(Row.blank(COLS, 0x1000004))).toBe(false);
    expect(isBlankRow(a)).toBe(false);
  });

  it('estimates paint cost from changed cells and runs', () => {
    const a = textRow(COLS, 'abcdef');
    expect(paintCost(a, a)).toBe(0);
    expect(paintCost(a, textRow(COLS, 'abXdef'))).toBe(4);
    expect(paintCost(a, textRow(COLS, 'XbcdeY'))).toBe(8);
  });
});

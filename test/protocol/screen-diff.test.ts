import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ByteWriter } from '../../protocol/byte-writer.js';
import {
  ALL_ATTRS,
  BLANK,
  ColorKind,
  DEFAULT_CURSOR,
  LIMITS,
  Row,
  blankFramebuffer,
  color,
  framebuffersEqual,
  type Framebuffer,
} from '../../protocol/framebuffer.js';
import { applyFramebufferDiff, CellOp, diffFramebuffers, FrameOp, ScreenDiffError } from '../../protocol/screen-diff.js';
import {
  applyEdit,
  narrowTextArb,
  wideTextArb,
  editedPairArb,
  framebufferArb,
  renditionArb,
  snapshotFramebuffer,
  type FramebufferEdit,
} from '../support/framebuffer-arbitrary.js';

const SEED = 20_240_603;
const RUNS = 300;

/** Everything a decoded framebuffer must satisfy whatever the diff was. */
function expectValid(fb: Framebuffer): void {
  expect(fb.cols).toBeGreaterThanOrEqual(1);
  expect(fb.cols).toBeLessThanOrEqual(LIMITS.maxCols);
  expect(fb.rows).toBeGreaterThanOrEqual(1);
  expect(fb.rows).toBeLessThanOrEqual(LIMITS.maxRows);
  expect(fb.lines.length).toBe(fb.rows);
  for (const row of fb.lines) {
    expect(row.cols).toBe(fb.cols);
    for (let x = 0; x < row.cols; x++) {
      expect(row.width[x]).toBeLessThanOrEqual(2);
      expect(row.attrs[x]! & ~ALL_ATTRS).toBe(0);
      expect(row.text[x]!.length).toBeLessThanOrEqual(LIMITS.maxCellText);
    }
  }
  expect(fb.cursor.x).toBeLessThan(fb.cols);
  expect(fb.cursor.y).toBeLessThan(fb.rows);
  expect(fb.title.length).toBeLessThanOrEqual(LIMITS.maxTitle);
}

/** Applies `diff` to `base`: a ScreenDiffError, or a valid framebuffer. Never another error. */
function decodesSafely(base: Framebuffer, diff: Uint8Array): Framebuffer | ScreenDiffError {
  try {
    const fb = applyFramebufferDiff(base, diff);
    expectValid(fb);
    return fb;
  } catch (err) {
    expect(err).toBeInstanceOf(ScreenDiffError);
    return err as ScreenDiffError;
  }
}

function textRow(cols: number, text: string, wrapped = false): Row {
  const row = Row.blank(cols);
  for (let x = 0; x < Math.min(cols, text.length); x++) row.set(x, text[x]!, 1, 0, 0, 0);
  row.wrapped = wrapped;
  return row;
}

/** An 80x24 screen full of distinct lines of shell output. */
function busyScreen(cols = 80, rows = 24): Framebuffer {
  const lines: Row[] = [];
  for (let y = 0; y < rows; y++) lines.push(textRow(cols, `drwxr-xr-x  2 user staff  4096 Jun  3 12:${String(y).padStart(2, '0')} directory-number-${y}`));
  return { ...blankFramebuffer(cols, rows), lines };
}

function scrollUp(fb: Framebuffer, k: number, keepIdentity: boolean, fill: (i: number) => Row): Framebuffer {
  const lines: Row[] = [];
  for (let y = 0; y < fb.rows; y++) lines.push(y + k < fb.rows ? (keepIdentity ? fb.lines[y + k]! : fb.lines[y + k]!.clone()) : fill(y));
  return { ...fb, lines };
}

describe('diffFramebuffers / applyFramebufferDiff round trip', () => {
  it('turns a into b for a screen and its edits (sizes, cells, metadata)', () => {
    fc.assert(
      fc.property(editedPairArb(), ([a, b]) => {
        const before = snapshotFramebuffer(a);
        const diff = diffFramebuffers(a, b);
        const c = applyFramebufferDiff(a, diff);
        expect(framebuffersEqual(c, b)).toBe(true);
        expect(snapshotFramebuffer(a)).toEqual(before);
        expect(diff.length === 0).toBe(framebuffersEqual(a, b));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('turns any framebuffer into any other, of any size', () => {
    fc.assert(
      fc.property(framebufferArb(), framebufferArb(), (a, b) => {
        const c = applyFramebufferDiff(a, diffFramebuffers(a, b));
        expect(framebuffersEqual(c, b)).toBe(true);
      }),
      { seed: SEED + 1, numRuns: RUNS },
    );
  });

  it('keeps the Row objects of the base for rows that did not change or only moved', () => {
    fc.assert(
      fc.property(editedPairArb(), ([a, b]) => {
        const c = applyFramebufferDiff(a, diffFramebuffers(a, b));
        if (c.cols !== a.cols) return;
        for (let y = 0; y < b.rows; y++) {
          const want = b.lines[y]!;
          if (a.lines.includes(want)) expect(c.lines[y]).toBe(want);
          if (y < a.rows && want.equals(a.lines[y]!)) expect(a.lines).toContain(c.lines[y]);
        }
      }),
      { seed: SEED + 2, numRuns: RUNS },
    );
  });

  it('keeps the base rows that were already blank when the screen is cleared', () => {
    const a: Framebuffer = { ...blankFramebuffer(20, 4), lines: [textRow(20, 'one'), Row.blank(20), textRow(20, 'three'), Row.blank(20)] };
    const b = blankFramebuffer(20, 4);
    const c = applyFramebufferDiff(a, diffFramebuffers(a, b));
    expect(framebuffersEqual(c, b)).toBe(true);
    expect(c.lines[1]).toBe(a.lines[1]);
    expect(c.lines[3]).toBe(a.lines[3]);
  });

  it('round-trips every cell form: wide pairs, clusters, odd widths, lone surrogates, all colour kinds and attributes', () => {
    const a = blankFramebuffer(14, 2);
    const row = Row.blank(14);
    row.set(0, '漢', 2, color(ColorKind.Rgb, 0x123456), color(ColorKind.Palette256, 200), ALL_ATTRS);
    row.set(1, '', 0, color(ColorKind.Rgb, 0x123456), color(ColorKind.Palette256, 200), ALL_ATTRS);
    row.set(2, 'e\u0301\u0323', 1, color(ColorKind.Palette16, 9), 0, 0);
    row.set(3, '👍🏽', 2, 0, 0, 0);
    row.set(4, '', 0, 0, 0, 0);
    row.set(5, '\ud800', 1, 0, 0, 0);
    row.set(6, 'x', 0, 0, 0, 0);
    row.set(7, '', 1, 0, 0, 0);
    row.set(8, '😀', 2, 0, 0, 0); // wide with no continuation after it
    row.set(9, 'a', 1, 0, 0, 0);
    row.set(10, 'a'.repeat(LIMITS.maxCellText), 1, 0, 0, 0);
    row.set(11, '\u{10ffff}', 1, 0, 0, 0);
    // A wide character whose right half has other colours (an application recoloured just that column).
    row.set(12, '字', 2, color(ColorKind.Palette16, 1), 0, 0);
    row.set(13, '', 0, color(ColorKind.Palette16, 4), 0, 0);
    row.wrapped = true;
    const b: Framebuffer = { ...a, lines: [row, a.lines[1]!], title: 'x\udfffy', iconName: '🎉' };
    const c = applyFramebufferDiff(a, diffFramebuffers(a, b));
    expect(framebuffersEqual(c, b)).toBe(true);
  });

  it('appends to a given writer and returns a view of just this diff', () => {
    const a = busyScreen();
    const b = applyEdit(a, { kind: 'type', x: 3, y: 4, content: { kind: 'narrow', text: 'q' }, rendition: { fg: 0, bg: 0, attrs: 0 } });
    const out = new ByteWriter();
    out.u8(0xaa);
    const view = diffFramebuffers(a, b, out);
    expect(out.length).toBe(1 + view.length);
    expect(Array.from(view)).toEqual(Array.from(diffFramebuffers(a, b)));
    expect(framebuffersEqual(applyFramebufferDiff(a, view), b)).toBe(true);
  });
});

describe('diff size', () => {
  it('is empty for an unchanged screen, shared or rebuilt row by row', () => {
    const a = busyScreen();
    expect(diffFramebuffers(a, a).length).toBe(0);
    expect(diffFramebuffers(a, { ...a, lines: a.lines.slice() }).length).toBe(0);
    expect(diffFramebuffers(a, { ...a, lines: a.lines.map((r) => r.clone()), cursor: { ...a.cursor } }).length).toBe(0);
    expect(applyFramebufferDiff(a, new Uint8Array(0))).toBe(a);
  });

  it('costs about ten bytes for one typed character at a prompt', () => {
    const prompt = 'user@host:~$ ';
    const lines = busyScreen().lines.slice();
    lines[23] = textRow(80, prompt);
    const a: Framebuffer = { ...busyScreen(), lines, cursor: { ...DEFAULT_CURSOR, x: prompt.length, y: 23 } };
    const b = applyEdit(a, { kind: 'type', x: prompt.length, y: 23, content: { kind: 'narrow', text: 'l' }, rendition: { fg: 0, bg: 0, attrs: 0 } });
    const diff = diffFramebuffers(a, b);
    expect(diff.length).toBeGreaterThan(0);
    expect(diff.length).toBeLessThanOrEqual(12);
  });

  it('costs at most 40 bytes for any one typed character on any screen up to 250x80', () => {
    const big = { maxCols: 250, maxRows: 80 };
    // What a keystroke echoes: one narrow or wide glyph (combining clusters included), in any colours.
    const keystroke = fc.oneof(narrowTextArb.map((text) => ({ kind: 'narrow', text }) as const), wideTextArb.map((text) => ({ kind: 'wide', text }) as const));
    const typed = fc.record({ kind: fc.constant('type' as const), x: fc.nat(), y: fc.nat(), content: keystroke, rendition: renditionArb });
    fc.assert(
      fc.property(framebufferArb(big), typed, (a, edit: FramebufferEdit) => {
        const b = applyEdit(a, edit);
        const diff = diffFramebuffers(a, b);
        expect(diff.length).toBeLessThanOrEqual(40);
        expect(framebuffersEqual(applyFramebufferDiff(a, diff), b)).toBe(true);
      }),
      { seed: SEED + 3, numRuns: 100 },
    );
  });

  for (const keepIdentity of [true, false]) {
    it(`carries only the k new lines of a scroll (${keepIdentity ? 'rows shared' : 'rows rebuilt, matched by content'})`, () => {
      const a = busyScreen();
      const newLine = (i: number): Row => textRow(80, `new output line ${i} with some text in it, enough to look like a real line`);
      const full = diffFramebuffers(blankFramebuffer(80, 24), a).length;
      const oneLine = diffFramebuffers(blankFramebuffer(80, 1), { ...blankFramebuffer(80, 1), lines: [newLine(0)] }).length;
      for (const k of [1, 3, 10]) {
        const b = scrollUp(a, k, keepIdentity, newLine);
        const diff = diffFramebuffers(a, b);
        expect(framebuffersEqual(applyFramebufferDiff(a, diff), b)).toBe(true);
        // The k lines plus a few bytes for the copy and row operations.
        expect(diff.length).toBeLessThanOrEqual(k * (oneLine + 2) + 8);
        if (k === 1) expect(diff.length * 10).toBeLessThan(full);
      }
    });
  }

  it('scrolls inside a scroll region with fixed lines above and below', () => {
    const a = busyScreen();
    const lines = a.lines.slice();
    // Region 1..21 scrolls up by one; rows 0, 22, 23 stay (a status line, an editor's bars).
    for (let y = 1; y < 21; y++) lines[y] = a.lines[y + 1]!.clone();
    lines[21] = Row.blank(80);
    const b = { ...a, lines };
    const diff = diffFramebuffers(a, b);
    expect(framebuffersEqual(applyFramebufferDiff(a, diff), b)).toBe(true);
    expect(diff.length).toBeLessThanOrEqual(12);
  });

  it('scrolls down (reverse index) as cheaply as up', () => {
    const a = busyScreen();
    const b = { ...a, lines: [Row.blank(80), ...a.lines.slice(0, 23).map((r) => r.clone())] };
    const diff = diffFramebuffers(a, b);
    expect(framebuffersEqual(applyFramebufferDiff(a, diff), b)).toBe(true);
    expect(diff.length).toBeLessThanOrEqual(12);
  });

  it('encodes an erased line as one blank run and a colour once per run of cells', () => {
    const a = busyScreen();
    const red = color(ColorKind.Palette16, 1);
    const colored = Row.blank(80);
    for (let x = 0; x < 80; x++) colored.set(x, String.fromCharCode(0x61 + (x % 26)), 1, red, 0, 0);
    const b = { ...a, lines: [Row.blank(80, color(ColorKind.Palette256, 17)), colored, ...a.lines.slice(2)] };
    const diff = diffFramebuffers(a, b);
    expect(framebuffersEqual(applyFramebufferDiff(a, diff), b)).toBe(true);
    // Row 0: op, pen(bg), blank run, end ≈ 8 bytes; row 1: op, pen(fg, bg), 80 letters, end.
    expect(diff.length).toBeLessThanOrEqual(8 + 6 + 80 + 2);
    expect(diff.filter((byte) => byte === CellOp.Pen).length).toBe(2);
  });

  it('clears a screen in a few bytes, every row the same shared blank Row', () => {
    const a = busyScreen();
    const b = blankFramebuffer(80, 24);
    const diff = diffFramebuffers(a, b);
    expect(diff.length).toBeLessThanOrEqual(4);
    const c = applyFramebufferDiff(a, diff);
    expect(framebuffersEqual(c, b)).toBe(true);
    expect(new Set(c.lines).size).toBe(1);
  });

  it('repeats a rule of box-drawing characters instead of spelling it out', () => {
    const a = blankFramebuffer(80, 3);
    const rule = Row.blank(80);
    for (let x = 0; x < 80; x++) rule.set(x, '─', 1, 0, 0, 0);
    const b = { ...a, lines: [a.lines[0]!, rule, a.lines[2]!] };
    const diff = diffFramebuffers(a, b);
    expect(framebuffersEqual(applyFramebufferDiff(a, diff), b)).toBe(true);
    expect(diff.length).toBeLessThanOrEqual(10);
  });
});

describe('decoding untrusted bytes', () => {
  it('never crashes on a diff applied to the wrong base', () => {
    fc.assert(
      fc.property(editedPairArb(), framebufferArb(), ([a, b], other) => {
        decodesSafely(other, diffFramebuffers(a, b));
      }),
      { seed: SEED + 4, numRuns: RUNS },
    );
  });

  it('never crashes on random bytes, truncations or flipped bytes of real diffs', () => {
    fc.assert(
      fc.property(editedPairArb(), fc.uint8Array({ maxLength: 64 }), fc.nat(), fc.integer({ min: 1, max: 255 }), ([a, b], garbage, at, flip) => {
        const diff = diffFramebuffers(a, b);
        decodesSafely(a, garbage);
        decodesSafely(a, diff.subarray(0, diff.length === 0 ? 0 : at % diff.length));
        if (diff.length > 0) {
          const flipped = diff.slice();
          flipped[at % diff.length]! ^= flip;
          decodesSafely(a, flipped);
        }
      }),
      { seed: SEED + 5, numRuns: RUNS },
    );
  });

  it('rejects a diff cut in the middle of an operation', () => {
    const a = busyScreen();
    const b = applyEdit(a, { kind: 'type', x: 5, y: 7, content: { kind: 'narrow', text: 'é' }, rendition: { fg: 0, bg: 0, attrs: 0 } });
    const diff = diffFramebuffers(a, b);
    // Every cut inside the row patch (after its opcode, before its end marker) is incomplete.
    const rowOp = diff.indexOf(FrameOp.RowPatch);
    const end = diff.indexOf(CellOp.End);
    expect(rowOp).toBeGreaterThanOrEqual(0);
    for (let cut = rowOp + 1; cut <= end; cut++) expect(() => applyFramebufferDiff(a, diff.subarray(0, cut))).toThrow(ScreenDiffError);
    expect(() => applyFramebufferDiff(a, diff.subarray(0, diff.length - 1))).toThrow(ScreenDiffError);
  });
});

describe('bounds and malformed diffs', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const base = busyScreen(10, 4);
  /** Builds a diff by hand. */
  const bytes = (write: (w: ByteWriter) => void): Uint8Array => {
    const w = new ByteWriter();
    write(w);
    return w.toBytes();
  };
  /** A patch of row 0 whose cell stream is written by `cells`. */
  const patch = (cells: (w: ByteWriter) => void): Uint8Array =>
    bytes((w) => {
      w.u8(FrameOp.RowPatch);
      cells(w);
    });

  const cases: [string, Uint8Array][] = [
    ['10^9 columns', bytes((w) => (w.u8(FrameOp.Resize), w.varint(1e9), w.varint(24)))],
    ['10^9 rows', bytes((w) => (w.u8(FrameOp.Resize), w.varint(80), w.varint(1e9)))],
    ['one column too many', bytes((w) => (w.u8(FrameOp.Resize), w.varint(LIMITS.maxCols + 1), w.varint(24)))],
    ['zero rows', bytes((w) => (w.u8(FrameOp.Resize), w.varint(80), w.varint(0)))],
    ['a varint longer than 8 bytes', bytes((w) => (w.u8(FrameOp.SkipRows), w.bytes(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))))],
    ['a resize after row operations', bytes((w) => (w.u8(FrameOp.SkipRows), w.varint(1), w.u8(FrameOp.Resize), w.varint(10), w.varint(4)))],
    ['skipping past the last row', bytes((w) => (w.u8(FrameOp.SkipRows), w.varint(5)))],
    ['a row operation below the last row', bytes((w) => (w.u8(FrameOp.SkipRows), w.varint(4), w.u8(FrameOp.RowNew), w.u8(CellOp.End)))],
    ['blank rows past the last row', bytes((w) => (w.u8(FrameOp.SkipRows), w.varint(2), w.u8(FrameOp.BlankRows), w.varint(3)))],
    ['copying a row the base lacks', bytes((w) => (w.u8(FrameOp.CopyRows), w.varint(4), w.varint(1)))],
    ['copying more rows than there are', bytes((w) => (w.u8(FrameOp.CopyRows), w.varint(2), w.varint(3)))],
    ['copying rows across a width change', bytes((w) => (w.u8(FrameOp.Resize), w.varint(11), w.varint(4), w.u8(FrameOp.CopyRows), w.varint(0), w.varint(1)))],
    ['patching a row the base lacks', bytes((w) => (w.u8(FrameOp.Resize), w.varint(10), w.varint(5), w.u8(FrameOp.SkipRows), w.varint(4), w.u8(FrameOp.RowPatch), w.u8(CellOp.End)))],
    ['10^9 blank cells', patch((w) => (w.u8(CellOp.Blanks), w.varint(1e9), w.u8(CellOp.End)))],
    ['11 blank cells in a 10-column row', patch((w) => (w.u8(CellOp.Blanks), w.varint(11), w.u8(CellOp.End)))],
    ['skipping past the end of the row', patch((w) => (w.u8(CellOp.Skip), w.varint(11), w.u8(CellOp.End)))],
    ['a glyph past the end of the row', patch((w) => (w.u8(CellOp.Skip), w.varint(10), w.u8(0x61), w.u8(CellOp.End)))],
    ['a wide glyph in the last column', patch((w) => (w.u8(CellOp.Skip), w.varint(9), w.u8(CellOp.Wide), w.codePoint(0x6f22), w.u8(CellOp.End)))],
    ['repeats past the end of the row', patch((w) => (w.u8(0x61), w.u8(CellOp.Repeat), w.varint(10), w.u8(CellOp.End)))],
    ['a repeat with nothing to repeat', patch((w) => (w.u8(CellOp.Repeat), w.varint(1), w.u8(CellOp.End)))],
    ['a cell width of 3', patch((w) => (w.u8(CellOp.Raw), w.u8(3), w.u8(0x61), w.u8(CellOp.End)))],
    ['a cluster claiming a megabyte', patch((w) => (w.u8(CellOp.Cluster), w.varint(1 << 20), w.u8(CellOp.End)))],
    ['a cluster longer than its bytes', patch((w) => (w.u8(CellOp.Cluster), w.varint(20), w.bytes(new Uint8Array([0x61, 0x62])), w.u8(CellOp.End)))],
    ['a cluster over the cell text limit', patch((w) => (w.u8(CellOp.Cluster), w.string('a'.repeat(LIMITS.maxCellText + 1)), w.u8(CellOp.End)))],
    ['a stray continuation byte', patch((w) => (w.u8(0x80), w.u8(CellOp.End)))],
    ['an overlong UTF-8 form', patch((w) => (w.u8(0xc0), w.u8(0x80), w.u8(CellOp.End)))],
    ['an overlong 3-byte form', patch((w) => (w.bytes(new Uint8Array([0xe0, 0x80, 0x80])), w.u8(CellOp.End)))],
    ['a code point above U+10FFFF', patch((w) => (w.bytes(new Uint8Array([0xf4, 0x90, 0x80, 0x80])), w.u8(CellOp.End)))],
    ['an operator where a glyph must be', patch((w) => (w.u8(CellOp.Wide), w.u8(CellOp.End)))],
    ['a pen with no fields', patch((w) => (w.u8(CellOp.Pen), w.u8(0), w.u8(CellOp.End)))],
    ['a pen mask with unknown bits', patch((w) => (w.u8(CellOp.Pen), w.u8(8), w.u8(CellOp.End)))],
    ['undefined attribute bits', patch((w) => (w.u8(CellOp.Pen), w.u8(4), w.varint(ALL_ATTRS + 1), w.u8(CellOp.End)))],
    ['a colour wider than 24 bits', patch((w) => (w.u8(CellOp.Pen), w.u8(1), w.varint(1 << 26), w.u8(CellOp.End)))],
    ['a row with no end', patch((w) => w.u8(0x61))],
    ['a cursor outside the screen', bytes((w) => (w.u8(FrameOp.CursorPos), w.varint(10), w.varint(0)))],
    ['a cursor shape that does not exist', bytes((w) => (w.u8(FrameOp.CursorStyle), w.u8(3 << 2)))],
    ['a title claiming a gigabyte', bytes((w) => (w.u8(FrameOp.Title), w.varint(1 << 30)))],
    ['a title over the limit', bytes((w) => (w.u8(FrameOp.Title), w.string('t'.repeat(LIMITS.maxTitle + 1))))],
    ['a clipboard claiming more than its limit', bytes((w) => (w.u8(FrameOp.Clipboard), w.varint(1), w.string('c'), w.varint(LIMITS.maxClipboard * 3 + 1)))],
    ['a clipboard selection over its limit', bytes((w) => (w.u8(FrameOp.Clipboard), w.varint(1), w.string('c'.repeat(100)), w.string('')))],
    ['mouse tracking mode 7', bytes((w) => (w.u8(FrameOp.Modes), w.varint(7 << 4)))],
    ['mode bits beyond the defined ones', bytes((w) => (w.u8(FrameOp.Modes), w.varint(1 << 9)))],
    ['an unknown operation', bytes((w) => w.u8(0x7f))],
  ];

  for (const [name, diff] of cases) {
    it(`rejects ${name} with ScreenDiffError and leaves the base alone`, () => {
      const before = snapshotFramebuffer(base);
      expect(() => applyFramebufferDiff(base, diff)).toThrow(ScreenDiffError);
      expect(snapshotFramebuffer(base)).toEqual(before);
    });
  }

  it('refuses huge sizes before allocating any row', () => {
    const blank = vi.spyOn(Row, 'blank');
    const clone = vi.spyOn(Row.prototype, 'clone');
    for (const [name, diff] of cases.slice(0, 3)) expect(() => applyFramebufferDiff(base, diff), name).toThrow(ScreenDiffError);
    expect(blank).not.toHaveBeenCalled();
    expect(clone).not.toHaveBeenCalled();
  });

  it('accepts the largest screen LIMITS allow, sharing one blank row', () => {
    const diff = bytes((w) => (w.u8(FrameOp.Resize), w.varint(LIMITS.maxCols), w.varint(LIMITS.maxRows)));
    const fb = applyFramebufferDiff(base, diff);
    expect(fb.cols).toBe(LIMITS.maxCols);
    expect(fb.rows).toBe(LIMITS.maxRows);
    expect(new Set(fb.lines).size).toBe(1);
    expect(fb.lines[0]!.text[LIMITS.maxCols - 1]).toBe(BLANK);
  });
});

/**
 * Small builders of framebuffers for renderer tests and benchmarks, plus fast-check arbitraries of
 * screens that xterm can represent exactly (so a renderer can be checked cell for cell against it).
 */
import fc from 'fast-check';
import {
  type Attr,
  blankFramebuffer,
  type ClipboardWrite,
  type Color,
  ColorKind,
  color,
  type Cursor,
  type CursorShape,
  DEFAULT_CURSOR,
  DEFAULT_MODES,
  type Framebuffer,
  type MouseEncoding,
  type MouseTracking,
  Row,
  type TerminalModes,
} from '../../protocol/framebuffer.js';

export interface Style {
  readonly fg?: Color;
  readonly bg?: Color;
  readonly attrs?: number;
}

/** Width of a test glyph under xterm's Unicode 11 tables (only the glyphs these tests use). */
export function glyphWidth(text: string): number {
  const c = text.codePointAt(0)!;
  if (c >= 0x1f300 || (c >= 0x3041 && c < 0xa000) || (c >= 0xac00 && c < 0xd7a4) || (c >= 0xff01 && c < 0xff61)) return 2;
  return 1;
}

/** Writes `text` (one glyph per grapheme as listed) into a copy of `row` from column x. */
export function withText(row: Row, x: number, glyphs: readonly string[], style: Style = {}): Row {
  const r = row.clone();
  let col = x;
  for (const g of glyphs) {
    const w = glyphWidth(g);
    if (col + w > r.cols) break;
    r.set(col, g, w, style.fg ?? 0, style.bg ?? 0, style.attrs ?? 0);
    if (w === 2) r.set(col + 1, '', 0, style.fg ?? 0, style.bg ?? 0, style.attrs ?? 0);
    col += w;
  }
  return r;
}

/** Splits a string into the glyphs the builders take (code points, combining marks kept with their base). */
export function glyphs(s: string): string[] {
  const out: string[] = [];
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x300 && c < 0x370 && out.length > 0) out[out.length - 1] += ch;
    else out.push(ch);
  }
  return out;
}

export function textRow(cols: number, s: string, style: Style = {}): Row {
  return withText(Row.blank(cols), 0, glyphs(s), style);
}

export interface ScreenOptions {
  readonly cursor?: Partial<Cursor>;
  readonly title?: string;
  readonly iconName?: string;
  readonly bellCount?: number;
  readonly modes?: Partial<TerminalModes>;
  readonly clipboard?: ClipboardWrite | null;
}

export function screen(cols: number, rows: readonly (Row | string)[], opts: ScreenOptions = {}): Framebuffer {
  const base = blankFramebuffer(cols, rows.length);
  return {
    ...base,
    lines: rows.map((r) => (typeof r === 'string' ? textRow(cols, r) : r)),
    cursor: { ...DEFAULT_CURSOR, ...opts.cursor },
    title: opts.title ?? '',
    iconName: opts.iconName ?? opts.title ?? '',
    bellCount: opts.bellCount ?? 0,
    modes: { ...DEFAULT_MODES, ...opts.modes },
    clipboard: opts.clipboard ?? null,
  };
}

export function withLines(fb: Framebuffer, lines: readonly Row[], extra: Partial<Framebuffer> = {}): Framebuffer {
  return { ...fb, lines, ...extra };
}

// --- fast-check arbitraries ---

const GLYPHS = ['a', 'b', 'Z', '~', ' ', ' ', ' ', 'é', 'ж', '─', 'e\u0301', '中', '한', '😀', '🎉'];

const COLORS: readonly Color[] = [
  0,
  0,
  0,
  color(ColorKind.Palette16, 1),
  color(ColorKind.Palette16, 12),
  color(ColorKind.Palette256, 3),
  color(ColorKind.Palette256, 201),
  color(ColorKind.Rgb, 0x102030),
];

const ATTRS: readonly number[] = [0, 0, 0, 0, 1 as Attr, 8 as Attr, 32 as Attr, 1 | 4 | 128, 2 | 16 | 64 | 256];

interface CellSpec {
  readonly glyph: string;
  readonly fg: Color;
  readonly bg: Color;
  readonly attrs: number;
}

const cellArb: fc.Arbitrary<CellSpec> = fc.record({
  glyph: fc.constantFrom(...GLYPHS),
  fg: fc.constantFrom(...COLORS),
  bg: fc.constantFrom(...COLORS),
  attrs: fc.constantFrom(...ATTRS),
});

/** A blank that an erase produces (so runs of them exercise EL/ECH), with an occasional colour. */
const blankArb: fc.Arbitrary<CellSpec> = fc.record({
  glyph: fc.constant(' '),
  fg: fc.constant(0),
  bg: fc.constantFrom(0, 0, 0, color(ColorKind.Palette16, 4)),
  attrs: fc.constant(0),
});

function buildRow(cols: number, cells: readonly CellSpec[], wrapped: boolean): Row {
  const r = Row.blank(cols);
  let x = 0;
  for (const c of cells) {
    if (x >= cols) break;
    const w = glyphWidth(c.glyph);
    if (x + w > cols) {
      r.set(x, ' ', 1, c.fg, c.bg, c.attrs);
      x++;
      continue;
    }
    r.set(x, c.glyph, w, c.fg, c.bg, c.attrs);
    if (w === 2) r.set(x + 1, '', 0, c.fg, c.bg, c.attrs);
    x += w;
  }
  r.wrapped = wrapped;
  return r;
}

export function rowArb(cols: number): fc.Arbitrary<Row> {
  return fc
    .record({
      cells: fc.array(fc.oneof({ weight: 3, arbitrary: cellArb }, { weight: 2, arbitrary: blankArb }), { minLength: 0, maxLength: cols }),
      wrapped: fc.boolean(),
    })
    .map(({ cells, wrapped }) => buildRow(cols, cells, wrapped));
}

const modesArb: fc.Arbitrary<TerminalModes> = fc.record({
  applicationCursorKeys: fc.boolean(),
  applicationKeypad: fc.boolean(),
  bracketedPaste: fc.boolean(),
  mouseTracking: fc.constantFrom<MouseTracking>('none', 'x10', 'vt200', 'drag', 'any'),
  mouseEncoding: fc.constantFrom<MouseEncoding>('default', 'utf8', 'sgr', 'urxvt'),
  focusReporting: fc.boolean(),
});

function cursorArb(cols: number, rows: number): fc.Arbitrary<Cursor> {
  return fc.record({
    x: fc.integer({ min: 0, max: cols - 1 }),
    y: fc.integer({ min: 0, max: rows - 1 }),
    visible: fc.boolean(),
    shape: fc.constantFrom<CursorShape>('block', 'underline', 'bar'),
    blink: fc.boolean(),
  });
}

export function framebufferArb(cols: number, rows: number): fc.Arbitrary<Framebuffer> {
  return fc
    .record({
      lines: fc.array(rowArb(cols), { minLength: rows, maxLength: rows }),
      cursor: cursorArb(cols, rows),
      title: fc.constantFrom('', 'vim', 'a title'),
      modes: modesArb,
    })
    .map(({ lines, cursor, title, modes }) => ({ ...blankFramebuffer(cols, rows), lines: lastRowUnwrapped(lines), cursor, title, iconName: title, modes }));
}

/** The last row cannot continue anywhere; keep its flag off as an emulator would. */
function lastRowUnwrapped(lines: Row[]): Row[] {
  const last = lines[lines.length - 1];
  if (last?.wrapped === true) {
    const copy = last.clone();
    copy.wrapped = false;
    lines[lines.length - 1] = copy;
  }
  return lines;
}

/** One change a program makes to a screen between two frames. */
export type Edit =
  | { readonly kind: 'cells'; readonly y: number; readonly x: number; readonly row: Row }
  | { readonly kind: 'row'; readonly y: number; readonly row: Row }
  | { readonly kind: 'scroll'; readonly top: number; readonly bottom: number; readonly shift: number; readonly bg: Color }
  | { readonly kind: 'cursor'; readonly cursor: Cursor }
  | { readonly kind: 'modes'; readonly modes: TerminalModes }
  | { readonly kind: 'title'; readonly title: string };

export function editArb(cols: number, rows: number): fc.Arbitrary<Edit> {
  return fc.oneof(
    fc.record({ kind: fc.constant('cells' as const), y: fc.nat(rows - 1), x: fc.nat(cols - 1), row: rowArb(cols) }),
    fc.record({ kind: fc.constant('row' as const), y: fc.nat(rows - 1), row: rowArb(cols) }),
    fc
      .record({ a: fc.nat(rows - 1), b: fc.nat(rows - 1), shift: fc.integer({ min: 1, max: rows }), down: fc.boolean(), bg: fc.constantFrom(0, 0, color(ColorKind.Palette16, 4)) })
      .filter(({ a, b }) => a !== b)
      .map(({ a, b, shift, down, bg }) => ({ kind: 'scroll' as const, top: Math.min(a, b), bottom: Math.max(a, b), shift: down ? -shift : shift, bg })),
    fc.record({ kind: fc.constant('cursor' as const), cursor: cursorArb(cols, rows) }),
    fc.record({ kind: fc.constant('modes' as const), modes: modesArb }),
    fc.record({ kind: fc.constant('title' as const), title: fc.constantFrom('', 'vim', 'other') }),
  );
}

/** Applies an edit, sharing every row it does not touch (as the emulator's snapshots do). */
export function applyEdit(fb: Framebuffer, e: Edit): Framebuffer {
  const lines = fb.lines.slice();
  switch (e.kind) {
    case 'cells': {
      // Splice the new row's cells from x on, keeping wide characters whole.
      const r = lines[e.y]!.clone();
      let x = e.x;
      if (r.width[x] === 0 && x > 0) x--;
      for (let i = x; i < fb.cols; i++) r.set(i, e.row.text[i]!, e.row.width[i]!, e.row.fg[i]!, e.row.bg[i]!, e.row.attrs[i]!);
      if (r.width[x] === 0) r.set(x, ' ', 1, 0, 0, 0);
      lines[e.y] = r;
      break;
    }
    case 'row':
      lines[e.y] = e.row;
      break;
    case 'scroll': {
      const k = Math.min(Math.abs(e.shift), e.bottom - e.top + 1);
      const blank = Row.blank(fb.cols, e.bg);
      if (e.shift > 0) {
        for (let y = e.top; y <= e.bottom; y++) lines[y] = y + k <= e.bottom ? fb.lines[y + k]! : blank;
      } else {
        for (let y = e.top; y <= e.bottom; y++) lines[y] = y - k >= e.top ? fb.lines[y - k]! : blank;
      }
      break;
    }
    case 'cursor':
      return { ...fb, cursor: e.cursor };
    case 'modes':
      return { ...fb, modes: e.modes };
    case 'title':
      return { ...fb, title: e.title, iconName: e.title };
  }
  return { ...fb, lines: lastRowUnwrapped(lines) };
}

/**
 * fast-check arbitraries for the screen model: random framebuffers and random, terminal-like edits
 * of them. Shared by the screen diff's tests and by the renderer's and prediction's tests.
 *
 * Edits are generated as plain descriptions (positions as free integers, reduced modulo the screen
 * size when applied) so that they shrink well and can be applied to any framebuffer.
 */
import fc from 'fast-check';
import {
  ALL_ATTRS,
  BLANK,
  ColorKind,
  DEFAULT_COLOR,
  LIMITS,
  Row,
  color,
  type ClipboardWrite,
  type Color,
  type Cursor,
  type CursorShape,
  type Framebuffer,
  type MouseEncoding,
  type MouseTracking,
  type TerminalModes,
} from '../../protocol/framebuffer.js';

export const colorArb: fc.Arbitrary<Color> = fc.oneof(
  { weight: 4, arbitrary: fc.constant(DEFAULT_COLOR) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 15 }).map((i) => color(ColorKind.Palette16, i)) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }).map((i) => color(ColorKind.Palette256, i)) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffffff }).map((v) => color(ColorKind.Rgb, v)) },
);

export const attrsArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: ALL_ATTRS }) },
);

export interface Rendition {
  readonly fg: Color;
  readonly bg: Color;
  readonly attrs: number;
}

export const DEFAULT_RENDITION: Rendition = Object.freeze({ fg: DEFAULT_COLOR, bg: DEFAULT_COLOR, attrs: 0 });

export const renditionArb: fc.Arbitrary<Rendition> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(DEFAULT_RENDITION) },
  { weight: 3, arbitrary: fc.record({ fg: colorArb, bg: colorArb, attrs: attrsArb }) },
);

const fromCodePoint = (cp: number): string => String.fromCodePoint(cp);

/** Text of a one-column cell: ASCII, other scripts, box drawing, combining clusters. */
export const narrowTextArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0x21, max: 0x7e }).map(fromCodePoint) },
  { weight: 2, arbitrary: fc.constantFrom('é', 'ß', 'Ω', 'Ж', 'ñ', '─', '│', '╭', '█', '…', '€', 'ﬁ') },
  { weight: 1, arbitrary: fc.integer({ min: 0xa1, max: 0x2fff }).map(fromCodePoint) },
  {
    weight: 1,
    // A base character with 1–3 combining marks: one cell, several code points.
    arbitrary: fc
      .tuple(fc.integer({ min: 0x61, max: 0x7a }), fc.array(fc.integer({ min: 0x300, max: 0x36f }), { minLength: 1, maxLength: 3 }))
      .map(([base, marks]) => String.fromCodePoint(base, ...marks)),
  },
);

/** Text of a two-column cell: CJK, emoji (surrogate pairs), a ZWJ sequence. */
export const wideTextArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0x4e00, max: 0x9fff }).map(fromCodePoint) },
  { weight: 2, arbitrary: fc.integer({ min: 0x1f300, max: 0x1f64f }).map(fromCodePoint) },
  { weight: 1, arbitrary: fc.constantFrom('👩‍💻', '🇫🇷', '👍🏽', 'ｗ') },
);

/** What a run of cells holds. `raw` is an unusual cell an emulator might still produce (any width, odd text). */
export type CellContent =
  | { readonly kind: 'blank' }
  | { readonly kind: 'narrow'; readonly text: string }
  | { readonly kind: 'wide'; readonly text: string }
  | { readonly kind: 'raw'; readonly text: string; readonly width: number };

export const cellContentArb: fc.Arbitrary<CellContent> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'blank' } as const) },
  { weight: 6, arbitrary: narrowTextArb.map((text) => ({ kind: 'narrow', text }) as const) },
  { weight: 2, arbitrary: wideTextArb.map((text) => ({ kind: 'wide', text }) as const) },
  {
    weight: 1,
    arbitrary: fc
      .record({
        text: fc.constantFrom('', 'x', ' ', 'e\u0301', '\ud800', '\udc00x', 'a'.repeat(LIMITS.maxCellText)),
        width: fc.integer({ min: 0, max: 2 }),
      })
      .map(({ text, width }) => ({ kind: 'raw', text, width }) as const),
  },
);

/** `count` copies of one cell content with one rendition: rows are built from runs, as real screens are. */
export interface Segment {
  readonly content: CellContent;
  readonly rendition: Rendition;
  readonly count: number;
}

export const segmentArb: fc.Arbitrary<Segment> = fc.record({
  content: cellContentArb,
  rendition: renditionArb,
  count: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 3 }) }, { weight: 1, arbitrary: fc.integer({ min: 4, max: 40 }) }),
});

export interface RowSpec {
  readonly segments: readonly Segment[];
  readonly wrapped: boolean;
}

export const rowSpecArb: fc.Arbitrary<RowSpec> = fc.record({
  segments: fc.array(segmentArb, { maxLength: 8 }),
  wrapped: fc.boolean(),
});

/**
 * Writes one cell the way a terminal does, keeping wide characters whole: overwriting either half
 * of a wide character blanks the other half; a wide character that does not fit is not written.
 * Returns the number of columns used (0 when it did not fit).
 */
export function putCell(row: Row, x: number, content: CellContent, r: Rendition): number {
  const cols = row.cols;
  if (x < 0 || x >= cols) return 0;
  const span = content.kind === 'wide' ? 2 : 1;
  if (x + span > cols) return 0;
  for (let i = x; i < x + span; i++) {
    // Break up any wide pair the write lands on.
    if (row.width[i] === 0 && i > 0 && row.width[i - 1] === 2) row.set(i - 1, BLANK, 1, row.fg[i - 1]!, row.bg[i - 1]!, row.attrs[i - 1]!);
    if (row.width[i] === 2 && i + 1 < cols && row.width[i + 1] === 0) row.set(i + 1, BLANK, 1, row.fg[i + 1]!, row.bg[i + 1]!, row.attrs[i + 1]!);
  }
  switch (content.kind) {
    case 'blank':
      row.set(x, BLANK, 1, r.fg, r.bg, r.attrs);
      break;
    case 'narrow':
      row.set(x, content.text, 1, r.fg, r.bg, r.attrs);
      break;
    case 'wide':
      row.set(x, content.text, 2, r.fg, r.bg, r.attrs);
      row.set(x + 1, '', 0, r.fg, r.bg, r.attrs);
      break;
    case 'raw':
      row.set(x, content.text, content.width, r.fg, r.bg, r.attrs);
      break;
  }
  return span;
}

/** Fills `row` from column `x` with the segments (cells past the end are dropped). */
export function fillRow(row: Row, segments: readonly Segment[], x = 0): void {
  for (const s of segments) {
    for (let i = 0; i < s.count && x < row.cols; i++) {
      const used = putCell(row, x, s.content, s.rendition);
      x += used === 0 ? 1 : used;
    }
  }
}

export function rowFromSpec(cols: number, spec: RowSpec): Row {
  const row = Row.blank(cols);
  fillRow(row, spec.segments);
  row.wrapped = spec.wrapped;
  return row;
}

export const cursorShapeArb: fc.Arbitrary<CursorShape> = fc.constantFrom('block', 'underline', 'bar');

export const modesArb: fc.Arbitrary<TerminalModes> = fc.record({
  applicationCursorKeys: fc.boolean(),
  applicationKeypad: fc.boolean(),
  bracketedPaste: fc.boolean(),
  mouseTracking: fc.constantFrom<MouseTracking>('none', 'x10', 'vt200', 'drag', 'any'),
  mouseEncoding: fc.constantFrom<MouseEncoding>('default', 'utf8', 'sgr', 'urxvt'),
  focusReporting: fc.boolean(),
});

/** Any UTF-16 text, lone surrogates included: titles come from applications, which may send anything. */
export const anyTextArb = (maxLength: number): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ maxLength, unit: 'grapheme' }),
    fc.string({ maxLength, unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }),
  );

export const clipboardArb: fc.Arbitrary<ClipboardWrite | null> = fc.option(
  fc.record({
    serial: fc.nat(),
    selection: fc.constantFrom('c', 'p', 'cs', 's0', ''),
    data: fc.oneof(fc.base64String({ maxLength: 64 }), fc.constant('?')),
  }),
);

export interface FramebufferArbOptions {
  readonly minCols?: number;
  readonly maxCols?: number;
  readonly minRows?: number;
  readonly maxRows?: number;
}

export const DEFAULT_ARB_BOUNDS = Object.freeze({ minCols: 1, maxCols: 24, minRows: 1, maxRows: 10 });

/** A random framebuffer. Some rows are shared objects (as after a copy), some are blank. */
export function framebufferArb(options: FramebufferArbOptions = {}): fc.Arbitrary<Framebuffer> {
  const b = { ...DEFAULT_ARB_BOUNDS, ...options };
  return fc
    .record({
      cols: fc.integer({ min: b.minCols, max: b.maxCols }),
      rows: fc.integer({ min: b.minRows, max: b.maxRows }),
      specs: fc.array(fc.option(rowSpecArb, { freq: 3 }), { minLength: b.maxRows, maxLength: b.maxRows }),
      cx: fc.nat(),
      cy: fc.nat(),
      visible: fc.boolean(),
      shape: cursorShapeArb,
      blink: fc.boolean(),
      title: anyTextArb(20),
      iconName: anyTextArb(10),
      bellCount: fc.oneof(fc.nat(5), fc.nat()),
      modes: modesArb,
      clipboard: clipboardArb,
    })
    .map((r): Framebuffer => {
      const blank = Row.blank(r.cols);
      const lines: Row[] = [];
      for (let y = 0; y < r.rows; y++) {
        const spec = r.specs[y];
        lines.push(spec === null || spec === undefined ? blank : rowFromSpec(r.cols, spec));
      }
      return {
        cols: r.cols,
        rows: r.rows,
        lines,
        cursor: { x: r.cx % r.cols, y: r.cy % r.rows, visible: r.visible, shape: r.shape, blink: r.blink },
        title: r.title,
        iconName: r.iconName,
        bellCount: r.bellCount,
        modes: r.modes,
        clipboard: r.clipboard,
      };
    });
}

/** One terminal-like change to a screen. Positions are reduced modulo the screen size when applied. */
export type FramebufferEdit =
  | { readonly kind: 'type'; readonly x: number; readonly y: number; readonly content: CellContent; readonly rendition: Rendition }
  | { readonly kind: 'scroll'; readonly top: number; readonly height: number | null; readonly k: number; readonly down: boolean; readonly keepIdentity: boolean; readonly fill: RowSpec | null }
  | { readonly kind: 'erase'; readonly what: 'line' | 'toEnd' | 'screen'; readonly x: number; readonly y: number; readonly bg: Color }
  | { readonly kind: 'attrs'; readonly x: number; readonly y: number; readonly length: number; readonly rendition: Rendition }
  | { readonly kind: 'row'; readonly y: number; readonly spec: RowSpec }
  | { readonly kind: 'rebuild'; readonly y: number; readonly all: boolean }
  | { readonly kind: 'wrap'; readonly y: number }
  | { readonly kind: 'resize'; readonly cols: number; readonly rows: number }
  | { readonly kind: 'cursor'; readonly x: number; readonly y: number; readonly visible: boolean; readonly shape: CursorShape; readonly blink: boolean }
  | { readonly kind: 'title'; readonly title: string; readonly icon: boolean }
  | { readonly kind: 'bell'; readonly times: number }
  | { readonly kind: 'modes'; readonly modes: TerminalModes }
  | { readonly kind: 'clipboard'; readonly clipboard: ClipboardWrite | null };

export function framebufferEditArb(options: FramebufferArbOptions = {}): fc.Arbitrary<FramebufferEdit> {
  const b = { ...DEFAULT_ARB_BOUNDS, ...options };
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('type' as const), x: fc.nat(), y: fc.nat(), content: cellContentArb, rendition: renditionArb }) },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('scroll' as const),
        top: fc.oneof(fc.constant(0), fc.nat()),
        height: fc.option(fc.nat()),
        k: fc.nat(),
        down: fc.boolean(),
        keepIdentity: fc.boolean(),
        fill: fc.option(rowSpecArb),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('erase' as const), what: fc.constantFrom('line' as const, 'toEnd' as const, 'screen' as const), x: fc.nat(), y: fc.nat(), bg: colorArb }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('attrs' as const), x: fc.nat(), y: fc.nat(), length: fc.nat(40), rendition: renditionArb }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('row' as const), y: fc.nat(), spec: rowSpecArb }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('rebuild' as const), y: fc.nat(), all: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('wrap' as const), y: fc.nat() }) },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('resize' as const), cols: fc.integer({ min: b.minCols, max: b.maxCols }), rows: fc.integer({ min: b.minRows, max: b.maxRows }) }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('cursor' as const), x: fc.nat(), y: fc.nat(), visible: fc.boolean(), shape: cursorShapeArb, blink: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('title' as const), title: anyTextArb(20), icon: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('bell' as const), times: fc.integer({ min: 1, max: 3 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('modes' as const), modes: modesArb }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('clipboard' as const), clipboard: clipboardArb }) },
  );
}

function withLines(fb: Framebuffer, lines: Row[], extra: Partial<Framebuffer> = {}): Framebuffer {
  return { ...fb, lines, ...extra };
}

/** Returns the edited screen; `fb` is left alone (rows are copied before they change). */
export function applyEdit(fb: Framebuffer, edit: FramebufferEdit): Framebuffer {
  const { cols, rows } = fb;
  switch (edit.kind) {
    case 'type': {
      const x = edit.x % cols;
      const y = edit.y % rows;
      const row = fb.lines[y]!.clone();
      const used = putCell(row, x, edit.content, edit.rendition);
      const lines = fb.lines.slice();
      lines[y] = row;
      const cursor: Cursor = { ...fb.cursor, x: Math.min(x + used, cols - 1), y };
      return withLines(fb, lines, { cursor });
    }
    case 'scroll': {
      const top = edit.top % rows;
      const bottom = edit.height === null ? rows - 1 : top + (edit.height % (rows - top)); // inclusive
      const height = bottom - top + 1;
      const k = 1 + (edit.k % height);
      const lines = fb.lines.slice();
      const moved = (r: Row): Row => (edit.keepIdentity ? r : r.clone());
      const fresh = (): Row => (edit.fill === null ? Row.blank(cols) : rowFromSpec(cols, edit.fill));
      for (let i = 0; i < height; i++) {
        const from = edit.down ? i - k : i + k;
        lines[top + i] = from >= 0 && from < height ? moved(fb.lines[top + from]!) : fresh();
      }
      return withLines(fb, lines);
    }
    case 'erase': {
      const y = edit.y % rows;
      const lines = fb.lines.slice();
      if (edit.what === 'screen') {
        const blank = Row.blank(cols, edit.bg);
        for (let i = 0; i < rows; i++) lines[i] = blank;
      } else {
        const row = edit.what === 'line' ? Row.blank(cols, edit.bg) : fb.lines[y]!.clone();
        if (edit.what === 'toEnd') {
          const x = edit.x % cols;
          for (let i = x; i < cols; i++) putCell(row, i, { kind: 'blank' }, { fg: DEFAULT_COLOR, bg: edit.bg, attrs: 0 });
          row.wrapped = false;
        }
        lines[y] = row;
      }
      return withLines(fb, lines);
    }
    case 'attrs': {
      const y = edit.y % rows;
      const row = fb.lines[y]!.clone();
      const r = edit.rendition;
      for (let x = edit.x % cols; x < Math.min(cols, (edit.x % cols) + edit.length); x++) row.set(x, row.text[x]!, row.width[x]!, r.fg, r.bg, r.attrs);
      const lines = fb.lines.slice();
      lines[y] = row;
      return withLines(fb, lines);
    }
    case 'row': {
      const lines = fb.lines.slice();
      lines[edit.y % rows] = rowFromSpec(cols, edit.spec);
      return withLines(fb, lines);
    }
    case 'rebuild': {
      // Same content, new objects: what an emulator that rebuilds rows hands over.
      const lines = fb.lines.slice();
      if (edit.all) for (let y = 0; y < rows; y++) lines[y] = fb.lines[y]!.clone();
      else lines[edit.y % rows] = fb.lines[edit.y % rows]!.clone();
      return withLines(fb, lines);
    }
    case 'wrap': {
      const y = edit.y % rows;
      const row = fb.lines[y]!.clone();
      row.wrapped = !row.wrapped;
      const lines = fb.lines.slice();
      lines[y] = row;
      return withLines(fb, lines);
    }
    case 'resize':
      return resize(fb, edit.cols, edit.rows);
    case 'cursor':
      return { ...fb, cursor: { x: edit.x % cols, y: edit.y % rows, visible: edit.visible, shape: edit.shape, blink: edit.blink } };
    case 'title':
      return edit.icon ? { ...fb, iconName: edit.title } : { ...fb, title: edit.title };
    case 'bell':
      return { ...fb, bellCount: fb.bellCount + edit.times };
    case 'modes':
      return { ...fb, modes: edit.modes };
    case 'clipboard':
      return { ...fb, clipboard: edit.clipboard };
  }
}

/** Truncates or pads rows and columns, as Mosh does (no reflow); a wide character cut in half becomes a blank. */
export function resize(fb: Framebuffer, cols: number, rows: number): Framebuffer {
  const lines: Row[] = [];
  const blank = Row.blank(cols);
  for (let y = 0; y < rows; y++) {
    const old = fb.lines[y];
    if (old === undefined) {
      lines.push(blank);
    } else if (cols === fb.cols) {
      lines.push(old);
    } else {
      const row = Row.blank(cols);
      for (let x = 0; x < Math.min(cols, fb.cols); x++) row.set(x, old.text[x]!, old.width[x]!, old.fg[x]!, old.bg[x]!, old.attrs[x]!);
      if (cols < fb.cols && row.width[cols - 1] === 2) row.set(cols - 1, BLANK, 1, row.fg[cols - 1]!, row.bg[cols - 1]!, row.attrs[cols - 1]!);
      row.wrapped = old.wrapped && cols >= fb.cols;
      lines.push(row);
    }
  }
  return {
    ...fb,
    cols,
    rows,
    lines,
    cursor: { ...fb.cursor, x: Math.min(fb.cursor.x, cols - 1), y: Math.min(fb.cursor.y, rows - 1) },
  };
}

/** A framebuffer and the same one after 1–5 random edits. */
export function editedPairArb(options: FramebufferArbOptions = {}): fc.Arbitrary<[Framebuffer, Framebuffer]> {
  return fc
    .tuple(framebufferArb(options), fc.array(framebufferEditArb(options), { minLength: 1, maxLength: 5 }))
    .map(([a, edits]): [Framebuffer, Framebuffer] => [a, edits.reduce(applyEdit, a)]);
}

/** A deep, independent snapshot of a framebuffer's content, for checking that nothing mutated it. */
export function snapshotFramebuffer(fb: Framebuffer): unknown {
  return {
    ...fb,
    lines: fb.lines.map((r) => ({ text: r.text.slice(), width: [...r.width], fg: [...r.fg], bg: [...r.bg], attrs: [...r.attrs], wrapped: r.wrapped })),
  };
}

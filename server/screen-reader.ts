/**
 * Turns the screen of an @xterm/headless terminal into our immutable Rows, rebuilding only the
 * rows that changed: an unchanged row comes back as the same Row object as last time, which is
 * what the diff and the renderer rely on.
 *
 * Two readers share one cell mapping:
 * - `FastScreenReader` reads xterm's private per-line cell arrays (see xterm-internals.ts). It
 *   looks only at the rows the parser reported dirty, and recognises lines that merely moved
 *   (scrolling) by the identity of xterm's line objects, so a scrolled screen rebuilds only the
 *   new rows.
 * - `PublicScreenReader` uses only the public API (every cell, every time); it is the fallback
 *   for an xterm whose internals no longer have the expected shape.
 *
 * Cell mapping (both readers): the text is xterm's `getChars()`, except that a never-written
 * cell is BLANK and the right half of a wide character is ''; a grapheme longer than
 * LIMITS.maxCellText is cut. A zero-width cell that is not the right half of a wide character (a
 * combining mark printed at column 0) becomes a width-1 cell showing the mark on a no-break
 * space, as Mosh draws it, so that width 0 always means "right half"; a wide character without
 * its right half (autowrap off at the last column, a shrunk line) becomes BLANK, so that width 2
 * is always followed by its right half. Colours keep xterm's layout;
 * the attributes are xterm's `is*()` getters (so an OSC 8 hyperlink counts as underlined, as
 * xterm draws it). `wrapped` on row y is xterm's `isWrapped` of row y + 1.
 */
import { Buffer } from 'node:buffer';
import type { IBufferCell, Terminal } from '@xterm/headless';
import { Attr, BLANK, LIMITS, Row, type Color } from '../protocol/framebuffer.js';
import { XTERM_CELL, type Disposable, type XtermInternals, type XtermLine } from './xterm-internals.js';

export interface ScreenReader {
  /**
   * The current screen, one Row per screen row. Rows that did not change since the previous call
   * are the same objects; when none changed, the very array returned last time comes back.
   */
  read(): readonly Row[];
  /** Forget which rows are known to be unchanged (call after a resize). */
  invalidate(): void;
  dispose(): void;
}

/** Shown under a combining mark that has no base character (Mosh's "fallback" cell). */
const NO_BREAK_SPACE = '\u00a0';

/** One-character strings for ASCII, so the common case allocates nothing. */
const ASCII: readonly string[] = Array.from({ length: 128 }, (_, i) => String.fromCharCode(i));

/** Cuts a grapheme to LIMITS.maxCellText UTF-16 units without splitting a surrogate pair. */
export function cutCellText(text: string): string {
  if (text.length <= LIMITS.maxCellText) return text;
  let end = LIMITS.maxCellText;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return text.slice(0, end);
}

/** xterm colour word (fg or bg) to our Color: same layout, flags and stray bits dropped. */
function colorOf(word: number): Color {
  const mode = word & XTERM_CELL.colorModeMask;
  if (mode === 0) return 0;
  if (mode === XTERM_CELL.colorModeMask) return word & XTERM_CELL.colorMask;
  return mode | (word & XTERM_CELL.paletteMask);
}

/** Attr bits for the flag bits 26..31 of the fg word. */
const FG_ATTRS: Uint16Array = (() => {
  const table = new Uint16Array(64);
  for (let i = 0; i < 64; i++) {
    const fg = (i << 26) >>> 0;
    let a = 0;
    if (fg & XTERM_CELL.fgInverse) a |= Attr.Inverse;
    if (fg & XTERM_CELL.fgBold) a |= Attr.Bold;
    if (fg & XTERM_CELL.fgUnderline) a |= Attr.Underline;
    if (fg & XTERM_CELL.fgBlink) a |= Attr.Blink;
    if (fg & XTERM_CELL.fgInvisible) a |= Attr.Invisible;
    if (fg & XTERM_CELL.fgStrikethrough) a |= Attr.Strikethrough;
    table[i] = a;
  }
  return table;
})();

/** Attr bits for the flag bits 26..31 of the bg word (extended attributes handled apart). */
const BG_ATTRS: Uint16Array = (() => {
  const table = new Uint16Array(64);
  for (let i = 0; i < 64; i++) {
    const bg = (i << 26) >>> 0;
    let a = 0;
    if (bg & XTERM_CELL.bgItalic) a |= Attr.Italic;
    if (bg & XTERM_CELL.bgDim) a |= Attr.Dim;
    if (bg & XTERM_CELL.bgOverline) a |= Attr.Overline;
    table[i] = a;
  }
  return table;
})();

/**
 * Fills `row`, fresh from Row.blank, from one xterm line (first `cols` cells). Returns the texts of the combined cells,
 * in column order, as xterm holds them (they live outside the cell words), or undefined if none.
 */
function fillRowFromLine(row: Row, line: XtermLine, cols: number): string[] | undefined {
  // Locals rather than XTERM_CELL property loads in the per-cell loop.
  const WORDS = XTERM_CELL.words;
  const WIDTH_SHIFT = XTERM_CELL.widthShift;
  const NARROW = 1 << WIDTH_SHIFT;
  const COMBINED = XTERM_CELL.combinedFlag;
  const CODEPOINT = XTERM_CELL.codepointMask;
  const HAS_EXTENDED = XTERM_CELL.bgHasExtended;
  const COLOR_MODE = XTERM_CELL.colorModeMask;
  let combined: string[] | undefined;
  const data = line._data;
  const { text, width, fg, bg, attrs } = row;
  for (let x = 0, i = 0; x < cols; x++, i += WORDS) {
    const content = data[i]!;
    const f = data[i + 1]!;
    const b = data[i + 2]!;
    const narrow = content ^ NARROW;
    if (narrow < 128) {
      // The common case: ASCII or a never-written cell, width 1 (Row.blank set the width).
      text[x] = narrow === 0 ? BLANK : ASCII[narrow]!;
    } else {
      let w = content >>> WIDTH_SHIFT;
      let t: string;
      if (content & COMBINED) {
        const raw = line._combined[x] ?? '';
        (combined ??= []).push(raw);
        t = cutCellText(raw);
      } else {
        const cp = content & CODEPOINT;
        t = cp === 0 ? (w === 0 ? '' : BLANK) : cp < 128 ? ASCII[cp]! : String.fromCodePoint(cp);
      }
      if (w === 0 && (x === 0 || width[x - 1] !== 2)) {
        // A zero-width cell that is not the right half of a wide character.
        t = t === '' ? BLANK : NO_BREAK_SPACE + t;
        w = 1;
      } else if (w === 2 && (x + 1 === cols || data[i + WORDS]! >>> WIDTH_SHIFT !== 0)) {
        // A wide character without its right half (xterm with autowrap off, or a shrunk line).
        t = BLANK;
        w = 1;
      } else if (t === '' && w !== 0) {
        t = BLANK;
      }
      text[x] = t;
      width[x] = w;
    }
    if (f & COLOR_MODE) fg[x] = colorOf(f);
    if (b & COLOR_MODE) bg[x] = colorOf(b);
    if ((f | b) >>> 26 !== 0) {
      let a = FG_ATTRS[f >>> 26]! | BG_ATTRS[b >>> 26]!;
      if (b & HAS_EXTENDED && (line._extendedAttrs[x]?.underlineStyle ?? 0) !== 0) a |= Attr.Underline;
      attrs[x] = a;
    }
  }
  return combined;
}

/** What the fast reader remembers about one xterm line object. */
interface LineMemo {
  /** Copy of the line's first cols*3 words when `row` was built, and a byte view of it. */
  readonly data: Uint32Array;
  readonly dataBytes: Buffer;
  /** The line's own word array when last compared, and a byte view of its first cols*3 words. */
  source: Uint32Array;
  sourceBytes: Buffer;
  /** The texts of its combined cells then, in column order. */
  combined: string[] | undefined;
  row: Row;
}

function bytesOf(words: Uint32Array, count: number): Buffer {
  return Buffer.from(words.buffer, words.byteOffset, count * 4);
}

function newMemo(line: XtermLine, count: number, combined: string[] | undefined, row: Row): LineMemo {
  const data = line._data.slice(0, count);
  return { data, dataBytes: bytesOf(data, count), source: line._data, sourceBytes: bytesOf(line._data, count), combined, row };
}

/**
 * True when `line` still holds what `memo` was built from: same words, and the same text in
 * cells whose text lives outside the words (combined graphemes).
 */
function lineUnchanged(memo: LineMemo, line: XtermLine, cols: number): boolean {
  const cur = line._data;
  const n = cols * XTERM_CELL.words;
  if (memo.data.length !== n) return false;
  // Compare as bytes (memcmp), several times faster than a loop over the words. The line keeps
  // its word array until a resize, so the view over it is made once.
  if (memo.source !== cur) {
    memo.source = cur;
    memo.sourceBytes = bytesOf(cur, n);
  }
  if (!memo.dataBytes.equals(memo.sourceBytes)) return false;
  const combined = memo.combined;
  if (combined === undefined) return true;
  // Same words, so the same cells are combined ones; compare their texts in order.
  for (let x = 0, i = 0, k = 0; x < cols; x++, i += XTERM_CELL.words) {
    if (cur[i]! & XTERM_CELL.combinedFlag && combined[k++] !== (line._combined[x] ?? '')) return false;
  }
  return true;
}

export class FastScreenReader implements ScreenReader {
  readonly #term: Terminal;
  readonly #internals: XtermInternals;
  readonly #subscription: Disposable;
  readonly #memos = new WeakMap<XtermLine, LineMemo>();
  #lines: (XtermLine | undefined)[] = [];
  #rows: Row[] = [];
  #buffer: unknown = undefined;
  #allDirty = true;
  /** xterm parsed something since the last read (every parse reports its dirty rows). */
  #parsed = false;
  #dirtyStart = Number.POSITIVE_INFINITY;
  #dirtyEnd = Number.NEGATIVE_INFINITY;

  constructor(term: Terminal, internals: XtermInternals) {
    this.#term = term;
    this.#internals = internals;
    this.#subscription = internals.onDirtyRows((range) => {
      this.#parsed = true;
      if (range === undefined) {
        this.#allDirty = true;
        return;
      }
      if (range.start < this.#dirtyStart) this.#dirtyStart = range.start;
      if (range.end > this.#dirtyEnd) this.#dirtyEnd = range.end;
    });
  }

  invalidate(): void {
    this.#allDirty = true;
  }

  read(): readonly Row[] {
    const cols = this.#term.cols;
    const rowCount = this.#term.rows;
    const buffer = this.#internals.activeBuffer();
    // The dirty range is reported relative to the viewport; nobody scrolls ours back, but if
    // someone did, trust nothing.
    const all =
      this.#allDirty || buffer !== this.#buffer || rowCount !== this.#rows.length || buffer.ydisp !== buffer.ybase;
    // Only parsing and resizing change the screen: nothing parsed, nothing to look at.
    if (!all && !this.#parsed) return this.#rows;
    this.#parsed = false;
    const dirtyStart = all ? 0 : this.#dirtyStart;
    const dirtyEnd = all ? rowCount - 1 : this.#dirtyEnd;
    this.#allDirty = false;
    this.#dirtyStart = Number.POSITIVE_INFINITY;
    this.#dirtyEnd = Number.NEGATIVE_INFINITY;
    this.#buffer = buffer;

    const lines = buffer.lines;
    const base = buffer.ybase;
    const prevLines = this.#lines;
    const prevRows = this.#rows;
    // A new array as soon as one row differs (or the row count changed); else the old one.
    let out: Row[] | undefined = prevRows.length === rowCount ? undefined : [];
    let line = lines.get(base);
    for (let y = 0; y < rowCount; y++) {
      const next = y + 1 < rowCount ? lines.get(base + y + 1) : undefined;
      const wrapped = next?.isWrapped ?? false;
      const prev = prevRows[y];
      let row: Row;
      if (prev !== undefined && (y < dirtyStart || y > dirtyEnd) && line === prevLines[y] && prev.wrapped === wrapped) {
        row = prev;
      } else {
        row = this.#rowFor(line, cols, wrapped);
      }
      if (row !== prev && out === undefined) out = prevRows.slice(0, y);
      if (out !== undefined) out.push(row);
      if (prevLines[y] !== line) prevLines[y] = line;
      line = next;
    }
    prevLines.length = rowCount;
    if (out === undefined) return prevRows;
    this.#rows = out;
    return out;
  }

  #rowFor(line: XtermLine | undefined, cols: number, wrapped: boolean): Row {
    if (line === undefined || line._data.length < cols * XTERM_CELL.words) {
      // Cannot happen with a consistent buffer; show blank rather than crash.
      const blank = Row.blank(cols);
      blank.wrapped = wrapped;
      return blank;
    }
    const memo = this.#memos.get(line);
    if (memo !== undefined && lineUnchanged(memo, line, cols)) {
      if (memo.row.wrapped !== wrapped) {
        const copy = memo.row.clone();
        copy.wrapped = wrapped;
        memo.row = copy;
      }
      return memo.row;
    }
    const row = Row.blank(cols);
    const combined = fillRowFromLine(row, line, cols);
    row.wrapped = wrapped;
    const n = cols * XTERM_CELL.words;
    if (memo !== undefined && memo.data.length === n) {
      memo.data.set(line._data.length === n ? line._data : line._data.subarray(0, n));
      memo.combined = combined;
      memo.row = row;
    } else {
      this.#memos.set(line, newMemo(line, n, combined, row));
    }
    return row;
  }

  dispose(): void {
    this.#subscription.dispose();
  }
}

/** Cell text through the public API, mapped as described at the top of this file. */
function publicCellText(cell: IBufferCell, leftWidth: number, rightWidth: number | undefined): { text: string; width: number } {
  const chars = cutCellText(cell.getChars());
  const w = cell.getWidth();
  if (w === 0 && leftWidth !== 2) return { text: chars === '' ? BLANK : NO_BREAK_SPACE + chars, width: 1 };
  if (w === 0) return { text: '', width: 0 };
  if (w === 2 && rightWidth !== 0) return { text: BLANK, width: 1 };
  return { text: chars === '' ? BLANK : chars, width: w };
}

function publicColor(mode: number, value: number): Color {
  if (mode === 0) return 0;
  return (mode | (value & 0xffffff)) >>> 0;
}

function publicAttrs(cell: IBufferCell): number {
  let a = 0;
  if (cell.isBold() !== 0) a |= Attr.Bold;
  if (cell.isDim() !== 0) a |= Attr.Dim;
  if (cell.isItalic() !== 0) a |= Attr.Italic;
  if (cell.isUnderline() !== 0) a |= Attr.Underline;
  if (cell.isBlink() !== 0) a |= Attr.Blink;
  if (cell.isInverse() !== 0) a |= Attr.Inverse;
  if (cell.isInvisible() !== 0) a |= Attr.Invisible;
  if (cell.isStrikethrough() !== 0) a |= Attr.Strikethrough;
  if (cell.isOverline() !== 0) a |= Attr.Overline;
  return a;
}

/** Reads every cell through the public API on every call; keeps unchanged rows by comparison. */
export class PublicScreenReader implements ScreenReader {
  readonly #term: Terminal;
  #rows: Row[] = [];

  constructor(term: Terminal) {
    this.#term = term;
  }

  invalidate(): void {
    // Every read compares every cell anyway.
  }

  read(): readonly Row[] {
    const cols = this.#term.cols;
    const rowCount = this.#term.rows;
    const buffer = this.#term.buffer.active;
    const cell = buffer.getNullCell();
    const prevRows = this.#rows;
    let changed = prevRows.length !== rowCount;
    const out: Row[] = [];
    for (let y = 0; y < rowCount; y++) {
      const line = buffer.getLine(buffer.baseY + y);
      const row = Row.blank(cols);
      if (line !== undefined) {
        for (let x = 0; x < cols; x++) {
          const rightWidth = x + 1 < cols ? line.getCell(x + 1, cell)?.getWidth() : undefined;
          if (line.getCell(x, cell) === undefined) break;
          const { text, width } = publicCellText(cell, x === 0 ? 1 : row.width[x - 1]!, rightWidth);
          row.set(x, text, width, publicColor(cell.getFgColorMode(), cell.getFgColor()), publicColor(cell.getBgColorMode(), cell.getBgColor()), publicAttrs(cell));
        }
      }
      row.wrapped = y + 1 < rowCount ? (buffer.getLine(buffer.baseY + y + 1)?.isWrapped ?? false) : false;
      const prev = prevRows[y];
      if (prev !== undefined && prev.equals(row)) {
        out.push(prev);
      } else {
        out.push(row);
        changed = true;
      }
    }
    if (!changed) return prevRows;
    this.#rows = out;
    return out;
  }

  dispose(): void {}
}

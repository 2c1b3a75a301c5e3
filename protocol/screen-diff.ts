/**
 * The compact binary diff between two Framebuffers: what the server sends so that the client's copy
 * of the screen becomes the server's, exactly (`framebuffersEqual(applyFramebufferDiff(a, diffFramebuffers(a, b)), b)`).
 *
 * Wire format: a sequence of operations, each an opcode byte then its arguments; the diff ends where
 * the bytes end, and an empty diff means "no change". Numbers are unsigned LEB128 varints.
 *
 *   RESIZE cols rows            must precede every row operation
 *   SKIP_ROWS n                 the next n rows keep their default (see below)
 *   COPY_ROWS src n             the next n rows are source rows src..src+n-1 (a scroll)
 *   BLANK_ROWS n                the next n rows are blank (default colours), one shared Row
 *   ROW_PATCH|wrapped  cells…   the next row is its default row with the cells changed
 *   ROW_NEW|wrapped    cells…   the next row is a blank row with the cells changed
 *   CURSOR_POS x y · CURSOR_STYLE bits · TITLE str · ICON str · BELL count · MODES bits
 *   CLIPBOARD serial selection data · CLIPBOARD_NONE
 *
 * Rows are written top to bottom; a row no operation reaches keeps its default: the source row at
 * the same index when the width did not change (the same Row object, shared), else a blank row.
 * Row sources are rows of the base framebuffer; scrolls are found by Row identity first, then by
 * content, the way Mosh's display finds them, and also inside scroll regions.
 *
 * A row's cells are a stream ended by CELL_END. The byte values 0xF8–0xFF never start a UTF-8
 * sequence, so they serve as cell operators and every other byte starts a glyph (one code point in
 * WTF-8, written to one cell with the current pen):
 *
 *   F8 len bytes  a glyph that is not exactly one code point (combining marks, or empty)
 *   F9 glyph      a wide glyph: the cell gets width 2, the next one ('', width 0, same pen)
 *   FA w glyph    one cell of width w (0..2), for cells that fit no other form
 *   FB n          n blank cells (' ', width 1) with the current pen: erased runs cost 2–3 bytes
 *   FC n          n more copies of the previous glyph (rules, ruled boxes, runs of '=' …)
 *   FD mask [fg] [bg] [attrs]   changes the pen; bits 1 fg, 2 bg, 4 attrs
 *   FE n          skip n cells (they keep the base row's content)
 *   FF            end of the row (cells not reached keep the base row's content)
 *
 * The pen starts as default colours with no attributes at the start of the diff and carries over
 * from row to row, so colours and attributes cost bytes only where they change.
 * A colour is one varint, `value << 2 | kind`: default 1 byte, 16-colour 1, 256-colour 2, RGB 4.
 *
 * Decoding bounds every count before using it (sizes within LIMITS, positions within the row,
 * string lengths against the bytes present), builds the result on the side, and throws
 * ScreenDiffError on anything malformed, so the base is never changed and nothing partial escapes.
 */
import { ByteReader } from './byte-reader.js';
import { ByteWriter } from './byte-writer.js';
import {
  ALL_ATTRS,
  BLANK,
  DEFAULT_COLOR,
  LIMITS,
  Row,
  type ClipboardWrite,
  type Color,
  type Cursor,
  type CursorShape,
  type Framebuffer,
  type MouseEncoding,
  type MouseTracking,
  type TerminalModes,
} from './framebuffer.js';

export class ScreenDiffError extends Error {
  override readonly name = 'ScreenDiffError';
}

/** Operations of the frame stream. */
export enum FrameOp {
  Resize = 0x01,
  CursorPos = 0x02,
  CursorStyle = 0x03,
  Title = 0x04,
  Icon = 0x05,
  Bell = 0x06,
  Modes = 0x07,
  Clipboard = 0x08,
  ClipboardNone = 0x09,
  SkipRows = 0x10,
  CopyRows = 0x11,
  BlankRows = 0x12,
  /** Low bit: the row's `wrapped` flag. */
  RowPatch = 0x20,
  RowPatchWrapped = 0x21,
  RowNew = 0x22,
  RowNewWrapped = 0x23,
}

/** Operators of a row's cell stream (bytes that never start a UTF-8 sequence). */
export enum CellOp {
  Cluster = 0xf8,
  Wide = 0xf9,
  Raw = 0xfa,
  Blanks = 0xfb,
  Repeat = 0xfc,
  Pen = 0xfd,
  Skip = 0xfe,
  End = 0xff,
}

const PEN_FG = 1;
const PEN_BG = 2;
const PEN_ATTRS = 4;

/** A cell's text is one grapheme cluster; this many UTF-8 bytes always hold LIMITS.maxCellText code units. */
const MAX_CLUSTER_BYTES = LIMITS.maxCellText * 3;
/** OSC 52 selections are a few letters from "cpqs01234567". */
export const MAX_CLIPBOARD_SELECTION = 16;
/** A colour on the wire is `value << 2 | kind` with a 24-bit value. */
const MAX_WIRE_COLOR = (0xffffff << 2) | 3;
/** Repeating a glyph pays once it runs at least this many extra times. */
const MIN_REPEAT = 3;
/** Scroll detection by content is tried at most this many times per diff, bounding its cost on a screen that changed everywhere. */
const MAX_CONTENT_SCROLL_SEARCHES = 4;

/** The current colours and attributes of the cell stream. */
interface Pen {
  fg: Color;
  bg: Color;
  attrs: number;
}

const SHAPES: readonly CursorShape[] = ['block', 'underline', 'bar'];
const MOUSE_TRACKING: readonly MouseTracking[] = ['none', 'x10', 'vt200', 'drag', 'any'];
const MOUSE_ENCODING: readonly MouseEncoding[] = ['default', 'utf8', 'sgr', 'urxvt'];

// ---------------------------------------------------------------------------------------------
// Encoder

/** The encoder's scratch state, reused for every diff so the hot path allocates nothing. */
const scratch = new ByteWriter(16 * 1024);
/** The pen as the decoder will have it: default at the start of a diff, carried from row to row. */
const encoderPen: Pen = { fg: DEFAULT_COLOR, bg: DEFAULT_COLOR, attrs: 0 };
let blankRowCache: Row = Row.blank(0);

function blankRowOf(cols: number): Row {
  if (blankRowCache.cols !== cols) blankRowCache = Row.blank(cols);
  return blankRowCache;
}

/**
 * The bytes that turn `from` into `to`; empty exactly when the two are equal.
 * With `out`, the diff is appended to it and the result is a view onto `out` (valid until `out` is
 * next written); without, the result is a fresh copy.
 */
export function diffFramebuffers(from: Framebuffer, to: Framebuffer, out?: ByteWriter): Uint8Array {
  const w = out ?? scratch;
  const start = out === undefined ? (scratch.reset(), 0) : out.length;
  if (from !== to) encodeFrame(w, from, to);
  return out === undefined ? w.toBytes(start) : w.view(start);
}

function encodeFrame(w: ByteWriter, from: Framebuffer, to: Framebuffer): void {
  const resized = from.cols !== to.cols || from.rows !== to.rows;
  if (resized) {
    w.u8(FrameOp.Resize);
    w.varint(to.cols);
    w.varint(to.rows);
  }
  encodeRows(w, from, to);
  const a = from.cursor;
  const b = to.cursor;
  if (a.x !== b.x || a.y !== b.y) {
    w.u8(FrameOp.CursorPos);
    w.varint(b.x);
    w.varint(b.y);
  }
  if (a.visible !== b.visible || a.blink !== b.blink || a.shape !== b.shape) {
    w.u8(FrameOp.CursorStyle);
    w.u8(encodeCursorStyle(b));
  }
  if (from.title !== to.title) {
    w.u8(FrameOp.Title);
    w.string(to.title);
  }
  if (from.iconName !== to.iconName) {
    w.u8(FrameOp.Icon);
    w.string(to.iconName);
  }
  if (from.bellCount !== to.bellCount) {
    w.u8(FrameOp.Bell);
    w.varint(to.bellCount);
  }
  const modes = encodeModes(to.modes);
  if (modes !== encodeModes(from.modes)) {
    w.u8(FrameOp.Modes);
    w.varint(modes);
  }
  encodeClipboard(w, from.clipboard, to.clipboard);
}

function encodeCursorStyle(c: Cursor): number {
  return (c.visible ? 1 : 0) | (c.blink ? 2 : 0) | (SHAPES.indexOf(c.shape) << 2);
}

function encodeModes(m: TerminalModes): number {
  return (
    (m.applicationCursorKeys ? 1 : 0) |
    (m.applicationKeypad ? 2 : 0) |
    (m.bracketedPaste ? 4 : 0) |
    (m.focusReporting ? 8 : 0) |
    (MOUSE_TRACKING.indexOf(m.mouseTracking) << 4) |
    (MOUSE_ENCODING.indexOf(m.mouseEncoding) << 7)
  );
}

function encodeClipboard(w: ByteWriter, a: ClipboardWrite | null, b: ClipboardWrite | null): void {
  if (a === b) return;
  if (b === null) {
    w.u8(FrameOp.ClipboardNone);
    return;
  }
  if (a !== null && a.serial === b.serial && a.selection === b.selection && a.data === b.data) return;
  w.u8(FrameOp.Clipboard);
  w.varint(b.serial);
  w.string(b.selection);
  w.string(b.data);
}

const RUN_NONE = 0;
const RUN_SKIP = 1;
const RUN_COPY = 2;
const RUN_BLANK = 3;

/**
 * Row operations. For each new row: the same object as the default, or equal to it → skip; a
 * source row found by identity or content (at the offset of the last scroll found, else by a
 * search) → COPY_ROWS; a blank row → BLANK_ROWS; otherwise a patch of the default row (or of a
 * blank one when there is no source row of this width). Consecutive skips, copies and blanks
 * merge into one operation each.
 */
function encodeRows(w: ByteWriter, from: Framebuffer, to: Framebuffer): void {
  const sameCols = from.cols === to.cols;
  const src = from.lines;
  const srcRows = sameCols ? from.rows : 0;
  const rows = to.rows;
  const blank = blankRowOf(to.cols);
  encoderPen.fg = DEFAULT_COLOR;
  encoderPen.bg = DEFAULT_COLOR;
  encoderPen.attrs = 0;

  let run = RUN_NONE;
  let runFrom = 0;
  let runCount = 0;
  /** Source index minus target index of the last scroll found. */
  let offset = 0;
  let searchesLeft = MAX_CONTENT_SCROLL_SEARCHES;
  let previousWasCopy = false;
  /** A row object already found to be blank: a cleared screen often repeats one shared Row. */
  let knownBlank: Row | undefined;

  const flush = (): void => {
    if (run === RUN_COPY) {
      w.u8(FrameOp.CopyRows);
      w.varint(runFrom);
      w.varint(runCount);
    } else if (run !== RUN_NONE) {
      w.u8(run === RUN_SKIP ? FrameOp.SkipRows : FrameOp.BlankRows);
      w.varint(runCount);
    }
    run = RUN_NONE;
    runCount = 0;
  };
  const extend = (kind: number, at: number): void => {
    if (run !== kind || (kind === RUN_COPY && runFrom + runCount !== at)) {
      flush();
      run = kind;
      runFrom = at;
    }
    runCount++;
  };

  for (let y = 0; y < rows; y++) {
    const row = to.lines[y]!;
    const base = y < srcRows ? src[y]! : blank;
    previousWasCopy = run === RUN_COPY;
    if (row === base) {
      extend(RUN_SKIP, 0);
      continue;
    }
    let found = -1;
    if (srcRows > 0) {
      const guess = y + offset;
      const guessValid = offset !== 0 && guess >= 0 && guess < srcRows;
      if (guessValid && src[guess] === row) found = guess;
      else found = indexOfRow(src, srcRows, row);
      if (found < 0 && guessValid && sameRow(src[guess]!, row)) found = guess;
    }
    if (found < 0) {
      if (sameRow(base, row)) {
        extend(RUN_SKIP, 0);
        continue;
      }
      if (base !== blank && (row === knownBlank || sameRow(blank, row))) {
        knownBlank = row;
        extend(RUN_BLANK, 0);
        continue;
      }
      if (srcRows > 0 && !previousWasCopy && searchesLeft > 0) {
        searchesLeft--;
        found = indexOfEqualRow(src, srcRows, row, y);
      }
    }
    if (found >= 0) {
      offset = found - y;
      extend(RUN_COPY, found);
      continue;
    }
    flush();
    const isNew = y >= srcRows;
    w.u8((isNew ? FrameOp.RowNew : FrameOp.RowPatch) | (row.wrapped ? 1 : 0));
    encodeCells(w, base, row, encoderPen);
  }
  // Trailing skips are implied.
  if (run !== RUN_SKIP) flush();
}

function indexOfRow(rows: readonly Row[], n: number, row: Row): number {
  for (let i = 0; i < n; i++) if (rows[i] === row) return i;
  return -1;
}

/** A source row with the same content as `row` (other than `skip`, which was already compared). */
function indexOfEqualRow(rows: readonly Row[], n: number, row: Row, skip: number): number {
  for (let i = 0; i < n; i++) if (i !== skip && sameRow(rows[i]!, row)) return i;
  return -1;
}

/** `a.equals(b)`, with the arrays held in locals: this runs over every cell of a changed screen. */
function sameRow(a: Row, b: Row): boolean {
  if (a === b) return true;
  const n = a.cols;
  if (n !== b.cols || a.wrapped !== b.wrapped) return false;
  const at = a.text;
  const bt = b.text;
  const aw = a.width;
  const bw = b.width;
  const af = a.fg;
  const bf = b.fg;
  const ab = a.bg;
  const bb = b.bg;
  const aa = a.attrs;
  const ba = b.attrs;
  for (let x = 0; x < n; x++) {
    if (at[x] !== bt[x] || aw[x] !== bw[x] || af[x] !== bf[x] || ab[x] !== bb[x] || aa[x] !== ba[x]) return false;
  }
  return true;
}

/** Writes the cells of `row` that differ from `base`, then CELL_END. */
function encodeCells(w: ByteWriter, base: Row, row: Row, pen: Pen): void {
  const cols = row.cols;
  const text = row.text;
  const width = row.width;
  const fg = row.fg;
  const bg = row.bg;
  const attrs = row.attrs;
  const bText = base.text;
  const bWidth = base.width;
  const bFg = base.fg;
  const bBg = base.bg;
  const bAttrs = base.attrs;
  // The pen in locals for the loop; stored back at the end.
  let penFg = pen.fg;
  let penBg = pen.bg;
  let penAttrs = pen.attrs;
  let written = 0;
  let x = 0;
  while (x < cols) {
    const t = text[x]!;
    const wd = width[x]!;
    const f = fg[x]!;
    const b = bg[x]!;
    const a = attrs[x]!;
    if (t === bText[x] && wd === bWidth[x] && f === bFg[x] && b === bBg[x] && a === bAttrs[x]) {
      x++;
      continue;
    }
    if (x > written) {
      w.u8(CellOp.Skip);
      w.varint(x - written);
    }
    if (f !== penFg || b !== penBg || a !== penAttrs) {
      const mask = (f !== penFg ? PEN_FG : 0) | (b !== penBg ? PEN_BG : 0) | (a !== penAttrs ? PEN_ATTRS : 0);
      w.u8(CellOp.Pen);
      w.u8(mask);
      if (mask & PEN_FG) w.varint(wireColor(f));
      if (mask & PEN_BG) w.varint(wireColor(b));
      if (mask & PEN_ATTRS) w.varint(a);
      penFg = f;
      penBg = b;
      penAttrs = a;
    }

    if (wd === 1 && t === BLANK) {
      let n = 1;
      while (x + n < cols && text[x + n] === BLANK && width[x + n] === 1 && fg[x + n] === f && bg[x + n] === b && attrs[x + n] === a) n++;
      if (n === 1) {
        w.u8(0x20);
      } else {
        w.u8(CellOp.Blanks);
        w.varint(n);
      }
      x += n;
      written = x;
      continue;
    }

    let span = 1;
    if (wd === 2 && x + 1 < cols && text[x + 1] === '' && width[x + 1] === 0 && fg[x + 1] === f && bg[x + 1] === b && attrs[x + 1] === a) {
      w.u8(CellOp.Wide);
      span = 2;
    } else if (wd !== 1) {
      w.u8(CellOp.Raw);
      w.u8(wd);
    }
    writeGlyph(w, t);

    // Further copies of the same glyph, as one REPEAT when that is shorter.
    let next = x + span;
    let repeats = 0;
    while (next + span <= cols && text[next] === t && sameSpan(row, next, x, span)) {
      repeats++;
      next += span;
    }
    if (repeats >= MIN_REPEAT) {
      w.u8(CellOp.Repeat);
      w.varint(repeats);
      x = next;
    } else {
      x += span;
    }
    written = x;
  }
  w.u8(CellOp.End);
  pen.fg = penFg;
  pen.bg = penBg;
  pen.attrs = penAttrs;
}

/** Cells at..at+span-1 look like cells of..of+span-1 of the same row. */
function sameSpan(row: Row, at: number, of: number, span: number): boolean {
  for (let i = 0; i < span; i++) if (!row.cellEquals(at + i, row, of + i)) return false;
  return true;
}

function wireColor(c: Color): number {
  return (c & 0xffffff) * 4 + ((c >>> 24) & 3);
}

/** One code point directly; anything else (combining marks, empty text) as a length-prefixed cluster. */
function writeGlyph(w: ByteWriter, t: string): void {
  const n = t.length;
  if (n === 1) {
    const c = t.charCodeAt(0);
    if (c < 0x80) w.u8(c);
    else w.codePoint(c);
    return;
  }
  if (n === 2) {
    const c = t.charCodeAt(0);
    const d = t.charCodeAt(1);
    if (c >= 0xd800 && c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
      w.codePoint(0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00));
      return;
    }
  }
  w.u8(CellOp.Cluster);
  w.string(t);
}

// ---------------------------------------------------------------------------------------------
// Decoder

/**
 * Applies a diff made by `diffFramebuffers(from, x)` and returns x; `from` is left alone.
 * Unchanged rows of the result are the very Row objects of `from`.
 * Throws ScreenDiffError on a malformed diff (or one that does not fit `from`).
 */
export function applyFramebufferDiff(from: Framebuffer, diff: Uint8Array): Framebuffer {
  if (diff.length === 0) return from;
  try {
    return decodeFrame(from, new ByteReader(diff, ScreenDiffError));
  } catch (err) {
    if (err instanceof ScreenDiffError) throw err;
    // Defensive: an engine error (e.g. out of memory in a string) must still look like a bad diff.
    throw new ScreenDiffError(`malformed screen diff: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function decodeFrame(from: Framebuffer, r: ByteReader): Framebuffer {
  let cols = from.cols;
  let rows = from.rows;
  let lines: Row[] | undefined;
  let y = 0;
  let cursor = from.cursor;
  let cursorX = cursor.x;
  let cursorY = cursor.y;
  let cursorStyle = -1;
  let title = from.title;
  let iconName = from.iconName;
  let bellCount = from.bellCount;
  let modes = from.modes;
  let clipboard = from.clipboard;
  const pen: Pen = { fg: DEFAULT_COLOR, bg: DEFAULT_COLOR, attrs: 0 };

  let blank: Row | undefined;
  const blankRow = (): Row => (blank ??= Row.blank(cols));
  const sameCols = (): boolean => cols === from.cols;
  /** What a row no operation reaches becomes. */
  const defaultRow = (at: number): Row => (sameCols() && at < from.rows ? from.lines[at]! : blankRow());
  const startRows = (): Row[] => {
    if (lines === undefined) {
      lines = new Array<Row>(rows);
      for (let i = 0; i < rows; i++) lines[i] = defaultRow(i);
    }
    return lines;
  };

  while (!r.atEnd) {
    const op = r.u8();
    switch (op) {
      case FrameOp.Resize: {
        if (lines !== undefined) r.fail('resize after row operations');
        cols = r.varint(LIMITS.maxCols, 'columns');
        rows = r.varint(LIMITS.maxRows, 'rows');
        if (cols === 0 || rows === 0) r.fail('a screen needs at least one row and one column');
        blank = undefined;
        break;
      }
      case FrameOp.SkipRows: {
        startRows();
        y += r.varint(rows - y, 'skipped rows');
        break;
      }
      case FrameOp.BlankRows: {
        const out = startRows();
        const n = r.varint(rows - y, 'blank rows');
        for (let i = 0; i < n; i++) out[y++] = blankRow();
        break;
      }
      case FrameOp.CopyRows: {
        const out = startRows();
        if (!sameCols()) r.fail('rows copied across a change of width');
        const s = r.varint(from.rows - 1, 'source row');
        const n = r.varint(Math.min(from.rows - s, rows - y), 'copied rows');
        for (let i = 0; i < n; i++) out[y++] = from.lines[s + i]!;
        break;
      }
      case FrameOp.RowPatch:
      case FrameOp.RowPatchWrapped:
      case FrameOp.RowNew:
      case FrameOp.RowNewWrapped: {
        const out = startRows();
        if (y >= rows) r.fail('row operation below the last row');
        const isNew = op === FrameOp.RowNew || op === FrameOp.RowNewWrapped;
        if (!isNew && !(sameCols() && y < from.rows)) r.fail('row patch with no source row');
        // Cloning is cheaper than building a blank row afresh.
        const row = isNew ? blankRow().clone() : from.lines[y]!.clone();
        row.wrapped = (op & 1) === 1;
        decodeCells(r, row, pen);
        out[y++] = row;
        break;
      }
      case FrameOp.CursorPos:
        cursorX = r.varint(LIMITS.maxCols - 1, 'cursor column');
        cursorY = r.varint(LIMITS.maxRows - 1, 'cursor row');
        break;
      case FrameOp.CursorStyle: {
        cursorStyle = r.u8();
        if (cursorStyle >> 2 >= SHAPES.length) r.fail(`bad cursor style 0x${cursorStyle.toString(16)}`);
        break;
      }
      case FrameOp.Title:
        title = r.string(LIMITS.maxTitle, 'title');
        break;
      case FrameOp.Icon:
        iconName = r.string(LIMITS.maxTitle, 'icon name');
        break;
      case FrameOp.Bell:
        bellCount = r.varint(Number.MAX_SAFE_INTEGER, 'bell count');
        break;
      case FrameOp.Modes:
        modes = decodeModes(r);
        break;
      case FrameOp.Clipboard: {
        const serial = r.varint(Number.MAX_SAFE_INTEGER, 'clipboard serial');
        const selection = r.string(MAX_CLIPBOARD_SELECTION, 'clipboard selection');
        const data = r.string(LIMITS.maxClipboard, 'clipboard data');
        clipboard = { serial, selection, data };
        break;
      }
      case FrameOp.ClipboardNone:
        clipboard = null;
        break;
      default:
        r.fail(`unknown screen diff operation 0x${op.toString(16)}`);
    }
  }

  if (cursorX >= cols || cursorY >= rows) r.fail(`cursor (${cursorX}, ${cursorY}) outside a ${cols}x${rows} screen`);
  if (cursorStyle >= 0 || cursorX !== cursor.x || cursorY !== cursor.y) {
    const style = cursorStyle >= 0 ? cursorStyle : encodeCursorStyle(cursor);
    cursor = { x: cursorX, y: cursorY, visible: (style & 1) !== 0, blink: (style & 2) !== 0, shape: SHAPES[style >> 2]! };
  }
  const resized = cols !== from.cols || rows !== from.rows;
  return {
    cols,
    rows,
    lines: lines ?? (resized ? startRows() : from.lines),
    cursor,
    title,
    iconName,
    bellCount,
    modes,
    clipboard,
  };
}

function decodeModes(r: ByteReader): TerminalModes {
  const bits = r.varint(0x1ff, 'modes');
  const tracking = MOUSE_TRACKING[(bits >> 4) & 7];
  const encoding = MOUSE_ENCODING[(bits >> 7) & 3];
  if (tracking === undefined || encoding === undefined) r.fail(`bad modes 0x${bits.toString(16)}`);
  return {
    applicationCursorKeys: (bits & 1) !== 0,
    applicationKeypad: (bits & 2) !== 0,
    bracketedPaste: (bits & 4) !== 0,
    focusReporting: (bits & 8) !== 0,
    mouseTracking: tracking,
    mouseEncoding: encoding,
  };
}

function readColor(r: ByteReader, what: string): Color {
  const v = r.varint(MAX_WIRE_COLOR, what);
  const kind = v & 3;
  return kind === 0 && v === 0 ? DEFAULT_COLOR : ((kind << 24) | Math.floor(v / 4)) >>> 0;
}

/** Decodes one row's cell stream into `row` (a fresh copy, so a failure leaves nothing behind). */
function decodeCells(r: ByteReader, row: Row, pen: Pen): void {
  const cols = row.cols;
  let x = 0;
  // The previous glyph, for REPEAT.
  let lastText: string | undefined;
  let lastWidth = 1;
  let lastSpan = 1;
  for (;;) {
    const b = r.u8();
    if (b < CellOp.Cluster || b === CellOp.Cluster) {
      if (x >= cols) r.fail('cells beyond the end of the row');
      const t = readGlyph(r, b);
      row.set(x++, t, 1, pen.fg, pen.bg, pen.attrs);
      lastText = t;
      lastWidth = 1;
      lastSpan = 1;
      continue;
    }
    switch (b) {
      case CellOp.End:
        return;
      case CellOp.Skip:
        x += r.varint(cols - x, 'skipped cells');
        break;
      case CellOp.Pen: {
        const mask = r.u8();
        if (mask === 0 || mask > 7) r.fail(`bad pen mask ${mask}`);
        if (mask & PEN_FG) pen.fg = readColor(r, 'foreground');
        if (mask & PEN_BG) pen.bg = readColor(r, 'background');
        if (mask & PEN_ATTRS) pen.attrs = r.varint(ALL_ATTRS, 'attributes');
        break;
      }
      case CellOp.Blanks: {
        const n = r.varint(cols - x, 'blank cells');
        for (let i = 0; i < n; i++) row.set(x++, BLANK, 1, pen.fg, pen.bg, pen.attrs);
        lastText = BLANK;
        lastWidth = 1;
        lastSpan = 1;
        break;
      }
      case CellOp.Wide: {
        if (x + 2 > cols) r.fail('wide character beyond the end of the row');
        const t = readGlyph(r, r.u8());
        row.set(x++, t, 2, pen.fg, pen.bg, pen.attrs);
        row.set(x++, '', 0, pen.fg, pen.bg, pen.attrs);
        lastText = t;
        lastWidth = 2;
        lastSpan = 2;
        break;
      }
      case CellOp.Raw: {
        if (x >= cols) r.fail('cells beyond the end of the row');
        const wd = r.u8();
        if (wd > 2) r.fail(`cell width ${wd}`);
        const t = readGlyph(r, r.u8());
        row.set(x++, t, wd, pen.fg, pen.bg, pen.attrs);
        lastText = t;
        lastWidth = wd;
        lastSpan = 1;
        break;
      }
      case CellOp.Repeat: {
        if (lastText === undefined) r.fail('repeat with no glyph before it');
        const n = r.varint(Math.floor((cols - x) / lastSpan), 'repeats');
        for (let i = 0; i < n; i++) {
          row.set(x++, lastText, lastWidth, pen.fg, pen.bg, pen.attrs);
          if (lastSpan === 2) row.set(x++, '', 0, pen.fg, pen.bg, pen.attrs);
        }
        break;
      }
    }
  }
}

/** A glyph starting with byte `lead` (already read): one code point, or a CLUSTER. */
function readGlyph(r: ByteReader, lead: number): string {
  if (lead < 0x80) return String.fromCharCode(lead);
  if (lead === CellOp.Cluster) {
    const n = r.varint(MAX_CLUSTER_BYTES, 'cluster length');
    return r.wtf8(n, LIMITS.maxCellText, 'cell text');
  }
  if (lead > CellOp.Cluster) r.fail(`expected a glyph, found operator 0x${lead.toString(16)}`);
  const cp = r.codePointAfter(lead);
  return String.fromCodePoint(cp);
}

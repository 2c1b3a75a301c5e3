/**
 * The screen model both ends share: what a terminal shows, and nothing about how it got there.
 *
 * The server fills a Framebuffer from its emulator; the wire carries diffs between two of them;
 * the client overlays predictions on one and renders it onto the user's terminal.
 *
 * Rows are immutable once built and are shared between successive framebuffers, so copying a
 * screen is copying an array of references, and "this row did not change" is `a === b`.
 */

/**
 * A colour packed in one number: the top byte says which kind, the low 24 bits the value.
 * The layout matches xterm.js's own (CM_DEFAULT / CM_P16 / CM_P256 / CM_RGB), so the emulator
 * copies colours without translating them.
 */
export type Color = number;

export enum ColorKind {
  Default = 0,
  /** Index 0–15 from `ESC[3Xm` / `ESC[9Xm` (and the background forms). */
  Palette16 = 1,
  /** Index 0–255 from `ESC[38;5;Nm`. */
  Palette256 = 2,
  /** 0xRRGGBB from `ESC[38;2;R;G;Bm`. */
  Rgb = 3,
}

export const DEFAULT_COLOR: Color = 0;

export function color(kind: ColorKind, value: number): Color {
  return kind === ColorKind.Default ? 0 : ((kind << 24) | (value & 0xffffff)) >>> 0;
}

export function colorKind(c: Color): ColorKind {
  return (c >>> 24) as ColorKind;
}

export function colorValue(c: Color): number {
  return c & 0xffffff;
}

/** Character attributes as a bit set. */
export enum Attr {
  None = 0,
  Bold = 1 << 0,
  Dim = 1 << 1,
  Italic = 1 << 2,
  Underline = 1 << 3,
  Blink = 1 << 4,
  Inverse = 1 << 5,
  Invisible = 1 << 6,
  Strikethrough = 1 << 7,
  Overline = 1 << 8,
}

/** Every attribute bit that is defined; anything else read from the wire is an error. */
export const ALL_ATTRS = 0x1ff;

/** Bytes of typed-array storage per cell (see Row). */
const CELL_BYTES = 11;

/** The text of a cell that shows nothing. Never-written cells are normalised to this. */
export const BLANK = ' ';

/**
 * One screen line. Cell x has:
 * - `text[x]`: one whole grapheme cluster (base character plus combining marks), `' '` when blank,
 *   and `''` for the right half of a wide character;
 * - `width[x]`: 1, 2 for the left half of a wide character, 0 for its right half;
 * - `fg[x]`, `bg[x]`: Colors; `attrs[x]`: Attr bits.
 * `wrapped` says the line continues on the next row (the terminal wrapped it at the last column).
 *
 * Treat a Row as immutable once it is published in a Framebuffer; build new ones with
 * `Row.blank(...)` then fill, or `row.clone()` then change the copy.
 */
export class Row {
  readonly text: string[];
  readonly width: Uint8Array;
  readonly fg: Uint32Array;
  readonly bg: Uint32Array;
  readonly attrs: Uint16Array;
  wrapped: boolean;

  private constructor(text: string[], width: Uint8Array, fg: Uint32Array, bg: Uint32Array, attrs: Uint16Array, wrapped: boolean) {
    this.text = text;
    this.width = width;
    this.fg = fg;
    this.bg = bg;
    this.attrs = attrs;
    this.wrapped = wrapped;
  }

  /**
   * The four per-cell arrays as views of one buffer: one allocation per row instead of four (rows
   * are made on every changed line of every frame, on both ends), and one copy to clone.
   * Layout: fg (4 bytes a cell), bg (4), attrs (2), width (1).
   */
  static #views(buffer: ArrayBuffer, cols: number): [Uint32Array, Uint32Array, Uint16Array, Uint8Array] {
    return [new Uint32Array(buffer, 0, cols), new Uint32Array(buffer, 4 * cols, cols), new Uint16Array(buffer, 8 * cols, cols), new Uint8Array(buffer, 10 * cols, cols)];
  }

  /** A row of blank cells, optionally with a background colour (as an erase with BCE leaves). */
  static blank(cols: number, background: Color = DEFAULT_COLOR): Row {
    const [fg, bg, attrs, width] = Row.#views(new ArrayBuffer(CELL_BYTES * cols), cols);
    if (background !== DEFAULT_COLOR) bg.fill(background);
    width.fill(1);
    return new Row(new Array<string>(cols).fill(BLANK), width, fg, bg, attrs, false);
  }

  get cols(): number {
    return this.text.length;
  }

  clone(): Row {
    const cols = this.text.length;
    const [fg, bg, attrs, width] = Row.#views(this.fg.buffer.slice(0, CELL_BYTES * cols) as ArrayBuffer, cols);
    return new Row(this.text.slice(), width, fg, bg, attrs, this.wrapped);
  }

  /** Sets one cell. For a wide character, also set the next cell to `('', 0, same colours)`. */
  set(x: number, text: string, width: number, fg: Color, bg: Color, attrs: number): void {
    this.text[x] = text;
    this.width[x] = width;
    this.fg[x] = fg;
    this.bg[x] = bg;
    this.attrs[x] = attrs;
  }

  /** True when cell x of this row and cell x of `other` look the same. */
  cellEquals(x: number, other: Row, ox: number = x): boolean {
    return (
      this.text[x] === other.text[ox] &&
      this.width[x] === other.width[ox] &&
      this.fg[x] === other.fg[ox] &&
      this.bg[x] === other.bg[ox] &&
      this.attrs[x] === other.attrs[ox]
    );
  }

  equals(other: Row): boolean {
    if (this === other) return true;
    const n = this.cols;
    if (n !== other.cols || this.wrapped !== other.wrapped) return false;
    for (let x = 0; x < n; x++) if (!this.cellEquals(x, other)) return false;
    return true;
  }

  /** The row's text with blanks as spaces and wide right halves skipped; for tests and logs. */
  toString(): string {
    return this.text.join('');
  }
}

export type CursorShape = 'block' | 'underline' | 'bar';

export interface Cursor {
  /** Column 0..cols-1. (A terminal's pending-wrap position, x === cols, is clamped to cols-1.) */
  readonly x: number;
  /** Row 0..rows-1. */
  readonly y: number;
  readonly visible: boolean;
  readonly shape: CursorShape;
  readonly blink: boolean;
}

/** Mouse reporting modes an application can ask for (DEC private modes 9, 1000, 1002, 1003). */
export type MouseTracking = 'none' | 'x10' | 'vt200' | 'drag' | 'any';

/** How mouse reports are encoded (default, or DEC private modes 1005, 1006, 1015). */
export type MouseEncoding = 'default' | 'utf8' | 'sgr' | 'urxvt';

/** The terminal modes the client must mirror on the user's real terminal. */
export interface TerminalModes {
  /** DECCKM (?1): arrows send ESC O A rather than ESC [ A. */
  readonly applicationCursorKeys: boolean;
  /** DECKPAM / DECKPNM. */
  readonly applicationKeypad: boolean;
  /** ?2004. */
  readonly bracketedPaste: boolean;
  readonly mouseTracking: MouseTracking;
  readonly mouseEncoding: MouseEncoding;
  /** ?1004. */
  readonly focusReporting: boolean;
}

export const DEFAULT_MODES: TerminalModes = Object.freeze({
  applicationCursorKeys: false,
  applicationKeypad: false,
  bracketedPaste: false,
  mouseTracking: 'none',
  mouseEncoding: 'default',
  focusReporting: false,
});

/**
 * The newest OSC 52 clipboard write. `serial` grows with every write, so the same text copied
 * twice is still delivered twice.
 */
export interface ClipboardWrite {
  readonly serial: number;
  /** The selection parameter, e.g. 'c' or 'p' (OSC 52 allows several, e.g. 'cs'). */
  readonly selection: string;
  /** The payload as the application sent it: base64 text (or '?' for a query, which we never forward). */
  readonly data: string;
}

export const DEFAULT_CURSOR: Cursor = Object.freeze({ x: 0, y: 0, visible: true, shape: 'block', blink: true });

/** Bounds every decoder enforces before allocating anything. */
export const LIMITS = Object.freeze({
  maxCols: 1000,
  maxRows: 500,
  /** A grapheme cluster longer than this (in UTF-16 units) is cut. */
  maxCellText: 32,
  maxTitle: 4096,
  /** OSC 52 payloads larger than this are dropped by the emulator. */
  maxClipboard: 1 << 20,
});

/** One whole screen: what the user should see. Immutable by convention. */
export interface Framebuffer {
  readonly cols: number;
  readonly rows: number;
  /** Exactly `rows` rows, each of exactly `cols` cells. */
  readonly lines: readonly Row[];
  readonly cursor: Cursor;
  readonly title: string;
  readonly iconName: string;
  /** Counts every BEL; the client rings once when it grows. */
  readonly bellCount: number;
  readonly modes: TerminalModes;
  readonly clipboard: ClipboardWrite | null;
}

/** A blank screen of the given size with everything at its default. */
export function blankFramebuffer(cols: number, rows: number): Framebuffer {
  const blankRow = Row.blank(cols);
  return {
    cols,
    rows,
    lines: new Array<Row>(rows).fill(blankRow),
    cursor: DEFAULT_CURSOR,
    title: '',
    iconName: '',
    bellCount: 0,
    modes: DEFAULT_MODES,
    clipboard: null,
  };
}

function sameModes(a: TerminalModes, b: TerminalModes): boolean {
  return (
    a === b ||
    (a.applicationCursorKeys === b.applicationCursorKeys &&
      a.applicationKeypad === b.applicationKeypad &&
      a.bracketedPaste === b.bracketedPaste &&
      a.mouseTracking === b.mouseTracking &&
      a.mouseEncoding === b.mouseEncoding &&
      a.focusReporting === b.focusReporting)
  );
}

function sameCursor(a: Cursor, b: Cursor): boolean {
  return a === b || (a.x === b.x && a.y === b.y && a.visible === b.visible && a.shape === b.shape && a.blink === b.blink);
}

function sameClipboard(a: ClipboardWrite | null, b: ClipboardWrite | null): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  return a.serial === b.serial && a.selection === b.selection && a.data === b.data;
}

/** Everything except the cells: cheap to compare first. */
export function sameFrameMetadata(a: Framebuffer, b: Framebuffer): boolean {
  return (
    a.cols === b.cols &&
    a.rows === b.rows &&
    a.title === b.title &&
    a.iconName === b.iconName &&
    a.bellCount === b.bellCount &&
    sameCursor(a.cursor, b.cursor) &&
    sameModes(a.modes, b.modes) &&
    sameClipboard(a.clipboard, b.clipboard)
  );
}

export function framebuffersEqual(a: Framebuffer, b: Framebuffer): boolean {
  if (a === b) return true;
  if (!sameFrameMetadata(a, b)) return false;
  for (let y = 0; y < a.rows; y++) {
    const ra = a.lines[y]!;
    const rb = b.lines[y]!;
    if (!ra.equals(rb)) return false;
  }
  return true;
}

/**
 * The client's renderer: from what the user's terminal shows now to what it should show, the
 * escape sequences that get it there, with few bytes.
 *
 * Pure: no I/O and no state between calls. The caller keeps the frame it last rendered and passes
 * it back as `shown`. Between frames the terminal is left in a known state, which each frame
 * assumes of the last one: the cursor at `shown.cursor` (never in the pending-wrap state), the
 * default rendition, the full screen as scroll region, origin mode off and autowrap on.
 *
 * How a frame is drawn (Mosh's Display::new_frame did the same job; this is our own take):
 * 1. events and metadata: bell, title and icon name, OSC 52 clipboard;
 * 2. a scroll, if the screen scrolled (found by row content, see scroll-detect.ts), done with line
 *    feeds at the bottom of a scroll region (reverse index at its top for downward scrolls);
 * 3. each changed row, changed cells only, with the cheapest cursor move between runs, erases
 *    (EL, ECH) for runs of blanks where the terminal fills them as we need, and SGR only where the
 *    rendition changes;
 * 4. input modes, cursor shape, position and visibility.
 * Everything is wrapped in synchronized output so the terminal shows the frame at once.
 */
import {
  DEFAULT_CURSOR,
  DEFAULT_MODES,
  type Framebuffer,
  LIMITS,
  Row,
} from '../protocol/framebuffer.js';
import { applyScroll, findScroll, type Scroll } from './scroll-detect.js';
import { sgrTransition } from './sgr.js';
import { DEFAULT_CAPABILITIES, type TerminalCapabilities } from './terminal-capabilities.js';
import { cursorStyleParam, cursorStyleSequence, modeTransition } from './terminal-modes.js';

const SYNC_BEGIN = '\x1b[?2026h';
const SYNC_END = '\x1b[?2026l';

/**
 * Puts a terminal of unknown state into the state frames assume, then clears it: scroll region,
 * origin mode off, autowrap on, insert mode off, G0 = ASCII, default rendition, home, erase all.
 */
const REPAINT_PRELUDE = '\x1b[r\x1b[?6l\x1b[?7h\x1b[4l\x1b(B\x0f\x1b[m\x1b[H\x1b[2J';

/** Cursor coordinate that is not known (after a character whose width the terminal may disagree on). */
const UNKNOWN = -1;

/**
 * True when every terminal in use agrees that the cell's text is `width` columns wide.
 * After any other character the renderer does not trust its idea of the cursor column and moves
 * the cursor explicitly, so a terminal with other width tables cannot shift the rest of the line.
 */
export function isCertainWidth(text: string, width: number): boolean {
  if (text.length !== 1) return false;
  const c = text.charCodeAt(0);
  if (width === 1) {
    return (
      (c >= 0x20 && c < 0x7f) ||
      // Latin-1 and Latin Extended, IPA, Greek, Cyrillic, box drawing and blocks, Braille.
      (c >= 0xa0 && c < 0x300 && c !== 0xad) ||
      (c >= 0x370 && c < 0x483) ||
      (c >= 0x48a && c < 0x530) ||
      (c >= 0x2500 && c < 0x25a0) ||
      (c >= 0x2800 && c < 0x2900)
    );
  }
  if (width === 2) {
    // Kana, CJK ideographs, Hangul syllables, fullwidth forms: wide everywhere.
    return (c >= 0x3041 && c < 0x3100) || (c >= 0x4e00 && c < 0xa000) || (c >= 0xac00 && c < 0xd7a4) || (c >= 0xff01 && c < 0xff61);
  }
  return false;
}

/** True when the text holds a C0 or C1 control, which must never reach the terminal from a cell. */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c < 0xa0)) return true;
  }
  return false;
}

/** A title or icon name with controls removed, so it cannot end its OSC early. */
function sanitizeTitle(title: string): string {
  const t = title.length > LIMITS.maxTitle ? title.slice(0, LIMITS.maxTitle) : title;
  return hasControl(t) ? t.replace(/[\x00-\x1f\x7f-\x9f]/g, '') : t;
}

const BASE64 = /^[A-Za-z0-9+/=]*$/;
const CLIPBOARD_SELECTION = /^[cpqs0-7]*$/;

function cup(x: number, y: number): string {
  if (x === 0) return y === 0 ? '\x1b[H' : `\x1b[${y + 1}H`;
  return `\x1b[${y + 1};${x + 1}H`;
}

/** Column x on the current row, from anywhere on it (CR for column 0, else CHA). */
function cha(x: number): string {
  return x === 0 ? '\r' : `\x1b[${x + 1}G`;
}

function cuf(n: number): string {
  return n === 1 ? '\x1b[C' : `\x1b[${n}C`;
}

function cub(n: number): string {
  return n <= 3 ? '\b'.repeat(n) : `\x1b[${n}D`;
}

function cud(n: number): string {
  return n === 1 ? '\x1b[B' : `\x1b[${n}B`;
}

/** Up n rows. RI (ESC M) for one row: the renderer never uses it on the top row, where it would scroll. */
function cuu(n: number): string {
  return n === 1 ? '\x1bM' : `\x1b[${n}A`;
}

/** Shared default blank rows by width (rows are immutable once published). */
const blankRows = new Map<number, Row>();

function blankRow(cols: number): Row {
  let row = blankRows.get(cols);
  if (row === undefined) {
    row = Row.blank(cols);
    blankRows.set(cols, row);
  }
  return row;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * Draws cells onto the terminal while tracking where its cursor is and what rendition is active.
 * One per frame.
 */
class Painter {
  out = '';
  /** Cursor column; `cols` means the pending-wrap state after writing the last column. */
  cx: number;
  cy: number;
  /** The active rendition; every frame starts (and ends) with the default. */
  penFg = 0;
  penBg = 0;
  penAttrs = 0;
  /** `lineWrapped[m]`: line m of the terminal continues line m-1 (where xterm keeps the flag). */
  readonly lineWrapped: Uint8Array;
  /** Set by putCell: the width of what it wrote, as the loop should advance. */
  private advance = 1;
  /**
   * Set by putCell after a character whose width terminals disagree on: the column after it,
   * which paintRow then rewrites even if unchanged, in case the terminal drew the character wider.
   */
  private uncertainEnd = -1;
  /** Set by tryErase: the first column after the erased run. */
  private eraseEnd = 0;
  /** Set by tryErase when it declines: cells before this column are written, not erased. */
  private writeUntil = 0;

  constructor(
    readonly cols: number,
    readonly rows: number,
    readonly target: readonly Row[],
    readonly caps: TerminalCapabilities,
    cursor: { x: number; y: number },
  ) {
    this.cx = cursor.x;
    this.cy = cursor.y;
    this.lineWrapped = new Uint8Array(rows);
  }

  // --- rendition ---

  setPen(fg: number, bg: number, attrs: number): void {
    if (fg === this.penFg && bg === this.penBg && attrs === this.penAttrs) return;
    this.out += sgrTransition(this.penFg, this.penBg, this.penAttrs, fg, bg, attrs);
    this.penFg = fg;
    this.penBg = bg;
    this.penAttrs = attrs;
  }

  /** A pen whose background erases fill with `bg` (the foreground does not matter to an erase). */
  setEraseBg(bg: number): void {
    if (this.penAttrs === 0) this.setPen(this.penFg, bg, 0);
    else this.setPen(0, bg, 0);
  }

  resetPen(): void {
    this.setPen(0, 0, 0);
  }

  // --- cursor movement ---

  /**
   * Cells from..to-1 of row y written out, when that is a shorter way to move right than a cursor
   * move: plain ASCII cells in the current rendition only. null when not applicable.
   */
  private filler(from: number, to: number, y: number): string | null {
    if (to - from > 2) return null;
    const row = this.target[y]!;
    let s = '';
    for (let x = from; x < to; x++) {
      const t = row.text[x]!;
      if (t.length !== 1 || row.width[x] !== 1 || row.fg[x] !== this.penFg || row.bg[x] !== this.penBg || row.attrs[x] !== this.penAttrs) return null;
      const c = t.charCodeAt(0);
      if (c < 0x20 || c >= 0x7f) return null;
      s += t;
    }
    return s;
  }

  /** The shortest move along row y from column `from` (UNKNOWN if not known) to x. */
  private horizontal(from: number, x: number, y: number): string {
    if (from === x) return '';
    let best = cha(x);
    if (from >= 0) {
      if (x > from) {
        const c = cuf(x - from);
        if (c.length < best.length) best = c;
        const f = this.filler(from, x, y);
        if (f !== null && f.length < best.length) best = f;
      } else {
        const c = cub(from - x);
        if (c.length < best.length) best = c;
      }
    }
    return best;
  }

  /**
   * Line feeds onto line r clear its wrap flag in xterm.js; use them only where the target does
   * not want the flag.
   */
  private lineFeedsAllowed(fromY: number, y: number): boolean {
    for (let r = fromY + 1; r <= y; r++) if (this.target[r - 1]!.wrapped) return false;
    return true;
  }

  private vertical(fromY: number, y: number): string {
    const dy = y - fromY;
    if (dy < 0) return cuu(-dy);
    const c = cud(dy);
    return dy < c.length && this.lineFeedsAllowed(fromY, y) ? '\n'.repeat(dy) : c;
  }

  /** Moves the cursor to (x, y). `printing`: a cell is written at (x, y) next. */
  moveTo(x: number, y: number, printing: boolean): void {
    if (this.cx === x && this.cy === y) return;
    const { cols } = this;
    if (printing && this.cx === cols && this.cy === y - 1 && this.target[y - 1]!.wrapped) {
      // In the pending-wrap state the next character wraps onto the next line by itself, and
      // the terminal then knows the two lines are one (copy and paste keep long lines whole).
      // Not with a character that might combine with the one before the wrap instead.
      const row = this.target[y]!;
      const f = x > 0 ? this.filler(0, x, y) : isCertainWidth(row.text[0]!, row.width[0]!) ? '' : null;
      if (f !== null) {
        this.out += f;
        this.lineWrapped[y] = 1;
        this.cx = x;
        this.cy = y;
        return;
      }
    }
    let best: string;
    if (this.cy < 0) {
      best = cup(x, y);
    } else {
      const col = this.cx >= 0 && this.cx < cols ? this.cx : UNKNOWN;
      if (this.cy === y) {
        best = this.horizontal(col, x, y);
      } else {
        best = cup(x, y);
        const v = this.vertical(this.cy, y);
        const a = '\r' + v + this.horizontal(0, x, y);
        if (a.length < best.length) best = a;
        // After line feeds the column is not known: Node's raw mode leaves ONLCR on, so the user's
        // tty turns each LF into CR LF. Only an absolute column move is safe there.
        const b = v + this.horizontal(v.charCodeAt(0) === 10 ? UNKNOWN : col, x, y);
        if (b.length < best.length) best = b;
        if (y > this.cy && (best === a || best === b) && v.charCodeAt(0) === 10) {
          for (let r = this.cy + 1; r <= y; r++) this.lineWrapped[r] = 0;
        }
      }
    }
    this.out += best;
    this.cx = x;
    this.cy = y;
  }

  // --- cells ---

  /** Writes cell x of `row` at the cursor (which is at (x, y)); sets `advance`. */
  putCell(x: number, row: Row): void {
    const { cols } = this;
    let text = row.text[x]!;
    let width = row.width[x]!;
    let certain: boolean;
    const c = text.charCodeAt(0);
    if (text.length === 1 && width === 1 && c >= 0x20 && c < 0x7f) {
      certain = true;
    } else {
      if (width === 2 && x + 1 >= cols) text = ' '; // a wide character cannot start in the last column
      if (width !== 2 || x + 1 >= cols) width = 1;
      if (text === '' || text === '\u0000') text = ' ';
      else if (hasControl(text)) text = width === 2 ? '??' : '?';
      certain = text === '??' || isCertainWidth(text, width);
    }
    this.setPen(row.fg[x]!, row.bg[x]!, row.attrs[x]!);
    this.advance = width;
    if (certain) {
      this.out += text;
      this.cx = x + width;
    } else {
      // A terminal that thinks the character is wider would wrap it onto the next line (and
      // scroll the screen on the last one): in the last column, write it with autowrap off.
      this.out += x + width >= cols ? '\x1b[?7l' + text + '\x1b[?7h' : text;
      this.cx = UNKNOWN;
      this.uncertainEnd = x + width;
    }
  }

  /** Cell x of `row` is a blank that an erase with the right background produces exactly. */
  private erasable(row: Row, x: number): boolean {
    return (
      row.text[x] === ' ' &&
      row.width[x] === 1 &&
      row.fg[x] === 0 &&
      row.attrs[x] === 0 &&
      (row.bg[x] === 0 || this.caps.backgroundColorErase)
    );
  }

  /**
   * Erases the run of blanks that starts at x (stopping before `limit`) with EL or ECH when that
   * is cheaper than writing spaces. Returns false to have the caller write the cells instead.
   */
  private tryErase(y: number, from: Row, to: Row, x: number, limit: number): boolean {
    if (x < this.writeUntil) return false;
    const bg = to.bg[x]!;
    let e = x + 1;
    while (e < limit && this.erasable(to, e) && to.bg[e] === bg) e++;
    let last = e - 1;
    while (last > x && from.cellEquals(last, to)) last--;
    const n = last - x + 1;
    this.writeUntil = last + 1;
    if (e === this.cols) {
      if (n <= 3) return false;
      this.moveTo(x, y, false);
      this.setEraseBg(bg);
      this.out += '\x1b[K';
      if (x === 0) this.lineWrapped[y] = 0;
      this.eraseEnd = this.cols;
      return true;
    }
    if (!this.caps.eraseCharacters) return false;
    // After ECH the cursor is still at x; if more of the row follows, moving on costs a few bytes.
    let more = false;
    for (let i = last + 1; i < this.cols && !more; i++) more = i >= limit || !from.cellEquals(i, to);
    if (n <= (more ? 8 : 4)) return false;
    this.moveTo(x, y, false);
    this.setEraseBg(bg);
    this.out += `\x1b[${n}X`;
    this.eraseEnd = last + 1;
    return true;
  }

  /**
   * Paints the cells of row y that differ between `from` (on screen) and `to`.
   * `forceHead`: cell 0 must be written (it continues the wrapped line above);
   * `forceTail`: the last cell must be written (the line wraps onto the next row).
   */
  paintRow(y: number, from: Row, to: Row, forceHead: boolean, forceTail: boolean): void {
    const { cols } = this;
    // Cells from needFrom on are written even if unchanged.
    const needFrom = forceTail ? (cols >= 2 && to.width[cols - 1] === 0 && to.width[cols - 2] === 2 ? cols - 2 : cols - 1) : cols;
    const noEraseAtStart = y > 0 && this.target[y - 1]!.wrapped;
    this.writeUntil = 0;
    const { text: fText, width: fWidth, fg: fFg, bg: fBg, attrs: fAttrs } = from;
    const { text: tText, width: tWidth, fg: tFg, bg: tBg, attrs: tAttrs } = to;
    let x = 0;
    while (x < cols) {
      if (
        x < needFrom &&
        (x !== 0 || !forceHead) &&
        x !== this.uncertainEnd &&
        fText[x] === tText[x] && fWidth[x] === tWidth[x] && fFg[x] === tFg[x] && fBg[x] === tBg[x] && fAttrs[x] === tAttrs[x]
      ) {
        x++;
        continue;
      }
      if (to.width[x] === 0 && x > 0 && to.width[x - 1] === 2) x--; // the wide character that owns this half
      if (this.erasable(to, x) && !(x === 0 && noEraseAtStart) && this.tryErase(y, from, to, x, needFrom)) {
        x = this.eraseEnd;
        continue;
      }
      this.moveTo(x, y, true);
      this.putCell(x, to);
      x += this.advance;
    }
  }

  /** Moves the content of a region on the terminal (see Scroll). */
  scroll(s: Scroll): void {
    const full = s.top === 0 && s.bottom === this.rows - 1;
    const k = Math.abs(s.shift);
    // New lines take the current background; keep them default.
    this.resetPen();
    if (full) {
      // Column 0: a move there never writes cells (which would land on rows about to move).
      this.moveTo(0, s.shift > 0 ? s.bottom : s.top, false);
      this.out += s.shift > 0 ? '\n'.repeat(k) : '\x1bM'.repeat(k);
    } else {
      this.out += `\x1b[${s.top + 1};${s.bottom + 1}r`;
      this.cx = 0;
      this.cy = 0;
      this.out += cup(0, s.shift > 0 ? s.bottom : s.top);
      this.out += s.shift > 0 ? '\n'.repeat(k) : '\x1bM'.repeat(k);
      this.out += '\x1b[r';
      // Resetting the region homes the cursor on VT100-likes; do not count on it.
      this.cx = UNKNOWN;
      this.cy = UNKNOWN;
    }
    // The terminal's lines (and their wrap flags) moved the same way.
    const w = this.lineWrapped;
    if (s.shift > 0) {
      for (let m = s.top; m <= s.bottom - k; m++) w[m] = w[m + k]!;
      for (let m = Math.max(s.top, s.bottom - k + 1); m <= s.bottom; m++) w[m] = 0;
    } else {
      for (let m = s.bottom; m >= s.top + k; m--) w[m] = w[m - k]!;
      for (let m = s.top; m <= Math.min(s.bottom, s.top + k - 1); m++) w[m] = 0;
    }
  }
}

/** The first cell a wrapped line's continuation starts with, or the last cell of the line, is safe to wrap across. */
function canWrapAcross(upper: Row, lower: Row): boolean {
  const cols = upper.cols;
  const lastX = cols >= 2 && upper.width[cols - 1] === 0 && upper.width[cols - 2] === 2 ? cols - 2 : cols - 1;
  return isCertainWidth(upper.text[lastX]!, upper.width[lastX]!) && lower.width[0] !== 0 && isCertainWidth(lower.text[0]!, lower.width[0]!);
}

function titleSequences(shown: Framebuffer | null, target: Framebuffer): string {
  const titleChanged = shown === null ? target.title !== '' : target.title !== shown.title;
  const iconChanged = shown === null ? target.iconName !== '' : target.iconName !== shown.iconName;
  if (!titleChanged && !iconChanged) return '';
  if (target.title === target.iconName) return `\x1b]0;${sanitizeTitle(target.title)}\x07`;
  let out = '';
  if (iconChanged) out += `\x1b]1;${sanitizeTitle(target.iconName)}\x07`;
  if (titleChanged) out += `\x1b]2;${sanitizeTitle(target.title)}\x07`;
  return out;
}

function clipboardSequence(shown: Framebuffer, target: Framebuffer): string {
  const clip = target.clipboard;
  if (clip === null || (shown.clipboard !== null && shown.clipboard.serial === clip.serial)) return '';
  // A query ('?') would make the user's terminal answer with the user's clipboard: never forward one.
  if (clip.data === '?' || clip.data.length > LIMITS.maxClipboard || !BASE64.test(clip.data) || !CLIPBOARD_SELECTION.test(clip.selection)) return '';
  return `\x1b]52;${clip.selection};${clip.data}\x07`;
}

function clampedCursor(fb: Framebuffer): { x: number; y: number } {
  return { x: clamp(fb.cursor.x, 0, fb.cols - 1), y: clamp(fb.cursor.y, 0, fb.rows - 1) };
}

/**
 * The escape sequences that turn the terminal showing `shown` into one showing `target`.
 * `shown === null` means the terminal's contents and modes are unknown: everything is set and
 * drawn from scratch (the first frame, or a repaint after Ctrl-L); no bell or clipboard write is
 * replayed then. A size change also redraws every cell. An unchanged frame gives ''.
 */
export function renderFrame(shown: Framebuffer | null, target: Framebuffer, caps: TerminalCapabilities = DEFAULT_CAPABILITIES): string {
  if (shown === target) return '';
  const { cols, rows } = target;
  const repaint = shown === null || shown.cols !== cols || shown.rows !== rows;
  let head = '';
  if (shown !== null && target.bellCount > shown.bellCount) head += '\x07';
  if (caps.titles) head += titleSequences(shown, target);
  if (caps.clipboard && shown !== null) head += clipboardSequence(shown, target);

  const p = new Painter(cols, rows, target.lines, caps, repaint ? { x: 0, y: 0 } : clampedCursor(shown));
  let cur: Row[];
  if (repaint) {
    p.out += REPAINT_PRELUDE;
    cur = new Array<Row>(rows).fill(blankRow(cols));
  } else {
    cur = shown.lines.slice();
    for (let m = 1; m < rows; m++) p.lineWrapped[m] = cur[m - 1]!.wrapped ? 1 : 0;
    let anyChanged = false;
    for (let y = 0; y < rows && !anyChanged; y++) anyChanged = cur[y] !== target.lines[y];
    if (anyChanged) {
      const blank = blankRow(cols);
      const scroll = findScroll(cur, target.lines, blank);
      if (scroll !== null) {
        p.scroll(scroll);
        applyScroll(cur, scroll, blank);
      }
    }
  }

  // Rows whose wrap onto the next row the terminal should learn by wrapping there itself.
  const link = new Uint8Array(rows);
  for (let y = 0; y + 1 < rows; y++) {
    const row = target.lines[y]!;
    if (row.wrapped && p.lineWrapped[y + 1] === 0 && row.cols === cols && canWrapAcross(row, target.lines[y + 1]!)) link[y] = 1;
  }
  for (let y = 0; y < rows; y++) {
    const to = target.lines[y]!;
    const forceHead = y > 0 && link[y - 1] === 1;
    const forceTail = link[y] === 1;
    if (cur[y] === to && !forceHead && !forceTail) continue;
    p.paintRow(y, cur[y]!, to, forceHead, forceTail);
  }
  p.resetPen();

  let tail = '';
  if (repaint || shown.modes !== target.modes) tail += modeTransition(shown === null ? null : shown.modes, target.modes);
  const c = target.cursor;
  if (caps.cursorShape && (shown === null || shown.cursor.shape !== c.shape || shown.cursor.blink !== c.blink)) tail += cursorStyleSequence(c);
  const { x, y } = clampedCursor(target);
  p.moveTo(x, y, false);
  if (shown === null || shown.cursor.visible !== c.visible) tail += c.visible ? '\x1b[?25h' : '\x1b[?25l';

  const body = head + p.out + tail;
  if (body === '') return '';
  return caps.synchronizedOutput ? SYNC_BEGIN + body + SYNC_END : body;
}

/** How the client takes over the user's terminal. */
export interface ScreenSessionOptions {
  /** Draw on the alternate screen (the default). false is Mosh's MOSH_NO_TERM_INIT. */
  readonly alternateScreen?: boolean;
  readonly capabilities?: TerminalCapabilities;
}

/** Written once when the session starts, before the first (repaint) frame. */
export function enterSequence(opts: ScreenSessionOptions = {}): string {
  const caps = opts.capabilities ?? DEFAULT_CAPABILITIES;
  let out = '';
  // Save the user's window title and icon name on the terminal's title stack.
  if (caps.titles) out += '\x1b[22;0t';
  if (opts.alternateScreen ?? true) out += '\x1b[?1049h';
  return out;
}

/**
 * Written when the session ends (or is suspended): hands the terminal back as the user had it.
 * `shown` is the last frame rendered (null if unknown: every mode is then turned off).
 */
export function exitSequence(shown: Framebuffer | null, opts: ScreenSessionOptions = {}): string {
  const caps = opts.capabilities ?? DEFAULT_CAPABILITIES;
  let out = caps.synchronizedOutput ? SYNC_END : '';
  out += '\x1b[r\x1b[m';
  out += modeTransition(shown === null ? null : shown.modes, DEFAULT_MODES);
  if (caps.cursorShape && (shown === null || cursorStyleParam(shown.cursor) !== 0)) out += cursorStyleSequence(DEFAULT_CURSOR);
  out += '\x1b[?25h';
  if (opts.alternateScreen ?? true) out += '\x1b[?1049l';
  else out += '\r\n';
  if (caps.titles) out += '\x1b[23;0t';
  return out;
}

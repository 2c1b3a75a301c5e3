/**
 * A stand-in for the user's real terminal in tests and benchmarks: an @xterm/headless terminal
 * (with Unicode 11 widths, like the server's emulator), plus a reader of what it shows that uses
 * only xterm's public API (and, where xterm exposes no public API, the documented private fields
 * and parser hooks of packages.md §3). It shares no code with the renderer it is used to check.
 */
import xterm from '@xterm/headless';
import unicode11 from '@xterm/addon-unicode11';
import type { CursorShape, Framebuffer, MouseEncoding, MouseTracking } from '../../protocol/framebuffer.js';

const { Terminal } = xterm;
const { Unicode11Addon } = unicode11;

type XTerminal = InstanceType<typeof Terminal>;

/** One cell as the reader reports it; blank never-written cells read as ' '. */
export interface ReadCell {
  readonly text: string;
  readonly width: number;
  readonly fg: number;
  readonly bg: number;
  readonly attrs: number;
}

export interface ReadModes {
  readonly applicationCursorKeys: boolean;
  readonly applicationKeypad: boolean;
  readonly bracketedPaste: boolean;
  readonly mouseTracking: MouseTracking;
  readonly mouseEncoding: MouseEncoding;
  readonly focusReporting: boolean;
}

interface PrivateCore {
  readonly _core?: {
    readonly coreService?: {
      readonly isCursorHidden?: boolean;
      readonly decPrivateModes?: { readonly cursorStyle?: CursorShape; readonly cursorBlink?: boolean };
    };
  };
}

const ENCODING_BY_MODE: Readonly<Record<number, MouseEncoding>> = { 1005: 'utf8', 1006: 'sgr', 1015: 'urxvt' };

export class UserTerminal {
  readonly term: XTerminal;
  /** The last title set (OSC 0 or 2). */
  title = '';
  bells = 0;
  private encoding: MouseEncoding = 'default';
  /** Every OSC 52 payload seen, as `selection;data`. */
  readonly clipboard: string[] = [];

  /**
   * `onlcr`: behave like the user's real tty under Node's raw mode, which keeps the ONLCR output
   * flag: every LF the client writes arrives as CR LF. (A terminal without it is tested too.)
   */
  constructor(cols: number, rows: number, private readonly onlcr = true) {
    // The user's own default cursor is a blinking block, which is what DECSCUSR 0 restores.
    this.term = new Terminal({ cols, rows, scrollback: 0, allowProposedApi: true, cursorStyle: 'block', cursorBlink: true });
    this.term.loadAddon(new Unicode11Addon());
    this.term.unicode.activeVersion = '11';
    this.term.onTitleChange((t) => {
      this.title = t;
    });
    this.term.onBell(() => {
      this.bells++;
    });
    // xterm.js does not implement mouse encodings 1005 and 1015 and hides the one it does: watch DECSET/DECRST.
    const watch = (on: boolean) => (params: (number | number[])[]): boolean => {
      for (const p of params) {
        const enc = typeof p === 'number' ? ENCODING_BY_MODE[p] : undefined;
        if (enc === undefined) continue;
        if (on) this.encoding = enc;
        else if (this.encoding === enc) this.encoding = 'default';
      }
      return false;
    };
    this.term.parser.registerCsiHandler({ prefix: '?', final: 'h' }, watch(true));
    this.term.parser.registerCsiHandler({ prefix: '?', final: 'l' }, watch(false));
    this.term.parser.registerOscHandler(52, (data) => {
      this.clipboard.push(data);
      return true;
    });
  }

  get cols(): number {
    return this.term.cols;
  }

  get rows(): number {
    return this.term.rows;
  }

  write(data: string | Uint8Array): Promise<void> {
    let text = typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
    if (this.onlcr) text = text.replace(/\n/g, '\r\n');
    return new Promise((resolve) => this.term.write(text, resolve));
  }

  cell(x: number, y: number): ReadCell {
    const buf = this.term.buffer.active;
    const cell = buf.getLine(buf.baseY + y)!.getCell(x)!;
    const width = cell.getWidth();
    const chars = cell.getChars();
    const attrs =
      (cell.isBold() !== 0 ? 1 : 0) |
      (cell.isDim() !== 0 ? 2 : 0) |
      (cell.isItalic() !== 0 ? 4 : 0) |
      (cell.isUnderline() !== 0 ? 8 : 0) |
      (cell.isBlink() !== 0 ? 16 : 0) |
      (cell.isInverse() !== 0 ? 32 : 0) |
      (cell.isInvisible() !== 0 ? 64 : 0) |
      (cell.isStrikethrough() !== 0 ? 128 : 0) |
      (cell.isOverline() !== 0 ? 256 : 0);
    const color = (mode: number, value: number): number => (mode === 0 ? 0 : (mode | (value & 0xffffff)) >>> 0);
    return {
      text: width === 1 && chars === '' ? ' ' : chars,
      width,
      fg: color(cell.getFgColorMode(), cell.getFgColor()),
      bg: color(cell.getBgColorMode(), cell.getBgColor()),
      attrs,
    };
  }

  /** Row y continues on row y+1 (xterm keeps the flag on the lower line). */
  wrapped(y: number): boolean {
    const buf = this.term.buffer.active;
    return y + 1 < this.rows && buf.getLine(buf.baseY + y + 1)!.isWrapped;
  }

  cursor(): { x: number; y: number; visible: boolean; shape: CursorShape; blink: boolean } {
    const buf = this.term.buffer.active;
    const core = (this.term as unknown as PrivateCore)._core?.coreService;
    const modes = core?.decPrivateModes;
    return {
      x: Math.min(buf.cursorX, this.cols - 1),
      y: buf.cursorY,
      visible: core?.isCursorHidden !== true,
      shape: modes?.cursorStyle ?? (this.term.options.cursorStyle as CursorShape),
      blink: modes?.cursorBlink ?? this.term.options.cursorBlink ?? false,
    };
  }

  /** True when the cursor sits in the pending-wrap state past the last column. */
  pendingWrap(): boolean {
    return this.term.buffer.active.cursorX >= this.cols;
  }

  modes(): ReadModes {
    const m = this.term.modes;
    return {
      applicationCursorKeys: m.applicationCursorKeysMode,
      applicationKeypad: m.applicationKeypadMode,
      bracketedPaste: m.bracketedPasteMode,
      mouseTracking: m.mouseTrackingMode,
      mouseEncoding: this.encoding,
      focusReporting: m.sendFocusMode,
    };
  }

  /** Any mode a frame must leave off, found on. */
  strayModes(): string[] {
    const m = this.term.modes;
    const stray: string[] = [];
    if (m.insertMode) stray.push('insert');
    if (m.originMode) stray.push('origin');
    if (!m.wraparoundMode) stray.push('no autowrap');
    if (m.synchronizedOutputMode) stray.push('synchronized output');
    return stray;
  }

  dispose(): void {
    this.term.dispose();
  }
}

/**
 * Every way the terminal differs from the framebuffer (cells, cursor position; with `full`, also
 * visibility, shape, modes and title), at most `limit` of them, as readable strings.
 */
export function differences(user: UserTerminal, fb: Framebuffer, opts: { full?: boolean; limit?: number } = {}): string[] {
  const limit = opts.limit ?? 10;
  const out: string[] = [];
  if (user.cols !== fb.cols || user.rows !== fb.rows) return [`size ${user.cols}x${user.rows} != ${fb.cols}x${fb.rows}`];
  for (let y = 0; y < fb.rows && out.length < limit; y++) {
    const row = fb.lines[y]!;
    for (let x = 0; x < fb.cols && out.length < limit; x++) {
      const c = user.cell(x, y);
      const want = { text: row.text[x]!, width: row.width[x]!, fg: row.fg[x]!, bg: row.bg[x]!, attrs: row.attrs[x]! };
      if (c.text !== want.text || c.width !== want.width || c.fg !== want.fg || c.bg !== want.bg || c.attrs !== want.attrs) {
        out.push(`cell (${x},${y}): got ${JSON.stringify(c)} want ${JSON.stringify(want)}`);
      }
    }
  }
  const cur = user.cursor();
  if (cur.x !== fb.cursor.x || cur.y !== fb.cursor.y) out.push(`cursor at (${cur.x},${cur.y}) want (${fb.cursor.x},${fb.cursor.y})`);
  if (user.pendingWrap()) out.push('cursor left in the pending-wrap state');
  for (const s of user.strayModes()) out.push(`stray mode: ${s}`);
  if (opts.full === true) {
    if (cur.visible !== fb.cursor.visible) out.push(`cursor visible ${cur.visible} want ${fb.cursor.visible}`);
    if (cur.shape !== fb.cursor.shape || cur.blink !== fb.cursor.blink) {
      out.push(`cursor shape ${cur.shape}/${cur.blink} want ${fb.cursor.shape}/${fb.cursor.blink}`);
    }
    const m = user.modes();
    for (const k of Object.keys(m) as (keyof ReadModes)[]) {
      if (m[k] !== fb.modes[k]) out.push(`mode ${k}: ${String(m[k])} want ${String(fb.modes[k])}`);
    }
    if (user.title !== fb.title) out.push(`title ${JSON.stringify(user.title)} want ${JSON.stringify(fb.title)}`);
  }
  return out.slice(0, limit);
}

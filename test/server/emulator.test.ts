import xterm from '@xterm/headless';
import unicode11 from '@xterm/addon-unicode11';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ALL_ATTRS, Attr, ColorKind, LIMITS, color, type Framebuffer } from '../../protocol/framebuffer.js';
import { Emulator, EmulatorOverloadedError } from '../../server/emulator.js';
import { sanitizeTitle } from '../../server/control-tracker.js';
import { probeXtermInternals, XTERM_CELL } from '../../server/xterm-internals.js';
import { loadCorpus } from '../support/corpus.js';
import { seededRandom } from '../support/seeded-random.js';

const { Terminal } = xterm;
const { Unicode11Addon } = unicode11;
type XtermTerminal = InstanceType<typeof Terminal>;

// ---------------------------------------------------------------------------------------------
// An independent reader: a plain xterm terminal read through the public API only.

function referenceTerminal(cols: number, rows: number, scrollback = 0): XtermTerminal {
  const term = new Terminal({ cols, rows, scrollback, allowProposedApi: true, cursorBlink: true });
  term.loadAddon(new Unicode11Addon());
  term.unicode.activeVersion = '11';
  return term;
}

function writeAndParse(term: XtermTerminal, data: Uint8Array | string): Promise<void> {
  return new Promise((resolve) => term.write(data, resolve));
}

interface RefCell {
  readonly text: string;
  readonly width: number;
  readonly fg: number;
  readonly bg: number;
  readonly attrs: number;
}

/** The documented cell mapping (server/screen-reader.ts), applied to public-API cells. */
function readReference(term: XtermTerminal): { cells: RefCell[][]; wrapped: boolean[]; x: number; y: number } {
  const buf = term.buffer.active;
  const cells: RefCell[][] = [];
  const wrapped: boolean[] = [];
  for (let y = 0; y < term.rows; y++) {
    const line = buf.getLine(buf.baseY + y)!;
    const row: RefCell[] = [];
    for (let x = 0; x < term.cols; x++) {
      const c = line.getCell(x)!;
      let text = c.getChars();
      let width = c.getWidth();
      if (text.length > LIMITS.maxCellText) text = [...text].reduce((s, ch) => (s.length + ch.length <= LIMITS.maxCellText ? s + ch : s), '');
      if (width === 0 && (x === 0 || row[x - 1]!.width !== 2)) {
        text = text === '' ? ' ' : '\u00a0' + text;
        width = 1;
      } else if (width === 2 && (x + 1 === term.cols || line.getCell(x + 1)!.getWidth() !== 0)) {
        text = ' ';
        width = 1;
      } else if (width !== 0 && text === '') {
        text = ' ';
      } else if (width === 0) {
        text = '';
      }
      const fg = c.isFgDefault() ? 0 : color(c.isFgRGB() ? ColorKind.Rgb : c.getFgColorMode() === 0x1000000 ? ColorKind.Palette16 : ColorKind.Palette256, c.getFgColor());
      const bg = c.isBgDefault() ? 0 : color(c.isBgRGB() ? ColorKind.Rgb : c.getBgColorMode() === 0x1000000 ? ColorKind.Palette16 : ColorKind.Palette256, c.getBgColor());
      const attrs =
        (c.isBold() !== 0 ? Attr.Bold : 0) |
        (c.isDim() !== 0 ? Attr.Dim : 0) |
        (c.isItalic() !== 0 ? Attr.Italic : 0) |
        (c.isUnderline() !== 0 ? Attr.Underline : 0) |
        (c.isBlink() !== 0 ? Attr.Blink : 0) |
        (c.isInverse() !== 0 ? Attr.Inverse : 0) |
        (c.isInvisible() !== 0 ? Attr.Invisible : 0) |
        (c.isStrikethrough() !== 0 ? Attr.Strikethrough : 0) |
        (c.isOverline() !== 0 ? Attr.Overline : 0);
      row.push({ text, width, fg, bg, attrs });
    }
    cells.push(row);
    wrapped.push(y + 1 < term.rows && buf.getLine(buf.baseY + y + 1)!.isWrapped);
  }
  return { cells, wrapped, x: Math.min(buf.cursorX, term.cols - 1), y: buf.cursorY };
}

/** Throws with the first difference between a snapshot and the reference terminal. */
function expectMatchesReference(frame: Framebuffer, term: XtermTerminal, where: string): void {
  expect(frame.cols, `${where}: cols`).toBe(term.cols);
  expect(frame.rows, `${where}: rows`).toBe(term.rows);
  const ref = readReference(term);
  for (let y = 0; y < frame.rows; y++) {
    const row = frame.lines[y]!;
    expect(row.cols, `${where}: row ${y} cols`).toBe(frame.cols);
    expect(row.wrapped, `${where}: row ${y} wrapped`).toBe(ref.wrapped[y]);
    for (let x = 0; x < frame.cols; x++) {
      const want = ref.cells[y]![x]!;
      const got = { text: row.text[x], width: row.width[x], fg: row.fg[x], bg: row.bg[x], attrs: row.attrs[x] };
      if (got.text !== want.text || got.width !== want.width || got.fg !== want.fg || got.bg !== want.bg || got.attrs !== want.attrs) {
        expect(got, `${where}: cell (${x},${y}) of row ${JSON.stringify(row.toString())}`).toEqual(want);
      }
    }
  }
  expect({ x: frame.cursor.x, y: frame.cursor.y }, `${where}: cursor`).toEqual({ x: ref.x, y: ref.y });
}

/** The private xterm state that ControlTracker re-derives from the sequences it watches. */
interface XtermPrivateState {
  readonly _core: {
    readonly coreService: { readonly isCursorHidden: boolean; readonly decPrivateModes: { readonly cursorStyle?: string; readonly cursorBlink?: boolean } };
    readonly coreMouseService: { readonly activeEncoding: string };
  };
}

/** Cursor visibility, shape, blink and SGR mouse encoding agree with what xterm itself thinks. */
function expectControlsMatchXterm(frame: Framebuffer, term: XtermTerminal, where: string): void {
  const core = (term as unknown as XtermPrivateState)._core;
  const blink = core.coreService.decPrivateModes.cursorBlink ?? term.options.cursorBlink;
  expect(
    { visible: frame.cursor.visible, shape: frame.cursor.shape, blink: frame.cursor.blink, sgr: frame.modes.mouseEncoding === 'sgr' },
    `${where}: cursor/mouse state`,
  ).toEqual({
    visible: !core.coreService.isCursorHidden,
    shape: core.coreService.decPrivateModes.cursorStyle ?? 'block',
    blink,
    sgr: core.coreMouseService.activeEncoding === 'SGR',
  });
}

/** The model's invariants, which the renderer and the codecs rely on. */
function expectWellFormed(frame: Framebuffer, where: string): void {
  expect(frame.lines.length, where).toBe(frame.rows);
  expect(frame.cursor.x, where).toBeLessThan(frame.cols);
  expect(frame.cursor.y, where).toBeLessThan(frame.rows);
  for (let y = 0; y < frame.rows; y++) {
    const row = frame.lines[y]!;
    expect(row.cols, where).toBe(frame.cols);
    for (let x = 0; x < row.cols; x++) {
      const w = row.width[x]!;
      const t = row.text[x]!;
      const ok =
        (w === 0 ? t === '' && x > 0 && row.width[x - 1] === 2 : t !== '' && (w === 1 || (w === 2 && row.width[x + 1] === 0))) &&
        t.length <= LIMITS.maxCellText &&
        (row.attrs[x]! & ~ALL_ATTRS) === 0;
      if (!ok) expect({ x, y, w, t, next: row.width[x + 1], row: row.toString() }, `${where}: malformed cell`).toBeUndefined();
    }
  }
}

const emulators: Emulator[] = [];
const terminals: XtermTerminal[] = [];

function emulator(cols = 20, rows = 6, useInternals = true): Emulator {
  const e = new Emulator({ cols, rows, useInternals });
  emulators.push(e);
  return e;
}

function reference(cols: number, rows: number): XtermTerminal {
  const t = referenceTerminal(cols, rows);
  terminals.push(t);
  return t;
}

async function feed(e: Emulator, data: string | Uint8Array): Promise<Framebuffer> {
  e.write(data);
  await e.flush();
  return e.snapshot();
}

afterEach(() => {
  for (const e of emulators.splice(0)) e.dispose();
  for (const t of terminals.splice(0)) t.dispose();
});

// ---------------------------------------------------------------------------------------------

describe('xterm internals', () => {
  it('have the shape server/xterm-internals.ts expects (if this fails, an xterm upgrade moved them)', async () => {
    const term = reference(10, 3);
    const internals = probeXtermInternals(term);
    expect(internals, 'probeXtermInternals found no usable internals: update server/xterm-internals.ts').toBeDefined();
    const dirty: unknown[] = [];
    internals!.onDirtyRows((rows) => dirty.push(rows));
    await writeAndParse(term, '\r\n\x1b[1;31;44mAb\x1b[0m\u4e2d');
    expect(dirty, 'onRequestRefreshRows no longer reports dirty rows').toContainEqual({ start: 0, end: 1 });
    const line = internals!.activeBuffer().lines.get(1)!;
    const d = line._data;
    expect(d[0]! & XTERM_CELL.codepointMask).toBe(0x41);
    expect(d[0]! >>> XTERM_CELL.widthShift).toBe(1);
    expect(d[1]! & XTERM_CELL.colorMask).toBe(color(ColorKind.Palette16, 1));
    expect(d[1]! & XTERM_CELL.fgBold).not.toBe(0);
    expect(d[2]! & XTERM_CELL.colorMask).toBe(color(ColorKind.Palette16, 4));
    expect(d[6]! & XTERM_CELL.codepointMask).toBe(0x4e2d);
    expect(d[6]! >>> XTERM_CELL.widthShift).toBe(2);
    expect(d[9]! >>> XTERM_CELL.widthShift).toBe(0);
    await writeAndParse(term, 'e\u0301');
    expect(d[12]! & XTERM_CELL.combinedFlag).not.toBe(0);
    expect(line._combined[4]).toBe('e\u0301');
    await writeAndParse(term, '\x1b]8;;http://x\x07L\x1b]8;;\x07');
    expect(d[17]! & XTERM_CELL.bgHasExtended).not.toBe(0);
    expect(line._extendedAttrs[5]?.underlineStyle).not.toBe(0);
  });

  it('are used by the emulator', () => {
    expect(emulator().usesInternals).toBe(true);
    expect(emulator(20, 6, false).usesInternals).toBe(false);
  });
});

describe('corpus replay', () => {
  const corpus = loadCorpus();

  it('has the recordings the fidelity tests rely on', () => {
    const names = corpus.map((c) => c.name);
    for (const n of ['ls-color', 'vim-edit', 'less-paging', 'cjk-emoji', 'combining', 'wrap', 'scroll-region', 'insert-delete', 'alt-screen', 'colors', 'tabs', 'bce']) {
      expect(names).toContain(n);
    }
    for (const c of corpus) {
      expect(c.bytes.length).toBeGreaterThan(0);
      expect(c.bytes.length).toBeLessThan(200_000);
    }
  });

  for (const file of corpus) {
    for (const useInternals of [true, false]) {
      it(`${file.name} (${file.cols}x${file.rows}, ${useInternals ? 'internals' : 'public API'}): every snapshot matches xterm cell by cell`, async () => {
        const random = seededRandom(file.bytes.length);
        const e = emulator(file.cols, file.rows, useInternals);
        const ref = reference(file.cols, file.rows);
        let pos = 0;
        let step = 0;
        while (pos < file.bytes.length) {
          // Chunks of 1..600 bytes: splits land inside escape sequences and UTF-8 characters too.
          const end = Math.min(file.bytes.length, pos + 1 + Math.floor(random() * 600));
          const chunk = file.bytes.subarray(pos, end);
          e.write(chunk);
          await writeAndParse(ref, chunk);
          await e.flush();
          const frame = e.snapshot();
          expectMatchesReference(frame, ref, `${file.name} after byte ${end} (step ${step})`);
          expectControlsMatchXterm(frame, ref, `${file.name} after byte ${end}`);
          expectWellFormed(frame, `${file.name} after byte ${end}`);
          pos = end;
          step++;
        }
      });
    }
  }

  it('osc-modes ends with the title, icon, bell, modes, cursor and clipboard it set', async () => {
    const file = corpus.find((c) => c.name === 'osc-modes')!;
    const frame = await feed(emulator(file.cols, file.rows), file.bytes);
    expect(frame.title).toBe('title only');
    expect(frame.iconName).toBe('icon only');
    expect(frame.bellCount).toBe(1);
    expect(frame.modes).toEqual({
      applicationCursorKeys: true,
      applicationKeypad: true,
      bracketedPaste: true,
      mouseTracking: 'vt200',
      mouseEncoding: 'sgr',
      focusReporting: true,
    });
    expect(frame.cursor).toMatchObject({ visible: false, shape: 'underline', blink: true });
    expect(frame.clipboard).toEqual({ serial: 1, selection: 'c', data: 'aGVsbG8gY2xpcGJvYXJk' });
  });
});

describe('cells', () => {
  it('maps text, widths, colours and attributes', async () => {
    const e = emulator(24, 3);
    const f = await feed(
      e,
      '\x1b[1;2;3;4;5;7;8;9;53mA\x1b[0m\x1b[38;5;200;48;2;1;2;3mB\x1b[0m\x1b[91mC\x1b[0m\u4e2d\u{1F600}e\u0301\x1b[4:3mU\x1b[0m\x1b]8;;http://x\x07L\x1b]8;;\x07',
    );
    const r = f.lines[0]!;
    expect(r.text.slice(0, 11)).toEqual(['A', 'B', 'C', '\u4e2d', '', '\u{1F600}', '', 'e\u0301', 'U', 'L', ' ']);
    expect([...r.width.slice(0, 11)]).toEqual([1, 1, 1, 2, 0, 2, 0, 1, 1, 1, 1]);
    expect(r.attrs[0]).toBe(ALL_ATTRS);
    expect(r.fg[1]).toBe(color(ColorKind.Palette256, 200));
    expect(r.bg[1]).toBe(color(ColorKind.Rgb, 0x010203));
    expect(r.fg[2]).toBe(color(ColorKind.Palette16, 9));
    expect(r.attrs[8]).toBe(Attr.Underline);
    // xterm draws OSC 8 hyperlinks underlined, and its public API says so.
    expect(r.attrs[9]).toBe(Attr.Underline);
    expect(r.attrs[10]).toBe(0);
  });

  it('shows a combining mark without a base on a no-break space, keeping width 0 for right halves only', async () => {
    const f = await feed(emulator(), '\u0301x');
    expect(f.lines[0]!.text.slice(0, 3)).toEqual(['\u00a0\u0301', 'x', ' ']);
    expect([...f.lines[0]!.width.slice(0, 3)]).toEqual([1, 1, 1]);
  });

  it('cuts grapheme clusters longer than LIMITS.maxCellText without splitting a surrogate pair', async () => {
    const marks = '\u0301'.repeat(40);
    const f = await feed(emulator(), 'a' + marks);
    expect(f.lines[0]!.text[0]).toBe(('a' + marks).slice(0, LIMITS.maxCellText));
    const f2 = await feed(emulator(), 'b' + '\u0301'.repeat(30) + '\u{1D167}'.repeat(3));
    const t = f2.lines[0]!.text[0]!;
    expect(t.length).toBeLessThanOrEqual(LIMITS.maxCellText);
    expect(t.charCodeAt(t.length - 1) >= 0xd800 && t.charCodeAt(t.length - 1) <= 0xdbff).toBe(false);
  });

  it('keeps a background colour erase', async () => {
    const f = await feed(emulator(10, 3), '\x1b[44m\x1b[2J\x1b[0m');
    for (const row of f.lines) for (let x = 0; x < 10; x++) expect(row.bg[x]).toBe(color(ColorKind.Palette16, 4));
  });

  it('sets the wrap flag on the row that continues on the next', async () => {
    const f = await feed(emulator(10, 4), 'x'.repeat(25) + '\r\nend');
    expect(f.lines.map((r) => r.wrapped)).toEqual([true, true, false, false]);
    // Erasing the continuation line breaks the wrap of the row above it.
    const g = await feed(emulator(10, 4), 'x'.repeat(15) + '\x1b[2;1H\x1b[2K');
    expect(g.lines[0]!.wrapped).toBe(false);
  });
});

describe('cursor', () => {
  it('clamps the pending-wrap column', async () => {
    const f = await feed(emulator(10, 3), '0123456789');
    expect(f.cursor).toMatchObject({ x: 9, y: 0 });
  });

  it('follows visibility (?25), DECSCUSR, ?12, DECSTR and RIS', async () => {
    const e = emulator();
    expect((await feed(e, '\x1b[?25l')).cursor.visible).toBe(false);
    expect((await feed(e, '\x1b[?25h')).cursor.visible).toBe(true);
    const styles: [string, string, boolean][] = [
      ['\x1b[2 q', 'block', false],
      ['\x1b[3 q', 'underline', true],
      ['\x1b[4 q', 'underline', false],
      ['\x1b[5 q', 'bar', true],
      ['\x1b[6 q', 'bar', false],
      ['\x1b[9 q', 'bar', false],
      ['\x1b[?12h', 'bar', true],
      ['\x1b[?12l', 'bar', false],
      ['\x1b[0 q', 'block', true],
      ['\x1b[6 q\x1b[ q', 'block', true],
    ];
    for (const [seq, shape, blink] of styles) {
      expect((await feed(e, seq)).cursor, JSON.stringify(seq)).toMatchObject({ shape, blink });
    }
    expect((await feed(e, '\x1b[?25l\x1b[!p')).cursor.visible).toBe(true);
    const f = await feed(e, '\x1b[?25l\x1b[5 q\x1bc');
    expect(f.cursor).toEqual({ x: 0, y: 0, visible: true, shape: 'block', blink: true });
  });
});

describe('title, icon name, bell', () => {
  it('takes OSC 0, 1 and 2 with BEL or ST', async () => {
    const e = emulator();
    let f = await feed(e, '\x1b]0;both\x07');
    expect([f.title, f.iconName]).toEqual(['both', 'both']);
    f = await feed(e, '\x1b]2;title\x1b\\');
    expect([f.title, f.iconName]).toEqual(['title', 'both']);
    f = await feed(e, '\x1b]1;icon\x07');
    expect([f.title, f.iconName]).toEqual(['title', 'icon']);
    f = await feed(e, '\x1b]2;\u4e2d\u6587 \u{1F600}\x07');
    expect(f.title).toBe('\u4e2d\u6587 \u{1F600}');
  });

  it('never lets control characters into a title and bounds its length', () => {
    expect(sanitizeTitle('a\x07b\x1b[31mc\u009bd\x7fe')).toBe('ab[31mcde');
    expect(sanitizeTitle('x'.repeat(LIMITS.maxTitle + 10)).length).toBe(LIMITS.maxTitle);
    const emoji = 'x'.repeat(LIMITS.maxTitle - 1) + '\u{1F600}';
    expect(sanitizeTitle(emoji)).toBe('x'.repeat(LIMITS.maxTitle - 1));
  });

  it('counts every BEL but not one that ends an OSC', async () => {
    const e = emulator();
    expect((await feed(e, 'a\x07b\x07\x07')).bellCount).toBe(3);
    expect((await feed(e, '\x1b]2;t\x07')).bellCount).toBe(3);
    expect((await feed(e, '\x07')).bellCount).toBe(4);
  });
});

describe('modes', () => {
  it('mirrors cursor keys, keypad, bracketed paste, focus and mouse tracking', async () => {
    const e = emulator();
    let f = await feed(e, '\x1b[?1h\x1b=\x1b[?2004h\x1b[?1004h\x1b[?1002h');
    expect(f.modes).toMatchObject({ applicationCursorKeys: true, applicationKeypad: true, bracketedPaste: true, focusReporting: true, mouseTracking: 'drag' });
    for (const [seq, mode] of [
      ['\x1b[?9h', 'x10'],
      ['\x1b[?1000h', 'vt200'],
      ['\x1b[?1003h', 'any'],
      ['\x1b[?1003l', 'none'],
    ] as const) {
      expect((await feed(e, seq)).modes.mouseTracking, seq).toBe(mode);
    }
    f = await feed(e, '\x1b[?1l\x1b>\x1b[?2004l\x1b[?1004l');
    expect(f.modes).toMatchObject({ applicationCursorKeys: false, applicationKeypad: false, bracketedPaste: false, focusReporting: false });
  });

  it('tracks the mouse encoding, including the 1005 and 1015 that xterm.js ignores', async () => {
    const e = emulator();
    const steps: [string, string][] = [
      ['\x1b[?1006h', 'sgr'],
      ['\x1b[?1005h', 'utf8'],
      ['\x1b[?1006l', 'utf8'],
      ['\x1b[?1005l', 'default'],
      ['\x1b[?1000;1015h', 'urxvt'],
      ['\x1b[?1006h', 'sgr'],
      ['\x1bc', 'default'],
    ];
    for (const [seq, encoding] of steps) expect((await feed(e, seq)).modes.mouseEncoding, JSON.stringify(seq)).toBe(encoding);
  });

  it('reports synchronized output (?2026)', async () => {
    const e = emulator();
    await feed(e, '\x1b[?2026h');
    expect(e.synchronizedOutput).toBe(true);
    await feed(e, '\x1b[?2026l');
    expect(e.synchronizedOutput).toBe(false);
  });
});

describe('OSC 52 clipboard', () => {
  it('captures writes with a growing serial and ignores queries, bad and oversized ones', async () => {
    const e = emulator();
    let f = await feed(e, '\x1b]52;c;aGk=\x07');
    expect(f.clipboard).toEqual({ serial: 1, selection: 'c', data: 'aGk=' });
    f = await feed(e, '\x1b]52;c;aGk=\x1b\\');
    expect(f.clipboard).toEqual({ serial: 2, selection: 'c', data: 'aGk=' });
    for (const bad of ['\x1b]52;c;?\x07', '\x1b]52;c;not base64!\x07', '\x1b]52;x;aGk=\x07', '\x1b]52;aGk=\x07']) {
      expect((await feed(e, bad)).clipboard?.serial, JSON.stringify(bad)).toBe(2);
    }
    f = await feed(e, `\x1b]52;c;${'A'.repeat(LIMITS.maxClipboard + 4)}\x07`);
    expect(f.clipboard?.serial).toBe(2);
    f = await feed(e, `\x1b]52;ps;${'QUJD'.repeat(100)}\x07`);
    expect(f.clipboard).toEqual({ serial: 3, selection: 'ps', data: 'QUJD'.repeat(100) });
    f = await feed(e, '\x1b]52;;\x07');
    expect(f.clipboard).toEqual({ serial: 4, selection: '', data: '' });
  });
});

describe('replies', () => {
  it('answers DA1, DA2, DSR and CPR on onReply', async () => {
    const e = emulator();
    const replies: string[] = [];
    e.onReply((r) => replies.push(r));
    await feed(e, '\x1b[c\x1b[>c\x1b[5n\x1b[3;10H\x1b[6n');
    expect(replies).toEqual(['\x1b[?1;2c', '\x1b[>0;276;0c', '\x1b[0n', '\x1b[3;10R']);
  });

  it('stops delivering after the subscription is disposed', async () => {
    const e = emulator();
    const replies: string[] = [];
    const sub = e.onReply((r) => replies.push(r));
    sub.dispose();
    await feed(e, '\x1b[c');
    expect(replies).toEqual([]);
  });
});

describe('writing and parsing', () => {
  it('flush resolves after everything written so far is parsed; onParsed fires', async () => {
    const e = emulator();
    let parsed = 0;
    e.onParsed(() => parsed++);
    e.write(new TextEncoder().encode('\u4e2d'.repeat(3)).subarray(0, 4));
    e.write(new TextEncoder().encode('\u4e2d'.repeat(3)).subarray(4));
    e.write('');
    expect(e.pendingBytes).toBe(9);
    await e.flush();
    expect(e.pendingBytes).toBe(0);
    expect(parsed).toBeGreaterThanOrEqual(1);
    expect(e.snapshot().lines[0]!.toString().startsWith('\u4e2d\u4e2d\u4e2d')).toBe(true);
    await e.flush();
  });

  it('parses the write after user input at once (the echo of a keystroke), and sends no empty reply', async () => {
    const e = emulator();
    const replies: string[] = [];
    e.onReply((r) => replies.push(r));
    await e.flush();
    e.write('a');
    // Without user input, xterm parses on a timer: nothing yet.
    expect(e.snapshot().lines[0]!.toString().trimEnd()).toBe('');
    await e.flush();
    e.noteUserInput();
    e.write('b');
    expect(e.snapshot().lines[0]!.toString().trimEnd()).toBe('ab');
    expect(replies).toEqual([]);
  });

  it('tells whether the output ended inside a line and counts output that fed lines', async () => {
    const e = emulator();
    const enc = new TextEncoder();
    // Output (as text and as bytes), then whether it ended inside a line and the count so far.
    const steps: [string | Uint8Array, boolean, number][] = [
      ['\r10%', true, 0],
      [enc.encode('done\r\nnext'), true, 1],
      ['line\r\n', false, 2],
      [enc.encode('\r20%'), true, 2],
    ];
    for (const [output, midLine, count] of steps) {
      e.write(output);
      await e.flush();
      expect([e.endsMidLine, e.outputsWithLineFeed], `after ${JSON.stringify(typeof output === 'string' ? output : new TextDecoder().decode(output))}`).toEqual([midLine, count]);
    }
  });

  it('asks for a pause past highWaterBytes and refuses input past maxPendingBytes', async () => {
    const e = new Emulator({ cols: 10, rows: 3, highWaterBytes: 50, maxPendingBytes: 100 });
    emulators.push(e);
    expect(e.write('x'.repeat(30))).toBe(true);
    expect(e.write('x'.repeat(30))).toBe(false);
    expect(() => e.write('y'.repeat(60))).toThrow(EmulatorOverloadedError);
    await e.flush();
    expect(e.pendingBytes).toBe(0);
    expect(e.write('y'.repeat(60))).toBe(false);
    await e.flush();
    expect(e.write('')).toBe(true);
    expect(e.snapshot().lines[2]!.toString()).toBe('y'.repeat(10));
  });

  it('after dispose, flush resolves and writes are ignored', async () => {
    const e = emulator();
    e.write('abc');
    const pending = e.flush();
    e.dispose();
    await pending;
    e.write('more');
    await e.flush();
  });
});

describe('row identity', () => {
  it('returns the same framebuffer when nothing changed and the same rows where nothing changed', async () => {
    const e = emulator(20, 6);
    const a = await feed(e, 'one\r\ntwo\r\nthree');
    expect(e.snapshot()).toBe(a);
    const b = await feed(e, '\x1b[2;1HTWO');
    expect(b).not.toBe(a);
    expect(b.lines.map((r, y) => r === a.lines[y])).toEqual([true, false, true, true, true, true]);
    // A cursor move alone keeps every row.
    const c = await feed(e, '\x1b[5;5H');
    expect(c.lines).toBe(b.lines);
    expect(c.cursor).toMatchObject({ x: 4, y: 4 });
    // Rewriting a row with what it already shows keeps it too.
    const d = await feed(e, '\x1b[1;1Hone');
    expect(d.lines).toBe(c.lines);
  });

  it('reuses rows that scrolled up and builds only the new one', async () => {
    const e = emulator(20, 6);
    const a = await feed(e, Array.from({ length: 6 }, (_, i) => `line ${i}`).join('\r\n'));
    const b = await feed(e, '\r\nline 6');
    for (let y = 0; y < 5; y++) expect(b.lines[y], `row ${y}`).toBe(a.lines[y + 1]);
    expect(b.lines[5]!.toString().trim()).toBe('line 6');
    const c = await feed(e, '\r\n\r\nx');
    for (let y = 0; y < 4; y++) expect(c.lines[y], `row ${y}`).toBe(b.lines[y + 2]);
  });

  it('keeps rows outside a scroll region and shifts those inside', async () => {
    const e = emulator(20, 8);
    const a = await feed(e, Array.from({ length: 8 }, (_, i) => `row ${i}`).join('\r\n') + '\x1b[3;6r\x1b[6;1H');
    const b = await feed(e, '\n');
    expect(b.lines[0]).toBe(a.lines[0]);
    expect(b.lines[1]).toBe(a.lines[1]);
    expect(b.lines[2]).toBe(a.lines[3]);
    expect(b.lines[3]).toBe(a.lines[4]);
    expect(b.lines[4]).toBe(a.lines[5]);
    expect(b.lines[5]!.toString().trim()).toBe('');
    expect(b.lines[6]).toBe(a.lines[6]);
    expect(b.lines[7]).toBe(a.lines[7]);
  });

  it('gives back the main screen rows unchanged after the alternate screen', async () => {
    const e = emulator(20, 5);
    const a = await feed(e, 'main 1\r\nmain 2');
    const alt = await feed(e, '\x1b[?1049h\x1b[Halt screen');
    expect(alt.lines[0]!.toString().trim()).toBe('alt screen');
    const b = await feed(e, '\x1b[?1049l');
    expect(b.lines).toEqual(a.lines);
    for (let y = 0; y < 5; y++) expect(b.lines[y], `row ${y}`).toBe(a.lines[y]);
  });

  it('notices a changed combined grapheme whose cell words are identical', async () => {
    const e = emulator();
    const a = await feed(e, 'e\u0301');
    const b = await feed(e, '\r' + 'e\u0308');
    expect(b.lines[0]).not.toBe(a.lines[0]);
    expect(b.lines[0]!.text[0]).toBe('e\u0308');
  });
});

describe('resize', () => {
  it('resizes and matches xterm after a resize, clamping absurd sizes', async () => {
    const e = emulator(20, 6);
    const ref = reference(20, 6);
    const text = Array.from({ length: 8 }, (_, i) => `wrapped text line ${i} ${'='.repeat(i * 3)}`).join('\r\n');
    e.write(text);
    await writeAndParse(ref, text);
    for (const [c, r] of [
      [30, 10],
      [12, 4],
      [80, 24],
      [7, 3],
    ] as const) {
      e.resize(c, r);
      ref.resize(c, r);
      await e.flush();
      const f = e.snapshot();
      expect([f.cols, f.rows]).toEqual([c, r]);
      expectMatchesReference(f, ref, `after resize to ${c}x${r}`);
      expectWellFormed(f, `after resize to ${c}x${r}`);
    }
    e.resize(0, 0);
    expect([e.snapshot().cols, e.snapshot().rows]).toEqual([2, 1]);
    e.resize(1e6, 1e6);
    expect([e.snapshot().cols, e.snapshot().rows]).toEqual([LIMITS.maxCols, LIMITS.maxRows]);
  });
});

// ---------------------------------------------------------------------------------------------
// Random escape-sequence soup, in random chunks, with resizes: the fast reader (which only looks at
// rows xterm reports dirty) must agree with a full public-API read after every chunk.

const TOKENS: readonly string[] = [
  'abc',
  'hello world ',
  'x'.repeat(30),
  '\u4e2d\u6587',
  '\u{1F600}',
  '\u{1F468}\u200d\u{1F469}\u200d\u{1F467}',
  'e\u0301',
  '\u0301',
  '\u0308',
  '\r',
  '\n',
  '\r\n',
  '\t',
  '\b',
  '\x1b[H',
  '\x1b[3;5H',
  '\x1b[10;2H',
  '\x1b[2A',
  '\x1b[3C',
  '\x1b[J',
  '\x1b[1J',
  '\x1b[2J',
  '\x1b[K',
  '\x1b[1K',
  '\x1b[2K',
  '\x1b[2L',
  '\x1b[M',
  '\x1b[3@',
  '\x1b[2P',
  '\x1b[4X',
  '\x1b[2S',
  '\x1b[T',
  '\x1b[2;5r',
  '\x1b[r',
  '\x1bM',
  '\x1bD',
  '\x1bE',
  '\x1b[31;1m',
  '\x1b[48;5;22m',
  '\x1b[38;2;1;2;3m',
  '\x1b[4:3m',
  '\x1b[7;9;53m',
  '\x1b[0m',
  '\x1b[?1049h',
  '\x1b[?1049l',
  '\x1b[?47h',
  '\x1b[?7l',
  '\x1b[?7h',
  '\x1b[4h',
  '\x1b[4l',
  '\x1b#8',
  '\x1bc',
  '\x1b[!p',
  '\x1b[?6h',
  '\x1b[?6l',
  '\x1b]8;;http://a\x07',
  '\x1b]8;;\x07',
  '\x1b[2 q',
  '\x1b[?25l',
];

describe('fast reader vs public API (property)', () => {
  it.each([0, 100])('agrees after every chunk of random escape sequences, with resizes (scrollback %i)', async (scrollback) => {
    const action = fc.oneof(
      { weight: 12, arbitrary: fc.array(fc.constantFrom(...TOKENS), { minLength: 1, maxLength: 12 }).map((t) => ({ write: t.join('') })) },
      { weight: 1, arbitrary: fc.record({ cols: fc.integer({ min: 2, max: 40 }), rows: fc.integer({ min: 1, max: 12 }) }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 20 }), async (actions) => {
        const e = new Emulator({ cols: 16, rows: 8, scrollback });
        const slow = new Emulator({ cols: 16, rows: 8, scrollback, useInternals: false });
        const ref = referenceTerminal(16, 8, scrollback);
        try {
          for (const [i, a] of actions.entries()) {
            if ('write' in a) {
              e.write(a.write);
              slow.write(a.write);
              await writeAndParse(ref, a.write);
            } else {
              e.resize(a.cols, a.rows);
              slow.resize(a.cols, a.rows);
              ref.resize(a.cols, a.rows);
            }
            await Promise.all([e.flush(), slow.flush()]);
            const frame = e.snapshot();
            expectMatchesReference(frame, ref, `action ${i}`);
            expectWellFormed(frame, `action ${i}`);
            const other = slow.snapshot();
            expect(other.lines.map((r) => r.toString())).toEqual(frame.lines.map((r) => r.toString()));
            expect(other.cursor).toEqual(frame.cursor);
          }
        } finally {
          e.dispose();
          slow.dispose();
          ref.dispose();
        }
      }),
      { seed: 20251121 + scrollback, numRuns: 60 },
    );
  });
});

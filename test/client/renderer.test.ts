import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { enterSequence, exitSequence, isCertainWidth, renderFrame } from '../../client/renderer.js';
import { DEFAULT_CAPABILITIES, type TerminalCapabilities } from '../../client/terminal-capabilities.js';
import { Attr, type Framebuffer, ColorKind, color, DEFAULT_MODES, Row } from '../../protocol/framebuffer.js';
import { applyEdit, editArb, framebufferArb, screen, textRow, withLines, withText, glyphs } from '../support/screen-builder.js';
import { editedPairArb, framebufferEditArb, applyEdit as applyAnyEdit } from '../support/framebuffer-arbitrary.js';
import { differences, UserTerminal } from '../support/user-terminal.js';

const SYNC_BEGIN = '\x1b[?2026h';
const SYNC_END = '\x1b[?2026l';

/** The frame's bytes without the synchronized-output wrapper. */
function inner(s: string): string {
  expect(s.startsWith(SYNC_BEGIN) && s.endsWith(SYNC_END)).toBe(true);
  return s.slice(SYNC_BEGIN.length, s.length - SYNC_END.length);
}

const terminals: UserTerminal[] = [];
afterEach(() => {
  for (const t of terminals.splice(0)) t.dispose();
});

/** A user terminal already showing `fb` (drawn by a full repaint, which is checked too). */
async function showing(fb: Framebuffer, caps: TerminalCapabilities = DEFAULT_CAPABILITIES): Promise<UserTerminal> {
  const user = new UserTerminal(fb.cols, fb.rows);
  terminals.push(user);
  await user.write(renderFrame(null, fb, caps));
  expect(differences(user, fb, { full: true })).toEqual([]);
  return user;
}

async function renderOnto(user: UserTerminal, from: Framebuffer, to: Framebuffer, caps: TerminalCapabilities = DEFAULT_CAPABILITIES): Promise<string> {
  const out = renderFrame(from, to, caps);
  await user.write(out);
  expect(differences(user, to, { full: true })).toEqual([]);
  return out;
}

const lines = (n: number, prefix = 'line'): string[] => Array.from({ length: n }, (_, i) => `${prefix} ${i}`);

describe('renderFrame: unchanged frames', () => {
  it('emits nothing for the same frame or an equal copy', () => {
    const fb = screen(20, ['hello', 'world'], { cursor: { x: 5, y: 0 }, title: 't' });
    expect(renderFrame(fb, fb)).toBe('');
    const copy = screen(20, ['hello', 'world'], { cursor: { x: 5, y: 0 }, title: 't' });
    expect(copy.lines[0]).not.toBe(fb.lines[0]);
    expect(renderFrame(fb, copy)).toBe('');
  });
});

describe('renderFrame: cells', () => {
  it('typing one character writes just that character', async () => {
    const a = screen(20, ['$ ab', ''], { cursor: { x: 4, y: 0 } });
    const b = withLines(a, [textRow(20, '$ abc'), a.lines[1]!], { cursor: { ...a.cursor, x: 5 } });
    const user = await showing(a);
    expect(inner(await renderOnto(user, a, b))).toBe('c');
  });

  it('one changed cell behind the cursor costs a backspace and the cell', async () => {
    const a = screen(20, ['hello'], { cursor: { x: 5, y: 0 } });
    const b = withLines(a, [textRow(20, 'hellO')]);
    const user = await showing(a);
    expect(inner(await renderOnto(user, a, b))).toBe('\bO');
  });

  it('moves with CUP when that is shortest, and skips unchanged cells', async () => {
    const a = screen(40, lines(10), { cursor: { x: 0, y: 0 } });
    const rows = a.lines.slice();
    rows[7] = withText(rows[7]!, 30, ['X']);
    const b = withLines(a, rows);
    const user = await showing(a);
    expect(inner(await renderOnto(user, a, b))).toBe('\x1b[8;31HX\x1b[H');
  });

  it('writes a short gap of unchanged cells instead of moving over it', async () => {
    const a = screen(20, ['abcdef'], { cursor: { x: 0, y: 0 } });
    const b = withLines(a, [textRow(20, 'AbCdEf')]);
    const user = await showing(a);
    expect(inner(await renderOnto(user, a, b))).toBe('AbCdE\r');
  });

  it('changes the rendition only where it changes, and resets it when an attribute goes off', async () => {
    const red = color(ColorKind.Palette16, 1);
    const row = withText(withText(Row.blank(20), 0, glyphs('ab'), { fg: red, attrs: Attr.Bold }), 2, glyphs('cd'), { fg: red });
    const a = screen(20, [''], { cursor: { x: 0, y: 0 } });
    const b = withLines(a, [row]);
    const user = await showing(a);
    expect(inner(await renderOnto(user, a, b))).toBe('\x1b[1;31mab\x1b[0;31mcd\x1b[m\r');
  });

  it('writes each colour in the form the application used', async () => {
    const row = withText(
      withText(withText(Row.blank(20), 0, ['a'], { fg: color(ColorKind.Palette16, 9) }), 1, ['b'], { fg: color(ColorKind.Palette256, 9) }),
      2,
      ['c'],
      { bg: color(ColorKind.Rgb, 0x0a0b0c), attrs: Attr.Overline },
    );
    const a = screen(20, [''], { cursor: { x: 3, y: 0 } });
    const b = withLines(a, [row]);
    const user = await showing(a);
    const out = inner(await renderOnto(user, a, b));
    expect(out).toContain('\x1b[91ma');
    expect(out).toContain('\x1b[38;5;9mb');
    expect(out).toContain('53;48;2;10;11;12mc');
  });

  it('erases to the end of the line with EL and inside it with ECH', async () => {
    const a = screen(60, ['x'.repeat(60)], { cursor: { x: 0, y: 0 } });
    const b = withLines(a, [textRow(60, 'x' + ' '.repeat(20) + 'x')]);
    const user = await showing(a);
    expect(inner(await renderOnto(user, a, b))).toBe('x\x1b[20X\x1b[23G\x1b[K\r');
  });

  it('erases coloured blanks only when the terminal has background colour erase', async () => {
    const blue = color(ColorKind.Palette16, 4);
    const a = screen(30, ['y'.repeat(30)], { cursor: { x: 0, y: 0 } });
    const b = withLines(a, [Row.blank(30, blue)]);
    const bce = await showing(a);
    expect(inner(await renderOnto(bce, a, b))).toBe('\x1b[44m\x1b[K\x1b[m');
    const noBce = { ...DEFAULT_CAPABILITIES, backgroundColorErase: false };
    const user = await showing(a, noBce);
    expect(inner(await renderOnto(user, a, b, noBce))).toBe('\x1b[44m' + ' '.repeat(30) + '\x1b[m\r');
  });

  it('never lets a control character from a cell reach the terminal', () => {
    const evil = Row.blank(20);
    evil.set(0, '\x1b]52;c;?\x07', 1, 0, 0, 0);
    evil.set(1, '\x9b2J', 1, 0, 0, 0);
    const fb = screen(20, [evil]);
    const out = renderFrame(null, fb);
    expect(out).not.toContain('\x1b]52');
    expect(out).not.toContain('\x9b');
  });
});

describe('renderFrame: wide and ambiguous characters', () => {
  it('places the cell after an emoji with an absolute move', () => {
    const a = screen(20, [''], { cursor: { x: 0, y: 0 } });
    const b = withLines(a, [textRow(20, 'a😀bc')], { cursor: { ...a.cursor, x: 5 } });
    expect(inner(renderFrame(a, b))).toBe('a😀\x1b[4Gbc');
  });

  it('trusts CJK widths, which every terminal agrees on', () => {
    const a = screen(20, [''], { cursor: { x: 0, y: 0 } });
    const b = withLines(a, [textRow(20, 'a中文b')], { cursor: { ...a.cursor, x: 6 } });
    expect(inner(renderFrame(a, b))).toBe('a中文b');
  });

  it('keeps the rest of the line in place on a terminal that thinks an emoji is narrow', async () => {
    const a = screen(20, [''], { cursor: { x: 0, y: 0 } });
    const b = withLines(a, [textRow(20, 'a😀bc')], { cursor: { ...a.cursor, x: 5 } });
    const user = new UserTerminal(20, 1);
    terminals.push(user);
    user.term.unicode.activeVersion = '6'; // emoji are one column wide here
    await user.write(renderFrame(null, a));
    await user.write(renderFrame(a, b));
    expect(user.cell(3, 0).text).toBe('b');
    expect(user.cell(4, 0).text).toBe('c');
    expect(user.cursor().x).toBe(5);
  });

  it('rewrites the cell after an ambiguous character, in case the terminal drew it wider', async () => {
    // A server with Unicode 6 tables thinks this emoji is one column wide; the user's terminal says two.
    const narrowEmoji = (row: Row): Row => {
      const r = row.clone();
      r.set(1, '😀', 1, 0, 0, 0);
      return r;
    };
    const a = screen(10, ['xybc'], { cursor: { x: 0, y: 0 } });
    const b = withLines(a, [narrowEmoji(a.lines[0]!)]);
    const user = await showing(a);
    await user.write(renderFrame(a, b));
    expect(user.cell(2, 0).text).toBe('b');
    expect(user.cell(3, 0).text).toBe('c');
  });

  it('writes an ambiguous character in the last column with autowrap off, so it cannot scroll the screen', async () => {
    const row0 = textRow(10, 'abcdefghi');
    row0.set(9, '😀', 1, 0, 0, 0);
    const fb = screen(10, [row0, 'klmnopqrst'], { cursor: { x: 0, y: 1 } });
    expect(renderFrame(null, fb)).toContain('\x1b[?7l😀\x1b[?7h');
    const user = new UserTerminal(10, 2);
    terminals.push(user);
    await user.write(renderFrame(null, fb));
    expect(user.cell(0, 0).text).toBe('a');
    expect(user.cell(8, 0).text).toBe('i');
    expect(user.cell(0, 1).text).toBe('k');
    expect(user.cell(9, 1).text).toBe('t');
    expect(user.strayModes()).toEqual([]);
  });

  it('replaces a wide character by narrow ones and back', async () => {
    const a = screen(10, [textRow(10, '中文字')], { cursor: { x: 0, y: 0 } });
    const b = withLines(a, [textRow(10, 'ab文cd')]);
    const c = withLines(a, [textRow(10, 'a中c')]);
    const user = await showing(a);
    await renderOnto(user, a, b);
    await renderOnto(user, b, c);
  });
});

describe('renderFrame: inconsistent input', () => {
  it('redraws a whole wide character when only its right half differs', async () => {
    const target = screen(6, [textRow(6, '中ab')], { cursor: { x: 4, y: 0 } });
    const odd = target.lines[0]!.clone();
    odd.set(1, '', 0, color(ColorKind.Palette16, 1), 0, 0);
    const shown = withLines(target, [odd]);
    const user = await showing(target);
    expect(inner(await renderOnto(user, shown, target))).toBe('\r中ab');
  });
});

describe('renderFrame: scrolling', () => {
  it('scrolls the whole screen with line feeds at the bottom', async () => {
    const a = screen(30, lines(24), { cursor: { x: 0, y: 23 } });
    const b = screen(30, [...lines(24).slice(1), 'line 24'], { cursor: { x: 0, y: 23 } });
    const user = await showing(a);
    const out = inner(await renderOnto(user, a, b));
    expect(out).toBe('\nline 24\r');
  });

  it('scrolls by k lines for about k bytes', async () => {
    const a = screen(30, lines(24), { cursor: { x: 0, y: 23 } });
    const all = lines(30);
    const b = screen(30, all.slice(6), { cursor: { x: 0, y: 23 } });
    const user = await showing(a);
    const out = inner(await renderOnto(user, a, b));
    expect(out.startsWith('\n'.repeat(6))).toBe(true);
    expect(out).not.toContain('line 6');
    expect(out.length).toBeLessThan(6 + 6 * 12);
  });

  it('scrolls inside a region when a status line stays put (vim)', async () => {
    const text = lines(40, 'text');
    const a = screen(30, [...text.slice(0, 23), '-- status --'], { cursor: { x: 0, y: 0 } });
    const b = screen(30, [...text.slice(3, 26), '-- status --'], { cursor: { x: 0, y: 0 } });
    const user = await showing(a);
    const out = inner(await renderOnto(user, a, b));
    expect(out.startsWith('\x1b[1;23r\x1b[23H\n\n\n\x1b[r')).toBe(true);
    expect(out).not.toContain('text 4');
  });

  it('scrolls down with reverse index (less, going back)', async () => {
    const text = lines(40, 'text');
    const a = screen(30, [...text.slice(10, 33), ':'], { cursor: { x: 1, y: 23 } });
    const b = screen(30, [...text.slice(8, 31), ':'], { cursor: { x: 1, y: 23 } });
    const user = await showing(a);
    const out = inner(await renderOnto(user, a, b));
    expect(out).toContain('\x1bM\x1bM');
    expect(out).not.toContain('text 12');
  });

  it('finds the scroll even when no row object was kept', async () => {
    const a = screen(30, lines(10), { cursor: { x: 0, y: 9 } });
    const b = screen(30, [...lines(11).slice(1)], { cursor: { x: 0, y: 9 } });
    expect(b.lines[0]).not.toBe(a.lines[1]);
    const user = await showing(a);
    expect(inner(await renderOnto(user, a, b))).toBe('\nline 10\r');
  });
});

describe('renderFrame: wrapped lines', () => {
  it('lets the terminal wrap a long line itself on a full repaint', async () => {
    const top = textRow(10, 'abcdefghij');
    top.wrapped = true;
    const fb = screen(10, [top, 'klm', ''], { cursor: { x: 3, y: 1 } });
    const user = await showing(fb);
    expect(user.wrapped(0)).toBe(true);
    expect(user.wrapped(1)).toBe(false);
    expect(inner(renderFrame(null, fb))).toContain('abcdefghijklm');
  });

  it('wraps naturally when typing crosses the right margin', async () => {
    const a = screen(10, ['$ abcdefg', '', ''], { cursor: { x: 9, y: 0 } });
    const top = textRow(10, '$ abcdefgh');
    top.wrapped = true;
    const b = withLines(a, [top, textRow(10, 'i'), a.lines[2]!], { cursor: { ...a.cursor, x: 1, y: 1 } });
    const user = await showing(a);
    expect(inner(await renderOnto(user, a, b))).toBe('hi');
    expect(user.wrapped(0)).toBe(true);
  });

  it('keeps a wrap the terminal knows when moving down across it', async () => {
    const top = textRow(10, 'abcdefghij');
    top.wrapped = true;
    const a = screen(10, [top, 'klm', ''], { cursor: { x: 0, y: 0 } });
    const b = withLines(a, [top, textRow(10, 'kXm'), a.lines[2]!]);
    const user = await showing(a);
    expect(user.wrapped(0)).toBe(true);
    const out = inner(await renderOnto(user, a, b));
    expect(out).not.toContain('\n');
    expect(user.wrapped(0)).toBe(true);
  });

  it('wraps a line whose last cells are blank', async () => {
    const top = textRow(10, 'abc');
    top.wrapped = true;
    const fb = screen(10, [top, ' x', ''], { cursor: { x: 0, y: 2 } });
    const user = await showing(fb);
    expect(user.wrapped(0)).toBe(true);
  });
});

describe('renderFrame: modes, cursor, title, bell, clipboard', () => {
  it('mirrors input modes, turning the old mouse mode off before the new one on', async () => {
    const a = screen(10, [''], { modes: { mouseTracking: 'vt200', mouseEncoding: 'sgr' } });
    const b = { ...a, modes: { ...DEFAULT_MODES, applicationCursorKeys: true, applicationKeypad: true, bracketedPaste: true, mouseTracking: 'any' as const, mouseEncoding: 'urxvt' as const, focusReporting: true } };
    const user = await showing(a);
    const out = inner(await renderOnto(user, a, b));
    expect(out).toBe('\x1b[?1h\x1b=\x1b[?2004h\x1b[?1004h\x1b[?1000l\x1b[?1003h\x1b[?1006l\x1b[?1015h');
    const c = { ...b, modes: DEFAULT_MODES };
    expect(inner(await renderOnto(user, b, c))).toBe('\x1b[?1l\x1b>\x1b[?2004l\x1b[?1004l\x1b[?1003l\x1b[?1015l');
  });

  it('sets cursor visibility and shape only when they change', async () => {
    const a = screen(10, ['']);
    const b = { ...a, cursor: { ...a.cursor, visible: false, shape: 'bar' as const, blink: false } };
    const user = await showing(a);
    expect(inner(await renderOnto(user, a, b))).toBe('\x1b[6 q\x1b[?25l');
    const c = { ...b, cursor: { ...b.cursor, x: 3 } };
    expect(inner(await renderOnto(user, b, c))).toBe('\x1b[4G');
  });

  it('sets the title with OSC 0 when title and icon agree, only when changed', async () => {
    const a = screen(10, [''], { title: 'one' });
    const b = { ...a, title: 'two', iconName: 'two' };
    const user = await showing(a);
    expect(user.title).toBe('one');
    expect(inner(await renderOnto(user, a, b))).toBe('\x1b]0;two\x07');
    const c = { ...b, iconName: 'icon' };
    expect(inner(renderFrame(b, c))).toBe('\x1b]1;icon\x07');
    expect(inner(renderFrame(null, screen(10, [''], { title: 'x\x07\x1b]2;evil' })))).toContain('\x1b]0;x]2;evil\x07');
  });

  it('does not send a title where the terminal shows none, nor an empty one on the first frame', () => {
    expect(renderFrame(null, screen(10, ['']))).not.toContain('\x1b]');
    const noTitles = { ...DEFAULT_CAPABILITIES, titles: false };
    expect(renderFrame(null, screen(10, [''], { title: 't' }), noTitles)).not.toContain('\x1b]');
  });

  it('rings once however many bells were counted, and never on a repaint', async () => {
    const a = screen(10, ['']);
    const b = { ...a, bellCount: 3 };
    const user = await showing(a);
    expect(inner(await renderOnto(user, a, b))).toBe('\x07');
    expect(user.bells).toBe(1);
    expect(renderFrame(null, b)).not.toContain('\x07');
  });

  it('forwards each new OSC 52 write once, and never a query', async () => {
    const a = screen(10, ['']);
    const b = { ...a, clipboard: { serial: 1, selection: 'c', data: 'aGVsbG8=' } };
    const user = await showing(a);
    expect(inner(await renderOnto(user, a, b))).toBe('\x1b]52;c;aGVsbG8=\x07');
    expect(user.clipboard).toEqual(['c;aGVsbG8=']);
    expect(renderFrame(b, { ...b })).toBe('');
    const again = { ...b, clipboard: { serial: 2, selection: 'c', data: 'aGVsbG8=' } };
    expect(inner(renderFrame(b, again))).toBe('\x1b]52;c;aGVsbG8=\x07');
    expect(renderFrame(b, { ...b, clipboard: { serial: 3, selection: 'c', data: '?' } })).toBe('');
    expect(renderFrame(b, { ...b, clipboard: { serial: 3, selection: 'c', data: 'a\x07b' } })).toBe('');
    expect(renderFrame(null, b)).not.toContain('52;');
  });

  it('redraws everything after a resize', async () => {
    const a = screen(10, ['abc', 'def'], { title: 't' });
    const b = screen(12, ['abc', 'def', 'ghi'], { title: 't' });
    const user = await showing(a);
    const out = renderFrame(a, b);
    expect(out).toContain('\x1b[2J');
    expect(out).not.toContain('\x1b]0;');
    user.term.resize(12, 3);
    await user.write(out);
    expect(differences(user, b, { full: true })).toEqual([]);
  });
});

describe('enterSequence / exitSequence', () => {
  it('enters the alternate screen and saves the title', async () => {
    expect(enterSequence()).toBe('\x1b[22;0t\x1b[?1049h');
    expect(enterSequence({ alternateScreen: false })).toBe('\x1b[22;0t');
    const user = new UserTerminal(10, 3);
    terminals.push(user);
    await user.write(enterSequence());
    expect(user.term.buffer.active.type).toBe('alternate');
  });

  it('hands the terminal back with every mode off, the cursor visible, the main screen back', async () => {
    const fb = screen(10, ['abc', '', ''], {
      cursor: { visible: false, shape: 'underline', blink: false },
      modes: { applicationCursorKeys: true, applicationKeypad: true, bracketedPaste: true, mouseTracking: 'drag', mouseEncoding: 'sgr', focusReporting: true },
    });
    const user = new UserTerminal(10, 3);
    terminals.push(user);
    await user.write(enterSequence());
    await user.write(renderFrame(null, fb));
    expect(differences(user, fb, { full: true })).toEqual([]);
    await user.write(exitSequence(fb));
    expect(user.term.buffer.active.type).toBe('normal');
    expect(user.modes()).toEqual(DEFAULT_MODES);
    expect(user.cursor().visible).toBe(true);
    expect(user.cursor().shape).toBe('block');
    expect(user.strayModes()).toEqual([]);
    const exitUnknown = exitSequence(null);
    for (const mode of ['?1l', '?2004l', '?1000l', '?1002l', '?1003l', '?9l', '?1005l', '?1006l', '?1015l', '?1004l', '?25h', '?1049l']) {
      expect(exitUnknown).toContain(mode);
    }
  });
});

describe('isCertainWidth', () => {
  it('trusts ASCII, Latin, box drawing and CJK, and not emoji or combining sequences', () => {
    expect(isCertainWidth('a', 1)).toBe(true);
    expect(isCertainWidth('é', 1)).toBe(true);
    expect(isCertainWidth('─', 1)).toBe(true);
    expect(isCertainWidth('中', 2)).toBe(true);
    expect(isCertainWidth('😀', 2)).toBe(false);
    expect(isCertainWidth('e\u0301', 1)).toBe(false);
    expect(isCertainWidth('\u00ad', 1)).toBe(false);
  });
});

describe('renderFrame: properties', () => {
  const sizes: [number, number][] = [
    [8, 4],
    [13, 6],
  ];
  for (const [cols, rows] of sizes) {
    it(`a repaint, then each frame rendered onto the last, shows exactly that frame (${cols}x${rows})`, async () => {
      await fc.assert(
        fc.asyncProperty(framebufferArb(cols, rows), fc.array(fc.array(editArb(cols, rows), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 4 }), async (first, steps) => {
          const user = new UserTerminal(cols, rows);
          try {
            await user.write(renderFrame(null, first));
            expect(differences(user, first, { full: true })).toEqual([]);
            let shown = first;
            for (const edits of steps) {
              const next = edits.reduce(applyEdit, shown);
              await user.write(renderFrame(shown, next));
              expect(differences(user, next, { full: true })).toEqual([]);
              shown = next;
            }
          } finally {
            user.dispose();
          }
        }),
        { seed: 20240611, numRuns: 150 },
      );
    });
  }

  it('renders onto a terminal without ECH or BCE just as exactly', async () => {
    const caps = { ...DEFAULT_CAPABILITIES, eraseCharacters: false, backgroundColorErase: false };
    await fc.assert(
      fc.asyncProperty(framebufferArb(9, 4), framebufferArb(9, 4), async (a, b) => {
        const user = new UserTerminal(9, 4);
        try {
          await user.write(renderFrame(null, a, caps));
          expect(differences(user, a, { full: true })).toEqual([]);
          await user.write(renderFrame(a, b, caps));
          expect(differences(user, b, { full: true })).toEqual([]);
        } finally {
          user.dispose();
        }
      }),
      { seed: 7, numRuns: 100 },
    );
  });
});

/**
 * Problems with an output string: anything other than the escape sequences the renderer is meant
 * to use (so nothing from a cell or a title can smuggle in a control sequence of its own).
 */
function vocabularyProblems(out: string): string[] {
  const problems: string[] = [];
  let i = 0;
  while (i < out.length && problems.length < 5) {
    const c = out.charCodeAt(i);
    if (c === 0x1b) {
      const next = out[i + 1];
      if (next === '[') {
        const m = /^\x1b\[(\??)([0-9;]*)( ?)([@-~])/.exec(out.slice(i, i + 64));
        if (m === null || !'HGCDABXKJmrhlqt'.includes(m[4]!) || (m[3] === ' ' && m[4] !== 'q')) problems.push(`bad CSI at ${i}: ${JSON.stringify(out.slice(i, i + 12))}`);
        i += m === null ? 1 : m[0].length;
      } else if (next === ']') {
        const end = out.indexOf('\x07', i);
        const body = end < 0 ? '' : out.slice(i + 2, end);
        if (end < 0 || !/^(0|1|2|52);/.test(body) || /[\x00-\x1f\x7f-\x9f]/.test(body)) problems.push(`bad OSC at ${i}: ${JSON.stringify(out.slice(i, i + 24))}`);
        i = end < 0 ? out.length : end + 1;
      } else if (next === 'M' || next === '=' || next === '>') {
        i += 2;
      } else if (next === '(' && out[i + 2] === 'B') {
        i += 3;
      } else {
        problems.push(`bad ESC at ${i}: ${JSON.stringify(out.slice(i, i + 6))}`);
        i++;
      }
    } else {
      if ((c < 0x20 && c !== 0x0d && c !== 0x0a && c !== 0x08 && c !== 0x07 && c !== 0x0f) || (c >= 0x7f && c < 0xa0)) problems.push(`control 0x${c.toString(16)} at ${i}`);
      i++;
    }
  }
  return problems;
}

describe('renderFrame: any framebuffer (the shared arbitraries, odd cells included)', () => {
  it('never throws, speaks only its own escape vocabulary, and is silent for equal content', () => {
    fc.assert(
      fc.property(editedPairArb(), fc.array(framebufferEditArb(), { maxLength: 3 }), ([a, b], more) => {
        const c = more.reduce(applyAnyEdit, b);
        for (const out of [renderFrame(null, a), renderFrame(a, b), renderFrame(b, c), renderFrame(c, a)]) {
          expect(vocabularyProblems(out)).toEqual([]);
        }
        expect(renderFrame(a, applyAnyEdit(a, { kind: 'rebuild', y: 0, all: true }))).toBe('');
      }),
      { seed: 99, numRuns: 400 },
    );
  });
});

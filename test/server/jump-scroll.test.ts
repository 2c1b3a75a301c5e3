import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { framebuffersEqual, type Framebuffer } from '../../protocol/framebuffer.js';
import { Emulator } from '../../server/emulator.js';
import { skippablePrefix } from '../../server/jump-scroll.js';
import { framebufferLines } from '../support/live-session.js';

const SEED = 0x1e55;
const emulators: Emulator[] = [];
afterEach(() => {
  for (const e of emulators.splice(0)) e.dispose();
});

function emulator(cols: number, rows: number, jumpScroll: boolean): Emulator {
  const e = new Emulator({ cols, rows, jumpScroll });
  emulators.push(e);
  return e;
}

/** `n` lines "1\r\n" … "n\r\n". */
function seq(n: number, from = 1): string {
  let s = '';
  for (let i = from; i < from + n; i++) s += `${i}\r\n`;
  return s;
}

describe('skippablePrefix', () => {
  it('keeps 2·rows + 2 line ends of plain text and skips what is before them', () => {
    const text = seq(100);
    const cut = skippablePrefix(text, 24);
    expect(cut).toBeGreaterThan(0);
    expect(text.slice(cut)).toBe(seq(50, 51));
  });

  it('skips nothing in text too short to hold that many line ends', () => {
    expect(skippablePrefix(seq(50), 24)).toBe(0);
    expect(skippablePrefix(seq(51), 24)).toBeGreaterThan(0);
  });

  it('skips nothing when anything but printable ASCII, CR and LF is in the text', () => {
    for (const odd of ['\x1b[31m', '\t', '\x07', '\b', 'é', '\x1b', '\x00', '中', '\x7f']) {
      const text = `${seq(100)}${odd}${seq(100, 101)}`;
      expect(skippablePrefix(text, 24)).toBe(0);
      expect(skippablePrefix(new TextEncoder().encode(text), 24)).toBe(0);
    }
  });

  it('finds the same cut in bytes as in the string', () => {
    const text = seq(300);
    expect(skippablePrefix(new TextEncoder().encode(text), 24)).toBe(skippablePrefix(text, 24));
  });

  it('counts only CR LF pairs: bare LFs (no ONLCR) do not count', () => {
    expect(skippablePrefix('x\n'.repeat(200), 24)).toBe(0);
    expect(skippablePrefix('x\r'.repeat(200), 24)).toBe(0);
  });

  it('always cuts right after a CR LF', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('ab', '\r\n', 'x', '\r', ' ', '0123456789'), { maxLength: 400 }), fc.integer({ min: 1, max: 30 }), (parts, rows) => {
        const text = parts.join('');
        const cut = skippablePrefix(text, rows);
        if (cut > 0) {
          expect(text.slice(cut - 2, cut)).toBe('\r\n');
          expect(text.slice(cut).split('\r\n').length - 1).toBe(2 * rows + 2);
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});

/** Pieces of terminal output: mostly plain lines, with the things that must stop a jump. */
const piece = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 0, max: 45 }).map((n) => `${'0123456789abcdefghij'.repeat(3).slice(0, n)}\r\n`) },
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 200 }).map((n) => seq(n)) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 99 }).map((n) => `progress ${n}%\r`) },
  { weight: 1, arbitrary: fc.constantFrom('\x1b[31m', '\x1b[0m', '\x1b[44m', '\x1b[2;5r', '\x1b[r', '\x1b[H', '\x1b[10;3H', '\x1b[2J', '\x1b[K') },
  { weight: 1, arbitrary: fc.constantFrom('\x1b[?1049h', '\x1b[?1049l', '\x1b[?7l', '\x1b[?7h', '\x1b[4h', '\x1b[4l', '\x1b]0;title\x07') },
  { weight: 1, arbitrary: fc.constantFrom('中文\r\n', 'e\u0301\r\n', '\t|\r\n', 'x\n', '\x1b[3', '1m', '\x1b]2;half') },
);

function sameScreen(a: Framebuffer, b: Framebuffer): boolean {
  return framebuffersEqual(a, b) && a.cursor.x === b.cursor.x && a.cursor.y === b.cursor.y;
}

describe('jump scroll in the emulator', () => {
  it('is available with the installed xterm (if this fails, an xterm upgrade moved its parser state)', () => {
    expect(emulator(80, 24, true).jumpScrolls).toBe(true);
    expect(emulator(80, 24, false).jumpScrolls).toBe(false);
    const withScrollback = new Emulator({ cols: 80, rows: 24, scrollback: 100 });
    emulators.push(withScrollback);
    expect(withScrollback.jumpScrolls).toBe(false);
  });

  for (const kind of ['strings', 'bytes'] as const) it(`parses seq 1 200000 (${kind}) in a fraction of the text, to the same screen`, async () => {
    const fast = emulator(80, 24, true);
    const full = emulator(80, 24, false);
    const text: string | Uint8Array = kind === 'strings' ? seq(200_000) : new TextEncoder().encode(seq(200_000));
    for (let i = 0; i < text.length; i += 4095) {
      fast.write(text.slice(i, i + 4095));
      full.write(text.slice(i, i + 4095));
    }
    fast.write('$ ');
    full.write('$ ');
    await Promise.all([fast.flush(), full.flush()]);
    expect(fast.skippedBytes).toBeGreaterThan(text.length * 0.8);
    expect(full.skippedBytes).toBe(0);
    expect(framebufferLines(fast.snapshot()).slice(-3)).toEqual(['199999', '200000', '$']);
    expect(sameScreen(fast.snapshot(), full.snapshot())).toBe(true);
  });

  for (const kind of ['strings', 'bytes'] as const) it(`any output, any chunking (${kind}): the screen is the one a full parse gives, at every point where both caught up`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(piece, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 9 }),
        fc.constantFrom([20, 6], [80, 24], [12, 3]),
        async (bursts, split, [cols, rows]) => {
          const fast = emulator(cols!, rows!, true);
          const full = emulator(cols!, rows!, false);
          for (const burst of bursts) {
            // A burst arrives in several reads while xterm is busy: split where it splits.
            // Bytes split anywhere, inside UTF-8 characters too.
            const text: string | Uint8Array = kind === 'strings' ? burst.join('') : new TextEncoder().encode(burst.join(''));
            const step = Math.max(1, Math.ceil(text.length / split));
            for (let i = 0; i < text.length; i += step) {
              fast.write(text.slice(i, i + step));
              full.write(text.slice(i, i + step));
            }
            await Promise.all([fast.flush(), full.flush()]);
            const a = fast.snapshot();
            const b = full.snapshot();
            if (!sameScreen(a, b)) {
              expect(framebufferLines(a).concat(`cursor ${a.cursor.x},${a.cursor.y}`)).toEqual(framebufferLines(b).concat(`cursor ${b.cursor.x},${b.cursor.y}`));
            }
          }
        },
      ),
      { seed: SEED, numRuns: 150 },
    );
  });
});

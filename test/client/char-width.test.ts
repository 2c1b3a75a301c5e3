import { afterAll, describe, expect, it } from 'vitest';
import { charWidth } from '../../client/char-width.js';
import { Emulator } from '../../server/emulator.js';

describe('charWidth', () => {
  const emulator = new Emulator({ cols: 8, rows: 2 });
  afterAll(() => emulator.dispose());

  /** The width the server's emulator gives the code point, printed alone at column 1. */
  async function emulatorWidth(cp: number): Promise<number> {
    emulator.write(`\x1b[H\x1b[2Ja${String.fromCodePoint(cp)}`);
    await emulator.flush();
    const fb = emulator.snapshot();
    // A zero-width code point joins the 'a' (cursor stays at 1); otherwise it takes 1 or 2 cells.
    return fb.cursor.x - 1;
  }

  it('agrees with the emulator (xterm + Unicode 11) on a sample of code points', async () => {
    const sample = [
      0x41, 0xe9, 0x301, 0x200d, 0xfe0f, 0x4e2d, 0xac00, 0x3042, 0xff21, 0x1f600, 0x1f1fa, 0x2764, 0x20ac, 0x0e31, 0x1100, 0x2e80,
      0x1f9d1, 0x10000, 0x20000, 0x3000, 0xa0,
    ];
    for (let cp = 0x2000; cp < 0x2100; cp += 7) sample.push(cp);
    for (let cp = 0x1f300; cp < 0x1f700; cp += 37) sample.push(cp);
    for (const cp of sample) expect(charWidth(cp), `U+${cp.toString(16)}`).toBe(await emulatorWidth(cp));
  });

  it('gives ASCII width 1 and controls width 0', () => {
    expect(charWidth(0x61)).toBe(1);
    expect(charWidth(0x7e)).toBe(1);
    expect(charWidth(0x1b)).toBe(0);
  });
});

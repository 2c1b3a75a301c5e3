/**
 * Renderer: µs per frame and bytes written to the user's terminal, for typing one character,
 * scrolling by one line and a full redraw, at 80x24 and 200x60. A frame is rendered once per
 * frame interval (≥ 20 ms), so anything under ~1 ms is plenty; bytes matter on slow links (the
 * client's terminal may itself be behind an SSH hop).
 */
import { renderFrame } from '../client/renderer.js';
import { ColorKind, DEFAULT_CURSOR, Row, blankFramebuffer, color, type Framebuffer } from '../protocol/framebuffer.js';
import { seededRandom as prng } from '../test/support/seeded-random.js';
import { microsPerCall, type BenchRow } from './bench-row.js';

const FRAME_BUDGET_MICROS = 1000;

const WORDS = ['drwxr-xr-x', 'user', 'staff', '4096', 'Jun', 'src', 'index.ts', 'README.md', 'const', 'return', 'function', '=>', '{', '}', '// note'];
const PALETTE = [0, 0, color(ColorKind.Palette16, 4), color(ColorKind.Palette16, 2), color(ColorKind.Palette256, 208), color(ColorKind.Rgb, 0x88aaff)];

/** A line like shell or editor output: words in a few colours, blanks at the end. */
function textLine(cols: number, rnd: () => number): Row {
  const row = Row.blank(cols);
  const end = Math.floor(cols * (0.35 + rnd() * 0.6));
  let x = 0;
  while (x < end) {
    const word = WORDS[Math.floor(rnd() * WORDS.length)]!;
    const fg = PALETTE[Math.floor(rnd() * PALETTE.length)]!;
    const attrs = rnd() < 0.1 ? 1 : 0;
    for (let i = 0; i < word.length && x < end; i++) row.set(x++, word[i]!, 1, fg, 0, attrs);
    x++;
  }
  return row;
}

function textScreen(cols: number, rows: number, seed: number): { fb: Framebuffer; more: () => Row } {
  const rnd = prng(seed);
  const lines = Array.from({ length: rows }, () => textLine(cols, rnd));
  return { fb: { ...blankFramebuffer(cols, rows), lines, cursor: { ...DEFAULT_CURSOR, x: 0, y: rows - 1 } }, more: () => textLine(cols, rnd) };
}

function bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function measure(suite: string, name: string, render: () => string, note?: string): BenchRow[] {
  const out = render();
  const us = microsPerCall(() => {
    render();
  });
  const timeNote = us <= FRAME_BUDGET_MICROS ? `target < ${FRAME_BUDGET_MICROS} µs: met` : `target < ${FRAME_BUDGET_MICROS} µs: NOT met`;
  return [
    { suite, name: `${name}: time`, value: us, unit: 'µs/frame', note: note === undefined ? timeNote : `${timeNote}; ${note}` },
    { suite, name: `${name}: output`, value: bytes(out), unit: 'bytes' },
  ];
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const [cols, height] of [
    [80, 24],
    [200, 60],
  ] as const) {
    const size = `${cols}x${height}`;
    const { fb, more } = textScreen(cols, height, cols * height);

    // Typing: one character appears at the prompt on the last row.
    const prompt = fb.lines[height - 1]!.clone();
    const x = 20;
    prompt.set(x, 'q', 1, 0, 0, 0);
    const typed: Framebuffer = { ...fb, lines: [...fb.lines.slice(0, height - 1), prompt], cursor: { ...fb.cursor, x: x + 1 } };
    const before: Framebuffer = { ...fb, cursor: { ...fb.cursor, x } };
    rows.push(...measure('renderer', `type 1 char ${size}`, () => renderFrame(before, typed)));

    // Scroll by one line, unchanged rows shared (as the emulator hands them over).
    const scrolled: Framebuffer = { ...fb, lines: [...fb.lines.slice(1), more()] };
    rows.push(...measure('renderer', `scroll 1 line ${size}`, () => renderFrame(fb, scrolled)));

    // The same scroll with every row a new object (frames decoded from the wire): hashing included.
    const fresh = (): Framebuffer => ({ ...scrolled, lines: scrolled.lines.map((r) => r.clone()) });
    const cloneOnly = microsPerCall(() => {
      fresh();
    });
    const rebuilt = measure('renderer', `scroll 1 line ${size}, rows rebuilt`, () => renderFrame(fb, fresh()));
    rows.push({ ...rebuilt[0]!, value: rebuilt[0]!.value - cloneOnly, note: `${rebuilt[0]!.note}; cloning the rows (${cloneOnly.toFixed(0)} µs) subtracted` }, rebuilt[1]!);

    // Full redraw from an unknown terminal.
    rows.push(...measure('renderer', `full redraw ${size}`, () => renderFrame(null, fb)));
  }
  return rows;
}

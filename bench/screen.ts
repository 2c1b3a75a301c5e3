/**
 * Screen diff: bytes per diff and µs to diff+encode and to decode+apply, for typing, scrolling and
 * full redraws at 80x24 and 200x60. Targets: ≤ 40 B per keystroke; < 500 µs diff+encode for a
 * 200x60 screen that changed everywhere.
 */
import { deflateRawSync } from 'node:zlib';
import { ByteWriter } from '../protocol/byte-writer.js';
import { ColorKind, DEFAULT_CURSOR, Row, blankFramebuffer, color, framebuffersEqual, type Framebuffer } from '../protocol/framebuffer.js';
import { applyFramebufferDiff, diffFramebuffers } from '../protocol/screen-diff.js';
import { seededRandom as prng } from '../test/support/seeded-random.js';
import { microsPerCall, type BenchRow } from './bench-row.js';

const KEYSTROKE_TARGET_BYTES = 40;
const FULL_CHANGE_TARGET_MICROS = 500;

const WORDS = ['drwxr-xr-x', 'user', 'staff', '4096', 'Jun', 'src', 'index.ts', 'README.md', 'const', 'return', 'function', '=>', '{', '}', '// note'];

/** A line like shell or editor output: words in a few colours, blanks at the end. */
function textLine(cols: number, rnd: () => number, fill = 0.7): Row {
  const row = Row.blank(cols);
  const palette = [0, color(ColorKind.Palette16, 4), color(ColorKind.Palette16, 2), color(ColorKind.Palette256, 208), color(ColorKind.Rgb, 0x88aaff)];
  const end = Math.floor(cols * (fill * 0.5 + rnd() * fill * 0.5));
  let x = 0;
  while (x < end) {
    const word = WORDS[Math.floor(rnd() * WORDS.length)]!;
    const fg = palette[Math.floor(rnd() * palette.length)]!;
    const attrs = rnd() < 0.1 ? 1 : 0;
    for (let i = 0; i < word.length && x < end; i++) row.set(x++, word[i]!, 1, fg, 0, attrs);
    x++;
  }
  return row;
}

function busyScreen(cols: number, rows: number, seed: number): Framebuffer {
  const rnd = prng(seed);
  const lines: Row[] = [];
  for (let y = 0; y < rows - 1; y++) lines.push(textLine(cols, rnd));
  const prompt = Row.blank(cols);
  const p = 'user@host:~/src$ ';
  for (let x = 0; x < p.length; x++) prompt.set(x, p[x]!, 1, color(ColorKind.Palette16, 2), 0, 1);
  lines.push(prompt);
  return { ...blankFramebuffer(cols, rows), lines, cursor: { ...DEFAULT_CURSOR, x: p.length, y: rows - 1 } };
}

function typeChar(fb: Framebuffer): Framebuffer {
  const { x, y } = fb.cursor;
  const row = fb.lines[y]!.clone();
  row.set(x, 'l', 1, 0, 0, 0);
  const lines = fb.lines.slice();
  lines[y] = row;
  return { ...fb, lines, cursor: { ...fb.cursor, x: x + 1 } };
}

function scroll(fb: Framebuffer, k: number, shareRows: boolean, seed: number): Framebuffer {
  const rnd = prng(seed);
  const lines: Row[] = [];
  for (let y = 0; y < fb.rows; y++) {
    const old = fb.lines[y + k];
    lines.push(y + k < fb.rows && old !== undefined ? (shareRows ? old : old.clone()) : textLine(fb.cols, rnd));
  }
  return { ...fb, lines };
}

function scenarios(cols: number, rows: number): [string, Framebuffer, Framebuffer][] {
  const a = busyScreen(cols, rows, cols * rows);
  return [
    ['typing 1 char', a, typeChar(a)],
    ['scroll 1 line', a, scroll(a, 1, true, 7)],
    ['scroll 10 lines', a, scroll(a, 10, true, 8)],
    ['scroll 10, rows rebuilt', a, scroll(a, 10, false, 9)],
    ['full redraw (all cells changed)', a, busyScreen(cols, rows, cols * rows + 1)],
    ['clear screen', a, blankFramebuffer(cols, rows)],
  ];
}

/**
 * CPU time per call (user + system) over about `ms` of wall time. On a shared 2-core machine under
 * load, wall time counts the time other processes held the CPU; CPU time does not, so the targets
 * are judged on it. (On an idle machine the two agree.)
 */
function cpuMicrosPerCall(fn: () => void, ms = 200): number {
  const warmEnd = performance.now() + 50;
  while (performance.now() < warmEnd) fn();
  let calls = 0;
  const wallStart = performance.now();
  const start = process.cpuUsage();
  while (performance.now() - wallStart < ms) {
    for (let i = 0; i < 16; i++) fn();
    calls += 16;
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / calls;
}

export async function run(): Promise<BenchRow[]> {
  const out: BenchRow[] = [];
  const writer = new ByteWriter(64 * 1024);
  for (const [cols, rows] of [
    [80, 24],
    [200, 60],
  ] as const) {
    for (const [name, a, b] of scenarios(cols, rows)) {
      const label = `${cols}x${rows} ${name}`;
      const diff = diffFramebuffers(a, b);
      if (!framebuffersEqual(applyFramebufferDiff(a, diff), b)) throw new Error(`round trip failed: ${label}`);
      const encode = (): void => {
        writer.reset();
        diffFramebuffers(a, b, writer);
      };
      const decode = (): void => {
        applyFramebufferDiff(a, diff);
      };
      const encodeUs = microsPerCall(encode, 200);
      const encodeCpuUs = cpuMicrosPerCall(encode);
      const decodeUs = microsPerCall(decode, 200);
      const decodeCpuUs = cpuMicrosPerCall(decode);
      const zipped = deflateRawSync(diff).length;
      let bytesNote = `deflated ${zipped} B`;
      if (name.startsWith('typing')) bytesNote += `; target ≤ ${KEYSTROKE_TARGET_BYTES} B: ${diff.length <= KEYSTROKE_TARGET_BYTES ? 'met' : 'NOT met'}`;
      let encodeNote = `cpu ${encodeCpuUs.toFixed(1)} µs`;
      if (cols === 200 && name.startsWith('full')) {
        encodeNote += `; target < ${FULL_CHANGE_TARGET_MICROS} µs (cpu): ${encodeCpuUs < FULL_CHANGE_TARGET_MICROS ? 'met' : 'NOT met'}`;
      }
      out.push({ suite: 'screen', name: `${label}: diff size`, value: diff.length, unit: 'bytes', note: bytesNote });
      out.push({ suite: 'screen', name: `${label}: diff+encode`, value: encodeUs, unit: 'µs/op', note: encodeNote });
      out.push({ suite: 'screen', name: `${label}: decode+apply`, value: decodeUs, unit: 'µs/op', note: `cpu ${decodeCpuUs.toFixed(1)} µs` });
    }
  }
  return out;
}

/**
 * The server emulator: cost of a snapshot (xterm screen → Framebuffer) by how much changed, and
 * xterm's parse rate on real terminal output.
 *
 * Writes are parsed asynchronously by xterm (≥1 ms per write), so snapshot timings that need a
 * change first are taken one call at a time around `snapshot()` only, after `flush()`.
 */
import { Emulator } from '../server/emulator.js';
import { loadCorpus } from '../test/support/corpus.js';
import { microsPerCall, type BenchRow } from './bench-row.js';

const SUITE = 'emulator';
const SIZES = [
  { cols: 80, rows: 24 },
  { cols: 200, rows: 60 },
] as const;
/** Snapshots measured per case when each needs an asynchronous write first. */
const SAMPLES = 200;

/** A screen of coloured text; `variant` changes every cell's text and colour. */
function fullScreen(cols: number, rows: number, variant: number): string {
  const parts: string[] = ['\x1b[H'];
  for (let y = 0; y < rows; y++) {
    parts.push(`\x1b[${y + 1};1H`);
    for (let x = 0; x < cols; x += 8) {
      const n = Math.min(8, cols - x);
      parts.push(`\x1b[38;5;${(x + y + variant * 7) % 256}m`, String.fromCharCode(97 + ((x + y + variant) % 26)).repeat(n));
    }
  }
  parts.push('\x1b[0m');
  return parts.join('');
}

/** Median µs of `snapshot()` over SAMPLES rounds of `change(i)`, flush, snapshot. */
async function timedSnapshots(e: Emulator, change: (i: number) => string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    e.write(change(i));
    await e.flush();
    const start = performance.now();
    e.snapshot();
    times.push((performance.now() - start) * 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

async function snapshotRows(cols: number, rows: number, useInternals: boolean): Promise<BenchRow[]> {
  const size = `${cols}x${rows}`;
  const reader = useInternals ? '' : ' (public API)';
  const e = new Emulator({ cols, rows, useInternals });
  try {
    e.write(fullScreen(cols, rows, 0));
    await e.flush();
    e.snapshot();
    const out: BenchRow[] = [];
    out.push({ suite: SUITE, name: `snapshot ${size}, nothing changed${reader}`, value: microsPerCall(() => e.snapshot()), unit: 'µs/op' });
    const oneRow = await timedSnapshots(e, (i) => `\x1b[${(rows >> 1) + 1};3H${String.fromCharCode(65 + (i % 26))}`);
    out.push({ suite: SUITE, name: `snapshot ${size}, one row changed${reader}`, value: oneRow, unit: 'µs/op', note: 'median; target a few µs' });
    const full = await timedSnapshots(e, (i) => fullScreen(cols, rows, i + 1));
    out.push({
      suite: SUITE,
      name: `snapshot ${size}, every row changed${reader}`,
      value: full,
      unit: 'µs/op',
      note: cols === 200 && useInternals ? `median; target < 500 µs: ${full < 500 ? 'met' : 'NOT met'}` : 'median',
    });
    const scroll = await timedSnapshots(e, (i) => `\x1b[${rows};1H\r\n\x1b[32mnew line ${i}\x1b[0m`);
    out.push({ suite: SUITE, name: `snapshot ${size}, scroll by 1${reader}`, value: scroll, unit: 'µs/op', note: 'median; one new row built' });
    return out;
  } finally {
    e.dispose();
  }
}

async function parseRate(name: string): Promise<BenchRow> {
  const file = loadCorpus().find((c) => c.name === name);
  if (file === undefined) throw new Error(`corpus file ${name} is missing`);
  const e = new Emulator({ cols: file.cols, rows: file.rows });
  try {
    const target = 8 << 20;
    const copies = Math.ceil(target / file.bytes.length);
    const start = performance.now();
    for (let i = 0; i < copies; i++) e.write(file.bytes);
    await e.flush();
    e.snapshot();
    const seconds = (performance.now() - start) / 1000;
    return { suite: SUITE, name: `parse ${name} (${file.cols}x${file.rows}), ${copies} copies`, value: (copies * file.bytes.length) / seconds / 1e6, unit: 'MB/s' };
  } finally {
    e.dispose();
  }
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const { cols, rows: r } of SIZES) rows.push(...(await snapshotRows(cols, r, true)));
  rows.push(...(await snapshotRows(200, 60, false)));
  rows.push(await parseRate('vim-edit'));
  rows.push(await parseRate('colors'));
  rows.push(await parseRate('seq-scroll'));
  return rows;
}

/**
 * The server's per-frame work after parsing, end to end: emulator snapshot, framebuffer diff and
 * its encoding (ScreenState.diffFrom), then compression. Issue #3's target: a full change at
 * 200x60 under 1 ms. Parsing is excluded (it is the application's output, measured in 'emulator').
 */
import { compress } from '../protocol/compressor.js';
import { ScreenState } from '../protocol/screen-state.js';
import { Emulator } from '../server/emulator.js';
import type { BenchRow } from './bench-row.js';

/** A screen where every cell differs from the other variant: coloured text on every row. */
function fullScreen(cols: number, rows: number, variant: number): string {
  let out = '\x1b[H';
  for (let y = 0; y < rows; y++) {
    const colour = 31 + ((y + variant) % 7);
    const ch = String.fromCharCode(0x41 + ((y + variant * 7) % 26));
    out += `\x1b[${y + 1};1H\x1b[${colour}m${ch.repeat(cols)}`;
  }
  return `${out}\x1b[m`;
}

async function measure(cols: number, rows: number, rounds: number): Promise<{ micros: number; bytes: number; compressed: number }> {
  const emulator = new Emulator({ cols, rows });
  const screens = [fullScreen(cols, rows, 0), fullScreen(cols, rows, 1)];
  let previous = ScreenState.initial();
  let total = 0;
  let bytes = 0;
  let compressed = 0;
  for (let i = 0; i < rounds + 5; i++) {
    emulator.write(screens[i % 2]!);
    await emulator.flush();
    const start = performance.now();
    const state = previous.clone();
    state.setFramebuffer(emulator.snapshot());
    const diff = state.diffFrom(previous);
    const packed = compress(diff);
    const elapsed = performance.now() - start;
    if (i >= 5) {
      // The first rounds warm up the JIT and include the resize from 80x24.
      total += elapsed;
      bytes = diff.length;
      compressed = packed.length;
    }
    previous = state;
  }
  emulator.dispose();
  return { micros: (total * 1000) / rounds, bytes, compressed };
}

export async function run(): Promise<BenchRow[]> {
  const suite = 'screen-pipeline';
  const rows: BenchRow[] = [];
  for (const [cols, lines] of [
    [80, 24],
    [200, 60],
  ] as const) {
    const m = await measure(cols, lines, 200);
    const target = cols === 200 ? ` target < 1000 µs (${m.micros < 1000 ? 'met' : 'NOT met'})` : '';
    rows.push({
      suite,
      name: `snapshot+diff+encode+compress, full change ${cols}x${lines}`,
      value: m.micros,
      unit: 'µs/frame',
      note: `${m.bytes} B diff, ${m.compressed} B compressed;${target}`,
    });
  }
  return rows;
}

/** One figure a benchmark prints: `npm run bench` shows these as a table. */
export interface BenchRow {
  /** Which suite it belongs to, e.g. 'crypto' or 'screen'. */
  readonly suite: string;
  /** What was measured, e.g. 'seal+open 100 B'. */
  readonly name: string;
  readonly value: number;
  /** e.g. 'µs/op', 'bytes', 'MB/s', 'ms'. */
  readonly unit: string;
  /** Anything a reader needs to judge the figure, e.g. a target and whether it is met. */
  readonly note?: string;
}

/** Runs `fn` repeatedly for about `ms` milliseconds (after a warm-up) and returns µs per call. */
export function microsPerCall(fn: () => void, ms = 300): number {
  const warmEnd = performance.now() + Math.min(50, ms / 4);
  while (performance.now() < warmEnd) fn();
  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 16; i++) fn();
    calls += 16;
    now = performance.now();
  }
  return ((now - start) * 1000) / calls;
}

/**
 * `npm run bench`: the performance report (bench/report.ts): tsmosh, mosh and ssh on the same
 * links, printed as tables and written to bench/results/. `npm run bench -- --quick` is the short
 * version. `npm run bench -- micro` runs every other suite and prints one table;
 * `npm run bench -- screen` runs one. Speed and size are measured here, never asserted in tests
 * (a timed test is flaky on 2 cores).
 */
import type { BenchRow } from './bench-row.js';

type Suite = { readonly name: string; readonly run: () => Promise<BenchRow[]> };

/** Each suite is loaded only when it runs, so one can be run alone: `npm run bench -- screen`. */
const suites: Suite[] = [
  { name: 'crypto', run: async () => (await import('./crypto.js')).run() },
  { name: 'sync', run: async () => (await import('./sync.js')).run() },
  { name: 'sync-loopback', run: async () => (await import('./sync-loopback.js')).run() },
  { name: 'screen', run: async () => (await import('./screen.js')).run() },
  { name: 'emulator', run: async () => (await import('./emulator.js')).run() },
  { name: 'screen-pipeline', run: async () => (await import('./screen-pipeline.js')).run() },
  { name: 'renderer', run: async () => (await import('./renderer.js')).run() },
  { name: 'prediction', run: async () => (await import('./prediction.js')).run() },
  { name: 'keystroke-path', run: async () => (await import('./keystroke-path.js')).run() },
  { name: 'prediction-e2e', run: async () => (await import('./prediction-e2e.js')).run() },
  { name: 'link', run: async () => (await import('./link.js')).run() },
  { name: 'ssh', run: async () => (await import('./ssh-bootstrap.js')).run() },
  { name: 'session', run: async () => (await import('./session.js')).run() },
];

function printTable(rows: readonly BenchRow[]): void {
  const fmt = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));
  const cells = rows.map((r) => [r.suite, r.name, fmt(r.value), r.unit, r.note ?? '']);
  const head = ['suite', 'measure', 'value', 'unit', 'note'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]): string => c.map((s, i) => (i === 2 ? s.padStart(widths[i]!) : s.padEnd(widths[i]!))).join('  ').trimEnd();
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
}

/** Runs the named suites (`micro`: all of them) and prints their rows as one table. */
async function runSuites(only: readonly string[]): Promise<void> {
  const all = only.includes('micro');
  const unknown = only.filter((name) => name !== 'micro' && !suites.some((s) => s.name === name));
  if (unknown.length > 0) throw new Error(`unknown suite ${unknown.join(', ')}; the suites are report, micro, ${suites.map((s) => s.name).join(', ')}`);
  const rows: BenchRow[] = [];
  for (const suite of suites) {
    if (!all && !only.includes(suite.name)) continue;
    process.stderr.write(`running ${suite.name}...\n`);
    rows.push(...(await suite.run()));
  }
  printTable(rows);
}

async function main(): Promise<void> {
  const named = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const suiteNames = named.filter((name) => name !== 'report');
  // The report prints its own tables; its options (--quick, --links=…, --tools=…) are read from argv.
  if (suiteNames.length === 0) await (await import('./report.js')).run();
  else await runSuites(suiteNames);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});

/**
 * The report as text: for each link, one row per metric with a column per tool, and the targets
 * with their verdicts; as plain aligned text for the terminal and as Markdown for the README. Pure.
 */
import { BENCH_LINKS, type LinkProfileId } from './link-profiles.js';
import { findMeasurement, formatValue, METRICS, type Measurement } from './report-metrics.js';
import type { TargetResult } from './report-targets.js';
import type { ToolName } from './remote-shell.js';

export type TableStyle = 'text' | 'markdown';

/** Aligned text or Markdown; `rightAligned` holds the numeric columns' indexes. */
export function renderTable(head: readonly string[], rows: readonly (readonly string[])[], style: TableStyle, rightAligned: ReadonlySet<number>): string {
  if (style === 'markdown') {
    const esc = (s: string): string => s.replace(/\|/g, '\\|');
    const sep = head.map((_, i) => (rightAligned.has(i) ? '---:' : '---'));
    return [head, sep, ...rows].map((r) => `| ${r.map(esc).join(' | ')} |`).join('\n');
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string =>
    r.map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** One table per link: metric, unit, a column per tool. */
export function measurementTables(all: readonly Measurement[], links: readonly LinkProfileId[], tools: readonly ToolName[], style: TableStyle): string {
  const out: string[] = [];
  for (const id of links) {
    const link = BENCH_LINKS.find((l) => l.id === id)!;
    const rows = METRICS.filter((m) => tools.some((t) => findMeasurement(all, t, id, m.id) !== undefined)).map((m) => [
      m.label,
      m.unit,
      ...tools.map((t) => formatValue(findMeasurement(all, t, id, m.id))),
    ]);
    if (rows.length === 0) continue;
    const title = `${link.label} (RTT ${link.rttMs} ms, loss ${(link.loss * 100).toFixed(0)}% each way)`;
    const table = renderTable(['measure', 'unit', ...tools], rows, style, new Set(tools.map((_, i) => i + 2)));
    out.push(style === 'markdown' ? `**${title}**\n\n${table}` : `${title}\n${table}`);
  }
  return out.join('\n\n');
}

/** The targets with their verdicts. */
export function targetTable(targets: readonly TargetResult[], style: TableStyle): string {
  const rows = targets.map((t) => [t.target, style === 'markdown' && t.verdict === 'NOT met' ? '**NOT met**' : t.verdict, t.measured]);
  return renderTable(['target', 'verdict', 'measured'], rows, style, new Set());
}

/** Notes of measurements that were not taken or gave up, so a reader knows why a cell is `-` or `>`. */
export function measurementNotes(all: readonly Measurement[]): string[] {
  const seen = new Set<string>();
  const notes: string[] = [];
  for (const m of all) {
    if (m.note === undefined || (m.value !== null && m.atLeast !== true)) continue;
    const text = `${m.tool} on ${m.link}: ${m.note}`;
    if (seen.has(text)) continue;
    seen.add(text);
    notes.push(text);
  }
  return notes;
}

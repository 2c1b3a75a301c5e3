import { describe, expect, it } from 'vitest';
import { formatValue, type Measurement } from '../../bench/report-metrics.js';
import { measurementNotes, measurementTables, renderTable, targetTable } from '../../bench/report-table.js';

const rows: Measurement[] = [
  { tool: 'tsmosh', link: 'clean', metric: 'seq', value: 360.4 },
  { tool: 'ssh', link: 'clean', metric: 'seq', value: 15_000, atLeast: true, note: 'gave up after 15 s' },
  { tool: 'mosh', link: 'clean', metric: 'ctrlC', value: null, note: 'not measured: mosh-server failed' },
];

describe('report tables', () => {
  it('formats values with the metric’s digits, > for a lower bound and - for none', () => {
    expect(formatValue(rows[0])).toBe('360');
    expect(formatValue(rows[1])).toBe('>15000');
    expect(formatValue(rows[2])).toBe('-');
    expect(formatValue(undefined)).toBe('-');
    expect(formatValue({ tool: 'tsmosh', link: 'clean', metric: 'idleServerCpu', value: 0.1234 })).toBe('0.123');
  });

  it('lays out one table per link with a column per tool and only the metrics measured', () => {
    const text = measurementTables(rows, ['clean', 'rtt50'], ['tsmosh', 'mosh', 'ssh'], 'text');
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^clean loopback \(RTT 0 ms, loss 0% each way\)$/);
    expect(lines[1]).toMatch(/^measure\s+unit\s+tsmosh\s+mosh\s+ssh$/);
    expect(text).toMatch(/Ctrl-C in seq 1 100000000 → prompt\s+ms\s+-\s+-\s+-/);
    expect(text).toMatch(/seq 1 200000: Enter → prompt\s+ms\s+360\s+-\s+>15000/);
    // Nothing was measured on the second link.
    expect(text).not.toMatch(/50 ms RTT/);
    expect(text).not.toMatch(/keystroke/);
  });

  it('writes Markdown with right-aligned number columns and escaped pipes', () => {
    const md = renderTable(['a|b', 'n'], [['x', '1']], 'markdown', new Set([1]));
    expect(md).toBe('| a\\|b | n |\n| --- | ---: |\n| x | 1 |');
  });

  it('marks missed targets in bold in Markdown', () => {
    const md = targetTable([{ target: 't', link: 'clean', metric: 'seq', verdict: 'NOT met', measured: '1 ms' }], 'markdown');
    expect(md).toContain('| t | **NOT met** | 1 ms |');
  });

  it('lists the notes of figures not taken or cut short, once each', () => {
    expect(measurementNotes([...rows, rows[1]!])).toEqual(['ssh on clean: gave up after 15 s', 'mosh on clean: not measured: mosh-server failed']);
  });
});

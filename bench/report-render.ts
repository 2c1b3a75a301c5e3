/**
 * Re-renders a saved report from its JSON without measuring again: targets re-judged, tables
 * printed, SVG and Markdown rewritten next to it. For when the presentation changes after a long run:
 * `node dist/bench/report-render.js bench/results/report.json`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { reportText, writeResults, type ReportResult } from './report.js';
import { judgeTargets } from './report-targets.js';

export function rerender(file: string): ReportResult {
  const saved = JSON.parse(readFileSync(file, 'utf8')) as ReportResult;
  const result: ReportResult = {
    ...saved,
    targets: judgeTargets(saved.measurements, saved.options.links, saved.options.idleSeconds),
  };
  console.log(reportText(result));
  for (const written of writeResults(result, path.dirname(path.resolve(file)))) process.stderr.write(`wrote ${path.relative(process.cwd(), written)}\n`);
  return result;
}

const file = process.argv[2];
if (file !== undefined && import.meta.url.endsWith(path.basename(process.argv[1] ?? ''))) rerender(file);

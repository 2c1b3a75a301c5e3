/**
 * `npm run bench`: the performance report of issue #7. tsmosh, stock Mosh and OpenSSH's ssh, side
 * by side on the same emulated links in one run: keystroke echo, Ctrl-C, seq, bytes on the wire,
 * connect time, CPU and memory idle and under a flood; the targets judged on the figures;
 * a CPU profile of the tsmosh server under a flood. Prints the tables, and writes a JSON file and
 * an SVG chart under bench/results/. How each figure is taken: bench/README.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../test/support/live-session.js';
import type { BenchRow } from './bench-row.js';
import { BENCH_LINKS, benchLink } from './link-profiles.js';
import { describeMachine, machineInfo, type MachineInfo } from './machine-info.js';
import { moshUnavailableReason, startMoshShell } from './mosh-shell.js';
import { startedProcesses } from './process-tree.js';
import { renderChart } from './report-chart.js';
import { formatValue, metricInfo, type Measurement } from './report-metrics.js';
import { reportOptions, type ReportOptions } from './report-options.js';
import { judgeTargets, type TargetResult } from './report-targets.js';
import { measurementNotes, measurementTables, targetTable } from './report-table.js';
import type { ToolName } from './remote-shell.js';
import { profileServer, type ServerProfile } from './server-profile.js';
import { SshFixture, sshUnavailableReason, startSshShell } from './ssh-shell.js';
import { measureTool, type ShellOpener } from './tool-measurements.js';
import { startTsmoshShell } from './tsmosh-shell.js';

export interface SkippedTool {
  readonly tool: ToolName;
  readonly reason: string;
}

/** Everything one run produced; the JSON file holds exactly this. */
export interface ReportResult {
  readonly date: string;
  readonly machine: MachineInfo;
  readonly options: ReportOptions;
  readonly links: typeof BENCH_LINKS;
  readonly tools: readonly ToolName[];
  readonly skipped: readonly SkippedTool[];
  readonly measurements: readonly Measurement[];
  readonly targets: readonly TargetResult[];
  readonly serverProfile: ServerProfile | null;
  readonly durationSeconds: number;
}

export const RESULTS_DIR = path.join(REPO_ROOT, 'bench', 'results');

/** The base name of the output files: a quick run does not overwrite the committed full run. */
export function resultBaseName(options: ReportOptions): string {
  return options.quick ? 'report-quick' : 'report';
}

async function runReport(options: ReportOptions): Promise<ReportResult> {
  const began = performance.now();
  const machine = machineInfo();
  const skipped: SkippedTool[] = [];
  const reasons: Record<ToolName, string | null> = { tsmosh: null, mosh: moshUnavailableReason(), ssh: sshUnavailableReason() };
  let fixture: SshFixture | null = null;
  if (options.tools.includes('ssh') && reasons.ssh === null) {
    try {
      fixture = await SshFixture.start();
    } catch (error) {
      reasons.ssh = `the test sshd did not start: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
    }
  }
  const tools = options.tools.filter((tool) => {
    const reason = reasons[tool];
    if (reason !== null) {
      skipped.push({ tool, reason });
      process.stderr.write(`*** SKIPPING ${tool}: ${reason} ***\n`);
    }
    return reason === null;
  });
  const measurements: Measurement[] = [];
  const settings = { keys: options.keys, idleSeconds: options.idleSeconds, floodSeconds: options.floodSeconds, capMs: options.capMs, repeats: options.repeats };
  const connect = { connectTimeoutMs: options.connectTimeoutMs };
  try {
    for (const id of options.links) {
      const link = benchLink(id);
      for (const tool of tools) {
        process.stderr.write(`${link.label}: ${tool}\n`);
        const open: ShellOpener =
          tool === 'tsmosh'
            ? (mode) => startTsmoshShell(link, mode, connect)
            : tool === 'mosh'
              ? (mode) => startMoshShell(link, mode, connect)
              : () => startSshShell(link, fixture!, connect);
        measurements.push(...(await measureTool(tool, link, open, settings)));
      }
    }
  } finally {
    await fixture?.stop();
  }
  let serverProfile: ServerProfile | null = null;
  if (options.profileServer && tools.includes('tsmosh')) {
    process.stderr.write(`CPU profile of the tsmosh server: idle ${options.idleSeconds} s, then a ${options.floodSeconds} s yes flood\n`);
    serverProfile = await profileServer(options.idleSeconds, options.floodSeconds, options.capMs);
  }
  return {
    date: new Date().toISOString(),
    machine,
    options,
    links: BENCH_LINKS,
    tools,
    skipped,
    measurements,
    targets: judgeTargets(measurements, options.links, options.idleSeconds),
    serverProfile,
    durationSeconds: (performance.now() - began) / 1000,
  };
}

/** The report as the terminal shows it. */
export function reportText(result: ReportResult): string {
  const parts = [
    `tsmosh performance report, ${result.date}${result.options.quick ? ' (--quick)' : ''}`,
    `machine: ${describeMachine(result.machine)}`,
    ...result.skipped.map((s) => `SKIPPED ${s.tool}: ${s.reason}`),
    '',
    measurementTables(result.measurements, result.options.links, result.tools, 'text'),
    '',
    'targets (issue #7)',
    targetTable(result.targets, 'text'),
  ];
  const notes = measurementNotes(result.measurements);
  if (notes.length > 0) parts.push('', 'notes', ...notes.map((n) => `- ${n}`));
  if (result.serverProfile !== null) parts.push('', result.serverProfile.text);
  parts.push('', `took ${(result.durationSeconds / 60).toFixed(1)} min`);
  return parts.join('\n');
}

/** Writes the JSON, SVG and Markdown files of `result`; returns their paths. */
export function writeResults(result: ReportResult, dir = result.options.outDir ?? RESULTS_DIR): string[] {
  mkdirSync(dir, { recursive: true });
  const base = path.join(dir, resultBaseName(result.options));
  writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(
    `${base}.svg`,
    renderChart({
      title: `tsmosh vs mosh vs ssh${result.options.quick ? ' (quick run)' : ''}`,
      subtitle: `${result.date.slice(0, 10)} · ${describeMachine(result.machine)}`,
      measurements: result.measurements,
      links: result.options.links,
      tools: result.tools,
    }),
  );
  writeFileSync(`${base}.md`, reportMarkdown(result));
  return [`${base}.json`, `${base}.svg`, `${base}.md`];
}

/** The tables as Markdown, for the README's Performance section. */
export function reportMarkdown(result: ReportResult): string {
  const parts = [
    `Measured ${result.date.slice(0, 10)} on ${describeMachine(result.machine)}.${result.options.quick ? ' Quick run.' : ''}`,
    ...result.skipped.map((s) => `Skipped ${s.tool}: ${s.reason}.`),
    '',
    measurementTables(result.measurements, result.options.links, result.tools, 'markdown'),
    '',
    targetTable(result.targets, 'markdown'),
  ];
  if (result.serverProfile !== null) parts.push('', result.serverProfile.markdown);
  return `${parts.join('\n')}\n`;
}

/** For bench/main.ts: the report, printed and written; also returned as rows. */
export async function run(argv: readonly string[] = process.argv.slice(2)): Promise<BenchRow[]> {
  const options = reportOptions(argv, process.env);
  const onExit = (): void => startedProcesses.killAll();
  const onSigint = (): void => {
    startedProcesses.killAll();
    process.exit(130);
  };
  process.on('exit', onExit);
  process.once('SIGINT', onSigint);
  try {
    const result = await runReport(options);
    console.log(reportText(result));
    for (const file of writeResults(result)) process.stderr.write(`wrote ${path.relative(process.cwd(), file)}\n`);
    return result.measurements.map((m) => ({
      suite: 'report',
      name: `${m.link} ${m.tool}: ${metricInfo(m.metric).label}`,
      value: m.value ?? Number.NaN,
      unit: metricInfo(m.metric).unit,
      ...(m.note === undefined ? {} : { note: `${formatValue(m)} ${m.note}` }),
    }));
  } finally {
    startedProcesses.killAll();
    process.off('exit', onExit);
    process.off('SIGINT', onSigint);
  }
}

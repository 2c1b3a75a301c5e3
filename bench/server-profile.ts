/**
 * Where the tsmosh server's time goes, idle and under a `yes` flood: the daemon runs with the V8
 * profiler on (bench/cpu-profile-preload.ts, preloaded through NODE_OPTIONS), a client on clean
 * loopback sits at the prompt and then watches `yes`, and the session ends as a user ends it, so
 * the daemon exits normally and writes its profile. Each period's samples are summarised apart.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROFILE_DIR_ENV } from './cpu-profile-preload.js';
import { summariseProfile, type CpuProfile, type ProfileSummary } from './cpu-profile-summary.js';
import { benchLink } from './link-profiles.js';
import { PROMPT } from './remote-shell.js';
import { renderTable, type TableStyle } from './report-table.js';
import { clearScreen, typeCommand } from './shell-workloads.js';
import { startTsmoshShell } from './tsmosh-shell.js';

export interface ProfiledPeriod {
  readonly what: string;
  readonly seconds: number;
  readonly summary: ProfileSummary;
}

export interface ServerProfile {
  readonly periods: readonly ProfiledPeriod[];
  /** Why there is no profile, or what to keep in mind reading it. */
  readonly note: string;
  readonly text: string;
  readonly markdown: string;
}

/** The compiled preload that starts the profiler in the daemon. */
const PRELOAD = fileURLToPath(new URL('./cpu-profile-preload.js', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);
/** The profile keeps this many functions per table. */
const TOP_FUNCTIONS = 10;

function periodTables(summary: ProfileSummary, style: TableStyle): string {
  const f = (v: number): string => v.toFixed(0);
  const pct = (v: number): string => (Number.isNaN(v) ? '' : `${v.toFixed(1)}%`);
  const stages = renderTable(['stage', 'CPU ms', 'share of busy time'], summary.stages.map((s) => [s.stage, f(s.ms), pct(s.percent)]), style, new Set([1, 2]));
  const self = renderTable(['function (most self time)', 'self ms', 'total ms'], summary.topSelf.map((t) => [t.name, f(t.selfMs), f(t.totalMs)]), style, new Set([1, 2]));
  const ours = renderTable(['our function (most total time)', 'total ms', 'self ms'], summary.topOurs.map((t) => [t.name, f(t.totalMs), f(t.selfMs)]), style, new Set([1, 2]));
  return [stages, self, ours].join('\n\n');
}

function render(periods: readonly ProfiledPeriod[], note: string, style: TableStyle): string {
  const bold = (s: string): string => (style === 'markdown' ? `**${s}**` : s);
  const head = 'CPU profile of the tsmosh server (V8 profiler in the daemon, clean loopback)';
  if (periods.length === 0) return `${bold(head)}: not taken: ${note}`;
  const parts = [`${bold(head)}. ${note}`];
  for (const p of periods) {
    const s = p.summary;
    const share = s.windowMs > 0 ? (100 * s.busyMs) / s.windowMs : 0;
    parts.push('', `${bold(`${p.what}, ${p.seconds.toFixed(0)} s`)}: ${s.busyMs.toFixed(0)} ms of CPU in ${s.windowMs.toFixed(0)} ms sampled (${share.toFixed(1)}% of a core).`, '', periodTables(s, style));
  }
  return parts.join('\n');
}

function result(periods: readonly ProfiledPeriod[], note: string): ServerProfile {
  return { periods, note, text: render(periods, note, 'text'), markdown: render(periods, note, 'markdown') };
}

/** Runs the profiled session; never throws (a failure is a profile with a note). */
export async function profileServer(idleSeconds: number, floodSeconds: number, capMs: number): Promise<ServerProfile> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsmosh-cpuprof-'));
  try {
    const shell = await startTsmoshShell(benchLink('clean'), 'default', {
      connectTimeoutMs: 30_000,
      serverEnv: { NODE_OPTIONS: `--import=${PRELOAD}`, [PROFILE_DIR_ENV]: dir },
    });
    const daemon = shell.serverPids()[0]!;
    const windows: { what: string; fromUs: number; toUs: number }[] = [];
    try {
      await sleep(2000);
      let fromUs = nowUs();
      await sleep(idleSeconds * 1000);
      windows.push({ what: 'idle at the prompt', fromUs, toUs: nowUs() });
      await clearScreen(shell, capMs);
      await typeCommand(shell, 'yes', capMs);
      fromUs = nowUs();
      shell.client.type('\r');
      await sleep(floodSeconds * 1000);
      windows.push({ what: 'yes flood', fromUs, toUs: nowUs() });
      const back = shell.watch.until('the prompt after Ctrl-C', () => shell.watch.cursorLine() === PROMPT, capMs);
      shell.client.type('\x03');
      await back;
    } finally {
      await shell.close();
    }
    const file = readdirSync(dir).find((name) => name === `${daemon}.cpuprofile`);
    if (file === undefined) return result([], `the daemon (pid ${daemon}) wrote no profile; files: ${readdirSync(dir).join(', ') || 'none'}`);
    const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
    const periods = windows.map((w) => ({ what: w.what, seconds: (w.toUs - w.fromUs) / 1e6, summary: summariseProfile(profile, w, TOP_FUNCTIONS) }));
    if (periods.every((p) => p.summary.windowMs === 0)) {
      return result([{ what: 'whole life of the daemon (no samples fell in the periods)', seconds: (profile.endTime - profile.startTime) / 1e6, summary: summariseProfile(profile, undefined, TOP_FUNCTIONS) }], '');
    }
    return result(periods, 'V8 samples every 1 ms; the profiler itself adds a few percent. "total" counts a function whenever it is on the stack.');
  } catch (error) {
    return result([], error instanceof Error ? error.message.split('\n')[0]! : String(error));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Every workload of the report for one tool on one link, as `Measurement`s. Session A runs the tool
 * as a user would (local echo as shipped): connect, keystrokes, idle, yes flood, Ctrl-C, seq. Session
 * B (tsmosh and mosh only) types the same keys with local echo off, so every echo is the server's:
 * that is the confirm latency (ssh's echo is always the server's, so its display figure is that).
 * A step that gives up or fails leaves its session in an unknown state: the session is closed and
 * the next step starts a fresh one.
 */
import type { BenchLink, LinkProfileId } from './link-profiles.js';
import type { Measurement, MetricId } from './report-metrics.js';
import { wireTotal, type EchoMode, type RemoteShell, type ToolName, type WireCount } from './remote-shell.js';
import { percentile, median } from './sample-stats.js';
import { ctrlCDuringSeq, idle, seqToPrompt, typeKeys, WorkloadGaveUpError, yesFlood, type KeystrokeRun, type TimedRun } from './shell-workloads.js';

/** Keys shown faster than this count as shown at once (the measure of local echo). */
export const LOCAL_ECHO_MS = 10;
/** The first keys of a session, reported apart: before the tool has learnt anything about the link. */
export const FIRST_KEYS = 10;
/** How long Ctrl-C may take to stop the yes flood before the session is closed instead. */
const FLOOD_STOP_CAP_MS = 20_000;

export interface MeasureSettings {
  readonly keys: number;
  readonly idleSeconds: number;
  readonly floodSeconds: number;
  readonly capMs: number;
  /** How many times Ctrl-C and seq run (the median is reported). */
  readonly repeats: number;
}

export type ShellOpener = (mode: EchoMode) => Promise<RemoteShell>;

class Sink {
  readonly all: Measurement[] = [];
  constructor(
    readonly tool: ToolName,
    readonly link: LinkProfileId,
  ) {}

  set(metric: MetricId, value: number, extra: { atLeast?: boolean; note?: string } = {}): void {
    this.all.push({ tool: this.tool, link: this.link, metric, value, ...extra });
  }

  missing(metrics: readonly MetricId[], why: unknown): void {
    const note = `not measured: ${why instanceof Error ? why.message.split('\n')[0]! : String(why)}`;
    for (const metric of metrics) if (!this.all.some((m) => m.metric === metric)) this.all.push({ tool: this.tool, link: this.link, metric, value: null, note });
  }
}

function share(samples: readonly number[]): number {
  return samples.length === 0 ? Number.NaN : (100 * samples.filter((s) => s < LOCAL_ECHO_MS).length) / samples.length;
}

function keyFigures(sink: Sink, run: KeystrokeRun, kind: 'display' | 'confirm'): void {
  const s = run.samples;
  const n = `${s.length} keys`;
  if (kind === 'display') {
    sink.set('keyDisplayMedian', median(s), { note: n });
    sink.set('keyDisplayP90', percentile(s, 90), { note: n });
    const first = s.slice(0, FIRST_KEYS);
    const rest = s.slice(FIRST_KEYS);
    sink.set('keyDisplayFirst10Within10', share(first), { note: `${first.length} keys` });
    if (rest.length > 0) sink.set('keyDisplayRestWithin10', share(rest), { note: `${rest.length} keys` });
    sink.set('keyWire', wireTotal(run.wire) / s.length, { note: `${packets(run.wire)} for ${n}, Ctrl-U included` });
  } else {
    sink.set('keyConfirmMedian', median(s), { note: n });
    sink.set('keyConfirmP90', percentile(s, 90), { note: n });
  }
}

const KEY_DISPLAY: MetricId[] = ['keyDisplayMedian', 'keyDisplayP90', 'keyDisplayFirst10Within10', 'keyDisplayRestWithin10', 'keyWire'];
const KEY_CONFIRM: MetricId[] = ['keyConfirmMedian', 'keyConfirmP90'];

/** `3↑ 5↓ packets`: datagrams or segments each way. */
function packets(w: WireCount): string {
  return `${w.upPackets}↑ ${w.downPackets}↓ packets`;
}

/**
 * Runs a timed workload `settings.repeats` times in the same session and records the median time
 * and the median bytes. If one run gives up, the figure is "more than the cap" and the session is
 * left dirty.
 */
async function repeated(sink: Sink, metric: MetricId, wireMetric: MetricId, settings: MeasureSettings, run: () => Promise<TimedRun>): Promise<{ dirty: boolean }> {
  const runs: TimedRun[] = [];
  const list = (): string => runs.map((r) => r.ms.toFixed(0)).join(', ');
  try {
    for (let i = 0; i < settings.repeats; i++) runs.push(await run());
  } catch (error) {
    if (!(error instanceof WorkloadGaveUpError)) throw error;
    const earlier = runs.length > 0 ? ` (earlier runs: ${list()} ms)` : '';
    sink.set(metric, settings.capMs, { atLeast: true, note: `${error.message}${earlier}` });
    sink.set(wireMetric, wireTotal(error.wire) / 1024, { atLeast: true, note: `${packets(error.wire)} by then` });
    return { dirty: true };
  }
  const byTime = [...runs].sort((a, b) => a.ms - b.ms);
  const middle = byTime[Math.floor((byTime.length - 1) / 2)]!;
  const many = runs.length > 1 ? `median of ${runs.length} (${list()} ms); ` : '';
  sink.set(metric, middle.ms, { note: `${many}${middle.note}` });
  const bytes = runs.map((r) => wireTotal(r.wire)).sort((a, b) => a - b);
  sink.set(wireMetric, bytes[Math.floor((bytes.length - 1) / 2)]! / 1024, { note: `from Enter to the prompt; ${packets(middle.wire)} in the median-time run` });
  return { dirty: false };
}

interface Step {
  readonly name: string;
  readonly metrics: readonly MetricId[];
  readonly run: (shell: RemoteShell, sink: Sink) => Promise<{ dirty: boolean }>;
}

function steps(tool: ToolName, settings: MeasureSettings): Step[] {
  const { capMs } = settings;
  return [
    {
      name: 'keystrokes',
      metrics: tool === 'ssh' ? [...KEY_DISPLAY, ...KEY_CONFIRM] : KEY_DISPLAY,
      run: async (shell, sink) => {
        const run = await typeKeys(shell, settings.keys, capMs);
        keyFigures(sink, run, 'display');
        if (tool === 'ssh') keyFigures(sink, run, 'confirm');
        return { dirty: false };
      },
    },
    {
      name: 'idle',
      metrics: ['idleServerCpu', 'idleServerRss', 'idleClientCpu', 'idleWire'],
      run: async (shell, sink) => {
        const u = await idle(shell, settings.idleSeconds);
        const perMinute = 60 / u.seconds;
        const peak = u.peakReset ? 'peak of the period' : 'peak since start (reset refused)';
        sink.set('idleServerCpu', u.serverCpuSeconds * perMinute, { note: `${u.serverCpuSeconds.toFixed(2)} s over ${u.seconds.toFixed(1)} s, ${u.serverMainThreadCpuSeconds.toFixed(2)} s of it on the main thread` });
        sink.set('idleServerRss', (u.serverPeakRssMiB * 2 ** 20) / 1e6, { note: peak });
        sink.set('idleClientCpu', u.clientCpuSeconds * perMinute, { note: `${u.clientCpuSeconds.toFixed(3)} s over ${u.seconds.toFixed(1)} s` });
        sink.set('idleWire', (wireTotal(u.wire) / 1024) * perMinute, { note: `${packets(u.wire)} in ${u.seconds.toFixed(1)} s` });
        return { dirty: false };
      },
    },
    {
      name: 'yes flood',
      metrics: ['floodServerCpu', 'floodServerRss', 'floodClientCpu', 'floodWire'],
      run: async (shell, sink) => {
        // Only a way to stop the flood (not a figure of the report): a session that takes longer is closed instead.
        const stopMs = Math.min(capMs, FLOOD_STOP_CAP_MS);
        const u = await yesFlood(shell, settings.floodSeconds, stopMs);
        const ctrlC = u.ctrlCMs === null ? `Ctrl-C did not bring the prompt back within ${stopMs / 1000} s` : `Ctrl-C → prompt ${u.ctrlCMs.toFixed(0)} ms`;
        sink.set('floodServerCpu', (100 * u.serverCpuSeconds) / u.seconds, { note: `${u.serverCpuSeconds.toFixed(2)} s over ${u.seconds.toFixed(1)} s, ${u.serverMainThreadCpuSeconds.toFixed(2)} s of it on the main thread; ${ctrlC}` });
        sink.set('floodServerRss', (u.serverPeakRssMiB * 2 ** 20) / 1e6);
        sink.set('floodClientCpu', (100 * u.clientCpuSeconds) / u.seconds);
        sink.set('floodWire', wireTotal(u.wire) / 1024 / u.seconds, { note: `${packets(u.wire)} in ${u.seconds.toFixed(1)} s` });
        return { dirty: u.ctrlCMs === null };
      },
    },
    {
      name: 'Ctrl-C',
      metrics: ['ctrlC', 'ctrlCWire'],
      run: (shell, sink) => repeated(sink, 'ctrlC', 'ctrlCWire', settings, () => ctrlCDuringSeq(shell, capMs)),
    },
    {
      name: 'seq',
      metrics: ['seq', 'seqWire'],
      run: (shell, sink) => repeated(sink, 'seq', 'seqWire', settings, () => seqToPrompt(shell, capMs)),
    },
  ];
}

function log(tool: ToolName, link: BenchLink, what: string): void {
  process.stderr.write(`  [${link.id}] ${tool}: ${what}\n`);
}

/** Runs every workload of `tool` on `link`; never throws (failures become measurements with a note). */
export async function measureTool(tool: ToolName, link: BenchLink, open: ShellOpener, settings: MeasureSettings): Promise<Measurement[]> {
  const sink = new Sink(tool, link.id);
  let shell: RemoteShell | null = null;
  const openShell = async (mode: EchoMode): Promise<RemoteShell> => {
    const s = await open(mode);
    if (!sink.all.some((m) => m.metric === 'connect')) {
      sink.set('connect', s.connectMs);
      sink.set('connectWire', wireTotal(s.wire()) / 1024, { note: 'until the prompt showed' });
    }
    return s;
  };
  try {
    for (const step of steps(tool, settings)) {
      if (shell === null) {
        try {
          shell = await openShell('default');
        } catch (error) {
          log(tool, link, `the session did not start: ${error instanceof Error ? error.message : String(error)}`);
          sink.missing(['connect', 'connectWire', ...step.metrics], `the session did not start: ${error instanceof Error ? error.message : String(error)}`);
          continue;
        }
      }
      log(tool, link, step.name);
      let dirty: boolean;
      try {
        dirty = (await step.run(shell, sink)).dirty;
      } catch (error) {
        log(tool, link, `${step.name} failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
        sink.missing(step.metrics, error);
        dirty = true;
      }
      if (dirty) {
        await shell.close();
        shell = null;
      }
    }
  } finally {
    await shell?.close();
  }
  if (tool !== 'ssh') {
    log(tool, link, 'keystrokes with local echo off');
    let confirmShell: RemoteShell | null = null;
    try {
      confirmShell = await openShell('never');
      keyFigures(sink, await typeKeys(confirmShell, settings.keys, settings.capMs), 'confirm');
    } catch (error) {
      sink.missing(KEY_CONFIRM, error);
    } finally {
      await confirmShell?.close();
    }
  }
  return sink.all;
}

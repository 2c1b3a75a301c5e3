/**
 * The workloads of the performance report, each run the same way on any tool's `RemoteShell`:
 * keystroke echo, `seq 1 200000` to the prompt, Ctrl-C during a runaway `seq`, an idle period and
 * a `yes` flood. Times are taken when the client's output reaches the user's terminal
 * (bench/screen-watch.ts); CPU and memory from /proc; bytes from the link's counters.
 */
import { readProcessUsage, resetPeakRss } from './process-usage.js';
import { mainThreadCpuSeconds } from './thread-usage.js';
import { PROMPT, wireDelta, type RemoteShell, type WireCount } from './remote-shell.js';
import { seededRandom } from '../test/support/seeded-random.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The prompt line is cleared (Ctrl-U, untimed) after this many letters, well before it would wrap. */
const CHARS_PER_LINE = 40;
/** A typist's pause after each echo before the next key: uniform in this range, seeded. */
const KEY_GAP_MIN_MS = 30;
const KEY_GAP_MAX_MS = 130;
const KEY_GAP_SEED = 0x5e55_10;
/** How long the runaway `seq` fills the screen before Ctrl-C. */
export const RUNAWAY_MS = 1500;
export const SEQ_COUNT = 200_000;
export const RUNAWAY_SEQ = 'seq 1 100000000';

/** A workload waited longer than the report allows; the session is left in an unknown state. */
export class WorkloadGaveUpError extends Error {
  override readonly name = 'WorkloadGaveUpError';
  constructor(
    what: string,
    readonly capMs: number,
    readonly wire: WireCount,
  ) {
    super(`gave up after ${(capMs / 1000).toFixed(0)} s waiting for ${what}`);
  }
}

function cpuOf(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) total += readProcessUsage(pid).cpuSeconds;
  return total;
}

function mainThreadCpuOf(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) total += mainThreadCpuSeconds(pid);
  return total;
}

/** Waits for `check` on the screen after `act`; a timeout becomes WorkloadGaveUpError with the bytes so far. */
async function within(shell: RemoteShell, what: string, check: () => boolean, capMs: number, wireFrom: WireCount, act: () => void): Promise<number> {
  const shown = shell.watch.until(what, check, capMs);
  act();
  try {
    return await shown;
  } catch {
    throw new WorkloadGaveUpError(what, capMs, wireDelta(wireFrom, shell.wire()));
  }
}

/** Types `text` (no Enter) and waits until the cursor's row shows it after the prompt. */
export async function typeCommand(shell: RemoteShell, text: string, capMs: number): Promise<void> {
  const { watch, client } = shell;
  await within(shell, `'${text}' at the prompt`, () => watch.cursorLine() === `${PROMPT} ${text}`, capMs, shell.wire(), () => client.type(text));
}

/** Runs `clear` and waits for a screen holding only the prompt. */
export async function clearScreen(shell: RemoteShell, capMs: number): Promise<void> {
  await typeCommand(shell, 'clear', capMs);
  const { watch, client } = shell;
  await within(shell, 'a cleared screen', () => watch.lines().join('\n').trimEnd() === PROMPT, capMs, shell.wire(), () => client.type('\r'));
}

export interface KeystrokeRun {
  /** Milliseconds from each key's write to its echo on the screen, in typing order (key 1 first). */
  readonly samples: readonly number[];
  /** Bytes on the wire over the whole run, Ctrl-U included. */
  readonly wire: WireCount;
}

/**
 * Types `count` letters at the prompt, each when the previous one is on the screen plus a typist's
 * pause, from the first key of the session (no warm-up: keys 1-10 are part of the figure).
 */
export async function typeKeys(shell: RemoteShell, count: number, capPerKeyMs: number): Promise<KeystrokeRun> {
  const { client, watch } = shell;
  const row = client.cursor().y;
  const lineShown = (): string => watch.lines()[row] ?? '';
  const before = shell.wire();
  const random = seededRandom(KEY_GAP_SEED);
  const samples: number[] = [];
  let typed = '';
  for (let i = 0; i < count; i++) {
    if (typed.length === CHARS_PER_LINE) {
      await within(shell, 'the prompt line cleared by Ctrl-U', () => lineShown() === PROMPT, capPerKeyMs, before, () => client.type('\x15'));
      typed = '';
      await sleep(50);
    }
    const ch = String.fromCharCode(0x61 + (i % 26));
    const want = `${PROMPT} ${typed}${ch}`;
    const start = performance.now();
    const end = await within(shell, `'${ch}' echoed`, () => lineShown() === want, capPerKeyMs, before, () => client.type(ch));
    typed += ch;
    samples.push(end - start);
    await sleep(KEY_GAP_MIN_MS + random() * (KEY_GAP_MAX_MS - KEY_GAP_MIN_MS));
  }
  if (typed !== '') await within(shell, 'the prompt line cleared by Ctrl-U', () => lineShown() === PROMPT, capPerKeyMs, before, () => client.type('\x15'));
  return { samples, wire: wireDelta(before, shell.wire()) };
}

export interface TimedRun {
  readonly ms: number;
  readonly wire: WireCount;
  readonly serverCpuSeconds: number;
  readonly note: string;
}

/** `seq 1 200000`: from Enter until the last number and a fresh prompt are on the user's screen. */
export async function seqToPrompt(shell: RemoteShell, capMs: number): Promise<TimedRun> {
  const { client, watch } = shell;
  // Earlier output must not pass for this run's.
  await clearScreen(shell, capMs);
  await typeCommand(shell, `seq 1 ${SEQ_COUNT}`, capMs);
  const last = String(SEQ_COUNT);
  const cpuBefore = cpuOf(shell.serverPids());
  const before = shell.wire();
  const start = performance.now();
  const end = await within(
    shell,
    'the last number and the prompt',
    () => {
      const lines = watch.lines();
      const at = lines.lastIndexOf(last);
      return at >= 0 && lines[at + 1] === PROMPT;
    },
    capMs,
    before,
    () => client.type('\r'),
  );
  const cpu = cpuOf(shell.serverPids()) - cpuBefore;
  const ms = end - start;
  return { ms, wire: wireDelta(before, shell.wire()), serverCpuSeconds: cpu, note: `server CPU ${cpu.toFixed(2)} s (${((100 * cpu) / (ms / 1000)).toFixed(0)}% of a core)` };
}

/**
 * Ctrl-C during `seq 1 100000000`: the screen is cleared, seq runs until its output shows and then
 * RUNAWAY_MS more, then ^C. Timed from ^C until the cursor's row is a bare prompt; the bytes are
 * from Enter to the prompt.
 */
export async function ctrlCDuringSeq(shell: RemoteShell, capMs: number): Promise<TimedRun> {
  const { client, watch } = shell;
  await clearScreen(shell, capMs);
  await typeCommand(shell, RUNAWAY_SEQ, capMs);
  const before = shell.wire();
  await within(shell, 'seq output on the screen', () => watch.lines().filter((l) => /^\d{4,}$/.test(l)).length > 10, capMs, before, () => client.type('\r'));
  await sleep(RUNAWAY_MS);
  const cpuBefore = cpuOf(shell.serverPids());
  const start = performance.now();
  const end = await within(shell, 'the prompt after Ctrl-C', () => watch.cursorLine() === PROMPT, capMs, before, () => client.type('\x03'));
  const cpu = cpuOf(shell.serverPids()) - cpuBefore;
  const reached = Math.max(0, ...watch.lines().map((l) => Number(/^(\d+)/.exec(l)?.[1] ?? 0)));
  return { ms: end - start, wire: wireDelta(before, shell.wire()), serverCpuSeconds: cpu, note: `seq had reached ${reached} on the screen` };
}

export interface UsageRun {
  readonly seconds: number;
  readonly serverCpuSeconds: number;
  /** The part of it on the processes' main threads (the rest: GC helpers, the libuv pool). */
  readonly serverMainThreadCpuSeconds: number;
  /** Sum of the server processes' peaks over the period (VmHWM reset at its start). */
  readonly serverPeakRssMiB: number;
  readonly clientCpuSeconds: number;
  readonly clientPeakRssMiB: number;
  readonly wire: WireCount;
  /** False if the kernel refused to reset VmHWM: the peaks are then since each process started. */
  readonly peakReset: boolean;
}

interface Reading {
  readonly at: number;
  readonly serverCpu: number;
  readonly serverMainCpu: number;
  readonly clientCpu: number;
  readonly wire: WireCount;
}

function read(shell: RemoteShell): Reading {
  return { at: performance.now(), serverCpu: cpuOf(shell.serverPids()), serverMainCpu: mainThreadCpuOf(shell.serverPids()), clientCpu: readProcessUsage(shell.client.pid).cpuSeconds, wire: shell.wire() };
}

function resetPeaks(shell: RemoteShell): boolean {
  let ok = true;
  for (const pid of [...shell.serverPids(), shell.client.pid]) ok = resetPeakRss(pid) && ok;
  return ok;
}

function usage(shell: RemoteShell, before: Reading, after: Reading, peakReset: boolean): UsageRun {
  let serverPeak = 0;
  for (const pid of shell.serverPids()) serverPeak += readProcessUsage(pid).peakRssKiB;
  return {
    seconds: (after.at - before.at) / 1000,
    serverCpuSeconds: after.serverCpu - before.serverCpu,
    serverMainThreadCpuSeconds: after.serverMainCpu - before.serverMainCpu,
    serverPeakRssMiB: serverPeak / 1024,
    clientCpuSeconds: after.clientCpu - before.clientCpu,
    clientPeakRssMiB: readProcessUsage(shell.client.pid).peakRssKiB / 1024,
    wire: wireDelta(before.wire, after.wire),
    peakReset,
  };
}

/** An idle period at the prompt, starting `settleMs` after the call (start-up work done). */
export async function idle(shell: RemoteShell, seconds: number, settleMs = 2000): Promise<UsageRun> {
  await sleep(settleMs);
  const reset = resetPeaks(shell);
  const before = read(shell);
  await sleep(seconds * 1000);
  return usage(shell, before, read(shell), reset);
}

export interface FloodRun extends UsageRun {
  /** Ctrl-C at the end of the flood until the prompt; null if it did not come back within the cap. */
  readonly ctrlCMs: number | null;
}

/** `yes` for `seconds`, then Ctrl-C. Usage is over the flood only. */
export async function yesFlood(shell: RemoteShell, seconds: number, capMs: number): Promise<FloodRun> {
  const { client, watch } = shell;
  await clearScreen(shell, capMs);
  await typeCommand(shell, 'yes', capMs);
  const reset = resetPeaks(shell);
  const before = read(shell);
  client.type('\r');
  await sleep(seconds * 1000);
  const after = read(shell);
  const run = usage(shell, before, after, reset);
  const ys = watch.lines().filter((l) => l === 'y').length;
  let ctrlCMs: number | null = null;
  try {
    const start = performance.now();
    ctrlCMs = (await within(shell, 'the prompt after Ctrl-C', () => watch.cursorLine() === PROMPT, capMs, after.wire, () => client.type('\x03'))) - start;
  } catch (error) {
    if (!(error instanceof WorkloadGaveUpError)) throw error;
    // Not a figure of the report; the caller closes the session.
  }
  if (ys < 5 && ctrlCMs !== null) throw new Error(`the screen showed only ${ys} rows of 'y' at the end of the flood`);
  return { ...run, ctrlCMs };
}

/**
 * End-to-end figures of a whole session, with the real built binaries: the `tsmosh-server` daemon
 * (started as the client's bootstrap starts it) running bash in a PTY, and the `tsmosh` client on a
 * real PTY whose output a headless xterm interprets as the user's terminal. Real UDP on loopback;
 * the resource phase goes through the link emulator (perfect profile) to count the bytes.
 *
 * What each figure means and how it is taken: bench/README.md. Run alone: `npm run bench -- session`
 * (add `--quick` for a 10 s idle period, or set TSMOSH_BENCH_IDLE_S).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchRow } from './bench-row.js';
import { readProcessUsage, resetPeakRss, type ProcessUsage } from './process-usage.js';
import { echoThroughBarePty, seqThroughBarePty } from './pty-baseline.js';
import { median, percentile } from './sample-stats.js';
import { ScreenWatch } from './screen-watch.js';
import { sessionBenchOptions, type SessionBenchOptions } from './session-options.js';
import { LinkEmulator, type LinkEmulatorStats } from '../test/support/link-emulator.js';
import { alive, childrenOf, ClientProcess, startServerProcess } from '../test/support/live-session.js';
import { seededRandom } from '../test/support/seeded-random.js';

const SUITE = 'session';
/** Keystrokes typed (and not timed) first, so RTT estimates and prediction confidence settle. */
const WARMUP_KEYSTROKES = 10;
/** The prompt line is cleared (Ctrl-U) after this many characters, well before it would wrap. */
const CHARS_PER_LINE = 40;
/**
 * Pause after each echo before the next keystroke, as between a typist's keys: uniform in this
 * range (seeded), so keystrokes land at every phase of the server's frame and echo-ack timers.
 */
const KEY_GAP_MIN_MS = 30;
const KEY_GAP_MAX_MS = 130;
const KEY_GAP_SEED = 0x5e55_10;
/** An echo faster than this cannot have made the round trip (the server alone waits 8 ms to collect a frame): it was predicted. */
const LOCAL_ECHO_MS = 5;
/** How long seq may run before it is interrupted, so that the screen is busy with output. */
const RUNAWAY_MS = 1500;
const SEQ_COUNT = 200_000;
const PROMPT = '$';

type PredictFlag = 'never' | 'always' | null;

/** Processes this benchmark started and has not yet seen end: killed if the run dies half-way. */
const running = new Set<number>();
/** The shells' HOME directories not yet removed. */
const homes = new Set<string>();

function killRunning(): void {
  for (const pid of running) {
    for (const child of childrenOf(pid)) signal(child, 'SIGKILL');
    signal(pid, 'SIGKILL');
  }
  running.clear();
  for (const home of homes) removeHome(home);
}

function removeHome(home: string): void {
  rmSync(home, { recursive: true, force: true });
  homes.delete(home);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid) && !isZombie(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** The daemon is not our child, but a zombie that its reaper has not collected yet counts as gone. */
function isZombie(pid: number): boolean {
  try {
    return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

function notMeasured(name: string, why: unknown): BenchRow {
  const reason = why instanceof Error ? why.message.split('\n')[0]! : String(why);
  return { suite: SUITE, name, value: Number.NaN, unit: '-', note: `NOT MEASURED: ${reason}` };
}

/** A live session between the real daemon and the real client, optionally through the link emulator. */
class LiveSession {
  readonly client: ClientProcess;
  readonly watch: ScreenWatch;
  readonly daemonPid: number;
  readonly link: LinkEmulator | null;
  readonly #home: string;

  private constructor(client: ClientProcess, daemonPid: number, link: LinkEmulator | null, home: string) {
    this.client = client;
    this.watch = new ScreenWatch(client);
    this.daemonPid = daemonPid;
    this.link = link;
    this.#home = home;
  }

  static async start(predict: PredictFlag, viaLink: boolean): Promise<LiveSession> {
    const home = mkdtempSync(path.join(os.tmpdir(), 'tsmosh-bench-'));
    homes.add(home);
    let server: { port: number; key: string; pid: number };
    try {
      server = await startServerProcess(['-i', '127.0.0.1', '--', '/bin/bash', '--norc', '--noprofile', '-i'], {
        HOME: home,
        PS1: `${PROMPT} `,
        HISTFILE: '/dev/null',
        LANG: 'C.UTF-8',
        // If this benchmark dies without cleaning up, the daemon still goes by itself.
        TSMOSH_SERVER_CONNECT_TMOUT: '30',
        TSMOSH_SERVER_NETWORK_TMOUT: '120',
      });
    } catch (error) {
      removeHome(home);
      throw error;
    }
    running.add(server.pid);
    let link: LinkEmulator | null = null;
    let client: ClientProcess | null = null;
    try {
      link = viaLink ? await LinkEmulator.start({ server: { address: '127.0.0.1', port: server.port } }) : null;
      const args = [...(predict === null ? [] : [`--predict=${predict}`]), '--connect', '127.0.0.1', String(link?.port ?? server.port)];
      client = ClientProcess.start(args, { TSMOSH_KEY: server.key });
      running.add(client.pid);
      await client.waitForScreen('the shell prompt', (t) => t.startsWith(PROMPT), 30_000);
      return new LiveSession(client, server.pid, link, home);
    } catch (error) {
      client?.dispose();
      signal(server.pid, 'SIGTERM');
      await waitGone(server.pid, 3000);
      killRunning();
      await link?.close();
      removeHome(home);
      throw error;
    }
  }

  /** Types `text` (no Enter) and waits until the cursor's row shows it after the prompt. */
  async typeCommand(text: string): Promise<void> {
    const done = this.watch.until(`'${text}' at the prompt`, () => this.watch.cursorLine() === `${PROMPT} ${text}`);
    this.client.type(text);
    await done;
  }

  /** Runs `clear` and waits for a screen holding only the prompt. */
  async clearScreen(): Promise<void> {
    await this.typeCommand('clear');
    const cleared = this.watch.until('a cleared screen', () => this.watch.lines().join('\n').trimEnd() === PROMPT);
    this.client.type('\r');
    await cleared;
  }

  /** Quits as a user would (Ctrl-^ .), then makes sure the daemon and its shell are gone. */
  async close(): Promise<void> {
    this.watch.dispose();
    const shells = childrenOf(this.daemonPid);
    this.client.type('\x1e.');
    const exited = await Promise.race([this.client.exited.then(() => true), sleep(5000).then(() => false)]);
    this.client.dispose();
    if (!exited) process.stderr.write('session bench: the client did not quit on Ctrl-^ . within 5 s; killed it\n');
    running.delete(this.client.pid);
    if (!(await waitGone(this.daemonPid, 5000))) {
      process.stderr.write(`session bench: tsmosh-server (pid ${this.daemonPid}) outlived its client by 5 s; sending SIGTERM\n`);
      signal(this.daemonPid, 'SIGTERM');
      if (!(await waitGone(this.daemonPid, 3000))) signal(this.daemonPid, 'SIGKILL');
    }
    for (const shell of shells) if (alive(shell) && !isZombie(shell)) signal(shell, 'SIGKILL');
    running.delete(this.daemonPid);
    await this.link?.close();
    removeHome(this.#home);
  }
}

/** Runs `body` on a fresh session and always closes it; a failure becomes a NOT MEASURED row. */
async function withSession(
  predict: PredictFlag,
  viaLink: boolean,
  failedName: string,
  body: (session: LiveSession, rows: BenchRow[]) => Promise<void>,
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  let session: LiveSession;
  try {
    session = await LiveSession.start(predict, viaLink);
  } catch (error) {
    return [notMeasured(failedName, `the session did not start: ${error instanceof Error ? error.message : String(error)}`)];
  }
  try {
    await body(session, rows);
  } finally {
    await session.close();
  }
  return rows;
}

/** Keystroke-to-screen latencies (ms) of `count` printable characters typed at the prompt. */
async function keystrokeLatencies(session: LiveSession, count: number): Promise<number[]> {
  const { client, watch } = session;
  const row = client.cursor().y;
  const lineShown = (): string => watch.lines()[row] ?? '';
  let typed = '';
  const samples: number[] = [];
  const random = seededRandom(KEY_GAP_SEED);
  for (let i = 0; i < WARMUP_KEYSTROKES + count; i++) {
    if (typed.length === CHARS_PER_LINE || i === WARMUP_KEYSTROKES) {
      const cleared = watch.until('the prompt line cleared by Ctrl-U', () => lineShown() === PROMPT);
      client.type('\x15');
      await cleared;
      typed = '';
      await sleep(50);
    }
    const ch = String.fromCharCode(0x61 + (i % 26));
    const want = `${PROMPT} ${typed}${ch}`;
    const shown = watch.until(`'${ch}' echoed`, () => lineShown() === want);
    const start = performance.now();
    client.type(ch);
    const end = await shown;
    typed += ch;
    if (i >= WARMUP_KEYSTROKES) samples.push(end - start);
    await sleep(KEY_GAP_MIN_MS + random() * (KEY_GAP_MAX_MS - KEY_GAP_MIN_MS));
  }
  const cleared = watch.until('the prompt line cleared by Ctrl-U', () => lineShown() === PROMPT);
  client.type('\x15');
  await cleared;
  return samples;
}

const PREDICT_LABEL: Record<string, string> = {
  never: '--predict=never',
  adaptive: 'default (adaptive)',
  always: '--predict=always',
};

function keystrokeRows(label: string, samples: readonly number[]): BenchRow[] {
  const local = samples.filter((s) => s < LOCAL_ECHO_MS).length;
  const note = `${samples.length} keys; ${local} shown in < ${LOCAL_ECHO_MS} ms (local echo)`;
  return [
    { suite: SUITE, name: `keystroke→screen, ${label}, median`, value: median(samples), unit: 'ms', note },
    { suite: SUITE, name: `keystroke→screen, ${label}, p99`, value: percentile(samples, 99), unit: 'ms', note: `max ${Math.max(...samples).toFixed(1)} ms` },
  ];
}

async function keystrokePhase(predict: PredictFlag, count: number, extra?: (session: LiveSession, rows: BenchRow[]) => Promise<void>): Promise<BenchRow[]> {
  const label = PREDICT_LABEL[predict ?? 'adaptive']!;
  return withSession(predict, false, `keystroke→screen, ${label}`, async (session, rows) => {
    try {
      rows.push(...keystrokeRows(label, await keystrokeLatencies(session, count)));
    } catch (error) {
      rows.push(notMeasured(`keystroke→screen, ${label}`, error));
      return;
    }
    await extra?.(session, rows);
  });
}

/** Bytes `seq 1 n` writes (digits and newlines; the PTY adds a CR to each line). */
function seqBytes(n: number): number {
  let bytes = 0;
  for (let digits = 1, low = 1; low <= n; digits++, low *= 10) bytes += (Math.min(n, low * 10 - 1) - low + 1) * (digits + 1);
  return bytes;
}

/**
 * `seq 1 200000`: from Enter until the last number and a fresh prompt are on the client's screen,
 * with the server's CPU over that time (and, through the link emulator, the bytes it sent).
 */
async function seqRows(session: LiveSession, where: string): Promise<BenchRow[]> {
  const name = `seq 1 ${SEQ_COUNT}: Enter → prompt back, ${where}`;
  try {
    const { client, watch } = session;
    await session.typeCommand(`seq 1 ${SEQ_COUNT}`);
    const last = String(SEQ_COUNT);
    const cpuBefore = readProcessUsage(session.daemonPid).cpuSeconds;
    const linkBefore = session.link?.stats;
    const done = watch.until(
      'the last number and the prompt',
      () => {
        const lines = watch.lines();
        const at = lines.lastIndexOf(last);
        return at >= 0 && lines[at + 1] === PROMPT;
      },
      120_000,
    );
    const start = performance.now();
    client.type('\r');
    const end = await done;
    const ms = end - start;
    const cpu = readProcessUsage(session.daemonPid).cpuSeconds - cpuBefore;
    const mb = seqBytes(SEQ_COUNT) / 1e6;
    const rows: BenchRow[] = [
      {
        suite: SUITE,
        name,
        value: ms,
        unit: 'ms',
        note: `${mb.toFixed(2)} MB of output, ${(mb / (ms / 1000)).toFixed(2)} MB/s; server CPU ${cpu.toFixed(2)} s (${((100 * cpu) / (ms / 1000)).toFixed(0)}% of one core)`,
      },
    ];
    if (session.link !== null && linkBefore !== undefined) {
      // The last frames may still be on their way back; the count is of what was relayed by the prompt's arrival.
      const after = session.link.stats;
      const down = after.down.forwardedBytes - linkBefore.down.forwardedBytes;
      const n = after.down.forwarded - linkBefore.down.forwarded;
      rows.push({
        suite: SUITE,
        name: `wire bytes server→client, seq 1 ${SEQ_COUNT}`,
        value: down / 1024,
        unit: 'KiB',
        note: `${n} datagrams in ${(ms / 1000).toFixed(2)} s, for ${mb.toFixed(2)} MB of program output`,
      });
    }
    return rows;
  } catch (error) {
    return [notMeasured(name, error)];
  }
}

/** Interrupts a running program: from sending ^C until a fresh prompt is the cursor's row. */
async function interrupt(session: LiveSession): Promise<number> {
  const { client, watch } = session;
  const back = watch.until('the prompt after Ctrl-C', () => watch.cursorLine() === PROMPT, 60_000);
  const start = performance.now();
  client.type('\x03');
  return (await back) - start;
}

async function ctrlCSeqRow(session: LiveSession): Promise<BenchRow> {
  const name = 'Ctrl-C during seq 1 100000000 → prompt back';
  try {
    const { client, watch } = session;
    // Earlier output must not pass for this run's.
    await session.clearScreen();
    await session.typeCommand('seq 1 100000000');
    const flowing = watch.until('seq output on the screen', () => watch.lines().filter((l) => /^\d{4,}$/.test(l)).length > 10);
    client.type('\r');
    await flowing;
    await sleep(RUNAWAY_MS);
    const ms = await interrupt(session);
    const reached = Math.max(0, ...watch.lines().map((l) => Number(/^(\d+)/.exec(l)?.[1] ?? 0)));
    return { suite: SUITE, name, value: ms, unit: 'ms', note: `after ~${RUNAWAY_MS / 1000 + 0.5} s of output; seq had reached ${reached}` };
  } catch (error) {
    return notMeasured(name, error);
  }
}

interface PhaseReading {
  readonly at: number;
  readonly server: ProcessUsage;
  readonly client: ProcessUsage;
  readonly link: LinkEmulatorStats;
}

function reading(session: LiveSession): PhaseReading {
  return {
    at: performance.now(),
    server: readProcessUsage(session.daemonPid),
    client: readProcessUsage(session.client.pid),
    link: session.link!.stats,
  };
}

/** CPU, peak memory and wire bytes between two readings. */
function usageRows(phase: string, before: PhaseReading, after: PhaseReading, peakReset: boolean): BenchRow[] {
  const seconds = (after.at - before.at) / 1000;
  const cpu = (who: 'server' | 'client'): BenchRow => {
    const used = after[who].cpuSeconds - before[who].cpuSeconds;
    return { suite: SUITE, name: `${who} CPU, ${phase}`, value: used, unit: 's', note: `${((100 * used) / seconds).toFixed(1)}% of one core over ${seconds.toFixed(1)} s` };
  };
  const peak = (who: 'server' | 'client'): BenchRow => ({
    suite: SUITE,
    name: `${who} peak RSS, ${phase}`,
    value: after[who].peakRssKiB / 1024,
    unit: 'MiB',
    note: peakReset ? `VmHWM reset at the start; RSS at the end ${(after[who].rssKiB / 1024).toFixed(1)} MiB` : 'VmHWM since the process started (reset refused)',
  });
  const down = after.link.down.forwardedBytes - before.link.down.forwardedBytes;
  const downN = after.link.down.forwarded - before.link.down.forwarded;
  const up = after.link.up.forwardedBytes - before.link.up.forwardedBytes;
  const upN = after.link.up.forwarded - before.link.up.forwarded;
  return [
    cpu('server'),
    peak('server'),
    cpu('client'),
    peak('client'),
    {
      suite: SUITE,
      name: `wire bytes server→client, ${phase}`,
      value: down / seconds / 1024,
      unit: 'KiB/s',
      note: `${downN} datagrams (${(downN / seconds).toFixed(1)}/s), ${down} B of UDP payload in ${seconds.toFixed(1)} s`,
    },
    {
      suite: SUITE,
      name: `wire bytes client→server, ${phase}`,
      value: up / seconds / 1024,
      unit: 'KiB/s',
      note: `${upN} datagrams (${(upN / seconds).toFixed(1)}/s), ${up} B of UDP payload`,
    },
  ];
}

/** An idle period and a `yes` flood, through the link emulator (perfect link), default prediction. */
async function resourcePhase(options: SessionBenchOptions): Promise<BenchRow[]> {
  const idle = `idle ${options.idleSeconds} s`;
  const flood = `yes flood ${options.floodSeconds} s`;
  return withSession(null, true, `resources (${idle}, ${flood})`, async (session, rows) => {
    const { client, watch } = session;
    const resetPeaks = (): boolean => resetPeakRss(session.daemonPid) && resetPeakRss(client.pid);
    try {
      // Let start-up work (first frames, RTT samples) finish before the idle clock starts.
      await sleep(2000);
      const reset = resetPeaks();
      const before = reading(session);
      await sleep(options.idleSeconds * 1000);
      rows.push(...usageRows(idle, before, reading(session), reset));
    } catch (error) {
      rows.push(notMeasured(`resources, ${idle}`, error));
    }
    try {
      await session.typeCommand('yes');
      const reset = resetPeaks();
      const before = reading(session);
      client.type('\r');
      await sleep(options.floodSeconds * 1000);
      const after = reading(session);
      const ys = watch.lines().filter((l) => l === 'y').length;
      if (ys < 10) throw new Error(`the screen showed only ${ys} rows of 'y' at the end of the flood`);
      rows.push(...usageRows(flood, before, after, reset));
      const ms = await interrupt(session);
      rows.push({ suite: SUITE, name: 'Ctrl-C during the yes flood → prompt back', value: ms, unit: 'ms', note: 'through the link emulator, perfect link' });
    } catch (error) {
      rows.push(notMeasured(`resources, ${flood}`, error));
      return;
    }
    rows.push(...(await seqRows(session, 'via link emulator')));
  });
}

/** The same `seq` without tsmosh, to judge the end-to-end figure by. */
async function baselineRows(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const echoName = 'keystroke echo baseline: bash on a bare PTY, median';
  try {
    const samples = await echoThroughBarePty(40);
    rows.push({ suite: SUITE, name: echoName, value: median(samples), unit: 'ms', note: `no tsmosh; ${samples.length} keys, p99 ${percentile(samples, 99).toFixed(2)} ms` });
  } catch (error) {
    rows.push(notMeasured(echoName, error));
  }
  for (const parse of [false, true]) {
    const name = `seq 1 ${SEQ_COUNT} baseline: bare PTY read by node${parse ? ' + headless xterm parse' : ''}`;
    try {
      const ms = await seqThroughBarePty(SEQ_COUNT, parse);
      rows.push({ suite: SUITE, name, value: ms, unit: 'ms', note: 'no tsmosh; from releasing seq to its last line read' + (parse ? ' and parsed (80x24, no scrollback)' : '') });
    } catch (error) {
      rows.push(notMeasured(name, error));
    }
  }
  return rows;
}

function loadRow(): BenchRow {
  const [one, five] = os.loadavg();
  return {
    suite: SUITE,
    name: 'machine load average (1 min) at start',
    value: one ?? 0,
    unit: 'procs',
    note: `${os.cpus().length} cores; 5-min average ${(five ?? 0).toFixed(2)}. Latencies are only comparable between runs at similar load`,
  };
}

export async function run(overrides: Partial<SessionBenchOptions> = {}): Promise<BenchRow[]> {
  const options = { ...sessionBenchOptions(process.argv.slice(2), process.env), ...overrides };
  // If the run is interrupted or crashes, leave no daemon behind.
  const onExit = (): void => killRunning();
  const onSigint = (): void => {
    killRunning();
    process.exit(130);
  };
  process.on('exit', onExit);
  process.once('SIGINT', onSigint);
  try {
    const rows: BenchRow[] = [loadRow(), ...(await baselineRows())];
    rows.push(
      ...(await keystrokePhase('never', options.keystrokes, async (session, r) => {
        r.push(...(await seqRows(session, 'direct')));
        r.push(await ctrlCSeqRow(session));
      })),
    );
    rows.push(...(await keystrokePhase(null, options.keystrokes)));
    rows.push(...(await keystrokePhase('always', options.keystrokes)));
    rows.push(...(await resourcePhase(options)));
    return rows;
  } finally {
    killRunning();
    process.off('exit', onExit);
    process.off('SIGINT', onSigint);
  }
}

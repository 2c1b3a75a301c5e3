/**
 * Predictive echo on a slow, lossy link, simulated with a fake clock (no sockets): the user types
 * at a shell prompt; keystroke datagrams and screen frames cross a link with a fixed one-way
 * delay and independent loss; the server runs a readline-like shell on the real emulator and
 * publishes echoAck (newest input in the application for ≥ 50 ms). Timing follows Mosh: the
 * server sends a changed state after an 8 ms collection delay but no sooner than a frame interval
 * of SRTT/2 after its previous send, resends unacknowledged state after an RTO, and the client
 * acks frames after 100 ms (or with its next keystroke) and resends unacknowledged keys.
 *
 * Per keystroke it records when the user's screen first shows it (the render equals the true
 * screen after that key or a later one), when the server's own echo first arrives, and when the
 * echoAck covering it arrives. A render that equals no true screen is wrong display; its total
 * duration is reported. Enter is not counted as displayed or not: its effect is the command's
 * output, which no client can show early. The same runs with the early-prompt rule off show what
 * Mosh's rule gives, and a variant of the server's pacing shows what holds the rest back.
 */
import { FakeClock, type Millis } from '../protocol/clock.js';
import { blankFramebuffer, framebuffersEqual, Row, type Framebuffer } from '../protocol/framebuffer.js';
import { PredictionEngine, type PredictionOptions } from '../client/prediction.js';
import { Emulator } from '../server/emulator.js';
import { bashPrompt, FakeShell, type TextSink } from '../test/support/fake-shell.js';
import { seededRandom, type Random } from '../test/support/seeded-random.js';
import { microsPerCall, type BenchRow } from './bench-row.js';

export interface TypingSimOptions {
  readonly rttMs: Millis;
  /** Probability that any one datagram is lost, each way. */
  readonly loss: number;
  readonly seed: number;
  /** Keys, one string each: '\r' for Enter, '\x7f' for backspace. */
  readonly keys: readonly string[];
  /** Mean gap between keystrokes; each gap varies ±20% (seeded). */
  readonly intervalMs: Millis;
  readonly engine?: Omit<PredictionOptions, 'clock'>;
  readonly cols?: number;
  readonly rows?: number;
  /**
   * Server pacing. 'mosh': a changed state waits for the frame interval (SRTT/2) after the previous
   * send. 'input-first': a change that follows newly received input leaves after the collection
   * delay alone (the interval still paces everything else). tsmosh's server does the latter
   * (TransportSender.expedite); 'mosh' is kept to show what that is worth.
   */
  readonly serverPacing?: 'mosh' | 'input-first';
}

export interface KeyTiming {
  readonly key: string;
  readonly typedAt: Millis;
  /** When the user's screen first showed this key's effect (Infinity: never). */
  displayedAt: Millis;
  /** When a server frame first showed it (the server's own echo). */
  echoedAt: Millis;
  /** When a frame with echoAck covering it arrived (the prediction is judged then). */
  ackedAt: Millis;
}

export interface TypingSimResult {
  readonly keys: readonly KeyTiming[];
  /** Total time the user's screen showed something that was never the true screen. */
  readonly wrongDisplayMs: Millis;
  /** After the last frame, the user's screen equals the server's (nothing wrong left over). */
  readonly finalScreenRight: boolean;
  readonly wrongShown: number;
}

const ONE_WAY_JITTER_MS = 0;
const SERVER_COLLECT_MS = 8;
const ECHO_ACK_DELAY_MS = 50;
const ACK_DELAY_MS = 100;
const MIN_FRAME_INTERVAL_MS = 20;
const MAX_FRAME_INTERVAL_MS = 250;

/** The simulated shell's commands: `cd` changes the prompt (it shows the directory), others print. */
function benchShell(out: TextSink, cols: number): FakeShell {
  let cwd = '~';
  return new FakeShell(out, {
    cols,
    prompt: () => bashPrompt(cwd),
    run: (line) => {
      if (line.startsWith('cd ')) {
        cwd = `~/${line.slice(3).trim()}`;
        return '';
      }
      if (line.startsWith('ls')) return 'README.md  bench  client  package.json  protocol  server  test\r\n';
      if (line.startsWith('git')) return '## main...origin/main\r\n M client/prediction.ts\r\n?? bench/prediction.ts\r\n';
      return `bash: ${line.split(' ')[0]}: command not found\r\n`;
    },
  });
}

/** Screen text plus cursor: what the user sees, colours aside. */
function screenKey(fb: Framebuffer): string {
  let s = '';
  for (const row of fb.lines) s += row.toString() + '\n';
  return s + `@${fb.cursor.x},${fb.cursor.y}`;
}

const truthCache = new Map<string, string[]>();

/** The true screen after each prefix of the keys (index 0: before any key). */
async function trueScreens(keys: readonly string[], cols: number, rows: number): Promise<string[]> {
  const cacheKey = `${cols}x${rows}:${keys.join('\u0000')}`;
  const cached = truthCache.get(cacheKey);
  if (cached !== undefined) return cached;
  const emu = new Emulator({ cols, rows });
  const shell = benchShell(emu, cols);
  shell.start();
  await emu.flush();
  const out = [screenKey(emu.snapshot())];
  for (const k of keys) {
    shell.input(k);
    await emu.flush();
    out.push(screenKey(emu.snapshot()));
  }
  emu.dispose();
  truthCache.set(cacheKey, out);
  return out;
}

interface Frame {
  readonly num: number;
  readonly fb: Framebuffer;
  readonly echoAck: number;
  /** Newest input the server has received (acknowledges the client's keystrokes). */
  readonly inputAck: number;
}

/** A tiny discrete-event scheduler on a fake clock. */
class Events {
  readonly clock = new FakeClock(0);
  #queue: { readonly at: Millis; readonly order: number; readonly run: () => void | Promise<void> }[] = [];
  #order = 0;

  at(at: Millis, run: () => void | Promise<void>): void {
    this.#queue.push({ at: Math.max(at, this.clock.now()), order: this.#order++, run });
  }

  async runUntil(limit: Millis): Promise<void> {
    while (this.#queue.length > 0) {
      let best = 0;
      for (let i = 1; i < this.#queue.length; i++) {
        const a = this.#queue[i]!;
        const b = this.#queue[best]!;
        if (a.at < b.at || (a.at === b.at && a.order < b.order)) best = i;
      }
      const e = this.#queue[best]!;
      if (e.at > limit) return;
      this.#queue.splice(best, 1);
      this.clock.set(e.at);
      await e.run();
    }
  }
}

export async function simulateTyping(o: TypingSimOptions): Promise<TypingSimResult> {
  const cols = o.cols ?? 80;
  const rows = o.rows ?? 24;
  const rand: Random = seededRandom(o.seed);
  const ev = new Events();
  const now = ev.clock.now;
  const oneWay = (): Millis => o.rttMs / 2 + (ONE_WAY_JITTER_MS > 0 ? rand() * ONE_WAY_JITTER_MS : 0);
  const lost = (): boolean => rand() < o.loss;
  const rto = Math.min(1000, Math.max(50, Math.ceil(o.rttMs + 4 * (o.rttMs / 8))));
  const frameInterval = Math.min(MAX_FRAME_INTERVAL_MS, Math.max(MIN_FRAME_INTERVAL_MS, Math.ceil(o.rttMs / 2)));
  const truths = await trueScreens(o.keys, cols, rows);

  // ---- server ----
  const emu = new Emulator({ cols, rows });
  const shell = benchShell(emu, cols);
  shell.start();
  await emu.flush();
  let applied = 0;
  const arrivedAt: Millis[] = [];
  let frameNum = 0;
  let lastSendAt = -Infinity;
  let changedSince: Millis | null = null;
  let sendScheduledAt: Millis | null = null;
  let sent: { fb: Framebuffer; echoAck: number; inputAck: number } | null = null;
  let ackedFrame = 0;
  let inputUnanswered = false;

  const echoAckAt = (t: Millis): number => {
    let a = 0;
    for (let s = 1; s <= applied; s++) if (arrivedAt[s]! <= t - ECHO_ACK_DELAY_MS) a = s;
    return a;
  };

  const serverWake = (): void => {
    const t = now();
    const fb = emu.snapshot();
    const echoAck = echoAckAt(t);
    const changed = sent === null || fb !== sent.fb || echoAck !== sent.echoAck || applied !== sent.inputAck;
    let due: Millis | null = null;
    if (changed) {
      changedSince ??= t;
      const answersInput = inputUnanswered && o.serverPacing === 'input-first';
      due = answersInput ? changedSince + SERVER_COLLECT_MS : Math.max(changedSince + SERVER_COLLECT_MS, lastSendAt + frameInterval);
    } else if (ackedFrame < frameNum) {
      due = lastSendAt + rto;
    }
    if (due === null) return;
    if (due <= t) {
      serverSend(fb, echoAck);
      return;
    }
    if (sendScheduledAt === null || due < sendScheduledAt) {
      sendScheduledAt = due;
      ev.at(due, () => {
        sendScheduledAt = null;
        serverWake();
      });
    }
  };

  const serverSend = (fb: Framebuffer, echoAck: number): void => {
    const t = now();
    lastSendAt = t;
    changedSince = null;
    inputUnanswered = false;
    sent = { fb, echoAck, inputAck: applied };
    const frame: Frame = { num: ++frameNum, fb, echoAck, inputAck: applied };
    if (!lost()) ev.at(t + oneWay(), () => clientReceive(frame));
    ev.at(t + rto, serverWake);
  };

  const serverReceive = async (events: readonly { seq: number; key: string }[], frameAck: number): Promise<void> => {
    ackedFrame = Math.max(ackedFrame, frameAck);
    let any = false;
    for (const e of events) {
      if (e.seq !== applied + 1) continue;
      shell.input(e.key);
      applied = e.seq;
      arrivedAt[e.seq] = now();
      any = true;
    }
    if (any) {
      inputUnanswered = true;
      await emu.flush();
      ev.at(now() + ECHO_ACK_DELAY_MS, serverWake);
    }
    serverWake();
  };

  // ---- client ----
  const engine = new PredictionEngine({ ...o.engine, clock: now });
  engine.setRtt(o.rttMs);
  let clientFrame: Frame = { num: 0, fb: blankFramebuffer(cols, rows), echoAck: 0, inputAck: 0 };
  let typed = 0;
  let inputAcked = 0;
  let lastClientSendAt = -Infinity;
  let ackPending = false;
  const timings: KeyTiming[] = [];
  let wrongDisplayMs = 0;
  let renderKey = '';
  let renderWrong = false;
  let renderSince: Millis = 0;

  const sendToServer = (): void => {
    lastClientSendAt = now();
    ackPending = false;
    const events: { seq: number; key: string }[] = [];
    for (let s = inputAcked + 1; s <= typed; s++) events.push({ seq: s, key: o.keys[s - 1]! });
    const frameAck = clientFrame.num;
    if (!lost()) ev.at(now() + oneWay(), () => serverReceive(events, frameAck));
    if (events.length > 0) {
      const sentAt = now();
      ev.at(sentAt + rto, () => {
        if (inputAcked < typed && lastClientSendAt <= sentAt) sendToServer();
      });
    }
  };

  const observe = (): void => {
    const t = now();
    const shown = engine.overlay(clientFrame.fb);
    const key = screenKey(shown);
    if (renderWrong) wrongDisplayMs += t - renderSince;
    renderSince = t;
    renderKey = key;
    // Which true screens (after j keys, j ≤ typed) does the render equal?
    let match = -1;
    for (let j = typed; j >= 0; j--) {
      if (truths[j] === renderKey) {
        match = j;
        break;
      }
    }
    renderWrong = match < 0 && clientFrame.num > 0;
    const serverKey = screenKey(clientFrame.fb);
    for (let i = 1; i <= typed; i++) {
      const k = timings[i - 1]!;
      if (k.displayedAt === Infinity && match >= i) k.displayedAt = t;
      if (k.ackedAt === Infinity && clientFrame.echoAck >= i) k.ackedAt = t;
      if (k.echoedAt === Infinity) {
        for (let j = i; j <= typed; j++) {
          if (truths[j] === serverKey) {
            k.echoedAt = t;
            break;
          }
        }
      }
    }
  };

  const clientReceive = (frame: Frame): void => {
    if (frame.num <= clientFrame.num) return;
    clientFrame = frame;
    inputAcked = Math.max(inputAcked, frame.inputAck);
    engine.onServerFrame(frame.fb, frame.echoAck);
    observe();
    if (!ackPending) {
      ackPending = true;
      ev.at(now() + ACK_DELAY_MS, () => {
        if (ackPending) sendToServer();
      });
    }
  };

  const encoder = new TextEncoder();
  const typeKey = (i: number): void => {
    typed = i + 1;
    timings.push({ key: o.keys[i]!, typedAt: now(), displayedAt: Infinity, echoedAt: Infinity, ackedAt: Infinity });
    engine.onKeys(encoder.encode(o.keys[i]!), typed);
    observe();
    sendToServer();
  };

  // The session starts with the server's first frame (the prompt) already on the client's screen.
  serverWake();
  await ev.runUntil(o.rttMs * 2);
  let t = now() + 200;
  for (let i = 0; i < o.keys.length; i++) {
    const at = t;
    ev.at(at, () => typeKey(i));
    t += o.intervalMs * (0.8 + 0.4 * rand());
  }
  await ev.runUntil(t + 20_000);
  observe();

  const finalScreenRight = framebuffersEqual(engine.overlay(clientFrame.fb), clientFrame.fb) && clientFrame.fb === emu.snapshot();
  emu.dispose();
  return { keys: timings, wrongDisplayMs, finalScreenRight, wrongShown: engine.stats.wrongShown };
}

/** 60 keystrokes at a shell prompt: two commands with typos fixed by backspace, two Enters. */
export const TYPING_SCRIPT: readonly string[] = [
  ...'cd projcets',
  ...'\x7f\x7f\x7f\x7f',
  ...'ects/tsmosh\r',
  ...'ls -la\r',
  ...'git stauts',
  ...'\x7f\x7f\x7f\x7f',
  ...'tus --branch',
];

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function share(values: readonly number[], limit: number): number {
  return values.length === 0 ? NaN : (100 * values.filter((v) => v <= limit).length) / values.length;
}

export interface TypingSummary {
  readonly runs: number;
  readonly within10All: number;
  readonly within10First10: number;
  readonly within10AfterEnter: number;
  readonly displayMedian: number;
  readonly displayP90: number;
  readonly echoMedian: number;
  readonly echoP90: number;
  readonly ackMedian: number;
  readonly ackP90: number;
  readonly wrongDisplayMs: number;
  readonly wrongShown: number;
  readonly finalScreensRight: number;
}

export async function summarize(runs: number, base: Omit<TypingSimOptions, 'seed'>): Promise<TypingSummary> {
  const display: number[] = [];
  const first10: number[] = [];
  const afterEnter: number[] = [];
  const echo: number[] = [];
  const ack: number[] = [];
  let wrongMs = 0;
  let wrongShown = 0;
  let right = 0;
  for (let seed = 1; seed <= runs; seed++) {
    const r = await simulateTyping({ ...base, seed });
    r.keys.forEach((k, i) => {
      echo.push(k.echoedAt - k.typedAt);
      ack.push(k.ackedAt - k.typedAt);
      // Enter's effect is the command's output, which no client can show early: not counted.
      if (k.key === '\r') return;
      const d = k.displayedAt - k.typedAt;
      display.push(d);
      if (i < 10) first10.push(d);
      if (i > 0 && r.keys[i - 1]!.key === '\r') afterEnter.push(d);
    });
    wrongMs += r.wrongDisplayMs;
    wrongShown += r.wrongShown;
    if (r.finalScreenRight) right++;
  }
  return {
    runs,
    within10All: share(display, 10),
    within10First10: share(first10, 10),
    within10AfterEnter: share(afterEnter, 10),
    displayMedian: percentile(display, 50),
    displayP90: percentile(display, 90),
    echoMedian: percentile(echo, 50),
    echoP90: percentile(echo, 90),
    ackMedian: percentile(ack, 50),
    ackP90: percentile(ack, 90),
    wrongDisplayMs: wrongMs,
    wrongShown,
    finalScreensRight: right,
  };
}

/**
 * CPU cost on this machine (µs): a keystroke with the render that follows it (onKeys + overlay,
 * which clones the row it changes), and a render with nothing new (the overlay cache).
 */
function engineCosts(cols: number, rows: number): { keyAndRender: number; cachedRender: number } {
  const clock = new FakeClock(0);
  const prompt = Row.blank(cols);
  Array.from('$ ').forEach((ch, x) => prompt.set(x, ch, 1, 0, 0, 0));
  const fb0 = blankFramebuffer(cols, rows);
  const lines = fb0.lines.slice();
  lines[rows - 1] = prompt;
  const fb: Framebuffer = { ...fb0, lines, cursor: { ...fb0.cursor, x: 2, y: rows - 1 } };
  const key = new Uint8Array([0x61]);
  let engine = new PredictionEngine({ clock: clock.now });
  let seq = 0;
  const fresh = (): void => {
    engine = new PredictionEngine({ clock: clock.now });
    engine.setRtt(250);
    engine.onServerFrame(fb, seq);
  };
  fresh();
  const keyAndRender = microsPerCall(() => {
    if (seq % 40 === 39) fresh(); // stay within one row
    engine.onKeys(key, ++seq);
    engine.overlay(fb);
  });
  fresh();
  for (let i = 0; i < 10; i++) engine.onKeys(key, ++seq);
  engine.overlay(fb);
  const cachedRender = microsPerCall(() => {
    engine.overlay(fb);
  });
  return { keyAndRender, cachedRender };
}

export async function run(): Promise<BenchRow[]> {
  const suite = 'prediction';
  const runs = 20;
  // The variants only show what each part of the rule is worth: fewer runs keep the suite short.
  const variantRuns = 10;
  const base = { rttMs: 250, loss: 0.05, keys: TYPING_SCRIPT, intervalMs: 150, serverPacing: 'input-first' } as const;
  const ours = await summarize(runs, base);
  const learnedOnly = await summarize(variantRuns, { ...base, engine: { promptShapes: false } });
  const moshRule = await summarize(variantRuns, { ...base, engine: { earlyPrompts: false } });
  const moshPacing = await summarize(variantRuns, { ...base, serverPacing: 'mosh' });
  const enters = TYPING_SCRIPT.filter((k) => k === '\r').length;
  const where = `250 ms RTT, 5% loss each way, ${TYPING_SCRIPT.length} keys at ~150 ms (${enters} Enters not counted), ${runs} seeded runs`;
  const costs80 = engineCosts(80, 24);
  const costs200 = engineCosts(200, 60);
  return [
    { suite, name: 'keys shown within 10 ms, all', value: ours.within10All, unit: '%', note: `target ≥ 95 (${ours.within10All >= 95 ? 'met' : 'NOT met'}); ${where}` },
    { suite, name: 'keys shown within 10 ms, keys 1-10', value: ours.within10First10, unit: '%', note: `target ≥ 90 (${ours.within10First10 >= 90 ? 'met' : 'NOT met'})` },
    { suite, name: 'keys shown within 10 ms, first after Enter', value: ours.within10AfterEnter, unit: '%', note: 'typed ~150 ms after Enter, before the new prompt can be back' },
    { suite, name: 'time to display, median', value: ours.displayMedian, unit: 'ms' },
    { suite, name: 'time to display, p90', value: ours.displayP90, unit: 'ms' },
    { suite, name: 'time to server echo, median', value: ours.echoMedian, unit: 'ms', note: `target ≤ RTT + 30 = ${base.rttMs + 30} (${ours.echoMedian <= base.rttMs + 30 ? 'met' : 'NOT met'})` },
    { suite, name: 'time to server echo, p90', value: ours.echoP90, unit: 'ms' },
    { suite, name: 'time to echoAck (judged), median', value: ours.ackMedian, unit: 'ms', note: 'includes the server’s echo wait (scripted here: the full 50 ms) and frame pacing' },
    { suite, name: 'time to echoAck (judged), p90', value: ours.ackP90, unit: 'ms' },
    { suite, name: 'wrong display, total over all runs', value: ours.wrongDisplayMs, unit: 'ms', note: `${ours.wrongShown} shown predictions judged wrong` },
    { suite, name: 'final screen equals server', value: ours.finalScreensRight, unit: `of ${runs}`, note: 'no wrong prediction left after the last frame' },
    { suite, name: 'learned prompts only: within 10 ms, all', value: learnedOnly.within10All, unit: '%', note: `first ${variantRuns} runs, promptShapes: false` },
    { suite, name: 'learned prompts only: within 10 ms, keys 1-10', value: learnedOnly.within10First10, unit: '%' },
    { suite, name: 'Mosh rule (no early prompts): within 10 ms, all', value: moshRule.within10All, unit: '%', note: `first ${variantRuns} runs, earlyPrompts: false` },
    { suite, name: 'Mosh rule (no early prompts): within 10 ms, keys 1-10', value: moshRule.within10First10, unit: '%' },
    { suite, name: 'Mosh server pacing: within 10 ms, all', value: moshPacing.within10All, unit: '%', note: `first ${variantRuns} runs; an echo waits for the frame interval, as in Mosh` },
    { suite, name: 'Mosh server pacing: server echo, median', value: moshPacing.echoMedian, unit: 'ms' },
    { suite, name: 'keystroke + render, 80x24', value: costs80.keyAndRender, unit: 'µs/op', note: 'onKeys + overlay; mostly Row.clone' },
    { suite, name: 'keystroke + render, 200x60', value: costs200.keyAndRender, unit: 'µs/op' },
    { suite, name: 'render with nothing new', value: costs80.cachedRender, unit: 'µs/op', note: 'overlay cache hit' },
  ];
}

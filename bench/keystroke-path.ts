/**
 * The JavaScript a keystroke's round trip runs, without sockets, PTY or other processes: the real
 * transports, ciphers, emulator, prediction engine and renderer, joined in memory. Four segments,
 * as on a fast link in adaptive mode (predictions hidden, so the echo is what the user sees):
 * - client key: the key into the UserStream, the expedited send (diff, encode, seal);
 * - server input: the datagram opened, decoded and applied, the new keys read out;
 * - server echo: the echo parsed by the emulator, the snapshot, the new ScreenState sent (diff, encode, seal);
 * - client screen: the datagram opened and applied, the screen rendered (the prediction engine hears
 *   of the key after it was sent and judges the frame after the draw, as in the client; both off the clock).
 *
 * Each is timed in three regimes, because the live loopback figure (prediction-e2e) depends on
 * which one a keystroke meets: a fresh process's first keys (V8 has not optimised the code yet),
 * keys 80 ms apart after a few hundred (how typing meets it: the caches went cold in between), and
 * keys back to back (the code's own cost). These figures are far steadier than the live one, so a
 * change to the keystroke path can be judged here first.
 *
 * The cold regime needs a process that has run none of this code, so the suite runs in a child
 * process of its own. Run alone: `npm run bench -- keystroke-path`.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Connection, type PeerAddress } from '../protocol/connection.js';
import { NetworkTransport, type DatagramLink } from '../protocol/network-transport.js';
import { compileEagerly } from '../protocol/eager-compile.js';
import { CLIENT_FRAME_TIMING } from '../protocol/frame-timing.js';
import type { Framebuffer } from '../protocol/framebuffer.js';
import { pooledRandom } from '../protocol/random-pool.js';
import { ScreenState } from '../protocol/screen-state.js';
import { SessionKey, sodiumReady } from '../protocol/session-key.js';
import { UserStream } from '../protocol/user-stream.js';
import { PredictionEngine } from '../client/prediction.js';
import { renderFrame } from '../client/renderer.js';
import { Emulator } from '../server/emulator.js';
import type { BenchRow } from './bench-row.js';
import { median } from './sample-stats.js';

const SUITE = 'keystroke-path';
const SEGMENTS = ['client key', 'server input', 'server echo', 'client screen'] as const;
type Segment = (typeof SEGMENTS)[number];
type Timings = Record<Segment, number[]>;

const COLD_KEYS = 20;
const WARMING_KEYS = 400;
const GAPPED_KEYS = 60;
const GAP_MS = 80;
const TIGHT_KEYS = 1500;
/** The prompt is redrawn after this many characters, so the line never wraps. */
const LINE_KEYS = 30;
const PROMPT = '$ ';
const SERVER_ADDRESS: PeerAddress = { address: '127.0.0.1', port: 60001, family: 'IPv4' };
const CLIENT_ADDRESS: PeerAddress = { address: '127.0.0.1', port: 50000, family: 'IPv4' };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A client and a server joined in memory: each send is sealed, then opened at the other end. */
export class KeystrokeRig {
  readonly #client: NetworkTransport<UserStream, ScreenState>;
  readonly #server: NetworkTransport<ScreenState, UserStream>;
  readonly #clientConnection: Connection;
  readonly #serverConnection: Connection;
  readonly #toServer: Uint8Array[] = [];
  readonly #toClient: Uint8Array[] = [];
  readonly #emulator = new Emulator({ cols: 80, rows: 24 });
  readonly #prediction = new PredictionEngine({ mode: 'adaptive' });
  #shown: Framebuffer | null = null;
  #consumed = 0;
  #typed = 0;

  constructor(key: SessionKey) {
    const clock = (): number => performance.now();
    this.#clientConnection = new Connection({ role: 'client', key, clock, remote: SERVER_ADDRESS });
    this.#serverConnection = new Connection({ role: 'server', key, clock });
    const link = (connection: Connection, out: Uint8Array[]): DatagramLink => ({
      maxPayloadBytes: 1300,
      connection,
      send: (payload) => out.push(connection.seal(payload)) > 0,
    });
    this.#client = new NetworkTransport({
      link: link(this.#clientConnection, this.#toServer),
      local: new UserStream(),
      remote: ScreenState.initial(),
      clock,
      random: pooledRandom(),
      timing: CLIENT_FRAME_TIMING,
    });
    this.#server = new NetworkTransport({ link: link(this.#serverConnection, this.#toClient), local: ScreenState.initial(), remote: new UserStream(), clock, random: pooledRandom() });
    this.#prediction.setRtt(1);
  }

  /** What the client last rendered (for tests: the rig must really carry each key across). */
  get clientScreen(): Framebuffer | null {
    return this.#shown;
  }

  /** The server's screen now. */
  get serverScreen(): Framebuffer {
    return this.#emulator.snapshot();
  }

  async start(): Promise<void> {
    await this.#echo(PROMPT);
    this.#publish();
    this.#deliverToClient();
  }

  /** One key's round trip; its segment times go into `into` (null: not recorded). */
  async key(into: Timings | null): Promise<void> {
    if (this.#typed > 0 && this.#typed % LINE_KEYS === 0) await this.#echo(`\r\n${PROMPT}`);
    const key = String.fromCharCode(0x61 + (this.#typed++ % 26));

    const bytes = Buffer.from(key);
    let t = performance.now();
    const stream = this.#client.local;
    stream.pushKeys(bytes);
    this.#client.sync.sender.expedite(performance.now(), 5);
    this.#client.tick();
    let t2 = performance.now();
    into?.['client key'].push(t2 - t);
    // As in the client with predictions hidden: the engine hears of the key after it was sent.
    this.#prediction.onKeys(bytes, stream.totalEvents);

    t = performance.now();
    for (const datagram of this.#toServer.splice(0)) {
      const payload = this.#serverConnection.receive(datagram, CLIENT_ADDRESS);
      if (payload !== null) this.#server.receivePayload(payload);
    }
    for (const e of this.#server.remote.eventsSince(this.#consumed)) this.#consumed = e.kind === 'keys' ? e.index + e.bytes.length : e.index + 1;
    this.#emulator.noteUserInput();
    t2 = performance.now();
    into?.['server input'].push(t2 - t);

    t = t2;
    await this.#echo(key);
    this.#publish();
    t2 = performance.now();
    into?.['server echo'].push(t2 - t);

    t = t2;
    this.#deliverToClient();
    const screen = this.#client.remote;
    const target = this.#prediction.overlay(screen.framebuffer);
    if (renderFrame(this.#shown, target).length === 0) throw new Error(`the echo of key ${this.#typed} drew nothing (${JSON.stringify(screen.framebuffer.lines[screen.framebuffer.cursor.y]?.toString())})`);
    this.#shown = target;
    t2 = performance.now();
    into?.['client screen'].push(t2 - t);
    // The client draws first and judges after when nothing of the engine's is on screen.
    this.#prediction.onServerFrame(screen.framebuffer, screen.echoAck);

    // The acknowledgements each way, off the clock (they are not on the key's path).
    this.#client.tick();
    this.#server.tick();
    this.#toServer.length = 0;
    this.#toClient.length = 0;
  }

  #echo(text: string): Promise<void> {
    return new Promise((resolve) => {
      const parsed = this.#emulator.onParsed(() => {
        parsed.dispose();
        resolve();
      });
      this.#emulator.write(text);
    });
  }

  #publish(): void {
    const next = this.#server.local.clone();
    next.setFramebuffer(this.#emulator.snapshot());
    next.setEchoAck(this.#consumed);
    // As in the server's loop: the echo ack's expedite and the tick share one clock reading.
    const now = performance.now();
    this.#server.sync.sender.expedite(now, 0);
    this.#server.setLocal(next);
    this.#server.tick(now);
  }

  #deliverToClient(): void {
    for (const datagram of this.#toClient.splice(0)) {
      const payload = this.#clientConnection.receive(datagram, SERVER_ADDRESS);
      if (payload !== null) this.#client.receivePayload(payload);
    }
  }
}

export const emptyTimings = (): Timings => ({ 'client key': [], 'server input': [], 'server echo': [], 'client screen': [] });

/** Runs the three regimes in this process (which must not have run the path yet) and returns medians in µs. */
async function measure(): Promise<Record<string, Record<Segment, number>>> {
  await sodiumReady();
  const rig = new KeystrokeRig(SessionKey.generate());
  await rig.start();
  const apart = async (keys: number): Promise<Timings> => {
    const timings = emptyTimings();
    for (let i = 0; i < keys; i++) {
      await sleep(GAP_MS);
      await rig.key(timings);
    }
    return timings;
  };
  const cold = await apart(COLD_KEYS);
  for (let i = 0; i < WARMING_KEYS; i++) await rig.key(null);
  const gapped = await apart(GAPPED_KEYS);
  const tight = emptyTimings();
  for (let i = 0; i < TIGHT_KEYS; i++) await rig.key(i >= TIGHT_KEYS / 2 ? tight : null);
  const medians = (t: Timings): Record<Segment, number> => Object.fromEntries(SEGMENTS.map((s) => [s, 1000 * median(t[s])])) as Record<Segment, number>;
  return { cold: medians(cold), gapped: medians(gapped), tight: medians(tight) };
}

const REGIMES: readonly { readonly key: string; readonly label: string }[] = [
  { key: 'cold', label: `a fresh process's first ${COLD_KEYS} keys, ${GAP_MS} ms apart` },
  { key: 'gapped', label: `after ${WARMING_KEYS} keys, ${GAP_MS} ms apart` },
  { key: 'tight', label: 'back to back' },
];

export async function run(): Promise<BenchRow[]> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--measure'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (status !== 0) throw new Error(`the keystroke-path measurement failed (exit status ${status})`);
  const results = JSON.parse(out) as Record<string, Record<Segment, number>>;
  const rows: BenchRow[] = [];
  for (const { key, label } of REGIMES) {
    const r = results[key]!;
    for (const s of SEGMENTS) rows.push({ suite: SUITE, name: `${key}: ${s}`, value: r[s], unit: 'µs', note: `median; ${label}` });
    const total = SEGMENTS.reduce((sum, s) => sum + r[s], 0);
    rows.push({ suite: SUITE, name: `${key}: all four`, value: total, unit: 'µs', note: 'sum of the medians; syscalls, PTY and the other processes come on top' });
  }
  return rows;
}

if (process.argv[2] === '--measure' && process.argv[1] === fileURLToPath(import.meta.url)) {
  // As both bins do before a session starts.
  compileEagerly();
  measure().then(
    (results) => {
      process.stdout.write(JSON.stringify(results));
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}

/**
 * Drives a PredictionEngine against a scripted application (FakeShell, FakeVim) running on the
 * server's real emulator, with the network left out: the test decides when typed keys reach the
 * application (`serve`) and when a server frame with which echoAck reaches the client (`frame`).
 */
import { FakeClock } from '../../protocol/clock.js';
import type { Cursor, Framebuffer } from '../../protocol/framebuffer.js';
import { PredictionEngine, type PredictionOptions } from '../../client/prediction.js';
import { Emulator } from '../../server/emulator.js';
import type { TextSink } from './fake-shell.js';

export interface ScriptedApp {
  start(): void;
  input(data: string): void;
}

export interface PredictionDriverOptions<A extends ScriptedApp> {
  readonly cols: number;
  readonly rows: number;
  readonly app: (sink: TextSink, cols: number, rows: number) => A;
  readonly engine?: Omit<PredictionOptions, 'clock'>;
  /** The RTT the engine is told; default 250 ms (a slow link: shown and underlined). */
  readonly srttMs?: number;
}

const encoder = new TextEncoder();

export class PredictionDriver<A extends ScriptedApp> {
  readonly clock = new FakeClock(0);
  readonly emulator: Emulator;
  readonly engine: PredictionEngine;
  readonly app: A;
  #seq = 0;
  #queue: { readonly seq: number; readonly data: string }[] = [];
  #served = 0;
  #frame: Framebuffer;

  private constructor(options: PredictionDriverOptions<A>) {
    this.emulator = new Emulator({ cols: options.cols, rows: options.rows });
    this.app = options.app(this.emulator, options.cols, options.rows);
    this.engine = new PredictionEngine({ ...options.engine, clock: this.clock.now });
    this.engine.setRtt(options.srttMs ?? 250);
    this.#frame = this.emulator.snapshot();
  }

  /** Starts the application and delivers its first screen (echoAck 0). */
  static async start<A extends ScriptedApp>(options: PredictionDriverOptions<A>): Promise<PredictionDriver<A>> {
    const d = new PredictionDriver(options);
    d.app.start();
    await d.emulator.flush();
    d.frame(0);
    return d;
  }

  /** The newest input sequence number typed. */
  get seq(): number {
    return this.#seq;
  }

  /** The newest input sequence number the application has received. */
  get served(): number {
    return this.#served;
  }

  /** The user types `data` as one read; returns its input sequence number. */
  type(data: string): number {
    const seq = ++this.#seq;
    this.engine.onKeys(encoder.encode(data), seq);
    this.#queue.push({ seq, data });
    return seq;
  }

  /** Types each character of `data` as its own read, advancing the clock `gapMs` before each. */
  typeEach(data: string, gapMs = 0): void {
    for (const ch of data) {
      this.clock.advance(gapMs);
      this.type(ch);
    }
  }

  /** The application receives the typed reads up to `upTo` (default: all) and the emulator parses its output. */
  async serve(upTo: number = this.#seq): Promise<void> {
    while (this.#queue.length > 0 && this.#queue[0]!.seq <= upTo) {
      const e = this.#queue.shift()!;
      this.app.input(e.data);
      this.#served = e.seq;
    }
    await this.emulator.flush();
  }

  /** The client receives the server's current screen with `echoAck` (default: all served input). */
  frame(echoAck: number = this.#served): Framebuffer {
    this.#frame = this.emulator.snapshot();
    this.engine.onServerFrame(this.#frame, echoAck);
    return this.#frame;
  }

  /** Everything typed reaches the application, and its screen comes back acknowledging all of it. */
  async roundTrip(): Promise<Framebuffer> {
    await this.serve();
    return this.frame();
  }

  /** The last server frame the client received. */
  get serverFrame(): Framebuffer {
    return this.#frame;
  }

  /** What the client draws now. */
  shown(): Framebuffer {
    return this.engine.overlay(this.#frame);
  }

  /** Row y as drawn now, trailing blanks trimmed. */
  text(y: number): string {
    return this.shown().lines[y]!.toString().trimEnd();
  }

  /** Row y of the server's last frame, trailing blanks trimmed. */
  serverText(y: number): string {
    return this.#frame.lines[y]!.toString().trimEnd();
  }

  cursor(): Pick<Cursor, 'x' | 'y'> {
    const c = this.shown().cursor;
    return { x: c.x, y: c.y };
  }

  dispose(): void {
    this.emulator.dispose();
  }
}

/**
 * The client's side of a live session: keystrokes from the user's terminal into the UserStream,
 * screens from the server through the prediction overlay and the status line onto the terminal,
 * and every way out leaving the terminal as the user had it.
 *
 * One timer drives the protocol (as on the server); a one-second tick redraws the status line and
 * notices waking from sleep.
 */
import { systemClock, timerDelay, type Clock, type Millis } from '../protocol/clock.js';
import { CLIENT_FRAME_TIMING, type FrameTiming } from '../protocol/frame-timing.js';
import { blankFramebuffer, type Framebuffer } from '../protocol/framebuffer.js';
import { pooledRandom } from '../protocol/random-pool.js';
import { NetworkTransport } from '../protocol/network-transport.js';
import { ScreenState } from '../protocol/screen-state.js';
import type { UdpConnection } from '../protocol/udp-connection.js';
import { UserStream } from '../protocol/user-stream.js';
import { EscapeKeyReader, escapeKeyName, type EscapeKeyConfig } from './escape-key.js';
import { PredictionEngine } from './prediction.js';
import type { PredictionMode } from './prediction-policy.js';
import { enterSequence, exitSequence, renderFrame } from './renderer.js';
import { DEFAULT_STATUS_TIMINGS, statusMessage, withStatusLine, type StatusTimings } from './status-line.js';
import type { TerminalCapabilities } from './terminal-capabilities.js';
import type { UserTerminal } from './user-terminal.js';
import { WakeDetector } from './wake-detector.js';

/** How long after a keystroke a change to the UserStream counts as that keystroke (it is immediate). */
const KEYSTROKE_EXPEDITE_MS = 5;

/** Typed or pasted input the server has not yet acknowledged, at most. */
export const MAX_UNACKED_INPUT_BYTES = 1 << 20;

export interface ClientSessionOptions {
  readonly udp: UdpConnection;
  readonly terminal: UserTerminal;
  readonly capabilities: TerminalCapabilities;
  readonly predict: PredictionMode;
  readonly escapeKey: EscapeKeyConfig;
  /** false: stay on the normal screen (`--no-init`). */
  readonly alternateScreen: boolean;
  readonly serverPort: number;
  readonly statusTimings?: Partial<StatusTimings>;
  readonly timing?: Partial<FrameTiming>;
  /** How often the status line is redrawn and sleep is looked for. */
  readonly tickMs?: Millis;
  readonly clock?: Clock;
  /** Wall-clock time, for noticing sleep. */
  readonly wallClock?: () => number;
}

/** How the session ended: what to tell the user after the terminal is restored, and the exit status. */
export interface ClientEnd {
  readonly message: string;
  readonly exitStatus: number;
}

export class ClientSession {
  readonly #o: ClientSessionOptions;
  readonly #clock: Clock;
  readonly #wall: () => number;
  readonly #transport: NetworkTransport<UserStream, ScreenState>;
  readonly #prediction: PredictionEngine;
  readonly #escape: EscapeKeyReader;
  readonly #wake: WakeDetector;
  readonly #statusTimings: StatusTimings;
  readonly #tickMs: Millis;
  readonly #startedAt: Millis;
  readonly #quitHint: string | null;
  /** What the user's terminal shows now (null: unknown, repaint everything). */
  #shown: Framebuffer | null = null;
  #firstFrameAt: Millis | null = null;
  #helpShown = false;
  #inputDroppedAt: Millis | null = null;
  #timer: NodeJS.Timeout | null = null;
  #ticker: NodeJS.Timeout | null = null;
  #quitting: string | null = null;
  #ended = false;
  #resolve: (end: ClientEnd) => void = () => {};
  readonly #done: Promise<ClientEnd>;

  constructor(options: ClientSessionOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#wall = options.wallClock ?? Date.now;
    this.#statusTimings = { ...DEFAULT_STATUS_TIMINGS, ...options.statusTimings };
    this.#tickMs = options.tickMs ?? 1000;
    this.#startedAt = this.#clock();
    this.#wake = new WakeDetector(this.#startedAt, this.#wall());
    this.#escape = new EscapeKeyReader(options.escapeKey);
    this.#quitHint = options.escapeKey.key === null ? null : `${escapeKeyName(options.escapeKey.key)} .`;
    this.#prediction = new PredictionEngine({ clock: this.#clock, mode: options.predict });
    this.#transport = new NetworkTransport<UserStream, ScreenState>({
      link: options.udp,
      local: new UserStream(),
      remote: ScreenState.initial(),
      clock: this.#clock,
      random: pooledRandom(),
      timing: { ...CLIENT_FRAME_TIMING, ...options.timing },
      onProtocolMismatch: (error) => this.#finish({ message: error.message, exitStatus: 1 }),
    });
    this.#done = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** Takes over the terminal and runs until the session ends. */
  run(): Promise<ClientEnd> {
    const { terminal } = this.#o;
    terminal.enter(this.#enterSequence(), () => this.#exitSequence());
    const size = terminal.size();
    this.#transport.local.pushResize(size.cols, size.rows);
    terminal.onInput((bytes) => this.#onInput(bytes));
    terminal.onResize((s) => {
      this.#transport.local.pushResize(s.cols, s.rows);
      this.#prediction.reset();
      this.#shown = null;
      this.#schedule();
    });
    this.#o.udp.onPayload((payload) => this.#onPayload(payload));
    this.#ticker = setInterval(() => this.#onTick(), this.#tickMs);
    this.#draw();
    this.#schedule();
    return this.#done;
  }

  /** SIGTERM, SIGHUP, or the user asked: end the session, telling the server. */
  quit(reason: string): void {
    if (this.#quitting !== null || this.#ended) return;
    this.#quitting = reason;
    this.#transport.startShutdown();
    this.#schedule();
  }

  #enterSequence(): string {
    return enterSequence({ alternateScreen: this.#o.alternateScreen, capabilities: this.#o.capabilities });
  }

  #exitSequence(): string {
    return exitSequence(this.#shown, { alternateScreen: this.#o.alternateScreen, capabilities: this.#o.capabilities });
  }

  #onInput(bytes: Uint8Array): void {
    if (this.#ended) return;
    // Keys the engine hears of only after they were sent (see below).
    let unseen: { bytes: Uint8Array; seq: number }[] | null = null;
    for (const action of this.#escape.read(bytes)) {
      switch (action.kind) {
        case 'send': {
          if (this.#quitting !== null) break;
          const stream = this.#transport.local;
          // A diff is bounded (4 MiB); far below that, refuse input the server has not caught up with,
          // rather than let a huge paste during an outage wedge the session.
          if (stream.totalEvents - stream.firstHeldEvent + action.bytes.length > MAX_UNACKED_INPUT_BYTES) {
            this.#inputDroppedAt = this.#clock();
            break;
          }
          stream.pushKeys(action.bytes);
          if (!this.#prediction.showing) {
            // Predictions hidden (a fast link): the echo is what the user sees, so the key leaves first.
            this.#transport.sync.sender.expedite(this.#clock(), KEYSTROKE_EXPEDITE_MS);
            (unseen ??= []).push({ bytes: action.bytes, seq: stream.totalEvents });
            break;
          }
          this.#prediction.onKeys(action.bytes, stream.totalEvents);
          // A keystroke whose effect the user cannot see yet leaves at once. One already on screen as a
          // prediction waits for the frame interval as in Mosh (on a slow link, about one frame in
          // flight): its echo only confirms it, and keys typed together then share a datagram.
          if (!this.#prediction.lastKeysShown) this.#transport.sync.sender.expedite(this.#clock(), KEYSTROKE_EXPEDITE_MS);
          break;
        }
        case 'quit':
          this.quit('Exiting on user request...');
          break;
        case 'suspend':
          this.#suspend();
          break;
        case 'help':
          this.#helpShown = true;
          break;
        case 'help-done':
          this.#helpShown = false;
          break;
      }
    }
    // Send first, then draw: the keystroke's trip to the server is the long pole.
    this.#schedule();
    if (unseen !== null) for (const k of unseen) this.#prediction.onKeys(k.bytes, k.seq);
    this.#draw();
  }

  #suspend(): void {
    const { terminal } = this.#o;
    process.once('SIGCONT', () => {
      this.#shown = null;
      this.#draw();
      this.#schedule();
    });
    terminal.suspend(this.#enterSequence(), () => this.#exitSequence(), '\r\n[tsmosh is suspended.]\r\n');
  }

  #onPayload(payload: Uint8Array): void {
    if (this.#ended) return;
    const before = this.#transport.remoteNum;
    this.#transport.receivePayload(payload);
    if (this.#transport.remoteNum !== before) {
      const screen = this.#transport.remote;
      if (this.#firstFrameAt === null) this.#firstFrameAt = this.#clock();
      this.#prediction.setRtt(this.#o.udp.connection.srtt);
      if (this.#prediction.showing) {
        this.#prediction.onServerFrame(screen.framebuffer, screen.echoAck);
        this.#draw();
      } else {
        // Nothing of the engine's is on screen: the frame is drawn as it is, and judged after.
        this.#draw();
        this.#prediction.onServerFrame(screen.framebuffer, screen.echoAck);
        if (this.#prediction.showing) this.#draw();
      }
    }
    this.#schedule();
  }

  #onTick(): void {
    if (this.#ended) return;
    const now = this.#clock();
    if (this.#wake.check(now, this.#wall(), this.#tickMs)) {
      // Asleep or stopped: the network may have changed. A new source port now beats waiting 10 s.
      void this.#o.udp.hop();
    }
    this.#draw();
    this.#schedule();
  }

  /** What the user should see now: the server's screen, predictions, and any notice on top. */
  #target(now: Millis): Framebuffer {
    let fb: Framebuffer;
    if (this.#firstFrameAt === null) {
      const size = this.#o.terminal.size();
      fb = blankFramebuffer(size.cols, size.rows);
    } else {
      fb = this.#prediction.overlay(this.#transport.remote.framebuffer);
    }
    const dropped = this.#inputDroppedAt !== null && now - this.#inputDroppedAt < 3000;
    const message = dropped
      ? 'tsmosh: Input dropped: the server has not acknowledged the last megabyte of input yet.'
      : this.#helpShown
      ? `tsmosh: Commands: Ctrl-Z suspends, "." quits, "^" gives a literal ${this.#quitHint?.split(' ')[0] ?? 'escape key'}`
      : statusMessage(
          {
            now,
            startedAt: this.#startedAt,
            firstFrameAt: this.#firstFrameAt,
            lastHeard: this.#o.udp.connection.lastHeard ?? this.#startedAt,
            lastAckedSend: this.#transport.sync.sender.ackedSentAt,
            serverPort: this.#o.serverPort,
            quitHint: this.#quitHint,
          },
          this.#statusTimings,
        );
    return message === null ? fb : withStatusLine(fb, message);
  }

  #draw(): void {
    if (this.#ended) return;
    const target = this.#target(this.#clock());
    const out = renderFrame(this.#shown, target, this.#o.capabilities);
    this.#shown = target;
    this.#o.terminal.write(out);
  }

  #schedule(): void {
    if (this.#ended) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    const now = this.#clock();
    let wait = this.#step(now);
    if (this.#ended) return;
    wait = Math.min(wait, this.#prediction.wakeupDelay());
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        this.#draw();
        this.#schedule();
      },
      timerDelay(wait),
    );
  }

  #step(now: Millis): Millis {
    const t = this.#transport;
    if (t.peerShuttingDown && this.#quitting === null) {
      // The server is ending the session (the shell exited): acknowledge, then go.
      const wait = t.tick(now);
      if (t.peerShutdownAcknowledged) {
        const status = t.remote.exitStatus;
        this.#finish({
          message: status === null ? '[tsmosh: the server ended the session.]' : '',
          exitStatus: status ?? 0,
        });
        return Infinity;
      }
      return wait;
    }
    if (this.#quitting !== null) {
      if (t.shutdownAcknowledged) {
        this.#finish({ message: '', exitStatus: 0 });
        return Infinity;
      }
      if (t.shutdownTimedOut(now)) {
        this.#finish({
          message: 'tsmosh did not shut down cleanly: the server did not answer, so tsmosh-server may still be running there.',
          exitStatus: 1,
        });
        return Infinity;
      }
    }
    return t.tick(now);
  }

  #finish(end: ClientEnd): void {
    if (this.#ended) return;
    // A last frame without notices, so the screen the user is left with is the real one.
    if (this.#firstFrameAt !== null) {
      const fb = this.#transport.remote.framebuffer;
      this.#o.terminal.write(renderFrame(this.#shown, fb, this.#o.capabilities));
      this.#shown = fb;
    }
    this.#ended = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    if (this.#ticker !== null) clearInterval(this.#ticker);
    this.#o.terminal.restore();
    void this.#o.udp.close().finally(() => this.#resolve(end));
  }
}

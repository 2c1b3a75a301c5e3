/**
 * The server's side of a live session: the user's shell in a PTY, its output parsed by the
 * emulator into screens, the screens sent to the client, the client's keystrokes and resizes fed
 * back into the PTY, and the rules for when it all ends.
 *
 * One timer drives everything (Mosh's single-threaded loop): after any event, `#schedule()` works
 * out when something next needs doing (a frame, an ack, an echo ack, a timeout) and sleeps until then.
 */
import { systemClock, timerDelay, type Clock, type Millis } from '../protocol/clock.js';
import { SERVER_FRAME_TIMING, type FrameTiming } from '../protocol/frame-timing.js';
import { framebuffersEqual, type Framebuffer } from '../protocol/framebuffer.js';
import { pooledRandom } from '../protocol/random-pool.js';
import { NetworkTransport } from '../protocol/network-transport.js';
import { ScreenState } from '../protocol/screen-state.js';
import type { UdpConnection } from '../protocol/udp-connection.js';
import { UserStream } from '../protocol/user-stream.js';
import { EchoAckTracker, ECHO_DELAY_MS, ECHO_QUIET_MS } from './echo-ack.js';
import { Emulator } from './emulator.js';
import { PartialLineHold } from './partial-line-hold.js';
import { PtyHost, type ShellExit } from './pty-host.js';

/** Resume reading the PTY once the emulator has less than this left to parse. */
const PTY_RESUME_BYTES = 256 * 1024;

export interface ServerTimeouts {
  /** Exit if no client has spoken by then (Mosh: 60 s). */
  readonly firstContactMs: Millis;
  /** Exit after this long without hearing the client; null waits for ever (TSMOSH_SERVER_NETWORK_TMOUT). */
  readonly networkIdleMs: Millis | null;
  /** SIGUSR1 ends the session only if the client has been silent this long; null: always (TSMOSH_SERVER_SIGNAL_TMOUT). */
  readonly signalIdleMs: Millis | null;
  readonly echoDelayMs: Millis;
  /** Input the application answered is echo-acknowledged once its output has been quiet this long. */
  readonly echoQuietMs: Millis;
  /** A screen change this soon after keystrokes reach the shell is their echo: it skips the frame interval. */
  readonly expediteWindowMs: Millis;
  /**
   * While output streams in, a screen whose bottom line is half written is published only if no
   * more output comes for this long, or a quarter of the frame interval if that is longer (see
   * partial-line-hold.ts): under `yes` the screens then look alike from frame to frame and most
   * frames need not be sent at all. A slow link waits the frame interval anyway, and there a
   * longer hold also rides out the pauses of a program descheduled mid-flood (or of this server,
   * busy with a frame) rather than take each for the end of the output.
   */
  readonly partialLineHoldMs: Millis;
  /**
   * Above this smoothed RTT the echo of a keystroke waits for its echo ack (about `echoQuietMs`)
   * and both leave in one frame: the client shows its predictions there, so the echo only confirms
   * them, and one datagram per keystroke instead of two matters more than 4 ms. At or below it (the
   * client's own threshold for hiding predictions) the echo is what the user sees and leaves at once.
   */
  readonly immediateEchoMaxRttMs: Millis;
}

export const DEFAULT_SERVER_TIMEOUTS: ServerTimeouts = Object.freeze({
  firstContactMs: 60_000,
  networkIdleMs: null,
  signalIdleMs: null,
  echoDelayMs: ECHO_DELAY_MS,
  echoQuietMs: ECHO_QUIET_MS,
  expediteWindowMs: 20,
  partialLineHoldMs: 3,
  immediateEchoMaxRttMs: 40,
});

export interface ServerSessionOptions {
  readonly udp: UdpConnection;
  /** The program to run instead of the login shell. */
  readonly command?: string;
  readonly args?: readonly string[];
  /** The environment of the shell (TERM and locale already set). */
  readonly env: Readonly<Record<string, string>>;
  readonly timeouts?: Partial<ServerTimeouts>;
  readonly timing?: Partial<FrameTiming>;
  readonly clock?: Clock;
  /** Diagnostics (with -v); never given the key. */
  readonly log?: (message: string) => void;
}

/** Why the session ended, for the log. */
export interface SessionEnd {
  readonly reason: string;
}

export class ServerSession {
  readonly #udp: UdpConnection;
  readonly #options: ServerSessionOptions;
  readonly #timeouts: ServerTimeouts;
  readonly #clock: Clock;
  readonly #log: (message: string) => void;
  readonly #transport: NetworkTransport<ScreenState, UserStream>;
  readonly #echo: EchoAckTracker;
  readonly #startedAt: Millis;
  #emulator: Emulator | null = null;
  #pty: PtyHost | null = null;
  /** UserStream events already given to the PTY. */
  #consumed = 0;
  #screenDirty = false;
  /** A half-written screen waits to be published (see partialLineHoldMs). */
  readonly #hold = new PartialLineHold();
  #quietCheck: NodeJS.Immediate | null = null;
  #timer: NodeJS.Timeout | null = null;
  #ending: string | null = null;
  #shellExit: ShellExit | null = null;
  #finished = false;
  #resolve: (end: SessionEnd) => void = () => {};
  readonly #done: Promise<SessionEnd>;

  constructor(options: ServerSessionOptions) {
    this.#options = options;
    this.#udp = options.udp;
    this.#timeouts = { ...DEFAULT_SERVER_TIMEOUTS, ...options.timeouts };
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log ?? (() => {});
    this.#echo = new EchoAckTracker(this.#timeouts.echoDelayMs, this.#timeouts.echoQuietMs);
    this.#startedAt = this.#clock();
    this.#transport = new NetworkTransport<ScreenState, UserStream>({
      link: this.#udp,
      local: ScreenState.initial(),
      remote: new UserStream(),
      clock: this.#clock,
      random: pooledRandom(),
      timing: { ...SERVER_FRAME_TIMING, ...options.timing },
      onProtocolMismatch: (error) => this.#end(error.message),
    });
    this.#done = new Promise((resolve) => {
      this.#resolve = resolve;
    });
    this.#udp.onPayload((payload) => this.#onPayload(payload));
    this.#schedule();
  }

  /** Resolves when the session is over and everything it started has stopped. */
  get done(): Promise<SessionEnd> {
    return this.#done;
  }

  /** The PTY child's pid once the shell runs (for tests and logs). */
  get shellPid(): number | null {
    return this.#pty?.pid ?? null;
  }

  /** The screen as the emulator has it now (null before the shell starts); for tests and diagnostics. */
  screen(): Framebuffer | null {
    return this.#emulator?.snapshot() ?? null;
  }

  /** Resolves once everything the shell has written so far is on the emulator's screen. */
  async settle(): Promise<void> {
    await this.#emulator?.flush();
  }

  /** SIGTERM / SIGHUP: end cleanly, telling the client. */
  terminate(reason: string): void {
    this.#end(reason);
    this.#schedule();
  }

  /** SIGUSR1: end only if the client has been silent long enough (all sessions, if no limit is set). */
  signalIdle(): void {
    const limit = this.#timeouts.signalIdleMs;
    if (limit === null || this.#silence() >= limit) {
      this.#end(`Signal received; the client was idle for ${Math.round(this.#silence() / 1000)} seconds.`);
      this.#schedule();
    }
  }

  #silence(): Millis {
    const heard = this.#udp.connection.lastHeard;
    return this.#clock() - (heard ?? this.#startedAt);
  }

  #onPayload(payload: Uint8Array): void {
    if (this.#finished) return;
    const before = this.#transport.remoteNum;
    this.#transport.receivePayload(payload);
    if (this.#pty === null && this.#ending === null) this.#startShell();
    if (this.#transport.remoteNum !== before) this.#consumeInput();
    if (this.#transport.peerShuttingDown && this.#ending === null) {
      this.#ending = 'The client closed the session.';
      this.#killShell();
    }
    this.#schedule();
  }

  /** The shell starts when the client first speaks, at the client's window size (as Mosh does). */
  #startShell(): void {
    const events = this.#transport.remote.eventsSince(this.#consumed);
    let size = { cols: 80, rows: 24 };
    for (const e of events) if (e.kind === 'resize') size = { cols: e.cols, rows: e.rows };
    const emulator = new Emulator({ cols: size.cols, rows: size.rows });
    const pty = PtyHost.start({
      ...(this.#options.command === undefined ? {} : { command: this.#options.command, args: this.#options.args ?? [] }),
      cols: size.cols,
      rows: size.rows,
      env: this.#options.env,
    });
    this.#log(`shell started, pid ${pty.pid}, ${size.cols}x${size.rows}`);
    // Backpressure: a `cat hugefile` arrives faster than the emulator parses (~30 MB/s); stop reading
    // the PTY (which stops the program) until the emulator catches up, rather than buffer without bound.
    let paused = false;
    pty.onData((data) => {
      if (!emulator.write(data) && !paused) {
        paused = true;
        pty.pause();
      }
    });
    pty.onExit((exit) => this.#onShellExit(exit));
    emulator.onReply((reply) => pty.write(reply));
    emulator.onParsed(() => {
      if (paused && emulator.pendingBytes < PTY_RESUME_BYTES) {
        paused = false;
        pty.resume();
      }
      const now = this.#clock();
      this.#echo.output(now);
      if (!this.#hold.parsed(now, emulator, this.#partialHoldMs())) this.#screenDirty = true;
      this.#schedule();
    });
    this.#emulator = emulator;
    this.#pty = pty;
  }

  /** New keystrokes and resizes from the client, each exactly once, in order. */
  #consumeInput(): void {
    const pty = this.#pty;
    const emulator = this.#emulator;
    if (pty === null || emulator === null) return;
    const stream = this.#transport.remote;
    const events = stream.eventsSince(this.#consumed);
    const now = this.#clock();
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      if (e.kind === 'keys') {
        // The keys reach the application first; the emulator hears of them before the echo can come back.
        pty.write(e.bytes);
        emulator.noteUserInput();
        this.#consumed = e.index + e.bytes.length;
      } else {
        // Of consecutive resizes only the last matters (and a shell redraws once, not N times).
        const next = events[i + 1];
        if (next === undefined || next.kind !== 'resize') {
          emulator.resize(e.cols, e.rows);
          pty.resize(e.cols, e.rows);
          this.#screenDirty = true;
        }
        this.#consumed = e.index + 1;
      }
    }
    this.#echo.delivered(this.#consumed, now);
    if (events.some((e) => e.kind === 'keys') && this.#udp.connection.srtt <= this.#timeouts.immediateEchoMaxRttMs) {
      this.#transport.sync.sender.expedite(now, this.#timeouts.expediteWindowMs);
    }
    this.#transport.sync.receiver.rationalize();
  }

  #onShellExit(exit: ShellExit): void {
    this.#shellExit = exit;
    this.#log(`shell exited with status ${exit.status}`);
    // The client is already closing the session (we hung up the shell): nothing more to tell it.
    if (this.#ending !== null) return;
    // Let the last output reach the screen before the final frame.
    const finish = (): void => {
      this.#screenDirty = true;
      this.#end(`The shell exited with status ${exit.status}.`);
      this.#schedule();
    };
    const emulator = this.#emulator;
    if (emulator === null) finish();
    else void emulator.flush().then(finish, finish);
  }

  #killShell(): void {
    if (this.#pty !== null && this.#shellExit === null) this.#pty.kill('SIGHUP');
  }

  /**
   * Starts the end from this side: the final screen (with the shell's exit status) and the shutdown
   * handshake. Callers outside the loop then call `#schedule()`.
   */
  #end(reason: string): void {
    if (this.#ending !== null) return;
    this.#ending = reason;
    this.#killShell();
    if (this.#udp.connection.remote === null) {
      this.#finish();
      return;
    }
    this.#publishScreen();
    const state = this.#transport.local.clone();
    state.setExitStatus(this.#shellExit?.status ?? null);
    this.#transport.setLocal(state);
    this.#transport.startShutdown();
  }

  #publishScreen(): void {
    // Once the shutdown has started the state may no longer change (the final screen went with it).
    if (this.#transport.sync.sender.shutdownInProgress) return;
    const now = this.#clock();
    if (this.#hold.held && this.#hold.quiet(now, this.#partialHoldMs())) this.#checkQuiet();
    const ack = this.#echo.ack(now);
    const current = this.#transport.local;
    // The echo ack says the application has answered: the screen that goes with it is that answer,
    // half-written bottom line (a prompt after Ctrl-C, an echo amid output) and all. Holding it
    // back would also cost a frame interval, since the ack leaves at once. (A frame the application
    // is still drawing in synchronized output stays held: it is not the answer yet.)
    if (ack !== current.echoAck && this.#hold.releaseForEcho()) this.#screenDirty = true;
    const emulator = this.#emulator;
    let screen: Framebuffer | null = null;
    if (this.#screenDirty && emulator !== null) {
      this.#screenDirty = false;
      screen = emulator.snapshot();
      // A new snapshot that looks the same keeps the old object, so the sender's many comparisons
      // of `current` with what it sent stay identity checks (under a flood they were 6% of the CPU).
      if (framebuffersEqual(screen, current.framebuffer)) screen = null;
    }
    if (screen === null && ack === current.echoAck) return;
    const next = current.clone();
    if (screen !== null) next.setFramebuffer(screen);
    // The echo ack confirms the client's predictions (its underline goes): it answers input, so it
    // leaves at once rather than after the frame interval. At most once per batch of input.
    if (ack !== current.echoAck) this.#transport.sync.sender.expedite(now, 0);
    next.setEchoAck(ack);
    this.#transport.setLocal(next);
  }

  #partialHoldMs(): Millis {
    return Math.max(this.#timeouts.partialLineHoldMs, Math.floor(this.#transport.sync.sender.sendInterval() / 4));
  }

  /**
   * The output looks quiet, but timers run before pending I/O: a busy event loop (a long parse, a
   * GC) would make a flood look quiet. Look again after the poll phase has delivered any PTY output.
   */
  #checkQuiet(): void {
    if (this.#quietCheck !== null) return;
    this.#quietCheck = setImmediate(() => {
      this.#quietCheck = null;
      const quiet = this.#hold.quiet(this.#clock(), this.#partialHoldMs());
      if (this.#hold.held && quiet && (this.#emulator?.pendingBytes ?? 0) === 0) {
        this.#hold.release();
        this.#screenDirty = true;
        this.#schedule();
      }
    });
  }

  #schedule(): void {
    if (this.#finished) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    const now = this.#clock();
    const wait = this.#step(now);
    if (this.#finished) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#schedule();
    }, timerDelay(wait));
  }

  /** Does what is due at `now`; returns how long until something else is. */
  #step(now: Millis): Millis {
    const t = this.#transport;
    if (this.#ending !== null) {
      const weAsked = t.sync.sender.shutdownInProgress;
      const done = weAsked ? t.shutdownAcknowledged || t.shutdownTimedOut(now) : t.peerShutdownAcknowledged;
      if (done) {
        this.#finish();
        return Infinity;
      }
    } else {
      this.#publishScreen();
      const lifetime = this.#checkLifetime(now);
      if (lifetime !== null) {
        this.#end(lifetime);
        return 0;
      }
    }
    let wait = t.tick(now);
    if (this.#ending !== null && t.peerShutdownAcknowledged) {
      this.#finish();
      return Infinity;
    }
    wait = Math.min(wait, this.#echo.waitTime(now));
    if (this.#hold.held) wait = Math.min(wait, this.#hold.waitTime(now, this.#partialHoldMs()));
    if (this.#ending === null) wait = Math.min(wait, this.#lifetimeWait(now));
    return wait;
  }

  #checkLifetime(now: Millis): string | null {
    const heard = this.#udp.connection.lastHeard;
    if (heard === null) {
      if (now - this.#startedAt >= this.#timeouts.firstContactMs) {
        return `No connection within ${Math.round(this.#timeouts.firstContactMs / 1000)} seconds.`;
      }
      return null;
    }
    const idle = this.#timeouts.networkIdleMs;
    if (idle !== null && now - heard >= idle) return `Network idle for ${Math.round((now - heard) / 1000)} seconds.`;
    return null;
  }

  #lifetimeWait(now: Millis): Millis {
    const heard = this.#udp.connection.lastHeard;
    if (heard === null) return Math.max(0, this.#startedAt + this.#timeouts.firstContactMs - now);
    const idle = this.#timeouts.networkIdleMs;
    return idle === null ? Infinity : Math.max(0, heard + idle - now);
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    if (this.#quietCheck !== null) clearImmediate(this.#quietCheck);
    this.#killShell();
    this.#emulator?.dispose();
    const reason = this.#ending ?? 'Session ended.';
    this.#log(reason);
    void this.#udp.close().finally(() => this.#resolve({ reason }));
  }
}

/**
 * The server's terminal emulator: PTY output goes in, Framebuffers come out.
 *
 * Parsing is @xterm/headless (with Unicode 11 widths, so emoji are two cells wide). A snapshot
 * reuses every Row that did not change since the previous snapshot (same object), and returns
 * the previous Framebuffer itself when nothing at all changed, so the state-sync layer can diff
 * by identity. See screen-reader.ts for how rows are read and control-tracker.ts for the state
 * xterm keeps private.
 */
import xterm from '@xterm/headless';
import unicode11 from '@xterm/addon-unicode11';
import {
  DEFAULT_CURSOR,
  DEFAULT_MODES,
  LIMITS,
  type Cursor,
  type Framebuffer,
  type Row,
  type TerminalModes,
} from '../protocol/framebuffer.js';
import { ControlTracker } from './control-tracker.js';
import { FastScreenReader, PublicScreenReader, type ScreenReader } from './screen-reader.js';
import { skippablePrefix } from './jump-scroll.js';
import { probeParserIdle, probeXtermInternals, type Disposable } from './xterm-internals.js';

const { Terminal } = xterm;
const { Unicode11Addon } = unicode11;
type XtermTerminal = InstanceType<typeof Terminal>;

/** Output queued while xterm was busy is joined up to this many UTF-16 units (one parse of 64 K is ~5 ms). */
const JOIN_LIMIT = 64 * 1024;
/** xterm needs at least two columns (a wide character must fit). */
export const MIN_COLS = 2;
export const MIN_ROWS = 1;
/** Lines kept above the screen. The framebuffer is the screen only, so none are needed. */
export const DEFAULT_SCROLLBACK = 0;
/** Unparsed input above which `write` returns false: pause the PTY until `onParsed` shows less. */
export const DEFAULT_HIGH_WATER_BYTES = 1 << 20;
/**
 * Unparsed input the emulator accepts before refusing more (xterm itself throws away input past
 * 50 MB). Reaching it means the PTY was not paused when `write` said so.
 */
export const DEFAULT_MAX_PENDING_BYTES = 32 << 20;

/** The PTY was not paused while the emulator fell behind. */
export class EmulatorOverloadedError extends Error {
  constructor(pending: number) {
    super(`terminal emulator is ${pending} bytes behind; pause the PTY`);
    this.name = 'EmulatorOverloadedError';
  }
}

export interface EmulatorOptions {
  readonly cols: number;
  readonly rows: number;
  /** Default DEFAULT_SCROLLBACK. */
  readonly scrollback?: number;
  /**
   * Read rows through xterm's private internals (fast) when they have the expected shape.
   * Default true; false forces the public-API reader (for tests and as a fallback).
   */
  readonly useInternals?: boolean;
  /** Default DEFAULT_HIGH_WATER_BYTES. */
  readonly highWaterBytes?: number;
  /** Default DEFAULT_MAX_PENDING_BYTES. */
  readonly maxPendingBytes?: number;
  /** Skip text that would scroll off unseen (jump-scroll.ts); default true, and always off with a scrollback. */
  readonly jumpScroll?: boolean;
}

function clampSize(n: number, min: number, max: number): number {
  if (!Number.isFinite(n)) return min;
  return Math.min(max, Math.max(min, Math.trunc(n)));
}

class Listeners<T extends unknown[]> {
  readonly #set = new Set<(...args: T) => void>();

  add(cb: (...args: T) => void): Disposable {
    this.#set.add(cb);
    return { dispose: () => this.#set.delete(cb) };
  }

  fire(...args: T): void {
    for (const cb of this.#set) cb(...args);
  }

  clear(): void {
    this.#set.clear();
  }
}

export class Emulator {
  readonly #term: XtermTerminal;
  readonly #reader: ScreenReader;
  readonly #controls: ControlTracker;
  readonly #usesInternals: boolean;
  readonly #parsed = new Listeners<[]>();
  readonly #subscriptions: Disposable[] = [];
  /** Writes handed to xterm, and how many of them it has parsed. */
  #written = 0;
  #parsedCount = 0;
  /** Grows by one each time output parsed (one piece handed to xterm) contained a line feed. */
  #lineFeedCount = 0;
  #pendingBytes = 0;
  /** The last write parsed did not end with a line feed: the bottom line may be half written. */
  #endsMidLine = false;
  /** Resolvers waiting for #parsedCount to reach a target, in target order. */
  #flushes: { readonly target: number; readonly resolve: () => void }[] = [];
  #last: Framebuffer | undefined;
  #disposed = false;
  readonly #highWaterBytes: number;
  readonly #maxPendingBytes: number;
  /** PTY output not handed to xterm yet: xterm gets one piece at a time, so we know its parser's state. */
  readonly #queue: (Uint8Array | string)[] = [];
  #inFlight = false;
  readonly #parserIdle: (() => boolean) | undefined;
  #skippedBytes = 0;

  constructor(options: EmulatorOptions) {
    const cols = clampSize(options.cols, MIN_COLS, LIMITS.maxCols);
    const rows = clampSize(options.rows, MIN_ROWS, LIMITS.maxRows);
    this.#highWaterBytes = options.highWaterBytes ?? DEFAULT_HIGH_WATER_BYTES;
    this.#maxPendingBytes = options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
    this.#term = new Terminal({
      cols,
      rows,
      scrollback: options.scrollback ?? DEFAULT_SCROLLBACK,
      allowProposedApi: true,
      // What xterm reports for DECRQSS " q" when no DECSCUSR was seen: a blinking block, which is
      // also what ControlTracker (and DEFAULT_CURSOR) call the default.
      cursorBlink: true,
      cursorStyle: 'block',
    });
    this.#term.loadAddon(new Unicode11Addon());
    this.#term.unicode.activeVersion = '11';
    this.#controls = new ControlTracker(this.#term);
    const internals = options.useInternals === false ? undefined : probeXtermInternals(this.#term);
    this.#usesInternals = internals !== undefined;
    this.#reader = internals !== undefined ? new FastScreenReader(this.#term, internals) : new PublicScreenReader(this.#term);
    // Skipped lines would be missing from a scrollback, so only a screen without one jump-scrolls.
    const scrollback = options.scrollback ?? DEFAULT_SCROLLBACK;
    this.#parserIdle = options.jumpScroll === false || scrollback > 0 ? undefined : probeParserIdle(this.#term);
    this.#subscriptions.push(this.#term.onWriteParsed(() => this.#parsed.fire()));
  }

  /** Whether text that would scroll off unseen is skipped (needs xterm's parser state). */
  get jumpScrolls(): boolean {
    return this.#parserIdle !== undefined;
  }

  /** UTF-16 units of output skipped by jump scrolling so far. */
  get skippedBytes(): number {
    return this.#skippedBytes;
  }

  /** True when rows are read through xterm's internals; false means the slow public fallback. */
  get usesInternals(): boolean {
    return this.#usesInternals;
  }

  get cols(): number {
    return this.#term.cols;
  }

  get rows(): number {
    return this.#term.rows;
  }

  /** Bytes (or UTF-16 units for strings) written but not parsed yet; pause the PTY when large. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** How many writes have been parsed so far. */
  get parsedWrites(): number {
    return this.#parsedCount;
  }

  /**
   * Grows whenever output parsed contained a line feed: output that only rewrites its line (a
   * progress counter) leaves it unchanged.
   */
  get outputsWithLineFeed(): number {
    return this.#lineFeedCount;
  }

  /**
   * True when the last write parsed ended inside a line. While output streams in (`yes`, `seq`), a
   * screen caught then differs from the next only by a half-written bottom line: not worth a frame.
   */
  get endsMidLine(): boolean {
    return this.#endsMidLine;
  }

  /**
   * True between `CSI ? 2026 h` and `l` (synchronized output): the application is midway through
   * drawing a frame, so a snapshot now may show a half-drawn screen.
   */
  get synchronizedOutput(): boolean {
    return this.#term.modes.synchronizedOutputMode;
  }

  /**
   * The user just typed: the next PTY output is probably the echo, so xterm parses the next write
   * at once instead of on its timer (its own rule for user input; saves ~1 ms per keystroke echo).
   */
  noteUserInput(): void {
    if (!this.#disposed) this.#term.input('', true);
  }

  /**
   * Queues PTY output for parsing. Returns false once more than `highWaterBytes` wait to be
   * parsed: pause the PTY, and resume it when `pendingBytes` has dropped (check in `onParsed`).
   * Throws EmulatorOverloadedError rather than exceed `maxPendingBytes`.
   */
  write(data: Uint8Array | string): boolean {
    if (this.#disposed) return false;
    const length = data.length;
    if (length === 0) return this.#pendingBytes <= this.#highWaterBytes;
    if (this.#pendingBytes + length > this.#maxPendingBytes) throw new EmulatorOverloadedError(this.#pendingBytes);
    this.#written++;
    this.#pendingBytes += length;
    this.#queue.push(data);
    if (!this.#inFlight) this.#feed();
    return this.#pendingBytes <= this.#highWaterBytes;
  }

  /**
   * Hands xterm the queued output: the strings that arrived while it was busy as one (up to
   * JOIN_LIMIT), else one piece. Called again from xterm's callback, which runs inside its parsing
   * loop, so queued output is parsed without a turn of the event loop in between.
   */
  #feed(): void {
    const queue = this.#queue;
    if (queue.length === 0 || this.#disposed) return;
    let joined: (Uint8Array | string)[] | undefined;
    let data = queue.shift()!;
    let writes = 1;
    // What arrived while xterm was busy is parsed as one piece (of one kind: strings or bytes).
    const isString = typeof data === 'string';
    let total = data.length;
    while (queue.length > 0 && (typeof queue[0] === 'string') === isString && total + queue[0]!.length <= JOIN_LIMIT) {
      total += queue[0]!.length;
      writes++;
      if (writes === 2) joined = [data];
      joined!.push(queue.shift()!);
    }
    if (writes > 1) data = isString ? (joined as string[]).join('') : Buffer.concat(joined as Uint8Array[], total);
    const length = data.length;
    const endsWithLineFeed = typeof data === 'string' ? data.charCodeAt(length - 1) === 0x0a : data[length - 1] === 0x0a;
    // Under a flood the first line feed is a few bytes in; a status line without one is short.
    const hasLineFeed = endsWithLineFeed || (typeof data === 'string' ? data.indexOf('\n') : data.indexOf(0x0a)) !== -1;
    if (this.#parserIdle?.() === true) {
      const skip = skippablePrefix(data, this.#term.rows);
      if (skip > 0) {
        data = typeof data === 'string' ? data.slice(skip) : data.subarray(skip);
        this.#skippedBytes += skip;
      }
    }
    this.#inFlight = true;
    this.#term.write(data, () => {
      this.#inFlight = false;
      this.#endsMidLine = !endsWithLineFeed;
      this.#parsedCount += writes;
      if (hasLineFeed) this.#lineFeedCount++;
      this.#pendingBytes -= length;
      this.#resolveFlushes();
      this.#feed();
    });
  }

  /** Resolves once everything written so far has been parsed. */
  flush(): Promise<void> {
    if (this.#parsedCount >= this.#written || this.#disposed) return Promise.resolve();
    const target = this.#written;
    return new Promise((resolve) => this.#flushes.push({ target, resolve }));
  }

  #resolveFlushes(): void {
    let i = 0;
    while (i < this.#flushes.length && this.#flushes[i]!.target <= this.#parsedCount) {
      this.#flushes[i]!.resolve();
      i++;
    }
    if (i > 0) this.#flushes.splice(0, i);
  }

  /** `cb` runs after xterm parsed some written data (at most once per parsing slice). */
  onParsed(cb: () => void): Disposable {
    return this.#parsed.add(cb);
  }

  /** The terminal's answers to queries (DA, DSR, CPR…): write them back into the PTY. */
  onReply(cb: (data: string) => void): Disposable {
    // `noteUserInput` makes xterm emit an empty data event; that is not a reply.
    const subscription = this.#term.onData((data) => {
      if (data.length > 0) cb(data);
    });
    this.#subscriptions.push(subscription);
    return subscription;
  }

  /** Sizes are clamped to MIN_COLS..LIMITS.maxCols and MIN_ROWS..LIMITS.maxRows. */
  resize(cols: number, rows: number): void {
    if (this.#disposed) return;
    const c = clampSize(cols, MIN_COLS, LIMITS.maxCols);
    const r = clampSize(rows, MIN_ROWS, LIMITS.maxRows);
    if (c === this.#term.cols && r === this.#term.rows) return;
    this.#term.resize(c, r);
    this.#reader.invalidate();
  }

  snapshot(): Framebuffer {
    const lines: readonly Row[] = this.#reader.read();
    const cols = this.#term.cols;
    const rows = this.#term.rows;
    const controls = this.#controls;
    const buffer = this.#term.buffer.active;
    const prev = this.#last;

    const x = Math.min(buffer.cursorX, cols - 1);
    const y = Math.min(buffer.cursorY, rows - 1);
    const prevCursor = prev?.cursor ?? DEFAULT_CURSOR;
    const cursor: Cursor =
      prevCursor.x === x &&
      prevCursor.y === y &&
      prevCursor.visible === controls.cursorVisible &&
      prevCursor.shape === controls.cursorShape &&
      prevCursor.blink === controls.cursorBlink
        ? prevCursor
        : { x, y, visible: controls.cursorVisible, shape: controls.cursorShape, blink: controls.cursorBlink };

    const m = this.#term.modes;
    const prevModes = prev?.modes ?? DEFAULT_MODES;
    const modes: TerminalModes =
      prevModes.applicationCursorKeys === m.applicationCursorKeysMode &&
      prevModes.applicationKeypad === m.applicationKeypadMode &&
      prevModes.bracketedPaste === m.bracketedPasteMode &&
      prevModes.mouseTracking === m.mouseTrackingMode &&
      prevModes.mouseEncoding === controls.mouseEncoding &&
      prevModes.focusReporting === m.sendFocusMode
        ? prevModes
        : {
            applicationCursorKeys: m.applicationCursorKeysMode,
            applicationKeypad: m.applicationKeypadMode,
            bracketedPaste: m.bracketedPasteMode,
            mouseTracking: m.mouseTrackingMode,
            mouseEncoding: controls.mouseEncoding,
            focusReporting: m.sendFocusMode,
          };

    if (
      prev !== undefined &&
      prev.lines === lines &&
      prev.cursor === cursor &&
      prev.modes === modes &&
      prev.title === controls.title &&
      prev.iconName === controls.iconName &&
      prev.bellCount === controls.bellCount &&
      prev.clipboard === controls.clipboard
    ) {
      return prev;
    }
    const frame: Framebuffer = {
      cols,
      rows,
      lines,
      cursor,
      title: controls.title,
      iconName: controls.iconName,
      bellCount: controls.bellCount,
      modes,
      clipboard: controls.clipboard,
    };
    this.#last = frame;
    return frame;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const s of this.#subscriptions) s.dispose();
    this.#parsed.clear();
    this.#reader.dispose();
    this.#controls.dispose();
    this.#term.dispose();
    // Nothing more will be parsed; do not leave anyone waiting.
    for (const f of this.#flushes) f.resolve();
    this.#flushes = [];
  }
}

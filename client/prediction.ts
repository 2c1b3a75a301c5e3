/**
 * Predictive local echo: guesses what the server's screen will show after the keys the user just
 * typed, and lays those guesses over the newest server frame before it is rendered.
 *
 * How the client drives it (all calls are cheap and synchronous; no I/O, time from `clock`):
 *
 *   const engine = new PredictionEngine({ clock, mode });
 *   engine.onServerFrame(fb, echoAck);  // every new server state: fb and the echoAck it carries
 *   engine.onKeys(bytes, inputSeq);     // every keyboard read, with its UserStream index (1, 2, …)
 *   engine.setRtt(srttMs);              // whenever the RTT estimate changes
 *   draw(engine.overlay(fb));           // right before rendering (fb: the frame given last)
 *   engine.reset();                     // on resize
 *   engine.wakeupDelay();               // render again within this many ms if nothing else happens
 *
 * The model (see mosh.md §5 for Mosh's; this is our own):
 *
 * - A prediction is an absolute screen cell (or cursor position) tagged with the input sequence
 *   number of the key that made it. It is judged once the server's echoAck reaches that number:
 *   the server has then had the key for at least 50 ms, so its frame shows the key's effect.
 *   Right: the prediction is dropped (the frame now shows the same). Wrong: see below.
 * - Printable characters (including wide ones), backspace and left/right are predicted, as a line
 *   editor in insert mode would apply them. Any other key (Enter, control keys, escapes, a paste)
 *   makes the engine *blind*: it cannot know where the cursor went, so keys typed after it are
 *   deferred (not guessed at a wrong place) until a frame shows the unpredictable key's effect.
 *   The engine then *anchors* a new epoch on that frame and replays the deferred keys into it.
 * - Epochs: the predictions of a new epoch are hidden until one of them is confirmed by an echo,
 *   so a line that does not echo (a password) or where keys are commands (vim normal mode) shows
 *   nothing wrong. A wrong hidden prediction kills its epoch and later ones; a wrong shown one
 *   removes every prediction and makes the engine careful (no early trust until an echo confirms
 *   something). The keys that lost their predictions are replayed from the newest frame into a
 *   new, hidden epoch. A mismatch that a later unpredictable key may explain (Ctrl-U after typing,
 *   a shell redrawing its line) is no verdict either way.
 * - Early trust (prompt-trust.ts): a new epoch anchored on a fresh shell prompt line is shown at
 *   once, without waiting for an echo. That is how we beat Mosh on the first keys of a session and
 *   after each Enter. After Enter the anchor may even come before the echoAck does, as soon as a
 *   frame shows the Enter was processed (the cursor went below the Enter row, or that row scrolled
 *   up) and a trusted prompt waits on the cursor row.
 * - Modes and underlining: prediction-policy.ts.
 */
import { systemClock, type Clock, type Millis } from '../protocol/clock.js';
import { Attr, BLANK, DEFAULT_COLOR, type Color, type Cursor, type Framebuffer, type Row } from '../protocol/framebuffer.js';
import { DEFAULT_PASTE_BYTES, parseKeys, type KeyAction } from './key-input.js';
import { DisplayPolicy, type DisplayThresholds, type PredictionMode } from './prediction-policy.js';
import { DEFAULT_MAX_LEARNED_PROMPTS, PromptBook, looksFullScreen, promptSignature, type PromptTrust } from './prompt-trust.js';

/** Keys typed while blind that are kept for replay; beyond this the engine gives up on them. */
export const DEFAULT_MAX_DEFERRED_KEYS = 64;

export interface PredictionOptions extends Partial<DisplayThresholds> {
  readonly clock?: Clock;
  readonly mode?: PredictionMode;
  /** A read longer than this many bytes is a paste (not predicted). */
  readonly pasteBytes?: number;
  /** The early rule: show predictions at once on a fresh, trusted prompt line. */
  readonly earlyPrompts?: boolean;
  /** Within the early rule, also trust never-seen prompts that have a shell prompt's shape. */
  readonly promptShapes?: boolean;
  readonly maxLearnedPrompts?: number;
  readonly maxDeferredKeys?: number;
}

/** Counters for tests, benchmarks and the status line. */
export interface PredictionStats {
  /** Epochs started (each anchor starts one). */
  epochs: number;
  /** Epochs shown at once because their prompt was learned / had a prompt's shape. */
  learnedPromptEpochs: number;
  shapePromptEpochs: number;
  /** Epochs confirmed by an echo. */
  echoConfirmedEpochs: number;
  /** Predictions judged right, and wrong while hidden / while shown. */
  correct: number;
  wrongHidden: number;
  wrongShown: number;
  /** Mismatches a later unpredictable key may explain (not counted as wrong). */
  inconclusive: number;
  /** Keys typed while blind (shown, if at all, only once a frame anchors them). */
  deferredKeys: number;
}

interface CellValue {
  readonly text: string;
  readonly width: number;
  readonly fg: Color;
  readonly bg: Color;
  readonly attrs: number;
  /** Typed input (even a space), as opposed to what the screen already showed. */
  readonly typed: boolean;
}

class Epoch {
  /** Shown: confirmed by an echo, trusted at birth, or experimental mode. */
  confirmed: boolean;
  echoConfirmed = false;
  /** Keys applied in this epoch; while 0 it holds no prediction and a newer frame may re-anchor it. */
  keys = 0;
  constructor(
    readonly id: number,
    confirmed: boolean,
    /** Signature of the prompt this epoch's input follows, if it was anchored on one. */
    readonly prompt: string | null,
    readonly trust: PromptTrust,
    /** Where the input starts (backspace and left stop here); -1 when unknown. */
    readonly inputX: number,
    readonly inputY: number,
  ) {
    this.confirmed = confirmed;
  }
}

interface CellPrediction {
  /** null: the cell's future content is unknown; the server's cell shows and is not judged. */
  readonly text: string | null;
  readonly width: number;
  fg: Color;
  bg: Color;
  attrs: number;
  readonly seq: number;
  readonly epoch: Epoch;
  /** False when a match would prove nothing (the cell showed this already, or it is blank). */
  readonly credit: boolean;
  /** The rendition was guessed; a confirmed neighbour to the left may correct it. */
  styleGuessed: boolean;
  readonly typed: boolean;
}

interface CursorPrediction {
  /** x === cols means the pending-wrap state after writing the last column. */
  readonly x: number;
  readonly y: number;
  readonly seq: number;
  readonly epoch: Epoch;
}

interface DeferredKey {
  readonly action: KeyAction;
  readonly seq: number;
}

interface AppliedKey extends DeferredKey {
  readonly epochId: number;
}

/** Bound on #applied (keys awaiting their echo); a stalled link stops the log growing. */
const MAX_APPLIED_KEYS = 256;

/** What the screen looked like when an Enter was typed; used to notice it was processed. */
interface EnterMark {
  /** The row the input ended on. */
  readonly y: number;
  readonly rowText: string;
  readonly frame: Framebuffer;
}

/** A fresh input line found on a frame: input starts at (x, y) and k deferred keys show already. */
interface FreshLine {
  readonly x: number;
  readonly y: number;
  readonly k: number;
  readonly signature: string | null;
  readonly trust: PromptTrust;
}

const BLANK_CELL: CellValue = Object.freeze({ text: BLANK, width: 1, fg: DEFAULT_COLOR, bg: DEFAULT_COLOR, attrs: 0, typed: false });

export class PredictionEngine {
  readonly #clock: Clock;
  readonly #policy: DisplayPolicy;
  readonly #book: PromptBook;
  readonly #pasteBytes: number;
  readonly #maxDeferred: number;

  #frame: Framebuffer | null = null;
  #echoAck = 0;
  /** The newest key whose effect the current frame shows: echoAck, or an Enter seen processed. */
  #reflected = 0;
  #lastSeq = 0;

  /** Per row, per column; rows allocated on first use. Sized to #cols × #rows. */
  #cells: ((CellPrediction | null)[] | null)[] = [];
  #cellCount = 0;
  #cols = 0;
  #rows = 0;
  /** In order of seq. */
  #cursors: CursorPrediction[] = [];

  #epochIds = 0;
  /** The epoch new predictions join; null while blind. */
  #epoch: Epoch | null = null;
  /** Blind: keys are deferred until a frame shows the effect of key #blindUntil. */
  #blind = true;
  #lastKeysShown = false;
  #blindUntil = 0;
  #deferred: DeferredKey[] = [];
  /**
   * Every key typed since the one that made the engine blind, acknowledged or not: a fresh input
   * line on the next frame shows a prefix of these after its prompt.
   */
  #sinceBlind: DeferredKey[] = [];
  #enterMark: EnterMark | null = null;
  /** The next anchor follows the session start, Enter or Ctrl-C: a fresh prompt may be trusted. */
  #freshExpected = true;
  /** The prompt the latest fresh input line followed; input starts at x on row y. */
  #lastPrompt: { readonly x: number; readonly y: number; readonly signature: string } | null = null;
  /**
   * Keys applied and not yet reflected, with the epoch they were applied in: when an epoch is
   * killed, its keys are replayed from the newest frame instead of being given up.
   */
  #applied: AppliedKey[] = [];
  /** Keys up to this seq may be missing from #applied (it overflowed). */
  #unloggedUpTo = 0;

  /** During a replay: where the input starts, and that the frame's cells from there are ours. */
  #replayBase: { readonly x: number; readonly y: number } | null = null;

  /** Bumped by every call that can change what overlay() draws; keys the overlay cache. */
  #version = 0;
  #cache: { fb: Framebuffer; version: number; show: boolean; underline: boolean; out: Framebuffer } | null = null;

  /** Keys not yet acknowledged, oldest first: seq and the time it was typed. */
  #waitSeq: number[] = [];
  #waitAt: Millis[] = [];
  #waitHead = 0;

  readonly stats: PredictionStats = {
    epochs: 0,
    learnedPromptEpochs: 0,
    shapePromptEpochs: 0,
    echoConfirmedEpochs: 0,
    correct: 0,
    wrongHidden: 0,
    wrongShown: 0,
    inconclusive: 0,
    deferredKeys: 0,
  };

  constructor(options: PredictionOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#policy = new DisplayPolicy(options.mode ?? 'adaptive', options);
    this.#book = new PromptBook({
      earlyPrompts: options.earlyPrompts ?? true,
      promptShapes: options.promptShapes ?? true,
      maxLearned: options.maxLearnedPrompts ?? DEFAULT_MAX_LEARNED_PROMPTS,
    });
    this.#pasteBytes = options.pasteBytes ?? DEFAULT_PASTE_BYTES;
    this.#maxDeferred = options.maxDeferredKeys ?? DEFAULT_MAX_DEFERRED_KEYS;
  }

  get mode(): PredictionMode {
    return this.#policy.mode;
  }

  setMode(mode: PredictionMode): void {
    const was = this.#policy.mode;
    this.#version++;
    this.#policy.mode = mode;
    if (mode === 'never' || was === 'never') this.reset();
  }

  /** Whether predictions are drawn at all right now (mode and link speed). */
  get showing(): boolean {
    return this.#policy.show;
  }

  /** Whether shown predictions are underlined right now. */
  get underlining(): boolean {
    return this.#policy.underline;
  }

  /** Whether keys are being deferred until the server shows where the cursor went. */
  get blind(): boolean {
    return this.#blind;
  }

  /**
   * Whether the keys of the last `onKeys` are all on screen as predictions now: the user already
   * sees them, so the server's echo only confirms them and they need not leave before the next frame.
   */
  get lastKeysShown(): boolean {
    return this.#lastKeysShown;
  }

  setRtt(srttMs: Millis): void {
    this.#policy.setRtt(srttMs, this.#anyShown());
  }

  /** Forgets every prediction; new keys wait until the server has caught up with all typed so far. */
  reset(): void {
    this.#version++;
    this.#clearPredictions();
    this.#deferred = [];
    this.#sinceBlind = [];
    this.#applied = [];
    this.#lastPrompt = null;
    this.#goBlind(this.#lastSeq, 'other');
  }

  /** A new server state: `fb` and the echoAck carried with it. Judges what can be judged. */
  onServerFrame(fb: Framebuffer, echoAck: number): void {
    const prev = this.#frame;
    this.#frame = fb;
    this.#version++;
    if (!this.#policy.enabled) return;
    if (prev !== null && (prev.cols !== fb.cols || prev.rows !== fb.rows)) this.reset();
    if (fb.cols !== this.#cols || fb.rows !== this.#rows) this.#resizeStore(fb.cols, fb.rows);
    if (echoAck > this.#echoAck) {
      this.#echoAck = echoAck;
      this.#noteAcked();
    }
    this.#noteReflected(this.#echoAck);
    if (this.#blind && this.#enterMark !== null) this.#settleEnter(fb, this.#enterMark);
    this.#judgeCells(this.#echoAck, 0);
    this.#judgeCursor();
    if (this.#blind) this.#tryAnchor();
    else if (this.#epoch !== null && this.#epoch.keys === 0 && !this.#epoch.confirmed) this.#reanchor(fb);
    this.#policy.refresh(this.#anyShown());
  }

  /** One keyboard read, carried to the server as UserStream event number `inputSeq`. */
  onKeys(bytes: Uint8Array, inputSeq: number): void {
    this.#lastKeysShown = false;
    if (!this.#policy.enabled) {
      // Still count keys: switching prediction on later must wait for the server to show them.
      this.#lastSeq = Math.max(this.#lastSeq, inputSeq);
      return;
    }
    this.#version++;
    if (inputSeq > this.#lastSeq) {
      this.#lastSeq = inputSeq;
      this.#waitSeq.push(inputSeq);
      this.#waitAt.push(this.#clock());
    }
    const actions = parseKeys(bytes, this.#pasteBytes);
    if (this.#blind) this.#tryAnchor();
    let predictable = true;
    for (const action of actions) {
      if (action.kind !== 'print' && action.kind !== 'backspace' && action.kind !== 'left' && action.kind !== 'right') predictable = false;
      if (this.#blind) this.#defer(action, inputSeq);
      else this.#apply(action, inputSeq);
    }
    this.#lastKeysShown = predictable && this.#policy.show && !this.#blind && this.#epoch !== null && this.#epoch.confirmed;
  }

  /**
   * The frame to draw: `fb` with the shown predictions laid over it (underlined when the link is
   * slow), and the predicted cursor. Returns `fb` itself when there is nothing to add.
   */
  overlay(fb: Framebuffer): Framebuffer {
    this.#noteWaiting();
    const show = this.#policy.show;
    if (!show || fb.cols !== this.#cols || fb.rows !== this.#rows) return fb;
    const underline = this.#policy.underline;
    const c = this.#cache;
    // Cloning rows is the cost here; a render with nothing new reuses the last result.
    if (c !== null && c.fb === fb && c.version === this.#version && c.show === show && c.underline === underline) return c.out;
    const out = this.#draw(fb, underline);
    this.#cache = { fb, version: this.#version, show, underline, out };
    return out;
  }

  #draw(fb: Framebuffer, underline: boolean): Framebuffer {
    let lines: Row[] | null = null;
    if (this.#cellCount > 0) {
      for (let y = 0; y < this.#rows; y++) {
        const preds = this.#cells[y];
        if (!preds) continue;
        for (let x = 0; x < this.#cols; x++) {
          const p = preds[x];
          if (!p || p.text === null || !p.epoch.confirmed) continue;
          if (lines === null) lines = fb.lines.slice();
          let row = lines[y]!;
          if (row === fb.lines[y]) {
            row = row.clone();
            lines[y] = row;
          }
          const attrs = underline && p.text !== BLANK ? p.attrs | Attr.Underline : p.attrs;
          row.set(x, p.text, p.width, p.fg, p.bg, attrs);
        }
      }
    }
    let cursor: Cursor = fb.cursor;
    for (let i = this.#cursors.length - 1; i >= 0; i--) {
      const c = this.#cursors[i]!;
      if (!c.epoch.confirmed) continue;
      const x = Math.min(c.x, this.#cols - 1);
      if (x !== cursor.x || c.y !== cursor.y) cursor = { ...cursor, x, y: c.y };
      break;
    }
    if (lines === null && cursor === fb.cursor) return fb;
    return { ...fb, lines: lines ?? fb.lines, cursor };
  }

  /**
   * Milliseconds until the display may change with no new input or frame (a keystroke waiting
   * long enough turns on glitch display); Infinity when nothing is waiting for that.
   */
  wakeupDelay(): Millis {
    if (this.#policy.show || this.#waitHead >= this.#waitSeq.length) return Infinity;
    const age = this.#clock() - this.#waitAt[this.#waitHead]!;
    return Math.max(0, this.#policy.thresholds.glitchShowMs - age);
  }

  // ---- keys ----

  #defer(action: KeyAction, seq: number): void {
    this.stats.deferredKeys++;
    if (this.#sinceBlind.length >= this.#maxDeferred) {
      // Too far behind to replay sensibly: wait for the server to show everything typed so far.
      this.#deferred = [];
      this.#goBlind(seq, 'other');
      return;
    }
    const key = { action, seq };
    this.#deferred.push(key);
    this.#sinceBlind.push(key);
  }

  #apply(action: KeyAction, seq: number): void {
    this.#epoch!.keys++;
    if (this.#applied.length < MAX_APPLIED_KEYS) this.#applied.push({ action, seq, epochId: this.#epoch!.id });
    else this.#unloggedUpTo = seq;
    switch (action.kind) {
      case 'print':
        this.#predictPrint(action.text, action.width, seq);
        return;
      case 'backspace':
        this.#predictBackspace(seq);
        return;
      case 'left':
        this.#predictLeft(seq);
        return;
      case 'right':
        this.#predictRight(seq);
        return;
      case 'enter':
      case 'interrupt':
        this.#goBlind(seq, action.kind);
        return;
      default:
        this.#goBlind(seq, 'other');
    }
  }

  #predictPrint(text: string, width: number, seq: number): void {
    const epoch = this.#epoch!;
    let { x, y } = this.#cursorNow();
    const cols = this.#cols;
    if (x >= cols) {
      // Pending wrap: the character goes to the next row, unless that means scrolling.
      if (y + 1 >= this.#rows) return this.#goBlind(seq, 'other');
      x = 0;
      y++;
    }
    if (x + width > cols) return this.#goBlind(seq, 'other');
    const here = this.#read(y, x);
    if (here === null || here.width === 0) return this.#goBlind(seq, 'other');
    if (!this.#tailBlank(y, x)) {
      for (let dst = cols - 1; dst >= x + width; dst--) {
        const src = this.#read(y, dst - width);
        // A wide character pushed half off the row is unknown (it wraps to the next row).
        const cut = src !== null && src.width === 2 && dst === cols - 1;
        this.#setCell(y, dst, cut ? null : src, seq, epoch, false);
      }
    }
    const style = this.#styleFor(y, x, epoch);
    this.#setCell(y, x, { text, width, fg: style.fg, bg: style.bg, attrs: style.attrs, typed: true }, seq, epoch, true);
    if (width === 2) this.#setCell(y, x + 1, { text: '', width: 0, fg: style.fg, bg: style.bg, attrs: style.attrs, typed: true }, seq, epoch, true);
    this.#pushCursor(x + width, y, seq, epoch);
  }

  #predictBackspace(seq: number): void {
    const epoch = this.#epoch!;
    const { x, y } = this.#cursorNow();
    const cols = this.#cols;
    if (x >= cols) return this.#goBlind(seq, 'other');
    if (y === epoch.inputY && x <= epoch.inputX) return this.#pushCursor(x, y, seq, epoch);
    if (x === 0) return this.#goBlind(seq, 'other');
    const left = this.#read(y, x - 1);
    if (left === null) return this.#goBlind(seq, 'other');
    let w = 1;
    if (left.width === 0) {
      const lead = x >= 2 ? this.#read(y, x - 2) : null;
      if (lead === null || lead.width !== 2 || (y === epoch.inputY && x - 2 < epoch.inputX)) return this.#goBlind(seq, 'other');
      w = 2;
    }
    const nx = x - w;
    if (this.#tailBlank(y, x)) {
      for (let i = nx; i < x; i++) this.#setCell(y, i, BLANK_CELL, seq, epoch, false);
    } else {
      for (let dst = nx; dst < cols - w; dst++) this.#setCell(y, dst, this.#read(y, dst + w), seq, epoch, false);
      // What flows in at the end comes from the next row when the line wraps; we do not know it.
      const wraps = this.#frame!.lines[y]!.wrapped;
      for (let dst = cols - w; dst < cols; dst++) this.#setCell(y, dst, wraps ? null : BLANK_CELL, seq, epoch, false);
    }
    this.#pushCursor(nx, y, seq, epoch);
  }

  #predictLeft(seq: number): void {
    const epoch = this.#epoch!;
    const { x, y } = this.#cursorNow();
    if (x >= this.#cols) return this.#goBlind(seq, 'other');
    if (y === epoch.inputY && x <= epoch.inputX) return this.#pushCursor(x, y, seq, epoch);
    if (x === 0) return this.#goBlind(seq, 'other');
    const left = this.#read(y, x - 1);
    if (left === null) return this.#goBlind(seq, 'other');
    const nx = left.width === 0 ? x - 2 : x - 1;
    if (nx < 0 || (y === epoch.inputY && nx < epoch.inputX)) return this.#goBlind(seq, 'other');
    this.#pushCursor(nx, y, seq, epoch);
  }

  #predictRight(seq: number): void {
    const epoch = this.#epoch!;
    const { x, y } = this.#cursorNow();
    if (x >= this.#cols - 1) return this.#goBlind(seq, 'other');
    const here = this.#read(y, x);
    if (here === null || here.width === 0) return this.#goBlind(seq, 'other');
    // A blank we did not type may be the end of the input (no move) or a space typed earlier (a
    // move): the screen cannot tell them apart.
    if (here.text === BLANK && !here.typed) return this.#goBlind(seq, 'other');
    const nx = x + (here.width === 2 ? 2 : 1);
    if (nx >= this.#cols) return this.#goBlind(seq, 'other');
    this.#pushCursor(nx, y, seq, epoch);
  }

  /**
   * Stops predicting: the effect of key `seq` is unknown. Keys after it are deferred until a
   * frame shows that effect (echoAck ≥ seq), or for Enter possibly sooner (see #tryAnchor).
   * Only Enter and Ctrl-C lead to a fresh prompt that the early rule may trust: after Esc (a
   * vi-mode shell), Tab or anything else the same-looking line may not take text.
   */
  #goBlind(seq: number, reason: 'enter' | 'interrupt' | 'other'): void {
    let mark: EnterMark | null = null;
    if (reason === 'enter' && this.#frame !== null && this.#epoch !== null) {
      const c = this.#cursorNow();
      // In the pending-wrap state a shell has already moved to the next row.
      const y = c.x >= this.#cols ? c.y + 1 : c.y;
      if (y < this.#rows) mark = { y, rowText: this.#predictedRowText(y), frame: this.#frame };
    }
    this.#blind = true;
    this.#epoch = null;
    this.#enterMark = mark;
    this.#freshExpected = reason !== 'other';
    if (seq > this.#blindUntil) this.#blindUntil = seq;
    this.#dropDeferredUpTo(this.#blindUntil);
    const until = this.#blindUntil;
    this.#sinceBlind = this.#sinceBlind.filter((k) => k.seq > until);
  }

  #dropDeferredUpTo(seq: number): void {
    let n = 0;
    while (n < this.#deferred.length && this.#deferred[n]!.seq <= seq) n++;
    if (n > 0) this.#deferred.splice(0, n);
  }

  // ---- anchoring a new epoch ----

  #tryAnchor(): void {
    const fb = this.#frame;
    if (fb === null) return;
    if (fb.cols !== this.#cols || fb.rows !== this.#rows) this.#resizeStore(fb.cols, fb.rows);
    // Replaying can hit another unpredictable key that the frame already shows: anchor again.
    for (let round = 0; this.#blind && this.#reflected >= this.#blindUntil && round < 8; round++) this.#anchor(fb);
  }

  #anchor(fb: Framebuffer): void {
    const anchor = this.#freshLines(fb, this.#freshExpected)[0] ?? null;
    let input = anchor !== null && anchor.signature !== null ? { x: anchor.x, y: anchor.y, signature: anchor.signature } : null;
    if (input === null) {
      // Not a fresh prompt (after Tab, say): if the last prompt is still there, input starts after it.
      const last = this.#lastPrompt;
      if (last !== null && last.y === fb.cursor.y && last.x <= fb.cursor.x && promptSignature(fb.lines[last.y]!, last.x) === last.signature) input = last;
    } else {
      this.#lastPrompt = input;
    }
    this.#startEpoch(anchor, input?.x ?? -1, input?.y ?? -1);
  }

  /**
   * A hidden epoch that no key has gone into yet is only a guess at where input will start, made on
   * an older frame: read the newer one instead. At the start of a session the first frame often
   * comes before the shell has drawn its prompt (a blank screen, nothing to trust), and after a
   * command the prompt may come a frame after the anchor; without this the first keys there would
   * stay hidden until an echo confirmed one, a round trip late.
   */
  #reanchor(fb: Framebuffer): void {
    this.stats.epochs--;
    this.#anchor(fb);
  }

  /**
   * Once a frame shows the Enter processed, the keys before it were processed too: judge their
   * predictions where the Enter row went (a scroll moves it up), not where it was. The evidence is
   * echoAck ≥ the Enter, or, earlier, a trusted fresh prompt on the cursor row together with the
   * cursor below the Enter row or the Enter row moved up; the frame then counts as showing every
   * key up to the Enter, which lets #tryAnchor anchor on it at once.
   */
  #settleEnter(fb: Framebuffer, mark: EnterMark): void {
    const enterSeq = this.#blindUntil;
    const shift = this.#enterShift(fb, mark);
    if (this.#echoAck < enterSeq) {
      if (shift === undefined) return;
      const first = this.#freshLines(fb, this.#freshExpected)[0];
      if (first === undefined || first.trust === null) return;
    }
    this.#enterMark = null;
    this.#noteReflected(enterSeq);
    this.#cursors = this.#cursors.filter((c) => c.seq > enterSeq);
    if (typeof shift === 'number') {
      this.#judgeCells(enterSeq - 1, shift);
      return;
    }
    // The Enter row is gone from view or no longer shows what was predicted: no verdict, but an
    // input line shown at once that never got an echo is suspect.
    for (let y = 0; y < this.#rows; y++) {
      const preds = this.#cells[y];
      if (!preds) continue;
      for (let x = 0; x < this.#cols; x++) {
        const p = preds[x];
        if (!p || p.seq >= enterSeq) continue;
        this.#remove(y, x);
        if (p.text !== null && p.credit) this.#inconclusive(p.epoch);
      }
    }
  }

  #startEpoch(anchor: FreshLine | null, inputX: number, inputY: number): void {
    const trusted = anchor !== null && anchor.trust !== null;
    const epoch = new Epoch(++this.#epochIds, trusted || this.#policy.mode === 'experimental', anchor?.signature ?? null, anchor?.trust ?? null, inputX, inputY);
    this.stats.epochs++;
    if (anchor?.trust === 'learned') this.stats.learnedPromptEpochs++;
    if (anchor?.trust === 'shape') this.stats.shapePromptEpochs++;
    this.#blind = false;
    this.#enterMark = null;
    this.#epoch = epoch;
    // On a fresh line, replay every key since the blind one from the start of the input (the
    // acknowledged ones are judged right away: the frame shows them). Elsewhere, replay the keys
    // the frame may not show yet from its cursor.
    this.#replayBase = anchor !== null ? { x: anchor.x, y: anchor.y } : null;
    const keys = anchor !== null ? this.#sinceBlind : this.#deferred;
    this.#deferred = [];
    this.#sinceBlind = [];
    for (const d of keys) {
      if (!this.#blind) {
        this.#apply(d.action, d.seq);
      } else if (d.seq > this.#blindUntil) {
        this.#sinceBlind.push(d);
        if (d.seq > this.#reflected) this.#deferred.push(d);
      }
    }
    this.#replayBase = null;
    if (anchor !== null && anchor.k > 0) {
      this.#judgeCells(this.#echoAck, 0);
      this.#judgeCursor();
    }
  }

  /**
   * Ways to read the cursor row of `fb` as a fresh input line: cells [x, cursor) show the first k
   * deferred keys applied to an empty line starting at x, and nothing follows. The most keys
   * explained first; empty when the row has other text after the cursor. With `allowTrust`, a
   * single trusted reading (learned prompts before shapes) comes first; two trusted readings that
   * disagree (a typed-ahead space after "$", or the prompt's own space?) trust neither.
   */
  #freshLines(fb: Framebuffer, allowTrust: boolean): FreshLine[] {
    const { x: cx, y } = fb.cursor;
    const row = fb.lines[y];
    if (row === undefined) return [];
    const cols = fb.cols;
    // Replay the deferred keys on an empty line; remember each prefix's cursor and content.
    const text: string[] = [];
    const width: number[] = [];
    let at = 0;
    const prefixes: { readonly at: number; readonly text: readonly string[]; readonly width: readonly number[] }[] = [
      { at: 0, text: [], width: [] },
    ];
    // The frame shows at least the keys it acknowledges.
    let shown = 0;
    while (shown < this.#sinceBlind.length && this.#sinceBlind[shown]!.seq <= this.#reflected) shown++;
    for (const d of this.#sinceBlind) {
      const a = d.action;
      if (a.kind === 'print') {
        text.splice(at, 0, a.text);
        width.splice(at, 0, a.width);
        if (a.width === 2) {
          text.splice(at + 1, 0, '');
          width.splice(at + 1, 0, 0);
        }
        at += a.width;
      } else if (a.kind === 'backspace') {
        if (at > 0) {
          const w = width[at - 1] === 0 ? 2 : 1;
          text.splice(at - w, w);
          width.splice(at - w, w);
          at -= w;
        }
      } else if (a.kind === 'left') {
        if (at > 0) at -= width[at - 1] === 0 ? 2 : 1;
      } else if (a.kind === 'right') {
        if (at < text.length) at += width[at] === 2 ? 2 : 1;
      } else {
        break;
      }
      if (text.length >= cols) break;
      prefixes.push({ at, text: text.slice(), width: width.slice() });
    }
    const found: FreshLine[] = [];
    for (let k = prefixes.length - 1; k >= shown; k--) {
      const p = prefixes[k]!;
      const x0 = cx - p.at;
      if (x0 < 0 || x0 + p.text.length > cols) continue;
      let ok = true;
      for (let i = 0; ok && i < p.text.length; i++) ok = row.text[x0 + i] === p.text[i] && row.width[x0 + i] === p.width[i];
      for (let x = x0 + p.text.length; ok && x < cols; x++) ok = row.text[x] === BLANK;
      if (!ok) continue;
      let promptCells = false;
      for (let x = 0; !promptCells && x < x0; x++) promptCells = row.text[x] !== BLANK && row.text[x] !== '';
      // Only a fresh prompt (after Enter, Ctrl-C or at the start) is read as a prompt: after Tab the
      // "prompt" would include the command line, and backspace would not stop there.
      const signature = allowTrust && promptCells && !looksFullScreen(fb) ? promptSignature(row, x0) : null;
      const trust = signature !== null ? this.#book.trust(fb, row, x0, signature) : null;
      found.push({ x: x0, y, k, signature, trust });
    }
    for (const level of ['learned', 'shape'] as const) {
      const trusted = found.filter((l) => l.trust === level);
      if (trusted.length === 1) return [trusted[0]!, ...found.filter((l) => l !== trusted[0])];
      if (trusted.length > 1) break;
    }
    return found.map((l) => (l.trust === null ? l : { ...l, trust: null }));
  }

  /**
   * Whether `fb` shows the Enter marked in `mark` was processed: returns how many rows the Enter
   * row moved up (0 when it stayed and the cursor went below it), null when it was processed but
   * the row is gone from view, undefined when there is no evidence yet.
   */
  #enterShift(fb: Framebuffer, mark: EnterMark): number | null | undefined {
    for (let s = 0; s <= mark.y; s++) {
      const y = mark.y - s;
      if (fb.lines[y]!.toString() !== mark.rowText) continue;
      if (s === 0) {
        if (fb.cursor.y > mark.y) return 0;
        continue;
      }
      // The row moved up by s: only if it was not already there before the Enter.
      if (mark.frame.lines[y]!.toString() !== mark.rowText) return s;
    }
    return fb.cursor.y > mark.y ? null : undefined;
  }

  // ---- judging ----

  /** Judges cell predictions with seq ≤ maxSeq against `#frame`, whose rows moved up by `shift`. */
  #judgeCells(maxSeq: number, shift: number): void {
    const fb = this.#frame!;
    // A wrong verdict can remove other predictions: then scan again (each pass removes one).
    scan: while (this.#cellCount > 0) {
      for (let y = 0; y < this.#rows; y++) {
        const preds = this.#cells[y];
        if (!preds) continue;
        const fy = y - shift;
        for (let x = 0; x < this.#cols; x++) {
          const p = preds[x];
          if (!p || p.seq > maxSeq) continue;
          this.#remove(y, x);
          if (p.text === null || fy < 0) continue;
          const row = fb.lines[fy]!;
          if (row.text[x] === p.text && row.width[x] === p.width) {
            this.stats.correct++;
            if (p.credit) this.#confirm(p.epoch);
            if (p.text !== BLANK) this.#adoptStyle(y, x, row.fg[x]!, row.bg[x]!, row.attrs[x]!, p.epoch);
          } else if (p.seq <= this.#blindUntil) {
            // A later unpredictable key (Ctrl-U, Tab, Enter…) may have changed this cell: no verdict.
            this.#inconclusive(p.epoch);
          } else {
            this.#wrong(p.epoch, 'cell');
            continue scan;
          }
        }
      }
      return;
    }
  }

  #judgeCursor(): void {
    const ack = this.#echoAck;
    let n = 0;
    while (n < this.#cursors.length && this.#cursors[n]!.seq <= ack) n++;
    if (n === 0) return;
    // A cursor position is judged only when no key came after it: the frame may already show
    // later keys (not yet acknowledged) moving the cursor on, so an older position proves nothing.
    const c = this.#cursors[n - 1]!;
    this.#cursors.splice(0, n);
    if (c.seq !== this.#lastSeq || c.seq <= this.#blindUntil) return;
    const fc = this.#frame!.cursor;
    const ok =
      c.x < this.#cols
        ? fc.x === c.x && fc.y === c.y
        : // Pending wrap: a terminal shows the last column; a shell has already gone to the next row.
          (fc.x === this.#cols - 1 && fc.y === c.y) || (fc.x === 0 && fc.y === c.y + 1);
    if (ok) this.stats.correct++;
    else this.#wrong(c.epoch, 'cursor');
  }

  #confirm(epoch: Epoch): void {
    if (epoch.echoConfirmed) return;
    epoch.echoConfirmed = true;
    epoch.confirmed = true;
    this.stats.echoConfirmedEpochs++;
    this.#book.noteConfirmed();
    if (epoch.prompt !== null) this.#book.learn(epoch.prompt);
  }

  /**
   * A prediction of `epoch` did not match, but a later key may explain that. Shown-at-once input
   * that never got an echo is still suspect: do not trust that prompt at once again.
   */
  #inconclusive(epoch: Epoch): void {
    this.stats.inconclusive++;
    if (epoch.prompt !== null && epoch.trust !== null && !epoch.echoConfirmed) this.#book.distrust(epoch.prompt);
  }

  /** A prediction of `epoch` was wrong. */
  #wrong(epoch: Epoch, what: 'cell' | 'cursor'): void {
    if (epoch.confirmed) this.stats.wrongShown++;
    else this.stats.wrongHidden++;
    // Experimental mode corrects cell by cell: the wrong cell is already gone.
    if (this.#policy.mode === 'experimental' && what === 'cell') return;
    let from = epoch.id;
    if (epoch.confirmed) {
      // Shown and wrong: remove every prediction, and trust no prompt until an echo confirms one.
      if (epoch.prompt !== null && epoch.trust !== null && !epoch.echoConfirmed) this.#book.distrust(epoch.prompt);
      this.#book.beCareful();
      this.#clearPredictions();
      from = 0;
    } else {
      this.#killFrom(from);
    }
    this.#requeueFrom(from);
  }

  /**
   * The keys applied in epoch `from` and later lost their predictions: the newest frame shows
   * those up to #reflected; the others go back to the deferred queue, to be replayed in a new
   * epoch anchored on that frame.
   */
  #requeueFrom(from: number): void {
    const back: DeferredKey[] = [];
    const keep: AppliedKey[] = [];
    for (const k of this.#applied) {
      if (k.epochId < from) keep.push(k);
      else if (k.seq > this.#reflected) back.push({ action: k.action, seq: k.seq });
    }
    this.#applied = keep;
    this.#blind = true;
    this.#epoch = null;
    this.#enterMark = null;
    this.#freshExpected = false;
    if (this.#unloggedUpTo > this.#reflected) {
      // Some lost keys cannot be replayed: wait until the server shows all typed so far.
      this.#deferred = [];
      this.#sinceBlind = [];
      if (this.#lastSeq > this.#blindUntil) this.#blindUntil = this.#lastSeq;
    } else {
      this.#deferred = back.concat(this.#deferred);
    }
    this.#sinceBlind = this.#deferred.slice();
  }

  /** Removes the predictions of epoch `id` and every later one. */
  #killFrom(id: number): void {
    for (let y = 0; y < this.#rows; y++) {
      const preds = this.#cells[y];
      if (!preds) continue;
      for (let x = 0; x < this.#cols; x++) if (preds[x] && preds[x]!.epoch.id >= id) this.#remove(y, x);
    }
    this.#cursors = this.#cursors.filter((c) => c.epoch.id < id);
  }

  /** The echo shows the real rendition: give it to the guessed cells typed after this one. */
  #adoptStyle(y: number, x: number, fg: Color, bg: Color, attrs: number, epoch: Epoch): void {
    const preds = this.#cells[y]!;
    for (let i = x + 1; i < this.#cols; i++) {
      const p = preds[i];
      if (!p || p.epoch !== epoch || !p.styleGuessed) continue;
      p.fg = fg;
      p.bg = bg;
      p.attrs = attrs;
      p.styleGuessed = false;
    }
  }

  // ---- the predicted screen ----

  #cursorNow(): { x: number; y: number } {
    const last = this.#cursors[this.#cursors.length - 1];
    if (last !== undefined) return { x: last.x, y: last.y };
    if (this.#replayBase !== null) return { x: this.#replayBase.x, y: this.#replayBase.y };
    const c = this.#frame!.cursor;
    return { x: c.x, y: c.y };
  }

  /** The predicted content of a cell; null when unknown. */
  #read(y: number, x: number): CellValue | null {
    const p = this.#cells[y]?.[x];
    if (p) return p.text === null ? null : (p as CellValue);
    const base = this.#replayBase;
    if (base !== null && y === base.y && x >= base.x) return BLANK_CELL;
    const row = this.#frame!.lines[y]!;
    return { text: row.text[x]!, width: row.width[x]!, fg: row.fg[x]!, bg: row.bg[x]!, attrs: row.attrs[x]!, typed: false };
  }

  /** Nothing from x to the end of the row: blanks only, and none of them typed spaces. */
  #tailBlank(y: number, x: number): boolean {
    // Per keystroke: read the cells in place rather than through #read.
    const preds = this.#cells[y];
    const row = this.#frame!.lines[y]!;
    const base = this.#replayBase;
    const virtualFrom = base !== null && base.y === y ? base.x : this.#cols;
    for (let i = x; i < this.#cols; i++) {
      const p = preds?.[i];
      if (p) {
        if (p.text !== BLANK || p.typed) return false;
      } else if (i < virtualFrom && row.text[i] !== BLANK) {
        return false;
      }
    }
    return true;
  }

  /**
   * The rendition of a newly typed character: that of the character before it on the line; at
   * the start of the input (after a prompt, whose colours rarely carry over) the plain default.
   */
  #styleFor(y: number, x: number, epoch: Epoch): { fg: Color; bg: Color; attrs: number } {
    const atStart = (y === epoch.inputY && x <= epoch.inputX) || x === 0;
    const left = atStart ? null : this.#read(y, x - 1);
    if (left !== null) return { fg: left.fg, bg: left.bg, attrs: left.attrs };
    const here = this.#frame!.lines[y]!;
    return { fg: DEFAULT_COLOR, bg: here.bg[x]!, attrs: 0 };
  }

  #predictedRowText(y: number): string {
    let s = '';
    for (let x = 0; x < this.#cols; x++) {
      const c = this.#read(y, x);
      s += c === null ? this.#frame!.lines[y]!.text[x]! : c.text;
    }
    return s;
  }

  #setCell(y: number, x: number, value: CellValue | null, seq: number, epoch: Epoch, styleGuessed: boolean): void {
    let preds = this.#cells[y];
    if (!preds) {
      preds = new Array<CellPrediction | null>(this.#cols).fill(null);
      this.#cells[y] = preds;
    }
    const row = this.#frame!.lines[y]!;
    const credit = value !== null && value.text !== BLANK && !(row.text[x] === value.text && row.width[x] === value.width);
    if (preds[x] === null) this.#cellCount++;
    preds[x] =
      value === null
        ? { text: null, width: 1, fg: 0, bg: 0, attrs: 0, seq, epoch, credit: false, styleGuessed: false, typed: false }
        : { text: value.text, width: value.width, fg: value.fg, bg: value.bg, attrs: value.attrs, seq, epoch, credit, styleGuessed, typed: value.typed };
  }

  #remove(y: number, x: number): void {
    const preds = this.#cells[y];
    if (preds && preds[x] !== null) {
      preds[x] = null;
      this.#cellCount--;
    }
  }

  #pushCursor(x: number, y: number, seq: number, epoch: Epoch): void {
    const last = this.#cursors[this.#cursors.length - 1];
    // One read can hold several keys; only where it leaves the cursor is judged.
    if (last !== undefined && last.seq === seq && last.epoch === epoch) this.#cursors.pop();
    this.#cursors.push({ x, y, seq, epoch });
  }

  #anyShown(): boolean {
    for (const c of this.#cursors) if (c.epoch.confirmed) return true;
    if (this.#cellCount === 0) return false;
    for (const preds of this.#cells) {
      if (!preds) continue;
      for (const p of preds) if (p && p.text !== null && p.epoch.confirmed) return true;
    }
    return false;
  }

  #clearPredictions(): void {
    this.#cells = new Array(this.#rows).fill(null);
    this.#cellCount = 0;
    this.#cursors = [];
  }

  #resizeStore(cols: number, rows: number): void {
    this.#cols = cols;
    this.#rows = rows;
    this.#clearPredictions();
  }

  /** The current frame shows the effect of every key up to `seq`. */
  #noteReflected(seq: number): void {
    if (seq <= this.#reflected) return;
    this.#reflected = seq;
    this.#dropDeferredUpTo(seq);
    let n = 0;
    while (n < this.#applied.length && this.#applied[n]!.seq <= seq) n++;
    if (n > 0) this.#applied.splice(0, n);
  }

  // ---- echo timing (glitch detection) ----

  #noteAcked(): void {
    const now = this.#clock();
    while (this.#waitHead < this.#waitSeq.length && this.#waitSeq[this.#waitHead]! <= this.#echoAck) {
      this.#policy.noteEchoed(now - this.#waitAt[this.#waitHead]!, now);
      this.#waitHead++;
    }
    if (this.#waitHead > 256) {
      this.#waitSeq.splice(0, this.#waitHead);
      this.#waitAt.splice(0, this.#waitHead);
      this.#waitHead = 0;
    }
  }

  #noteWaiting(): void {
    if (this.#waitHead < this.#waitSeq.length) this.#policy.noteWaiting(this.#clock() - this.#waitAt[this.#waitHead]!);
  }
}

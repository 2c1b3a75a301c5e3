/**
 * Per-keystroke timing of typing at a shell prompt: when each key's effect first showed on the
 * user's screen (local display, predicted or echoed), when a server state showing it reached the
 * client (the server's echo), and when the server's echo acknowledgement covering it reached the
 * client (the moment the client's prediction engine judges it; its underline goes then).
 *
 * The keys are printable characters, backspace (DEL) and Enter, typed on a line editor at a fixed
 * prompt, so the expected cursor row and column after each key follow from a one-line model. A
 * screen "shows key i" when its cursor row and column are those expected after key i or after a
 * later key (typing goes on; a screen may show several keys at once). Enter's own effect is the
 * command's output, which no client can predict, so Enter is not judged itself; after it the model
 * starts a fresh line at the prompt.
 *
 * Pure bookkeeping: callers feed it screens (ScreenTimeline) and received states (FrameTap).
 */

export const BACKSPACE = '\x7f';
export const ENTER = '\r';

export interface LineState {
  /** The cursor row's text, trailing blanks removed. */
  readonly row: string;
  readonly x: number;
}

export interface TrackedKey {
  /** 1-based position among the tracked keys; also its offset in the client's input stream. */
  readonly index: number;
  readonly key: string;
  readonly typedAt: number;
  /** The cursor row and column once the key has taken effect. */
  readonly expected: LineState;
  /** False for Enter: its effect is the command's output, not judged here. */
  readonly judged: boolean;
  /** Infinity until it happens. */
  displayedAt: number;
  echoedAt: number;
  ackedAt: number;
}

export class UntrackableKeyError extends Error {
  override readonly name = 'UntrackableKeyError';
}

export class KeystrokeTracker {
  readonly keys: TrackedKey[] = [];
  readonly #prompt: string;
  readonly #ackBase: number;
  readonly #maxLine: number;
  readonly #initial: LineState;
  #line = '';
  /** How many keys the user's screen / the received server screens are known to show (0: none). */
  #displayed = 0;
  #echoed = 0;
  #acked = 0;

  /**
   * `prompt`: the prompt's text as it appears before the input. `ackBase`: the client's input
   * events before the first tracked key (the echo ack that covers them all). `cols`: the screen
   * width; lines must not wrap.
   */
  constructor(prompt: string, ackBase: number, cols: number) {
    this.#prompt = prompt;
    this.#ackBase = ackBase;
    this.#maxLine = cols - prompt.length - 1;
    this.#initial = this.#state();
  }

  /** The text typed on the current line so far (after the prompt). */
  get line(): string {
    return this.#line;
  }

  /** Records a key typed at `at`; call it right before writing the key to the client. */
  type(key: string, at: number): TrackedKey {
    let judged = true;
    if (key === ENTER) {
      this.#line = '';
      judged = false;
    } else if (key === BACKSPACE) {
      this.#line = this.#line.slice(0, -1);
    } else if (key.length === 1 && key >= ' ' && key <= '~') {
      if (this.#line.length >= this.#maxLine) throw new UntrackableKeyError(`the line would wrap at ${JSON.stringify(this.#line + key)}`);
      this.#line += key;
    } else {
      throw new UntrackableKeyError(`cannot track the key ${JSON.stringify(key)}: printable ASCII, DEL and CR only`);
    }
    const tracked: TrackedKey = {
      index: this.keys.length + 1,
      key,
      typedAt: at,
      expected: this.#state(),
      judged,
      displayedAt: Infinity,
      echoedAt: Infinity,
      ackedAt: Infinity,
    };
    this.keys.push(tracked);
    return tracked;
  }

  /** The user's screen at `at` has this cursor row and column. */
  screen(at: number, row: string, x: number): void {
    this.#displayed = this.#advance(this.#displayed, at, row, x, 'displayedAt');
  }

  /** A server state reached the client at `at` with this cursor row and column and echo ack. */
  received(at: number, row: string, x: number, echoAck: number): void {
    // The echo ack proves the application has had those keys (for 50 ms): their echo is in.
    const acked = Math.min(this.keys.length, Math.max(this.#acked, echoAck - this.#ackBase));
    for (let i = this.#acked; i < acked; i++) this.keys[i]!.ackedAt = at;
    this.#acked = acked;
    let echoed = this.#echoed;
    for (; echoed < acked; echoed++) if (this.keys[echoed]!.echoedAt === Infinity) this.keys[echoed]!.echoedAt = at;
    this.#echoed = this.#advance(echoed, at, row, x, 'echoedAt');
  }

  /** Every key's effect has been displayed, echoed and acknowledged. */
  get settled(): boolean {
    const n = this.keys.length;
    return this.#displayed === n && this.#echoed === n && this.#acked === n;
  }

  #state(): LineState {
    return { row: (this.#prompt + this.#line).trimEnd(), x: this.#prompt.length + this.#line.length };
  }

  /** The expected state after `n` keys (0: before any). */
  #after(n: number): LineState {
    return n === 0 ? this.#initial : this.keys[n - 1]!.expected;
  }

  /**
   * A screen (row, x) seen at `at`, by a viewer known to show `shown` keys already: it shows the
   * keys up to the first n ≥ shown, typed by `at`, whose expected state it is. Typing with typos
   * repeats states ("ab", "abx", backspace: "ab" again), so the earliest such n is taken: a screen
   * never counts for a key it might not reflect, at worst it counts one frame late. Sets `field`
   * of the keys it newly shows and returns the new count.
   */
  #advance(shown: number, at: number, row: string, x: number, field: 'displayedAt' | 'echoedAt'): number {
    for (let n = shown; n <= this.keys.length; n++) {
      if (n > 0 && this.keys[n - 1]!.typedAt > at) break;
      const s = this.#after(n);
      if (s.row !== row || s.x !== x) continue;
      for (let i = shown; i < n; i++) if (this.keys[i]![field] === Infinity) this.keys[i]![field] = at;
      return n;
    }
    return shown;
  }
}

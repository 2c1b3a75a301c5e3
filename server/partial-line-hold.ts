/**
 * Whether a screen whose bottom line is half written waits before it is published.
 *
 * Under `yes` or `seq` most slices of output end inside a line, so a screen caught then differs
 * from the next one only by that half line; publishing it would cost a frame for nothing (and two:
 * the next screen undoes it). Such a screen waits until the output has been quiet for the hold time
 * (the session also releases it early with an echo ack, which answers the user's key).
 *
 * Two kinds of output ending inside a line are not half of anything and are never held:
 * - output after a pause (an echoed key, a prompt): nothing else is coming;
 * - output that only rewrites the line it is on, with no line feed (a progress counter, ninja's or
 *   curl's status line): its bottom line is always "half written", so holding it until the output
 *   pauses would freeze the screen for as long as the counter runs.
 *
 * A screen the application itself says is half drawn (it turned synchronized output, DEC mode
 * 2026, on and not yet off) waits the same way, pause or no pause: editors and multiplexers wrap
 * each redraw in it so that no terminal shows a torn frame. An echo ack does not release it (the
 * frame that answers the key is still being drawn); if the application never turns the mode off,
 * the screen still goes once the output has been quiet for the hold time.
 *
 * Pure logic: the session passes the clock's time and the emulator's counters.
 */
import type { Millis } from '../protocol/clock.js';

/** What the emulator has parsed so far (all counts only grow). */
export interface ParsedOutput {
  /** PTY reads parsed. */
  readonly parsedWrites: number;
  /** Grows whenever parsed output contained a line feed. */
  readonly outputsWithLineFeed: number;
  /** Output written to the emulator and not yet parsed. */
  readonly pendingBytes: number;
  /** The last read parsed did not end with a line feed. */
  readonly endsMidLine: boolean;
  /** Synchronized output is on: the application is midway through drawing a frame. */
  readonly synchronizedOutput: boolean;
}

export class PartialLineHold {
  #lastParsedAt: Millis = -Infinity;
  #parsedWrites = 0;
  #outputsWithLineFeed = 0;
  #held = false;
  /** Held because the application is midway through a frame (not only for a half line). */
  #midFrame = false;

  /** A half-written screen is waiting. */
  get held(): boolean {
    return this.#held;
  }

  /**
   * A slice of output has just been parsed: returns whether its screen waits. `holdMs` is how long
   * the output must pause before a half line counts as finished.
   */
  parsed(now: Millis, output: ParsedOutput, holdMs: Millis): boolean {
    const reads = output.parsedWrites - this.#parsedWrites;
    const fedLines = output.outputsWithLineFeed !== this.#outputsWithLineFeed;
    const streaming = output.pendingBytes > 0 || reads > 1 || now - this.#lastParsedAt < holdMs;
    this.#parsedWrites = output.parsedWrites;
    this.#outputsWithLineFeed = output.outputsWithLineFeed;
    this.#lastParsedAt = now;
    this.#midFrame = output.synchronizedOutput;
    this.#held = (output.endsMidLine && fedLines && streaming) || this.#midFrame;
    return this.#held;
  }

  /** The output has paused for `holdMs`: a held screen may go. */
  quiet(now: Millis, holdMs: Millis): boolean {
    return now - this.#lastParsedAt >= holdMs;
  }

  /** How long until the output has paused for `holdMs` (Infinity when nothing is held). */
  waitTime(now: Millis, holdMs: Millis): Millis {
    return this.#held ? Math.max(0, this.#lastParsedAt + holdMs - now) : Infinity;
  }

  /** The held screen goes now: the output paused. */
  release(): void {
    this.#held = false;
    this.#midFrame = false;
  }

  /**
   * An echo ack is leaving: a held half line goes with it (it is the application's answer, a prompt
   * after Ctrl-C or an echo amid output), a frame still being drawn does not. True if it went.
   */
  releaseForEcho(): boolean {
    if (!this.#held || this.#midFrame) return false;
    this.#held = false;
    return true;
  }
}

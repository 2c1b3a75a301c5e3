/**
 * Notices that the client has just woken up: the laptop slept, or the process was stopped
 * (SIGSTOP, Ctrl-Z) and continued. Either way the network may have changed under us, so the
 * client should send at once and move to a fresh source port rather than wait for its timers.
 *
 * Two signs, checked on a regular tick:
 * - the event loop did not run for far longer than the tick interval (the process was stopped,
 *   or the machine slept and the monotonic clock kept counting);
 * - the wall clock moved far more than the monotonic clock (on Linux CLOCK_MONOTONIC stops during
 *   suspend, while the wall clock does not).
 */
import type { Millis } from '../protocol/clock.js';

export const DEFAULT_WAKE_THRESHOLD_MS = 3000;

export class WakeDetector {
  readonly #thresholdMs: Millis;
  #lastMono: Millis;
  #lastWall: Millis;

  constructor(mono: Millis, wall: Millis, thresholdMs: Millis = DEFAULT_WAKE_THRESHOLD_MS) {
    this.#thresholdMs = thresholdMs;
    this.#lastMono = mono;
    this.#lastWall = wall;
  }

  /**
   * Call on every tick with both clocks. Returns true when the gap since the previous call
   * means we were asleep or stopped. `expectedGapMs` is the tick interval.
   */
  check(mono: Millis, wall: Millis, expectedGapMs: Millis): boolean {
    const monoGap = mono - this.#lastMono;
    const wallGap = wall - this.#lastWall;
    this.#lastMono = mono;
    this.#lastWall = wall;
    const stalled = monoGap - expectedGapMs > this.#thresholdMs;
    const slept = wallGap - monoGap > this.#thresholdMs;
    return stalled || slept;
  }
}

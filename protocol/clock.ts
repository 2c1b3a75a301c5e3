/**
 * Time and randomness are injected everywhere in protocol/ so that pure logic can be driven by a
 * fake clock in tests and by the real one in production.
 */

/** Milliseconds on a monotonic clock. Only differences between two readings mean anything. */
export type Millis = number;

/** Returns the current time in milliseconds on a monotonic clock. */
export type Clock = () => Millis;

/** Fills and returns `length` random bytes. Production uses libsodium's CSPRNG. */
export type RandomBytes = (length: number) => Uint8Array;

/** The real monotonic clock. */
export const systemClock: Clock = () => performance.now();

/** A clock that only moves when told to; for tests and simulations. */
export class FakeClock {
  #now: Millis;

  constructor(start: Millis = 0) {
    this.#now = start;
  }

  readonly now: Clock = () => this.#now;

  advance(ms: Millis): void {
    if (ms < 0) throw new RangeError('a clock cannot go backwards');
    this.#now += ms;
  }

  set(ms: Millis): void {
    if (ms < this.#now) throw new RangeError('a clock cannot go backwards');
    this.#now = ms;
  }
}

/** The longest a session loop sleeps in one go; it recomputes what is due when it wakes anyway. */
export const MAX_TIMER_DELAY_MS = 60_000;

/**
 * The delay to give Node's setTimeout so that it fires no earlier than `wait` ms from now.
 * Node counts timers from libuv's loop time, which is whole milliseconds read when the loop last
 * woke, so a timer set with the exact wait fires up to a millisecond (more after a long callback)
 * early; the loop then finds nothing due and sleeps again for the sub-millisecond rest: two
 * wake-ups, each with cold caches, per deadline (measured: one extra per keystroke on the server,
 * for its echo ack). Rounding up and adding the millisecond makes it one wake-up, at most ~2 ms
 * late, unless the callback that armed it had already run for over a millisecond.
 */
export function timerDelay(wait: Millis): number {
  if (!(wait > 0)) return 1;
  return Math.min(Math.ceil(wait) + 1, MAX_TIMER_DELAY_MS);
}

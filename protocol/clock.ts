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

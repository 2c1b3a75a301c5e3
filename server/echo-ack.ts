/**
 * The server's echo acknowledgement (Mosh's echo_ack, mosh.md §3.5): the newest input the
 * application has had for at least a short while. The client judges a predicted character against
 * a screen only once that screen's echo ack covers it; by then an application that echoes has had
 * time to do so, and a missing echo means a wrong prediction rather than a slow one.
 *
 * Counts are UserStream event indexes: `ack` = n means events 0..n-1 were delivered long enough ago.
 */
import type { Millis } from '../protocol/clock.js';

/** Mosh's ECHO_TIMEOUT. */
export const ECHO_DELAY_MS: Millis = 50;

export class EchoAckTracker {
  readonly #delayMs: Millis;
  /** (events delivered so far, when) pairs not yet old enough, oldest first. */
  readonly #pending: { count: number; at: Millis }[] = [];
  #acked = 0;

  constructor(delayMs: Millis = ECHO_DELAY_MS) {
    this.#delayMs = delayMs;
  }

  /** The application has now had the first `count` events. */
  delivered(count: number, now: Millis): void {
    const last = this.#pending[this.#pending.length - 1];
    if (last !== undefined && last.at === now) last.count = Math.max(last.count, count);
    else this.#pending.push({ count, at: now });
  }

  /** The echo ack to publish at `now`. */
  ack(now: Millis): number {
    const pending = this.#pending;
    let i = 0;
    while (i < pending.length && now - pending[i]!.at >= this.#delayMs) {
      this.#acked = Math.max(this.#acked, pending[i]!.count);
      i++;
    }
    if (i > 0) pending.splice(0, i);
    return this.#acked;
  }

  /** Milliseconds until the ack will next change, or Infinity. */
  waitTime(now: Millis): Millis {
    const first = this.#pending[0];
    return first === undefined ? Infinity : Math.max(0, first.at + this.#delayMs - now);
  }
}

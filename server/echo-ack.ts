/**
 * The server's echo acknowledgement (Mosh's echo_ack, mosh.md §3.5): the newest input the
 * application has had for at least a short while. The client judges a predicted character against
 * a screen only once that screen's echo ack covers it; by then an application that echoes has had
 * time to do so, and a missing echo means a wrong prediction rather than a slow one.
 *
 * One improvement on Mosh: input that the application has answered (it wrote output after the
 * input reached it) and that has then been quiet for `quietMs` is acknowledged at once rather than
 * after the full delay. A shell echoes a key in one write, so its echo and the ack that confirms it
 * can leave in one frame (half the datagrams per keystroke on a slow link). An application that
 * answers in several writes further apart than `quietMs` at worst has a prediction judged early:
 * the client removes it and waits for the echo, as it does for any wrong guess.
 *
 * Counts are UserStream event indexes: `ack` = n means events 0..n-1 were delivered long enough ago.
 */
import type { Millis } from '../protocol/clock.js';

/** Mosh's ECHO_TIMEOUT. */
export const ECHO_DELAY_MS: Millis = 50;
/** Answered input is acknowledged once the application has written nothing for this long. */
export const ECHO_QUIET_MS: Millis = 4;

interface Delivery {
  count: number;
  readonly at: Millis;
}

export class EchoAckTracker {
  readonly #delayMs: Millis;
  readonly #quietMs: Millis;
  /** (events delivered so far, when) pairs not yet acknowledged, oldest first. */
  readonly #pending: Delivery[] = [];
  /** How many of #pending (a prefix) the application has written output after. */
  #answered = 0;
  #lastOutput: Millis = -Infinity;
  #acked = 0;

  constructor(delayMs: Millis = ECHO_DELAY_MS, quietMs: Millis = ECHO_QUIET_MS) {
    this.#delayMs = delayMs;
    this.#quietMs = quietMs;
  }

  /** The application has now had the first `count` events. */
  delivered(count: number, now: Millis): void {
    const pending = this.#pending;
    const last = pending[pending.length - 1];
    // Merging into an answered entry would let the new input ride on an answer to older input.
    if (last !== undefined && last.at === now && this.#answered < pending.length) last.count = Math.max(last.count, count);
    else pending.push({ count, at: now });
  }

  /** The application's output up to `now` is on the emulator's screen: it answers everything delivered so far. */
  output(now: Millis): void {
    this.#answered = this.#pending.length;
    this.#lastOutput = now;
  }

  /** The echo ack to publish at `now`. */
  ack(now: Millis): number {
    const pending = this.#pending;
    let done = now - this.#lastOutput >= this.#quietMs ? this.#answered : 0;
    while (done < pending.length && now - pending[done]!.at >= this.#delayMs) done++;
    if (done > 0) {
      this.#acked = Math.max(this.#acked, pending[done - 1]!.count);
      pending.splice(0, done);
      this.#answered = Math.max(0, this.#answered - done);
    }
    return this.#acked;
  }

  /** Milliseconds until the ack will next change, or Infinity. */
  waitTime(now: Millis): Millis {
    const first = this.#pending[0];
    if (first === undefined) return Infinity;
    const byDelay = first.at + this.#delayMs;
    const byQuiet = this.#answered > 0 ? this.#lastOutput + this.#quietMs : Infinity;
    return Math.max(0, Math.min(byDelay, byQuiet) - now);
  }
}

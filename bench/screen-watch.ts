/**
 * When did the user's screen first show something? For latency figures, polling the screen is too
 * coarse (and a headless xterm parses a chunk ~1 ms after it arrives), so this stamps every chunk of
 * the client's output as it arrives and, once the chunk is parsed, checks the condition: the
 * answer is the arrival time of the first chunk after which the screen satisfies it.
 */
import type { ClientProcess } from '../test/support/live-session.js';

export class ScreenWaitTimeoutError extends Error {
  override readonly name = 'ScreenWaitTimeoutError';
}

interface Waiter {
  readonly armedAt: number;
  readonly check: () => boolean;
  readonly resolve: (arrivedAt: number) => void;
}

export class ScreenWatch {
  readonly #client: ClientProcess;
  #waiter: Waiter | null = null;
  readonly #subscription: { dispose(): void };

  constructor(client: ClientProcess) {
    this.#client = client;
    // Registered after ClientProcess's own listener, so the empty write below queues behind the
    // chunk's own write: its callback runs once that chunk is on the screen.
    this.#subscription = client.pty.onData(() => {
      const arrivedAt = performance.now();
      if (this.#waiter === null) return;
      client.screen.write('', () => this.#test(arrivedAt));
    });
  }

  /** The user's screen as text rows, trailing blanks removed. */
  lines(): string[] {
    return this.#client.lines();
  }

  /** The text of the row the cursor is on. */
  cursorLine(): string {
    return this.#client.lines()[this.#client.cursor().y] ?? '';
  }

  /**
   * Resolves with the `performance.now()` at which the output that made `check` true arrived.
   * Arm it before causing the change; `check` must be false when armed (it is tested on arrivals only).
   */
  until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<number> {
    if (this.#waiter !== null) throw new Error('ScreenWatch waits for one thing at a time');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = null;
        const shown = this.#client.text();
        reject(new ScreenWaitTimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}; the screen shows:\n${shown}`));
      }, timeoutMs);
      this.#waiter = {
        armedAt: performance.now(),
        check,
        resolve: (arrivedAt) => {
          clearTimeout(timer);
          this.#waiter = null;
          resolve(arrivedAt);
        },
      };
    });
  }

  dispose(): void {
    this.#subscription.dispose();
    this.#waiter = null;
  }

  #test(arrivedAt: number): void {
    const waiter = this.#waiter;
    // A chunk that arrived before the wait was armed cannot be the answer to what was done after.
    if (waiter !== null && waiter.check()) waiter.resolve(Math.max(arrivedAt, waiter.armedAt));
  }
}

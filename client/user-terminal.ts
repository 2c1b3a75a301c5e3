/**
 * The user's real terminal: raw mode in, escape sequences out, and a restore that runs on every
 * way out of the program (normal exit, a signal, an uncaught error), exactly once.
 */
import type { ReadStream, WriteStream } from 'node:tty';

export class NotATerminalError extends Error {
  override readonly name = 'NotATerminalError';
}

export interface TerminalSize {
  readonly cols: number;
  readonly rows: number;
}

export class UserTerminal {
  readonly #input: ReadStream;
  readonly #output: WriteStream;
  /** Makes what `restore` writes; asked only then, since it depends on what is on screen at that moment. */
  #restoreSequence: (() => string) | null = null;
  #raw = false;

  constructor(input: ReadStream = process.stdin as ReadStream, output: WriteStream = process.stdout as WriteStream) {
    if (!input.isTTY || !output.isTTY) {
      throw new NotATerminalError('tsmosh needs a terminal: run it from an interactive terminal, not with redirected input or output.');
    }
    this.#input = input;
    this.#output = output;
  }

  size(): TerminalSize {
    const cols = this.#output.columns || 80;
    const rows = this.#output.rows || 24;
    return { cols, rows };
  }

  /** Takes over the terminal: raw mode, then `enterSequence`; what `restoreSequence()` returns undoes it. */
  enter(enterSequence: string, restoreSequence: () => string): void {
    this.#restoreSequence = restoreSequence;
    this.#input.setRawMode(true);
    this.#raw = true;
    this.#input.resume();
    this.write(enterSequence);
  }

  write(data: string): void {
    if (data.length === 0) return;
    try {
      this.#output.write(data);
    } catch {
      // The terminal went away (EIO, EPIPE): nothing sensible left to draw on.
    }
  }

  onInput(listener: (data: Uint8Array) => void): void {
    this.#input.on('data', (chunk: Buffer | string) => listener(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
  }

  onResize(listener: (size: TerminalSize) => void): void {
    this.#output.on('resize', () => listener(this.size()));
  }

  /** Gives the terminal back as it was. Safe to call any number of times, from any exit path. */
  restore(): void {
    const make = this.#restoreSequence;
    this.#restoreSequence = null;
    let seq: string | null = null;
    if (make !== null) {
      try {
        seq = make();
      } catch {
        // Even on a broken path: leave the alternate screen, show the cursor, reset attributes.
        seq = '\x1b[m\x1b[?25h\x1b[?1049l';
      }
    }
    if (seq !== null) {
      try {
        // Synchronous, so it lands even when the process is about to exit.
        this.#output.write(seq);
      } catch {
        // Nothing to restore onto.
      }
    }
    if (this.#raw) {
      this.#raw = false;
      try {
        this.#input.setRawMode(false);
      } catch {
        // The tty is gone.
      }
    }
    this.#input.pause();
  }

  /** Hands the terminal back for a suspend (Ctrl-^ Ctrl-Z) and takes it again on SIGCONT. */
  suspend(enterSequence: string, restoreSequence: () => string, message: string): void {
    this.restore();
    this.write(message);
    process.once('SIGCONT', () => this.enter(enterSequence, restoreSequence));
    process.kill(0, 'SIGSTOP');
  }
}

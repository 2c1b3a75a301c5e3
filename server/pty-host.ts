/**
 * The user's shell (or command) in a pseudo-terminal. A thin layer over node-pty so that the
 * session loop sees bytes in, bytes out, a resize and an exit, and nothing of node-pty's API.
 */
import * as pty from 'node-pty';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface ShellExit {
  /** The exit status a shell would report: the code, or 128 + signal number when killed. */
  readonly status: number;
  readonly signal: number;
}

export interface PtyHostOptions {
  /** Program to run; by default the user's login shell. */
  readonly command?: string;
  readonly args?: readonly string[];
  readonly cols: number;
  readonly rows: number;
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

/** The user's shell: $SHELL, else the passwd entry, else /bin/sh (as Mosh does). */
export function loginShell(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const fromEnv = env['SHELL'];
  if (fromEnv) return fromEnv;
  try {
    const shell = os.userInfo().shell;
    if (shell) return shell;
  } catch {
    // No passwd entry (e.g. an arbitrary uid in a container).
  }
  return '/bin/sh';
}

/** First and longest wait before retrying input the PTY refused because it was full. */
const RETRY_FIRST_MS = 1;
const RETRY_MAX_MS = 16;

export class PtyHost {
  readonly #pty: pty.IPty;
  /** The PTY master, when node-pty exposes it (it does on Unix; not part of its typings). */
  readonly #fd: number | null;
  /** Input the PTY has not taken yet (it was full), oldest first; newer input queues behind it. */
  readonly #backlog: Buffer[] = [];
  #retry: NodeJS.Timeout | null = null;
  #retryMs = RETRY_FIRST_MS;
  #exited = false;

  private constructor(p: pty.IPty) {
    this.#pty = p;
    const fd: unknown = (p as unknown as { readonly fd?: unknown }).fd;
    this.#fd = typeof fd === 'number' && Number.isInteger(fd) && fd >= 0 ? fd : null;
    p.onExit(() => {
      this.#exited = true;
      this.#backlog.length = 0;
      if (this.#retry !== null) clearTimeout(this.#retry);
      this.#retry = null;
    });
  }

  /**
   * Starts the command. With no command, starts the login shell as a login shell (`-l`, which
   * bash, zsh, dash, ksh and fish all accept) in the user's home directory.
   */
  static start(options: PtyHostOptions): PtyHost {
    const command = options.command ?? loginShell(options.env);
    const args = options.command === undefined ? ['-l'] : [...(options.args ?? [])];
    const cwd = options.cwd ?? (options.env['HOME'] || os.homedir());
    const p = pty.spawn(command, args, {
      name: options.env['TERM'] ?? 'xterm-256color',
      cols: options.cols,
      rows: options.rows,
      cwd: path.resolve(cwd),
      env: { ...options.env },
      // Raw bytes: faster than strings, and the emulator takes Uint8Array directly.
      encoding: null,
    });
    return new PtyHost(p);
  }

  get pid(): number {
    return this.#pty.pid;
  }

  get exited(): boolean {
    return this.#exited;
  }

  onData(listener: (data: Uint8Array) => void): void {
    this.#pty.onData((data: string | Buffer) => {
      listener(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    });
  }

  onExit(listener: (exit: ShellExit) => void): void {
    this.#pty.onExit(({ exitCode, signal }) => {
      const sig = signal ?? 0;
      listener({ status: sig > 0 ? 128 + sig : exitCode, signal: sig });
    });
  }

  /**
   * Input for the program, written at once. node-pty's own write goes through libuv's thread pool
   * (fs.write), two thread hand-offs that cost a keystroke ~0.1 ms on its way to the echo; the
   * master is non-blocking, so a direct write cannot stall the loop. What a full PTY refuses
   * waits in order and is retried with a short backoff.
   */
  write(data: Uint8Array | string): void {
    if (this.#exited) return;
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (bytes.length === 0) return;
    if (this.#fd === null) {
      this.#pty.write(bytes);
      return;
    }
    this.#backlog.push(bytes);
    if (this.#backlog.length === 1) this.#drain();
  }

  /** Writes the backlog until it is empty or the PTY is full (then retries later). */
  #drain(): void {
    const backlog = this.#backlog;
    while (backlog.length > 0 && !this.#exited) {
      const head = backlog[0]!;
      let written: number;
      try {
        written = fs.writeSync(this.#fd!, head);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') written = 0;
        else {
          // EIO/EBADF: the program is gone or going; its exit is reported separately.
          backlog.length = 0;
          return;
        }
      }
      if (written === head.length) {
        backlog.shift();
        this.#retryMs = RETRY_FIRST_MS;
        continue;
      }
      if (written > 0) {
        backlog[0] = head.subarray(written);
        this.#retryMs = RETRY_FIRST_MS;
      }
      if (this.#retry === null) {
        this.#retry = setTimeout(() => {
          this.#retry = null;
          this.#drain();
        }, this.#retryMs);
        this.#retryMs = Math.min(RETRY_MAX_MS, this.#retryMs * 2);
      }
      return;
    }
  }

  /** Bytes of input the PTY has not taken yet. */
  get backlogBytes(): number {
    let total = 0;
    for (const b of this.#backlog) total += b.length;
    return total;
  }

  resize(cols: number, rows: number): void {
    if (this.#exited) return;
    this.#pty.resize(cols, rows);
  }

  /** Stops delivery of output (backpressure reaches the program), e.g. while the emulator catches up. */
  pause(): void {
    this.#pty.pause();
  }

  resume(): void {
    this.#pty.resume();
  }

  /** Ends the program and everything in its session: SIGHUP first, as a closing terminal would. */
  kill(signal: NodeJS.Signals = 'SIGHUP'): void {
    if (this.#exited) return;
    try {
      // The child is a session leader (forkpty); signalling the negative pid reaches its whole process group.
      process.kill(-this.#pty.pid, signal);
    } catch {
      try {
        this.#pty.kill(signal);
      } catch {
        // Already gone.
      }
    }
  }
}

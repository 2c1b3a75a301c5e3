/**
 * The user's shell (or command) in a pseudo-terminal. A thin layer over node-pty so that the
 * session loop sees bytes in, bytes out, a resize and an exit, and nothing of node-pty's API.
 */
import * as pty from 'node-pty';
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

export class PtyHost {
  readonly #pty: pty.IPty;
  #exited = false;

  private constructor(p: pty.IPty) {
    this.#pty = p;
    p.onExit(() => {
      this.#exited = true;
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

  write(data: Uint8Array | string): void {
    if (this.#exited) return;
    this.#pty.write(typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
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

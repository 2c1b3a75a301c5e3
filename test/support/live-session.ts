/**
 * Real parts for end-to-end tests: the built `tsmosh` client as its own process on a real PTY (whose
 * output a headless xterm interprets, standing for the user's terminal), and a server session with
 * a real PTY and real UDP, either in this process (so a test can read its screen and its notion of
 * the client's address) or as the real `tsmosh-server` daemon.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as pty from 'node-pty';
import xterm from '@xterm/headless';
import unicode11 from '@xterm/addon-unicode11';
import type { Framebuffer } from '../../protocol/framebuffer.js';
import { SessionKey, sodiumReady } from '../../protocol/session-key.js';
import { UdpConnection } from '../../protocol/udp-connection.js';
import { ServerSession, type ServerTimeouts } from '../../server/session.js';

const { Terminal } = xterm;
const { Unicode11Addon } = unicode11;
type HeadlessTerminal = InstanceType<typeof Terminal>;

/** The repository root, found from this file whether it runs from source or from dist/. */
export const REPO_ROOT = ((): string => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6 && !existsSync(path.join(dir, 'package.json')); i++) dir = path.dirname(dir);
  return dir;
})();
export const CLIENT_BIN = path.join(REPO_ROOT, 'dist/client/main.js');
export const SERVER_BIN = path.join(REPO_ROOT, 'dist/server/main.js');

/** Polls `check` every `intervalMs` until it returns true; fails with `what` after `timeoutMs`. */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000, intervalMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A shell whose prompt and behaviour do not depend on the machine's dotfiles. */
export function testShell(): { command: string; args: string[]; env: Record<string, string> } {
  const home = mkdtempSync(path.join(os.tmpdir(), 'tsmosh-home-'));
  return {
    command: '/bin/bash',
    args: ['--norc', '--noprofile', '-i'],
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: home,
      TERM: 'xterm-256color',
      PS1: '$ ',
      LANG: 'C.UTF-8',
      HISTFILE: '/dev/null',
    },
  };
}

/** Rows of a framebuffer as text, trailing blanks removed. */
export function framebufferLines(fb: Framebuffer): string[] {
  return fb.lines.map((row) => row.toString().replace(/\s+$/, ''));
}

export interface InProcessServer {
  readonly session: ServerSession;
  readonly udp: UdpConnection;
  readonly port: number;
  readonly key: string;
}

/** A server session with a real PTY and real UDP on 127.0.0.1, in this process. */
export async function startInProcessServer(options: {
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  timeouts?: Partial<ServerTimeouts>;
  bindAddress?: string;
} = {}): Promise<InProcessServer> {
  await sodiumReady();
  const key = SessionKey.generate();
  const udp = await UdpConnection.listen({ key, bindAddress: options.bindAddress ?? '127.0.0.1', portLow: 0, portHigh: 0 });
  const shell = testShell();
  const session = new ServerSession({
    udp,
    command: options.command ?? shell.command,
    args: options.args ?? shell.args,
    env: options.env ?? shell.env,
    ...(options.timeouts === undefined ? {} : { timeouts: options.timeouts }),
  });
  return { session, udp, port: udp.localPort!, key: key.toString() };
}

export interface ClientExit {
  readonly exitCode: number;
  readonly signal: number;
}

/** The built `tsmosh` client on a real PTY; `screen` is what the user would see. */
export class ClientProcess {
  readonly pty: pty.IPty;
  readonly screen: HeadlessTerminal;
  readonly exited: Promise<ClientExit>;
  /** Everything the client wrote to its terminal, as text (for checking the restore on exit). */
  output = '';
  #pendingWrites = 0;

  private constructor(p: pty.IPty, cols: number, rows: number) {
    this.pty = p;
    this.screen = new Terminal({ cols, rows, allowProposedApi: true, scrollback: 0 });
    this.screen.loadAddon(new Unicode11Addon());
    this.screen.unicode.activeVersion = '11';
    p.onData((data) => {
      this.output += data;
      this.#pendingWrites++;
      this.screen.write(data, () => this.#pendingWrites--);
    });
    this.exited = new Promise((resolve) => p.onExit(({ exitCode, signal }) => resolve({ exitCode, signal: signal ?? 0 })));
  }

  /** Runs `tsmosh` with `args`; `env` is added to a minimal environment. */
  static start(args: string[], env: Record<string, string> = {}, cols = 80, rows = 24): ClientProcess {
    return ClientProcess.spawn(process.execPath, [CLIENT_BIN, ...args], env, cols, rows);
  }

  /** Runs `file args` on the PTY instead of the client itself (say, a wrapper that runs the client); `env` as for `start`. */
  static spawn(file: string, args: string[], env: Record<string, string> = {}, cols = 80, rows = 24): ClientProcess {
    const p = pty.spawn(file, args, {
      name: 'xterm-256color',
      cols,
      rows,
      cwd: REPO_ROOT,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/root', TERM: 'xterm-256color', LANG: 'C.UTF-8', ...env },
    });
    return new ClientProcess(p, cols, rows);
  }

  /** `tsmosh --connect` to a server. */
  static connect(host: string, port: number, key: string, env: Record<string, string> = {}, cols = 80, rows = 24): ClientProcess {
    return ClientProcess.start(['--connect', host, String(port)], { TSMOSH_KEY: key, ...env }, cols, rows);
  }

  get pid(): number {
    return this.pty.pid;
  }

  type(text: string): void {
    this.pty.write(text);
  }

  /** Types one character at a time, `gapMs` apart, as a person would. */
  async typeSlowly(text: string, gapMs = 20): Promise<void> {
    for (const ch of text) {
      this.pty.write(ch);
      await new Promise((r) => setTimeout(r, gapMs));
    }
  }

  resize(cols: number, rows: number): void {
    this.screen.resize(cols, rows);
    this.pty.resize(cols, rows);
  }

  /** The user's screen as text rows, trailing blanks removed. */
  lines(): string[] {
    const buffer = this.screen.buffer.active;
    const out: string[] = [];
    for (let y = 0; y < this.screen.rows; y++) out.push((buffer.getLine(buffer.baseY + y)?.translateToString(true) ?? '').replace(/\s+$/, ''));
    return out;
  }

  text(): string {
    return this.lines().join('\n');
  }

  cursor(): { x: number; y: number } {
    const b = this.screen.buffer.active;
    return { x: Math.min(b.cursorX, this.screen.cols - 1), y: b.cursorY };
  }

  /** Waits until the user's screen (parsed up to date) satisfies `check`. */
  async waitForScreen(what: string, check: (text: string) => boolean, timeoutMs = 10_000): Promise<void> {
    try {
      await waitUntil(what, () => this.#pendingWrites === 0 && check(this.text()), timeoutMs);
    } catch (error) {
      throw new Error(`${(error as Error).message}; the screen shows:\n${this.text()}\n(client output tail: ${JSON.stringify(this.output.slice(-300))})`);
    }
  }

  /** Waits until the user's screen shows exactly the server's screen (text and cursor). */
  async waitForScreenToMatch(server: ServerSession, timeoutMs = 10_000): Promise<void> {
    let last = '';
    try {
      await waitUntil(
        "the client's screen to equal the server's",
        async () => {
          await server.settle();
          const fb = server.screen();
          if (fb === null || this.#pendingWrites !== 0) return false;
          const want = framebufferLines(fb).join('\n');
          const got = this.text();
          const cursor = this.cursor();
          last = `server:\n${want}\n(cursor ${fb.cursor.x},${fb.cursor.y})\nclient:\n${got}\n(cursor ${cursor.x},${cursor.y})`;
          return want === got && cursor.x === fb.cursor.x && cursor.y === fb.cursor.y;
        },
        timeoutMs,
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${last}`);
    }
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    try {
      process.kill(this.pty.pid, signal);
    } catch {
      // Already gone.
    }
  }

  dispose(): void {
    this.kill('SIGKILL');
    this.screen.dispose();
  }
}

/** Is a process alive? */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The real `tsmosh-server new …` as the client's bootstrap would run it; resolves with its connect line and daemon pid. */
export function startServerProcess(args: string[], env: Record<string, string> = {}): Promise<{ port: number; key: string; pid: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SERVER_BIN, 'new', ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => {
      const connect = /TSMOSH CONNECT (\d+) (\S+)/.exec(out);
      const detached = /\[tsmosh-server detached, pid = (\d+)\]/.exec(err);
      if (code !== 0 || connect === null || detached === null) {
        reject(new Error(`tsmosh-server failed (status ${code}): ${out} ${err}`));
        return;
      }
      resolve({ port: Number(connect[1]), key: connect[2]!, pid: Number(detached[1]) });
    });
  });
}

/** Child processes of `pid` (from /proc), e.g. the shell a server started. */
export function childrenOf(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8');
    return text.trim() === '' ? [] : text.trim().split(/\s+/).map(Number);
  } catch {
    return [];
  }
}

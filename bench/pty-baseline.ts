/**
 * The same work without tsmosh, to judge the end-to-end figures by: `seq 1 N` read from a bare PTY
 * by node-pty (and also parsed by a headless xterm, as the server's emulator parses it), and bash's
 * echo of a keystroke on a bare PTY. The gap above these is what the session itself adds.
 */
import * as pty from 'node-pty';
import xterm from '@xterm/headless';

const { Terminal } = xterm;

export class BaselineTimeoutError extends Error {
  override readonly name = 'BaselineTimeoutError';
}

/** How long the shell gets to start and block in `read` before the clock starts. */
const SHELL_START_MS = 300;

/**
 * Milliseconds from releasing `seq 1 count` (it waits on a `read`, so shell start-up is not timed)
 * until its last line has been read (`parse` false) or read and parsed at 80x24 with no scrollback.
 */
export async function seqThroughBarePty(count: number, parse: boolean, timeoutMs = 60_000): Promise<number> {
  // The trailing sleep keeps the PTY open: node-pty may drop the tail of a process that exits at once.
  const child = pty.spawn('/bin/sh', ['-c', `read x; seq 1 ${count}; sleep 5`], {
    name: 'xterm-256color',
    cols: 80,
    rows: 24,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LANG: 'C.UTF-8' },
  });
  const term = new Terminal({ cols: 80, rows: 24, scrollback: 0, allowProposedApi: true });
  const last = `${count}\r\n`;
  let tail = '';
  try {
    await new Promise((resolve) => setTimeout(resolve, SHELL_START_MS));
    let start = 0;
    const end = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new BaselineTimeoutError(`seq 1 ${count} on a bare PTY did not finish in ${timeoutMs} ms`)), timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve(performance.now());
      };
      child.onData((data) => {
        tail = (tail + data).slice(-2 * last.length);
        const seen = tail.includes(last);
        if (parse) term.write(data, seen ? done : undefined);
        else if (seen) done();
      });
      start = performance.now();
      child.write('\n');
    });
    return end - start;
  } finally {
    child.kill('SIGKILL');
    term.dispose();
  }
}

/**
 * Milliseconds from writing each of `count` printable characters into a bare PTY running an
 * interactive bash until readline's echo of it is read back; one at a time, `gapMs` apart.
 */
export async function echoThroughBarePty(count: number, gapMs = 30, timeoutMs = 10_000): Promise<number[]> {
  const child = pty.spawn('/bin/bash', ['--norc', '--noprofile', '-i'], {
    name: 'xterm-256color',
    cols: 80,
    rows: 24,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LANG: 'C.UTF-8', PS1: '$ ', HISTFILE: '/dev/null', TERM: 'xterm-256color' },
  });
  let waiting: { readonly ch: string; readonly resolve: (at: number) => void } | null = null;
  let output = '';
  child.onData((data) => {
    output += data;
    if (waiting !== null && data.includes(waiting.ch)) waiting.resolve(performance.now());
  });
  try {
    const deadline = Date.now() + timeoutMs;
    while (!output.includes('$ ')) {
      if (Date.now() > deadline) throw new BaselineTimeoutError('bash on a bare PTY showed no prompt');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
      // Clear the line now and then (Ctrl-U) so it never wraps; letters only, so no escape sequence is mistaken for an echo.
      if (i > 0 && i % 40 === 0) {
        child.write('\x15');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const ch = String.fromCharCode(0x61 + (i % 26));
      const echoed = new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new BaselineTimeoutError(`bash on a bare PTY did not echo '${ch}'`)), timeoutMs);
        waiting = {
          ch,
          resolve: (at) => {
            clearTimeout(timer);
            waiting = null;
            resolve(at);
          },
        };
      });
      const start = performance.now();
      child.write(ch);
      samples.push((await echoed) - start);
      await new Promise((resolve) => setTimeout(resolve, gapMs));
    }
    return samples;
  } finally {
    child.kill('SIGKILL');
  }
}

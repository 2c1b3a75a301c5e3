import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PtyHost } from '../../server/pty-host.js';

/** Collects a PtyHost's output until `done` says it is complete (bounded by `timeoutMs`). */
function output(host: PtyHost, done: (text: string) => boolean, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`timed out; output so far: ${JSON.stringify(text.slice(-200))}`)), timeoutMs);
    host.onData((data) => {
      text += Buffer.from(data).toString('utf8');
      if (done(text)) {
        clearTimeout(timer);
        resolve(text);
      }
    });
  });
}

describe('PtyHost input', () => {
  it('delivers input larger than the PTY takes at once, whole and in order, while the program reads slowly', async () => {
    // The program waits before reading, so the PTY fills and refuses most of the input at first.
    const bytes = 200_000;
    const host = PtyHost.start({
      command: '/bin/sh',
      args: ['-c', `stty raw -echo; sleep 0.3; head -c ${bytes} | sha256sum`],
      cols: 80,
      rows: 24,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', TERM: 'xterm' },
    });
    try {
      const input = Buffer.alloc(bytes);
      for (let i = 0; i < bytes; i++) input[i] = 0x21 + ((i * 7 + (i >> 9)) % 90);
      const answer = output(host, (t) => /[0-9a-f]{64}/.test(t));
      // Give stty time to run, so no input is echoed or cooked.
      await new Promise((r) => setTimeout(r, 150));
      // Two writes, so the second has to queue behind what the first left over.
      host.write(input.subarray(0, 150_000));
      host.write(input.subarray(150_000));
      expect(host.backlogBytes).toBeGreaterThan(0);
      const digest = (await answer).match(/[0-9a-f]{64}/)![0];
      expect(digest).toBe(createHash('sha256').update(input).digest('hex'));
      expect(host.backlogBytes).toBe(0);
    } finally {
      host.kill('SIGKILL');
    }
  });

  it('drops input once the program has exited, without throwing', async () => {
    const host = PtyHost.start({ command: '/bin/true', cols: 80, rows: 24, env: { PATH: '/usr/bin:/bin' } });
    await new Promise<void>((resolve) => host.onExit(() => resolve()));
    expect(() => host.write('after the end')).not.toThrow();
    expect(host.backlogBytes).toBe(0);
  });
});

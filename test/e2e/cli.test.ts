/**
 * The built `tsmosh` binary from the outside: its help, its answer to a mistake (one line, status 2,
 * no stack trace), and a whole `--local` session that runs one command and exits with its status.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLIENT_BIN, ClientProcess } from '../support/live-session.js';

function runClient(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLIENT_BIN, ...args], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/root', ...env },
    encoding: 'utf8',
    timeout: 15_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** One plain line: no stack frames, no internal error names. */
function expectOneLine(text: string): void {
  expect(text.endsWith('\n')).toBe(true);
  expect(text.trimEnd().split('\n')).toHaveLength(1);
  expect(text).not.toMatch(/\n\s+at |Error:|node:internal/);
}

describe('the tsmosh binary', () => {
  it('prints its help, including the environment knobs', () => {
    const { status, stdout, stderr } = runClient(['--help']);
    expect(status).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^Usage: tsmosh /);
    for (const name of ['TSMOSH_KEY', 'TSMOSH_LAST_CONTACT_MS', 'TSMOSH_LAST_REPLY_MS', 'TSMOSH_FIREWALL_HINT_MS']) expect(stdout).toContain(name);
  });

  it('refuses an unknown flag with one line and status 2', () => {
    const { status, stdout, stderr } = runClient(['--bogus', 'example.org']);
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expectOneLine(stderr);
    expect(stderr).toMatch(/^tsmosh: unknown option '--bogus'/);
  });

  it('refuses a malformed status-line threshold with one line and status 2', () => {
    const { status, stderr } = runClient(['--connect', '127.0.0.1', '60001'], { TSMOSH_KEY: 'x', TSMOSH_LAST_CONTACT_MS: 'soon' });
    expect(status).toBe(2);
    expectOneLine(stderr);
    expect(stderr).toContain('TSMOSH_LAST_CONTACT_MS');
  });

  it('runs a command in a --local session and exits with its status', async () => {
    const client = ClientProcess.start(['--local', '--', '/bin/sh', '-c', 'echo local-hi; exit 4']);
    try {
      let timer: NodeJS.Timeout | undefined;
      const exit = await Promise.race([
        client.exited,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`the client did not exit; output: ${JSON.stringify(client.output.slice(-400))}`)), 20_000);
        }),
      ]);
      clearTimeout(timer);
      expect(exit.exitCode).toBe(4);
      expect(client.output).toContain('local-hi');
      expect(client.output).not.toMatch(/\n\s+at |Error:/);
    } finally {
      client.dispose();
    }
  });
});

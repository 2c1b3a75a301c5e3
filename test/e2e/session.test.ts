/**
 * Live sessions end to end: the built client in a real PTY, a server session with a real shell in
 * a real PTY, real UDP on loopback. The check is always the same: the client's screen ends
 * identical to the server's, and nothing typed is lost.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ClientProcess, startInProcessServer, waitUntil, type InProcessServer } from '../support/live-session.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function session(cols = 80, rows = 24, env: Record<string, string> = {}): Promise<{ server: InProcessServer; client: ClientProcess }> {
  const server = await startInProcessServer();
  cleanups.push(() => {
    server.session.terminate('test over');
  });
  const client = ClientProcess.connect('127.0.0.1', server.port, server.key, env, cols, rows);
  cleanups.push(() => client.dispose());
  await client.waitForScreen('the shell prompt', (t) => t.startsWith('$'));
  return { server, client };
}

describe('a live session', () => {
  it('runs commands, follows a resize, shows a full-screen program, and exits with the shell status', async () => {
    const { server, client } = await session();
    client.type('echo hello\r');
    await client.waitForScreen('hello', (t) => t.includes('$ echo hello\nhello\n$'));
    await client.waitForScreenToMatch(server.session);

    client.resize(100, 30);
    await waitUntil('the server to apply the resize', () => server.session.screen()?.cols === 100 && server.session.screen()?.rows === 30);
    client.type('stty size\r');
    await client.waitForScreen('the new size', (t) => t.includes('\n30 100\n'));
    await client.waitForScreenToMatch(server.session);

    const dir = mkdtempSync(path.join(os.tmpdir(), 'tsmosh-less-'));
    const file = path.join(dir, 'numbers.txt');
    writeFileSync(file, Array.from({ length: 200 }, (_, i) => `line ${i + 1}`).join('\n'));
    client.type(`less ${file}\r`);
    await client.waitForScreen('less showing the file', (t) => t.startsWith('line 1\nline 2') && t.includes('line 29'));
    client.type(' ');
    await client.waitForScreen('less paging down', (t) => /^line 3\d\n/.test(t));
    await client.waitForScreenToMatch(server.session);
    client.type('q');
    await client.waitForScreen('the prompt after less', (t) => t.includes('$ stty size') && t.trimEnd().endsWith('$'));
    await client.waitForScreenToMatch(server.session);

    client.type('exit 3\r');
    const exit = await client.exited;
    expect(exit.exitCode).toBe(3);
    // The terminal was given back: alternate screen left, cursor shown, attributes reset.
    const tail = client.output.slice(-200);
    expect(tail).toContain('\x1b[?1049l');
    expect(tail).toContain('\x1b[?25h');
  });

  it('quits on Ctrl-^ . and the server ends its shell', async () => {
    const { server, client } = await session();
    const shellPid = server.session.shellPid;
    expect(shellPid).not.toBeNull();
    client.type('\x1e.');
    const exit = await client.exited;
    expect(exit.exitCode).toBe(0);
    const end = await server.session.done;
    expect(end.reason).toMatch(/client closed/i);
  });

  it('loses nothing typed quickly, in order', async () => {
    const { server, client } = await session();
    const words = Array.from({ length: 30 }, (_, i) => `w${i}`).join(' ');
    client.type(`echo ${words}\r`);
    await client.waitForScreen("the echoed words", (t) => t.replace(/\n/g, "").includes(`echo ${words}${words}$`));
    await client.waitForScreenToMatch(server.session);
  });
});

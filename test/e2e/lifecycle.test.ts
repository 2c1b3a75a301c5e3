/**
 * The real `tsmosh-server` daemon's life and death: it and its shell go away when the client quits,
 * when nobody connects, when the client falls silent, on SIGUSR1 (idle sessions only, if so
 * configured) and on SIGTERM; the shell's exit status reaches the client; and the session key is
 * never in the daemon's argv or environment.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { childrenOf, ClientProcess, startServerProcess, testShell, waitUntil, type ClientExit } from '../support/live-session.js';
import { procEntries, processGone, signalIfAlive } from '../support/process-info.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Daemon {
  readonly pid: number;
  readonly port: number;
  readonly key: string;
}

/** The real daemon on 127.0.0.1 (a port the system picks), running a dotfile-free bash; killed after the test if still there. */
async function startDaemon(env: Record<string, string> = {}): Promise<Daemon> {
  const shell = testShell();
  const daemon = await startServerProcess(['-i', '127.0.0.1', '-p', '0', '--', shell.command, ...shell.args], {
    PS1: shell.env['PS1']!,
    HOME: shell.env['HOME']!,
    HISTFILE: '/dev/null',
    ...env,
  });
  cleanups.push(() => {
    for (const child of childrenOf(daemon.pid)) signalIfAlive(child);
    signalIfAlive(daemon.pid);
  });
  return daemon;
}

function connect(daemon: Daemon): ClientProcess {
  const client = ClientProcess.connect('127.0.0.1', daemon.port, daemon.key);
  cleanups.push(() => client.dispose());
  return client;
}

/** A client at the shell prompt, and the shell's pid (the daemon's only child). */
async function connectedSession(daemon: Daemon): Promise<{ client: ClientProcess; shell: number }> {
  const client = connect(daemon);
  await client.waitForScreen('the shell prompt', (t) => t.startsWith('$'));
  const children = childrenOf(daemon.pid);
  expect(children).toHaveLength(1);
  return { client, shell: children[0]! };
}

async function waitForGone(what: string, pids: readonly number[], timeoutMs = 15_000): Promise<void> {
  await waitUntil(what, () => pids.every(processGone), timeoutMs);
}

async function exitOf(client: ClientProcess, timeoutMs = 15_000): Promise<ClientExit> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the client did not exit within ${timeoutMs} ms; its screen:\n${client.text()}`)), timeoutMs);
  });
  try {
    return await Promise.race([client.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('the tsmosh-server daemon', () => {
  it('keeps the key out of argv and the environment, and ends with its shell when the client quits', async () => {
    const daemon = await startDaemon();
    for (const file of ['cmdline', 'environ'] as const) {
      const entries = procEntries(daemon.pid, file);
      expect(entries, `/proc/${daemon.pid}/${file}`).not.toBeNull();
      expect(entries!.length).toBeGreaterThan(0);
      expect(entries!.join('\n')).not.toContain(daemon.key);
    }
    const { client, shell } = await connectedSession(daemon);
    for (const file of ['cmdline', 'environ'] as const) {
      expect(procEntries(shell, file)!.join('\n')).not.toContain(daemon.key);
    }
    client.type('echo still-here\r');
    await client.waitForScreen('a command', (t) => t.includes('\nstill-here\n$'));

    client.type('\x1e.');
    expect((await exitOf(client)).exitCode).toBe(0);
    await waitForGone('the daemon and its shell to exit', [daemon.pid, shell]);
  });

  it('gives up when no client connects (TSMOSH_SERVER_CONNECT_TMOUT)', async () => {
    const daemon = await startDaemon({ TSMOSH_SERVER_CONNECT_TMOUT: '1' });
    // The default would be 60 s.
    await waitForGone('the daemon to give up waiting', [daemon.pid], 10_000);
  });

  it('outlives an idle client but not a dead one (TSMOSH_SERVER_NETWORK_TMOUT)', async () => {
    const daemon = await startDaemon({ TSMOSH_SERVER_NETWORK_TMOUT: '5' });
    const { client, shell } = await connectedSession(daemon);
    // An idle client still sends a heartbeat every 3 s, so a quiet spell longer than the limit is fine.
    await sleep(6500);
    expect(processGone(daemon.pid)).toBe(false);
    client.type('echo alive\r');
    await client.waitForScreen('a command after the quiet spell', (t) => t.includes('\nalive\n$'));

    client.kill('SIGKILL');
    await waitForGone('the daemon and its shell to exit after the client died', [daemon.pid, shell], 20_000);
  }, 45_000);

  it('ends on SIGUSR1 only when the client has been silent longer than TSMOSH_SERVER_SIGNAL_TMOUT', async () => {
    const daemon = await startDaemon({ TSMOSH_SERVER_SIGNAL_TMOUT: '3' });
    const { client, shell } = await connectedSession(daemon);

    client.type('echo before-signal\r');
    await client.waitForScreen('a command', (t) => t.includes('\nbefore-signal\n$'));
    process.kill(daemon.pid, 'SIGUSR1');
    client.type('echo after-signal\r');
    await client.waitForScreen('the session to go on after the signal', (t) => t.includes('\nafter-signal\n$'));
    expect(processGone(daemon.pid)).toBe(false);

    // Now make the client silent: stopped, it sends nothing.
    client.kill('SIGSTOP');
    try {
      await sleep(4500);
      process.kill(daemon.pid, 'SIGUSR1');
      await sleep(200);
    } finally {
      client.kill('SIGCONT');
    }
    await waitForGone('the daemon and its shell to exit', [daemon.pid, shell]);
    const exit = await exitOf(client);
    expect(exit.exitCode).toBe(0);
    expect(client.output).toContain('the server ended the session');
  }, 45_000);

  it('ends on SIGTERM, and the client exits saying so', async () => {
    const daemon = await startDaemon();
    const { client, shell } = await connectedSession(daemon);
    process.kill(daemon.pid, 'SIGTERM');
    const exit = await exitOf(client);
    expect(exit.exitCode).toBe(0);
    expect(client.output).toContain('[tsmosh: the server ended the session.]');
    await waitForGone('the daemon and its shell to exit', [daemon.pid, shell]);
  });

  it("passes the shell's exit status to the client", async () => {
    const daemon = await startDaemon();
    const { client, shell } = await connectedSession(daemon);
    client.type('exit 5\r');
    const exit = await exitOf(client);
    expect(exit.exitCode).toBe(5);
    await waitForGone('the daemon and its shell to exit', [daemon.pid, shell]);
  });
});

/**
 * Live sessions under the faults tsmosh exists for: the client moves to a new address mid-command,
 * the client process is stopped and continued, the path goes dead and comes back, the link loses,
 * delays and reorders datagrams, and someone sprays the server's port with garbage, forgeries,
 * reflections and replays. Real built client on a real PTY, real shell, real UDP on loopback.
 * The check is always the same: nothing typed is lost, and the client's screen ends equal to the server's.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { DatagramCipher, Direction, HEADER_BYTES } from '../../protocol/datagram.js';
import { SessionKey } from '../../protocol/session-key.js';
import { LinkEmulator } from '../support/link-emulator.js';
import type { LinkProfile } from '../support/link-model.js';
import { ClientProcess, framebufferLines, startInProcessServer, waitUntil, type InProcessServer } from '../support/live-session.js';
import { UdpSender, UdpTap } from '../support/udp-tap.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The server's screen as text (what the client must end up showing). */
function serverText(server: InProcessServer): string {
  const fb = server.session.screen();
  return fb === null ? '' : framebufferLines(fb).join('\n');
}

async function startServer(): Promise<InProcessServer> {
  const server = await startInProcessServer();
  cleanups.push(() => server.session.terminate('test over'));
  return server;
}

function startClient(port: number, key: string, env: Record<string, string> = {}): ClientProcess {
  const client = ClientProcess.connect('127.0.0.1', port, key, env);
  cleanups.push(() => client.dispose());
  return client;
}

async function prompt(client: ClientProcess): Promise<void> {
  await client.waitForScreen('the shell prompt', (t) => t.startsWith('$'));
}

/** client → link emulator → server. */
async function relayedSession(options: {
  up?: Partial<LinkProfile>;
  down?: Partial<LinkProfile>;
  seed?: number;
  env?: Record<string, string>;
} = {}): Promise<{ server: InProcessServer; relay: LinkEmulator; client: ClientProcess }> {
  const server = await startServer();
  const relay = await LinkEmulator.start({
    server: { address: '127.0.0.1', port: server.port },
    ...(options.up === undefined ? {} : { up: options.up }),
    ...(options.down === undefined ? {} : { down: options.down }),
    ...(options.seed === undefined ? {} : { seed: options.seed }),
  });
  cleanups.push(() => relay.close());
  const client = startClient(relay.port, server.key, options.env);
  return { server, relay, client };
}

describe('roaming', () => {
  it('follows the client to a new address in the middle of a command, losing no keystroke', async () => {
    const { server, relay, client } = await relayedSession();
    await prompt(client);
    expect(server.udp.connection.remote).toMatchObject(relay.clientSide);

    const command = 'echo roamed-$((40+2)) across networks';
    const typing = client.typeSlowly(command, 40);
    await waitUntil('the first keystrokes to reach the shell', () => serverText(server).includes('$ echo r'));
    const moved = await relay.moveClientSide('127.0.0.2');
    // The move really happened mid-command: the rest was typed after it.
    expect(serverText(server)).not.toContain('networks');
    await typing;
    client.type('\r');

    await client.waitForScreen('the whole command and its output', (t) => t.includes(`$ ${command}\nroamed-42 across networks\n$`));
    expect(server.udp.connection.remote).toMatchObject({ address: '127.0.0.2', port: moved.port });
    expect(server.udp.connection.stats.roams).toBeGreaterThanOrEqual(1);
    await client.waitForScreenToMatch(server.session);
  });
});

describe('sleep and outages', () => {
  it('catches up after the client process was stopped, moving to a fresh source port on waking', async () => {
    const server = await startServer();
    const client = startClient(server.port, server.key);
    await prompt(client);
    client.type('sleep 1; seq 1 30\r');
    await waitUntil('the shell to start the command', () => serverText(server).includes('$ sleep 1; seq 1 30'));
    const portBefore = server.udp.connection.remote!.port;

    client.kill('SIGSTOP');
    try {
      // The output is produced while the client cannot read anything.
      await waitUntil('the output on the server', () => /\n30\n\$$/.test(serverText(server)));
      // Longer than the default "Last contact" threshold (6.5 s) and than the wake detector's 3 s.
      await sleep(7000);
    } finally {
      client.kill('SIGCONT');
    }

    await client.waitForScreen('the output that came while stopped', (t) => t.includes('\n29\n30\n$'));
    await client.waitForScreenToMatch(server.session);
    await waitUntil('the server to see the client from a new port', () => server.udp.connection.remote!.port !== portBefore);
    // And the session goes on.
    client.type('echo awake\r');
    await client.waitForScreen('a command after waking', (t) => t.includes('$ echo awake\nawake\n$'));
    await client.waitForScreenToMatch(server.session);
  }, 40_000);

  it('shows "Last contact" while the server is unreachable, and clears it once the link is back', async () => {
    const { server, relay, client } = await relayedSession({ env: { TSMOSH_LAST_CONTACT_MS: '1500' } });
    await prompt(client);
    relay.setProfile('up', { loss: 1 });
    relay.setProfile('down', { loss: 1 });
    client.type('echo during-outage\r');

    let shown = '';
    await client.waitForScreen('the status line', (t) => {
      shown = t.split('\n')[0] ?? '';
      return shown.startsWith('tsmosh: Last contact');
    });
    const seconds = Number(/^tsmosh: Last contact (\d+) seconds? ago\./.exec(shown)?.[1]);
    // The threshold came from TSMOSH_LAST_CONTACT_MS, not the 6.5 s default.
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(seconds).toBeLessThan(6);
    expect(shown).toContain('[To quit: Ctrl-^ .]');
    expect(serverText(server)).not.toContain('during-outage');
    // Still cut off a while later: the notice stays and counts up.
    await client.waitForScreen('the status line counting up', (t) => {
      const n = Number(/^tsmosh: Last contact (\d+) seconds? ago\./.exec(t)?.[1]);
      return n > seconds;
    });

    relay.setProfile('up', {});
    relay.setProfile('down', {});
    await client.waitForScreen('the command typed during the outage to run', (t) => t.includes('\nduring-outage\n$'));
    await client.waitForScreen('the status line to go away', (t) => !t.includes('tsmosh: Last contact'));
    await client.waitForScreenToMatch(server.session);
  }, 40_000);
});

describe('a bad link', () => {
  it('completes a typed script over 30% loss each way with delay, jitter, reordering and duplicates', async () => {
    const profile: Partial<LinkProfile> = { loss: 0.3, delayMs: 35, jitterMs: 15, reorder: 0.15, reorderHoldMs: 40, duplicate: 0.05 };
    const { server, relay, client } = await relayedSession({ up: profile, down: profile, seed: 0x5eed });
    await client.waitForScreen('the shell prompt', (t) => t.startsWith('$'), 20_000);

    const script: [command: string, output: string][] = [
      ['echo one two', 'one two'],
      ['seq 3 5', '3\n4\n5'],
      ['echo $((6*7))', '42'],
      ["printf '%s-' a b c; echo", 'a-b-c-'],
    ];
    // Slowly, as a person types.
    for (const [command, output] of script) {
      await client.typeSlowly(`${command}\r`, 70);
      await client.waitForScreen(`the output of ${command}`, (t) => t.includes(`$ ${command}\n${output}\n$`), 20_000);
    }
    // A fast burst: a whole line written at once, as a paste.
    const burst = 'echo burst-abcdefghijklmnopqrstuvwxyz-0123456789 | tr a-z A-Z';
    client.type(`${burst}\r`);
    await client.waitForScreen('the output of the burst', (t) => t.includes(`$ ${burst}\nBURST-ABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789\n$`), 20_000);
    await client.waitForScreenToMatch(server.session, 20_000);

    // The link really was bad in both directions.
    expect(relay.stats.up.dropped).toBeGreaterThan(0);
    expect(relay.stats.down.dropped).toBeGreaterThan(0);
  }, 90_000);
});

describe('an attacker on the path', () => {
  it('ignores garbage, forgeries, reflections and replays from another address', async () => {
    const server = await startServer();
    const tap = await UdpTap.start(server.port);
    cleanups.push(() => tap.close());
    const client = startClient(tap.port, server.key);
    await prompt(client);
    // Half a command, so that captured datagrams carry keystrokes a replay could try to inject again.
    await client.typeSlowly('echo abc', 30);
    await waitUntil('the half command to reach the shell', () => serverText(server).includes('$ echo abc'));
    await client.waitForScreenToMatch(server.session);
    const connection = server.udp.connection;
    expect(connection.remote).toMatchObject(tap.serverFacing);

    // From now on the server hears only the attacker (after what is in flight has landed). Only
    // datagrams the server has already had are replayed: one it never got would be news to it, and
    // following the newest authentic datagram is what roaming is.
    tap.holdUp = true;
    const authentic = tap.up.map((d) => d.bytes);
    const fromServer = tap.down.map((d) => d.bytes);
    await sleep(300);
    const before = connection.stats;
    const heardBefore = connection.lastHeard;
    const screenBefore = serverText(server);

    const attacker = await UdpSender.bind('127.0.0.3');
    cleanups.push(() => attacker.close());
    expect(authentic.length).toBeGreaterThanOrEqual(4);
    expect(fromServer.length).toBeGreaterThanOrEqual(3);
    const newest = authentic.at(-1)!;
    const flipped = (bytes: Buffer, at: number): Buffer => {
      const copy = Buffer.from(bytes);
      copy[at] = copy[at]! ^ 0x01;
      return copy;
    };
    // Sealed with another key, for the client-to-server direction, with a sequence number far ahead:
    // if it were accepted, it would move the session to the attacker.
    const otherKey = new DatagramCipher(SessionKey.generate());
    const rejected: Uint8Array[] = [
      ...[0, 1, 8, 27, 28, 29, 64, 500, 1400].map((n) => randomBytes(n)),
      newest.subarray(0, HEADER_BYTES),
      newest.subarray(0, newest.length - 1),
      newest.subarray(0, 28),
      Buffer.concat([newest, Buffer.from([0])]),
      flipped(newest, 7), // the sequence number (authenticated header)
      flipped(newest, HEADER_BYTES + 2), // the ciphertext
      flipped(newest, newest.length - 1), // the tag
      otherKey.seal(Direction.ToServer, 2 ** 40, Date.now(), null, newest.subarray(HEADER_BYTES)),
      otherKey.seal(Direction.ToServer, 2 ** 40 + 1, Date.now(), null, randomBytes(300)),
      // Reflections: the server's own datagrams sent back to it.
      ...fromServer.slice(-5),
    ];
    for (const bytes of rejected) await attacker.send(bytes, server.port);
    // Replays of every authentic client datagram, oldest to newest, from the attacker's address.
    for (const bytes of authentic) await attacker.send(bytes, server.port);

    await waitUntil(
      'the server to have seen every attacking datagram',
      () => connection.stats.rejected - before.rejected === rejected.length && connection.stats.stale - before.stale === authentic.length,
    );
    const after = connection.stats;
    expect(after.rejected - before.rejected).toBe(rejected.length);
    expect(after.stale - before.stale).toBe(authentic.length);
    expect(after.received - before.received).toBe(authentic.length);
    expect(after.roams).toBe(before.roams);
    expect(connection.remote).toMatchObject(tap.serverFacing);
    expect(connection.lastHeard).toBe(heardBefore);
    await server.session.settle();
    // No replayed keystroke reached the shell.
    expect(serverText(server)).toBe(screenBefore);
    expect(attacker.received).toBe(0);

    // The real client carries on, and the server still answers it where it was.
    tap.holdUp = false;
    client.type('\r');
    await client.waitForScreen('the command to finish', (t) => t.includes('$ echo abc\nabc\n$'));
    expect(serverText(server)).not.toContain('abcabc');
    expect(connection.remote).toMatchObject(tap.serverFacing);
    expect(connection.stats.roams).toBe(0);
    await client.waitForScreenToMatch(server.session);
    expect(attacker.received).toBe(0);
  });
});

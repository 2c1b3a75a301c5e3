/**
 * Datagrams a live session does not need to send (issue #7's "no more bytes than Mosh"): a `yes`
 * flood whose screen looks the same from frame to frame sends next to nothing, and on a slow link
 * a typed character costs one datagram each way (its echo and echo ack share a frame; the key
 * itself, already on screen as a prediction, is paced like Mosh's). Real built client on a real
 * PTY, real shell, real UDP through the link emulator on loopback. Counts, not timings: each
 * bound has several times the margin the old behaviour would need to pass.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LinkEmulator } from '../support/link-emulator.js';
import type { LinkProfile } from '../support/link-model.js';
import { ClientProcess, framebufferLines, startInProcessServer, waitUntil, type InProcessServer } from '../support/live-session.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function serverLines(server: InProcessServer): string[] {
  const fb = server.session.screen();
  return fb === null ? [] : framebufferLines(fb);
}

async function relayedSession(link: Partial<LinkProfile>): Promise<{ server: InProcessServer; relay: LinkEmulator; client: ClientProcess }> {
  const server = await startInProcessServer();
  cleanups.push(() => server.session.terminate('test over'));
  const relay = await LinkEmulator.start({ server: { address: '127.0.0.1', port: server.port }, up: link, down: link });
  cleanups.push(() => relay.close());
  const client = ClientProcess.connect('127.0.0.1', relay.port, server.key);
  cleanups.push(() => client.dispose());
  await client.waitForScreen('the shell prompt', (t) => t.startsWith('$'));
  return { server, relay, client };
}

describe('datagrams on the wire', () => {
  it('a yes flood whose screen looks the same from frame to frame sends next to nothing', async () => {
    const { server, relay, client } = await relayedSession({});
    client.type('yes\r');
    await waitUntil('a screen full of y', () => serverLines(server).filter((l) => l === 'y').length >= 20);
    await client.waitForScreen('the flood on the client', (t) => t.split('\n').filter((l) => l === 'y').length >= 20);
    await sleep(300);
    const before = relay.stats.down.offered;
    await sleep(2000);
    const frames = relay.stats.down.offered - before;
    // Before frames were taken only at line ends, the half-written bottom line made ~15 frames a second here.
    expect(frames).toBeLessThanOrEqual(4);
    client.type('\x03');
    await waitUntil('the prompt after Ctrl-C', () => serverLines(server).filter((l) => l !== '').at(-1) === '$');
    await client.waitForScreenToMatch(server.session);
  });

  it('on a slow link, keys already shown as predictions share datagrams, and each echo carries its echo ack', async () => {
    const { server, relay, client } = await relayedSession({ delayMs: 100 });
    // Let the RTT estimate settle and the prompt be learned as echoing.
    client.type('x');
    await client.waitForScreen('the first echo', (t) => t.startsWith('$ x'));
    client.type('\x7f');
    await client.waitForScreen('the line cleared', (t) => t.trimEnd() === '$');
    await sleep(600);
    const up = relay.stats.up.offered;
    const down = relay.stats.down.offered;
    const text = 'abcdefghij';
    for (const ch of text) {
      client.type(ch);
      await sleep(40);
    }
    await waitUntil('every key on the server', () => (serverLines(server)[0] ?? '').startsWith(`$ ${text}`));
    await client.waitForScreenToMatch(server.session);
    await sleep(500);
    const upSent = relay.stats.up.offered - up;
    const downSent = relay.stats.down.offered - down;
    // Keys 40 ms apart, frames at most every 100 ms (SRTT/2): about 5 each way (and the acks of the last frames). Sent one
    // by one, with an echo frame and an echo-ack frame each, it would be 10+ up and 20 down.
    const counts = `${upSent} up, ${downSent} down`;
    expect(upSent, counts).toBeLessThanOrEqual(10);
    expect(downSent, counts).toBeLessThanOrEqual(8);
  });
});

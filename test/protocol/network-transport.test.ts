/**
 * The whole protocol stack between two peers: UserStream and ScreenState over the state-sync
 * transport, Instruction codec, compression, fragments and sealed datagrams.
 *
 * First with a fake clock and a seeded simulated network (heavy loss, delay, jitter, reordering,
 * duplication and the client's address changing); then over two real UDP sockets on 127.0.0.1.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock, type Millis } from '../../protocol/clock.js';
import { Connection, type PeerAddress } from '../../protocol/connection.js';
import { maxFragmentBytes, applicationMtu } from '../../protocol/fragmenter.js';
import { Row, blankFramebuffer, framebuffersEqual, type Framebuffer } from '../../protocol/framebuffer.js';
import { NetworkTransport, type DatagramLink } from '../../protocol/network-transport.js';
import { ScreenState } from '../../protocol/screen-state.js';
import { SessionKey, sodiumReady } from '../../protocol/session-key.js';
import { UdpConnection } from '../../protocol/udp-connection.js';
import { COMPACTION_MIN_DEAD_EVENTS, UserStream } from '../../protocol/user-stream.js';
import { LinkModel, type LinkProfile } from '../support/link-model.js';
import { seededRandom, type Random } from '../support/seeded-random.js';
import { keyBytes, seededRandomBytes } from '../support/sync-simulation.js';

await sodiumReady();

/** A screen whose row `y` reads `text` (everything else blank). */
function screenWith(base: Framebuffer, y: number, text: string): Framebuffer {
  const row = Row.blank(base.cols);
  for (let x = 0; x < Math.min(text.length, base.cols); x++) row.set(x, text[x]!, 1, 0, 0, 0);
  const lines = base.lines.slice();
  lines[y] = row;
  return { ...base, lines, cursor: { ...base.cursor, x: Math.min(text.length, base.cols - 1), y } };
}

interface Datagram {
  readonly bytes: Uint8Array;
  readonly from: PeerAddress;
}

/** A DatagramLink whose datagrams go through a LinkModel instead of a socket. */
class SimulatedLink implements DatagramLink {
  readonly connection: Connection;
  readonly maxPayloadBytes = maxFragmentBytes(applicationMtu('IPv4'));
  address: PeerAddress;
  readonly #model: LinkModel<Datagram>;
  readonly #clock: FakeClock;

  constructor(connection: Connection, address: PeerAddress, model: LinkModel<Datagram>, clock: FakeClock) {
    this.connection = connection;
    this.address = address;
    this.#model = model;
    this.#clock = clock;
  }

  send(payload: Uint8Array): boolean {
    const bytes = this.connection.seal(payload);
    this.#model.send(this.#clock.now(), { bytes, from: this.address }, bytes.length);
    return true;
  }
}

interface Run {
  readonly typed: Uint8Array;
  readonly delivered: Uint8Array;
  readonly client: NetworkTransport<UserStream, ScreenState>;
  readonly server: NetworkTransport<ScreenState, UserStream>;
  readonly serverConnection: Connection;
  readonly maxSentStates: number;
  readonly maxHeldStates: number;
}

/** Types and redraws over a bad network for `busyMs`, moves the client at half time, then heals the network. */
function simulate(seed: number, bad: Partial<LinkProfile>, busyMs: Millis): Run {
  const random: Random = seededRandom(seed);
  const clock = new FakeClock(1000);
  const key = SessionKey.generate(seededRandomBytes(random));
  const serverAddress: PeerAddress = { address: '127.0.0.1', port: 60001, family: 'IPv4' };
  const clientConnection = new Connection({ role: 'client', key, clock: clock.now, remote: serverAddress });
  const serverConnection = new Connection({ role: 'server', key, clock: clock.now });
  const up = new LinkModel<Datagram>(bad, random);
  const down = new LinkModel<Datagram>(bad, random);
  const clientLink = new SimulatedLink(clientConnection, { address: '127.0.0.1', port: 50000, family: 'IPv4' }, up, clock);
  const serverLink = new SimulatedLink(serverConnection, serverAddress, down, clock);
  const client = new NetworkTransport<UserStream, ScreenState>({
    link: clientLink,
    local: new UserStream(),
    remote: ScreenState.initial(),
    clock: clock.now,
    random: seededRandomBytes(random),
  });
  const server = new NetworkTransport<ScreenState, UserStream>({
    link: serverLink,
    local: ScreenState.initial(),
    remote: new UserStream(),
    clock: clock.now,
    random: seededRandomBytes(random),
  });

  const typed: number[] = [];
  const delivered: number[] = [];
  let consumed = 0;
  let maxSentStates = 0;
  let maxHeldStates = 0;
  let nextKey = clock.now() + 10;
  let nextFrame = clock.now() + 5;
  let frame = 0;
  let moved = false;
  const start = clock.now();

  for (let step = 0; step < 200_000; step++) {
    const now = clock.now();
    const busy = now - start < busyMs;
    if (!moved && now - start >= busyMs / 2) {
      // The client roams: a new address and port, as after a Wi-Fi change.
      clientLink.address = { address: '127.0.0.2', port: 50001, family: 'IPv4' };
      moved = true;
    }
    if (!busy && up.profile.loss > 0) {
      up.setProfile({ loss: 0, duplicate: 0, reorder: 0 });
      down.setProfile({ loss: 0, duplicate: 0, reorder: 0 });
    }
    if (busy && now >= nextKey) {
      const byte = 0x20 + Math.floor(random() * 95);
      typed.push(byte);
      client.local.pushKeys(Uint8Array.of(byte));
      nextKey = now + 5 + Math.floor(random() * 80);
    }
    if (busy && now >= nextFrame) {
      frame++;
      const next = server.local.clone();
      next.setFramebuffer(screenWith(next.framebuffer, frame % 24, `frame ${frame} ${'x'.repeat(frame % 50)}`));
      server.setLocal(next);
      nextFrame = now + 1 + Math.floor(random() * 40);
    }
    up.deliverDue(now, (d) => {
      const payload = serverConnection.receive(d.bytes, d.from);
      if (payload !== null) {
        const before = server.remoteNum;
        server.receivePayload(payload, now);
        if (server.remoteNum !== before) {
          const events = server.remote.eventsSince(consumed);
          for (const b of keyBytes(events)) delivered.push(b);
          if (events.length > 0) {
            const last = events[events.length - 1]!;
            consumed = last.kind === 'keys' ? last.index + last.bytes.length : last.index + 1;
          }
          server.sync.receiver.rationalize();
        }
      }
      return true;
    });
    down.deliverDue(now, (d) => {
      const payload = clientConnection.receive(d.bytes, d.from);
      if (payload !== null) client.receivePayload(payload, now);
      return true;
    });
    const waits = [client.tick(now), server.tick(now)];
    maxSentStates = Math.max(maxSentStates, client.sync.sender.sentStateCount, server.sync.sender.sentStateCount);
    maxHeldStates = Math.max(maxHeldStates, client.sync.receiver.heldStates, server.sync.receiver.heldStates);
    if (!busy && now - start > busyMs + 30_000) break;
    const candidates = [...waits, (up.nextDeliveryAt ?? Infinity) - now, (down.nextDeliveryAt ?? Infinity) - now];
    if (busy) candidates.push(nextKey - now, nextFrame - now);
    clock.advance(Math.max(1, Math.min(1000, ...candidates)));
  }
  return {
    typed: Uint8Array.from(typed),
    delivered: Uint8Array.from(delivered),
    client,
    server,
    serverConnection,
    maxSentStates,
    maxHeldStates,
  };
}

describe('NetworkTransport over a simulated network', () => {
  for (const [seed, loss] of [
    [1, 0.1],
    [2, 0.3],
    [3, 0.5],
  ] as const) {
    it(`converges after ${loss * 100}% loss each way, delay, jitter, reordering, duplication and an address change (seed ${seed})`, () => {
      const run = simulate(seed, { loss, delayMs: 40, jitterMs: 30, reorder: 0.1, duplicate: 0.1 }, 10_000);
      expect(run.typed.length).toBeGreaterThan(100);
      // Every keystroke arrived exactly once, in order.
      expect(Buffer.from(run.delivered).toString('latin1')).toBe(Buffer.from(run.typed).toString('latin1'));
      // The client's copy of the screen is the server's.
      expect(framebuffersEqual(run.client.remote.framebuffer, run.server.local.framebuffer)).toBe(true);
      expect(run.server.local.framebuffer.lines.some((r) => r.toString().startsWith('frame '))).toBe(true);
      // The server follows the client to its new address.
      expect(run.serverConnection.remote?.address).toBe('127.0.0.2');
      // Memory stays bounded: the sent and received state lists stay within their limits.
      expect(run.maxSentStates).toBeLessThanOrEqual(32);
      expect(run.maxHeldStates).toBeLessThanOrEqual(1024);
      // Once acknowledged, typed events are forgotten (the log itself compacts lazily, in bounded steps).
      expect(run.client.local.firstHeldEvent).toBe(run.client.local.totalEvents);
      expect(run.client.local.retainedEvents).toBeLessThanOrEqual(COMPACTION_MIN_DEAD_EVENTS + run.typed.length);
    });
  }
});

/** A client and a server transport over two real UDP sockets on 127.0.0.1. */
async function udpPair() {
  const key = SessionKey.generate();
  const serverUdp = await UdpConnection.listen({ key, bindAddress: '127.0.0.1', portLow: 0, portHigh: 0 });
  const clientUdp = await UdpConnection.connect({ key, host: '127.0.0.1', port: serverUdp.localPort! });
  const clock = () => performance.now();
  const random = (n: number) => SessionKey.generate().bytes.subarray(0, n);
  const client = new NetworkTransport<UserStream, ScreenState>({ link: clientUdp, local: new UserStream(), remote: ScreenState.initial(), clock, random });
  const server = new NetworkTransport<ScreenState, UserStream>({ link: serverUdp, local: ScreenState.initial(), remote: new UserStream(), clock, random });
  return { serverUdp, clientUdp, client, server };
}

describe('NetworkTransport over real UDP on 127.0.0.1', () => {
  it('sends nothing before the client is known, so its first screen applies at once', async () => {
    const { serverUdp, clientUdp, client, server } = await udpPair();
    try {
      // The server runs its timers before any client exists (as the daemon does while it waits).
      expect(server.tick()).toBe(Infinity);
      expect(server.counters.instructionsSent).toBe(0);
      const target = screenWith(blankFramebuffer(80, 24), 0, 'hello');
      const next = server.local.clone();
      next.setFramebuffer(target);
      server.setLocal(next);
      const outcomes: (string | null)[] = [];
      serverUdp.onPayload((p) => server.receivePayload(p));
      clientUdp.onPayload((p) => outcomes.push(client.receivePayload(p)));
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && !framebuffersEqual(client.remote.framebuffer, target)) {
        client.tick();
        server.tick();
        await new Promise((r) => setTimeout(r, 2));
      }
      expect(framebuffersEqual(client.remote.framebuffer, target)).toBe(true);
      expect(outcomes).not.toContain('unknown-base');
    } finally {
      await clientUdp.close();
      await serverUdp.close();
    }
  });

  it('delivers every keystroke and the screen between two sockets', async () => {
    const { serverUdp, clientUdp, client, server } = await udpPair();
    const delivered: number[] = [];
    let consumed = 0;
    serverUdp.onPayload((p) => {
      const before = server.remoteNum;
      server.receivePayload(p);
      if (server.remoteNum !== before) {
        const events = server.remote.eventsSince(consumed);
        for (const b of keyBytes(events)) delivered.push(b);
        consumed = server.remote.totalEvents;
        server.sync.receiver.rationalize();
      }
    });
    clientUdp.onPayload((p) => client.receivePayload(p));
    const typed = Buffer.from('the quick brown fox jumps over the lazy dog '.repeat(5), 'latin1');
    try {
      const deadline = Date.now() + 10_000;
      let i = 0;
      let target: Framebuffer = blankFramebuffer(80, 24);
      while (Date.now() < deadline) {
        if (i < typed.length) client.local.pushKeys(typed.subarray(i, ++i));
        if (i % 20 === 0) {
          target = screenWith(target, (i / 20) % 24, `screen at ${i}`);
          const next = server.local.clone();
          next.setFramebuffer(target);
          server.setLocal(next);
        }
        client.tick();
        server.tick();
        await new Promise((r) => setTimeout(r, 2));
        if (i >= typed.length && delivered.length === typed.length && framebuffersEqual(client.remote.framebuffer, target)) break;
      }
      expect(Buffer.from(delivered).toString('latin1')).toBe(typed.toString('latin1'));
      expect(framebuffersEqual(client.remote.framebuffer, target)).toBe(true);
    } finally {
      await clientUdp.close();
      await serverUdp.close();
    }
  });
});

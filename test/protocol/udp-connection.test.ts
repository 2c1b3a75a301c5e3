import dgram from 'node:dgram';
import os from 'node:os';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../protocol/clock.js';
import type { PeerAddress } from '../../protocol/connection.js';
import { FALLBACK_MTU, maxFragmentBytes } from '../../protocol/fragmenter.js';
import { SessionKey, sodiumReady } from '../../protocol/session-key.js';
import {
  DEFAULT_PORT_HIGH,
  DEFAULT_PORT_LOW,
  InvalidAddressError,
  literalLookup,
  NoFreePortError,
  UdpConnection,
  WrongRoleError,
  type SocketFactory,
} from '../../protocol/udp-connection.js';

const WAIT_MS = 3000;
const bytes = (text: string) => new TextEncoder().encode(text);

let key: SessionKey;
const toClose: { close(): unknown }[] = [];

beforeAll(async () => {
  await sodiumReady();
  key = SessionKey.generate();
});

afterEach(async () => {
  await Promise.all(toClose.splice(0).map((c) => c.close()));
});

function track<T extends { close(): unknown }>(thing: T): T {
  toClose.push(thing);
  return thing;
}

/** Polls `condition` every 5 ms for at most WAIT_MS. */
async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Resolves with the next payload (and its source) `udp` delivers, or rejects after WAIT_MS. */
function nextPayload(udp: UdpConnection): Promise<{ text: string; from: PeerAddress }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error('timed out waiting for a payload'));
    }, WAIT_MS);
    const stop = udp.onPayload((payload, from) => {
      clearTimeout(timer);
      stop();
      resolve({ text: new TextDecoder().decode(payload), from });
    });
  });
}

async function pair(options: { clock?: FakeClock; host?: string; client?: object } = {}) {
  const host = options.host ?? '127.0.0.1';
  const clock = options.clock?.now;
  const server = track(await UdpConnection.listen({ key, bindAddress: host, ...(clock ? { clock } : {}) }));
  const client = track(
    await UdpConnection.connect({ key, host, port: server.localPort!, ...(clock ? { clock } : {}), ...options.client }),
  );
  return { server, client };
}

async function roundTrip(client: UdpConnection, server: UdpConnection, label: string) {
  const atServer = nextPayload(server);
  expect(client.send(bytes(`${label}?`))).toBe(true);
  const request = await atServer;
  expect(request.text).toBe(`${label}?`);
  const atClient = nextPayload(client);
  expect(server.send(bytes(`${label}!`))).toBe(true);
  expect((await atClient).text).toBe(`${label}!`);
  return request.from;
}

function ipv6LoopbackAvailable(): boolean {
  return Object.values(os.networkInterfaces()).some((list) => list?.some((i) => i.family === 'IPv6' && i.address === '::1'));
}

describe('UdpConnection over loopback', () => {
  it('binds the server in the default range and exchanges payloads both ways over 127.0.0.1', async () => {
    const { server, client } = await pair();
    expect(server.localPort).toBeGreaterThanOrEqual(DEFAULT_PORT_LOW);
    expect(server.localPort).toBeLessThanOrEqual(DEFAULT_PORT_HIGH);
    expect(server.connection.remote).toBeNull();
    const from = await roundTrip(client, server, 'one');
    expect(from).toEqual({ address: '127.0.0.1', port: client.localPort, family: 'IPv4' });
    expect(server.connection.remote).toEqual(from);
    await roundTrip(client, server, 'two');
    expect(server.connection.stats).toMatchObject({ sent: 2, received: 2, rejected: 0 });
    expect(server.maxPayloadBytes).toBe(1252 - 28);
  });

  it('takes the first free port of the range', async () => {
    const squatter = dgram.createSocket('udp4');
    track(squatter);
    await new Promise<void>((resolve) => squatter.bind(0, '127.0.0.1', resolve));
    const taken = squatter.address().port;
    const server = track(await UdpConnection.listen({ key, bindAddress: '127.0.0.1', portLow: taken, portHigh: Math.min(65535, taken + 50) }));
    expect(server.localPort).toBeGreaterThan(taken);
    expect(server.socketErrors).toBe(0);
    await expect(UdpConnection.listen({ key, bindAddress: '127.0.0.1', portLow: taken, portHigh: taken })).rejects.toThrow(NoFreePortError);
  });

  it('hops to a new source port; old sockets still receive; the server follows the new port', async () => {
    const { server, client } = await pair();
    await roundTrip(client, server, 'before');
    const oldPort = client.localPort;
    await client.hop();
    const newPort = client.localPort;
    expect(newPort).not.toBeNull();
    expect(newPort).not.toBe(oldPort);
    expect(client.openSockets).toBe(2);
    expect(client.hops).toBe(1);

    // The server has not heard from the new port yet: its reply goes to the old socket, which still listens.
    const stillOld = nextPayload(client);
    server.send(bytes('to old port'));
    expect((await stillOld).text).toBe('to old port');

    const from = await roundTrip(client, server, 'after');
    expect(from.port).toBe(newPort);
    expect(server.connection.remote?.port).toBe(newPort);
    expect(server.connection.stats.roams).toBe(1);
  });

  it('hops by itself when the hop policy says so, and prunes old sockets by age', async () => {
    const clock = new FakeClock(0);
    const { server, client } = await pair({ clock, client: { portHopIntervalMs: 1000, maxOldSocketAgeMs: 5000 } });
    await roundTrip(client, server, 'first');
    const firstPort = client.localPort;
    clock.advance(1001);
    const atServer = nextPayload(server);
    client.send(bytes('after a silent second'));
    expect(client.hops).toBe(1);
    const { from } = await atServer;
    await waitFor(() => client.localPort !== null, 'the new socket to bind');
    expect(from.port).toBe(client.localPort);
    expect(from.port).not.toBe(firstPort);
    expect(client.openSockets).toBe(2);
    client.connection.noteRoundTripSuccess(clock.now());
    clock.advance(5001);
    client.connection.noteRoundTripSuccess(clock.now());
    const pruneArrives = nextPayload(server);
    client.send(bytes('prune'));
    expect(client.hops).toBe(1);
    expect(client.openSockets).toBe(1);
    expect((await pruneArrives).text).toBe('prune');
    await roundTrip(client, server, 'still fine');
  });

  it('keeps at most maxOpenSockets sockets', async () => {
    const { server, client } = await pair({ client: { maxOpenSockets: 3 } });
    for (let i = 0; i < 5; i++) await client.hop();
    expect(client.hops).toBe(5);
    expect(client.openSockets).toBe(3);
    await roundTrip(client, server, 'capped');
  });

  it('works over IPv6 ::1 when the host has it', async () => {
    if (!ipv6LoopbackAvailable()) {
      console.warn('IPv6 loopback ::1 is NOT available on this host: only checking that binding it fails.');
      await expect(UdpConnection.listen({ key, bindAddress: '::1' })).rejects.toThrow();
      return;
    }
    const { server, client } = await pair({ host: '::1' });
    expect(client.family).toBe('IPv6');
    const from = await roundTrip(client, server, 'six');
    expect(from).toEqual({ address: '::1', port: client.localPort, family: 'IPv6' });
    expect(server.maxPayloadBytes).toBe(1216 - 28);
    await client.hop();
    const moved = await roundTrip(client, server, 'six hop');
    expect(moved.port).toBe(client.localPort);
  });

  it('does not send before a client is heard from (server), and counts it', async () => {
    const server = track(await UdpConnection.listen({ key, bindAddress: '127.0.0.1' }));
    expect(server.send(bytes('nobody there'))).toBe(false);
    expect(server.unsent).toBe(1);
    expect(server.connection.nextSequence).toBe(0);
  });

  it('ignores garbage and forged datagrams: no payload, no address, counted as rejects', async () => {
    const { server, client } = await pair();
    let delivered = 0;
    server.onPayload(() => delivered++);
    const forger = track(dgram.createSocket('udp4'));
    const sent = (datagram: Uint8Array) =>
      new Promise<void>((resolve) => forger.send(datagram, server.localPort!, '127.0.0.1', () => resolve()));
    await sent(new Uint8Array(3));
    await sent(new Uint8Array(200).fill(0x41));
    const other = track(await UdpConnection.connect({ key: SessionKey.generate(), host: '127.0.0.1', port: server.localPort! }));
    other.send(bytes('wrong key'));
    await waitFor(() => server.connection.stats.rejected === 3, 'three rejects');
    expect(delivered).toBe(0);
    expect(server.connection.remote).toBeNull();
    expect(server.connection.stats.received).toBe(0);
    await roundTrip(client, server, 'genuine');
  });

  it('survives socket errors: counts them, keeps the last, carries on', async () => {
    // The kernel refuses a broadcast without SO_BROADCAST (EACCES): a real send error that never leaves the host.
    const client = track(await UdpConnection.connect({ key, host: '255.255.255.255', port: 9 }));
    expect(client.send(bytes('x'))).toBe(true);
    await waitFor(() => client.socketErrors === 1, 'the send error');
    expect((client.lastError as NodeJS.ErrnoException).code).toBe('EACCES');
    client.send(bytes('y'));
    await waitFor(() => client.socketErrors === 2, 'the second send error');
  });

  it('survives an error event on a socket (e.g. EHOSTUNREACH while offline)', async () => {
    const made: dgram.Socket[] = [];
    const createSocket: SocketFactory = (type) => {
      const socket = dgram.createSocket(type);
      made.push(socket);
      return socket;
    };
    const { server, client } = await pair({ client: { createSocket } });
    const unreachable = Object.assign(new Error('send EHOSTUNREACH'), { code: 'EHOSTUNREACH' });
    made[0]!.emit('error', unreachable);
    expect(client.socketErrors).toBe(1);
    expect(client.lastError).toBe(unreachable);
    await roundTrip(client, server, 'after the error');
  });

  it('falls back to the 500-byte MTU after EMSGSIZE', async () => {
    const { server, client } = await pair();
    await roundTrip(client, server, 'hello');
    expect(client.send(new Uint8Array(70_000))).toBe(true);
    await waitFor(() => client.socketErrors === 1, 'EMSGSIZE');
    expect((client.lastError as NodeJS.ErrnoException).code).toBe('EMSGSIZE');
    expect(client.maxPayloadBytes).toBe(maxFragmentBytes(FALLBACK_MTU));
  });

  it('refuses host names, bad ports and hops on the server', async () => {
    await expect(UdpConnection.connect({ key, host: 'localhost', port: 60001 })).rejects.toThrow(InvalidAddressError);
    await expect(UdpConnection.connect({ key, host: '127.0.0.1', port: 0 })).rejects.toThrow(RangeError);
    await expect(UdpConnection.listen({ key, bindAddress: '127.0.0.1', portLow: 10, portHigh: 5 })).rejects.toThrow(RangeError);
    const server = track(await UdpConnection.listen({ key, bindAddress: '127.0.0.1', portLow: 0, portHigh: 0 }));
    expect(server.localPort).toBeGreaterThan(0);
    await expect(server.hop()).rejects.toThrow(WrongRoleError);
  });

  it('lets datagrams already sent leave before closing (the last one is often a shutdown ack)', async () => {
    const { server, client } = await pair();
    await roundTrip(client, server, 'hello');
    const received: string[] = [];
    client.onPayload((p) => received.push(new TextDecoder().decode(p)));
    for (let i = 0; i < 20; i++) expect(server.send(bytes(`last ${i}`))).toBe(true);
    await server.close();
    await waitFor(() => received.length === 20, 'every datagram sent before close');
    expect(received[19]).toBe('last 19');
  });

  it('closes idempotently and sends nothing after close', async () => {
    const { server, client } = await pair();
    await client.close();
    await client.close();
    expect(client.send(bytes('late'))).toBe(false);
    expect(client.openSockets).toBe(0);
    await server.close();
  });

  it('settles a hop whose socket is closed before it binds', async () => {
    const { client } = await pair();
    const hopping = client.hop();
    await client.close();
    await expect(hopping).resolves.toBeUndefined();
    expect(client.openSockets).toBe(0);
  });
});

describe('literalLookup', () => {
  it('answers an IP literal before returning, so a datagram leaves inside send()', () => {
    for (const [address, family] of [['127.0.0.2', 4], ['::1', 6]] as const) {
      let answer: [string, number] | null = null;
      literalLookup(address, { family }, (error, a, f) => {
        expect(error).toBeNull();
        answer = [a, f];
      });
      expect(answer).toEqual([address, family]);
    }
  });

  it('leaves a host name to the resolver (answered later)', async () => {
    let answered = false;
    const done = new Promise<void>((resolve) =>
      literalLookup('localhost', { family: 4 }, () => {
        answered = true;
        resolve();
      }),
    );
    expect(answered).toBe(false);
    await done;
    expect(answered).toBe(true);
  });
});

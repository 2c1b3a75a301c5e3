import dgram from 'node:dgram';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryQueue } from './delivery-queue.js';
import {
  isLoopbackAddress,
  LinkEmulator,
  LinkEmulatorClosedError,
  NonLoopbackAddressError,
  type UdpAddress,
} from './link-emulator.js';
import { InvalidLinkProfileError, LinkModel, linkProfile, PERFECT_LINK, type LinkProfile } from './link-model.js';
import { seededRandom } from './seeded-random.js';

const SEED = 20240501;

interface Arrival {
  readonly id: number;
  readonly at: number;
}

/** Sends `count` datagrams of `bytes` bytes, one every `spacingMs`, and runs the model until it is empty. */
function simulate(profile: Partial<LinkProfile>, count: number, options: { seed?: number; bytes?: number; spacingMs?: number } = {}) {
  const { seed = SEED, bytes = 100, spacingMs = 1 } = options;
  const model = new LinkModel<number>(profile, seededRandom(seed));
  const arrivals: Arrival[] = [];
  let now = 0;
  const collect = (id: number): boolean => {
    arrivals.push({ id, at: now });
    return true;
  };
  // Step the clock straight to each due time, so every arrival is recorded at its exact instant
  // (bounded: each step delivers at least one datagram).
  const deliverUntil = (limit: number): void => {
    for (let next = model.nextDeliveryAt; next !== undefined && next <= limit; next = model.nextDeliveryAt) {
      now = Math.max(now, next);
      model.deliverDue(now, collect);
    }
  };
  for (let id = 0; id < count; id++) {
    deliverUntil(id * spacingMs);
    now = id * spacingMs;
    model.send(now, id, bytes);
    model.deliverDue(now, collect);
  }
  deliverUntil(Infinity);
  return { model, arrivals, stats: model.stats };
}

function isSorted(ids: readonly number[]): boolean {
  return ids.every((id, i) => i === 0 || ids[i - 1]! <= id);
}

describe('seededRandom', () => {
  it('repeats for a seed, differs between seeds, stays in [0, 1)', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const c = seededRandom(8);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 1000 }, () => c())).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });
});

describe('DeliveryQueue', () => {
  it('pops in time order, ties in insertion order, and only what is due', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 200 }), fc.integer({ min: 0, max: 50 }), (times, cut) => {
        const queue = new DeliveryQueue<number>();
        times.forEach((t, i) => queue.push(t, i, 1));
        const expected = times.map((at, i) => ({ at, i })).sort((x, y) => x.at - y.at || x.i - y.i);
        const popped: number[] = [];
        for (let e = queue.popDue(cut); e !== undefined; e = queue.popDue(cut)) popped.push(e.item);
        const dueCount = expected.filter((e) => e.at <= cut).length;
        expect(popped).toEqual(expected.slice(0, dueCount).map((e) => e.i));
        expect(queue.size).toBe(times.length - dueCount);
        for (let e = queue.popDue(Infinity); e !== undefined; e = queue.popDue(Infinity)) popped.push(e.item);
        expect(popped).toEqual(expected.map((e) => e.i));
        expect(queue.nextAt).toBeUndefined();
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
});

describe('linkProfile', () => {
  it('fills defaults from the perfect link', () => {
    expect(linkProfile({ delayMs: 5 })).toEqual({ ...PERFECT_LINK, delayMs: 5 });
  });

  it.each([
    [{ loss: -0.1 }],
    [{ loss: 1.5 }],
    [{ duplicate: Number.NaN }],
    [{ reorder: 2 }],
    [{ delayMs: -1 }],
    [{ jitterMs: Infinity }],
    [{ queueBytes: -5 }],
    [{ reorderHoldMs: Number.NaN }],
    [{ rateBytesPerSecond: 0 }],
    [{ rateBytesPerSecond: -100 }],
  ])('rejects %j', (settings) => {
    expect(() => linkProfile(settings)).toThrow(InvalidLinkProfileError);
    expect(() => new LinkModel(settings, seededRandom(1))).toThrow(InvalidLinkProfileError);
  });
});

describe('LinkModel', () => {
  it('a perfect link delivers everything at once and in order', () => {
    const { arrivals, stats } = simulate({}, 500);
    expect(arrivals.map((a) => a.id)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(arrivals.every((a) => a.at === a.id)).toBe(true);
    expect(stats).toMatchObject({ offered: 500, forwarded: 500, forwardedBytes: 50_000, dropped: 0, duplicated: 0, reordered: 0 });
  });

  it('holds each datagram for exactly the delay when there is no jitter', () => {
    const model = new LinkModel<string>({ delayMs: 40 }, seededRandom(SEED));
    const out: string[] = [];
    model.send(0, 'a', 10);
    model.send(5, 'b', 10);
    expect(model.nextDeliveryAt).toBe(40);
    expect(model.deliverDue(39.9, (p) => out.push(p) > 0)).toBe(0);
    expect(model.deliverDue(40, (p) => out.push(p) > 0)).toBe(1);
    expect(model.deliverDue(44, (p) => out.push(p) > 0)).toBe(0);
    expect(model.deliverDue(45, (p) => out.push(p) > 0)).toBe(1);
    expect(out).toEqual(['a', 'b']);
    expect(model.inFlight).toBe(0);
  });

  it('loses close to the configured share of datagrams, for any seed and loss rate', () => {
    const n = 4000;
    fc.assert(
      fc.property(fc.integer(), fc.double({ min: 0, max: 1, noNaN: true }), (seed, loss) => {
        const { stats } = simulate({ loss }, n, { seed });
        const rate = stats.droppedByLoss / n;
        // Five standard deviations of a binomial share, plus slack for rates near 0 or 1.
        const tolerance = 5 * Math.sqrt((loss * (1 - loss)) / n) + 0.002;
        expect(Math.abs(rate - loss)).toBeLessThanOrEqual(tolerance);
        expect(stats.forwarded + stats.dropped).toBe(n);
        expect(stats.dropped).toBe(stats.droppedByLoss);
      }),
      { seed: SEED, numRuns: 40 },
    );
  });

  it('makes the same decisions for the same seed and different ones for another', () => {
    const profile = { loss: 0.2, duplicate: 0.1, reorder: 0.1, jitterMs: 5, delayMs: 10 };
    const a = simulate(profile, 2000, { seed: 1 });
    const b = simulate(profile, 2000, { seed: 1 });
    const c = simulate(profile, 2000, { seed: 2 });
    expect(b.arrivals).toEqual(a.arrivals);
    expect(c.arrivals).not.toEqual(a.arrivals);
  });

  it('duplicates close to the configured share, each at most once', () => {
    const n = 10_000;
    const { arrivals, stats } = simulate({ duplicate: 0.25 }, n);
    expect(stats.duplicated / n).toBeGreaterThan(0.23);
    expect(stats.duplicated / n).toBeLessThan(0.27);
    expect(stats.forwarded).toBe(n + stats.duplicated);
    expect(stats.forwardedBytes).toBe(100 * (n + stats.duplicated));
    const copies = new Map<number, number>();
    for (const a of arrivals) copies.set(a.id, (copies.get(a.id) ?? 0) + 1);
    expect(copies.size).toBe(n);
    expect([...copies.values()].filter((c) => c === 2).length).toBe(stats.duplicated);
    expect([...copies.values()].every((c) => c === 1 || c === 2)).toBe(true);
  });

  it('reorders only when asked, by holding datagrams back', () => {
    const n = 2000;
    const inOrder = simulate({ delayMs: 20, jitterMs: 15 }, n);
    expect(isSorted(inOrder.arrivals.map((a) => a.id))).toBe(true);

    const shuffled = simulate({ delayMs: 20, jitterMs: 15, reorder: 0.1, reorderHoldMs: 10 }, n);
    const ids = shuffled.arrivals.map((a) => a.id);
    expect(isSorted(ids)).toBe(false);
    expect([...ids].sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(shuffled.stats.reordered / n).toBeGreaterThan(0.08);
    expect(shuffled.stats.reordered / n).toBeLessThan(0.12);
    // A datagram is overtaken only by later ones: count inversions against held-back ids.
    let overtaken = 0;
    for (let i = 1; i < ids.length; i++) if (ids[i]! < ids[i - 1]!) overtaken++;
    expect(overtaken).toBeGreaterThan(0);
    expect(overtaken).toBeLessThanOrEqual(shuffled.stats.reordered);
  });

  it('keeps jittered delays within ±jitter of the delay and never reorders by jitter alone', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 }), (seed, delayMs, jitterMs) => {
        const { arrivals } = simulate({ delayMs, jitterMs }, 300, { seed, spacingMs: 3 });
        expect(isSorted(arrivals.map((a) => a.id))).toBe(true);
        let previous = -Infinity;
        const outOfBounds = arrivals.filter(({ id, at }) => {
          const sentAt = id * 3;
          // The FIFO rule may push an arrival later than delay + jitter, but only up to the previous arrival.
          const late = at > Math.max(sentAt + delayMs + jitterMs, previous) + 1e-9;
          const early = at < sentAt + Math.max(0, delayMs - jitterMs) - 1e-9;
          previous = at;
          return late || early;
        });
        expect(outOfBounds).toEqual([]);
      }),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('holds a rate limit: throughput matches the rate and the excess is dropped at the queue', () => {
    const rate = 10_000; // bytes per second
    const queueBytes = 5_000;
    // Offer 1000-byte datagrams every 10 ms: 100 kB/s, ten times the rate, for 10 s.
    const { arrivals, stats } = simulate({ rateBytesPerSecond: rate, queueBytes }, 1000, { bytes: 1000, spacingMs: 10 });
    expect(stats.droppedByQueue).toBeGreaterThan(0);
    expect(stats.forwarded + stats.droppedByQueue).toBe(1000);
    // Over any window the link carries at most rate·window plus one queue's worth.
    for (let i = 0; i < arrivals.length; i++) {
      for (let j = i + 1; j < arrivals.length; j += 7) {
        const window = arrivals[j]!.at - arrivals[i]!.at;
        expect((j - i) * 1000).toBeLessThanOrEqual((rate * window) / 1000 + 1000 + 1e-6);
      }
    }
    // Saturated: one datagram per 100 ms, so about 100 in 10 s (+ the queue's worth at the end).
    expect(stats.forwarded).toBeGreaterThanOrEqual(100);
    expect(stats.forwarded).toBeLessThanOrEqual(100 + queueBytes / 1000 + 1);
    // Consecutive arrivals are spaced by at least the serialisation time.
    for (let i = 1; i < arrivals.length; i++) expect(arrivals[i]!.at - arrivals[i - 1]!.at).toBeGreaterThanOrEqual(100 - 1e-9);
  });

  it('accepts a burst only up to the queue size, and always accepts into an empty queue', () => {
    const model = new LinkModel<number>({ rateBytesPerSecond: 10_000, queueBytes: 10_000 }, seededRandom(SEED));
    for (let i = 0; i < 100; i++) model.send(0, i, 1000);
    expect(model.stats.droppedByQueue).toBe(90);
    expect(model.inFlight).toBe(10);
    const small = new LinkModel<number>({ rateBytesPerSecond: 1000, queueBytes: 10 }, seededRandom(SEED));
    small.send(0, 1, 1400);
    expect(small.inFlight).toBe(1);
    expect(small.nextDeliveryAt).toBe(1400);
    small.send(1399, 2, 1400);
    expect(small.stats.droppedByQueue).toBe(1);
    small.send(1400, 3, 1400);
    expect(small.inFlight).toBe(2);
  });

  it('counts a datagram the relay could not deliver as dropped', () => {
    const model = new LinkModel<number>({}, seededRandom(SEED));
    model.send(0, 1, 64);
    model.send(0, 2, 36);
    expect(model.deliverDue(0, (p) => p === 2)).toBe(1);
    expect(model.stats).toMatchObject({ forwarded: 1, forwardedBytes: 36, undeliverable: 1, dropped: 1, droppedBytes: 64 });
  });

  it('applies a new profile to datagrams sent after the change only', () => {
    const model = new LinkModel<string>({ delayMs: 100 }, seededRandom(SEED));
    model.send(0, 'slow', 1);
    model.setProfile({ loss: 1 });
    model.send(1, 'lost', 1);
    expect(model.profile.delayMs).toBe(0);
    model.setProfile({ delayMs: 10 });
    model.send(2, 'fifo', 1);
    const out: string[] = [];
    // 'fifo' is due at 12 by its own delay but may not overtake 'slow' (due at 100).
    expect(model.deliverDue(99, (p) => out.push(p) > 0)).toBe(0);
    model.deliverDue(100, (p) => out.push(p) > 0);
    expect(out).toEqual(['slow', 'fifo']);
    expect(model.stats.droppedByLoss).toBe(1);
    expect(() => model.setProfile({ loss: 3 })).toThrow(InvalidLinkProfileError);
  });
});

// ---------------------------------------------------------------------------------------------
// The real relay, between real UDP sockets on loopback.

interface Peer {
  readonly socket: dgram.Socket;
  readonly received: { readonly data: string; readonly from: dgram.RemoteInfo; readonly at: number }[];
  readonly port: number;
}

const opened: { close(): unknown }[] = [];

async function peer(address = '127.0.0.1'): Promise<Peer> {
  const socket = dgram.createSocket('udp4');
  const received: Peer['received'][number][] = [];
  socket.on('message', (data, from) => received.push({ data: data.toString(), from, at: performance.now() }));
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  opened.push(socket);
  return { socket, received, port: socket.address().port };
}

async function relay(server: Peer, options: Partial<Parameters<typeof LinkEmulator.start>[0]> = {}): Promise<LinkEmulator> {
  const emulator = await LinkEmulator.start({ server: { address: '127.0.0.1', port: server.port }, ...options });
  opened.push(emulator);
  return emulator;
}

function send(from: Peer, to: UdpAddress | number, data: string): void {
  const target = typeof to === 'number' ? { address: '127.0.0.1', port: to } : to;
  from.socket.send(data, target.port, target.address);
}

/** Polls until `done()` holds; bounded in time, fails with `what` otherwise. */
async function until(what: string, done: () => boolean, limitMs = 5000): Promise<void> {
  const end = performance.now() + limitMs;
  while (!done()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

afterEach(async () => {
  for (const thing of opened.splice(0).reverse()) {
    try {
      await thing.close();
    } catch {
      // already closed by the test
    }
  }
});

describe('LinkEmulator', () => {
  it('relays both ways and follows the client when it changes port', async () => {
    const server = await peer();
    const emulator = await relay(server);
    const client = await peer();
    send(client, emulator.port, 'hello');
    await until('hello at the server', () => server.received.length === 1);
    const first = server.received[0]!;
    expect(first.data).toBe('hello');
    expect(first.from.address).toBe('127.0.0.1');
    expect(first.from.port).toBe(emulator.clientSide.port);
    expect(emulator.client).toEqual({ address: '127.0.0.1', port: client.port });

    send(server, first.from, 'welcome');
    await until('welcome at the client', () => client.received.length === 1);
    expect(client.received[0]!.data).toBe('welcome');
    expect(client.received[0]!.from.port).toBe(emulator.port);

    // The client hops to a new socket (a new source port): replies follow it.
    const hopped = await peer();
    send(hopped, emulator.port, 'hopped');
    await until('hopped at the server', () => server.received.length === 2);
    send(server, first.from, 'after hop');
    await until('reply at the new client socket', () => hopped.received.length === 1);
    expect(hopped.received[0]!.data).toBe('after hop');
    expect(client.received.length).toBe(1);
    expect(emulator.stats.up).toMatchObject({ offered: 2, forwarded: 2, forwardedBytes: 11, dropped: 0 });
    expect(emulator.stats.down).toMatchObject({ offered: 2, forwarded: 2, forwardedBytes: 16, dropped: 0 });
  });

  it('delays datagrams by at least the configured delay', async () => {
    const server = await peer();
    const emulator = await relay(server, { up: { delayMs: 80 }, down: { delayMs: 30 } });
    const client = await peer();
    const sentAt = performance.now();
    send(client, emulator.port, 'slow');
    await until('the delayed datagram', () => server.received.length === 1);
    expect(server.received[0]!.at - sentAt).toBeGreaterThanOrEqual(80);
    const repliedAt = performance.now();
    send(server, server.received[0]!.from, 'back');
    await until('the delayed reply', () => client.received.length === 1);
    expect(client.received[0]!.at - repliedAt).toBeGreaterThanOrEqual(30);
  });

  it('loses about the configured share, and the counters match what arrived', async () => {
    const server = await peer();
    const emulator = await relay(server, { up: { loss: 0.5 }, seed: 99 });
    const client = await peer();
    const n = 200;
    for (let i = 0; i < n; i++) {
      send(client, emulator.port, `d${i}`);
      if (i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await until('every datagram to pass the relay', () => emulator.stats.up.offered === n);
    await until('the survivors to arrive', () => server.received.length === emulator.stats.up.forwarded);
    const stats = emulator.stats.up;
    expect(stats.droppedByLoss).toBe(n - server.received.length);
    expect(server.received.length).toBeGreaterThan(n * 0.3);
    expect(server.received.length).toBeLessThan(n * 0.7);
  });

  it('duplicates when told to, and a new profile takes effect at once', async () => {
    const server = await peer();
    const emulator = await relay(server);
    const client = await peer();
    emulator.setProfile('up', { duplicate: 1 });
    send(client, emulator.port, 'twice');
    await until('two copies', () => server.received.length === 2);
    expect(server.received.map((r) => r.data)).toEqual(['twice', 'twice']);
    emulator.setProfile('up', { loss: 1 });
    expect(emulator.profile('up').duplicate).toBe(0);
    send(client, emulator.port, 'never');
    await until('the loss', () => emulator.stats.up.droppedByLoss === 1);
    expect(emulator.stats.up.duplicated).toBe(1);
  });

  it('moves the client side to a new address and port, and the server sees it', async () => {
    const server = await peer();
    const emulator = await relay(server, { down: { delayMs: 20 } });
    const client = await peer();
    send(client, emulator.port, 'before');
    await until('before', () => server.received.length === 1);
    const oldSource = server.received[0]!.from;
    expect(oldSource.address).toBe('127.0.0.1');

    const moved = await emulator.moveClientSide();
    expect(moved.address).toBe('127.0.0.2');
    expect(emulator.clientSide).toEqual(moved);

    send(client, emulator.port, 'after');
    await until('after', () => server.received.length === 2);
    const newSource = server.received[1]!.from;
    expect(newSource.address).toBe('127.0.0.2');
    expect(newSource.port).toBe(moved.port);

    // The server answers the new address and the client gets it; the old address is dead.
    send(server, newSource, 'roamed');
    await until('the reply via the new address', () => client.received.length === 1);
    expect(client.received[0]!.data).toBe('roamed');
    send(server, oldSource, 'to the old address');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(client.received.length).toBe(1);
  });

  it('ignores datagrams from anyone but the server on its server-facing socket', async () => {
    const server = await peer();
    const emulator = await relay(server);
    const client = await peer();
    const stranger = await peer();
    send(client, emulator.port, 'hi');
    await until('hi', () => server.received.length === 1);
    send(stranger, emulator.clientSide, 'spoof');
    await until('the stray', () => emulator.stats.strays === 1);
    expect(client.received.length).toBe(0);
    expect(emulator.stats.down.offered).toBe(0);
  });

  it('drops replies while no client has spoken, as undeliverable', async () => {
    const server = await peer();
    const emulator = await relay(server);
    send(server, emulator.clientSide, 'nobody home');
    await until('the drop', () => emulator.stats.down.undeliverable === 1);
    expect(emulator.stats.down).toMatchObject({ offered: 1, forwarded: 0, dropped: 1 });
  });

  it('refuses every address that is not loopback', async () => {
    await expect(LinkEmulator.start({ server: { address: '10.1.2.3', port: 9 } })).rejects.toThrow(NonLoopbackAddressError);
    await expect(LinkEmulator.start({ server: { address: 'localhost', port: 9 } })).rejects.toThrow(NonLoopbackAddressError);
    await expect(LinkEmulator.start({ server: { address: '127.0.0.1', port: 9 }, listenAddress: '0.0.0.0' })).rejects.toThrow(NonLoopbackAddressError);
    await expect(LinkEmulator.start({ server: { address: '127.0.0.1', port: 9 }, clientSideAddress: '192.168.0.1' })).rejects.toThrow(NonLoopbackAddressError);
    await expect(LinkEmulator.start({ server: { address: '127.0.0.1', port: 0 } })).rejects.toThrow(RangeError);
    await expect(LinkEmulator.start({ server: { address: '127.0.0.1', port: 9 }, down: { loss: 2 } })).rejects.toThrow(InvalidLinkProfileError);
    const server = await peer();
    const emulator = await relay(server);
    await expect(emulator.moveClientSide('8.8.8.8')).rejects.toThrow(NonLoopbackAddressError);
    await expect(emulator.moveClientSide('::1')).rejects.toThrow(NonLoopbackAddressError);
    await emulator.close();
    await expect(emulator.moveClientSide()).rejects.toThrow(LinkEmulatorClosedError);
  });

  it('classifies loopback addresses', () => {
    for (const a of ['127.0.0.1', '127.255.1.2', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.9']) expect(isLoopbackAddress(a)).toBe(true);
    for (const a of ['128.0.0.1', '0.0.0.0', '::', '::2', '10.0.0.1', 'localhost', '', '127.0.0.1.5']) expect(isLoopbackAddress(a)).toBe(false);
  });
});

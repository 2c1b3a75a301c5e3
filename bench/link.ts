import dgram from 'node:dgram';
import { microsPerCall, type BenchRow } from './bench-row.js';
import { LinkEmulator } from '../test/support/link-emulator.js';
import { LinkModel } from '../test/support/link-model.js';
import { seededRandom } from '../test/support/seeded-random.js';

/**
 * What the test link emulator costs: the pure model's time per datagram, and the latency and
 * throughput the relay adds on loopback with a perfect profile (so that tests and benchmarks that
 * run through it know how much of what they measure is the relay's).
 */
export async function run(): Promise<BenchRow[]> {
  return [...modelRows(), ...(await relayRows())];
}

function modelRows(): BenchRow[] {
  const model = new LinkModel<number>(
    { delayMs: 50, jitterMs: 10, loss: 0.05, duplicate: 0.01, reorder: 0.02, rateBytesPerSecond: 1e9 },
    seededRandom(1),
  );
  let now = 0;
  const sink = (): boolean => true;
  const perDatagram = microsPerCall(() => {
    now += 0.01;
    model.send(now, 0, 1200);
    model.deliverDue(now, sink);
  });
  return [{ suite: 'link', name: 'model send+deliver, lossy jittery profile, ~5k in flight', value: perDatagram, unit: 'µs/datagram' }];
}

async function relayRows(): Promise<BenchRow[]> {
  const server = dgram.createSocket('udp4');
  server.on('message', (data, from) => server.send(data, from.port, from.address));
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
  const emulator = await LinkEmulator.start({ server: { address: '127.0.0.1', port: server.address().port } });
  const client = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
  try {
    const direct = await medianRoundTrip(client, server.address().port);
    const relayed = await medianRoundTrip(client, emulator.port);
    const throughput = await echoThroughput(client, emulator.port);
    return [
      { suite: 'link', name: 'loopback echo RTT, direct (median of 500)', value: direct, unit: 'µs' },
      { suite: 'link', name: 'loopback echo RTT through the relay, perfect link', value: relayed, unit: 'µs', note: `adds ${Math.round(relayed - direct)} µs per round trip` },
      { suite: 'link', name: 'relay echo throughput, 1200 B, 32 in flight', value: throughput, unit: 'datagrams/s' },
    ];
  } finally {
    client.close();
    server.close();
    await emulator.close();
  }
}

/** Median round trip of 500 pings, one at a time, in microseconds. */
async function medianRoundTrip(client: dgram.Socket, port: number): Promise<number> {
  const payload = Buffer.alloc(100);
  const samples: number[] = [];
  for (let i = 0; i < 550; i++) {
    const start = performance.now();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('echo lost on loopback')), 1000);
      client.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      client.send(payload, port, '127.0.0.1');
    });
    if (i >= 50) samples.push((performance.now() - start) * 1000);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1]!;
}

/** Echoes for about one second with a window of 32 datagrams in flight; returns echoes per second. */
async function echoThroughput(client: dgram.Socket, port: number): Promise<number> {
  const payload = Buffer.alloc(1200);
  const window = 32;
  let received = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    // A lost echo would shrink the window; a guard timer ends the run regardless.
    const guard = setTimeout(finish, 3000);
    function finish(): void {
      clearTimeout(guard);
      client.removeListener('message', onEcho);
      resolve();
    }
    function onEcho(): void {
      received++;
      if (performance.now() - start >= 1000) finish();
      else client.send(payload, port, '127.0.0.1');
    }
    client.on('message', onEcho);
    for (let i = 0; i < window; i++) client.send(payload, port, '127.0.0.1');
  });
  return Math.round((received * 1000) / (performance.now() - start));
}

import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { NonLoopbackAddressError } from '../support/link-emulator.js';
import { TcpLink, tcpWireBytes } from '../support/tcp-link.js';
import { TCP_HEADER_BYTES } from '../support/tcp-path-model.js';

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An echo server on 127.0.0.1 that echoes everything and ends when its peer ends. */
async function echoServer(): Promise<number> {
  const server = net.createServer({ allowHalfOpen: true }, (socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

/** Sends `data` through the relay, half-closes, and collects the echo until the relay ends the socket. */
async function roundTrip(port: number, data: Buffer): Promise<{ echoed: Buffer; firstByteMs: number }> {
  const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  cleanups.push(() => void socket.destroy());
  const chunks: Buffer[] = [];
  let firstByteMs = -1;
  const start = performance.now();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no end of the echo within 20 s')), 20_000);
    socket.on('data', (chunk: Buffer) => {
      if (firstByteMs < 0) firstByteMs = performance.now() - start;
      chunks.push(chunk);
    });
    socket.on('end', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.on('error', reject);
    socket.end(data);
  });
  return { echoed: Buffer.concat(chunks), firstByteMs };
}

function pattern(n: number): Buffer {
  const data = Buffer.alloc(n);
  for (let i = 0; i < n; i++) data[i] = (i * 7 + (i >> 8)) & 0xff;
  return data;
}

describe('TcpLink', () => {
  it('carries both directions intact through a lossy, delayed path and passes the end on', async () => {
    const link = await TcpLink.start({ server: { address: '127.0.0.1', port: await echoServer() }, up: { delayMs: 5, loss: 0.05 }, down: { delayMs: 5, loss: 0.05 } });
    cleanups.push(() => link.close());
    const data = pattern(300_000);
    const { echoed } = await roundTrip(link.port, data);
    expect(echoed.equals(data)).toBe(true);
    const stats = link.stats;
    expect(stats.connections).toBe(1);
    expect(stats.up.deliveredBytes).toBe(data.length);
    expect(stats.down.deliveredBytes).toBe(data.length);
    expect(stats.up.retransmissions + stats.down.retransmissions).toBeGreaterThan(0);
    const wire = tcpWireBytes(stats);
    expect(wire.up).toBe(stats.up.payloadBytesSent + TCP_HEADER_BYTES * (stats.up.segmentsSent + stats.down.acksSent));
    expect(wire.down).toBeGreaterThan(data.length);
  });

  it('holds each direction for at least its one-way delay', async () => {
    const link = await TcpLink.start({ server: { address: '127.0.0.1', port: await echoServer() }, up: { delayMs: 40 }, down: { delayMs: 40 } });
    cleanups.push(() => link.close());
    const { echoed, firstByteMs } = await roundTrip(link.port, Buffer.from('ping'));
    expect(echoed.toString()).toBe('ping');
    // Timers never fire early, so the echo cannot beat the two delays (1 ms for rounding).
    expect(firstByteMs).toBeGreaterThanOrEqual(79);
  });

  it('refuses a server that is not on loopback', async () => {
    await expect(TcpLink.start({ server: { address: '192.0.2.1', port: 22 } })).rejects.toThrow(NonLoopbackAddressError);
  });
});

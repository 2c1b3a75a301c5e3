/**
 * State-sync throughput between two real peers over UDP on 127.0.0.1: the whole protocol stack
 * (UserStream / ScreenState, Instructions, compression, fragments, sealed datagrams), no PTY.
 *
 * - input: the client streams key bytes as fast as the transport takes them (capped at 1 MiB
 *   unacknowledged, as the client is); figure: bytes delivered to the server per second.
 * - screens: the server changes every row of an 80x24 screen continuously; figure: distinct frames
 *   the client receives per second (bounded by design by the frame interval, 50 Hz on loopback).
 */
import { randomBytes } from 'node:crypto';
import { Row, blankFramebuffer, type Framebuffer } from '../protocol/framebuffer.js';
import { NetworkTransport } from '../protocol/network-transport.js';
import { ScreenState } from '../protocol/screen-state.js';
import { SessionKey, sodiumReady } from '../protocol/session-key.js';
import { UdpConnection } from '../protocol/udp-connection.js';
import { UserStream } from '../protocol/user-stream.js';
import type { BenchRow } from './bench-row.js';

const clock = (): number => performance.now();
const random = (n: number): Uint8Array => randomBytes(n);

async function pair(): Promise<{
  client: NetworkTransport<UserStream, ScreenState>;
  server: NetworkTransport<ScreenState, UserStream>;
  close: () => Promise<void>;
}> {
  const key = SessionKey.generate();
  const serverUdp = await UdpConnection.listen({ key, bindAddress: '127.0.0.1', portLow: 0, portHigh: 0 });
  const clientUdp = await UdpConnection.connect({ key, host: '127.0.0.1', port: serverUdp.localPort! });
  const client = new NetworkTransport<UserStream, ScreenState>({ link: clientUdp, local: new UserStream(), remote: ScreenState.initial(), clock, random });
  const server = new NetworkTransport<ScreenState, UserStream>({ link: serverUdp, local: ScreenState.initial(), remote: new UserStream(), clock, random });
  serverUdp.onPayload((p) => {
    server.receivePayload(p);
    server.sync.receiver.rationalize();
  });
  clientUdp.onPayload((p) => client.receivePayload(p));
  return { client, server, close: async () => void (await Promise.all([clientUdp.close(), serverUdp.close()])) };
}

/** Runs both transports' timers for `ms`, calling `each` on every turn. */
async function drive(p: Awaited<ReturnType<typeof pair>>, ms: number, each: () => void): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    each();
    p.client.tick();
    p.server.tick();
    await new Promise((r) => setImmediate(r));
  }
}

function screenAt(n: number): Framebuffer {
  const fb = blankFramebuffer(80, 24);
  const lines = fb.lines.map((_, y) => {
    const row = Row.blank(80);
    const text = `frame ${n} row ${y} `.padEnd(80, String.fromCharCode(97 + ((n + y) % 26)));
    for (let x = 0; x < 80; x++) row.set(x, text[x]!, 1, 0, 0, 0);
    return row;
  });
  return { ...fb, lines };
}

export async function run(): Promise<BenchRow[]> {
  await sodiumReady();
  const suite = 'sync-loopback';
  const seconds = 2;

  const input = await pair();
  const chunk = new Uint8Array(1024).fill(0x61);
  await drive(input, seconds * 1000, () => {
    const s = input.client.local;
    if (s.totalEvents - s.firstHeldEvent < 1 << 20) s.pushKeys(chunk);
  });
  const delivered = input.server.remote.totalEvents;
  await input.close();

  const screens = await pair();
  let n = 0;
  let frames = 0;
  let lastNum = screens.client.remoteNum;
  await drive(screens, seconds * 1000, () => {
    const next = screens.server.local.clone();
    next.setFramebuffer(screenAt(++n));
    screens.server.setLocal(next);
    if (screens.client.remoteNum !== lastNum) {
      lastNum = screens.client.remoteNum;
      frames++;
    }
  });
  const wire = screens.server.counters.bytesSent;
  await screens.close();

  return [
    { suite, name: 'input delivered, loopback UDP', value: delivered / seconds / 1e6, unit: 'MB/s', note: 'key bytes, client → server, whole stack' },
    { suite, name: 'screen frames received, loopback UDP', value: frames / seconds, unit: 'frames/s', note: `every row changing; paced by the 20 ms frame interval (${n} screens offered)` },
    { suite, name: 'screen bytes on the wire', value: wire / seconds / 1e3, unit: 'kB/s', note: 'full-screen changes, compressed and sealed' },
  ];
}

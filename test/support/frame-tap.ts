/**
 * What the client has received, and when: a plain UDP relay on loopback put right in front of the
 * client (client → tap → link emulator or server) that forwards every datagram unchanged and
 * without delay, and also opens each server datagram with the session key and feeds it to a
 * shadow receiver, exactly as the client's own transport does. The shadow sees the same datagrams
 * in the same order as the client, a few microseconds earlier, so it rebuilds the same sequence of
 * server states; each new one is reported with the time its last datagram passed. That is the
 * moment "the server's echo reached the client", measured without touching the client.
 *
 * The shadow never sends: the client's own acknowledgements go up through the tap as usual.
 */
import dgram from 'node:dgram';
import { systemClock, type Millis } from '../../protocol/clock.js';
import { Connection, type PeerAddress } from '../../protocol/connection.js';
import { NetworkTransport } from '../../protocol/network-transport.js';
import { ScreenState } from '../../protocol/screen-state.js';
import { SessionKey, sodiumReady } from '../../protocol/session-key.js';
import { UserStream } from '../../protocol/user-stream.js';

export interface FrameTapOptions {
  /** Where the client's datagrams go on (the link emulator's port, or the server's). */
  readonly upstream: { readonly address: string; readonly port: number };
  /** The session key, as on the connect line. */
  readonly key: string;
}

/** A server state as the client received it. */
export interface ReceivedState {
  readonly state: ScreenState;
  /** `performance.now()` when the datagram that completed it passed the tap. */
  readonly at: Millis;
}

export type ReceivedStateListener = (received: ReceivedState) => void;

class NoSendingError extends Error {
  override readonly name = 'NoSendingError';
}

export class FrameTap {
  readonly #clientFacing: dgram.Socket;
  readonly #upstreamFacing: dgram.Socket;
  readonly #upstream: { readonly address: string; readonly port: number };
  readonly #connection: Connection;
  readonly #shadow: NetworkTransport<UserStream, ScreenState>;
  readonly #listeners: ReceivedStateListener[] = [];
  #client: { address: string; port: number } | undefined;
  #closed = false;
  /** Server datagrams that did not open with the key (should stay 0). */
  rejected = 0;

  private constructor(options: FrameTapOptions, clientFacing: dgram.Socket, upstreamFacing: dgram.Socket) {
    this.#upstream = { ...options.upstream };
    this.#clientFacing = clientFacing;
    this.#upstreamFacing = upstreamFacing;
    const remote: PeerAddress = { address: options.upstream.address, port: options.upstream.port, family: 'IPv4' };
    this.#connection = new Connection({ role: 'client', key: SessionKey.parse(options.key), remote });
    this.#shadow = new NetworkTransport<UserStream, ScreenState>({
      link: {
        send: () => {
          throw new NoSendingError('the frame tap only listens');
        },
        maxPayloadBytes: 1400,
        connection: this.#connection,
      },
      local: new UserStream(),
      remote: ScreenState.initial(),
      clock: systemClock,
      random: (n) => new Uint8Array(n),
    });
    clientFacing.on('message', (bytes, from) => {
      if (this.#closed) return;
      this.#client = { address: from.address, port: from.port };
      upstreamFacing.send(bytes, this.#upstream.port, this.#upstream.address);
    });
    upstreamFacing.on('message', (bytes, from) => {
      if (this.#closed || from.port !== this.#upstream.port) return;
      const client = this.#client;
      if (client !== undefined) clientFacing.send(bytes, client.port, client.address);
      this.#observe(bytes, performance.now());
    });
    // ICMP errors (a peer gone for a moment) arrive as 'error'; a test relay must not crash on them.
    clientFacing.on('error', () => {});
    upstreamFacing.on('error', () => {});
  }

  static async start(options: FrameTapOptions): Promise<FrameTap> {
    await sodiumReady();
    const clientFacing = await bind();
    const upstreamFacing = await bind();
    return new FrameTap(options, clientFacing, upstreamFacing);
  }

  /** Point the client here. */
  get port(): number {
    return this.#clientFacing.address().port;
  }

  /** The newest server state the client has received. */
  get latest(): ScreenState {
    return this.#shadow.remote;
  }

  /** Called for every new server state, in the order the client receives them. */
  onState(listener: ReceivedStateListener): void {
    this.#listeners.push(listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([close(this.#clientFacing), close(this.#upstreamFacing)]);
  }

  #observe(bytes: Uint8Array, at: Millis): void {
    const payload = this.#connection.receive(bytes, { address: this.#upstream.address, port: this.#upstream.port, family: 'IPv4' });
    if (payload === null) {
      this.rejected++;
      return;
    }
    const before = this.#shadow.remoteNum;
    this.#shadow.receivePayload(payload);
    if (this.#shadow.remoteNum === before) return;
    const received = { state: this.#shadow.remote, at };
    for (const listener of this.#listeners) listener(received);
  }
}

async function bind(): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return socket;
}

function close(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}

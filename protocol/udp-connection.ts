/**
 * `Connection` on real UDP sockets (node:dgram).
 *
 * Server: one socket on the first free port of a range; it sends to wherever the client was last
 * authentically heard from. Client: sends from its newest socket and, to get a fresh NAT binding,
 * opens a new one (a new source port) when the hop policy says so or when told to (after waking from
 * sleep); older sockets keep receiving for a while, since replies to them may still be in flight.
 *
 * Socket errors (unreachable networks while offline, a refused broadcast, …) are counted and kept
 * in `lastError`; they never escape as exceptions, so a flaky network cannot crash the process.
 */
import dgram from 'node:dgram';
import dns from 'node:dns';
import net from 'node:net';
import { systemClock, type Clock, type Millis } from './clock.js';
import { Connection, type PeerAddress, type Role } from './connection.js';
import { FALLBACK_MTU, applicationMtu, maxFragmentBytes, type AddressFamily } from './fragmenter.js';
import type { RttEstimatorOptions } from './rtt-estimator.js';
import type { SessionKey } from './session-key.js';

export const DEFAULT_PORT_LOW = 60001;
export const DEFAULT_PORT_HIGH = 60999;
export const DEFAULT_BIND_ADDRESS = '0.0.0.0';
/** Old client sockets are closed once the newest one is this old. */
export const MAX_OLD_SOCKET_AGE_MS = 60_000;
/** Client sockets kept open at most (the newest plus old ones still receiving). */
export const MAX_OPEN_SOCKETS = 10;

export type SocketFactory = (type: 'udp4' | 'udp6') => dgram.Socket;
export type PayloadListener = (payload: Uint8Array, from: PeerAddress) => void;

export interface UdpCommonOptions {
  readonly key: SessionKey;
  readonly clock?: Clock;
  readonly portHopIntervalMs?: Millis;
  readonly timestampReplyMaxAgeMs?: Millis;
  readonly serverAssociationTimeoutMs?: Millis;
  readonly rtt?: Partial<RttEstimatorOptions>;
  readonly maxOldSocketAgeMs?: Millis;
  readonly maxOpenSockets?: number;
  /** For tests: how sockets are made (default `dgram.createSocket`). */
  readonly createSocket?: SocketFactory;
}

export interface ListenOptions extends UdpCommonOptions {
  /** Default 0.0.0.0; an IPv6 address (e.g. `::` or `::1`) makes an IPv6 socket. */
  readonly bindAddress?: string;
  readonly portLow?: number;
  readonly portHigh?: number;
}

export interface ConnectOptions extends UdpCommonOptions {
  /** The server's IPv4 or IPv6 address (a literal, not a name). */
  readonly host: string;
  readonly port: number;
}

/**
 * dgram resolves the destination of every send, and its default (dns.lookup) answers even an IP
 * literal on the next tick: the datagram left only after whatever its caller did next (on a
 * keystroke, the client's redraw; ~0.2 ms of the loopback keystroke-to-screen time). Peers here
 * are always IP literals, so they are answered at once and the datagram leaves inside `send`.
 */
export const literalLookup: NonNullable<dgram.SocketOptions['lookup']> = (hostname, options, callback) => {
  const family = net.isIP(hostname);
  if (family !== 0) callback(null, hostname, family);
  else dns.lookup(hostname, options, callback);
};

export class NoFreePortError extends Error {
  override readonly name = 'NoFreePortError';
}

export class InvalidAddressError extends Error {
  override readonly name = 'InvalidAddressError';
}

export class WrongRoleError extends Error {
  override readonly name = 'WrongRoleError';
}

interface OpenSocket {
  readonly socket: dgram.Socket;
  readonly createdAt: Millis;
  /** Known once bound. */
  port: number | null;
}

interface Setup {
  readonly role: Role;
  readonly family: AddressFamily;
  readonly options: UdpCommonOptions;
  readonly remote?: PeerAddress;
}

export class UdpConnection {
  readonly connection: Connection;
  readonly family: AddressFamily;
  /** Socket errors and failed sends so far. */
  socketErrors = 0;
  lastError: Error | null = null;
  /** Payloads not sent because the server has no (recent) client address. */
  unsent = 0;
  hops = 0;

  readonly #clock: Clock;
  readonly #createSocket: SocketFactory;
  readonly #maxOldSocketAgeMs: Millis;
  readonly #maxOpenSockets: number;
  readonly #sockets: OpenSocket[] = [];
  readonly #listeners = new Set<PayloadListener>();
  #mtu: number;
  #closed = false;
  /** Sends handed to a socket whose callback has not run yet. */
  #inFlight = 0;
  #drained: (() => void) | null = null;

  private constructor(setup: Setup) {
    const { options } = setup;
    this.family = setup.family;
    this.#clock = options.clock ?? systemClock;
    this.#createSocket = options.createSocket ?? ((type) => dgram.createSocket({ type, lookup: literalLookup }));
    this.#maxOldSocketAgeMs = options.maxOldSocketAgeMs ?? MAX_OLD_SOCKET_AGE_MS;
    this.#maxOpenSockets = Math.max(1, options.maxOpenSockets ?? MAX_OPEN_SOCKETS);
    this.#mtu = applicationMtu(setup.family);
    this.connection = new Connection({
      role: setup.role,
      key: options.key,
      clock: this.#clock,
      ...(setup.remote === undefined ? {} : { remote: setup.remote }),
      ...(options.portHopIntervalMs === undefined ? {} : { portHopIntervalMs: options.portHopIntervalMs }),
      ...(options.timestampReplyMaxAgeMs === undefined ? {} : { timestampReplyMaxAgeMs: options.timestampReplyMaxAgeMs }),
      ...(options.serverAssociationTimeoutMs === undefined ? {} : { serverAssociationTimeoutMs: options.serverAssociationTimeoutMs }),
      ...(options.rtt === undefined ? {} : { rtt: options.rtt }),
    });
  }

  /**
   * Server: binds the first free port in [portLow, portHigh] (default 60001–60999; 0–0 lets the
   * system choose). Needs `await sodiumReady()` first.
   */
  static async listen(options: ListenOptions): Promise<UdpConnection> {
    const bindAddress = options.bindAddress ?? DEFAULT_BIND_ADDRESS;
    const family = familyOf(bindAddress);
    const low = options.portLow ?? DEFAULT_PORT_LOW;
    const high = options.portHigh ?? DEFAULT_PORT_HIGH;
    const anyPort = low === 0 && high === 0; // let the system choose
    if (!anyPort && !(Number.isInteger(low) && Number.isInteger(high) && low >= 1 && low <= high && high <= 65535)) {
      throw new RangeError(`The port range ${low}-${high} is not valid.`);
    }
    const udp = new UdpConnection({ role: 'server', family, options });
    for (let port = low; port <= high; port++) {
      const entry = udp.#newSocket();
      const error = await bindSocket(entry.socket, port, bindAddress);
      if (error === null) {
        udp.#adopt(entry);
        return udp;
      }
      await closeSocket(entry.socket);
      if (error.code !== 'EADDRINUSE' && error.code !== 'EACCES') throw error;
    }
    throw new NoFreePortError(`No free UDP port between ${low} and ${high} on ${bindAddress}.`);
  }

  /** Client: a socket on an ephemeral port, talking to `host:port`. Needs `await sodiumReady()` first. */
  static async connect(options: ConnectOptions): Promise<UdpConnection> {
    const family = familyOf(options.host);
    if (!(Number.isInteger(options.port) && options.port >= 1 && options.port <= 65535)) {
      throw new RangeError(`The port ${options.port} is not valid.`);
    }
    const udp = new UdpConnection({
      role: 'client',
      family,
      options,
      remote: { address: options.host, port: options.port, family },
    });
    const entry = udp.#newSocket();
    const error = await bindSocket(entry.socket, 0, undefined);
    if (error !== null) {
      await closeSocket(entry.socket);
      throw error;
    }
    udp.#adopt(entry);
    return udp;
  }

  get role(): Role {
    return this.connection.role;
  }

  /** The port we send from (the newest socket's), or null while a fresh one is still binding. */
  get localPort(): number | null {
    return this.#sockets.at(-1)?.port ?? null;
  }

  /** Sockets open now (the client keeps old ones receiving for a while after a hop). */
  get openSockets(): number {
    return this.#sockets.length;
  }

  /** The largest payload (encoded fragment) one datagram may carry on this path. */
  get maxPayloadBytes(): number {
    return maxFragmentBytes(this.#mtu);
  }

  /** Registers a listener for authentic payloads; returns a function that removes it. */
  onPayload(listener: PayloadListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Seals and sends one payload. Returns false if it was not handed to a socket: closed, no client
   * address yet (server), the client silent too long (server), or the socket refused it at once.
   */
  send(payload: Uint8Array): boolean {
    if (this.#closed) return false;
    const now = this.#clock();
    if (this.role === 'client') {
      if (this.connection.shouldHop(now)) void this.hop();
      this.#prune(now);
    }
    const remote = this.connection.remote;
    const entry = this.#sockets.at(-1);
    if (remote === null || entry === undefined || !this.connection.isAssociated(now)) {
      this.unsent++;
      return false;
    }
    const datagram = this.connection.seal(payload);
    this.#inFlight++;
    try {
      entry.socket.send(datagram, remote.port, remote.address, (error) => {
        if (error) this.#noteError(error);
        this.#sendDone();
      });
    } catch (error) {
      this.#noteError(error);
      this.#sendDone();
      return false;
    }
    return true;
  }

  /**
   * Client: opens a new socket (a new source port) and sends from it from now on. Resolves once it
   * is bound (a bind error is counted, not thrown). Sends made meanwhile are queued by node.
   */
  hop(): Promise<void> {
    if (this.role !== 'client') return Promise.reject(new WrongRoleError('Only the client hops ports.'));
    if (this.#closed) return Promise.resolve();
    const now = this.#clock();
    const entry = this.#newSocket();
    this.#listen(entry.socket);
    this.#sockets.push(entry);
    this.connection.noteHop(now);
    this.hops++;
    this.#prune(now);
    // A bind error reaches the socket's error listener, which counts it.
    return bindSocket(entry.socket, 0, undefined).then((error) => {
      if (error === null) entry.port = boundPort(entry.socket);
    });
  }

  /**
   * Closes every socket, after the datagrams already handed to them have left (a session's last
   * datagram is its shutdown acknowledgement, which must not be dropped). Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    if (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    const sockets = this.#sockets.splice(0).map((entry) => closeSocket(entry.socket));
    await Promise.all(sockets);
  }

  #sendDone(): void {
    this.#inFlight--;
    if (this.#inFlight === 0 && this.#drained !== null) {
      const drained = this.#drained;
      this.#drained = null;
      drained();
    }
  }

  #newSocket(): OpenSocket {
    return { socket: this.#createSocket(this.family === 'IPv4' ? 'udp4' : 'udp6'), createdAt: this.#clock(), port: null };
  }

  #listen(socket: dgram.Socket): void {
    socket.on('message', (message, info) => this.#onMessage(message, info));
    socket.on('error', (error) => this.#noteError(error));
  }

  /** Takes a freshly bound socket into service (bind errors before this are the caller's, not counted). */
  #adopt(entry: OpenSocket): void {
    entry.port = boundPort(entry.socket);
    this.#listen(entry.socket);
    this.#sockets.push(entry);
  }

  #onMessage(message: Uint8Array, info: dgram.RemoteInfo): void {
    if (this.#closed) return;
    const from: PeerAddress = { address: info.address, port: info.port, family: info.family === 'IPv6' ? 'IPv6' : 'IPv4' };
    const payload = this.connection.receive(message, from);
    if (this.role === 'client') this.#prune(this.#clock());
    if (payload === null) return;
    for (const listener of this.#listeners) listener(payload, from);
  }

  /** Mosh's rule: keep old sockets only while the newest is young, and never more than the cap. */
  #prune(now: Millis): void {
    const sockets = this.#sockets;
    const newest = sockets.at(-1);
    if (newest === undefined || sockets.length < 2) return;
    const drop = now - newest.createdAt > this.#maxOldSocketAgeMs ? sockets.length - 1 : Math.max(0, sockets.length - this.#maxOpenSockets);
    for (const entry of sockets.splice(0, drop)) void closeSocket(entry.socket);
  }

  #noteError(error: unknown): void {
    this.socketErrors++;
    const err = error instanceof Error ? error : new Error(String(error));
    this.lastError = err;
    // Mosh's fallback: a path that refuses our datagram size gets smaller ones from now on.
    if ((err as NodeJS.ErrnoException).code === 'EMSGSIZE') this.#mtu = FALLBACK_MTU;
  }
}

function familyOf(address: string): AddressFamily {
  const version = net.isIP(address);
  if (version === 4) return 'IPv4';
  if (version === 6) return 'IPv6';
  throw new InvalidAddressError(`"${address}" is not an IPv4 or IPv6 address.`);
}

/** Resolves with null once bound, or with the bind error (also if the socket is closed before it binds). */
function bindSocket(socket: dgram.Socket, port: number, address: string | undefined): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const settle = (result: NodeJS.ErrnoException | null): void => {
      socket.off('error', onError);
      socket.off('listening', onListening);
      socket.off('close', onClose);
      resolve(result);
    };
    const onError = (error: NodeJS.ErrnoException): void => settle(error);
    const onListening = (): void => settle(null);
    const onClose = (): void => settle(Object.assign(new Error('The socket closed before it was bound.'), { code: 'ERR_SOCKET_CLOSED' }));
    socket.once('error', onError);
    socket.once('listening', onListening);
    socket.once('close', onClose);
    socket.bind({ port, ...(address === undefined ? {} : { address }), exclusive: true });
  });
}

function boundPort(socket: dgram.Socket): number | null {
  try {
    return socket.address().port;
  } catch {
    return null; // closed meanwhile (pruned or connection closed)
  }
}

function closeSocket(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

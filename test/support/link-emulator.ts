import dgram from 'node:dgram';
import net from 'node:net';
import { systemClock, type Clock, type Millis } from '../../protocol/clock.js';
import { LinkModel, linkProfile, type LinkProfile, type LinkStats } from './link-model.js';
import { seededRandom, type Random } from './seeded-random.js';

/**
 * A UDP relay on loopback that stands between a client and a server and makes the path between
 * them as bad as a test asks: delay, jitter, loss, duplication, reordering, a rate limit, and a
 * change of the client's address mid-run (roaming). The client sends to `port`; the relay forwards
 * from its own "client-side" socket to the server, and sends the server's replies back to wherever
 * the client last sent from. All decisions are the pure `LinkModel`'s; this class only does I/O
 * and timers.
 */

/** client→server is "up", server→client is "down". */
export type LinkDirection = 'up' | 'down';

export interface UdpAddress {
  readonly address: string;
  readonly port: number;
}

export interface LinkEmulatorOptions {
  /** Where the server listens. Must be a numeric loopback address. */
  readonly server: UdpAddress;
  /** Client-facing address to listen on (loopback only); default 127.0.0.1. */
  readonly listenAddress?: string;
  /** Client-facing port; default 0 (the OS picks one; read it back from `port`). */
  readonly listenPort?: number;
  /** Local address of the server-facing socket, which the server sees as the client's; default 127.0.0.1 (::1 for an IPv6 server). */
  readonly clientSideAddress?: string;
  readonly up?: Partial<LinkProfile>;
  readonly down?: Partial<LinkProfile>;
  /** Seed of the per-direction PRNGs; ignored when `random` is given. Default DEFAULT_LINK_SEED. */
  readonly seed?: number;
  /** One random source for both directions (overrides `seed`). */
  readonly random?: Random;
  /** The relay's notion of now; it must run at real speed, since the relay waits with real timers. */
  readonly clock?: Clock;
}

export const DEFAULT_LINK_SEED = 0x7e57_1ee;
/** XORed into the seed for the down direction so the two directions decide independently. */
const DOWN_SEED_SALT = 0x9e37_79b9;

export interface DirectionStats extends LinkStats {
  /** Socket errors on the socket that sends this direction's datagrams (the model counted those datagrams forwarded). */
  readonly sendErrors: number;
}

export interface LinkEmulatorStats {
  readonly up: DirectionStats;
  readonly down: DirectionStats;
  /** Datagrams that reached the server-facing socket from someone other than the server; ignored. */
  readonly strays: number;
}

export class NonLoopbackAddressError extends Error {
  override readonly name = 'NonLoopbackAddressError';
}

export class LinkEmulatorClosedError extends Error {
  override readonly name = 'LinkEmulatorClosedError';
  constructor() {
    super('the link emulator is closed');
  }
}

const loopback = new net.BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** True for numeric loopback addresses only (127.0.0.0/8, ::1, and their IPv4-mapped forms). */
export function isLoopbackAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 0) return false;
  return loopback.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

function requireLoopback(address: string, role: string): void {
  if (!isLoopbackAddress(address)) {
    throw new NonLoopbackAddressError(`the link emulator only uses loopback addresses, but the ${role} is '${address}'`);
  }
}

function socketType(address: string): dgram.SocketType {
  return net.isIPv6(address) ? 'udp6' : 'udp4';
}

async function bindSocket(address: string, port: number): Promise<dgram.Socket> {
  const socket = dgram.createSocket(socketType(address));
  await new Promise<void>((resolve, reject) => {
    const fail = (error: Error): void => {
      socket.close();
      reject(error);
    };
    socket.once('error', fail);
    socket.bind(port, address, () => {
      socket.off('error', fail);
      resolve();
    });
  });
  return socket;
}

async function closeSocket(socket: dgram.Socket): Promise<void> {
  await new Promise<void>((resolve) => socket.close(() => resolve()));
}

class DirectionState {
  readonly model: LinkModel<Buffer>;
  timer: NodeJS.Timeout | undefined;
  /** The time the armed timer is for; Infinity when none is armed. */
  timerAt: Millis = Infinity;
  sendErrors = 0;

  constructor(profile: Partial<LinkProfile> | undefined, random: Random) {
    this.model = new LinkModel<Buffer>(profile ?? {}, random);
  }
}

export class LinkEmulator {
  readonly #server: UdpAddress;
  readonly #clock: Clock;
  readonly #clientFacing: dgram.Socket;
  #clientSide: dgram.Socket;
  #client: UdpAddress | undefined;
  readonly #up: DirectionState;
  readonly #down: DirectionState;
  #strays = 0;
  #closed = false;
  readonly #deliverUp = (packet: Buffer): boolean => this.#sendToServer(packet);
  readonly #deliverDown = (packet: Buffer): boolean => this.#sendToClient(packet);

  private constructor(
    options: LinkEmulatorOptions,
    clientFacing: dgram.Socket,
    clientSide: dgram.Socket,
  ) {
    this.#server = { address: options.server.address, port: options.server.port };
    this.#clock = options.clock ?? systemClock;
    const seed = options.seed ?? DEFAULT_LINK_SEED;
    this.#up = new DirectionState(options.up, options.random ?? seededRandom(seed));
    this.#down = new DirectionState(options.down, options.random ?? seededRandom(seed ^ DOWN_SEED_SALT));
    this.#clientFacing = clientFacing;
    this.#clientSide = clientSide;
    clientFacing.on('message', (packet, from) => this.#fromClient(packet, from));
    // A UDP socket reports ICMP errors and the like as 'error'; a relay must not crash on them.
    clientFacing.on('error', () => this.#down.sendErrors++);
    this.#attachClientSide(clientSide);
  }

  /** Binds both sockets and starts relaying. Refuses any address that is not loopback. */
  static async start(options: LinkEmulatorOptions): Promise<LinkEmulator> {
    const listenAddress = options.listenAddress ?? '127.0.0.1';
    const server = options.server;
    const clientSideAddress = options.clientSideAddress ?? (net.isIPv6(server.address) ? '::1' : '127.0.0.1');
    requireLoopback(server.address, 'server address');
    requireLoopback(listenAddress, 'listen address');
    requireLoopback(clientSideAddress, 'client-side address');
    if (!Number.isInteger(server.port) || server.port < 1 || server.port > 65535) {
      throw new RangeError(`server port must be 1–65535, got ${server.port}`);
    }
    if (socketType(clientSideAddress) !== socketType(server.address)) {
      throw new NonLoopbackAddressError(`client-side address '${clientSideAddress}' and server address '${server.address}' are of different families`);
    }
    // Check the profiles before binding anything, so a bad one leaks no socket.
    linkProfile(options.up);
    linkProfile(options.down);
    const clientFacing = await bindSocket(listenAddress, options.listenPort ?? 0);
    try {
      const clientSide = await bindSocket(clientSideAddress, 0);
      return new LinkEmulator(options, clientFacing, clientSide);
    } catch (error) {
      await closeSocket(clientFacing);
      throw error;
    }
  }

  /** The client-facing port: point the client here. */
  get port(): number {
    return this.#clientFacing.address().port;
  }

  /** The client-facing address and port. */
  get address(): UdpAddress {
    const { address, port } = this.#clientFacing.address();
    return { address, port };
  }

  /** Where the server sees the client coming from. */
  get clientSide(): UdpAddress {
    const { address, port } = this.#clientSide.address();
    return { address, port };
  }

  /** The client address replies go to, once the client has sent anything. */
  get client(): UdpAddress | undefined {
    return this.#client;
  }

  /** Replaces a direction's profile (unspecified fields: perfect). In-flight datagrams keep their times. */
  setProfile(direction: LinkDirection, profile: Partial<LinkProfile>): void {
    this.#direction(direction).model.setProfile(profile);
  }

  profile(direction: LinkDirection): LinkProfile {
    return this.#direction(direction).model.profile;
  }

  get stats(): LinkEmulatorStats {
    return {
      up: { ...this.#up.model.stats, sendErrors: this.#up.sendErrors },
      down: { ...this.#down.model.stats, sendErrors: this.#down.sendErrors },
      strays: this.#strays,
    };
  }

  /**
   * Rebinds the server-facing socket to `address` and a fresh port, as when a laptop changes
   * networks: from now on the server sees the client arrive from there, and replies the server
   * still sends to the old address are lost. Resolves to the new address.
   */
  async moveClientSide(address = '127.0.0.2'): Promise<UdpAddress> {
    requireLoopback(address, 'new client-side address');
    if (socketType(address) !== socketType(this.#server.address)) {
      throw new NonLoopbackAddressError(`new client-side address '${address}' and server address '${this.#server.address}' are of different families`);
    }
    if (this.#closed) throw new LinkEmulatorClosedError();
    const previous = this.#clientSide;
    const next = await bindSocket(address, 0);
    if (this.#closed) {
      await closeSocket(next);
      throw new LinkEmulatorClosedError();
    }
    this.#attachClientSide(next);
    this.#clientSide = next;
    await closeSocket(previous);
    return this.clientSide;
  }

  /** Stops relaying, drops whatever is in flight, and closes both sockets. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const direction of [this.#up, this.#down]) {
      clearTimeout(direction.timer);
      direction.timer = undefined;
      direction.model.clear();
    }
    await Promise.all([closeSocket(this.#clientFacing), closeSocket(this.#clientSide)]);
  }

  #direction(direction: LinkDirection): DirectionState {
    return direction === 'up' ? this.#up : this.#down;
  }

  #attachClientSide(socket: dgram.Socket): void {
    socket.on('message', (packet, from) => this.#fromServer(socket, packet, from));
    socket.on('error', () => this.#up.sendErrors++);
  }

  #fromClient(packet: Buffer, from: dgram.RemoteInfo): void {
    if (this.#closed) return;
    // The client may hop ports or addresses; replies follow it, as a NAT's would.
    if (this.#client === undefined || this.#client.address !== from.address || this.#client.port !== from.port) {
      this.#client = { address: from.address, port: from.port };
    }
    this.#offer(this.#up, packet, this.#deliverUp);
  }

  #fromServer(socket: dgram.Socket, packet: Buffer, from: dgram.RemoteInfo): void {
    if (this.#closed || socket !== this.#clientSide) return;
    if (from.port !== this.#server.port || !sameAddress(from.address, this.#server.address)) {
      this.#strays++;
      return;
    }
    this.#offer(this.#down, packet, this.#deliverDown);
  }

  #offer(direction: DirectionState, packet: Buffer, deliver: (packet: Buffer) => boolean): void {
    const now = this.#clock();
    direction.model.send(now, packet, packet.length);
    direction.model.deliverDue(now, deliver);
    this.#arm(direction, deliver);
  }

  /** Keeps one timer per direction, set for the earliest datagram in flight. */
  #arm(direction: DirectionState, deliver: (packet: Buffer) => boolean): void {
    const next = direction.model.nextDeliveryAt;
    if (next === undefined) {
      clearTimeout(direction.timer);
      direction.timer = undefined;
      direction.timerAt = Infinity;
      return;
    }
    if (direction.timer !== undefined && direction.timerAt <= next) return;
    clearTimeout(direction.timer);
    direction.timerAt = next;
    // Timers may fire a little early by the monotonic clock; the re-arm below covers that.
    direction.timer = setTimeout(() => {
      direction.timer = undefined;
      direction.timerAt = Infinity;
      if (this.#closed) return;
      direction.model.deliverDue(this.#clock(), deliver);
      this.#arm(direction, deliver);
    }, Math.max(0, Math.ceil(next - this.#clock())));
  }

  #sendToServer(packet: Buffer): boolean {
    const server = this.#server;
    this.#clientSide.send(packet, server.port, server.address, (error) => {
      if (error) this.#up.sendErrors++;
    });
    return true;
  }

  #sendToClient(packet: Buffer): boolean {
    const client = this.#client;
    if (client === undefined || !isLoopbackAddress(client.address)) return false;
    this.#clientFacing.send(packet, client.port, client.address, (error) => {
      if (error) this.#down.sendErrors++;
    });
    return true;
  }
}

/** Compares two numeric addresses, treating an IPv4-mapped IPv6 address as its IPv4 form. */
function sameAddress(a: string, b: string): boolean {
  return unmapped(a) === unmapped(b);
}

function unmapped(address: string): string {
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

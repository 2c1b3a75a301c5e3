import net from 'node:net';
import { systemClock, type Clock } from '../../protocol/clock.js';
import { isLoopbackAddress, NonLoopbackAddressError } from './link-emulator.js';
import { seededRandom } from './seeded-random.js';
import {
  tcpAckWireBytes,
  tcpDataWireBytes,
  tcpPathProfile,
  TcpPathModel,
  ZERO_TCP_PATH_STATS,
  type TcpPathProfile,
  type TcpPathStats,
} from './tcp-path-model.js';

/**
 * A TCP relay on loopback for ssh, the TCP counterpart of the UDP link emulator: the client connects
 * to `port`, the relay connects on to the server, and each direction's bytes cross a `TcpPathModel`
 * (one-way delay, and the effects of segment loss on TCP: retransmission delay, head-of-line
 * blocking, a shrinking congestion window). When a direction's model holds more than its send
 * buffer, the relay stops reading from that side, so the writer blocks as on a slow real link.
 */
export interface TcpLinkOptions {
  /** Where the server listens (numeric loopback address). */
  readonly server: { readonly address: string; readonly port: number };
  readonly listenAddress?: string;
  /** client→server. */
  readonly up?: Partial<TcpPathProfile>;
  /** server→client. */
  readonly down?: Partial<TcpPathProfile>;
  readonly seed?: number;
  readonly clock?: Clock;
}

export const DEFAULT_TCP_LINK_SEED = 0x7c9_11e;
const DOWN_SEED_SALT = 0x5bd1_e995;

/** Totals over every connection the relay carried. */
export interface TcpLinkStats {
  readonly connections: number;
  readonly up: TcpPathStats;
  readonly down: TcpPathStats;
}

/** Bytes on an IPv4 wire in each direction: data segments with their headers, plus the pure ACKs for the other direction's data. */
export function tcpWireBytes(stats: TcpLinkStats): { readonly up: number; readonly down: number } {
  return {
    up: tcpDataWireBytes(stats.up) + tcpAckWireBytes(stats.down),
    down: tcpDataWireBytes(stats.down) + tcpAckWireBytes(stats.up),
  };
}

const ZERO_STATS = ZERO_TCP_PATH_STATS;

function addStats(a: TcpPathStats, b: TcpPathStats): TcpPathStats {
  return {
    writtenBytes: a.writtenBytes + b.writtenBytes,
    deliveredBytes: a.deliveredBytes + b.deliveredBytes,
    segmentsSent: a.segmentsSent + b.segmentsSent,
    retransmissions: a.retransmissions + b.retransmissions,
    payloadBytesSent: a.payloadBytesSent + b.payloadBytesSent,
    acksSent: a.acksSent + b.acksSent,
    reductions: a.reductions + b.reductions,
    timeouts: a.timeouts + b.timeouts,
  };
}

/** One direction of one relayed connection: reads `from`, runs the model, writes `to`. */
class RelayDirection {
  readonly model: TcpPathModel;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #sourceEnded = false;
  #paused = false;
  #closed = false;

  constructor(
    readonly from: net.Socket,
    readonly to: net.Socket,
    profile: TcpPathProfile,
    seed: number,
    readonly clock: Clock,
  ) {
    this.model = new TcpPathModel(profile, seededRandom(seed));
    from.on('data', (chunk: Buffer) => {
      this.model.write(this.clock(), chunk);
      this.#pump();
    });
    from.on('end', () => {
      this.#sourceEnded = true;
      this.#pump();
    });
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #pump(): void {
    if (this.#closed) return;
    this.model.advance(this.clock(), (data) => {
      if (!this.to.destroyed) this.to.write(data);
    });
    const backlog = this.model.backlogBytes;
    const limit = this.model.profile.sendBufferBytes;
    if (!this.#paused && backlog > limit) {
      this.#paused = true;
      this.from.pause();
    } else if (this.#paused && backlog <= limit / 2) {
      this.#paused = false;
      this.from.resume();
    }
    if (this.#sourceEnded && this.model.idle) {
      this.to.end();
      return;
    }
    this.#arm();
  }

  #arm(): void {
    const next = this.model.nextEventAt;
    if (next === undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#timerAt = Infinity;
      return;
    }
    if (this.#timer !== undefined && this.#timerAt <= next) return;
    clearTimeout(this.#timer);
    this.#timerAt = next;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#pump();
    }, Math.max(0, Math.ceil(next - this.clock())));
  }
}

export class TcpLink {
  readonly #server: net.Server;
  readonly #options: TcpLinkOptions;
  readonly #up: TcpPathProfile;
  readonly #down: TcpPathProfile;
  readonly #clock: Clock;
  readonly #open = new Set<{ readonly up: RelayDirection; readonly down: RelayDirection; readonly sockets: readonly net.Socket[] }>();
  /** Stats of connections already closed. */
  #closedUp: TcpPathStats = ZERO_STATS;
  #closedDown: TcpPathStats = ZERO_STATS;
  #connections = 0;

  private constructor(server: net.Server, options: TcpLinkOptions) {
    this.#server = server;
    this.#options = options;
    this.#up = tcpPathProfile(options.up);
    this.#down = tcpPathProfile(options.down);
    this.#clock = options.clock ?? systemClock;
    server.on('connection', (socket) => this.#accept(socket));
  }

  /** Listens on loopback and relays every connection to `server`. Refuses non-loopback addresses. */
  static async start(options: TcpLinkOptions): Promise<TcpLink> {
    const listenAddress = options.listenAddress ?? '127.0.0.1';
    for (const [role, address] of [['server address', options.server.address], ['listen address', listenAddress]] as const) {
      if (!isLoopbackAddress(address)) throw new NonLoopbackAddressError(`the TCP link only uses loopback addresses, but the ${role} is '${address}'`);
    }
    tcpPathProfile(options.up);
    tcpPathProfile(options.down);
    const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, listenAddress, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new TcpLink(server, options);
  }

  get port(): number {
    const address = this.#server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  get stats(): TcpLinkStats {
    let up = this.#closedUp;
    let down = this.#closedDown;
    for (const c of this.#open) {
      up = addStats(up, c.up.model.stats);
      down = addStats(down, c.down.model.stats);
    }
    return { connections: this.#connections, up, down };
  }

  /** Stops listening and drops every relayed connection. */
  async close(): Promise<void> {
    for (const c of [...this.#open]) this.#drop(c);
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: net.Socket): void {
    this.#connections++;
    const index = this.#connections;
    const server = net.connect({ host: this.#options.server.address, port: this.#options.server.port, allowHalfOpen: true });
    client.setNoDelay(true);
    server.setNoDelay(true);
    const seed = (this.#options.seed ?? DEFAULT_TCP_LINK_SEED) + index;
    const entry = {
      up: new RelayDirection(client, server, this.#up, seed, this.#clock),
      down: new RelayDirection(server, client, this.#down, seed ^ DOWN_SEED_SALT, this.#clock),
      sockets: [client, server] as const,
    };
    this.#open.add(entry);
    server.once('connect', () => client.resume());
    for (const socket of entry.sockets) {
      socket.on('error', () => this.#drop(entry));
      // Half-open: each side's end is passed on once its data is across; done when both are closed.
      socket.on('close', () => {
        if (entry.sockets.every((s) => s.closed)) this.#drop(entry);
      });
    }
  }

  #drop(entry: { readonly up: RelayDirection; readonly down: RelayDirection; readonly sockets: readonly net.Socket[] }): void {
    if (!this.#open.delete(entry)) return;
    entry.up.close();
    entry.down.close();
    this.#closedUp = addStats(this.#closedUp, entry.up.model.stats);
    this.#closedDown = addStats(this.#closedDown, entry.down.model.stats);
    for (const socket of entry.sockets) socket.destroy();
  }
}

/**
 * One end of the datagram connection, without sockets ("sans-IO"): it numbers and seals outgoing
 * payloads, opens incoming datagrams, measures the round-trip time from echoed timestamps, follows a
 * roaming client (server role) and decides when to hop ports (client role). `UdpConnection` puts
 * real sockets around it; tests and simulators drive it directly.
 *
 * Security rules (DESIGN.md): a datagram that fails authentication changes nothing here. Only an
 * authentic datagram newer than every one seen before may move the remote address, give an RTT
 * sample or count as hearing from the peer, so a replayed one cannot steal the session.
 */
import { systemClock, type Clock, type Millis } from './clock.js';
import { DatagramCipher, Direction, TIMESTAMP_NONE, type RejectReason } from './datagram.js';
import type { AddressFamily } from './fragmenter.js';
import { RttEstimator, type RttEstimatorOptions } from './rtt-estimator.js';
import type { SessionKey } from './session-key.js';

export type Role = 'server' | 'client';

export type PeerAddress = { readonly address: string; readonly port: number; readonly family: AddressFamily };

/** The client opens a new socket (new source port, new NAT binding) after this long without a round trip or a hop. */
export const PORT_HOP_INTERVAL_MS = 10_000;
/** A peer timestamp older than this is not echoed: the echo would overstate the round trip. */
export const TIMESTAMP_REPLY_MAX_AGE_MS = 1000;
/** The server stops sending to a client it has not heard from for this long. */
export const SERVER_ASSOCIATION_TIMEOUT_MS = 40_000;

export interface ConnectionOptions {
  readonly role: Role;
  readonly key: SessionKey;
  readonly clock?: Clock;
  /** Client role: the server's address. Server role: ignored (learnt from the first authentic datagram). */
  readonly remote?: PeerAddress;
  readonly portHopIntervalMs?: Millis;
  readonly timestampReplyMaxAgeMs?: Millis;
  readonly serverAssociationTimeoutMs?: Millis;
  readonly rtt?: Partial<RttEstimatorOptions>;
}

export interface ConnectionStats {
  readonly sent: number;
  /** Authentic datagrams, in order or not. */
  readonly received: number;
  /** Authentic datagrams that were not newer than all before them (late, duplicated or replayed). */
  readonly stale: number;
  /** Datagrams that failed to open, all reasons. */
  readonly rejected: number;
  readonly rejectedBy: Readonly<Record<RejectReason, number>>;
  /** Times the server moved `remote` to a new address (the first attach not counted). */
  readonly roams: number;
  readonly rttSamples: number;
}

export class Connection {
  readonly role: Role;
  readonly cipher: DatagramCipher;
  readonly portHopIntervalMs: Millis;
  readonly timestampReplyMaxAgeMs: Millis;
  readonly serverAssociationTimeoutMs: Millis;

  readonly #clock: Clock;
  readonly #rtt: RttEstimator;
  readonly #outgoing: Direction;
  readonly #incoming: Direction;
  #nextSeq = 0;
  /** Sequence number an in-order datagram must reach: one past the newest seen. */
  #expectedSeq = 0;
  #savedTimestamp: number | null = null;
  #savedAt: Millis = 0;
  #remote: PeerAddress | null;
  #lastHeard: Millis | null = null;
  #lastHop: Millis;
  #lastRoundTrip: Millis;
  #sent = 0;
  #received = 0;
  #stale = 0;
  #roams = 0;

  /** Needs `await sodiumReady()` first. */
  constructor(options: ConnectionOptions) {
    this.role = options.role;
    this.cipher = new DatagramCipher(options.key);
    this.#clock = options.clock ?? systemClock;
    this.#rtt = new RttEstimator(options.rtt);
    this.portHopIntervalMs = options.portHopIntervalMs ?? PORT_HOP_INTERVAL_MS;
    this.timestampReplyMaxAgeMs = options.timestampReplyMaxAgeMs ?? TIMESTAMP_REPLY_MAX_AGE_MS;
    this.serverAssociationTimeoutMs = options.serverAssociationTimeoutMs ?? SERVER_ASSOCIATION_TIMEOUT_MS;
    this.#outgoing = this.role === 'server' ? Direction.ToClient : Direction.ToServer;
    this.#incoming = this.role === 'server' ? Direction.ToServer : Direction.ToClient;
    this.#remote = this.role === 'client' && options.remote !== undefined ? { ...options.remote } : null;
    const now = this.#clock();
    this.#lastHop = now;
    this.#lastRoundTrip = now;
  }

  /** Where to send: for the server, the client's latest address (null until it is first heard). */
  get remote(): PeerAddress | null {
    return this.#remote;
  }

  /** Clock time of the last authentic in-order datagram, or null. */
  get lastHeard(): Millis | null {
    return this.#lastHeard;
  }

  get srtt(): Millis {
    return this.#rtt.srtt;
  }

  get rttvar(): Millis {
    return this.#rtt.rttvar;
  }

  get rto(): Millis {
    return this.#rtt.rto;
  }

  /** The sequence number the next `seal` will use. */
  get nextSequence(): number {
    return this.#nextSeq;
  }

  get lastHop(): Millis {
    return this.#lastHop;
  }

  get lastRoundTripSuccess(): Millis {
    return this.#lastRoundTrip;
  }

  get stats(): ConnectionStats {
    return {
      sent: this.#sent,
      received: this.#received,
      stale: this.#stale,
      rejected: this.cipher.rejected,
      rejectedBy: { ...this.cipher.rejectedBy },
      roams: this.#roams,
      rttSamples: this.#rtt.samples,
    };
  }

  /**
   * Seals `payload` as the next datagram. It carries our clock and, if we hold a fresh one, the
   * peer's last timestamp advanced by how long we held it (so a delayed reply does not inflate the
   * peer's RTT); each held timestamp is echoed once.
   */
  seal(payload: Uint8Array): Uint8Array {
    const now = this.#clock();
    let reply: number | null = null;
    if (this.#savedTimestamp !== null && now - this.#savedAt < this.timestampReplyMaxAgeMs) {
      reply = this.#savedTimestamp + Math.floor(now - this.#savedAt);
      this.#savedTimestamp = null;
    }
    const datagram = this.cipher.seal(this.#outgoing, this.#nextSeq, Math.floor(now), reply, payload);
    this.#nextSeq++;
    this.#sent++;
    return datagram;
  }

  /** Opens a datagram that arrived from `from`; returns its payload, or null if it is not authentic. */
  receive(bytes: Uint8Array, from: PeerAddress): Uint8Array | null {
    const datagram = this.cipher.open(bytes, this.#incoming);
    if (datagram === null) return null;
    this.#received++;
    if (datagram.seq < this.#expectedSeq) {
      this.#stale++;
      return datagram.payload;
    }
    const now = this.#clock();
    this.#expectedSeq = datagram.seq + 1;
    if (datagram.timestamp !== TIMESTAMP_NONE) {
      this.#savedTimestamp = datagram.timestamp;
      this.#savedAt = now;
    }
    if (datagram.timestampReply !== null) {
      this.#rtt.addSample((Math.floor(now) - datagram.timestampReply) & 0xffff);
    }
    this.#lastHeard = now;
    if (this.role === 'server' && !sameAddress(this.#remote, from)) {
      if (this.#remote !== null) this.#roams++;
      this.#remote = { address: from.address, port: from.port, family: from.family };
    }
    return datagram.payload;
  }

  /** Server role: whether the client has been heard recently enough to keep sending to it. The client is always associated. */
  isAssociated(now: Millis = this.#clock()): boolean {
    if (this.role === 'client') return this.#remote !== null;
    return this.#remote !== null && this.#lastHeard !== null && now - this.#lastHeard <= this.serverAssociationTimeoutMs;
  }

  /** Client role: true when both the last hop and the last round-trip success are older than the hop interval. */
  shouldHop(now: Millis = this.#clock()): boolean {
    return (
      this.role === 'client' &&
      now - this.#lastHop > this.portHopIntervalMs &&
      now - this.#lastRoundTrip > this.portHopIntervalMs
    );
  }

  /** Records that the client just opened a new socket. */
  noteHop(now: Millis = this.#clock()): void {
    this.#lastHop = now;
  }

  /** Called by the transport when the peer acknowledges a state we sent at `sentAt`. */
  noteRoundTripSuccess(sentAt: Millis): void {
    if (sentAt > this.#lastRoundTrip) this.#lastRoundTrip = sentAt;
  }
}

function sameAddress(a: PeerAddress | null, b: PeerAddress): boolean {
  return a !== null && a.port === b.port && a.address === b.address && a.family === b.family;
}

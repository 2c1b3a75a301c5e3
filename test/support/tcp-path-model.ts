import type { Millis } from '../../protocol/clock.js';
import type { Random } from './seeded-random.js';

/**
 * One direction of a TCP connection over a delayed, lossy path, as a pure model: bytes written in,
 * bytes delivered out in order, at the times a real TCP sender would get them across.
 *
 * Why a model: this machine's kernel has no netem qdisc and no iptables, so a TCP relay cannot
 * make the kernel's own TCP see loss. Delaying a stream is easy (hold each chunk for the one-way
 * delay); loss is not, because TCP hides it: a lost segment is retransmitted after a timeout or a
 * later segment's ack, everything behind it waits (head-of-line blocking), and the congestion
 * window shrinks, which is what makes bulk output slow. This models those three effects with
 * Linux-like constants, so ssh on a lossy link suffers the way it does on a real one. Simplified:
 *
 * - Each transmission of a data segment (≤ MSS bytes, sent as soon as the window allows: ssh sets
 *   TCP_NODELAY) is lost with probability `loss`. ACKs are never lost (they are cumulative, so a
 *   lost ACK is covered by the next) and are not delayed.
 * - A lost segment is found lost either when a segment sent after it is acked, plus a reordering
 *   window of RTT/4 (RACK, Linux's default), or by a timer (tail-loss probe or RTO, both about
 *   RTT + 200 ms on Linux: RTO = SRTT + max(4·RTTVAR, 200 ms) with a steady RTT), doubled for each
 *   further loss of the same segment. It is retransmitted at once.
 * - Congestion window: initial 10 segments, slow start, then +1/cwnd per acked segment; ×0.7 once
 *   per window of data on a loss (CUBIC's β), reset to 1 when a retransmission is lost too
 *   (a real RTO); after an idle period longer than the RTO it restarts from the initial window.
 * - No receive-window limit (autotuning), no Nagle, no delayed ACK.
 */
export interface TcpPathProfile {
  /** One-way propagation delay (the ACKs take the same delay back). */
  readonly delayMs: Millis;
  /** Probability (0..1) that one transmission of a data segment is lost. */
  readonly loss: number;
  /** Maximum segment payload (1448 B: 1500-byte Ethernet MTU minus IPv4, TCP and timestamp headers). */
  readonly mss: number;
  /** Initial congestion window, in segments (Linux: 10). */
  readonly initialWindow: number;
  /** The RTO floor added to the RTT (Linux's TCP_RTO_MIN, 200 ms). */
  readonly minRtoMs: Millis;
  /**
   * How many bytes (unsent + unacknowledged) the sender holds before its writer should stop: the
   * socket send buffer. The relay stops reading its source above this, so the writer blocks.
   */
  readonly sendBufferBytes: number;
}

export const TCP_MSS = 1448;
/** IPv4 (20) + TCP (20) + timestamps option (12): the headers of every segment, ACKs included. */
export const TCP_HEADER_BYTES = 52;
export const DEFAULT_TCP_PATH: TcpPathProfile = Object.freeze({
  delayMs: 0,
  loss: 0,
  mss: TCP_MSS,
  initialWindow: 10,
  minRtoMs: 200,
  sendBufferBytes: 256 * 1024,
});
/** CUBIC's multiplicative decrease. */
const LOSS_BETA = 0.7;
const MAX_CWND = 100_000;
/** A timer of a segment lost again backs off at most this many times (×64), as bounded as Linux's. */
const MAX_BACKOFF_SHIFT = 6;

export class InvalidTcpPathError extends Error {
  override readonly name = 'InvalidTcpPathError';
}

export function tcpPathProfile(settings: Partial<TcpPathProfile> = {}): TcpPathProfile {
  const profile: TcpPathProfile = { ...DEFAULT_TCP_PATH, ...settings };
  if (!(profile.loss >= 0 && profile.loss < 1)) throw new InvalidTcpPathError(`TCP path loss must be in [0, 1), got ${profile.loss}`);
  for (const key of ['delayMs', 'minRtoMs'] as const) {
    if (!(profile[key] >= 0 && Number.isFinite(profile[key]))) throw new InvalidTcpPathError(`TCP path ${key} must be a finite number ≥ 0, got ${profile[key]}`);
  }
  for (const key of ['mss', 'initialWindow', 'sendBufferBytes'] as const) {
    if (!(Number.isInteger(profile[key]) && profile[key] >= 1)) throw new InvalidTcpPathError(`TCP path ${key} must be an integer ≥ 1, got ${profile[key]}`);
  }
  return Object.freeze(profile);
}

/** Counters of one direction. */
export interface TcpPathStats {
  /** Bytes written by the application. */
  readonly writtenBytes: number;
  /** Bytes handed to the receiving application, in order. */
  readonly deliveredBytes: number;
  /** Data segments put on the wire, retransmissions included. */
  readonly segmentsSent: number;
  readonly retransmissions: number;
  /** Payload bytes put on the wire, retransmitted bytes included. */
  readonly payloadBytesSent: number;
  /** Pure ACKs the receiver sends back (one per two full-sized segments, one per smaller segment): an estimate, as ACKs also ride on data. */
  readonly acksSent: number;
  /** Congestion responses: window reductions and timeouts. */
  readonly reductions: number;
  readonly timeouts: number;
}

/** Every counter at zero. */
export const ZERO_TCP_PATH_STATS: TcpPathStats = Object.freeze({
  writtenBytes: 0,
  deliveredBytes: 0,
  segmentsSent: 0,
  retransmissions: 0,
  payloadBytesSent: 0,
  acksSent: 0,
  reductions: 0,
  timeouts: 0,
});

/** Bytes on the wire for one direction's data: payload plus headers of every segment. */
export function tcpDataWireBytes(stats: TcpPathStats): number {
  return stats.payloadBytesSent + stats.segmentsSent * TCP_HEADER_BYTES;
}

/** Bytes on the wire of the pure ACKs one direction's receiver sends back (they travel the other way). */
export function tcpAckWireBytes(stats: TcpPathStats): number {
  return stats.acksSent * TCP_HEADER_BYTES;
}

interface Segment {
  readonly id: number;
  readonly data: Buffer;
  /** When the latest transmission left. */
  sentAt: Millis;
  transmissions: number;
  /** The latest transmission is lost and not yet found out. */
  lost: boolean;
  /** Found lost, waiting to be retransmitted. */
  retransmitDue: boolean;
  /** When the latest (surviving) transmission reaches the receiver, or Infinity. */
  arriveAt: Millis;
  /** When its ACK reaches the sender, or Infinity. */
  ackAt: Millis;
  /** When the sender finds the latest (lost) transmission lost, or Infinity. */
  detectAt: Millis;
  /** True if `detectAt` was set by a timer rather than by a later segment's ACK. */
  detectByTimer: boolean;
  arrived: boolean;
  acked: boolean;
}

export class TcpPathModel {
  readonly #profile: TcpPathProfile;
  readonly #random: Random;
  /** Segments sent and not yet both acked and delivered, in id order. */
  readonly #segments: Segment[] = [];
  /** Written but not yet cut into segments. */
  readonly #unsent: Buffer[] = [];
  #unsentBytes = 0;
  #nextId = 0;
  /** Id of the next segment the receiver hands to its application. */
  #deliverNext = 0;
  #cwnd: number;
  #ssthresh = Infinity;
  /** Losses of segments up to this id belong to the loss episode already answered. */
  #recoveryPoint = -1;
  #lastSendAt: Millis = -Infinity;
  #stats: { -readonly [K in keyof TcpPathStats]: TcpPathStats[K] } = { ...ZERO_TCP_PATH_STATS };
  /** Half ACKs owed for full-sized segments (one ACK per two). */
  #halfAcks = 0;

  constructor(profile: Partial<TcpPathProfile>, random: Random) {
    this.#profile = tcpPathProfile(profile);
    this.#random = random;
    this.#cwnd = this.#profile.initialWindow;
  }

  get profile(): TcpPathProfile {
    return this.#profile;
  }

  get stats(): TcpPathStats {
    return { ...this.#stats };
  }

  /** The congestion window, in segments. */
  get cwnd(): number {
    return this.#cwnd;
  }

  /** Bytes written and not yet acknowledged (the send buffer's fill). */
  get backlogBytes(): number {
    let bytes = this.#unsentBytes;
    for (const segment of this.#segments) if (!segment.acked) bytes += segment.data.length;
    return bytes;
  }

  /** True once everything written has been delivered. */
  get idle(): boolean {
    return this.#unsentBytes === 0 && this.#segments.length === 0;
  }

  get #rtt(): Millis {
    return 2 * this.#profile.delayMs;
  }

  get #rto(): Millis {
    return this.#rtt + this.#profile.minRtoMs;
  }

  /** The application writes `data` at `now`; whatever the window allows leaves at once. */
  write(now: Millis, data: Buffer): void {
    if (data.length === 0) return;
    this.#unsent.push(data);
    this.#unsentBytes += data.length;
    this.#stats.writtenBytes += data.length;
    this.#sendAllowed(now);
  }

  /** The time of the next event (an arrival, an ACK or a loss found), or undefined if none is pending. */
  get nextEventAt(): Millis | undefined {
    let next = Infinity;
    for (const s of this.#segments) {
      if (!s.arrived && s.arriveAt < next) next = s.arriveAt;
      if (!s.acked && s.ackAt < next) next = s.ackAt;
      if (s.lost && s.detectAt < next) next = s.detectAt;
    }
    return next === Infinity ? undefined : next;
  }

  /**
   * Runs every event due by `now`, in time order, handing in-order data to `deliver` as it reaches
   * the receiver. Each event is processed at its own time, so a late call changes nothing but when
   * `deliver` is called. Returns the bytes delivered.
   */
  advance(now: Millis, deliver: (data: Buffer) => void): number {
    let delivered = 0;
    // Bounded: each round settles at least one pending event (an arrival, an ACK or a detection).
    for (let next = this.nextEventAt; next !== undefined && next <= now; next = this.nextEventAt) {
      delivered += this.#runEventsAt(next, deliver);
      this.#sendAllowed(next);
    }
    this.#sendAllowed(now);
    return delivered;
  }

  #runEventsAt(t: Millis, deliver: (data: Buffer) => void): number {
    const segments = this.#segments;
    for (const s of segments) {
      if (!s.arrived && s.arriveAt <= t) {
        s.arrived = true;
        s.arriveAt = Infinity;
        this.#countAck(s);
      }
    }
    for (const s of segments) {
      if (!s.acked && s.ackAt <= t) this.#onAck(t, s);
    }
    for (const s of segments) {
      if (s.lost && s.detectAt <= t) this.#onLossFound(s);
    }
    let delivered = 0;
    for (const s of segments) {
      if (s.id === this.#deliverNext && s.arrived) {
        this.#deliverNext++;
        delivered += s.data.length;
        deliver(s.data);
      }
    }
    // Forget the leading segments that are both delivered and acknowledged.
    let done = 0;
    while (done < segments.length && segments[done]!.acked && segments[done]!.id < this.#deliverNext) done++;
    if (done > 0) segments.splice(0, done);
    this.#stats.deliveredBytes += delivered;
    return delivered;
  }

  #countAck(segment: Segment): void {
    if (segment.data.length >= this.#profile.mss) {
      this.#halfAcks++;
      if (this.#halfAcks === 2) {
        this.#halfAcks = 0;
        this.#stats.acksSent++;
      }
    } else {
      this.#halfAcks = 0;
      this.#stats.acksSent++;
    }
  }

  #onAck(t: Millis, acked: Segment): void {
    acked.acked = true;
    acked.ackAt = Infinity;
    // Slow start, then congestion avoidance.
    this.#cwnd = Math.min(MAX_CWND, this.#cwnd < this.#ssthresh ? this.#cwnd + 1 : this.#cwnd + 1 / this.#cwnd);
    // RACK: a segment sent before this one and still unacked is lost once a reordering window passes.
    const reorderWindow = this.#rtt / 4;
    for (const s of this.#segments) {
      if (s.lost && s.sentAt <= acked.sentAt && s !== acked && t + reorderWindow < s.detectAt) {
        s.detectAt = t + reorderWindow;
        s.detectByTimer = false;
      }
    }
  }

  #onLossFound(segment: Segment): void {
    segment.lost = false;
    segment.detectAt = Infinity;
    segment.retransmitDue = true;
    if (segment.detectByTimer && segment.transmissions > 1) {
      // A retransmission lost too: a real retransmission timeout.
      this.#stats.timeouts++;
      this.#ssthresh = Math.max(2, this.#cwnd * LOSS_BETA);
      this.#cwnd = 1;
      this.#recoveryPoint = this.#nextId - 1;
    } else if (segment.id > this.#recoveryPoint) {
      this.#stats.reductions++;
      this.#cwnd = Math.max(2, this.#cwnd * LOSS_BETA);
      this.#ssthresh = this.#cwnd;
      this.#recoveryPoint = this.#nextId - 1;
    }
  }

  /** Segments on the wire that the sender still counts against its window. */
  #inFlight(): number {
    let n = 0;
    for (const s of this.#segments) if (!s.acked && !s.retransmitDue) n++;
    return n;
  }

  #sendAllowed(t: Millis): void {
    // Retransmissions go first and are not held back by the window (fast retransmit does the same).
    for (const s of this.#segments) if (s.retransmitDue) this.#transmit(t, s);
    if (this.#unsentBytes === 0) return;
    let inFlight = this.#inFlight();
    if (inFlight === 0 && t - this.#lastSendAt > this.#rto) this.#cwnd = Math.min(this.#cwnd, this.#profile.initialWindow);
    while (this.#unsentBytes > 0 && inFlight < Math.floor(this.#cwnd)) {
      const segment: Segment = {
        id: this.#nextId++,
        data: this.#take(this.#profile.mss),
        sentAt: t,
        transmissions: 0,
        lost: false,
        retransmitDue: false,
        arriveAt: Infinity,
        ackAt: Infinity,
        detectAt: Infinity,
        detectByTimer: false,
        arrived: false,
        acked: false,
      };
      this.#segments.push(segment);
      this.#transmit(t, segment);
      inFlight++;
    }
  }

  #transmit(t: Millis, segment: Segment): void {
    const profile = this.#profile;
    segment.transmissions++;
    segment.sentAt = t;
    segment.retransmitDue = false;
    this.#lastSendAt = t;
    this.#stats.segmentsSent++;
    this.#stats.payloadBytesSent += segment.data.length;
    if (segment.transmissions > 1) this.#stats.retransmissions++;
    if (profile.loss > 0 && this.#random() < profile.loss) {
      segment.lost = true;
      const backoff = 2 ** Math.min(MAX_BACKOFF_SHIFT, segment.transmissions - 1);
      segment.detectAt = t + this.#rto * backoff;
      segment.detectByTimer = true;
      return;
    }
    segment.lost = false;
    // A retransmission of an already-arrived segment cannot happen: only lost ones are resent.
    segment.arriveAt = t + profile.delayMs;
    segment.ackAt = t + 2 * profile.delayMs;
  }

  /** Cuts up to `max` bytes from the front of the unsent data. */
  #take(max: number): Buffer {
    const first = this.#unsent[0]!;
    if (first.length <= max && (this.#unsent.length === 1 || first.length === max)) {
      this.#unsent.shift();
      this.#unsentBytes -= first.length;
      return first;
    }
    const parts: Buffer[] = [];
    let need = max;
    while (need > 0 && this.#unsent.length > 0) {
      const head = this.#unsent[0]!;
      if (head.length <= need) {
        parts.push(head);
        this.#unsent.shift();
        need -= head.length;
      } else {
        parts.push(head.subarray(0, need));
        this.#unsent[0] = head.subarray(need);
        need = 0;
      }
    }
    const data = Buffer.concat(parts);
    this.#unsentBytes -= data.length;
    return data;
  }
}

import type { Millis } from '../../protocol/clock.js';
import { DeliveryQueue } from './delivery-queue.js';
import type { Random } from './seeded-random.js';

/**
 * One direction of an emulated network path. Every datagram offered to the link goes through, in
 * order: random loss, optional duplication, the bottleneck (rate limit with a bounded byte queue
 * that tail-drops like a router), the propagation delay with jitter, and an optional hold-back
 * that makes it overtake nothing but be overtaken (reordering).
 */
export interface LinkProfile {
  /** One-way propagation delay. */
  readonly delayMs: Millis;
  /**
   * Each datagram's delay varies uniformly within ±jitterMs (never below zero). Jitter alone does
   * not reorder: a datagram never arrives before one sent earlier (as on a real path, where jitter
   * comes from queues). Reordering is the job of `reorder`.
   */
  readonly jitterMs: Millis;
  /** Probability (0..1) that a datagram is lost. */
  readonly loss: number;
  /** Probability (0..1) that a datagram that survived loss is delivered twice. */
  readonly duplicate: number;
  /** Probability (0..1) that a datagram is held back `reorderHoldMs` beyond its normal arrival. */
  readonly reorder: number;
  readonly reorderHoldMs: Millis;
  /** Bottleneck rate in payload bytes per second; Infinity for none. */
  readonly rateBytesPerSecond: number;
  /** Bytes the bottleneck can hold waiting to be sent; a datagram that does not fit is dropped. */
  readonly queueBytes: number;
}

export const DEFAULT_REORDER_HOLD_MS: Millis = 30;
/** About what a home router buffers; with a rate limit this sets the worst queueing delay. */
export const DEFAULT_QUEUE_BYTES = 64 * 1024;

/** A link that delivers everything at once, in order. */
export const PERFECT_LINK: LinkProfile = Object.freeze({
  delayMs: 0,
  jitterMs: 0,
  loss: 0,
  duplicate: 0,
  reorder: 0,
  reorderHoldMs: DEFAULT_REORDER_HOLD_MS,
  rateBytesPerSecond: Infinity,
  queueBytes: DEFAULT_QUEUE_BYTES,
});

export class InvalidLinkProfileError extends Error {
  override readonly name = 'InvalidLinkProfileError';
}

/** Fills the unspecified fields from `PERFECT_LINK` and checks every value's range. */
export function linkProfile(settings: Partial<LinkProfile> = {}): LinkProfile {
  const profile: LinkProfile = { ...PERFECT_LINK, ...settings };
  for (const key of ['loss', 'duplicate', 'reorder'] as const) {
    const p = profile[key];
    if (!(p >= 0 && p <= 1)) throw new InvalidLinkProfileError(`link ${key} must be a probability from 0 to 1, got ${p}`);
  }
  for (const key of ['delayMs', 'jitterMs', 'reorderHoldMs', 'queueBytes'] as const) {
    const v = profile[key];
    if (!(v >= 0 && Number.isFinite(v))) throw new InvalidLinkProfileError(`link ${key} must be a finite number ≥ 0, got ${v}`);
  }
  if (!(profile.rateBytesPerSecond > 0)) {
    throw new InvalidLinkProfileError(`link rateBytesPerSecond must be > 0 (Infinity for no limit), got ${profile.rateBytesPerSecond}`);
  }
  return Object.freeze(profile);
}

/** Counters of one direction. Bytes are payload bytes (what the protocol put in each datagram). */
export interface LinkStats {
  /** Datagrams handed to the link by the sender. */
  readonly offered: number;
  readonly offeredBytes: number;
  /** Datagrams that came out of the far end, duplicates included: the bytes on the wire. */
  readonly forwarded: number;
  readonly forwardedBytes: number;
  /** Every datagram that did not come out: lost + queue overflow + undeliverable. */
  readonly dropped: number;
  readonly droppedBytes: number;
  readonly droppedByLoss: number;
  readonly droppedByQueue: number;
  /** Due for delivery but the relay had nowhere to send it (e.g. no client address seen yet). */
  readonly undeliverable: number;
  /** Extra copies created. */
  readonly duplicated: number;
  /** Datagrams held back to be overtaken. */
  readonly reordered: number;
}

function zeroStats(): { -readonly [K in keyof LinkStats]: LinkStats[K] } {
  return {
    offered: 0, offeredBytes: 0, forwarded: 0, forwardedBytes: 0, dropped: 0, droppedBytes: 0,
    droppedByLoss: 0, droppedByQueue: 0, undeliverable: 0, duplicated: 0, reordered: 0,
  };
}

/**
 * The decisions of one link direction, with no I/O and no timers: offer datagrams with `send`,
 * collect the ones whose time has come with `deliverDue`, and ask `nextDeliveryAt` when to look
 * again. Driven by any clock, so tests use a fake one.
 */
export class LinkModel<T> {
  #profile: LinkProfile;
  readonly #random: Random;
  readonly #queue = new DeliveryQueue<T>();
  readonly #stats = zeroStats();
  /** When the bottleneck finishes sending what it has accepted so far. */
  #busyUntil: Millis = -Infinity;
  /** Arrival time of the latest datagram that was not held back; later ones may not arrive earlier. */
  #lastArrival: Millis = -Infinity;

  constructor(profile: Partial<LinkProfile>, random: Random) {
    this.#profile = linkProfile(profile);
    this.#random = random;
  }

  get profile(): LinkProfile {
    return this.#profile;
  }

  /** Takes effect for datagrams offered from now on; those already in flight keep their times. */
  setProfile(profile: Partial<LinkProfile>): void {
    this.#profile = linkProfile(profile);
  }

  get stats(): LinkStats {
    return { ...this.#stats };
  }

  /** Datagrams in flight (accepted, not yet delivered). */
  get inFlight(): number {
    return this.#queue.size;
  }

  /** When the next datagram is due, or undefined when nothing is in flight. */
  get nextDeliveryAt(): Millis | undefined {
    return this.#queue.nextAt;
  }

  /** Offers one datagram of `bytes` bytes to the link at time `now`. */
  send(now: Millis, packet: T, bytes: number): void {
    const stats = this.#stats;
    const profile = this.#profile;
    stats.offered++;
    stats.offeredBytes += bytes;
    if (profile.loss > 0 && this.#random() < profile.loss) {
      stats.droppedByLoss++;
      this.#drop(bytes);
      return;
    }
    this.#transmit(now, packet, bytes);
    if (profile.duplicate > 0 && this.#random() < profile.duplicate) {
      stats.duplicated++;
      this.#transmit(now, packet, bytes);
    }
  }

  /**
   * Hands every datagram due at `now` to `deliver`, earliest first, and returns how many were
   * delivered. `deliver` returns false when it could not send the datagram anywhere.
   */
  deliverDue(now: Millis, deliver: (packet: T, bytes: number) => boolean): number {
    const stats = this.#stats;
    let delivered = 0;
    for (let entry = this.#queue.popDue(now); entry !== undefined; entry = this.#queue.popDue(now)) {
      if (deliver(entry.item, entry.bytes)) {
        stats.forwarded++;
        stats.forwardedBytes += entry.bytes;
        delivered++;
      } else {
        stats.undeliverable++;
        this.#drop(entry.bytes);
      }
    }
    return delivered;
  }

  /** Forgets everything in flight (not counted as dropped: the link was torn down, not lossy). */
  clear(): void {
    this.#queue.clear();
  }

  #transmit(now: Millis, packet: T, bytes: number): void {
    const profile = this.#profile;
    let departure = now;
    if (profile.rateBytesPerSecond !== Infinity) {
      const start = Math.max(now, this.#busyUntil);
      // Bytes still waiting in (or being clocked out of) the bottleneck; an empty queue always
      // accepts, so one datagram larger than the queue is not starved forever.
      const backlog = ((start - now) * profile.rateBytesPerSecond) / 1000;
      if (backlog > 0 && backlog + bytes > profile.queueBytes) {
        this.#stats.droppedByQueue++;
        this.#drop(bytes);
        return;
      }
      departure = start + (bytes * 1000) / profile.rateBytesPerSecond;
      this.#busyUntil = departure;
    }
    let arrival = departure + profile.delayMs;
    if (profile.jitterMs > 0) {
      arrival = Math.max(departure, arrival + (2 * this.#random() - 1) * profile.jitterMs);
    }
    arrival = Math.max(arrival, this.#lastArrival);
    this.#lastArrival = arrival;
    if (profile.reorder > 0 && this.#random() < profile.reorder) {
      this.#stats.reordered++;
      arrival += profile.reorderHoldMs;
    }
    this.#queue.push(arrival, packet, bytes);
  }

  #drop(bytes: number): void {
    this.#stats.dropped++;
    this.#stats.droppedBytes += bytes;
  }
}

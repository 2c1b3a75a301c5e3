/**
 * Splits a message (a compressed transport instruction) into datagram-sized fragments and puts it
 * back together at the other end.
 *
 * ```
 * fragment = id32 ‖ (final << 15 | index)16 ‖ bytes      (big-endian; index < 0x8000)
 * ```
 *
 * Mosh uses a 64-bit id; 32 bits wrap after 4·10⁹ messages, years at 50 frames a second, and the
 * assembler only ever compares ids of the few messages in flight.
 */
import { DATAGRAM_OVERHEAD } from './datagram.js';

export const FRAGMENT_HEADER_BYTES = 6;
/** The index field has 15 bits. */
export const MAX_FRAGMENTS_ON_WIRE = 0x8000;

/** Mosh's conservative IP packet size: some VPN paths drop anything from ~1320 bytes up. */
export const IP_PACKET_BYTES = 1280;
/** IPv4 header 20 + UDP 8. */
export const IPV4_UDP_OVERHEAD = 28;
/** IPv6 header 40 + room for two extension headers 16 + UDP 8 (Mosh's figure; 48 without the extensions). */
export const IPV6_UDP_OVERHEAD = 64;
/** What Mosh falls back to when a send fails with EMSGSIZE. */
export const FALLBACK_MTU = 500;

export type AddressFamily = 'IPv4' | 'IPv6';

/** Largest UDP payload we send: 1252 bytes over IPv4, 1216 over IPv6. */
export function applicationMtu(family: AddressFamily): number {
  return IP_PACKET_BYTES - (family === 'IPv4' ? IPV4_UDP_OVERHEAD : IPV6_UDP_OVERHEAD);
}

/** Largest encoded fragment (the datagram payload) that fits in one UDP datagram of `mtu` bytes. */
export function maxFragmentBytes(mtu: number): number {
  return mtu - DATAGRAM_OVERHEAD;
}

/** Message bytes per fragment: 1218 over IPv4, 1182 over IPv6. */
export function maxFragmentPayload(family: AddressFamily): number {
  return maxFragmentBytes(applicationMtu(family)) - FRAGMENT_HEADER_BYTES;
}

export class MessageTooLargeError extends Error {
  override readonly name = 'MessageTooLargeError';
}

export class Fragmenter {
  readonly #payloadBytes: number;
  #nextId: number;

  /** `maxFragmentBytes` is the size of a whole encoded fragment, header included: see `maxFragmentBytes(mtu)`. */
  constructor(maxFragmentBytes: number, firstId = 0) {
    if (!Number.isSafeInteger(maxFragmentBytes) || maxFragmentBytes <= FRAGMENT_HEADER_BYTES) {
      throw new RangeError(`a fragment must have room for more than its ${FRAGMENT_HEADER_BYTES}-byte header`);
    }
    this.#payloadBytes = maxFragmentBytes - FRAGMENT_HEADER_BYTES;
    this.#nextId = firstId >>> 0;
  }

  /** The id the next message will get. */
  get nextId(): number {
    return this.#nextId;
  }

  /** Encodes `message` as one or more fragments under a fresh id. An empty message gives one empty fragment. */
  split(message: Uint8Array): Uint8Array[] {
    const count = Math.max(1, Math.ceil(message.length / this.#payloadBytes));
    if (count > MAX_FRAGMENTS_ON_WIRE) {
      throw new MessageTooLargeError(`A message of ${message.length} bytes needs more than ${MAX_FRAGMENTS_ON_WIRE} fragments.`);
    }
    const id = this.#nextId;
    this.#nextId = (id + 1) >>> 0;
    const fragments = new Array<Uint8Array>(count);
    for (let index = 0; index < count; index++) {
      const start = index * this.#payloadBytes;
      const chunk = message.subarray(start, start + this.#payloadBytes);
      const fragment = new Uint8Array(FRAGMENT_HEADER_BYTES + chunk.length);
      const flags = (index === count - 1 ? 0x8000 : 0) | index;
      fragment[0] = id >>> 24;
      fragment[1] = (id >>> 16) & 0xff;
      fragment[2] = (id >>> 8) & 0xff;
      fragment[3] = id & 0xff;
      fragment[4] = flags >>> 8;
      fragment[5] = flags & 0xff;
      fragment.set(chunk, FRAGMENT_HEADER_BYTES);
      fragments[index] = fragment;
    }
    return fragments;
  }
}

export interface AssemblyLimits {
  /** Fragments one message may have (at most 0x8000, the wire limit). */
  readonly maxFragments: number;
  /** Bytes one assembled message may have. */
  readonly maxMessageBytes: number;
  /** Messages assembled at once; a new one beyond this evicts the oldest. */
  readonly maxPartialMessages: number;
  /** Ids of completed messages remembered so that late duplicates are dropped. */
  readonly rememberedCompleted: number;
}

/** 1 MiB of compressed message: a 200x60 screen repaint compresses to a few tens of KB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1 << 20;
/** Enough for 1 MiB even at the 500-byte fallback MTU. */
export const DEFAULT_MAX_FRAGMENTS = 4096;
/** Mosh holds one; a few more tolerate reordering between consecutive messages. */
export const DEFAULT_MAX_PARTIAL_MESSAGES = 4;
export const DEFAULT_REMEMBERED_COMPLETED = 32;

export const DEFAULT_ASSEMBLY_LIMITS: AssemblyLimits = {
  maxFragments: DEFAULT_MAX_FRAGMENTS,
  maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
  maxPartialMessages: DEFAULT_MAX_PARTIAL_MESSAGES,
  rememberedCompleted: DEFAULT_REMEMBERED_COMPLETED,
};

interface PartialMessage {
  readonly parts: (Uint8Array | undefined)[];
  received: number;
  bytes: number;
  /** Known once the final fragment arrives. */
  total: number;
}

export interface AssemblyCounters {
  completed: number;
  /** Too short to hold a header. */
  malformed: number;
  /** Contradicting what is known (index at or past the final one, a second different final). */
  inconsistent: number;
  /** Fragments of a message already held, or already completed. */
  duplicates: number;
  /** Fragments or messages dropped for exceeding a limit. */
  overLimit: number;
  /** Partial messages thrown away to make room. */
  evicted: number;
}

/**
 * Reassembles messages from fragments that may arrive duplicated, reordered and interleaved.
 * It keeps views of the fragments it is given (no copy): pass buffers that nobody reuses.
 */
export class FragmentAssembly {
  readonly limits: AssemblyLimits;
  readonly counters: AssemblyCounters = { completed: 0, malformed: 0, inconsistent: 0, duplicates: 0, overLimit: 0, evicted: 0 };
  /** Insertion order is age order, so the first entry is the oldest. */
  readonly #partials = new Map<number, PartialMessage>();
  readonly #completed: number[] = [];
  #completedNext = 0;

  constructor(limits: Partial<AssemblyLimits> = {}) {
    this.limits = { ...DEFAULT_ASSEMBLY_LIMITS, ...limits };
    const { maxFragments, maxMessageBytes, maxPartialMessages, rememberedCompleted } = this.limits;
    if (!(maxFragments >= 1 && maxFragments <= MAX_FRAGMENTS_ON_WIRE)) throw new RangeError('maxFragments must be 1..0x8000');
    if (!(maxMessageBytes >= 0)) throw new RangeError('maxMessageBytes must not be negative');
    if (!(maxPartialMessages >= 1)) throw new RangeError('maxPartialMessages must be at least 1');
    if (!(rememberedCompleted >= 0)) throw new RangeError('rememberedCompleted must not be negative');
  }

  /** Messages currently being assembled. */
  get partialCount(): number {
    return this.#partials.size;
  }

  /** Adds one encoded fragment; returns the whole message when this fragment completes it, else null. */
  add(fragment: Uint8Array): Uint8Array | null {
    if (fragment.length < FRAGMENT_HEADER_BYTES) {
      this.counters.malformed++;
      return null;
    }
    const id = ((fragment[0]! << 24) | (fragment[1]! << 16) | (fragment[2]! << 8) | fragment[3]!) >>> 0;
    const flags = (fragment[4]! << 8) | fragment[5]!;
    const final = flags >= 0x8000;
    const index = flags & 0x7fff;
    const body = fragment.subarray(FRAGMENT_HEADER_BYTES);

    if (this.#completed.includes(id)) {
      this.counters.duplicates++;
      return null;
    }
    if (index >= this.limits.maxFragments || body.length > this.limits.maxMessageBytes) {
      this.counters.overLimit++;
      return null;
    }

    let partial = this.#partials.get(id);
    if (partial === undefined) {
      if (final && index === 0) {
        // The common case: a message that fits in one datagram. No bookkeeping, no copy.
        this.#markCompleted(id);
        return body;
      }
      if (this.#partials.size >= this.limits.maxPartialMessages) this.#evictOldest();
      partial = { parts: [], received: 0, bytes: 0, total: -1 };
      this.#partials.set(id, partial);
    }

    if (partial.total !== -1 && (index >= partial.total || (final && index !== partial.total - 1))) {
      this.counters.inconsistent++;
      return null;
    }
    if (final && index < partial.parts.length - 1) {
      // A final flag below a fragment already held: the peer contradicts itself.
      this.counters.inconsistent++;
      return null;
    }
    if (partial.parts[index] !== undefined) {
      this.counters.duplicates++;
      return null;
    }
    if (partial.bytes + body.length > this.limits.maxMessageBytes) {
      this.counters.overLimit++;
      this.#partials.delete(id);
      return null;
    }
    partial.parts[index] = body;
    partial.received++;
    partial.bytes += body.length;
    if (final) partial.total = index + 1;
    if (partial.received !== partial.total) return null;

    this.#partials.delete(id);
    this.#markCompleted(id);
    const message = new Uint8Array(partial.bytes);
    let at = 0;
    for (const part of partial.parts) {
      message.set(part!, at);
      at += part!.length;
    }
    return message;
  }

  #evictOldest(): void {
    for (const id of this.#partials.keys()) {
      this.#partials.delete(id);
      this.counters.evicted++;
      return;
    }
  }

  #markCompleted(id: number): void {
    this.counters.completed++;
    if (this.limits.rememberedCompleted === 0) return;
    if (this.#completed.length < this.limits.rememberedCompleted) {
      this.#completed.push(id);
    } else {
      this.#completed[this.#completedNext] = id;
      this.#completedNext = (this.#completedNext + 1) % this.limits.rememberedCompleted;
    }
  }
}

/**
 * The datagram wire format and its AEAD sealing. Pure: bytes in, bytes out, no sockets.
 *
 * ```
 * datagram = header8 ‖ ChaCha20-Poly1305-IETF(key, nonce, ad = header8)( ts16 ‖ tsReply16 ‖ payload ) ‖ tag16
 * header8  = big-endian u64: direction << 63 | seq          (seq < 2^53, so it fits a JS number)
 * nonce    = 00 00 00 00 ‖ header8
 * ```
 *
 * Each end seals only its own direction and its sequence numbers only grow, so no nonce repeats
 * under one key. The direction bit stops a datagram being reflected back at its sender.
 */
import { aeadOpen, aeadSeal } from './aead.js';
import { assertSodiumReady, type SessionKey } from './session-key.js';

export enum Direction {
  ToServer = 0,
  ToClient = 1,
}

export const HEADER_BYTES = 8;
export const TIMESTAMP_BYTES = 4;
export const TAG_BYTES = 16;
/** Bytes a datagram adds around its payload. */
export const DATAGRAM_OVERHEAD = HEADER_BYTES + TIMESTAMP_BYTES + TAG_BYTES;
/** The shortest datagram that can be authentic (empty payload). */
export const MIN_DATAGRAM_BYTES = DATAGRAM_OVERHEAD;
/** Sequence numbers are JS numbers; sealing stops here rather than lose precision. */
export const MAX_SEQUENCE = Number.MAX_SAFE_INTEGER;
/** A 16-bit timestamp field holding this value means "no timestamp". */
export const TIMESTAMP_NONE = 0xffff;

const NONCE_BYTES = 12;
const TWO_POW_32 = 0x1_0000_0000;
/** The high 32 header bits of seq, without the direction bit, may not exceed this (seq < 2^53). */
const MAX_SEQUENCE_HIGH = Math.floor(MAX_SEQUENCE / TWO_POW_32);

export interface OpenedDatagram {
  readonly direction: Direction;
  readonly seq: number;
  /** The sender's clock in ms mod 65536. */
  readonly timestamp: number;
  /** An echo of one of our own timestamps, corrected for how long the peer held it; null when absent. */
  readonly timestampReply: number | null;
  /** A view into a fresh buffer owned by the caller. */
  readonly payload: Uint8Array;
}

export type RejectReason = 'malformed' | 'direction' | 'authentication';

export class SequenceNumberError extends Error {
  override readonly name = 'SequenceNumberError';
}

/** Thrown when a caller tries to seal a sequence number it already used: that would reuse a nonce. */
export class NonceReuseError extends Error {
  override readonly name = 'NonceReuseError';
}

/** Reduces a millisecond reading to the 16-bit wire form; 0xFFFF means "none", so a real one becomes 0 (as Mosh does). */
export function toTimestamp16(ms: number): number {
  const t = ms & 0xffff;
  return t === TIMESTAMP_NONE ? 0 : t;
}

/** Reads the sequence number and direction from a datagram's clear header without authenticating it. */
export function peekHeader(bytes: Uint8Array): { direction: Direction; seq: number } | null {
  if (bytes.length < HEADER_BYTES) return null;
  const high = readU32(bytes, 0);
  const seqHigh = high & 0x7fff_ffff;
  if (seqHigh > MAX_SEQUENCE_HIGH) return null;
  return {
    direction: high >>> 31 === 1 ? Direction.ToClient : Direction.ToServer,
    seq: seqHigh * TWO_POW_32 + readU32(bytes, 4),
  };
}

/**
 * Seals and opens datagrams under one session key. It refuses to seal a sequence number that is not
 * above the last one it sealed for that direction, so it cannot reuse a nonce even if misused.
 */
export class DatagramCipher {
  /** Datagrams refused by `open`, all reasons together. */
  rejected = 0;
  readonly rejectedBy: Record<RejectReason, number> = { malformed: 0, direction: 0, authentication: 0 };
  sealed = 0;
  opened = 0;

  readonly #key: Uint8Array;
  /** Reused for every call: it is copied into WebAssembly memory, and calls never overlap. */
  readonly #nonce = new Uint8Array(NONCE_BYTES);
  #plain = new Uint8Array(1500);
  readonly #lastSealed: [number, number] = [-1, -1];

  /** Needs `await sodiumReady()` first. */
  constructor(key: SessionKey) {
    assertSodiumReady();
    this.#key = key.bytes;
  }

  /** The highest sequence number sealed so far in `direction`, or -1. */
  lastSealed(direction: Direction): number {
    return this.#lastSealed[direction];
  }

  /**
   * Seals one datagram. `timestamp` and `timestampReply` are milliseconds (reduced mod 65536 here);
   * `timestampReply` null means none.
   */
  seal(direction: Direction, seq: number, timestamp: number, timestampReply: number | null, payload: Uint8Array): Uint8Array {
    if (!Number.isSafeInteger(seq) || seq < 0) {
      throw new SequenceNumberError(`The sequence number ${seq} is not an integer between 0 and 2^53 - 1.`);
    }
    if (seq <= this.#lastSealed[direction]) {
      throw new NonceReuseError(`Sequence number ${seq} was not above the last one sealed (${this.#lastSealed[direction]}).`);
    }
    const plainLength = TIMESTAMP_BYTES + payload.length;
    if (this.#plain.length < plainLength) this.#plain = new Uint8Array(plainLength);
    const plain = this.#plain.subarray(0, plainLength);
    const ts = toTimestamp16(timestamp);
    const reply = timestampReply === null ? TIMESTAMP_NONE : toTimestamp16(timestampReply);
    plain[0] = ts >>> 8;
    plain[1] = ts & 0xff;
    plain[2] = reply >>> 8;
    plain[3] = reply & 0xff;
    plain.set(payload, TIMESTAMP_BYTES);

    const out = new Uint8Array(HEADER_BYTES + plainLength + TAG_BYTES);
    writeU32(out, 0, ((direction << 31) | Math.floor(seq / TWO_POW_32)) >>> 0);
    writeU32(out, 4, seq >>> 0);
    const header = out.subarray(0, HEADER_BYTES);
    this.#nonce.set(header, NONCE_BYTES - HEADER_BYTES);
    aeadSeal(this.#key, this.#nonce, header, plain, out, HEADER_BYTES);
    this.#lastSealed[direction] = seq;
    this.sealed++;
    return out;
  }

  /**
   * Opens a datagram meant for `expected`. Returns null, and counts the reject, for anything too
   * short, sent the other way (a reflection), or failing authentication. Never throws on input bytes.
   */
  open(bytes: Uint8Array, expected: Direction): OpenedDatagram | null {
    if (bytes.length < MIN_DATAGRAM_BYTES) return this.#reject('malformed');
    const header = peekHeader(bytes);
    if (header === null) return this.#reject('malformed');
    if (header.direction !== expected) return this.#reject('direction');
    this.#nonce.set(bytes.subarray(0, HEADER_BYTES), NONCE_BYTES - HEADER_BYTES);
    const plain = aeadOpen(this.#key, this.#nonce, bytes.subarray(0, HEADER_BYTES), bytes.subarray(HEADER_BYTES));
    if (plain === null) return this.#reject('authentication');
    const reply = ((plain[2] ?? 0) << 8) | (plain[3] ?? 0);
    this.opened++;
    return {
      direction: header.direction,
      seq: header.seq,
      timestamp: ((plain[0] ?? 0) << 8) | (plain[1] ?? 0),
      timestampReply: reply === TIMESTAMP_NONE ? null : reply,
      payload: plain.subarray(TIMESTAMP_BYTES),
    };
  }

  #reject(reason: RejectReason): null {
    this.rejected++;
    this.rejectedBy[reason]++;
    return null;
  }
}

function readU32(bytes: Uint8Array, at: number): number {
  return (((bytes[at] ?? 0) << 24) | ((bytes[at + 1] ?? 0) << 16) | ((bytes[at + 2] ?? 0) << 8) | (bytes[at + 3] ?? 0)) >>> 0;
}

function writeU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = (value >>> 16) & 0xff;
  bytes[at + 2] = (value >>> 8) & 0xff;
  bytes[at + 3] = value & 0xff;
}

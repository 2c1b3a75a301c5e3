/**
 * The per-session secret: 256 random bits from libsodium's CSPRNG, shared by the two ends over SSH.
 *
 * Its printable form is base64 without padding (43 characters). It must never end up in a log, so
 * JSON and `util.inspect` print a placeholder; `toString()` is the one deliberate way to get the text
 * (for the server's connect line and nothing else).
 */
import { inspect } from 'node:util';
import sodium from 'libsodium-wrappers';
import type { RandomBytes } from './clock.js';

export const SESSION_KEY_BYTES = 32;
/** ceil(32 * 8 / 6): base64 of 32 bytes with the trailing `=` removed. */
export const SESSION_KEY_TEXT_LENGTH = 43;

const REDACTED = 'SessionKey(<redacted>)';
const BASE64_NO_PADDING = /^[A-Za-z0-9+/]+$/;

export class MalformedKeyError extends Error {
  override readonly name = 'MalformedKeyError';
}

export class SodiumNotReadyError extends Error {
  override readonly name = 'SodiumNotReadyError';
  constructor() {
    super('libsodium is not initialised yet: await sodiumReady() first.');
  }
}

let ready: Promise<void> | undefined;

/** Waits for libsodium's WebAssembly to load. Cheap to call again; it only loads once. */
export function sodiumReady(): Promise<void> {
  ready ??= sodium.ready.then(() => undefined);
  return ready;
}

/** Throws unless libsodium can be used synchronously (its functions only appear once it is ready). */
export function assertSodiumReady(): void {
  if (typeof sodium.crypto_aead_chacha20poly1305_ietf_encrypt !== 'function') throw new SodiumNotReadyError();
}

export class SessionKey {
  readonly #bytes: Uint8Array;

  private constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  /** A fresh random key. Needs `await sodiumReady()` first unless `random` is given. */
  static generate(random?: RandomBytes): SessionKey {
    let source = random;
    if (source === undefined) {
      assertSodiumReady();
      source = (length) => sodium.randombytes_buf(length);
    }
    const bytes = source(SESSION_KEY_BYTES);
    if (bytes.length !== SESSION_KEY_BYTES) throw new RangeError(`a session key needs ${SESSION_KEY_BYTES} random bytes`);
    return new SessionKey(Uint8Array.from(bytes));
  }

  /** Wraps raw key bytes (copied). */
  static fromBytes(bytes: Uint8Array): SessionKey {
    if (bytes.length !== SESSION_KEY_BYTES) {
      throw new MalformedKeyError(`The session key is malformed: expected ${SESSION_KEY_BYTES} bytes.`);
    }
    return new SessionKey(Uint8Array.from(bytes));
  }

  /**
   * Parses the printable form. Strict: only text that this class would print is accepted, so a
   * typo, padding, whitespace or non-zero spare bits are all refused. The message never quotes the input.
   */
  static parse(text: string): SessionKey {
    if (text.length !== SESSION_KEY_TEXT_LENGTH || !BASE64_NO_PADDING.test(text)) {
      throw new MalformedKeyError(`The session key is malformed: expected ${SESSION_KEY_TEXT_LENGTH} base64 characters.`);
    }
    const bytes = new Uint8Array(Buffer.from(text, 'base64'));
    if (bytes.length !== SESSION_KEY_BYTES || encode(bytes) !== text) {
      throw new MalformedKeyError('The session key is malformed: it does not decode to exactly 32 bytes.');
    }
    return new SessionKey(bytes);
  }

  /** The raw key for the cipher. It is the key itself, not a copy: never modify or log it. */
  get bytes(): Uint8Array {
    return this.#bytes;
  }

  equals(other: SessionKey): boolean {
    const a = this.#bytes;
    const b = other.#bytes;
    let diff = 0;
    for (let i = 0; i < SESSION_KEY_BYTES; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
    return diff === 0;
  }

  /** The printable key. The only way to get it as text; use it for the connect line only. */
  toString(): string {
    return encode(this.#bytes);
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

function encode(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64').replace(/=+$/, '');
}

/**
 * Reads what `ByteWriter` writes, bounding everything before it is used: a read past the end, a
 * varint above the caller's limit, a string longer than its limit or malformed (W)UTF-8 all throw,
 * and nothing is allocated for a length that has not been checked against the bytes actually there.
 *
 * The error class is the caller's (e.g. `ScreenDiffError`), so a decoder's callers see one error
 * type whichever layer found the fault.
 */

/** Thrown for malformed input when the caller gives no error class of its own. */
export class MalformedBytesError extends Error {
  override readonly name = 'MalformedBytesError';
}

export type ErrorClass = new (message: string) => Error;

/** A varint longer than this cannot hold a safe integer (8 × 7 = 56 bits ≥ 53). */
const MAX_VARINT_BYTES = 8;

/** Code units decoded into a scratch buffer per `String.fromCharCode` call (stays under engine argument limits). */
const DECODE_CHUNK = 4096;

/** Scratch code units shared by every reader (decoding never re-enters), grown up to DECODE_CHUNK. */
let unitScratch = new Uint16Array(64);

export class ByteReader {
  readonly #bytes: Uint8Array;
  readonly #error: ErrorClass;
  #offset = 0;

  constructor(bytes: Uint8Array, error: ErrorClass = MalformedBytesError) {
    this.#bytes = bytes;
    this.#error = error;
  }

  get offset(): number {
    return this.#offset;
  }

  get remaining(): number {
    return this.#bytes.length - this.#offset;
  }

  get atEnd(): boolean {
    return this.#offset >= this.#bytes.length;
  }

  /** Throws the caller's error class with `message`. */
  fail(message: string): never {
    throw new this.#error(message);
  }

  u8(): number {
    const b = this.#bytes[this.#offset];
    if (b === undefined) this.fail('unexpected end of data');
    this.#offset++;
    return b;
  }

  /** The next byte without consuming it, or -1 at the end. */
  peek(): number {
    return this.#bytes[this.#offset] ?? -1;
  }

  /** An unsigned LEB128 varint no greater than `max` (`what` names it in the error). */
  varint(max: number = Number.MAX_SAFE_INTEGER, what = 'value'): number {
    const bytes = this.#bytes;
    let i = this.#offset;
    let b = bytes[i++];
    if (b === undefined) this.fail('unexpected end of data');
    // One-byte fast path: most counts and positions are small.
    if (b < 0x80) {
      this.#offset = i;
      if (b > max) this.fail(`${what} ${b} exceeds ${max}`);
      return b;
    }
    let n = b & 0x7f;
    let scale = 128;
    for (let count = 1; ; count++) {
      if (count >= MAX_VARINT_BYTES) this.fail(`${what} is too long a varint`);
      b = bytes[i++];
      if (b === undefined) this.fail('unexpected end of data');
      n += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 128;
    }
    this.#offset = i;
    if (n > max) this.fail(`${what} ${n} exceeds ${max}`);
    return n;
  }

  /** The next `n` bytes as a view (no copy). */
  bytes(n: number): Uint8Array {
    if (n > this.remaining) this.fail(`${n} bytes claimed, ${this.remaining} left`);
    const start = this.#offset;
    this.#offset += n;
    return this.#bytes.subarray(start, start + n);
  }

  skip(n: number): void {
    if (n > this.remaining) this.fail(`${n} bytes claimed, ${this.remaining} left`);
    this.#offset += n;
  }

  /**
   * One (W)UTF-8 sequence whose first byte `lead` has already been read: returns the code point
   * (a lone surrogate is returned as itself). Rejects stray continuation bytes, overlong forms and
   * values above U+10FFFF.
   */
  codePointAfter(lead: number): number {
    if (lead < 0x80) return lead;
    if (lead < 0xc2) this.fail(`invalid UTF-8 lead byte 0x${lead.toString(16)}`);
    if (lead < 0xe0) return ((lead & 0x1f) << 6) | this.#continuation();
    if (lead < 0xf0) {
      const b1 = this.#continuation();
      if (lead === 0xe0 && b1 < 0x20) this.fail('overlong UTF-8 sequence');
      return ((lead & 0x0f) << 12) | (b1 << 6) | this.#continuation();
    }
    if (lead < 0xf5) {
      const b1 = this.#continuation();
      const cp = ((lead & 0x07) << 18) | (b1 << 12) | (this.#continuation() << 6) | this.#continuation();
      if (cp < 0x10000 || cp > 0x10ffff) this.fail('UTF-8 sequence out of range');
      return cp;
    }
    return this.fail(`invalid UTF-8 lead byte 0x${lead.toString(16)}`);
  }

  /** The low six bits of a continuation byte. */
  #continuation(): number {
    const b = this.u8();
    if ((b & 0xc0) !== 0x80) this.fail('truncated UTF-8 sequence');
    return b & 0x3f;
  }

  /**
   * `byteLength` bytes of WTF-8 as a string of at most `maxUnits` UTF-16 code units.
   * The length is checked against the bytes actually present before anything is decoded.
   */
  wtf8(byteLength: number, maxUnits: number, what = 'string'): string {
    if (byteLength > this.remaining) this.fail(`${what} claims ${byteLength} bytes, ${this.remaining} left`);
    const end = this.#offset + byteLength;
    // A code unit takes at least one byte, so byteLength units always suffice.
    if (unitScratch.length < Math.min(byteLength, DECODE_CHUNK)) unitScratch = new Uint16Array(Math.min(byteLength, DECODE_CHUNK) * 2);
    const units = unitScratch;
    const chunk = units.length - 1;
    let parts: string[] | undefined;
    let n = 0;
    let total = 0;
    while (this.#offset < end) {
      if (n >= chunk) {
        (parts ??= []).push(String.fromCharCode(...units.subarray(0, n)));
        n = 0;
      }
      const cp = this.codePointAfter(this.u8());
      if (this.#offset > end) this.fail(`${what} has a UTF-8 sequence cut at its end`);
      if (cp >= 0x10000) {
        units[n++] = 0xd800 + ((cp - 0x10000) >> 10);
        units[n++] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
        total += 2;
      } else {
        units[n++] = cp;
        total += 1;
      }
      if (total > maxUnits) this.fail(`${what} is longer than ${maxUnits}`);
    }
    const tail = String.fromCharCode(...units.subarray(0, n));
    return parts === undefined ? tail : parts.join('') + tail;
  }

  /** A varint byte length then that many bytes of WTF-8, at most `maxUnits` code units. */
  string(maxUnits: number, what = 'string'): string {
    // Each code unit takes at most 3 bytes (a pair takes 4 for 2 units), so this bounds the bytes.
    const byteLength = this.varint(maxUnits * 3, `${what} length`);
    return this.wtf8(byteLength, maxUnits, what);
  }
}

/**
 * A growable byte buffer for wire encoders: unsigned LEB128 varints, raw bytes and WTF-8 text.
 *
 * One writer is meant to be reused for every message an encoder builds, so the hot path allocates
 * nothing once the buffer has grown to its working size. `view()` hands out a window onto the
 * internal buffer (valid until the next write or reset); `toBytes()` hands out a copy.
 *
 * Text is WTF-8: UTF-8, except that a lone UTF-16 surrogate (which a JavaScript string may hold and
 * UTF-8 cannot express) is written as its own three-byte sequence instead of being replaced, so every
 * string survives the trip exactly. `ByteReader` reads the same form back.
 */

export const DEFAULT_WRITER_CAPACITY = 1024;

export class ByteWriter {
  #buf: Uint8Array;
  #length = 0;

  constructor(initialCapacity: number = DEFAULT_WRITER_CAPACITY) {
    this.#buf = new Uint8Array(Math.max(16, initialCapacity));
  }

  /** Bytes written since the last reset. */
  get length(): number {
    return this.#length;
  }

  reset(): void {
    this.#length = 0;
  }

  /** Forgets everything written after `length` bytes (rolls back a tentative write). */
  truncate(length: number): void {
    if (length < 0 || length > this.#length) throw new RangeError(`cannot truncate ${this.#length} bytes to ${length}`);
    this.#length = length;
  }

  /** Makes room for `n` more bytes. Writers call it themselves; use it to batch the checks of a loop. */
  reserve(n: number): void {
    const need = this.#length + n;
    if (need <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.#buf.subarray(0, this.#length));
    this.#buf = bigger;
  }

  u8(byte: number): void {
    if (this.#length === this.#buf.length) this.reserve(1);
    this.#buf[this.#length++] = byte;
  }

  /** An unsigned LEB128 varint: 7 bits a byte, low bits first. `n` must be a non-negative safe integer. */
  varint(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a varint: ${n}`);
    this.reserve(8);
    const buf = this.#buf;
    let i = this.#length;
    // Bit operations only work on 32 bits; above that, peel 7 bits at a time with division.
    while (n > 0x7fffffff) {
      buf[i++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    while (n > 0x7f) {
      buf[i++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    buf[i++] = n;
    this.#length = i;
  }

  bytes(src: Uint8Array): void {
    this.reserve(src.length);
    this.#buf.set(src, this.#length);
    this.#length += src.length;
  }

  /** Writes one code point (or a lone surrogate) as (W)UTF-8: 1 to 4 bytes. */
  codePoint(cp: number): void {
    this.reserve(4);
    const buf = this.#buf;
    let i = this.#length;
    if (cp < 0x80) {
      buf[i++] = cp;
    } else if (cp < 0x800) {
      buf[i++] = 0xc0 | (cp >> 6);
      buf[i++] = 0x80 | (cp & 0x3f);
    } else if (cp < 0x10000) {
      buf[i++] = 0xe0 | (cp >> 12);
      buf[i++] = 0x80 | ((cp >> 6) & 0x3f);
      buf[i++] = 0x80 | (cp & 0x3f);
    } else {
      buf[i++] = 0xf0 | (cp >> 18);
      buf[i++] = 0x80 | ((cp >> 12) & 0x3f);
      buf[i++] = 0x80 | ((cp >> 6) & 0x3f);
      buf[i++] = 0x80 | (cp & 0x3f);
    }
    this.#length = i;
  }

  /** Writes `s` as WTF-8 with no length in front. */
  wtf8(s: string): void {
    const n = s.length;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) {
        this.u8(c);
        continue;
      }
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          this.codePoint(0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00));
          i++;
          continue;
        }
      }
      this.codePoint(c);
    }
  }

  /** Writes `s` as a varint byte length followed by its WTF-8 bytes. */
  string(s: string): void {
    this.varint(wtf8Length(s));
    this.wtf8(s);
  }

  /** A window onto the bytes written (no copy); valid until the next write, truncate or reset. */
  view(start = 0, end: number = this.#length): Uint8Array {
    return this.#buf.subarray(start, end);
  }

  /** A copy of the bytes written, safe to keep. */
  toBytes(start = 0, end: number = this.#length): Uint8Array {
    return this.#buf.slice(start, end);
  }
}

/** How many bytes `ByteWriter.wtf8(s)` writes. */
export function wtf8Length(s: string): number {
  const n = s.length;
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

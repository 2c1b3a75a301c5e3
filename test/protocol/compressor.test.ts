import zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMPRESS_MIN_BYTES, DEFLATED, DecompressionError, STORED, compress, decompress } from '../../protocol/compressor.js';

const SEED = 4242;

function screenDiff(bytes: number): Uint8Array {
  const parts: string[] = [];
  for (let row = 0; parts.join('').length < bytes; row++) {
    parts.push(`\x1b[${row % 24 + 1};1H\x1b[0;38;5;${row % 256}m${'drwxr-xr-x  2 user user 4096 '.repeat(2)}file-${row}.txt\x1b[K`);
  }
  return new TextEncoder().encode(parts.join('').slice(0, bytes));
}

describe('compress / decompress', () => {
  it('round-trips any bytes within a limit equal to their length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 5000 }), (bytes) => {
        const packed = compress(bytes);
        expect(Buffer.from(decompress(packed, bytes.length)).equals(Buffer.from(bytes))).toBe(true);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('deflates a large message: a marker byte, then raw DEFLATE (no zlib header) any inflateRaw can read', () => {
    const diff = screenDiff(2048);
    const packed = compress(diff);
    expect(packed[0]).toBe(DEFLATED);
    expect(Buffer.from(zlib.inflateRawSync(packed.subarray(1))).equals(Buffer.from(diff))).toBe(true);
    expect(packed.length).toBeLessThan(diff.length / 3);
  });

  it('stores a small message as is, one byte longer (no zlib call on the keystroke path)', () => {
    const small = screenDiff(COMPRESS_MIN_BYTES - 1);
    const packed = compress(small);
    expect(packed[0]).toBe(STORED);
    expect(packed.length).toBe(small.length + 1);
    expect(Buffer.from(packed.subarray(1)).equals(Buffer.from(small))).toBe(true);
  });

  it('stores a large message that does not compress, so nothing grows by more than one byte', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 3000 }), (bytes) => {
        expect(compress(bytes).length).toBeLessThanOrEqual(bytes.length + 1);
      }),
      { seed: SEED, numRuns: 100 },
    );
  });

  it('refuses an unknown marker and an empty message', () => {
    expect(() => decompress(Uint8Array.of(2, 1, 2, 3), 100)).toThrow(/unknown way/);
    expect(() => decompress(new Uint8Array(0), 100)).toThrow(DecompressionError);
  });

  it('refuses output one byte over the limit', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 3000 }), (bytes) => {
        expect(() => decompress(compress(bytes), bytes.length - 1)).toThrow(DecompressionError);
      }),
      { seed: SEED, numRuns: 100 },
    );
  });

  it('accepts an empty message with a limit of 0 and refuses a 1-byte one', () => {
    expect(decompress(compress(new Uint8Array(0)), 0)).toHaveLength(0);
    expect(() => decompress(compress(new Uint8Array(1)), 0)).toThrow(DecompressionError);
  });

  it('stops a decompression bomb at the limit', () => {
    const bomb = compress(new Uint8Array(20 << 20)); // 20 MiB of zeros, ~20 KB compressed
    expect(bomb.length).toBeLessThan(64 << 10);
    expect(() => decompress(bomb, 1 << 20)).toThrow(/more than 1048576 bytes/);
  });

  it('throws DecompressionError, never anything else, on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (bytes) => {
        try {
          const out = decompress(bytes, 4096);
          expect(out.length).toBeLessThanOrEqual(4096);
        } catch (error) {
          expect(error).toBeInstanceOf(DecompressionError);
        }
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('throws DecompressionError on truncated and empty streams', () => {
    const packed = compress(screenDiff(2048));
    for (const length of [0, 1, packed.length >> 1, packed.length - 1]) {
      expect(() => decompress(packed.subarray(0, length), 10_000)).toThrow(DecompressionError);
    }
    expect(() => decompress(Uint8Array.of(DEFLATED, 0xff, 0xff, 0xff), 10_000)).toThrow(/corrupt or truncated/);
  });

  it('refuses a nonsensical limit', () => {
    expect(() => decompress(compress(new Uint8Array(1)), -1)).toThrow(RangeError);
    expect(() => decompress(compress(new Uint8Array(1)), 1.5)).toThrow(RangeError);
  });
});

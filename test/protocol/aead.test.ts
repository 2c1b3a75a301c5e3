import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import * as wrappers from 'libsodium-wrappers';
import { AEAD_TAG_BYTES, aeadOpen, aeadSeal, openWithWrapper, sealWithWrapper, usingSodiumExports } from '../../protocol/aead.js';
import { sodiumReady } from '../../protocol/session-key.js';

beforeAll(async () => {
  await sodiumReady();
});

const key = fc.uint8Array({ minLength: 32, maxLength: 32 });
const nonce = fc.uint8Array({ minLength: 12, maxLength: 12 });
const ad = fc.uint8Array({ maxLength: 16 });
// Past 2048 bytes, so the scratch area has to grow in the middle of a run.
const plain = fc.uint8Array({ maxLength: 5000 });

function seal(k: Uint8Array, n: Uint8Array, a: Uint8Array, p: Uint8Array): Uint8Array {
  const out = new Uint8Array(3 + p.length + AEAD_TAG_BYTES);
  aeadSeal(k, n, a, p, out, 3);
  return out.subarray(3);
}

describe('aead', () => {
  it('calls libsodium’s exports directly with this libsodium-wrappers (else every datagram pays the wrapper)', () => {
    expect(usingSodiumExports()).toBe(true);
  });

  it('seals to the very bytes the wrapper function gives, and at the offset asked', () => {
    fc.assert(
      fc.property(key, nonce, ad, plain, (k, n, a, p) => {
        const out = new Uint8Array(3 + p.length + AEAD_TAG_BYTES).fill(0xee);
        aeadSeal(k, n, a, p, out, 3);
        expect(Array.from(out.subarray(0, 3))).toEqual([0xee, 0xee, 0xee]);
        expect(Buffer.from(out.subarray(3)).equals(Buffer.from(sealWithWrapper(k, n, a, p)))).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('opens what it and the wrapper sealed, and refuses any change to the ciphertext, nonce, data or key', () => {
    fc.assert(
      fc.property(key, nonce, ad, plain, fc.nat(), (k, n, a, p, pick) => {
        const sealed = seal(k, n, a, p);
        expect(Buffer.from(aeadOpen(k, n, a, sealed)!).equals(Buffer.from(p))).toBe(true);
        expect(Buffer.from(openWithWrapper(k, n, a, sealed)!).equals(Buffer.from(p))).toBe(true);

        const flip = (bytes: Uint8Array): Uint8Array => {
          const copy = Uint8Array.from(bytes);
          const i = pick % copy.length;
          copy[i] = copy[i]! ^ (1 << (pick % 8));
          return copy;
        };
        expect(aeadOpen(k, n, a, flip(sealed))).toBeNull();
        expect(aeadOpen(k, flip(n), a, sealed)).toBeNull();
        expect(aeadOpen(flip(k), n, a, sealed)).toBeNull();
        if (a.length > 0) expect(aeadOpen(k, n, flip(a), sealed)).toBeNull();
        expect(openWithWrapper(k, n, a, flip(sealed))).toBeNull();
      }),
      { numRuns: 100 },
    );
  });

  it('refuses input shorter than a tag', () => {
    const k = new Uint8Array(32);
    expect(aeadOpen(k, new Uint8Array(12), new Uint8Array(0), new Uint8Array(AEAD_TAG_BYTES - 1))).toBeNull();
  });

  it('leaves neither the key nor the plaintext in WebAssembly memory', () => {
    const k = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 ^ (i * 37));
    const p = Uint8Array.from({ length: 64 }, (_, i) => 0x5c ^ (i * 11));
    const n = new Uint8Array(12);
    const a = new Uint8Array(8);
    const sealed = seal(k, n, a, p);
    expect(aeadOpen(k, n, a, sealed)).not.toBeNull();
    const heap = Buffer.from((wrappers as unknown as { libsodium: { HEAPU8: Uint8Array } }).libsodium.HEAPU8);
    expect(heap.indexOf(Buffer.from(k))).toBe(-1);
    expect(heap.indexOf(Buffer.from(p))).toBe(-1);
    // The check can fail: the sealed bytes are still there (the output area is not wiped).
    expect(heap.indexOf(Buffer.from(sealed.subarray(0, 32)))).toBeGreaterThanOrEqual(0);
  });
});

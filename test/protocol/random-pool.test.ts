import { describe, expect, it } from 'vitest';
import { pooledRandom } from '../../protocol/random-pool.js';

/** A source that counts its calls and numbers its bytes, so reuse would show. */
function countingSource(): { calls: number[]; source: (n: number) => Uint8Array } {
  let next = 0;
  const calls: number[] = [];
  return {
    calls,
    source: (n) => {
      calls.push(n);
      return Uint8Array.from({ length: n }, () => next++ & 0xff);
    },
  };
}

describe('pooledRandom', () => {
  it('draws from the source a pool at a time, and never hands out the same byte twice', () => {
    const { calls, source } = countingSource();
    const random = pooledRandom(source, 64);
    const seen: number[] = [];
    for (let i = 0; i < 30; i++) seen.push(...random(17));
    // 30 × 17 = 510 bytes from pools of 64 (3 draws of 17 fit in each): 10 pools.
    expect(calls).toEqual(Array(10).fill(64));
    // Pool p gives its bytes 0..50 (the 13 left over are skipped, never reused).
    const expected = Array.from({ length: 510 }, (_, i) => (Math.floor(i / 51) * 64 + (i % 51)) & 0xff);
    expect(seen).toEqual(expected);
  });

  it('keeps earlier draws intact when it refills', () => {
    const { source } = countingSource();
    const random = pooledRandom(source, 8);
    const a = random(6);
    const copy = [...a];
    random(6);
    random(6);
    expect([...a]).toEqual(copy);
  });

  it('passes a draw larger than the pool straight to the source', () => {
    const { calls, source } = countingSource();
    const random = pooledRandom(source, 8);
    expect(random(20)).toHaveLength(20);
    expect(calls).toEqual([20]);
  });

  it('uses the system CSPRNG by default', () => {
    const random = pooledRandom();
    const a = random(32);
    const b = random(32);
    expect(a).toHaveLength(32);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });

  it('refuses a nonsensical pool size', () => {
    expect(() => pooledRandom(undefined, 0)).toThrow(RangeError);
    expect(() => pooledRandom(undefined, 1.5)).toThrow(RangeError);
  });
});

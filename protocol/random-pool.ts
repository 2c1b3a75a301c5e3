/**
 * Random bytes drawn from the system CSPRNG a pool at a time. A call to `crypto.randomBytes`
 * costs ~70 µs in a process that has been idle for a few tens of milliseconds (measured here),
 * and every Instruction draws its chaff: on both ends, on a keystroke's critical path. From a
 * 4 KiB pool a draw costs about a microsecond. Bytes handed out are never handed out again, and a
 * refill takes a new buffer, so earlier draws stay valid; callers must not write to them.
 */
import { randomBytes } from 'node:crypto';
import type { RandomBytes } from './clock.js';

export const DEFAULT_POOL_BYTES = 4096;

export function pooledRandom(source: RandomBytes = (n) => randomBytes(n), poolBytes: number = DEFAULT_POOL_BYTES): RandomBytes {
  if (!Number.isSafeInteger(poolBytes) || poolBytes < 1) throw new RangeError(`poolBytes must be a positive integer, not ${poolBytes}`);
  let pool: Uint8Array = new Uint8Array(0);
  let used = 0;
  return (length: number): Uint8Array => {
    if (length > poolBytes) return source(length);
    if (used + length > pool.length) {
      pool = source(poolBytes);
      used = 0;
    }
    const out = pool.subarray(used, used + length);
    used += length;
    return out;
  };
}

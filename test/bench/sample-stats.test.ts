import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EmptySampleError, median, percentile } from '../../bench/sample-stats.js';

const SEED = 0x5a4b1e;

describe('percentile (nearest rank)', () => {
  it('picks the nearest-rank sample', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(median(hundred)).toBe(50);
    // 120 samples: p99 is the 119th smallest, not the largest.
    const many = Array.from({ length: 120 }, (_, i) => i + 1);
    expect(percentile(many, 99)).toBe(119);
    expect(median([7])).toBe(7);
    expect(median([3, 1, 2])).toBe(2);
  });

  it('does not reorder the caller’s array', () => {
    const samples = [3, 1, 2];
    percentile(samples, 50);
    expect(samples).toEqual([3, 1, 2]);
  });

  it('refuses no samples and a percentile out of range', () => {
    expect(() => median([])).toThrow(EmptySampleError);
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });

  it('is a sample with at least p% of samples at or below it and fewer than p% below it', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), { minLength: 1, maxLength: 300 }), fc.integer({ min: 1, max: 100 }), (samples, p) => {
        const value = percentile(samples, p);
        expect(samples).toContain(value);
        const atOrBelow = samples.filter((s) => s <= value).length;
        const below = samples.filter((s) => s < value).length;
        expect(atOrBelow * 100).toBeGreaterThanOrEqual(p * samples.length);
        expect(below * 100).toBeLessThan(p * samples.length);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});

/** Summaries of timing samples (latencies), for benchmark rows. */

export class EmptySampleError extends Error {
  override readonly name = 'EmptySampleError';
  constructor() {
    super('no samples to summarise');
  }
}

/**
 * The nearest-rank percentile: the smallest sample such that at least `p` percent of the samples
 * are ≤ it. Always one of the samples (no interpolation), so p99 of 120 samples is the 119th smallest.
 */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new EmptySampleError();
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[rank - 1]!;
}

export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

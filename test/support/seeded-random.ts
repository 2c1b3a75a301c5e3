/** A source of uniform random numbers in [0, 1), like `Math.random`. */
export type Random = () => number;

/**
 * A small, fast, seedable PRNG (mulberry32) so that simulated links make the same decisions on
 * every run with the same seed. Statistical quality is ample for fault injection; it is not for
 * anything secret.
 */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

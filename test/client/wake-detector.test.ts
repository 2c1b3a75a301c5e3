import { describe, expect, it } from 'vitest';
import { WakeDetector } from '../../client/wake-detector.js';

describe('WakeDetector', () => {
  it('stays quiet on regular ticks', () => {
    const d = new WakeDetector(0, 1_000_000, 3000);
    for (let i = 1; i <= 10; i++) expect(d.check(i * 1000, 1_000_000 + i * 1000, 1000)).toBe(false);
  });
  it('notices the event loop stalling (SIGSTOP, or sleep with a counting monotonic clock)', () => {
    const d = new WakeDetector(0, 0, 3000);
    expect(d.check(1000, 1000, 1000)).toBe(false);
    expect(d.check(31_000, 31_000, 1000)).toBe(true);
    expect(d.check(32_000, 32_000, 1000)).toBe(false);
  });
  it('notices the wall clock jumping past the monotonic clock (suspend on Linux)', () => {
    const d = new WakeDetector(0, 0, 3000);
    expect(d.check(1000, 600_000, 1000)).toBe(true);
  });
});

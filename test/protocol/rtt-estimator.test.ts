import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_RTO_MS, MIN_RTO_MS, RttEstimator } from '../../protocol/rtt-estimator.js';

const SEED = 6298;

describe('RttEstimator', () => {
  it('starts at SRTT 1000, RTTVAR 500, RTO 1000 (clamped)', () => {
    const rtt = new RttEstimator();
    expect(rtt.srtt).toBe(1000);
    expect(rtt.rttvar).toBe(500);
    expect(rtt.rto).toBe(1000);
    expect(rtt.samples).toBe(0);
  });

  it('takes the first sample whole: SRTT = R, RTTVAR = R/2', () => {
    const rtt = new RttEstimator();
    expect(rtt.addSample(100)).toBe(true);
    expect(rtt.srtt).toBe(100);
    expect(rtt.rttvar).toBe(50);
    expect(rtt.rto).toBe(300);
  });

  it('blends later samples with gains 1/4 (RTTVAR, against the old SRTT) and 1/8 (SRTT)', () => {
    const rtt = new RttEstimator();
    rtt.addSample(100);
    rtt.addSample(200);
    expect(rtt.rttvar).toBe(0.75 * 50 + 0.25 * 100);
    expect(rtt.srtt).toBe(0.875 * 100 + 0.125 * 200);
    expect(rtt.rto).toBe(Math.ceil(112.5 + 4 * 62.5));
  });

  it('clamps RTO to 50..1000 ms', () => {
    const fast = new RttEstimator();
    for (let i = 0; i < 50; i++) fast.addSample(1);
    expect(fast.rto).toBe(MIN_RTO_MS);
    const slow = new RttEstimator();
    slow.addSample(4000);
    expect(slow.rto).toBe(MAX_RTO_MS);
  });

  it('ignores samples of 5 s or more, negative and non-numbers', () => {
    const rtt = new RttEstimator();
    for (const sample of [5000, 65535, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(rtt.addSample(sample)).toBe(false);
    expect(rtt.samples).toBe(0);
    expect(rtt.srtt).toBe(1000);
    expect(rtt.addSample(4999)).toBe(true);
    expect(rtt.srtt).toBe(4999);
  });

  it('matches the reference recurrence and keeps RTO within bounds for any samples', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 9999 }), { maxLength: 60 }), (samples) => {
        const rtt = new RttEstimator();
        let srtt = 1000;
        let rttvar = 500;
        let first = true;
        for (const r of samples) {
          const taken = rtt.addSample(r);
          expect(taken).toBe(r < 5000);
          if (!taken) continue;
          if (first) {
            srtt = r;
            rttvar = r / 2;
            first = false;
          } else {
            rttvar = 0.75 * rttvar + 0.25 * Math.abs(srtt - r);
            srtt = 0.875 * srtt + 0.125 * r;
          }
        }
        expect(rtt.srtt).toBeCloseTo(srtt, 9);
        expect(rtt.rttvar).toBeCloseTo(rttvar, 9);
        expect(rtt.rto).toBe(Math.min(1000, Math.max(50, Math.ceil(srtt + 4 * rttvar))));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('takes its constants as options', () => {
    const rtt = new RttEstimator({ initialSrttMs: 300, initialRttvarMs: 10, minRtoMs: 200, maxRtoMs: 400, maxSampleMs: 100 });
    expect(rtt.rto).toBe(340);
    expect(rtt.addSample(100)).toBe(false);
    expect(rtt.addSample(10)).toBe(true);
    expect(rtt.rto).toBe(200);
  });
});

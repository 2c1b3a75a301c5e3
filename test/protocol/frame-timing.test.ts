import { describe, expect, it } from 'vitest';
import {
  ACK_DELAY,
  ACK_INTERVAL,
  ACTIVE_RETRY_TIMEOUT,
  CLIENT_FRAME_TIMING,
  frameTiming,
  InvalidFrameTimingError,
  SEND_INTERVAL_MAX,
  SEND_INTERVAL_MIN,
  sendInterval,
  SERVER_FRAME_TIMING,
  SHUTDOWN_RETRIES,
  SHUTDOWN_TIMEOUT,
} from '../../protocol/frame-timing.js';

describe('frame timing constants', () => {
  it("are Mosh's", () => {
    expect([SEND_INTERVAL_MIN, SEND_INTERVAL_MAX, ACK_INTERVAL, ACK_DELAY, ACTIVE_RETRY_TIMEOUT, SHUTDOWN_RETRIES, SHUTDOWN_TIMEOUT]).toEqual([
      20, 250, 3000, 100, 10_000, 16, 10_000,
    ]);
    expect(SERVER_FRAME_TIMING.collectionDelay).toBe(8);
    expect(CLIENT_FRAME_TIMING.collectionDelay).toBeLessThanOrEqual(2);
    expect({ ...CLIENT_FRAME_TIMING, collectionDelay: 8 }).toEqual(SERVER_FRAME_TIMING);
  });
});

describe('sendInterval', () => {
  it.each([
    [1000, 250], // the initial SRTT before any sample: the slowest rate
    [600, 250],
    [500, 250],
    [498, 249],
    [100, 50],
    [41, 21], // rounds up
    [40, 20],
    [39, 20],
    [1, 20],
    [0, 20],
    [Infinity, 250],
    [Number.NaN, 250],
  ])('SRTT %d ms gives %d ms', (srtt, expected) => {
    expect(sendInterval(srtt)).toBe(expected);
  });

  it('follows overridden bounds', () => {
    const t = frameTiming({ sendIntervalMin: 5, sendIntervalMax: 40 });
    expect(sendInterval(2, t)).toBe(5);
    expect(sendInterval(30, t)).toBe(15);
    expect(sendInterval(200, t)).toBe(40);
  });
});

describe('frameTiming', () => {
  it('overrides only what it is given, on the base it is given', () => {
    const t = frameTiming({ ackInterval: 500 }, CLIENT_FRAME_TIMING);
    expect(t).toEqual({ ...CLIENT_FRAME_TIMING, ackInterval: 500 });
    expect(frameTiming()).toEqual(SERVER_FRAME_TIMING);
    expect(Object.isFrozen(t)).toBe(true);
  });

  it.each([
    [{ ackDelay: -1 }],
    [{ ackInterval: Number.NaN }],
    [{ collectionDelay: Infinity }],
    [{ sendIntervalMin: 300 }],
    [{ shutdownRetries: -5 }],
  ])('rejects %o', (bad) => {
    expect(() => frameTiming(bad)).toThrow(InvalidFrameTimingError);
  });
});

import { describe, expect, it } from 'vitest';
import { FakeClock, MAX_TIMER_DELAY_MS, timerDelay } from '../../protocol/clock.js';

describe('FakeClock', () => {
  it('moves only forward, and only when told', () => {
    const clock = new FakeClock(5);
    expect(clock.now()).toBe(5);
    clock.advance(2.5);
    expect(clock.now()).toBe(7.5);
    clock.set(10);
    expect(clock.now()).toBe(10);
    expect(() => clock.advance(-1)).toThrow(RangeError);
    expect(() => clock.set(9)).toThrow(RangeError);
  });
});

describe('timerDelay', () => {
  it.each([
    // wait, delay handed to setTimeout
    [0, 1],
    [-3, 1],
    [Number.NaN, 1],
    [0.2, 2],
    [1, 2],
    [3.98, 5],
    [20, 21],
    [59_999.5, MAX_TIMER_DELAY_MS],
    [Infinity, MAX_TIMER_DELAY_MS],
  ])('a wait of %s ms arms a %s ms timer', (wait, delay) => {
    expect(timerDelay(wait)).toBe(delay);
  });

  // The point of it: a real Node timer armed with it does not fire before the wait is over, so a
  // session loop wakes once per deadline. (With the wait itself as the delay, Node fires up to a
  // millisecond early: libuv counts from its whole-millisecond loop time.)
  it('makes a real timer fire no earlier than the wait', async () => {
    const waits = [0.3, 1.2, 2.7, 3.3, 3.98, 4.5, 1.9, 2.1, 0.9, 3.6, 2.4, 1.5];
    const early: string[] = [];
    for (const wait of waits) {
      await new Promise<void>((resolve) => {
        // Arm from inside a timer callback, as the session loops do.
        setTimeout(() => {
          const armed = performance.now();
          setTimeout(() => {
            const waited = performance.now() - armed;
            if (waited < wait) early.push(`${wait} ms timer fired after ${waited.toFixed(2)} ms`);
            resolve();
          }, timerDelay(wait));
        }, 1);
      });
    }
    expect(early).toEqual([]);
  });
});

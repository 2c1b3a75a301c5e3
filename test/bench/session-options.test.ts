import { describe, expect, it } from 'vitest';
import {
  BenchOptionError,
  DEFAULT_FLOOD_SECONDS,
  DEFAULT_IDLE_SECONDS,
  DEFAULT_KEYSTROKES,
  QUICK_IDLE_SECONDS,
  sessionBenchOptions,
} from '../../bench/session-options.js';

describe('session benchmark options', () => {
  it('idles 60 s by default and 10 s with --quick', () => {
    expect(sessionBenchOptions([], {})).toEqual({ idleSeconds: DEFAULT_IDLE_SECONDS, floodSeconds: DEFAULT_FLOOD_SECONDS, keystrokes: DEFAULT_KEYSTROKES });
    expect(DEFAULT_IDLE_SECONDS).toBe(60);
    expect(sessionBenchOptions(['session', '--quick'], {}).idleSeconds).toBe(QUICK_IDLE_SECONDS);
    expect(QUICK_IDLE_SECONDS).toBe(10);
    expect(DEFAULT_KEYSTROKES).toBeGreaterThanOrEqual(100);
  });

  it('takes the periods from the environment, which wins over --quick', () => {
    const options = sessionBenchOptions(['--quick'], { TSMOSH_BENCH_IDLE_S: '2.5', TSMOSH_BENCH_FLOOD_S: '4' });
    expect(options.idleSeconds).toBe(2.5);
    expect(options.floodSeconds).toBe(4);
    expect(sessionBenchOptions([], { TSMOSH_BENCH_IDLE_S: ' ' }).idleSeconds).toBe(DEFAULT_IDLE_SECONDS);
  });

  it('refuses a period that is not a sensible number of seconds', () => {
    for (const bad of ['0', '-1', 'ten', '1e9', 'Infinity']) {
      expect(() => sessionBenchOptions([], { TSMOSH_BENCH_IDLE_S: bad })).toThrow(BenchOptionError);
    }
    expect(() => sessionBenchOptions([], { TSMOSH_BENCH_FLOOD_S: 'x' })).toThrow(/TSMOSH_BENCH_FLOOD_S/);
  });
});

import { describe, expect, it } from 'vitest';
import { UnknownLinkError } from '../../bench/link-profiles.js';
import { FULL, QUICK, reportOptions } from '../../bench/report-options.js';
import { BenchOptionError } from '../../bench/session-options.js';

describe('reportOptions', () => {
  it('runs everything at full length by default', () => {
    const o = reportOptions([], {});
    expect(o).toMatchObject({ quick: false, keys: FULL.keys, idleSeconds: FULL.idleSeconds, floodSeconds: FULL.floodSeconds, capMs: FULL.capS * 1000, repeats: FULL.repeats, profileServer: true, outDir: null });
    expect(o.tools).toEqual(['tsmosh', 'mosh', 'ssh']);
    expect(o.links).toEqual(['clean', 'rtt50', 'rtt250-loss5', 'rtt500-loss20']);
  });

  it('shortens everything with --quick', () => {
    const o = reportOptions(['--quick'], {});
    expect(o).toMatchObject({ quick: true, keys: QUICK.keys, idleSeconds: QUICK.idleSeconds, floodSeconds: QUICK.floodSeconds, capMs: QUICK.capS * 1000, repeats: QUICK.repeats });
    expect(QUICK.idleSeconds).toBeLessThan(FULL.idleSeconds);
  });

  it('picks tools and links in the report order, whatever order they are named in', () => {
    const o = reportOptions(['--tools=ssh,tsmosh', '--links=rtt500-loss20,clean', '--no-profile', '--out=/tmp/x'], {});
    expect(o.tools).toEqual(['tsmosh', 'ssh']);
    expect(o.links).toEqual(['clean', 'rtt500-loss20']);
    expect(o.profileServer).toBe(false);
    expect(o.outDir).toBe('/tmp/x');
  });

  it('lets the environment win over --quick, and checks it', () => {
    const o = reportOptions(['--quick'], { TSMOSH_BENCH_IDLE_S: '30', TSMOSH_BENCH_FLOOD_S: '2.5', TSMOSH_BENCH_KEYS: '40', TSMOSH_BENCH_CAP_S: '5' });
    expect(o).toMatchObject({ idleSeconds: 30, floodSeconds: 2.5, keys: 40, capMs: 5000 });
    expect(() => reportOptions([], { TSMOSH_BENCH_KEYS: '2.5' })).toThrow(BenchOptionError);
    expect(() => reportOptions([], { TSMOSH_BENCH_IDLE_S: '0' })).toThrow(BenchOptionError);
    expect(() => reportOptions([], { TSMOSH_BENCH_CAP_S: 'soon' })).toThrow(BenchOptionError);
  });

  it('refuses unknown tools and links', () => {
    expect(() => reportOptions(['--tools=telnet'], {})).toThrow(BenchOptionError);
    expect(() => reportOptions(['--links=mars'], {})).toThrow(UnknownLinkError);
    expect(() => reportOptions(['--tools='], {})).toThrow(BenchOptionError);
  });
});

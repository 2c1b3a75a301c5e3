import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PORT_RANGE, formatPortRange, parsePortRange } from '../../protocol/port-range.js';

describe('parsePortRange', () => {
  it.each([
    ['0', 0, 0],
    ['1', 1, 1],
    ['60001', 60001, 60001],
    ['65535', 65535, 65535],
    ['1:1', 1, 1],
    ['60001:60999', 60001, 60999],
    ['00080', 80, 80],
  ])('accepts %s', (text, low, high) => {
    expect(parsePortRange(text)).toEqual({ ok: true, range: { low, high } });
  });

  it.each([
    ['', 'give a port number'],
    ['abc', 'give a port number'],
    ['-1', 'give a port number'],
    ['1.5', 'give a port number'],
    [' 80', 'give a port number'],
    ['80:', 'give a port number'],
    [':80', 'give a port number'],
    ['1:2:3', 'give a port number'],
    ['123456', 'give a port number'],
    ['65536', 'from 0 to 65535'],
    ['99999', 'from 0 to 65535'],
    ['1:65536', 'from 1 to 65535'],
    ['0:100', 'cannot start at port 0'],
    ['0:0', 'cannot start at port 0'],
    ['9000:8000', 'must not be above'],
  ])('rejects %j, saying %s', (text, problem) => {
    const parsed = parsePortRange(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toContain(problem);
  });

  it('round-trips every valid range through formatPortRange', () => {
    const single = fc.integer({ min: 0, max: 65535 }).map((p) => ({ low: p, high: p }));
    const range = fc
      .tuple(fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 1, max: 65535 }))
      .map(([a, b]) => ({ low: Math.min(a, b), high: Math.max(a, b) }));
    fc.assert(
      fc.property(fc.oneof(single, range), (r) => {
        expect(parsePortRange(formatPortRange(r))).toEqual({ ok: true, range: r });
      }),
      { seed: 4, numRuns: 500 },
    );
  });

  it('formats the default range as mosh spells it', () => {
    expect(formatPortRange(DEFAULT_PORT_RANGE)).toBe('60001:60999');
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compactNumber, escapeXml, renderChart, TOOL_COLORS, wrapText } from '../../bench/report-chart.js';
import type { LinkProfileId } from '../../bench/link-profiles.js';
import type { Measurement } from '../../bench/report-metrics.js';

const LINKS: LinkProfileId[] = ['clean', 'rtt50', 'rtt250-loss5', 'rtt500-loss20'];

/** Every `<tag` opened is closed (or self-closed): a well-formedness check without an XML parser. */
function balanced(svg: string): boolean {
  const stack: string[] = [];
  for (const match of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, close, name, self] = match;
    if (self === '/') continue;
    if (close === '/') {
      if (stack.pop() !== name) return false;
    } else stack.push(name!);
  }
  return stack.length === 0;
}

describe('renderChart', () => {
  it('draws a bar per tool and link, hatches a bar that gave up, and a target line', () => {
    const measurements: Measurement[] = [
      { tool: 'tsmosh', link: 'rtt250-loss5', metric: 'ctrlC', value: 320 },
      { tool: 'mosh', link: 'rtt250-loss5', metric: 'ctrlC', value: 410 },
      { tool: 'ssh', link: 'rtt250-loss5', metric: 'ctrlC', value: 90_000, atLeast: true },
    ];
    const svg = renderChart({ title: 'A & B', subtitle: '<machine>', measurements, links: LINKS, tools: ['tsmosh', 'mosh', 'ssh'] });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(balanced(svg)).toBe(true);
    expect(svg).toContain('A &amp; B');
    expect(svg).toContain('&lt;machine&gt;');
    expect(svg).toContain(`fill="${TOOL_COLORS.tsmosh}"><title>tsmosh, rtt250-loss5: 320 ms</title>`);
    expect(svg).toContain('fill="url(#hatch-ssh)"><title>ssh, rtt250-loss5: more than 90000 ms</title>');
    expect(svg).toContain('&gt;90k</text>');
    expect(svg).toContain('dashed: target ≤ 350');
    expect(svg).toContain('class="target"><title>target: at most 350</title>');
    // Panels with no figures say so rather than drawing an empty axis.
    expect(svg).toContain('not measured');
  });

  it('puts a larger value higher (log scale), in any panel', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.5, max: 1e5, noNaN: true }), fc.double({ min: 0.5, max: 1e5, noNaN: true }), (a, b) => {
        fc.pre(Math.abs(Math.log10(a) - Math.log10(b)) > 0.01);
        const svg = renderChart({
          title: 't',
          subtitle: 's',
          measurements: [
            { tool: 'tsmosh', link: 'clean', metric: 'seq', value: a },
            { tool: 'mosh', link: 'clean', metric: 'seq', value: b },
          ],
          links: ['clean'],
          tools: ['tsmosh', 'mosh'],
        });
        const top = (tool: string): number => Number(new RegExp(`<rect x="[\\d.]+" y="([\\d.]+)"[^>]*fill="${TOOL_COLORS[tool as 'tsmosh']}"><title>${tool}, clean`).exec(svg)![1]);
        expect(top('tsmosh') < top('mosh')).toBe(a > b);
      }),
      { seed: 0xc4a27, numRuns: 50 },
    );
  });

  it('wraps long header lines at spaces', () => {
    expect(wrapText('aaa bbb ccc dddd', 7)).toEqual(['aaa bbb', 'ccc', 'dddd']);
    expect(wrapText('averyveryverylongword x', 5)).toEqual(['averyveryverylongword', 'x']);
    expect(wrapText('  ', 5)).toEqual([]);
    const svg = renderChart({ title: 't', subtitle: 'word '.repeat(100), measurements: [], links: ['clean'], tools: ['tsmosh'] });
    expect(svg.match(/class="st">word/g)!.length).toBeGreaterThan(2);
  });

  it('labels compactly and escapes XML', () => {
    expect(compactNumber(0.424)).toBe('0.42');
    expect(compactNumber(7.25)).toBe('7.3');
    expect(compactNumber(350)).toBe('350');
    expect(compactNumber(1234)).toBe('1.2k');
    expect(compactNumber(90_000)).toBe('90k');
    expect(compactNumber(2_500_000)).toBe('2.5M');
    expect(escapeXml(`a<b>&"c"`)).toBe('a&lt;b&gt;&amp;&quot;c&quot;');
  });
});

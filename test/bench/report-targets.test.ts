import { describe, expect, it } from 'vitest';
import type { LinkProfileId } from '../../bench/link-profiles.js';
import type { Measurement, MetricId } from '../../bench/report-metrics.js';
import { judgeTargets, type TargetResult } from '../../bench/report-targets.js';
import type { ToolName } from '../../bench/remote-shell.js';

function m(tool: ToolName, link: LinkProfileId, metric: MetricId, value: number | null, atLeast = false): Measurement {
  return { tool, link, metric, value, ...(atLeast ? { atLeast } : {}) };
}

function find(results: readonly TargetResult[], link: LinkProfileId, metric: MetricId): TargetResult {
  const r = results.find((t) => t.link === link && t.metric === metric);
  if (r === undefined) throw new Error(`no target for ${link} ${metric}`);
  return r;
}

const LOSSY: LinkProfileId = 'rtt250-loss5';

describe('judgeTargets', () => {
  it('judges the lossy-link limits, at the limit as met and above it as not', () => {
    const results = judgeTargets([m('tsmosh', LOSSY, 'ctrlC', 350), m('tsmosh', LOSSY, 'seq', 701)], [LOSSY], 60);
    expect(find(results, LOSSY, 'ctrlC').verdict).toBe('met');
    expect(find(results, LOSSY, 'seq').verdict).toBe('NOT met');
    expect(find(results, LOSSY, 'seq').measured).toBe('701 ms');
  });

  it('counts a value that gave up at the cap as not met', () => {
    const results = judgeTargets([m('tsmosh', LOSSY, 'ctrlC', 300, true)], [LOSSY], 60);
    expect(find(results, LOSSY, 'ctrlC').verdict).toBe('NOT met');
    expect(find(results, LOSSY, 'ctrlC').measured).toBe('>300 ms');
  });

  it('compares bytes on the wire with Mosh for every workload, and says which side is missing', () => {
    const results = judgeTargets(
      [m('tsmosh', LOSSY, 'seqWire', 10), m('mosh', LOSSY, 'seqWire', 10), m('tsmosh', LOSSY, 'keyWire', 300), m('mosh', LOSSY, 'keyWire', 130), m('tsmosh', LOSSY, 'idleWire', 3)],
      [LOSSY],
      60,
    );
    expect(find(results, LOSSY, 'seqWire').verdict).toBe('met');
    expect(find(results, LOSSY, 'keyWire').verdict).toBe('NOT met');
    const withPackets = judgeTargets(
      [
        { tool: 'tsmosh', link: LOSSY, metric: 'keyWire', value: 300, note: '30↑ 17↓ packets for 15 keys' },
        { tool: 'mosh', link: LOSSY, metric: 'keyWire', value: 130, note: '15↑ 10↓ packets for 15 keys' },
      ],
      [LOSSY],
      60,
    );
    expect(find(withPackets, LOSSY, 'keyWire').measured).toBe('tsmosh 300 B (30↑ 17↓ packets) vs mosh 130 B (15↑ 10↓ packets)');
    expect(find(results, LOSSY, 'idleWire')).toMatchObject({ verdict: 'not measured' });
    expect(find(results, LOSSY, 'idleWire').measured).toMatch(/^mosh/);
    expect(find(results, LOSSY, 'floodWire').measured).toMatch(/^tsmosh/);
  });

  it('lets tsmosh beat a comparison whose other side gave up, but not the other way round', () => {
    const sshGaveUp = judgeTargets([m('tsmosh', 'clean', 'seq', 400), m('ssh', 'clean', 'seq', 15_000, true)], ['clean'], 60);
    expect(find(sshGaveUp, 'clean', 'seq').verdict).toBe('met');
    const close = judgeTargets(
      [
        { tool: 'tsmosh', link: 'clean', metric: 'seq', value: 177, note: 'median of 3 (243, 177, 155 ms); server CPU 0.11 s' },
        { tool: 'ssh', link: 'clean', metric: 'seq', value: 172, note: 'median of 3 (172, 228, 164 ms)' },
      ],
      ['clean'],
      60,
    );
    expect(find(close, 'clean', 'seq')).toMatchObject({ verdict: 'NOT met', measured: 'tsmosh 177 ms (runs: 243, 177, 155 ms) vs ssh 172 ms (runs: 172, 228, 164 ms)' });
    const weGaveUp = judgeTargets([m('tsmosh', 'clean', 'seq', 300, true), m('ssh', 'clean', 'seq', 400)], ['clean'], 60);
    expect(find(weGaveUp, 'clean', 'seq').verdict).toBe('NOT met');
  });

  it('judges idle and flood limits on every link run, strictly below the limit', () => {
    const results = judgeTargets(
      [m('tsmosh', 'rtt50', 'idleServerCpu', 0.2), m('tsmosh', 'rtt50', 'idleServerRss', 79.9), m('tsmosh', 'rtt50', 'floodServerCpu', 99)],
      ['rtt50'],
      60,
    );
    expect(find(results, 'rtt50', 'idleServerCpu').verdict).toBe('NOT met');
    expect(find(results, 'rtt50', 'idleServerRss').verdict).toBe('met');
    expect(find(results, 'rtt50', 'floodServerCpu').verdict).toBe('met');
    // Targets of links that were not run are not listed.
    expect(results.some((r) => r.link === LOSSY || r.link === 'clean')).toBe(false);
  });

  it('does not judge idle CPU over a period too short to resolve it', () => {
    const results = judgeTargets([m('tsmosh', 'rtt50', 'idleServerCpu', 0.12), m('tsmosh', 'rtt50', 'idleServerRss', 70)], ['rtt50'], 5);
    expect(find(results, 'rtt50', 'idleServerCpu').verdict).toBe('not judged');
    expect(find(results, 'rtt50', 'idleServerCpu').measured).toMatch(/over 5 s: too short/);
    expect(find(results, 'rtt50', 'idleServerRss').verdict).toBe('met');
  });

  it('reports a figure that was not taken as not measured, with its note', () => {
    const results = judgeTargets([{ tool: 'tsmosh', link: LOSSY, metric: 'ctrlC', value: null, note: 'not measured: the session did not start' }], [LOSSY], 60);
    expect(find(results, LOSSY, 'ctrlC')).toMatchObject({ verdict: 'not measured', measured: 'not measured: the session did not start' });
  });
});

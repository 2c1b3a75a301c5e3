/**
 * The targets of issue #7, judged on one run's measurements: met, NOT met, or not measured. Pure.
 */
import { BENCH_LINKS, type LinkProfileId } from './link-profiles.js';
import { findMeasurement, formatValue, metricInfo, WIRE_METRICS, type Measurement, type MetricId } from './report-metrics.js';
import type { ToolName } from './remote-shell.js';

export type Verdict = 'met' | 'NOT met' | 'not measured' | 'not judged';

export interface TargetResult {
  /** What is promised, in words. */
  readonly target: string;
  readonly link: LinkProfileId;
  readonly metric: MetricId;
  readonly verdict: Verdict;
  /** The measured figure and what it was compared with. */
  readonly measured: string;
}

/** The lossy link the headline targets are set on. */
export const TARGET_LINK: LinkProfileId = 'rtt250-loss5';
export const CTRL_C_LIMIT_MS = 350;
export const SEQ_LIMIT_MS = 700;
export const IDLE_CPU_LIMIT_S_PER_MIN = 0.2;
export const IDLE_RSS_LIMIT_MB = 80;
export const FLOOD_CPU_LIMIT_PERCENT = 100;
/**
 * CPU time is counted in 10 ms clock ticks: over 5 s one tick is 0.12 s per minute, so an idle
 * period shorter than this cannot tell 0.2 s per minute from noise.
 */
export const MIN_IDLE_TO_JUDGE_S = 30;

function show(m: Measurement | undefined): string {
  if (m === undefined || m.value === null) return 'not measured';
  return `${formatValue(m)} ${metricInfo(m.metric).unit}`;
}

/** tsmosh's value against a fixed upper limit (strictly below when `strict`). */
function limitTarget(all: readonly Measurement[], link: LinkProfileId, metric: MetricId, limit: number, strict: boolean, target: string): TargetResult {
  const m = findMeasurement(all, 'tsmosh', link, metric);
  if (m === undefined || m.value === null) return { target, link, metric, verdict: 'not measured', measured: m?.note ?? 'not measured' };
  // A lower bound above the limit is a miss; a lower bound below it proves nothing, and counts as a miss too.
  const ok = m.atLeast !== true && (strict ? m.value < limit : m.value <= limit);
  return { target, link, metric, verdict: ok ? 'met' : 'NOT met', measured: show(m) };
}

/** tsmosh's value no worse than another tool's on the same link. */
function versusTarget(all: readonly Measurement[], link: LinkProfileId, metric: MetricId, other: ToolName, target: string): TargetResult {
  const ours = findMeasurement(all, 'tsmosh', link, metric);
  const theirs = findMeasurement(all, other, link, metric);
  if (ours === undefined || ours.value === null || theirs === undefined || theirs.value === null) {
    const missing = ours === undefined || ours.value === null ? 'tsmosh' : other;
    return { target, link, metric, verdict: 'not measured', measured: `${missing}: ${(missing === 'tsmosh' ? ours : theirs)?.note ?? 'not measured'}` };
  }
  // If ours is a lower bound it cannot be shown to be no worse; if theirs is, ours only has to be below that bound.
  const ok = ours.atLeast !== true && ours.value <= theirs.value;
  // Bytes come with their packet counts, which say why one side sent more; times with every run, which say how close it was.
  const detail = (m: Measurement): string => {
    const found = WIRE_METRICS.includes(metric) ? /(\d+↑ \d+↓ packets)/.exec(m.note ?? '')?.[1] : /median of \d+ \(([^)]*)\)/.exec(m.note ?? '')?.[1];
    return found === undefined ? '' : ` (${WIRE_METRICS.includes(metric) ? '' : 'runs: '}${found})`;
  };
  return { target, link, metric, verdict: ok ? 'met' : 'NOT met', measured: `tsmosh ${show(ours)}${detail(ours)} vs ${other} ${show(theirs)}${detail(theirs)}` };
}

function linkLabel(id: LinkProfileId): string {
  return BENCH_LINKS.find((l) => l.id === id)?.label ?? id;
}

/** Every target of the issue that this run's links and tools allow judging. */
export function judgeTargets(all: readonly Measurement[], links: readonly LinkProfileId[], idleSeconds: number): TargetResult[] {
  const results: TargetResult[] = [];
  if (links.includes(TARGET_LINK)) {
    const on = linkLabel(TARGET_LINK);
    results.push(limitTarget(all, TARGET_LINK, 'ctrlC', CTRL_C_LIMIT_MS, false, `${on}: Ctrl-C to prompt ≤ ${CTRL_C_LIMIT_MS} ms (Mosh ~400 ms, ssh ~1.7 s per the issue)`));
    results.push(limitTarget(all, TARGET_LINK, 'seq', SEQ_LIMIT_MS, false, `${on}: seq 1 200000 to prompt ≤ ${SEQ_LIMIT_MS} ms (Mosh ~820 ms, ssh ~1.7 s per the issue)`));
    for (const metric of WIRE_METRICS) {
      results.push(versusTarget(all, TARGET_LINK, metric, 'mosh', `${on}: ${metricInfo(metric).label} ≤ Mosh's`));
    }
  }
  if (links.includes('clean')) {
    results.push(versusTarget(all, 'clean', 'seq', 'ssh', 'clean loopback: seq 1 200000 no slower than ssh (~0.3 s per the issue)'));
  }
  for (const link of links) {
    const on = linkLabel(link);
    const idleCpu = limitTarget(all, link, 'idleServerCpu', IDLE_CPU_LIMIT_S_PER_MIN, true, `${on}: idle server CPU < ${IDLE_CPU_LIMIT_S_PER_MIN} s per minute`);
    const tooShort = idleSeconds < MIN_IDLE_TO_JUDGE_S && idleCpu.verdict !== 'not measured';
    results.push(tooShort ? { ...idleCpu, verdict: 'not judged', measured: `${idleCpu.measured} over ${idleSeconds} s: too short to resolve (10 ms CPU ticks); judged from ${MIN_IDLE_TO_JUDGE_S} s up` } : idleCpu);
    results.push(limitTarget(all, link, 'idleServerRss', IDLE_RSS_LIMIT_MB, true, `${on}: idle server RSS < ${IDLE_RSS_LIMIT_MB} MB`));
    results.push(limitTarget(all, link, 'floodServerCpu', FLOOD_CPU_LIMIT_PERCENT, true, `${on}: server under a yes flood < one core`));
  }
  return results;
}

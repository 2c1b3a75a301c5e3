/**
 * What the performance report measures: one `Measurement` per tool, link and metric, and how each
 * metric is named, counted and shown. Pure.
 */
import type { LinkProfileId } from './link-profiles.js';
import type { ToolName } from './remote-shell.js';

export type MetricId =
  | 'connect'
  | 'connectWire'
  | 'keyDisplayMedian'
  | 'keyDisplayP90'
  | 'keyDisplayFirst10Within10'
  | 'keyDisplayRestWithin10'
  | 'keyConfirmMedian'
  | 'keyConfirmP90'
  | 'keyWire'
  | 'ctrlC'
  | 'ctrlCWire'
  | 'seq'
  | 'seqWire'
  | 'idleServerCpu'
  | 'idleServerRss'
  | 'idleClientCpu'
  | 'idleWire'
  | 'floodServerCpu'
  | 'floodServerRss'
  | 'floodClientCpu'
  | 'floodWire';

export interface MetricInfo {
  readonly id: MetricId;
  readonly label: string;
  readonly unit: string;
  /** Digits after the point in tables. */
  readonly digits: number;
}

/** In table order. */
export const METRICS: readonly MetricInfo[] = Object.freeze([
  { id: 'connect', label: 'connect: client start → prompt', unit: 'ms', digits: 0 },
  { id: 'connectWire', label: 'connect: bytes on the wire', unit: 'KiB', digits: 1 },
  { id: 'keyDisplayMedian', label: 'keystroke → screen (as shipped), median', unit: 'ms', digits: 1 },
  { id: 'keyDisplayP90', label: 'keystroke → screen (as shipped), p90', unit: 'ms', digits: 1 },
  { id: 'keyDisplayFirst10Within10', label: 'shown within 10 ms, keys 1-10', unit: '%', digits: 0 },
  { id: 'keyDisplayRestWithin10', label: 'shown within 10 ms, keys 11+', unit: '%', digits: 0 },
  { id: 'keyConfirmMedian', label: 'keystroke → server echo on screen, median', unit: 'ms', digits: 1 },
  { id: 'keyConfirmP90', label: 'keystroke → server echo on screen, p90', unit: 'ms', digits: 1 },
  { id: 'keyWire', label: 'keystrokes: bytes on the wire per key', unit: 'B', digits: 0 },
  { id: 'ctrlC', label: 'Ctrl-C in seq 1 100000000 → prompt', unit: 'ms', digits: 0 },
  { id: 'ctrlCWire', label: 'Ctrl-C run: bytes on the wire', unit: 'KiB', digits: 1 },
  { id: 'seq', label: 'seq 1 200000: Enter → prompt', unit: 'ms', digits: 0 },
  { id: 'seqWire', label: 'seq 1 200000: bytes on the wire', unit: 'KiB', digits: 1 },
  { id: 'idleServerCpu', label: 'idle: server CPU', unit: 's/min', digits: 3 },
  { id: 'idleServerRss', label: 'idle: server peak RSS', unit: 'MB', digits: 1 },
  { id: 'idleClientCpu', label: 'idle: client CPU', unit: 's/min', digits: 3 },
  { id: 'idleWire', label: 'idle: bytes on the wire', unit: 'KiB/min', digits: 2 },
  { id: 'floodServerCpu', label: 'yes flood: server CPU', unit: '% core', digits: 0 },
  { id: 'floodServerRss', label: 'yes flood: server peak RSS', unit: 'MB', digits: 1 },
  { id: 'floodClientCpu', label: 'yes flood: client CPU', unit: '% core', digits: 0 },
  { id: 'floodWire', label: 'yes flood: bytes on the wire', unit: 'KiB/s', digits: 1 },
]);

/** The metrics that count bytes on the wire, one per workload. */
export const WIRE_METRICS: readonly MetricId[] = ['connectWire', 'keyWire', 'ctrlCWire', 'seqWire', 'idleWire', 'floodWire'];

export function metricInfo(id: MetricId): MetricInfo {
  return METRICS.find((m) => m.id === id)!;
}

export interface Measurement {
  readonly tool: ToolName;
  readonly link: LinkProfileId;
  readonly metric: MetricId;
  /** null: not measured (see `note`). */
  readonly value: number | null;
  /** The workload gave up at the report's cap: the true value is larger. */
  readonly atLeast?: boolean;
  readonly note?: string;
}

export function findMeasurement(all: readonly Measurement[], tool: ToolName, link: LinkProfileId, metric: MetricId): Measurement | undefined {
  return all.find((m) => m.tool === tool && m.link === link && m.metric === metric);
}

/** A value as the table shows it: `>` for a lower bound, `-` when not measured. */
export function formatValue(m: Measurement | undefined): string {
  if (m === undefined || m.value === null || !Number.isFinite(m.value)) return '-';
  const text = m.value.toFixed(metricInfo(m.metric).digits);
  return m.atLeast === true ? `>${text}` : text;
}

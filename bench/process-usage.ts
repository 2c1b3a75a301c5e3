/**
 * CPU time and memory of another process, read from Linux's /proc, for the end-to-end benchmarks
 * (the server daemon and the client are separate processes, so `process.cpuUsage()` cannot see them).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

/** One reading of a process. */
export interface ProcessUsage {
  /** User + system CPU time since the process started. */
  readonly cpuSeconds: number;
  /** Resident set size now (VmRSS). */
  readonly rssKiB: number;
  /** Peak resident set size (VmHWM) since the start or since the last `resetPeakRss`. */
  readonly peakRssKiB: number;
}

export class ProcStatFormatError extends Error {
  override readonly name = 'ProcStatFormatError';
}

/**
 * utime and stime, in clock ticks, from the text of /proc/<pid>/stat. The command name (field 2)
 * is in parentheses and may itself hold spaces and parentheses, so fields are counted from the last ')'.
 */
export function parseProcStat(text: string): { readonly utimeTicks: number; readonly stimeTicks: number } {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new ProcStatFormatError('no command name in /proc/<pid>/stat');
  // After ") " come field 3 (state) onwards; utime is field 14 and stime field 15.
  const fields = text.slice(close + 2).split(' ');
  const utimeTicks = Number(fields[11]);
  const stimeTicks = Number(fields[12]);
  if (!Number.isInteger(utimeTicks) || !Number.isInteger(stimeTicks)) throw new ProcStatFormatError('no utime/stime in /proc/<pid>/stat');
  return { utimeTicks, stimeTicks };
}

/** A `Name:   1234 kB` line of /proc/<pid>/status, in KiB; null if the line is absent (e.g. a zombie). */
export function parseStatusKiB(text: string, name: string): number | null {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(text);
  return match === null ? null : Number(match[1]);
}

let ticksPerSecond: number | undefined;

/** The kernel's USER_HZ (what /proc/<pid>/stat counts in); 100 on every usual Linux. */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
      ticksPerSecond = Number.isInteger(value) && value > 0 ? value : 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** Reads a live process's usage; throws if it is gone. */
export function readProcessUsage(pid: number): ProcessUsage {
  const { utimeTicks, stimeTicks } = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return {
    cpuSeconds: (utimeTicks + stimeTicks) / clockTicksPerSecond(),
    rssKiB: parseStatusKiB(status, 'VmRSS') ?? 0,
    peakRssKiB: parseStatusKiB(status, 'VmHWM') ?? 0,
  };
}

/**
 * Resets VmHWM to the current RSS (Linux ≥ 4.0, writing 5 to clear_refs; allowed for our own
 * processes), so that a later reading gives the peak of one phase. False if the kernel refused.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

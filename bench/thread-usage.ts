/**
 * CPU time of a process's main thread alone, from /proc/<pid>/task/<pid>/stat: in a Node process the
 * rest is V8's helper threads (concurrent GC, compilation) and the libuv pool, so the split tells
 * JavaScript work from background work.
 */
import { readFileSync } from 'node:fs';
import { clockTicksPerSecond, parseProcStat } from './process-usage.js';

/** utime + stime of the thread whose id is the process id; throws if the process is gone. */
export function mainThreadCpuSeconds(pid: number): number {
  const { utimeTicks, stimeTicks } = parseProcStat(readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8'));
  return (utimeTicks + stimeTicks) / clockTicksPerSecond();
}

import { readFileSync } from 'node:fs';

/**
 * What /proc says about a process, for lifecycle tests: whether it is really gone, and what its
 * command line and environment hold.
 */

/**
 * The process's state letter from /proc/<pid>/stat (R, S, T, Z, …), or null if there is no such
 * process. The command name in field 2 may hold spaces and parentheses, so read after the last ')'.
 */
export function processState(pid: number): string | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const afterName = stat.slice(stat.lastIndexOf(')') + 2);
  return afterName.charAt(0) || null;
}

/**
 * True once `pid` no longer runs. A zombie counts as gone: a daemon detached with setsid is
 * re-parented to PID 1, and in a container PID 1 may never reap it.
 */
export function processGone(pid: number): boolean {
  const state = processState(pid);
  return state === null || state === 'Z' || state === 'X';
}

/** A NUL-separated /proc file as its entries ('cmdline' gives argv, 'environ' NAME=VALUE pairs); null if unreadable. */
export function procEntries(pid: number, file: 'cmdline' | 'environ'): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'latin1').split('\0').filter((entry) => entry !== '');
  } catch {
    return null;
  }
}

/** Sends `signal` to `pid` if it still exists (cleanup must not throw). */
export function signalIfAlive(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

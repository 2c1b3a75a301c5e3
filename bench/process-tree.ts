/**
 * The processes the report starts (servers, clients, shells), read from Linux's /proc, and a
 * registry that kills whatever is left if a run fails or is interrupted.
 */
import { readFileSync } from 'node:fs';

/** Direct children of `pid`; empty if it is gone. */
export function childrenOf(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return text === '' ? [] : text.split(/\s+/).map(Number);
  } catch {
    return [];
  }
}

/** Every descendant of `pid`, parents before children (bounded by the process table). */
export function descendantsOf(pid: number): number[] {
  const found: number[] = [];
  const queue = childrenOf(pid);
  while (queue.length > 0 && found.length < 10_000) {
    const next = queue.shift()!;
    found.push(next);
    queue.push(...childrenOf(next));
  }
  return found;
}

/** The command name (/proc/<pid>/comm), or null if the process is gone. */
export function commandName(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}

/** True while `pid` runs; a zombie (exited, not yet reaped by its new parent) counts as gone. */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).charAt(0);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `pid` is gone; false if it still runs after `timeoutMs`. */
export async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (running(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(25);
  }
  return true;
}

/** SIGTERM, then SIGKILL after `graceMs`, to each of `pids` still running. */
export async function terminate(pids: readonly number[], graceMs = 2000): Promise<void> {
  const left = pids.filter(running);
  for (const pid of left) signal(pid, 'SIGTERM');
  for (const pid of left) if (!(await waitGone(pid, graceMs))) signal(pid, 'SIGKILL');
}

/** Processes started by the report and not yet seen to end: SIGKILLed (with their descendants) if the run dies. */
export class ProcessRegistry {
  readonly #pids = new Set<number>();

  add(pid: number): void {
    if (pid > 0) this.#pids.add(pid);
  }

  delete(pid: number): void {
    this.#pids.delete(pid);
  }

  killAll(): void {
    for (const pid of this.#pids) {
      for (const child of descendantsOf(pid).reverse()) signal(child, 'SIGKILL');
      signal(pid, 'SIGKILL');
    }
    this.#pids.clear();
  }
}

/** The one registry of this benchmark process. */
export const startedProcesses = new ProcessRegistry();

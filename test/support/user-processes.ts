/**
 * What a user runs, read from /proc: for end-to-end tests that must show a remote session left
 * nothing behind (the server daemon, its shell, sshd's session process), and which UDP port the
 * daemon bound.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface UserProcess {
  readonly pid: number;
  /** The state letter from /proc/<pid>/stat (R, S, T, …). */
  readonly state: string;
  readonly argv: readonly string[];
}

/**
 * The live processes whose real uid is `uid`. Zombies are left out: a detached daemon is re-parented
 * to PID 1, which in a container may never reap it, yet it no longer runs.
 */
export function processesOf(uid: number): UserProcess[] {
  const found: UserProcess[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const status = readOrNull(`/proc/${pid}/status`);
    const realUid = status === null ? null : /^Uid:\s+(\d+)/m.exec(status)?.[1];
    if (realUid === undefined || realUid === null || Number(realUid) !== uid) continue;
    const state = processState(pid);
    if (state === null || state === 'Z' || state === 'X') continue;
    const cmdline = readOrNull(`/proc/${pid}/cmdline`) ?? '';
    found.push({ pid, state, argv: cmdline.split('\0').filter((arg) => arg !== '') });
  }
  return found;
}

/** The state letter of `pid`, or null if there is no such process. The name in field 2 may hold spaces and ')', so read after the last ')'. */
function processState(pid: number): string | null {
  const stat = readOrNull(`/proc/${pid}/stat`);
  if (stat === null) return null;
  return stat.slice(stat.lastIndexOf(')') + 2).charAt(0) || null;
}

/** The local ports of the UDP sockets (IPv4 and IPv6) that `pid` holds open. */
export function udpPortsOf(pid: number): number[] {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match !== null) inodes.add(match[1]!);
    } catch {
      // Closed meanwhile.
    }
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    // "sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode …"
    for (const line of (readOrNull(table) ?? '').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      const inode = fields[9];
      if (local === undefined || inode === undefined || !inodes.has(inode)) continue;
      ports.push(parseInt(local.slice(local.lastIndexOf(':') + 1), 16));
    }
  }
  return ports;
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return null;
  }
}

/** The machine a report was measured on, so that its figures are read in context. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly kernel: string;
  readonly node: string;
  readonly openssh: string | null;
  readonly mosh: string | null;
  /** 1-minute load average when the run started: on a shared 2-core box every latency grows with it. */
  readonly loadAtStart: number;
}

function firstLine(command: string, args: string[]): string | null {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error !== undefined) return null;
  const text = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n')[0]?.trim();
  return text === undefined || text === '' ? null : text;
}

function osName(): string {
  try {
    return /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os.type();
  } catch {
    return os.type();
  }
}

export function machineInfo(): MachineInfo {
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: osName(),
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    openssh: firstLine('ssh', ['-V']),
    mosh: firstLine('mosh-server', ['--version']),
    loadAtStart: os.loadavg()[0] ?? 0,
  };
}

export function describeMachine(m: MachineInfo): string {
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.os}, ${m.kernel}; Node ${m.node}; ${m.openssh ?? 'no OpenSSH'}; ${m.mosh ?? 'no mosh'}; load average ${m.loadAtStart.toFixed(2)} at the start`;
}

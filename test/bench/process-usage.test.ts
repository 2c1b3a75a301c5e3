import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { clockTicksPerSecond, parseProcStat, parseStatusKiB, ProcStatFormatError, readProcessUsage, resetPeakRss } from '../../bench/process-usage.js';

describe('parseProcStat', () => {
  it('finds utime and stime after a command name holding spaces and parentheses', () => {
    const rest = Array.from({ length: 50 }, (_, i) => String(i + 3));
    rest[0] = 'S';
    rest[11] = '1234'; // field 14, utime
    rest[12] = '56'; // field 15, stime
    expect(parseProcStat(`4242 (node (x) y) ${rest.join(' ')}\n`)).toEqual({ utimeTicks: 1234, stimeTicks: 56 });
  });

  it('refuses text that is not a stat line', () => {
    expect(() => parseProcStat('garbage')).toThrow(ProcStatFormatError);
    expect(() => parseProcStat('1 (x) S 1 2')).toThrow(ProcStatFormatError);
  });
});

describe('parseStatusKiB', () => {
  it('reads a kB line by name, and null when absent', () => {
    const text = 'Name:\tnode\nVmPeak:\t  900 kB\nVmHWM:\t   81234 kB\nVmRSS:\t   70000 kB\n';
    expect(parseStatusKiB(text, 'VmHWM')).toBe(81234);
    expect(parseStatusKiB(text, 'VmRSS')).toBe(70000);
    expect(parseStatusKiB(text, 'VmSwap')).toBeNull();
  });
});

describe('readProcessUsage on this process', () => {
  it('counts CPU time this process burns and reports its memory', () => {
    const before = readProcessUsage(process.pid);
    expect(before.rssKiB).toBeGreaterThan(0);
    expect(before.peakRssKiB).toBeGreaterThanOrEqual(before.rssKiB);
    // Burn 200 ms of CPU as Node itself counts it (bounded in wall time in case the box is starved).
    const start = process.cpuUsage();
    const deadline = Date.now() + 20_000;
    let spent = 0;
    while (spent < 200_000 && Date.now() < deadline) {
      for (let i = 0; i < 1e5; i++) Math.sqrt(i);
      const used = process.cpuUsage(start);
      spent = used.user + used.system;
    }
    const after = readProcessUsage(process.pid);
    expect(after.cpuSeconds - before.cpuSeconds).toBeGreaterThanOrEqual(spent / 1e6 - 2 / clockTicksPerSecond());
  });

  it('resets the peak RSS of a process we started to its current RSS', async () => {
    // The child touches 128 MiB, frees it (large buffers go back to the OS), then says so and waits.
    const child = spawn(
      process.execPath,
      ['--expose-gc', '-e', 'let b = Buffer.alloc(128 << 20, 1); b = null; globalThis.gc(); console.log("ready"); setTimeout(() => {}, 30000);'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the child did not get ready')), 20_000);
        child.stdout.once('data', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      const before = readProcessUsage(child.pid!);
      expect(before.peakRssKiB).toBeGreaterThan(128 * 1024);
      expect(before.rssKiB).toBeLessThan(before.peakRssKiB - 64 * 1024);
      expect(resetPeakRss(child.pid!)).toBe(true);
      const after = readProcessUsage(child.pid!);
      expect(after.peakRssKiB).toBeLessThan(before.peakRssKiB - 64 * 1024);
      expect(after.peakRssKiB).toBeGreaterThanOrEqual(after.rssKiB);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('throws for a process that does not exist', () => {
    expect(() => readProcessUsage(0x3fffffff)).toThrow();
  });
});

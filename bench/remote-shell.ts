/**
 * A remote shell session as the performance report drives it, whatever the tool: a client program
 * (tsmosh, mosh-client or ssh) on a real PTY whose output a headless xterm shows as the user's
 * screen, a server on the far side of an emulated link, and the counters the report reads.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LinkEmulatorStats } from '../test/support/link-emulator.js';
import type { ClientProcess } from '../test/support/live-session.js';
import { ScreenWatch } from './screen-watch.js';

export type ToolName = 'tsmosh' | 'mosh' | 'ssh';
export const TOOLS: readonly ToolName[] = ['tsmosh', 'mosh', 'ssh'];

/** `default`: the tool as a user runs it (adaptive local echo for tsmosh and mosh). `never`: no local echo, every echo is the server's. */
export type EchoMode = 'default' | 'never';

/** The shell every tool runs: the same bash, prompt and environment. */
export const PROMPT = '$';
export const SHELL_COMMAND = ['/bin/bash', '--norc', '--noprofile', '-i'] as const;

export function shellEnv(home: string): Record<string, string> {
  return { HOME: home, PS1: `${PROMPT} `, HISTFILE: '/dev/null', LANG: 'C.UTF-8' };
}

/** Bytes and packets the two ends put on the wire (IPv4 headers included), per direction. */
export interface WireCount {
  readonly upBytes: number;
  readonly downBytes: number;
  readonly upPackets: number;
  readonly downPackets: number;
}

export const NO_WIRE: WireCount = Object.freeze({ upBytes: 0, downBytes: 0, upPackets: 0, downPackets: 0 });

export function wireDelta(before: WireCount, after: WireCount): WireCount {
  return {
    upBytes: after.upBytes - before.upBytes,
    downBytes: after.downBytes - before.downBytes,
    upPackets: after.upPackets - before.upPackets,
    downPackets: after.downPackets - before.downPackets,
  };
}

export function wireTotal(w: WireCount): number {
  return w.upBytes + w.downBytes;
}

/** IPv4 (20) + UDP (8) header bytes of each datagram. */
export const UDP_HEADER_BYTES = 28;

/** What senders put on the wire through the UDP link emulator: every datagram offered, lost or not, with its headers. */
export function udpWire(stats: LinkEmulatorStats): WireCount {
  return {
    upBytes: stats.up.offeredBytes + UDP_HEADER_BYTES * stats.up.offered,
    downBytes: stats.down.offeredBytes + UDP_HEADER_BYTES * stats.down.offered,
    upPackets: stats.up.offered,
    downPackets: stats.down.offered,
  };
}

export interface RemoteShell {
  readonly tool: ToolName;
  readonly mode: EchoMode;
  readonly client: ClientProcess;
  readonly watch: ScreenWatch;
  /** Milliseconds from starting the client program until the first prompt was on the user's screen. */
  readonly connectMs: number;
  /** The processes that count as the tool's server: not the shell, nor what it runs. */
  serverPids(): readonly number[];
  /** Counters since the link was set up. */
  wire(): WireCount;
  /** Quits as a user would, then makes sure every process of the session is gone. */
  close(): Promise<void>;
}

export class SessionStartError extends Error {
  override readonly name = 'SessionStartError';
}

/** Starts `spawnClient()` and waits for the prompt on its screen; resolves with the watch and the connect time. */
export async function waitForFirstPrompt(spawnClient: () => ClientProcess, timeoutMs: number): Promise<{ client: ClientProcess; watch: ScreenWatch; connectMs: number }> {
  const start = performance.now();
  const client = spawnClient();
  // Subscribed in the same tick as the spawn, before any output can arrive.
  const watch = new ScreenWatch(client);
  try {
    const shown = await Promise.race([
      watch.until('the first prompt', () => watch.cursorLine() === PROMPT, timeoutMs),
      client.exited.then((exit) => {
        throw new SessionStartError(`the client exited (status ${exit.exitCode}) before the prompt showed: ${JSON.stringify(client.output.slice(-300))}`);
      }),
    ]);
    return { client, watch, connectMs: shown - start };
  } catch (error) {
    watch.dispose();
    client.dispose();
    throw error;
  }
}

/** A throwaway HOME for one session's shell. */
export function makeHome(): { readonly dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsmosh-report-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Types `quit` and waits up to `ms` for the client to exit; kills it if it did not. */
export async function quitClient(client: ClientProcess, quit: string, ms = 5000): Promise<boolean> {
  client.type(quit);
  const exited = await Promise.race([client.exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);
  client.dispose();
  return exited;
}

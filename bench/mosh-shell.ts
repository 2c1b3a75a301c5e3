/**
 * A stock Mosh session for the report: Debian's `mosh-server new` started directly (no SSH: the
 * report compares the sessions, and both tools bootstrap over SSH the same way), and `mosh-client`
 * with MOSH_KEY, through the UDP link emulator.
 */
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { LinkEmulator } from '../test/support/link-emulator.js';
import { ClientProcess } from '../test/support/live-session.js';
import { udpLinkProfile, type BenchLink } from './link-profiles.js';
import { descendantsOf, startedProcesses, terminate, waitGone } from './process-tree.js';
import { makeHome, quitClient, SHELL_COMMAND, shellEnv, udpWire, waitForFirstPrompt, type EchoMode, type RemoteShell } from './remote-shell.js';

export const MOSH_SERVER = 'mosh-server';
export const MOSH_CLIENT = 'mosh-client';
const SAFETY_NETWORK_TIMEOUT_S = '300';
/** Mosh's escape key is Ctrl-^ too. */
const QUIT = '\x1e.';

/** Why stock mosh cannot be compared here, or null if it can. */
export function moshUnavailableReason(): string | null {
  for (const program of [MOSH_SERVER, MOSH_CLIENT]) {
    if (spawnSync('sh', ['-c', `command -v ${program}`]).status !== 0) return `${program} is not installed (Debian: apt-get install mosh)`;
  }
  return null;
}

export class MoshServerStartError extends Error {
  override readonly name = 'MoshServerStartError';
}

/** A UDP port on 127.0.0.1 free a moment ago (mosh-server needs one named; a clash fails the start, which is reported). */
async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Runs `mosh-server new …`; resolves with its port, key and the detached server's pid. */
function startMoshServer(home: string): Promise<{ port: number; key: string; pid: number }> {
  return freeUdpPort().then(
    (requested) =>
      new Promise((resolve, reject) => {
        const child = spawn(MOSH_SERVER, ['new', '-i', '127.0.0.1', '-p', String(requested), '-c', '256', '--', ...SHELL_COMMAND], {
          env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...shellEnv(home), MOSH_SERVER_NETWORK_TMOUT: SAFETY_NETWORK_TIMEOUT_S },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.once('error', (error) => reject(new MoshServerStartError(`mosh-server did not start: ${error.message}`)));
        child.once('exit', (code) => {
          const connect = /MOSH CONNECT (\d+) (\S+)/.exec(out);
          const detached = /\[mosh-server detached, pid = (\d+)\]/.exec(err);
          if (code !== 0 || connect === null || detached === null) {
            reject(new MoshServerStartError(`mosh-server failed (status ${code}): ${out.trim()} ${err.trim()}`));
            return;
          }
          resolve({ port: Number(connect[1]), key: connect[2]!, pid: Number(detached[1]) });
        });
      }),
  );
}

export async function startMoshShell(link: BenchLink, mode: EchoMode, options: { readonly connectTimeoutMs: number }): Promise<RemoteShell> {
  const home = makeHome();
  let server: { port: number; key: string; pid: number };
  try {
    server = await startMoshServer(home.dir);
  } catch (error) {
    home.remove();
    throw error;
  }
  startedProcesses.add(server.pid);
  let emulator: LinkEmulator | undefined;
  try {
    const profile = udpLinkProfile(link);
    emulator = await LinkEmulator.start({ server: { address: '127.0.0.1', port: server.port }, up: profile, down: profile });
    const env = { MOSH_KEY: server.key, MOSH_PREDICTION_DISPLAY: mode === 'never' ? 'never' : 'adaptive' };
    const port = emulator.port;
    const { client, watch, connectMs } = await waitForFirstPrompt(() => ClientProcess.spawn(MOSH_CLIENT, ['127.0.0.1', String(port)], env), options.connectTimeoutMs);
    startedProcesses.add(client.pid);
    const relay = emulator;
    return {
      tool: 'mosh',
      mode,
      client,
      watch,
      connectMs,
      serverPids: () => [server.pid],
      wire: () => udpWire(relay.stats),
      close: async () => {
        watch.dispose();
        const shells = descendantsOf(server.pid);
        await quitClient(client, QUIT);
        startedProcesses.delete(client.pid);
        if (!(await waitGone(server.pid, 5000))) await terminate([server.pid]);
        await terminate(shells, 500);
        startedProcesses.delete(server.pid);
        await relay.close();
        home.remove();
      },
    };
  } catch (error) {
    await terminate([server.pid, ...descendantsOf(server.pid)]);
    startedProcesses.delete(server.pid);
    await emulator?.close();
    home.remove();
    throw error;
  }
}

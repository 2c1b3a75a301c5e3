/**
 * A tsmosh session for the report: the built `tsmosh-server new` daemon (as the SSH bootstrap starts
 * it) and the built `tsmosh --connect` client, through the UDP link emulator.
 */
import { LinkEmulator } from '../test/support/link-emulator.js';
import { ClientProcess, startServerProcess } from '../test/support/live-session.js';
import { udpLinkProfile, type BenchLink } from './link-profiles.js';
import { descendantsOf, startedProcesses, terminate, waitGone } from './process-tree.js';
import { makeHome, quitClient, SHELL_COMMAND, shellEnv, udpWire, waitForFirstPrompt, type EchoMode, type RemoteShell } from './remote-shell.js';

/** The daemon ends by itself after this long without its client, should the report die without cleaning up. */
const SAFETY_NETWORK_TIMEOUT_S = '300';
const QUIT = '\x1e.';

export interface TsmoshShellOptions {
  readonly connectTimeoutMs: number;
  /** Extra environment for `tsmosh-server` and its daemon (e.g. NODE_OPTIONS for a CPU profile). */
  readonly serverEnv?: Record<string, string>;
}

export async function startTsmoshShell(link: BenchLink, mode: EchoMode, options: TsmoshShellOptions): Promise<RemoteShell> {
  const home = makeHome();
  let daemon: { port: number; key: string; pid: number };
  try {
    daemon = await startServerProcess(['-i', '127.0.0.1', '--', ...SHELL_COMMAND], {
      ...shellEnv(home.dir),
      TSMOSH_SERVER_CONNECT_TMOUT: '60',
      TSMOSH_SERVER_NETWORK_TMOUT: SAFETY_NETWORK_TIMEOUT_S,
      ...options.serverEnv,
    });
  } catch (error) {
    home.remove();
    throw error;
  }
  startedProcesses.add(daemon.pid);
  let emulator: LinkEmulator | undefined;
  try {
    const profile = udpLinkProfile(link);
    emulator = await LinkEmulator.start({ server: { address: '127.0.0.1', port: daemon.port }, up: profile, down: profile });
    const args = [...(mode === 'never' ? ['--predict=never'] : []), '--connect', '127.0.0.1', String(emulator.port)];
    const { client, watch, connectMs } = await waitForFirstPrompt(() => ClientProcess.start(args, { TSMOSH_KEY: daemon.key }), options.connectTimeoutMs);
    startedProcesses.add(client.pid);
    const relay = emulator;
    return {
      tool: 'tsmosh',
      mode,
      client,
      watch,
      connectMs,
      serverPids: () => [daemon.pid],
      wire: () => udpWire(relay.stats),
      close: async () => {
        watch.dispose();
        const shells = descendantsOf(daemon.pid);
        await quitClient(client, QUIT);
        startedProcesses.delete(client.pid);
        // The daemon exits by itself once its client said goodbye (and so writes a CPU profile if asked).
        if (!(await waitGone(daemon.pid, 5000))) await terminate([daemon.pid]);
        await terminate(shells, 500);
        startedProcesses.delete(daemon.pid);
        await relay.close();
        home.remove();
      },
    };
  } catch (error) {
    await terminate([daemon.pid, ...descendantsOf(daemon.pid)]);
    startedProcesses.delete(daemon.pid);
    await emulator?.close();
    home.remove();
    throw error;
  }
}

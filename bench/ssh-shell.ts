/**
 * An OpenSSH session for the report: the `ssh` client against the test sshd (test/support/sshd.ts:
 * 127.0.0.1, throwaway host key, a throwaway user and key), through the TCP relay that delays the
 * stream and models TCP's reaction to loss (test/support/tcp-link.ts).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ClientProcess } from '../test/support/live-session.js';
import { createTestUser, generateKey, makeTempDir, sshdUnavailableReason, TestSshd, type GeneratedKey, type TestUser } from '../test/support/sshd.js';
import { TcpLink, tcpWireBytes } from '../test/support/tcp-link.js';
import { tcpLinkProfile, type BenchLink } from './link-profiles.js';
import { commandName, descendantsOf, running, startedProcesses, terminate, waitGone } from './process-tree.js';
import { PROMPT, quitClient, SHELL_COMMAND, waitForFirstPrompt, type RemoteShell } from './remote-shell.js';

const HOST_KEY_ALIAS = 'tsmosh-bench-sshd';
/** ssh's own escape: a newline, then `~.`, drops the connection whatever the remote side is doing. */
const QUIT = '\r~.';

/** Why ssh cannot be compared here, or null if it can. */
export function sshUnavailableReason(): string | null {
  if (spawnSync('sh', ['-c', 'command -v ssh']).status !== 0) return 'the ssh client is not installed (Debian: apt-get install openssh-client)';
  const sshd = sshdUnavailableReason();
  return sshd === null ? null : `the test sshd cannot run: ${sshd}`;
}

/** The sshd, user and key all ssh sessions of one report share. */
export class SshFixture {
  private constructor(
    readonly sshd: TestSshd,
    readonly user: TestUser,
    readonly key: GeneratedKey,
    readonly knownHosts: string,
    readonly dir: string,
  ) {}

  static async start(): Promise<SshFixture> {
    const dir = makeTempDir('tsmosh-report-ssh-', 0o700);
    const key = generateKey(dir, 'client_key');
    let sshd: TestSshd;
    try {
      sshd = await TestSshd.start({ authorizedKeys: [key.publicLine] });
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    let user: TestUser;
    try {
      user = await createTestUser();
    } catch (error) {
      await sshd.stop();
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    const knownHosts = path.join(dir, 'known_hosts');
    writeFileSync(knownHosts, `${sshd.knownHostsLine(HOST_KEY_ALIAS)}\n`);
    return new SshFixture(sshd, user, key, knownHosts, dir);
  }

  /** The listening sshd's pid (from its pid file), whose children are the sessions. */
  listenerPid(): number {
    return Number(readFileSync(path.join(this.sshd.dir, 'sshd.pid'), 'utf8').trim());
  }

  async stop(): Promise<void> {
    await this.sshd.stop();
    this.user.remove();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function startSshShell(link: BenchLink, fixture: SshFixture, options: { readonly connectTimeoutMs: number }): Promise<RemoteShell> {
  const profile = tcpLinkProfile(link);
  const relay = await TcpLink.start({ server: { address: fixture.sshd.host, port: fixture.sshd.port }, up: profile, down: profile });
  const listener = fixture.listenerPid();
  // The remote side runs the same bash as the other tools, in the test user's home.
  const remote = `exec env PS1='${PROMPT} ' HISTFILE=/dev/null LANG=C.UTF-8 ${SHELL_COMMAND.join(' ')}`;
  const args = [
    '-tt',
    '-F', '/dev/null',
    '-p', String(relay.port),
    '-i', fixture.key.privatePath,
    '-o', 'IdentitiesOnly=yes',
    '-o', `UserKnownHostsFile=${fixture.knownHosts}`,
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `HostKeyAlias=${HOST_KEY_ALIAS}`,
    '-o', 'BatchMode=yes',
    '-o', 'LogLevel=ERROR',
    '-l', fixture.user.name,
    '127.0.0.1',
    remote,
  ];
  let started: Awaited<ReturnType<typeof waitForFirstPrompt>>;
  try {
    started = await waitForFirstPrompt(() => ClientProcess.spawn('ssh', args), options.connectTimeoutMs);
  } catch (error) {
    await relay.close();
    throw error;
  }
  const { client, watch, connectMs } = started;
  startedProcesses.add(client.pid);
  // This connection's sshd processes (the privileged monitor and the user's session process); the shell is not counted.
  const sessions = descendantsOf(listener).filter((pid) => commandName(pid) === 'sshd');
  for (const pid of sessions) startedProcesses.add(pid);
  return {
    tool: 'ssh',
    mode: 'default',
    client,
    watch,
    connectMs,
    serverPids: () => sessions.filter(running),
    wire: () => {
      const bytes = tcpWireBytes(relay.stats);
      const s = relay.stats;
      return { upBytes: bytes.up, downBytes: bytes.down, upPackets: s.up.segmentsSent + s.down.acksSent, downPackets: s.down.segmentsSent + s.up.acksSent };
    },
    close: async () => {
      watch.dispose();
      const leftovers = sessions.flatMap((pid) => descendantsOf(pid)).filter((pid) => !sessions.includes(pid));
      await quitClient(client, QUIT);
      startedProcesses.delete(client.pid);
      for (const pid of sessions) if (!(await waitGone(pid, 3000))) await terminate([pid]);
      await terminate(leftovers, 500);
      for (const pid of sessions) startedProcesses.delete(pid);
      await relay.close();
    },
  };
}

/**
 * `tsmosh user@host` as a user runs it: the BUILT client on a real PTY, a real OpenSSH sshd on
 * 127.0.0.1, the real `tsmosh-server` started by sshd as the test user, its daemon running the test
 * user's login shell, and real UDP between the two. Each test checks what the user would see on
 * the terminal, the exit status, that the terminal's settings are as before, and that nothing of
 * the session is left running.
 */
import { createSocket } from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DAEMON_FLAG } from '../../server/detach.js';
import { writeFakeServer } from '../support/fake-tsmosh-server.js';
import { waitUntil } from '../support/live-session.js';
import { type RunnableServer, runnableServerFor } from '../support/server-install.js';
import {
  type GeneratedKey,
  type TestUser,
  TestSshd,
  createTestUser,
  freePort,
  generateKey,
  makeTempDir,
  removeTempDirs,
  sshdTestsCanRun,
} from '../support/sshd.js';
import { type TtyCheckedClient, startTtyCheckedClient } from '../support/tty-check.js';
import { type UserProcess, processesOf, udpPortsOf } from '../support/user-processes.js';

afterAll(removeTempDirs);

const canRun = sshdTestsCanRun('ssh-session.test.ts');

/** Bootstrap and session on a 2-core box shared with other test files. */
const SESSION_TEST_TIMEOUT_MS = 60_000;
const SCREEN_TIMEOUT_MS = 20_000;
/** What `exitSequence` ends with: the alternate screen left and the cursor shown. */
const LEAVE_ALTERNATE_SCREEN = '\x1b[?1049l';
const SHOW_CURSOR = '\x1b[?25h';

describe.skipIf(!canRun)('tsmosh user@host through a real sshd', () => {
  let user: TestUser;
  let sshd: TestSshd;
  let key: GeneratedKey;
  let otherKey: GeneratedKey;
  let clientHome: string;
  let knownHosts: string;
  /** The test user's prompt, as the screen shows it (trailing blank trimmed). */
  let prompt: string;
  /** The real server, as sshd runs it for the test user. */
  let server: RunnableServer;
  /** `--server=…` for it. */
  let serverOption: string;
  const runs: TtyCheckedClient[] = [];
  /** The newest client, kept past afterEach for the failure report. */
  let lastRun: TtyCheckedClient | undefined;
  const extraSshds: TestSshd[] = [];

  beforeAll(async () => {
    user = await createTestUser();
    // The login shell reads this as the test user: a prompt that proves whose shell it is.
    writeFileSync(join(user.home, '.bash_profile'), "PS1='[e2e \\u]\\$ '\n");
    prompt = `[e2e ${user.name}]$`;
    server = runnableServerFor(user.uid, user.gid);
    serverOption = `--server=${server.command}`;
    const keys = makeTempDir('tsmosh-e2e-keys-', 0o700);
    key = generateKey(keys, 'id_e2e');
    otherKey = generateKey(keys, 'id_other');
    sshd = await TestSshd.start({ authorizedKeys: [key.publicLine], config: ['PasswordAuthentication yes'] });
    clientHome = makeTempDir('tsmosh-e2e-client-home-', 0o700);
    mkdirSync(join(clientHome, '.ssh'), { mode: 0o700 });
    knownHosts = join(clientHome, 'known_hosts_e2e');
    writeFileSync(knownHosts, `${sshd.knownHostsLine()}\n`);
  });

  afterAll(async () => {
    await sshd?.stop();
    user?.remove();
  });

  beforeEach((context) => {
    context.onTestFailed(() => {
      console.error(`--- client output ---\n${JSON.stringify(lastRun?.client.output.slice(-3000))}`);
      console.error(`--- sshd log (${sshd?.logPath}) ---\n${sshd?.log().slice(-4000)}`);
    });
  });

  afterEach(async () => {
    for (const run of runs.splice(0)) run.client.dispose();
    for (const extra of extraSshds.splice(0)) await extra.stop();
    // A failed test may leave its session behind; the next one must start from nothing. Only the
    // test user's processes, which these tests started, are ended.
    for (const left of user === undefined ? [] : processesOf(user.uid)) {
      try {
        process.kill(left.pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
  });

  const start = (args: string[], home = clientHome): TtyCheckedClient => {
    const run = startTtyCheckedClient(clientHome, args, { HOME: home });
    runs.push(run);
    lastRun = run;
    return run;
  };

  interface DirectLogin {
    readonly server?: string;
    readonly knownHostsFile?: string;
    /** false: no -i, so that only a password gets in. */
    readonly withKey?: boolean;
  }

  /** `tsmosh --server=… -o UserKnownHostsFile=… -i KEY user@127.0.0.1 --ssh-port PORT` */
  const direct = ({ server: command = server.command, knownHostsFile = knownHosts, withKey = true }: DirectLogin = {}): string[] => [
    `--server=${command}`,
    '-o',
    `UserKnownHostsFile=${knownHostsFile}`,
    ...(withKey ? ['-i', key.privatePath] : []),
    `${user.name}@127.0.0.1`,
    '--ssh-port',
    String(sshd.port),
  ];

  const daemonOf = (): UserProcess | undefined => processesOf(user.uid).find((p) => p.argv.includes(DAEMON_FLAG));

  /**
   * The user's part of a session: wait for the login shell's prompt, run `echo hello`, then leave
   * (`exit`, or the escape key's Ctrl-^ .); the client must end with status 0, the terminal must be
   * given back, and the server daemon, its shell and sshd's session process must all be gone.
   * Resolves with the daemon as it ran.
   */
  async function useSession(run: TtyCheckedClient, leave: 'exit' | 'escape' = 'exit'): Promise<UserProcess> {
    const { client } = run;
    await client.waitForScreen("the test user's login shell prompt", (t) => t.trimEnd().endsWith(prompt), SCREEN_TIMEOUT_MS);
    const daemon = daemonOf();
    expect(daemon, 'the server daemon runs as the test user').toBeDefined();
    client.type('echo hello\r');
    await client.waitForScreen('hello', (t) => t.includes(`${prompt} echo hello\nhello\n${prompt}`), SCREEN_TIMEOUT_MS);
    client.type(leave === 'exit' ? 'exit\r' : '\x1e.');
    const exit = await client.exited;
    expect(exit).toEqual({ exitCode: 0, signal: 0 });
    expect(outputLines(client.output).filter(isStackFrame)).toEqual([]);
    const tail = client.output.slice(-200);
    expect(tail).toContain(LEAVE_ALTERNATE_SCREEN);
    expect(tail).toContain(SHOW_CURSOR);
    expectTerminalRestored(run);
    await waitUntil(
      'the server daemon, its shell and the SSH session to be gone',
      () => processesOf(user.uid).length === 0,
      SCREEN_TIMEOUT_MS,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; still running: ${JSON.stringify(processesOf(user.uid))}`);
    });
    return daemon!;
  }

  function expectTerminalRestored(run: TtyCheckedClient): void {
    const { before, after } = run.settings();
    expect(before).toMatch(/^[0-9a-f:]+$/);
    expect(after, 'stty -g after the client ended equals before it started').toBe(before);
  }

  /** A failure as the user sees it: one sentence of our own, last, no stack trace, a non-zero status, the terminal as it was. */
  async function expectFailure(run: TtyCheckedClient, sentence: RegExp): Promise<string[]> {
    const { client } = run;
    const exit = await client.exited;
    expect(exit.exitCode).not.toBe(0);
    const lines = outputLines(client.output);
    expect(lines.filter(isStackFrame)).toEqual([]);
    const ours = lines.filter((line) => line.startsWith('tsmosh: '));
    expect(ours).toHaveLength(1);
    expect(lines.at(-1)).toBe(ours[0]);
    expect(ours[0]).toMatch(sentence);
    // It never took over the screen, so there is nothing to leave.
    expect(client.output).not.toContain('\x1b[?1049h');
    expectTerminalRestored(run);
    return lines;
  }

  it(
    'logs in with -i and -o UserKnownHostsFile, runs the login shell, and leaves nothing behind on exit',
    async () => {
      const run = start(direct());
      const daemon = await useSession(run);
      // The server was the real one, started by sshd as the test user.
      expect(daemon.argv).toContain(server.entry);
      // Nothing was asked.
      expect(run.client.output).not.toMatch(/password|passphrase|authenticity/i);
    },
    SESSION_TEST_TIMEOUT_MS,
  );

  it(
    'quits on Ctrl-^ . and the server ends the session and its shell',
    async () => {
      await useSession(start(direct()), 'escape');
    },
    SESSION_TEST_TIMEOUT_MS,
  );

  it(
    'asks about an unknown host on the terminal, records the key after "yes", then runs the session',
    async () => {
      const freshKnownHosts = join(clientHome, 'known_hosts_fresh');
      const run = start(direct({ knownHostsFile: freshKnownHosts }));
      await run.client.waitForScreen(
        'the host key question',
        (t) => t.trimEnd().endsWith('Are you sure you want to continue connecting (yes/no/[fingerprint])?'),
        SCREEN_TIMEOUT_MS,
      );
      // The fingerprint shown is the one OpenSSH computes for the host's key.
      const fingerprint = /SHA256:\S+/.exec(execFileSync('ssh-keygen', ['-l', '-f', sshd.hostKey.publicPath], { encoding: 'utf8' }))?.[0];
      expect(fingerprint).toBeDefined();
      const screen = run.client.text();
      expect(screen).toContain(`The authenticity of host '${sshd.knownHostsName}' can't be established.`);
      expect(screen).toContain(`ED25519 key fingerprint is ${fingerprint}.`);
      await run.client.typeSlowly('yes\r');
      await useSession(run);
      // "yes" was echoed as typed; the key was recorded under OpenSSH's name for host and port.
      expect(run.client.output).toContain('(yes/no/[fingerprint])? yes');
      expect(run.client.output).toContain(`Warning: Permanently added '${sshd.knownHostsName}' (ED25519) to the list of known hosts.`);
      // OpenSSH itself finds it there (hashed or not, as the system's HashKnownHosts says).
      expect(readFileSync(freshKnownHosts, 'utf8')).toContain(`${sshd.hostKey.type} ${sshd.hostKey.blob.toString('base64')}`);
      const lookup = execFileSync('ssh-keygen', ['-F', sshd.knownHostsName, '-f', freshKnownHosts], { encoding: 'utf8' });
      expect(lookup).toContain(`# Host ${sshd.knownHostsName} found: line 1`);
    },
    SESSION_TEST_TIMEOUT_MS,
  );

  it(
    'logs in with a password typed on the terminal, asks again after a wrong one, and never shows it',
    async () => {
      const wrong = 'Wrong-Guess-1234';
      // No -i, no keys in the client's home, no agent: the password is the only way in.
      const run = start(direct({ withKey: false }));
      const question = `${user.name}@127.0.0.1's password:`;
      const asked = (): number => run.client.text().split(question).length - 1;
      await run.client.waitForScreen('the password question', () => asked() === 1, SCREEN_TIMEOUT_MS);
      await run.client.typeSlowly(`${wrong}\r`);
      await run.client.waitForScreen('the password question again', () => asked() === 2, SCREEN_TIMEOUT_MS);
      await run.client.typeSlowly(`${user.password}\r`);
      await useSession(run);
      expect(run.client.output).not.toContain(wrong);
      expect(run.client.output).not.toContain(user.password);
      // Nothing else was echoed in its place either: the answered questions end their lines bare.
      expect(run.client.output).toMatch(new RegExp(`${escape(question)} \r*\n${escape(question)} \r*\n`));
    },
    SESSION_TEST_TIMEOUT_MS,
  );

  it(
    'goes through a ProxyJump host named in ~/.ssh/config, for the whole session',
    async () => {
      const jump = await TestSshd.start({ authorizedKeys: [key.publicLine] });
      extraSshds.push(jump);
      const home = makeTempDir('tsmosh-e2e-jump-home-', 0o700);
      mkdirSync(join(home, '.ssh'), { mode: 0o700 });
      writeFileSync(join(home, '.ssh', 'known_hosts'), `${jump.knownHostsLine()}\n${sshd.knownHostsLine()}\n`);
      writeFileSync(
        join(home, '.ssh', 'config'),
        [
          'Host e2e-jump',
          '  HostName 127.0.0.1',
          `  Port ${jump.port}`,
          'Host e2e-target',
          '  HostName 127.0.0.1',
          `  Port ${sshd.port}`,
          '  ProxyJump e2e-jump',
          'Host *',
          `  User ${user.name}`,
          `  IdentityFile ${key.privatePath}`,
          '  IdentitiesOnly yes',
          '',
        ].join('\n'),
      );
      const run = start([serverOption, 'e2e-target'], home);
      await useSession(run);
      // The jump host, not the client, opened the connection to the target's sshd.
      expect(jump.log()).toMatch(new RegExp(`direct_tcpip: .*target 127\\.0\\.0\\.1 port ${sshd.port}\\b`));
    },
    SESSION_TEST_TIMEOUT_MS,
  );

  it(
    'passes -p PORT on to the server (given -F with a host alias): the session runs over that UDP port',
    async () => {
      const udpPort = await freeUdpPortOutsideDefaults();
      const config = join(clientHome, 'e2e-config');
      writeFileSync(
        config,
        [
          'Host e2e-alias',
          '  HostName 127.0.0.1',
          `  Port ${sshd.port}`,
          `  User ${user.name}`,
          `  IdentityFile ${key.privatePath}`,
          `  UserKnownHostsFile ${knownHosts}`,
          '',
        ].join('\n'),
      );
      const run = start([serverOption, '-F', config, '-p', String(udpPort), 'e2e-alias']);
      await run.client.waitForScreen("the test user's login shell prompt", (t) => t.trimEnd().endsWith(prompt), SCREEN_TIMEOUT_MS);
      const daemon = daemonOf();
      expect(daemon).toBeDefined();
      // The daemon's only UDP socket is on that port, so the client, whose screen came from the
      // daemon, sends there.
      expect(udpPortsOf(daemon!.pid)).toEqual([udpPort]);
      await useSession(run);
    },
    SESSION_TEST_TIMEOUT_MS,
  );

  describe('failures through the real binary: one sentence, a non-zero status, the terminal as it was', () => {
    it('an unknown host name', async () => {
      const run = start([serverOption, '-i', key.privatePath, `${user.name}@nonexistent.invalid`]);
      await expectFailure(run, /^tsmosh: Could not resolve the host name "nonexistent\.invalid"\.$/);
    });

    it('a refused port', async () => {
      const port = await freePort();
      const run = start([serverOption, '-i', key.privatePath, '--ssh-port', String(port), `${user.name}@127.0.0.1`]);
      await expectFailure(run, new RegExp(`^tsmosh: Connection to 127\\.0\\.0\\.1 port ${port} was refused\\.$`));
    });

    it("a changed host key (after OpenSSH's warning)", async () => {
      const logins = (): number => sshd.log().split(`Accepted publickey for ${user.name} `).length;
      const loginsBefore = logins();
      const recorded = join(clientHome, 'known_hosts_changed');
      writeFileSync(recorded, `${sshd.knownHostsName} ${otherKey.type} ${otherKey.blob.toString('base64')}\n`);
      const run = start(direct({ knownHostsFile: recorded }));
      const lines = await expectFailure(
        run,
        new RegExp(`^tsmosh: The ED25519 host key for ${escape(sshd.knownHostsName)} has changed \\(the recorded key is in ${escape(recorded)} line 1\\); refusing to connect\\.$`),
      );
      expect(lines).toContain('@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @');
      // Refused before authenticating: the key never went to the impostor.
      expect(logins()).toBe(loginsBefore);
    });

    it('a host key the user declines', async () => {
      const run = start(direct({ knownHostsFile: join(clientHome, 'known_hosts_declined') }));
      await run.client.waitForScreen('the host key question', (t) => t.trimEnd().endsWith('(yes/no/[fingerprint])?'), SCREEN_TIMEOUT_MS);
      await run.client.typeSlowly('no\r');
      await expectFailure(run, new RegExp(`^tsmosh: Host key verification failed: the key of ${escape(sshd.knownHostsName)} was not accepted\\.$`));
    });

    it('Ctrl-C at the password question', async () => {
      const run = start(direct({ withKey: false }));
      await run.client.waitForScreen('the password question', (t) => t.trimEnd().endsWith(`${user.name}@127.0.0.1's password:`), SCREEN_TIMEOUT_MS);
      run.client.type('Typed-Then-Cancelled\x03');
      await expectFailure(run, /^tsmosh: The prompt was cancelled\.$/);
      expect(run.client.output).not.toContain('Typed-Then-Cancelled');
    });

    it('the server not installed on the host', async () => {
      const run = start(direct({ server: '/nonexistent/tsmosh-server' }));
      const lines = await expectFailure(
        run,
        /^tsmosh: \/nonexistent\/tsmosh-server was not found on 127\.0\.0\.1: check the path given with --server, or install tsmosh there \(npm install -g tsmosh\)\.$/,
      );
      // Before it, the remote shell's own words.
      expect(lines.slice(0, -1).join('\n')).toMatch(/\/nonexistent\/tsmosh-server: No such file or directory/);
    });

    it('a server that exits without its connect line', async () => {
      const broken = writeFakeServer(sshd.dir, 'fail');
      const run = start(direct({ server: broken }));
      const lines = await expectFailure(run, new RegExp(`^tsmosh: ${escape(broken)} on 127\\.0\\.0\\.1 exited with status 3 without printing its TSMOSH CONNECT line\\.$`));
      // What the server said about why is shown too.
      expect(lines).toContain('tsmosh-server: cannot bind a UDP port');
    });
  });
});

/** What the client wrote, as lines without escape sequences or trailing blanks; empty lines left out. */
function outputLines(output: string): string[] {
  return output
    .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '')
    .split(/\r*\n/)
    .map((line) => line.trimEnd())
    .filter((line) => line !== '');
}

/** A line of a JavaScript stack trace. */
function isStackFrame(line: string): boolean {
  return /^\s+at /.test(line);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * A UDP port free on 127.0.0.1 above the server's default range (60001–60999) and Linux's
 * ephemeral range (up to 60999), so only `-p` can have made the server take it.
 */
async function freeUdpPortOutsideDefaults(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 61_000 + Math.floor(Math.random() * 4000);
    const free = await new Promise<boolean>((resolve) => {
      const socket = createSocket('udp4');
      socket.once('error', () => {
        socket.close();
        resolve(false);
      });
      socket.bind(port, () => socket.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free UDP port found in 61000–64999');
}

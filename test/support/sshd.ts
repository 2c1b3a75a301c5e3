/**
 * A throwaway OpenSSH server for end-to-end tests: `sshd -D -e -f <temp config>` on a free port
 * of 127.0.0.1 with its own host key, authorized_keys file and pid file, logging to a file the
 * tests print on failure. Plus the pieces around it: key generation, an ssh-agent, and a system
 * user with a password (password and keyboard-interactive logins need a real account).
 *
 * Needs root (sshd re-executes itself and switches user; useradd). Nothing system-wide is changed
 * except the test user, created with a unique name and removed afterwards, and /run/sshd, the
 * privilege-separation directory sshd insists on.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SSHD_PATH = '/usr/sbin/sshd';
/** sshd must be listening within this long. */
export const SSHD_START_TIMEOUT_MS = 10_000;
const PRIVSEP_DIR = '/run/sshd';
const TOOLS = ['ssh-keygen', 'ssh-agent', 'ssh-add', 'useradd', 'userdel', 'chpasswd'];

/** Why the sshd tests cannot run here, or null if they can. */
export function sshdUnavailableReason(): string | null {
  if (process.getuid?.() !== 0) return 'they must run as root (sshd switches users and the tests create a user)';
  if (!existsSync(SSHD_PATH)) return `${SSHD_PATH} is missing (apt-get install openssh-server)`;
  for (const tool of TOOLS) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is missing`;
  }
  return null;
}

/**
 * Call at the top of an sshd test file. Under CI=true the tests must run, so a missing sshd throws;
 * elsewhere it prints a loud notice and returns false, and the file skips its sshd suites.
 */
export function sshdTestsCanRun(suite: string): boolean {
  const reason = sshdUnavailableReason();
  if (reason === null) return true;
  if (process.env['CI'] === 'true') throw new Error(`${suite}: the sshd end-to-end tests cannot run, and CI=true requires them: ${reason}.`);
  console.warn(`\n*** ${suite}: SKIPPING the sshd end-to-end tests: ${reason}. They run under CI=true. ***\n`);
  return false;
}

export type KeyType = 'ed25519' | 'rsa' | 'ecdsa';

export interface GeneratedKey {
  readonly privatePath: string;
  readonly publicPath: string;
  /** `type base64 comment`, as in a .pub file. */
  readonly publicLine: string;
  readonly type: string;
  readonly blob: Buffer;
}

export function generateKey(dir: string, name: string, type: KeyType = 'ed25519', passphrase = ''): GeneratedKey {
  const privatePath = join(dir, name);
  const args = ['-q', '-t', type, '-N', passphrase, '-C', name, '-f', privatePath];
  if (type === 'rsa') args.push('-b', '2048');
  execFileSync('ssh-keygen', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const publicPath = `${privatePath}.pub`;
  const publicLine = readFileSync(publicPath, 'utf8').trim();
  const [keyType, base64] = publicLine.split(' ');
  return { privatePath, publicPath, publicLine, type: keyType ?? '', blob: Buffer.from(base64 ?? '', 'base64') };
}

const tempDirs: string[] = [];

/** A temporary directory; `removeTempDirs` (call it in afterAll) removes all of them. */
export function makeTempDir(prefix: string, mode = 0o755): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, mode);
  tempDirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A free TCP port on 127.0.0.1 (it could be taken again before use; start() retries). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface TestSshdOptions {
  /** Lines for the authorized_keys file (shared by every user of this sshd). */
  readonly authorizedKeys?: readonly string[];
  /** Extra sshd_config lines, e.g. `PasswordAuthentication yes`. */
  readonly config?: readonly string[];
  readonly hostKeyType?: KeyType;
}

export class SshdStartError extends Error {
  override readonly name = 'SshdStartError';
}

export class TestSshd {
  readonly host = '127.0.0.1';

  private constructor(
    readonly port: number,
    readonly dir: string,
    readonly hostKey: GeneratedKey,
    readonly logPath: string,
    private readonly child: ChildProcess,
  ) {}

  static async start(options: TestSshdOptions = {}): Promise<TestSshd> {
    mkdirSync(PRIVSEP_DIR, { recursive: true, mode: 0o755 });
    // World-readable: sshd reads authorized_keys as the user, and the user runs scripts from here.
    const dir = makeTempDir('tsmosh-sshd-');
    const hostKey = generateKey(dir, 'host_key', options.hostKeyType ?? 'ed25519');
    const authorizedKeys = join(dir, 'authorized_keys');
    writeFileSync(authorizedKeys, (options.authorizedKeys ?? []).map((line) => `${line}\n`).join(''));
    chmodSync(authorizedKeys, 0o644);
    let lastLog = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const configPath = join(dir, 'sshd_config');
      writeFileSync(
        configPath,
        [
          // sshd takes the first value it sees, so the test's own lines go first.
          ...(options.config ?? []),
          `ListenAddress 127.0.0.1:${port}`,
          `HostKey ${hostKey.privatePath}`,
          `PidFile ${join(dir, 'sshd.pid')}`,
          `AuthorizedKeysFile ${authorizedKeys}`,
          'StrictModes no',
          'UseDNS no',
          'PermitRootLogin no',
          'LogLevel DEBUG1',
          'PrintMotd no',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'UsePAM no',
          'MaxAuthTries 10',
        ]
          .map((line) => `${line}\n`)
          .join(''),
      );
      const logPath = join(dir, `sshd-${attempt}.log`);
      const child = spawn(SSHD_PATH, ['-D', '-e', '-f', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
      const started = await waitForListening(child, logPath, port);
      if (started) return new TestSshd(port, dir, hostKey, logPath, child);
      lastLog = readFileSync(logPath, 'utf8');
      if (!/Address already in use/.test(lastLog)) break;
    }
    rmSync(dir, { recursive: true, force: true });
    throw new SshdStartError(`sshd did not start; its log:\n${lastLog}`);
  }

  /** The server's log so far, for failure messages. */
  log(): string {
    try {
      return readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  /** How a known_hosts file names this server. */
  get knownHostsName(): string {
    return `[${this.host}]:${this.port}`;
  }

  knownHostsLine(name = this.knownHostsName): string {
    return `${name} ${this.hostKey.type} ${this.hostKey.blob.toString('base64')}`;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.kill('SIGTERM');
      await Promise.race([exited, delay(5000)]);
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function waitForListening(child: ChildProcess, logPath: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    let log = '';
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      child.stderr?.removeListener('data', onData);
      resolve(ok);
    };
    const onData = (chunk: Buffer): void => {
      log += chunk.toString('utf8');
      if (log.includes(`Server listening on 127.0.0.1 port ${port}`)) done(true);
    };
    // Keep appending after start-up: the log is what a failing test prints. The last lines may come
    // after stop() removed the directory; they are of no use then.
    child.stderr?.on('data', (chunk: Buffer) => {
      try {
        writeFileSync(logPath, chunk, { flag: 'a' });
      } catch {
        // Directory gone.
      }
    });
    child.stderr?.on('data', onData);
    child.once('exit', () => done(false));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done(false);
    }, SSHD_START_TIMEOUT_MS);
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface TestUser {
  readonly name: string;
  readonly password: string;
  readonly home: string;
  readonly uid: number;
  readonly gid: number;
  remove(): void;
}

const USER_PREFIX = 'tsmosh-';
const USER_PATTERN = /^tsmosh-(\d+)-[a-z0-9]+$/;

/**
 * A system user with a random password and a home under /tmp, named after this process so that
 * parallel test files never share one. Users left behind by a crashed run are removed first.
 */
export async function createTestUser(): Promise<TestUser> {
  removeStaleUsers();
  const name = `${USER_PREFIX}${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const password = `Pw-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}`;
  const home = makeTempDir('tsmosh-user-home-');
  await retryOnLock(() => spawnSync('useradd', ['--no-create-home', '--home-dir', home, '--shell', '/bin/bash', '--user-group', name], { encoding: 'utf8' }));
  await retryOnLock(() => spawnSync('chpasswd', [], { input: `${name}:${password}\n`, encoding: 'utf8' }));
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  chownSync(home, uid, gid);
  return {
    name,
    password,
    home,
    uid,
    gid,
    remove: () => {
      // userdel refuses while a session of the user is still ending (status 8); wait a little, then force.
      let removed = false;
      for (let i = 0; i < 20 && !removed; i++) {
        const status = spawnSync('userdel', [name]).status;
        removed = status === 0 || status === 6;
        if (!removed) spawnSync('sleep', ['0.1']);
      }
      if (!removed) spawnSync('userdel', ['--force', name]);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** useradd, chpasswd and userdel fail while another process holds /etc/passwd's lock. */
async function retryOnLock(run: () => { status: number | null; stderr: string }): Promise<void> {
  let last = '';
  for (let attempt = 0; attempt < 30; attempt++) {
    const result = run();
    if (result.status === 0) return;
    last = result.stderr;
    if (!/lock|try again/i.test(last)) break;
    await delay(100);
  }
  throw new Error(`creating the test user failed: ${last.trim()}`);
}

function removeStaleUsers(): void {
  let passwd: string;
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return;
  }
  for (const line of passwd.split('\n')) {
    const name = line.split(':')[0] ?? '';
    const match = USER_PATTERN.exec(name);
    if (match === null || isAlive(Number(match[1]))) continue;
    spawnSync('userdel', [name]);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface SshAgent {
  readonly socket: string;
  add(keyPath: string): void;
  stop(): void;
}

/** Starts `ssh-agent -a <socket>` in a temp dir; `add` loads an unencrypted key with ssh-add. */
export function startSshAgent(dir: string): SshAgent {
  const socket = join(dir, 'agent.sock');
  const output = execFileSync('ssh-agent', ['-s', '-a', socket], { encoding: 'utf8' });
  const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(output)?.[1] ?? '0');
  return {
    socket,
    add: (keyPath) => {
      execFileSync('ssh-add', ['-q', keyPath], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: ['ignore', 'ignore', 'pipe'] });
    },
    stop: () => {
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // Already gone.
        }
      }
    },
  };
}

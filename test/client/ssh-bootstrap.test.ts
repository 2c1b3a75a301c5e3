/**
 * End to end against a real OpenSSH sshd on 127.0.0.1: every way to log in, the user's config,
 * ProxyJump and ProxyCommand, and every failure message. The remote "server" is a script that
 * prints login noise and a connect line (test/support/fake-tsmosh-server.ts).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type SshBootstrapOptions, bootstrapOverSsh } from '../../client/ssh-bootstrap.js';
import type { SshEnvironment } from '../../client/ssh-config.js';
import { FAKE_SESSION_KEY, FAKE_UDP_PORT, writeFakeServer } from '../support/fake-tsmosh-server.js';
import { ScriptedPrompter } from '../support/scripted-prompter.js';
import {
  type GeneratedKey,
  type SshAgent,
  type TestUser,
  TestSshd,
  createTestUser,
  generateKey,
  makeTempDir,
  removeTempDirs,
  sshdTestsCanRun,
  startSshAgent,
} from '../support/sshd.js';

afterAll(removeTempDirs);

const canRun = sshdTestsCanRun('ssh-bootstrap.test.ts');
const PASSPHRASE = 'correct horse battery';

describe.skipIf(!canRun)('bootstrapOverSsh against a real sshd', () => {
  let user: TestUser;
  let sshd: TestSshd;
  let keys: string;
  let plainKey: GeneratedKey;
  let encryptedKey: GeneratedKey;
  let agentKey: GeneratedKey;
  let unauthorizedKey: GeneratedKey;
  let home: string;
  let fakeServer: string;

  const environment = (overrides: Partial<SshEnvironment> = {}): SshEnvironment => ({
    home,
    localUser: 'tester',
    uid: 0,
    localHostname: 'testbox.example',
    env: { HOME: home, LANG: 'C.UTF-8', LC_TIME: "it's=odd" },
    systemConfigFile: join(home, 'no-system-config'),
    globalKnownHostsFiles: [],
    ...overrides,
  });

  const options = (overrides: Partial<SshBootstrapOptions> = {}): SshBootstrapOptions => ({
    destination: `${user.name}@127.0.0.1`,
    port: sshd.port,
    identityFiles: [plainKey.privatePath],
    serverCommand: fakeServer,
    colors: 256,
    environment: environment(),
    pty: { term: 'xterm-256color', cols: 100, rows: 30 },
    connectTimeoutMs: 5000,
    connectLineTimeoutMs: 5000,
    exitGraceMs: 2000,
    ...overrides,
  });

  const bootstrap = (opts: SshBootstrapOptions, prompter = new ScriptedPrompter()) => bootstrapOverSsh(opts, prompter);

  // A failing test shows the end of the sshd log: that is where the reason usually is.
  beforeEach((context) => {
    context.onTestFailed(() => console.error(`--- sshd log (${sshd?.logPath}) ---\n${sshd?.log().slice(-4000)}`));
  });

  beforeAll(async () => {
    user = await createTestUser();
    keys = makeTempDir('tsmosh-keys-', 0o700);
    plainKey = generateKey(keys, 'id_plain');
    encryptedKey = generateKey(keys, 'id_encrypted', 'ed25519', PASSPHRASE);
    agentKey = generateKey(keys, 'id_agent', 'ecdsa');
    unauthorizedKey = generateKey(keys, 'id_unauthorized');
    sshd = await TestSshd.start({
      authorizedKeys: [plainKey.publicLine, encryptedKey.publicLine, agentKey.publicLine],
      config: ['PasswordAuthentication yes'],
    });
    fakeServer = writeFakeServer(sshd.dir, 'connect');
    home = makeTempDir('tsmosh-client-home-', 0o700);
    mkdirSync(join(home, '.ssh'), { mode: 0o700 });
    writeFileSync(join(home, '.ssh', 'known_hosts'), `${sshd.knownHostsLine()}\n`);
  });

  afterAll(async () => {
    await sshd?.stop();
    user?.remove();
  });

  it('logs in with a key file, runs the server with quoted arguments and returns the address SSH reached', async () => {
    const prompter = new ScriptedPrompter();
    const result = await bootstrap(options({ udpPort: { low: 60010, high: 60020 }, command: ['echo', "it's a test", '$HOME'] }), prompter);
    expect(result).toEqual({ host: '127.0.0.1', port: FAKE_UDP_PORT });
    expect(result.key).toBe(FAKE_SESSION_KEY);
    // The motd noise is shown; the connect line never is.
    expect(prompter.output).toContain('Welcome to the tsmosh test host.');
    expect(prompter.output).toContain('Last login: never');
    expect(prompter.output).not.toContain('TSMOSH');
    expect(prompter.asked).toEqual([]);
    const args = readFileSync(join(user.home, 'fake-server-args'), 'utf8').split('\0').slice(0, -1);
    expect(args).toEqual([
      'new',
      '-c',
      '256',
      '-p',
      '60010:60020',
      '-l',
      'LANG=C.UTF-8',
      '-l',
      "LC_TIME=it's=odd",
      '--',
      'echo',
      "it's a test",
      '$HOME',
    ]);
  });

  it('never shows the key when the result is printed or serialised', async () => {
    const result = await bootstrap(options());
    expect(JSON.stringify(result)).not.toContain(FAKE_SESSION_KEY);
    expect(String(Object.values(result))).not.toContain(FAKE_SESSION_KEY);
  });

  it('works without a PTY too', async () => {
    const result = await bootstrap(options({ pty: null }));
    expect(result.port).toBe(FAKE_UDP_PORT);
    expect(result.key).toBe(FAKE_SESSION_KEY);
  });

  it('asks for the passphrase of an encrypted key, without echo, only after the server accepts the key', async () => {
    const prompter = new ScriptedPrompter([
      { match: /passphrase/, answer: 'wrong guess' },
      { match: /passphrase/, answer: PASSPHRASE },
    ]);
    const result = await bootstrap(options({ identityFiles: [unauthorizedKey.privatePath, encryptedKey.privatePath] }), prompter);
    expect(result.key).toBe(FAKE_SESSION_KEY);
    expect(prompter.asked).toEqual([
      { question: `Enter passphrase for key '${encryptedKey.privatePath}': `, secret: true },
      { question: `Enter passphrase for key '${encryptedKey.privatePath}': `, secret: true },
    ]);
  });

  it('logs in through ssh-agent (SSH_AUTH_SOCK)', async () => {
    const agentDir = makeTempDir('tsmosh-agent-', 0o700);
    let agent: SshAgent | undefined;
    try {
      agent = startSshAgent(agentDir);
      agent.add(agentKey.privatePath);
      const prompter = new ScriptedPrompter();
      const result = await bootstrap(
        options({
          identityFiles: [],
          environment: environment({ env: { HOME: home, SSH_AUTH_SOCK: agent.socket } }),
          // No identity file at all: only the agent can log in, and nothing may be asked.
          sshOptions: ['IdentityFile none', 'PasswordAuthentication no'],
        }),
        prompter,
      );
      expect(result.key).toBe(FAKE_SESSION_KEY);
      expect(prompter.asked).toEqual([]);
    } finally {
      agent?.stop();
    }
  });

  it('logs in with a password typed at the prompt, after the keys fail', async () => {
    const prompter = new ScriptedPrompter([
      { match: /password/, answer: 'not it' },
      { match: /password/, answer: user.password },
    ]);
    const result = await bootstrap(options({ identityFiles: [unauthorizedKey.privatePath] }), prompter);
    expect(result.key).toBe(FAKE_SESSION_KEY);
    expect(prompter.asked).toEqual([
      { question: `${user.name}@127.0.0.1's password: `, secret: true },
      { question: `${user.name}@127.0.0.1's password: `, secret: true },
    ]);
  });

  it('resolves a ~/.ssh/config alias with HostName, Port, User, IdentityFile (via Include and tokens)', async () => {
    const aliasHome = makeTempDir('tsmosh-alias-home-', 0o700);
    mkdirSync(join(aliasHome, '.ssh', 'config.d'), { recursive: true, mode: 0o700 });
    writeFileSync(join(aliasHome, '.ssh', 'known_hosts'), `${sshd.knownHostsLine()}\n`);
    writeFileSync(join(aliasHome, '.ssh', 'config'), 'Include config.d/*.conf\n\nHost *\n  ConnectTimeout 5\n');
    writeFileSync(
      join(aliasHome, '.ssh', 'config.d', 'test.conf'),
      [
        'Host testhost',
        '  HostName 127.0.0.1',
        `  Port ${sshd.port}`,
        `  User ${user.name}`,
        `  IdentityFile ${keys}/id_%r_unused`,
        `  IdentityFile ${keys}/id_plain`,
        '  IdentitiesOnly yes',
        '',
      ].join('\n'),
    );
    const prompter = new ScriptedPrompter();
    const result = await bootstrap(
      options({ destination: 'testhost', identityFiles: [], environment: environment({ home: aliasHome, env: { HOME: aliasHome } }) }),
      prompter,
    );
    expect(result).toEqual({ host: '127.0.0.1', port: FAKE_UDP_PORT });
    expect(prompter.asked).toEqual([]);
  });

  it('lets -o options and -F override the configuration', async () => {
    const configFile = join(home, 'other-config');
    writeFileSync(configFile, `Host target\n  HostName 127.0.0.1\n  Port 1\n  User nobody-such\n`);
    const result = await bootstrap(
      options({
        destination: 'target',
        configFile,
        identityFiles: [],
        sshOptions: [`Port=${sshd.port}`, `User ${user.name}`, `IdentityFile=${plainKey.privatePath}`],
      }),
    );
    expect(result.host).toBe('127.0.0.1');
  });

  describe('through other servers', () => {
    let jump: TestSshd;
    let kbd: TestSshd;
    let routeHome: string;

    beforeAll(async () => {
      jump = await TestSshd.start({ authorizedKeys: [plainKey.publicLine] });
      kbd = await TestSshd.start({ config: ['UsePAM yes', 'KbdInteractiveAuthentication yes', 'PasswordAuthentication no'] });
      routeHome = makeTempDir('tsmosh-route-home-', 0o700);
      mkdirSync(join(routeHome, '.ssh'), { mode: 0o700 });
      writeFileSync(
        join(routeHome, '.ssh', 'known_hosts'),
        [sshd.knownHostsLine(), jump.knownHostsLine(), kbd.knownHostsLine()].map((line) => `${line}\n`).join(''),
      );
      writeFileSync(
        join(routeHome, '.ssh', 'config'),
        [
          'Host jumpbox',
          '  HostName 127.0.0.1',
          `  Port ${jump.port}`,
          'Host behind-jump',
          '  HostName 127.0.0.1',
          `  Port ${sshd.port}`,
          '  ProxyJump jumpbox',
          'Host *',
          `  User ${user.name}`,
          `  IdentityFile ${plainKey.privatePath}`,
          '',
        ].join('\n'),
      );
    });

    afterAll(async () => {
      await jump?.stop();
      await kbd?.stop();
    });

    const routed = (overrides: Partial<SshBootstrapOptions>): SshBootstrapOptions =>
      options({ identityFiles: [], environment: environment({ home: routeHome, env: { HOME: routeHome, LANG: 'C.UTF-8' } }), ...overrides });

    it('logs in with keyboard-interactive (PAM asks for the password, without echo)', async () => {
      const prompter = new ScriptedPrompter([{ match: /^Password: $/, answer: user.password }]);
      const result = await bootstrap(routed({ destination: `${user.name}@127.0.0.1`, port: kbd.port, sshOptions: ['IdentityFile none'] }), prompter);
      expect(result.key).toBe(FAKE_SESSION_KEY);
      expect(prompter.asked).toEqual([{ question: 'Password: ', secret: true }]);
    });

    it('goes through a ProxyJump host configured in ~/.ssh/config', async () => {
      const result = await bootstrap(routed({ destination: 'behind-jump', port: undefined }));
      expect(result).toEqual({ host: '127.0.0.1', port: FAKE_UDP_PORT });
      // The jump host really carried the connection.
      expect(jump.log()).toContain(`target 127.0.0.1 port ${sshd.port}`);
    });

    it('goes through two hops given with -o ProxyJump=user@host:port,…', async () => {
      const hop = `${user.name}@127.0.0.1:${jump.port}`;
      const result = await bootstrap(routed({ destination: `${user.name}@127.0.0.1`, port: sshd.port, sshOptions: [`ProxyJump=${hop},${hop}`] }));
      expect(result.key).toBe(FAKE_SESSION_KEY);
      expect(jump.log()).toContain(`target 127.0.0.1 port ${jump.port}`);
    });

    it('says which jump host could not reach the target', async () => {
      await expect(bootstrap(routed({ destination: `${user.name}@127.0.0.1`, port: 1, sshOptions: ['ProxyJump=jumpbox'] }))).rejects.toThrow(
        /^The jump host 127\.0\.0\.1 could not connect to 127\.0\.0\.1 port 1: .+\.$/,
      );
    });

    it('runs over a ProxyCommand', async () => {
      const relay = join(routeHome, 'relay.cjs');
      writeFileSync(
        relay,
        "const s = require('net').connect(Number(process.argv[3]), process.argv[2]); process.stdin.pipe(s); s.pipe(process.stdout);\n",
      );
      const result = await bootstrap(
        routed({ destination: `${user.name}@127.0.0.1`, port: sshd.port, sshOptions: [`ProxyCommand ${process.execPath} ${relay} %h %p`] }),
      );
      expect(result).toEqual({ host: '127.0.0.1', port: FAKE_UDP_PORT });
    });

    it('says so when the ProxyCommand fails', async () => {
      await expect(bootstrap(routed({ destination: 'anything', sshOptions: ["ProxyCommand sh -c 'exit 7'"] }))).rejects.toThrow(
        `The ProxyCommand failed: "sh -c 'exit 7'" exited with status 7.`,
      );
    });
  });

  describe('failures, each one plain sentence', () => {
    it('a server that accepts the connection but never speaks SSH', async () => {
      const silent = createServer(() => {});
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const address = silent.address();
      try {
        const port = typeof address === 'object' && address !== null ? address.port : 0;
        await expect(bootstrap(options({ port, connectTimeoutMs: 1000 }))).rejects.toThrow(
          /^The SSH handshake with 127\.0\.0\.1 failed: no answer within 1 s\.$/,
        );
      } finally {
        silent.close();
      }
    });

    it('refused port', async () => {
      await expect(bootstrap(options({ port: 1 }))).rejects.toThrow(/^Connection to 127\.0\.0\.1 port 1 was refused\.$/);
    });

    it('unresolvable name', async () => {
      await expect(bootstrap(options({ destination: 'nonexistent.invalid' }))).rejects.toThrow(
        /^Could not resolve the host name "nonexistent\.invalid"\.$/,
      );
    });

    it('a key the server does not accept, and no password', async () => {
      const error = bootstrap(
        options({ identityFiles: [unauthorizedKey.privatePath], sshOptions: ['PasswordAuthentication no', 'KbdInteractiveAuthentication no'] }),
      );
      await expect(error).rejects.toThrow(`Permission denied for ${user.name}@127.0.0.1 (tried publickey).`);
    });

    it('a corrupt key file is reported and skipped', async () => {
      const corrupt = join(keys, 'id_corrupt');
      writeFileSync(corrupt, '-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5\n-----END OPENSSH PRIVATE KEY-----\n');
      const prompter = new ScriptedPrompter();
      await expect(bootstrap(options({ identityFiles: [corrupt], sshOptions: ['PasswordAuthentication no'] }), prompter)).rejects.toThrow(
        `Permission denied for ${user.name}@127.0.0.1 (no usable authentication method).`,
      );
      expect(prompter.output).toContain(`Load key "${corrupt}": invalid format.`);
    });

    it('three wrong passwords', async () => {
      const prompter = new ScriptedPrompter([
        { match: /password/, answer: 'a' },
        { match: /password/, answer: 'b' },
        { match: /password/, answer: 'c' },
      ]);
      await expect(bootstrap(options({ identityFiles: [] }), prompter)).rejects.toThrow(
        `Permission denied for ${user.name}@127.0.0.1 (tried password).`,
      );
      expect(prompter.asked).toHaveLength(3);
    });

    it('server command not installed: says how to install it, prints no connect line', async () => {
      const prompter = new ScriptedPrompter();
      await expect(bootstrap(options({ serverCommand: 'tsmosh-server-not-installed' }), prompter)).rejects.toThrow(
        /^tsmosh-server-not-installed was not found on 127\.0\.0\.1: install tsmosh there \(npm install -g tsmosh\)/,
      );
      expect(prompter.output).toMatch(/command not found/);
    });

    it('server exits without a connect line', async () => {
      await expect(bootstrap(options({ serverCommand: writeFakeServer(sshd.dir, 'fail') }))).rejects.toThrow(
        `${sshd.dir}/fake-tsmosh-server-fail on 127.0.0.1 exited with status 3 without printing its TSMOSH CONNECT line.`,
      );
    });

    it('server prints no connect line in time', async () => {
      await expect(bootstrap(options({ serverCommand: writeFakeServer(sshd.dir, 'hang'), connectLineTimeoutMs: 1000 }))).rejects.toThrow(
        `${sshd.dir}/fake-tsmosh-server-hang on 127.0.0.1 ran for 1 s without printing its TSMOSH CONNECT line.`,
      );
    });

    it('a malformed connect line is refused and not shown', async () => {
      const prompter = new ScriptedPrompter();
      await expect(bootstrap(options({ serverCommand: writeFakeServer(sshd.dir, 'malformed') }), prompter)).rejects.toThrow(
        'The server printed a malformed TSMOSH CONNECT line.',
      );
      expect(prompter.output).not.toContain('not-a-key');
    });

    it('cancelling the password prompt stops at once', async () => {
      const prompter = new ScriptedPrompter();
      await expect(bootstrap(options({ identityFiles: [] }), prompter)).rejects.toThrow('The prompt was cancelled.');
      expect(prompter.asked).toHaveLength(1);
    });
  });
});

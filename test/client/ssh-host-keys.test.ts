/**
 * Host key checking end to end against a real sshd: known_hosts in all its forms and every
 * StrictHostKeyChecking mode, as OpenSSH behaves.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sha256Fingerprint } from '../../client/known-hosts.js';
import { type SshBootstrapOptions, bootstrapOverSsh } from '../../client/ssh-bootstrap.js';
import { FAKE_SESSION_KEY, writeFakeServer } from '../support/fake-tsmosh-server.js';
import { ScriptedPrompter } from '../support/scripted-prompter.js';
import { type GeneratedKey, type TestUser, TestSshd, createTestUser, generateKey, makeTempDir, removeTempDirs, sshdTestsCanRun } from '../support/sshd.js';

afterAll(removeTempDirs);

const canRun = sshdTestsCanRun('ssh-host-keys.test.ts');
const QUESTION = /^Are you sure you want to continue connecting \(yes\/no\/\[fingerprint\]\)\? $/;

describe.skipIf(!canRun)('host keys against a real sshd', () => {
  let user: TestUser;
  let sshd: TestSshd;
  let clientKey: GeneratedKey;
  let otherKey: GeneratedKey;
  let fakeServer: string;
  let scratch: string;
  let homes = 0;

  beforeAll(async () => {
    user = await createTestUser();
    scratch = makeTempDir('tsmosh-hostkeys-', 0o700);
    clientKey = generateKey(scratch, 'id_client');
    otherKey = generateKey(scratch, 'not_the_host_key');
    sshd = await TestSshd.start({ authorizedKeys: [clientKey.publicLine], config: ['PasswordAuthentication yes'] });
    fakeServer = writeFakeServer(sshd.dir, 'connect');
  });

  afterAll(async () => {
    await sshd?.stop();
    user?.remove();
  });

  // A failing test shows the end of the sshd log: that is where the reason usually is.
  beforeEach((context) => {
    context.onTestFailed(() => console.error(`--- sshd log (${sshd?.logPath}) ---\n${sshd?.log().slice(-4000)}`));
  });

  /** A fresh client home whose known_hosts holds these lines. */
  const freshHome = (lines: readonly string[]): { home: string; knownHosts: string } => {
    const home = join(scratch, `home-${++homes}`);
    mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
    const knownHosts = join(home, '.ssh', 'known_hosts');
    if (lines.length > 0) writeFileSync(knownHosts, lines.map((line) => `${line}\n`).join(''));
    return { home, knownHosts };
  };

  const options = (home: string, overrides: Partial<SshBootstrapOptions> = {}): SshBootstrapOptions => ({
    destination: `${user.name}@127.0.0.1`,
    port: sshd.port,
    identityFiles: [clientKey.privatePath],
    serverCommand: fakeServer,
    colors: 256,
    environment: {
      home,
      localUser: 'tester',
      uid: 0,
      localHostname: 'testbox',
      env: { HOME: home },
      systemConfigFile: join(home, 'no-system-config'),
      globalKnownHostsFiles: [],
    },
    pty: null,
    connectTimeoutMs: 5000,
    connectLineTimeoutMs: 5000,
    exitGraceMs: 2000,
    ...overrides,
  });

  const wrongKeyLine = (name: string): string => `${name} ${otherKey.type} ${otherKey.blob.toString('base64')}`;

  it('asks about an unknown host, shows the fingerprint, and appends the key once accepted', async () => {
    const { home, knownHosts } = freshHome([]);
    const prompter = new ScriptedPrompter([{ match: QUESTION, answer: 'yes' }]);
    const result = await bootstrapOverSsh(options(home), prompter);
    expect(result.key).toBe(FAKE_SESSION_KEY);
    expect(prompter.output).toContain(`The authenticity of host '${sshd.knownHostsName}' can't be established.`);
    expect(prompter.output).toContain(`ED25519 key fingerprint is ${sha256Fingerprint(sshd.hostKey.blob)}.`);
    expect(prompter.output).toContain(`Warning: Permanently added '${sshd.knownHostsName}' (ED25519) to the list of known hosts.`);
    expect(readFileSync(knownHosts, 'utf8')).toBe(`${sshd.knownHostsLine()}\n`);
    // The fingerprint agrees with OpenSSH's own.
    expect(execFileSync('ssh-keygen', ['-l', '-f', sshd.hostKey.publicPath], { encoding: 'utf8' })).toContain(sha256Fingerprint(sshd.hostKey.blob));

    const again = new ScriptedPrompter();
    await bootstrapOverSsh(options(home), again);
    expect(again.asked).toEqual([]);
  });

  it('accepts the fingerprint typed instead of yes, after a wrong answer', async () => {
    const { home } = freshHome([]);
    const prompter = new ScriptedPrompter([
      { match: QUESTION, answer: 'maybe' },
      { match: /^Please type 'yes', 'no' or the fingerprint: $/, answer: sha256Fingerprint(sshd.hostKey.blob) },
    ]);
    await expect(bootstrapOverSsh(options(home), prompter)).resolves.toBeDefined();
  });

  it('appends a hashed entry when HashKnownHosts is set, which ssh-keygen -F finds', async () => {
    const { home, knownHosts } = freshHome(['# a comment without a final newline']);
    writeFileSync(knownHosts, '# a comment without a final newline');
    const prompter = new ScriptedPrompter([{ match: QUESTION, answer: 'yes' }]);
    await bootstrapOverSsh(options(home, { sshOptions: ['HashKnownHosts yes'] }), prompter);
    const lines = readFileSync(knownHosts, 'utf8').split('\n');
    expect(lines[0]).toBe('# a comment without a final newline');
    expect(lines[1]).toMatch(/^\|1\|[A-Za-z0-9+/=]{28}\|[A-Za-z0-9+/=]{28} ssh-ed25519 /);
    expect(lines[1]).not.toContain('127.0.0.1');
    const found = execFileSync('ssh-keygen', ['-F', sshd.knownHostsName, '-f', knownHosts], { encoding: 'utf8' });
    expect(found).toContain(`found: line 2`);
  });

  it('refuses when the user answers no, and records nothing', async () => {
    const { home, knownHosts } = freshHome([]);
    const prompter = new ScriptedPrompter([{ match: QUESTION, answer: 'no' }]);
    await expect(bootstrapOverSsh(options(home), prompter)).rejects.toThrow(
      `Host key verification failed: the key of ${sshd.knownHostsName} was not accepted.`,
    );
    expect(() => readFileSync(knownHosts)).toThrow();
  });

  it('StrictHostKeyChecking yes refuses an unknown host without asking', async () => {
    const { home } = freshHome([]);
    const prompter = new ScriptedPrompter();
    await expect(bootstrapOverSsh(options(home, { sshOptions: ['StrictHostKeyChecking yes'] }), prompter)).rejects.toThrow(
      `No ED25519 host key is known for ${sshd.knownHostsName} and StrictHostKeyChecking is yes.`,
    );
    expect(prompter.asked).toEqual([]);
  });

  it('BatchMode refuses an unknown host instead of asking', async () => {
    const { home } = freshHome([]);
    await expect(bootstrapOverSsh(options(home, { sshOptions: ['BatchMode yes'] }), new ScriptedPrompter())).rejects.toThrow(
      `No ED25519 host key is known for ${sshd.knownHostsName} and BatchMode forbids asking.`,
    );
  });

  it('StrictHostKeyChecking accept-new adds an unknown host without asking', async () => {
    const { home, knownHosts } = freshHome([]);
    const prompter = new ScriptedPrompter();
    await bootstrapOverSsh(options(home, { sshOptions: ['StrictHostKeyChecking=accept-new'] }), prompter);
    expect(prompter.asked).toEqual([]);
    expect(readFileSync(knownHosts, 'utf8')).toContain(sshd.knownHostsLine());
  });

  it('refuses a changed key with OpenSSH\'s warning, naming the file and line', async () => {
    const { home, knownHosts } = freshHome(['# first line', 'other.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDJG3AGgkMmFg6rfwd7KQgGSkB5pjEtNzJYaTbPWYYu9', wrongKeyLine(sshd.knownHostsName)]);
    const before = readFileSync(knownHosts, 'utf8');
    for (const strict of ['ask', 'accept-new', 'yes']) {
      const prompter = new ScriptedPrompter([{ match: /./, answer: 'yes' }]);
      await expect(bootstrapOverSsh(options(home, { sshOptions: [`StrictHostKeyChecking ${strict}`] }), prompter)).rejects.toThrow(
        `The ED25519 host key for ${sshd.knownHostsName} has changed (the recorded key is in ${knownHosts} line 3); refusing to connect.`,
      );
      expect(prompter.asked).toEqual([]);
      expect(prompter.output).toContain('WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!');
      expect(prompter.output).toContain(`Offending ED25519 key in ${knownHosts}:3`);
    }
    expect(readFileSync(knownHosts, 'utf8')).toBe(before);
  });

  it('StrictHostKeyChecking no connects to a changed host with keys only, never asking for a password', async () => {
    const { home } = freshHome([wrongKeyLine(sshd.knownHostsName)]);
    const withKey = new ScriptedPrompter();
    await expect(bootstrapOverSsh(options(home, { sshOptions: ['StrictHostKeyChecking no'] }), withKey)).resolves.toBeDefined();
    expect(withKey.output).toContain('Password and keyboard-interactive authentication are disabled');

    const passwordOnly = new ScriptedPrompter([{ match: /password/, answer: user.password }]);
    await expect(bootstrapOverSsh(options(home, { identityFiles: [], sshOptions: ['StrictHostKeyChecking no'] }), passwordOnly)).rejects.toThrow(
      /^Permission denied/,
    );
    expect(passwordOnly.asked).toEqual([]);
  });

  it('recognises hashed entries written by ssh-keygen -H', async () => {
    const { home, knownHosts } = freshHome(['somewhere.example ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7', sshd.knownHostsLine()]);
    execFileSync('ssh-keygen', ['-H', '-f', knownHosts], { stdio: 'ignore' });
    expect(readFileSync(knownHosts, 'utf8')).not.toContain('127.0.0.1');
    const prompter = new ScriptedPrompter();
    await bootstrapOverSsh(options(home), prompter);
    expect(prompter.asked).toEqual([]);
  });

  it('matches wildcard patterns and honours negation', async () => {
    const wildcard = freshHome([`[127.0.0.?]:* ${sshd.hostKey.type} ${sshd.hostKey.blob.toString('base64')}`]);
    const quiet = new ScriptedPrompter();
    await bootstrapOverSsh(options(wildcard.home), quiet);
    expect(quiet.asked).toEqual([]);

    const negated = freshHome([`[127.0.0.*]:*,!${sshd.knownHostsName} ${sshd.hostKey.type} ${sshd.hostKey.blob.toString('base64')}`]);
    const asked = new ScriptedPrompter([{ match: QUESTION, answer: 'yes' }]);
    await bootstrapOverSsh(options(negated.home), asked);
    expect(asked.asked).toHaveLength(1);
  });

  it('refuses a key marked @revoked', async () => {
    const { home, knownHosts } = freshHome([sshd.knownHostsLine(), `@revoked * ${sshd.hostKey.type} ${sshd.hostKey.blob.toString('base64')}`]);
    const prompter = new ScriptedPrompter();
    await expect(bootstrapOverSsh(options(home), prompter)).rejects.toThrow(
      `The ED25519 host key for ${sshd.knownHostsName} is marked as revoked in ${knownHosts} line 2; refusing to connect.`,
    );
    expect(prompter.output).toContain('REVOKED HOST KEY');
  });

  it('uses HostKeyAlias, UserKnownHostsFile with tokens, and the global known_hosts files', async () => {
    const aliased = freshHome(['tsmosh-alias ' + sshd.knownHostsLine().split(' ').slice(1).join(' ')]);
    const viaAlias = new ScriptedPrompter();
    await bootstrapOverSsh(options(aliased.home, { sshOptions: ['HostKeyAlias tsmosh-alias'] }), viaAlias);
    expect(viaAlias.asked).toEqual([]);

    const tokens = freshHome([]);
    writeFileSync(join(tokens.home, `kh-${sshd.port}-${user.name}`), `${sshd.knownHostsLine()}\n`);
    const viaTokens = new ScriptedPrompter();
    await bootstrapOverSsh(options(tokens.home, { sshOptions: ['UserKnownHostsFile %d/kh-%p-%r'] }), viaTokens);
    expect(viaTokens.asked).toEqual([]);

    const global = freshHome([]);
    const globalFile = join(global.home, 'ssh_known_hosts');
    writeFileSync(globalFile, `${sshd.knownHostsLine()}\n`);
    const base = options(global.home);
    const viaGlobal = new ScriptedPrompter();
    await bootstrapOverSsh({ ...base, environment: { ...base.environment!, globalKnownHostsFiles: [globalFile] } }, viaGlobal);
    expect(viaGlobal.asked).toEqual([]);
  });

  describe('a host with two host keys', () => {
    let dual: TestSshd;
    let rsaHostKey: GeneratedKey;

    beforeAll(async () => {
      rsaHostKey = generateKey(scratch, 'rsa_host_key', 'rsa');
      dual = await TestSshd.start({ authorizedKeys: [clientKey.publicLine], config: [`HostKey ${rsaHostKey.privatePath}`] });
    });

    afterAll(async () => {
      await dual?.stop();
    });

    it('prefers the key type already recorded, as OpenSSH does, instead of asking about the other', async () => {
      const { home } = freshHome([`${dual.knownHostsName} ssh-rsa ${rsaHostKey.blob.toString('base64')}`]);
      const prompter = new ScriptedPrompter();
      await bootstrapOverSsh(options(home, { port: dual.port, serverCommand: writeFakeServer(dual.dir, 'connect') }), prompter);
      expect(prompter.asked).toEqual([]);
    });
  });
});

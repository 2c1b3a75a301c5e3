/**
 * Resolution against OpenSSH itself: `ssh -G` prints the configuration ssh would use, without
 * connecting, so every case here is checked against the real thing where ssh is installed.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { homedir, hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { globFiles } from '../../client/ssh-config-include.js';
import { type ResolvedSshHost, type SshEnvironment, type SshTargetRequest, SshConfigError, resolveSshHost } from '../../client/ssh-config.js';
import { makeTempDir, removeTempDirs } from '../support/sshd.js';

afterAll(removeTempDirs);

const sshAvailable = spawnSync('ssh', ['-V']).status === 0;
if (!sshAvailable) {
  if (process.env['CI'] === 'true') throw new Error('ssh-config.test.ts: the OpenSSH client (ssh -G) is needed as the reference, and CI=true requires it.');
  console.warn('\n*** ssh-config.test.ts: SKIPPING the comparisons with `ssh -G`: ssh is not installed. ***\n');
}

let dir: string;
let counter = 0;

beforeAll(() => {
  dir = makeTempDir('tsmosh-config-', 0o700);
});

/** The real user's environment, so that `~` means the same to us and to ssh -G (no file under it is read). */
function realEnvironment(): SshEnvironment {
  const info = userInfo();
  return {
    home: homedir(),
    localUser: info.username,
    uid: info.uid,
    localHostname: hostname(),
    env: { HOME: homedir(), SSH_AUTH_SOCK: '/tmp/agent.sock' },
    systemConfigFile: '/nonexistent',
    globalKnownHostsFiles: ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'],
  };
}

function writeConfig(text: string): string {
  const path = join(dir, `config-${++counter}`);
  writeFileSync(path, text);
  return path;
}

/** What `ssh -G` says, as keyword → values. */
function openssh(configFile: string, request: SshTargetRequest): Map<string, string[]> {
  const args = ['-G', '-F', configFile];
  if (request.user !== undefined) args.push('-l', request.user);
  if (request.port !== undefined) args.push('-p', String(request.port));
  for (const file of request.identityFiles ?? []) args.push('-i', file);
  for (const option of request.sshOptions ?? []) args.push('-o', option);
  args.push(request.destination);
  const result = spawnSync('ssh', args, { encoding: 'utf8', env: { ...process.env, SSH_AUTH_SOCK: '/tmp/agent.sock' } });
  if (result.status !== 0) throw new Error(`ssh -G failed: ${result.stderr}`);
  const view = new Map<string, string[]>();
  for (const line of result.stdout.split('\n')) {
    const space = line.indexOf(' ');
    if (space < 0) continue;
    const key = line.slice(0, space);
    view.set(key, [...(view.get(key) ?? []), line.slice(space + 1)]);
  }
  return view;
}

const strictAsOpenSsh = { yes: 'true', no: 'false', ask: 'ask', 'accept-new': 'accept-new' } as const;

/** Our resolution, in ssh -G's vocabulary, for the fields both have. */
function ours(resolved: ResolvedSshHost): Record<string, string[]> {
  const flag = (value: boolean) => [value ? 'yes' : 'no'];
  return {
    hostname: [resolved.hostName],
    port: [String(resolved.port)],
    user: [resolved.user],
    identityfile: [...resolved.identityFiles],
    userknownhostsfile: [resolved.userKnownHostsFiles.join(' ')],
    globalknownhostsfile: [resolved.globalKnownHostsFiles.join(' ')],
    stricthostkeychecking: [strictAsOpenSsh[resolved.strictHostKeyChecking]],
    hashknownhosts: flag(resolved.hashKnownHosts),
    identitiesonly: flag(resolved.identitiesOnly),
    batchmode: flag(resolved.batchMode),
    passwordauthentication: flag(resolved.passwordAuthentication),
    kbdinteractiveauthentication: flag(resolved.kbdInteractiveAuthentication),
    numberofpasswordprompts: [String(resolved.numberOfPasswordPrompts)],
    connecttimeout: [resolved.connectTimeoutMs === null ? 'none' : String(resolved.connectTimeoutMs / 1000)],
    addressfamily: [resolved.addressFamily],
  };
}

/**
 * ssh -G prints IdentityFile before expanding `~` and tokens; compare after expanding `~` only, and
 * without the default keys ssh2 cannot use (FIDO `_sk`, XMSS, DSA), which tsmosh leaves out on purpose.
 */
function expandedIdentityFiles(view: Map<string, string[]>): string[] {
  return (view.get('identityfile') ?? [])
    .filter((file) => !/^~\/\.ssh\/id_(?:\w+_sk|xmss|dsa)$/.test(file))
    .map((file) => (file.startsWith('~/') ? homedir() + file.slice(1) : file));
}

function expectSameAsOpenSsh(configText: string, request: SshTargetRequest): ResolvedSshHost {
  const configFile = writeConfig(configText);
  const resolved = resolveSshHost({ ...request, configFile }, realEnvironment());
  if (!sshAvailable) return resolved;
  const view = openssh(configFile, request);
  const mine = ours(resolved);
  for (const [key, values] of Object.entries(mine)) {
    const theirs = key === 'identityfile' ? expandedIdentityFiles(view) : view.get(key);
    expect({ key, values }).toEqual({ key, values: theirs });
  }
  return resolved;
}

describe('resolveSshHost agrees with ssh -G', () => {
  it('resolves an alias: HostName, Port, User, IdentityFile accumulating, first value winning', () => {
    const resolved = expectSameAsOpenSsh(
      [
        'Host work',
        '  HostName 192.0.2.10',
        '  port 2222',
        '  User alice',
        '  IdentityFile /keys/work',
        'Host w*',
        '  Port 3333',
        '  IdentityFile /keys/wild',
        '  HashKnownHosts yes',
        'Host *',
        '  User nobody',
        '  IdentityFile /keys/all',
        '  ConnectTimeout 7',
        '  StrictHostKeyChecking accept-new',
        '',
      ].join('\n'),
      { destination: 'work' },
    );
    expect(resolved.hostName).toBe('192.0.2.10');
    expect(resolved.identityFiles).toEqual(['/keys/work', '/keys/wild', '/keys/all']);
  });

  it('gives the command line precedence: -l, -p, -i and -o', () => {
    // ssh drops an -i file that does not exist, so this one must.
    const cliKey = join(dir, 'cli-key');
    writeFileSync(cliKey, '');
    const resolved = expectSameAsOpenSsh(['Host h', '  User alice', '  Port 2222', '  IdentityFile /keys/config', '  BatchMode no', ''].join('\n'), {
      destination: 'bob@h',
      user: 'carol',
      port: 4444,
      identityFiles: [cliKey],
      sshOptions: ['BatchMode=yes', 'IdentityFile /keys/o', 'StrictHostKeyChecking no', 'NumberOfPasswordPrompts=1'],
    });
    expect(resolved.user).toBe('carol');
    expect(resolved.identityFiles).toEqual([cliKey, '/keys/o', '/keys/config']);
  });

  it('takes user@ from the destination when -l is absent', () => {
    expect(expectSameAsOpenSsh('Host h\n  User alice\n', { destination: 'bob@h' }).user).toBe('bob');
  });

  it('honours negated Host patterns and keyword case', () => {
    const config = ['Host *.example !secret.example', '  PORT 2200', 'Host *', '  PasswordAuthentication no', ''].join('\n');
    expect(expectSameAsOpenSsh(config, { destination: 'a.example' }).port).toBe(2200);
    expect(expectSameAsOpenSsh(config, { destination: 'secret.example' }).port).toBe(22);
  });

  it('evaluates Match host (after HostName), Match originalhost and Match user', () => {
    const config = [
      'Host short',
      '  HostName long.example',
      'Match host long.example',
      '  Port 2201',
      'Match originalhost short',
      '  IdentitiesOnly yes',
      'Match user deploy',
      '  IdentityFile /keys/deploy',
      '',
    ].join('\n');
    const resolved = expectSameAsOpenSsh(config, { destination: 'short', user: 'deploy' });
    expect(resolved.port).toBe(2201);
    expect(resolved.identitiesOnly).toBe(true);
    expect(resolved.identityFiles).toEqual(['/keys/deploy']);
  });

  it('expands %h in HostName', () => {
    expect(expectSameAsOpenSsh('Host *.lan\n  HostName %h.example.net\n', { destination: 'box.lan' }).hostName).toBe('box.lan.example.net');
  });

  it('follows Include (globs, lexical order), keeping the including section', () => {
    const included = join(dir, 'inc');
    mkdirSync(included, { recursive: true });
    writeFileSync(join(included, 'b.conf'), 'Host b\n  Port 2302\n');
    writeFileSync(join(included, 'a.conf'), 'Port 2301\nHost a\n  User from-a\n');
    writeFileSync(join(included, '.hidden.conf'), 'Port 9999\n');
    const config = [`Host a b`, `  Include ${included}/*.conf`, '  User after-include', 'Host *', '  ConnectTimeout 3', ''].join('\n');
    const a = expectSameAsOpenSsh(config, { destination: 'a' });
    expect([a.port, a.user]).toEqual([2301, 'from-a']);
    const b = expectSameAsOpenSsh(config, { destination: 'b' });
    expect([b.port, b.user]).toEqual([2301, 'after-include']);
  });

  it('uses the first of ProxyJump and ProxyCommand', () => {
    const jumpFirst = expectSameAsOpenSsh('Host t\n  ProxyJump alice@j1:2222,j2\n  ProxyCommand nc %h %p\n', { destination: 't' });
    expect(jumpFirst.proxyJump).toEqual([{ user: 'alice', host: 'j1', port: 2222 }, { host: 'j2' }]);
    expect(jumpFirst.proxyCommand).toBeNull();
    const commandFirst = resolveSshHost({ destination: 't', configFile: writeConfig('Host t\n  ProxyCommand nc %h %p\n  ProxyJump j1\n') }, realEnvironment());
    expect(commandFirst.proxyCommand).toBe('nc %h %p');
    expect(commandFirst.proxyJump).toEqual([]);
  });
});

describe('resolveSshHost with a throwaway home', () => {
  let home: string;

  const environment = (): SshEnvironment => ({
    home,
    localUser: 'me',
    uid: 1234,
    localHostname: 'laptop.lan',
    env: { HOME: home, KEYS: 'keyring' },
    systemConfigFile: join(home, 'etc', 'ssh_config'),
    globalKnownHostsFiles: [],
  });

  beforeAll(() => {
    home = makeTempDir('tsmosh-config-home-', 0o700);
    mkdirSync(join(home, '.ssh', 'conf.d'), { recursive: true });
    mkdirSync(join(home, 'etc', 'conf.d'), { recursive: true });
    writeFileSync(join(home, '.ssh', 'config'), 'Include conf.d/*\nHost server\n  HostName 198.51.100.7\n  User admin\n');
    writeFileSync(join(home, '.ssh', 'conf.d', 'keys'), 'Host server\n  IdentityFile ~/${KEYS}/%r@%h-%p-%L-%u-%i\n');
    writeFileSync(join(home, 'etc', 'ssh_config'), 'Include conf.d/*.conf\nHost *\n  HashKnownHosts yes\n');
    writeFileSync(join(home, 'etc', 'conf.d', 'port.conf'), 'Port 2022\n');
  });

  it('reads ~/.ssh/config then the system file, with relative includes under each', () => {
    const resolved = resolveSshHost({ destination: 'server' }, environment());
    expect(resolved).toMatchObject({ hostName: '198.51.100.7', user: 'admin', port: 2022, hashKnownHosts: true });
    expect(resolved.identityFiles).toEqual([`${home}/keyring/admin@198.51.100.7-2022-laptop-me-1234`]);
    expect(resolved.userKnownHostsFiles).toEqual([`${home}/.ssh/known_hosts`, `${home}/.ssh/known_hosts2`]);
    expect(resolved.identityFilesConfigured).toBe(true);
  });

  it('uses the default identities, agent and known_hosts when nothing is configured', () => {
    const resolved = resolveSshHost({ destination: 'elsewhere', configFile: 'none' }, { ...environment(), env: { SSH_AUTH_SOCK: '/run/agent' } });
    expect(resolved.identityFiles).toEqual(['id_rsa', 'id_ecdsa', 'id_ed25519'].map((name) => `${home}/.ssh/${name}`));
    expect(resolved.identityFilesConfigured).toBe(false);
    expect(resolved.identityAgent).toBe('/run/agent');
    expect(resolved.port).toBe(22);
    expect(resolved.user).toBe('me');
    expect(resolved.preferredAuthentications).toEqual(['publickey', 'keyboard-interactive', 'password']);
  });

  it('reads IdentityAgent, PreferredAuthentications and the other auth switches', () => {
    const configFile = join(home, 'auth-config');
    writeFileSync(
      configFile,
      'IdentityAgent none\nPreferredAuthentications password,gssapi-with-mic,publickey\nPubkeyAuthentication no\nChallengeResponseAuthentication no\n',
    );
    const resolved = resolveSshHost({ destination: 'x', configFile }, environment());
    expect(resolved.identityAgent).toBeNull();
    expect(resolved.preferredAuthentications).toEqual(['password', 'publickey']);
    expect(resolved.pubkeyAuthentication).toBe(false);
    expect(resolved.kbdInteractiveAuthentication).toBe(false);
  });

  it('refuses -o values that could inject configuration, and bad values', () => {
    const request = { destination: 'x', configFile: 'none' };
    expect(() => resolveSshHost({ ...request, sshOptions: ['Port 22\nHost *'] }, environment())).toThrow(SshConfigError);
    expect(() => resolveSshHost({ ...request, sshOptions: ['Host=evil'] }, environment())).toThrow(/cannot be given with -o/);
    expect(() => resolveSshHost({ ...request, sshOptions: ['Port'] }, environment())).toThrow(/not of the form Option=Value/);
    expect(() => resolveSshHost({ ...request, sshOptions: ['Port=0'] }, environment())).toThrow('Port must be a number from 1 to 65535, not "0".');
    expect(() => resolveSshHost({ ...request, sshOptions: ['StrictHostKeyChecking=maybe'] }, environment())).toThrow(/StrictHostKeyChecking must be/);
    expect(() => resolveSshHost({ ...request, configFile: join(home, 'missing') }, environment())).toThrow(/Cannot read the ssh configuration file/);
  });

  it('stops an Include loop', () => {
    const loop = join(home, 'loop.conf');
    writeFileSync(loop, `Include ${loop}\n`);
    expect(() => resolveSshHost({ destination: 'x', configFile: loop }, environment())).toThrow(/more than 16 levels deep/);
  });
});

describe('globFiles', () => {
  it('matches *, ? and [...] per component, skips dot files and directories, sorts', () => {
    const root = makeTempDir('tsmosh-glob-');
    for (const name of ['a1.conf', 'a2.conf', 'b.conf', '.x.conf', 'c.txt']) writeFileSync(join(root, name), '');
    mkdirSync(join(root, 'd.conf'));
    mkdirSync(join(root, 'sub1'));
    writeFileSync(join(root, 'sub1', 'z.conf'), '');
    expect(globFiles(`${root}/*.conf`)).toEqual(['a1.conf', 'a2.conf', 'b.conf'].map((n) => join(root, n)));
    expect(globFiles(`${root}/a?.conf`)).toEqual(['a1.conf', 'a2.conf'].map((n) => join(root, n)));
    expect(globFiles(`${root}/[ab]*.conf`)).toEqual(['a1.conf', 'a2.conf', 'b.conf'].map((n) => join(root, n)));
    expect(globFiles(`${root}/[!a]*`)).toEqual(['b.conf', 'c.txt'].map((n) => join(root, n)));
    expect(globFiles(`${root}/sub*/*.conf`)).toEqual([join(root, 'sub1', 'z.conf')]);
    expect(globFiles(`${root}/missing/*`)).toEqual([]);
  });
});

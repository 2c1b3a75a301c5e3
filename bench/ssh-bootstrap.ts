/**
 * What the SSH bootstrap costs: known_hosts lookups, config resolution, unlocking an encrypted key,
 * and a whole bootstrap against a local sshd (when running as root with sshd installed).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { checkHostKey, formatKnownHostsLine, hostFileName, parseKnownHosts } from '../client/known-hosts.js';
import { bootstrapOverSsh } from '../client/ssh-bootstrap.js';
import { resolveSshHost } from '../client/ssh-config.js';
import type { Prompter } from '../client/tty-prompt.js';
import { writeFakeServer } from '../test/support/fake-tsmosh-server.js';
import { TestSshd, createTestUser, generateKey, makeTempDir, removeTempDirs, sshdUnavailableReason } from '../test/support/sshd.js';
import { type BenchRow, microsPerCall } from './bench-row.js';

const SUITE = 'ssh';
const ENTRIES = 1000;
const BOOTSTRAP_RUNS = 5;

const silentPrompter: Prompter = {
  ask: () => Promise.reject(new Error('the benchmark asks nothing')),
  tell: () => {},
};

function keyBlob(fill: number): Buffer {
  const type = Buffer.from('ssh-ed25519');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(type.length);
  const keyLength = Buffer.alloc(4);
  keyLength.writeUInt32BE(32);
  return Buffer.concat([length, type, keyLength, Buffer.alloc(32, fill)]);
}

function knownHostsRows(): BenchRow[] {
  const rows: BenchRow[] = [];
  const offered = keyBlob(0xee);
  for (const hashed of [false, true]) {
    let text = '';
    for (let i = 0; i < ENTRIES; i++) text += formatKnownHostsLine(hostFileName(`host${i}.example`, 22), keyBlob(i % 250), hashed ? randomBytes(20) : null);
    const entries = parseKnownHosts(text, 'bench');
    // A miss scans every entry: the worst case, what an unknown host costs.
    const micros = microsPerCall(() => checkHostKey(entries, '[unknown.example]:2222', offered), 200);
    rows.push({
      suite: SUITE,
      name: `known_hosts lookup, ${ENTRIES} ${hashed ? 'hashed' : 'plain'} entries (miss)`,
      value: Math.round(micros),
      unit: 'µs/op',
      note: 'once per connection',
    });
    const parseMicros = microsPerCall(() => parseKnownHosts(text, 'bench'), 200);
    rows.push({ suite: SUITE, name: `known_hosts parse, ${ENTRIES} ${hashed ? 'hashed' : 'plain'} entries`, value: Math.round(parseMicros), unit: 'µs/op' });
  }
  return rows;
}

function configRow(dir: string): BenchRow {
  const home = join(dir, 'home');
  mkdirSync(join(home, '.ssh', 'conf.d'), { recursive: true });
  let text = 'Include conf.d/*\n';
  for (let i = 0; i < 50; i++) text += `Host box${i} box${i}.example\n  HostName 192.0.2.${i}\n  User user${i}\n  IdentityFile ~/.ssh/id_%r\n`;
  writeFileSync(join(home, '.ssh', 'config'), text);
  writeFileSync(join(home, '.ssh', 'conf.d', 'extra'), 'Host *\n  ServerAliveInterval 30\n');
  const environment = {
    home,
    localUser: 'me',
    uid: 1000,
    localHostname: 'laptop',
    env: { HOME: home },
    systemConfigFile: join(dir, 'none'),
    globalKnownHostsFiles: [],
  };
  const micros = microsPerCall(() => resolveSshHost({ destination: 'box42' }, environment), 200);
  return { suite: SUITE, name: 'resolve a destination (50 Host blocks + Include, files read)', value: Math.round(micros), unit: 'µs/op' };
}

function decryptRow(dir: string): BenchRow {
  const key = generateKey(dir, 'encrypted', 'ed25519', 'bench passphrase');
  const data = readFileSync(key.privatePath);
  const start = performance.now();
  ssh2.utils.parseKey(data, 'bench passphrase');
  return {
    suite: SUITE,
    name: 'unlock an encrypted ed25519 key (bcrypt KDF, 16 rounds)',
    value: Math.round(performance.now() - start),
    unit: 'ms',
    note: 'ssh2\'s JavaScript bcrypt; blocks the event loop once per typed passphrase',
  };
}

async function bootstrapRow(dir: string): Promise<BenchRow> {
  const reason = sshdUnavailableReason();
  if (reason !== null) return { suite: SUITE, name: 'bootstrap to a local sshd (key file)', value: Number.NaN, unit: 'ms', note: `not measured: ${reason}` };
  const user = await createTestUser();
  const clientKey = generateKey(dir, 'client');
  const sshd = await TestSshd.start({ authorizedKeys: [clientKey.publicLine] });
  try {
    const home = join(dir, 'client-home');
    mkdirSync(join(home, '.ssh'), { recursive: true });
    writeFileSync(join(home, '.ssh', 'known_hosts'), `${sshd.knownHostsLine()}\n`);
    const options = {
      destination: `${user.name}@127.0.0.1`,
      port: sshd.port,
      identityFiles: [clientKey.privatePath],
      serverCommand: writeFakeServer(sshd.dir, 'connect'),
      colors: 256,
      pty: { term: 'xterm-256color', cols: 80, rows: 24 },
      environment: { home, localUser: 'me', uid: 0, localHostname: 'bench', env: { HOME: home }, systemConfigFile: join(dir, 'none'), globalKnownHostsFiles: [] },
    };
    const times: number[] = [];
    for (let i = 0; i < BOOTSTRAP_RUNS; i++) {
      const start = performance.now();
      await bootstrapOverSsh(options, silentPrompter);
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    return {
      suite: SUITE,
      name: 'bootstrap to a local sshd (key file, PTY, fake server)',
      value: Math.round(times[Math.floor(times.length / 2)] ?? Number.NaN),
      unit: 'ms',
      note: `median of ${BOOTSTRAP_RUNS}: TCP, key exchange, public key auth, exec, connect line, close`,
    };
  } finally {
    await sshd.stop();
    user.remove();
  }
}

export async function run(): Promise<BenchRow[]> {
  const dir = makeTempDir('tsmosh-bench-ssh-', 0o700);
  try {
    return [...knownHostsRows(), configRow(dir), decryptRow(dir), await bootstrapRow(dir)];
  } finally {
    removeTempDirs();
  }
}

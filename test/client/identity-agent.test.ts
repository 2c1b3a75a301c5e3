import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { ParsedKey } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdentityAgent, type IdentityAgentOptions, IdentityUnavailableError, publicKeyFromOpenSshFile } from '../../client/identity-agent.js';
import { ScriptedPrompter } from '../support/scripted-prompter.js';
import { type GeneratedKey, type SshAgent, generateKey, makeTempDir, removeTempDirs, startSshAgent } from '../support/sshd.js';

afterAll(removeTempDirs);

const { utils } = ssh2;
const toolsAvailable = ['ssh-keygen', 'ssh-agent', 'ssh-add'].every((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0);
if (!toolsAvailable && process.env['CI'] === 'true') throw new Error('identity-agent.test.ts: ssh-keygen, ssh-agent and ssh-add are needed, and CI=true requires them.');
if (!toolsAvailable) console.warn('\n*** identity-agent.test.ts: SKIPPING: the OpenSSH client tools are not installed. ***\n');

describe.skipIf(!toolsAvailable)('IdentityAgent', () => {
  let dir: string;
  let agent: SshAgent;
  let a: GeneratedKey;
  let b: GeneratedKey;
  let c: GeneratedKey;
  let pem: string;

  beforeAll(() => {
    dir = makeTempDir('tsmosh-identities-', 0o700);
    a = generateKey(dir, 'a');
    b = generateKey(dir, 'b', 'ecdsa');
    c = generateKey(dir, 'c', 'ed25519', 'pw');
    // Without the .pub file, the public key must come from the key file's clear section.
    rmSync(c.publicPath);
    pem = join(dir, 'pem');
    spawnSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', 'pem-pw', '-f', pem]);
    rmSync(`${pem}.pub`);
    agent = startSshAgent(dir);
    agent.add(a.privatePath);
    agent.add(b.privatePath);
  });

  afterAll(() => {
    agent?.stop();
  });

  const load = (prompter: ScriptedPrompter, overrides: Partial<IdentityAgentOptions> = {}) =>
    IdentityAgent.load({
      agentSocket: agent.socket,
      identityFiles: [b.privatePath, c.privatePath, join(dir, 'missing'), pem],
      identityFilesConfigured: true,
      identitiesOnly: false,
      passphraseTries: 2,
      batchMode: false,
      prompter,
      log: () => {},
      ...overrides,
    });

  const blobs = (identityAgent: IdentityAgent) =>
    new Promise<string[]>((resolve) => identityAgent.getIdentities((_error, keys) => resolve((keys ?? []).map((key) => key.getPublicSSH().toString('base64')))));

  const sign = (identityAgent: IdentityAgent, key: ParsedKey, data: Buffer) =>
    new Promise<Buffer>((resolve, reject) =>
      identityAgent.sign(key, data, {}, (error, signature) => (error ? reject(error) : signature ? resolve(signature) : reject(new Error('no signature')))),
    );

  it('offers keys in OpenSSH\'s order: agent keys matching a file, other agent keys, then files', async () => {
    const prompter = new ScriptedPrompter([{ match: /passphrase for key '.*pem'/, answer: 'pem-pw' }]);
    const identities = await load(prompter);
    const pemPublic = utils.parseKey(readFileSync(pem), 'pem-pw') as ParsedKey;
    expect(await blobs(identities)).toEqual([b.blob, a.blob, c.blob, pemPublic.getPublicSSH()].map((blob) => blob.toString('base64')));
    expect(prompter.output).toContain(`Warning: identity file ${join(dir, 'missing')} not accessible: ENOENT.`);
    // Only the old PEM key had to be unlocked up front.
    expect(prompter.asked).toHaveLength(1);
  });

  it('keeps only the agent keys that match identity files under IdentitiesOnly', async () => {
    const identities = await load(new ScriptedPrompter(), { identitiesOnly: true, identityFiles: [b.privatePath, c.privatePath] });
    expect(await blobs(identities)).toEqual([b.blob, c.blob].map((blob) => blob.toString('base64')));
  });

  it('asks for a passphrase only when signing, and signs with the file key', async () => {
    const prompter = new ScriptedPrompter([{ match: /passphrase/, answer: 'pw' }]);
    const identities = await load(prompter, { identityFiles: [c.privatePath] });
    expect(prompter.asked).toEqual([]);
    const key = utils.parseKey(c.publicLine) as ParsedKey;
    const data = Buffer.from('session data');
    const signature = await sign(identities, key, data);
    expect(key.verify(data, signature)).toBe(true);
    expect(prompter.asked).toEqual([{ question: `Enter passphrase for key '${c.privatePath}': `, secret: true }]);
    // Unlocked once, used again without asking.
    await sign(identities, key, data);
    expect(prompter.asked).toHaveLength(1);
  });

  it('signs agent keys through the agent', async () => {
    const identities = await load(new ScriptedPrompter(), { identityFiles: [] });
    const key = utils.parseKey(a.publicLine) as ParsedKey;
    const data = Buffer.from('more data');
    expect(key.verify(data, await sign(identities, key, data))).toBe(true);
  });

  it('skips a key whose passphrase is not given, and does not ask again', async () => {
    const prompter = new ScriptedPrompter([{ match: /passphrase/, answer: '' }]);
    const identities = await load(prompter, { identityFiles: [c.privatePath] });
    const key = utils.parseKey(c.publicLine) as ParsedKey;
    await expect(sign(identities, key, Buffer.from('x'))).rejects.toBeInstanceOf(IdentityUnavailableError);
    await expect(sign(identities, key, Buffer.from('x'))).rejects.toBeInstanceOf(IdentityUnavailableError);
    expect(prompter.asked).toHaveLength(1);
  });

  it('goes on without an agent that is not running', async () => {
    const identities = await load(new ScriptedPrompter(), { agentSocket: join(dir, 'no-agent.sock'), identityFiles: [a.privatePath] });
    expect(await blobs(identities)).toEqual([a.blob.toString('base64')]);
  });

  it('reads the public key of an encrypted OpenSSH key file without its passphrase', () => {
    const fromFile = publicKeyFromOpenSshFile(readFileSync(c.privatePath));
    expect(fromFile?.getPublicSSH().equals(c.blob)).toBe(true);
    expect(publicKeyFromOpenSshFile(Buffer.from('not a key'))).toBeNull();
  });
});

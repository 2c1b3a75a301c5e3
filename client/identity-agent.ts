/**
 * Every public key tsmosh will offer, in OpenSSH's order, behind ssh2's agent interface:
 * agent keys that match an identity file, then the agent's other keys (unless IdentitiesOnly),
 * then the identity files the agent does not hold.
 *
 * Going through the agent interface means ssh2 first asks the server whether it would accept a
 * key and only then asks for a signature. So, as with OpenSSH, a passphrase is only asked for a
 * key the server will actually take, and only once.
 */
import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';
import type { ParsedKey, SignCallback, SigningRequestOptions } from 'ssh2';
import { keyTypeLabel, sha256Fingerprint } from './known-hosts.js';
import type { Prompter } from './tty-prompt.js';

const { BaseAgent, OpenSSHAgent, utils } = ssh2;

/** How long to wait for a running ssh-agent to list its keys. */
export const DEFAULT_AGENT_TIMEOUT_MS = 5000;

export interface IdentityAgentOptions {
  /** The ssh-agent socket, or null. */
  readonly agentSocket: string | null;
  readonly identityFiles: readonly string[];
  /** Whether the files were asked for (a missing one is then worth a warning) or are OpenSSH's defaults. */
  readonly identityFilesConfigured: boolean;
  readonly identitiesOnly: boolean;
  /** NumberOfPasswordPrompts: passphrase attempts per key. */
  readonly passphraseTries: number;
  readonly batchMode: boolean;
  readonly prompter: Prompter;
  readonly log: (message: string) => void;
  readonly agentTimeoutMs?: number;
}

export class IdentityUnavailableError extends Error {
  override readonly name = 'IdentityUnavailableError';
}

interface Identity {
  readonly publicKey: ParsedKey;
  readonly description: string;
  /** Set for a key the agent holds. */
  readonly inAgent: boolean;
  /** Set for a key from a file. */
  readonly file: string | null;
  privateKey: ParsedKey | null;
  /** The passphrase was not given; do not ask again on this connection. */
  givenUp: boolean;
}

interface FileKey {
  readonly file: string;
  readonly publicKey: ParsedKey | null;
  readonly privateKey: ParsedKey | null;
}

export class IdentityAgent extends BaseAgent<ParsedKey> {
  readonly #identities: Identity[];
  readonly #systemAgent: InstanceType<typeof OpenSSHAgent> | null;
  readonly #options: IdentityAgentOptions;

  private constructor(identities: Identity[], systemAgent: InstanceType<typeof OpenSSHAgent> | null, options: IdentityAgentOptions) {
    super();
    this.#identities = identities;
    this.#systemAgent = systemAgent;
    this.#options = options;
  }

  static async load(options: IdentityAgentOptions): Promise<IdentityAgent> {
    const systemAgent = options.agentSocket === null ? null : new OpenSSHAgent(options.agentSocket);
    const agentKeys = systemAgent === null ? [] : await listAgentKeys(systemAgent, options);
    const files: FileKey[] = [];
    for (const file of options.identityFiles) {
      const key = await loadFileKey(file, options);
      if (key !== null) files.push(key);
    }

    const matched: Identity[] = [];
    const agentOnly: Identity[] = [];
    const claimed = new Set<FileKey>();
    for (const agentKey of agentKeys) {
      const blob = agentKey.getPublicSSH();
      const file = files.find((candidate) => !claimed.has(candidate) && candidate.publicKey?.getPublicSSH().equals(blob) === true);
      if (file !== undefined) {
        claimed.add(file);
        matched.push(identity(agentKey, true, file.file, null));
      } else if (!options.identitiesOnly) {
        agentOnly.push(identity(agentKey, true, null, null));
      }
    }
    const fileOnly = files
      .filter((file) => !claimed.has(file) && (file.publicKey !== null || file.privateKey !== null))
      // A bare .pub file can only be used through the agent.
      .filter((file) => file.privateKey !== null || !isPublicKeyFile(file))
      .map((file) => identity(file.publicKey ?? (file.privateKey as ParsedKey), false, file.file, file.privateKey));
    const identities = [...matched, ...agentOnly, ...fileOnly];
    for (const entry of identities) options.log(`will offer ${entry.description}`);
    return new IdentityAgent(identities, systemAgent, options);
  }

  get count(): number {
    return this.#identities.length;
  }

  override getIdentities(cb: (err: Error | undefined | null, keys?: ParsedKey[]) => void): void {
    cb(null, this.#identities.map((entry) => entry.publicKey));
  }

  override sign(pubKey: ParsedKey, data: Buffer, optionsOrCb: SigningRequestOptions | SignCallback, maybeCb?: SignCallback): void {
    const cb = typeof optionsOrCb === 'function' ? optionsOrCb : maybeCb;
    const options = typeof optionsOrCb === 'function' ? {} : optionsOrCb;
    if (cb === undefined) return;
    const entry = this.#find(pubKey);
    if (entry === undefined) {
      cb(new IdentityUnavailableError('Asked to sign with a key tsmosh did not offer.'));
      return;
    }
    this.#options.log(`server accepts ${entry.description}`);
    if (entry.inAgent && this.#systemAgent !== null) {
      this.#systemAgent.sign(entry.publicKey, data, options, cb);
      return;
    }
    this.#unlock(entry).then(
      (privateKey) => {
        if (privateKey === null) {
          cb(new IdentityUnavailableError(`Skipped the key ${entry.file ?? ''}: no passphrase.`));
          return;
        }
        const signature: Buffer | Error = privateKey.sign(data, options.hash);
        if (signature instanceof Error) cb(signature);
        else cb(null, signature);
      },
      (error: unknown) => cb(error instanceof Error ? error : new IdentityUnavailableError(String(error))),
    );
  }

  #find(pubKey: ParsedKey): Identity | undefined {
    const byObject = this.#identities.find((entry) => entry.publicKey === pubKey);
    if (byObject !== undefined) return byObject;
    const blob = pubKey.getPublicSSH();
    return this.#identities.find((entry) => entry.publicKey.getPublicSSH().equals(blob));
  }

  /** The private key, asking for its passphrase if it is encrypted; null when the user gave none. */
  async #unlock(entry: Identity): Promise<ParsedKey | null> {
    if (entry.privateKey !== null) return entry.privateKey;
    if (entry.givenUp || entry.file === null) return null;
    entry.privateKey = await unlockWithPassphrase(entry.file, readFileSync(entry.file), this.#options);
    entry.givenUp = entry.privateKey === null;
    return entry.privateKey;
  }
}

/** Asks for a key's passphrase (bounded tries; an empty answer skips the key, as in OpenSSH). */
async function unlockWithPassphrase(file: string, data: Buffer, options: IdentityAgentOptions): Promise<ParsedKey | null> {
  if (options.batchMode) return null;
  const question = `Enter passphrase for key '${file}': `;
  for (let attempt = 0; attempt < options.passphraseTries; attempt++) {
    const passphrase = await options.prompter.ask(question, { secret: true });
    if (passphrase === '') return null;
    const parsed = utils.parseKey(data, passphrase);
    if (!(parsed instanceof Error) && parsed.isPrivateKey()) return parsed;
    options.log(`bad passphrase for ${file}`);
  }
  return null;
}

function identity(publicKey: ParsedKey, inAgent: boolean, file: string | null, privateKey: ParsedKey | null): Identity {
  const where = inAgent ? (file === null ? 'agent key' : `agent key for ${file}`) : `key file ${file ?? ''}`;
  const description = `${where} (${keyTypeLabel(publicKey.type)} ${sha256Fingerprint(publicKey.getPublicSSH())})`;
  return { publicKey, description, inAgent, file, privateKey, givenUp: false };
}

function isPublicKeyFile(file: FileKey): boolean {
  return file.privateKey === null && file.file.endsWith('.pub');
}

function listAgentKeys(agent: InstanceType<typeof OpenSSHAgent>, options: IdentityAgentOptions): Promise<ParsedKey[]> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      options.log('ssh-agent did not answer; going on without it');
      resolve([]);
    }, options.agentTimeoutMs ?? DEFAULT_AGENT_TIMEOUT_MS);
    agent.getIdentities((error, keys) => {
      clearTimeout(timer);
      if (error) {
        options.log(`ssh-agent cannot be used: ${error.message}`);
        resolve([]);
        return;
      }
      const parsed: ParsedKey[] = [];
      for (const key of keys ?? []) {
        // OpenSSHAgent hands out parsed keys; the typings also allow wrapper entries, which it never uses.
        if ('pubKey' in key) continue;
        const one = utils.parseKey(key);
        if (!(one instanceof Error)) parsed.push(one);
      }
      options.log(`ssh-agent holds ${parsed.length} key(s)`);
      resolve(parsed);
    });
  });
}

/**
 * Reads what can be read of an identity without its passphrase: the whole key if unencrypted,
 * else the public key from `FILE.pub` or from the OpenSSH key file's unencrypted public section.
 * Only an encrypted PEM key without a `.pub` needs its passphrase at once.
 */
async function loadFileKey(file: string, options: IdentityAgentOptions): Promise<FileKey | null> {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (error) {
    if (options.identityFilesConfigured) options.prompter.tell(`Warning: identity file ${file} not accessible: ${(error as NodeJS.ErrnoException).code ?? 'error'}.`);
    return null;
  }
  const plain = utils.parseKey(data);
  if (!(plain instanceof Error)) {
    return plain.isPrivateKey() ? { file, publicKey: plain, privateKey: plain } : { file, publicKey: plain, privateKey: null };
  }
  const fromPub = readPublicKeyFile(`${file}.pub`) ?? publicKeyFromOpenSshFile(data);
  if (fromPub !== null) return { file, publicKey: fromPub, privateKey: null };
  if (!/ENCRYPTED/.test(data.toString('latin1', 0, Math.min(data.length, 512)))) {
    // The file exists but is no key tsmosh can read (OpenSSH says the same, whatever the settings).
    options.prompter.tell(`Load key "${file}": invalid format.`);
    options.log(`cannot read the key in ${file}: ${plain.message}`);
    return null;
  }
  // An old-style encrypted PEM key: its public half is encrypted too.
  const unlocked = await unlockWithPassphrase(file, data, options);
  return unlocked === null ? null : { file, publicKey: unlocked, privateKey: unlocked };
}

function readPublicKeyFile(path: string): ParsedKey | null {
  try {
    const parsed = utils.parseKey(readFileSync(path));
    return parsed instanceof Error ? null : parsed;
  } catch {
    return null;
  }
}

/** The first public key of an `openssh-key-v1` file, which is stored unencrypted. */
export function publicKeyFromOpenSshFile(data: Buffer): ParsedKey | null {
  const match = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(data.toString('latin1'));
  if (match === null) return null;
  const raw = Buffer.from((match[1] ?? '').replace(/\s+/g, ''), 'base64');
  const magic = 'openssh-key-v1\0';
  if (raw.toString('latin1', 0, magic.length) !== magic) return null;
  let pos = magic.length;
  const readString = (): Buffer | null => {
    if (pos + 4 > raw.length) return null;
    const length = raw.readUInt32BE(pos);
    if (pos + 4 + length > raw.length) return null;
    const value = raw.subarray(pos + 4, pos + 4 + length);
    pos += 4 + length;
    return value;
  };
  // cipher name, kdf name, kdf options
  for (let i = 0; i < 3; i++) if (readString() === null) return null;
  if (pos + 4 > raw.length || raw.readUInt32BE(pos) < 1) return null;
  pos += 4;
  const blob = readString();
  if (blob === null) return null;
  const parsed = utils.parseKey(blob);
  return parsed instanceof Error ? null : parsed;
}

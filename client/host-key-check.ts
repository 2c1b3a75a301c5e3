/**
 * The host key decision, as OpenSSH makes it: look the offered key up in the user's and the
 * global known_hosts files, then apply StrictHostKeyChecking. A known key passes; a revoked key
 * is refused; a changed key is refused with OpenSSH's warning naming the file and line (except
 * under `StrictHostKeyChecking no`, where OpenSSH carries on with key-only authentication); an
 * unknown key is refused (`yes`), added (`accept-new`, `no`) or asked about (`ask`).
 */
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RandomBytes } from '../protocol/clock.js';
import type { StrictHostKeyChecking } from './ssh-config.js';
import {
  type KnownHostEntry,
  blobKeyType,
  checkHostKey,
  formatKnownHostsLine,
  keyTypeLabel,
  knownKeyTypes,
  otherNamesForKey,
  parseKnownHosts,
  sha256Fingerprint,
} from './known-hosts.js';
import type { Prompter } from './tty-prompt.js';

export interface HostKeyCheckSettings {
  /** The name the host is recorded under: HostKeyAlias, or `host` / `[host]:port`. */
  readonly hostFileName: string;
  /** The first one receives new keys. */
  readonly userKnownHostsFiles: readonly string[];
  readonly globalKnownHostsFiles: readonly string[];
  readonly strict: StrictHostKeyChecking;
  readonly hashKnownHosts: boolean;
  /** No prompt may be shown. */
  readonly batchMode: boolean;
}

export interface HostKeyAcceptance {
  readonly keyType: string;
  readonly fingerprint: string;
  /**
   * The key differs from the recorded one and StrictHostKeyChecking is `no`: OpenSSH then allows
   * only key-based authentication, so that a man in the middle cannot collect a password.
   */
  readonly keyOnlyAuthentication: boolean;
}

export class HostKeyChangedError extends Error {
  override readonly name = 'HostKeyChangedError';
  constructor(
    readonly hostFileName: string,
    readonly file: string,
    readonly line: number,
    keyType: string,
  ) {
    super(`The ${keyTypeLabel(keyType)} host key for ${hostFileName} has changed (the recorded key is in ${file} line ${line}); refusing to connect.`);
  }
}

export class HostKeyRevokedError extends Error {
  override readonly name = 'HostKeyRevokedError';
  constructor(hostFileName: string, file: string, line: number, keyType: string) {
    super(`The ${keyTypeLabel(keyType)} host key for ${hostFileName} is marked as revoked in ${file} line ${line}; refusing to connect.`);
  }
}

export class HostKeyUnknownError extends Error {
  override readonly name = 'HostKeyUnknownError';
  constructor(hostFileName: string, keyType: string, reason: string) {
    super(`No ${keyTypeLabel(keyType)} host key is known for ${hostFileName} and ${reason}.`);
  }
}

export class HostKeyNotAcceptedError extends Error {
  override readonly name = 'HostKeyNotAcceptedError';
  constructor(hostFileName: string) {
    super(`Host key verification failed: the key of ${hostFileName} was not accepted.`);
  }
}

export class UnsupportedHostKeyError extends Error {
  override readonly name = 'UnsupportedHostKeyError';
  constructor(hostFileName: string) {
    super(`The host key offered by ${hostFileName} is not an SSH public key tsmosh can read.`);
  }
}

/** Wrong answers tolerated at the yes/no question before it counts as "no". */
export const MAX_HOST_KEY_QUESTIONS = 5;
const SALT_BYTES = 20;

/** ssh2's host key algorithm names for a known_hosts key type. */
const ALGORITHMS_FOR_TYPE: Readonly<Record<string, readonly string[]>> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};
/** ssh2's default order (ed25519 first). */
const DEFAULT_ALGORITHMS: readonly string[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

export class HostKeyCheck {
  readonly #settings: HostKeyCheckSettings;
  readonly #prompter: Prompter;
  readonly #random: RandomBytes;
  readonly #entries: KnownHostEntry[];

  constructor(settings: HostKeyCheckSettings, prompter: Prompter, random: RandomBytes = (n) => cryptoRandomBytes(n)) {
    this.#settings = settings;
    this.#prompter = prompter;
    this.#random = random;
    this.#entries = [...settings.userKnownHostsFiles, ...settings.globalKnownHostsFiles].flatMap(readEntries);
  }

  /**
   * Host key algorithms with the types already recorded for this host first, as OpenSSH orders
   * them; otherwise a host known only by its RSA key would be asked about its new ed25519 key.
   */
  preferredAlgorithms(): string[] {
    const preferred = knownKeyTypes(this.#entries, this.#settings.hostFileName).flatMap((type) => ALGORITHMS_FOR_TYPE[type] ?? []);
    return [...preferred, ...DEFAULT_ALGORITHMS.filter((algorithm) => !preferred.includes(algorithm))];
  }

  /** Resolves when the key may be used; rejects with one of the HostKey errors otherwise. */
  async verify(keyBlob: Buffer): Promise<HostKeyAcceptance> {
    const name = this.#settings.hostFileName;
    const keyType = blobKeyType(keyBlob);
    if (keyType === null) throw new UnsupportedHostKeyError(name);
    const fingerprint = sha256Fingerprint(keyBlob);
    const verdict = checkHostKey(this.#entries, name, keyBlob);
    switch (verdict.kind) {
      case 'known':
        return { keyType, fingerprint, keyOnlyAuthentication: false };
      case 'revoked':
        this.#prompter.tell(
          `@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n` +
            `@       WARNING: REVOKED HOST KEY DETECTED!               @\n` +
            `@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n` +
            `The ${keyTypeLabel(keyType)} host key for ${name} is marked as revoked.\n` +
            `This could mean that a stolen key is being used to impersonate this host.`,
        );
        throw new HostKeyRevokedError(name, verdict.entry.file, verdict.entry.line, keyType);
      case 'changed':
        this.#prompter.tell(changedWarning(name, keyType, fingerprint, verdict.entry, this.#settings.strict === 'no'));
        if (this.#settings.strict !== 'no') throw new HostKeyChangedError(name, verdict.entry.file, verdict.entry.line, keyType);
        return { keyType, fingerprint, keyOnlyAuthentication: true };
      case 'unknown':
        await this.#decideUnknown(keyBlob, keyType, fingerprint, verdict.otherTypes);
        return { keyType, fingerprint, keyOnlyAuthentication: false };
    }
  }

  async #decideUnknown(keyBlob: Buffer, keyType: string, fingerprint: string, otherTypes: readonly string[]): Promise<void> {
    const { hostFileName: name, strict, batchMode } = this.#settings;
    if (strict === 'yes') throw new HostKeyUnknownError(name, keyType, 'StrictHostKeyChecking is yes');
    if (strict === 'ask') {
      if (batchMode) throw new HostKeyUnknownError(name, keyType, 'BatchMode forbids asking');
      if (!(await this.#ask(keyBlob, keyType, fingerprint, otherTypes))) throw new HostKeyNotAcceptedError(name);
    }
    this.#record(keyBlob, keyType);
  }

  async #ask(keyBlob: Buffer, keyType: string, fingerprint: string, otherTypes: readonly string[]): Promise<boolean> {
    const name = this.#settings.hostFileName;
    const lines = [`The authenticity of host '${name}' can't be established.`, `${keyTypeLabel(keyType)} key fingerprint is ${fingerprint}.`];
    const others = otherNamesForKey(this.#entries, name, keyBlob);
    if (others.length === 0) {
      lines.push('This key is not known by any other names.');
    } else {
      lines.push('This host key is known by the following other names/addresses:');
      for (const entry of others.slice(0, 8)) lines.push(`    ${entry.file}:${entry.line}: ${entry.hostField.startsWith('|1|') ? '[hashed name]' : entry.hostField}`);
    }
    if (otherTypes.length > 0) lines.push(`Keys of other types (${otherTypes.map(keyTypeLabel).join(', ')}) are already known for this host.`);
    this.#prompter.tell(lines.join('\n'));
    let question = 'Are you sure you want to continue connecting (yes/no/[fingerprint])? ';
    for (let i = 0; i < MAX_HOST_KEY_QUESTIONS; i++) {
      const answer = (await this.#prompter.ask(question, { secret: false })).trim();
      if (/^yes$/i.test(answer) || answer === fingerprint) return true;
      if (/^no$/i.test(answer)) return false;
      question = "Please type 'yes', 'no' or the fingerprint: ";
    }
    return false;
  }

  /** Appends the key to the first user known_hosts file; a failure only costs a warning, as in OpenSSH. */
  #record(keyBlob: Buffer, keyType: string): void {
    const { hostFileName: name, userKnownHostsFiles, hashKnownHosts } = this.#settings;
    const file = userKnownHostsFiles[0];
    if (file === undefined) return;
    const line = formatKnownHostsLine(name, keyBlob, hashKnownHosts ? this.#random(SALT_BYTES) : null);
    try {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      appendFileSync(file, needsNewlineFirst(file) ? `\n${line}` : line);
      this.#prompter.tell(`Warning: Permanently added '${name}' (${keyTypeLabel(keyType)}) to the list of known hosts.`);
    } catch (error) {
      this.#prompter.tell(`Failed to add the host to the list of known hosts (${file}): ${(error as Error).message}.`);
    }
  }
}

function readEntries(file: string): KnownHostEntry[] {
  try {
    return parseKnownHosts(readFileSync(file, 'utf8'), file);
  } catch {
    // A missing or unreadable file holds no keys, as for OpenSSH.
    return [];
  }
}

function needsNewlineFirst(file: string): boolean {
  try {
    const text = readFileSync(file);
    return text.length > 0 && text[text.length - 1] !== 0x0a;
  } catch {
    return false;
  }
}

function changedWarning(name: string, keyType: string, fingerprint: string, entry: KnownHostEntry, proceeding: boolean): string {
  const label = keyTypeLabel(keyType);
  const lines = [
    '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
    '@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @',
    '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
    'IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!',
    'Someone could be eavesdropping on you right now (man-in-the-middle attack)!',
    'It is also possible that a host key has just been changed.',
    `The fingerprint for the ${label} key sent by the remote host is`,
    `${fingerprint}.`,
    'Please contact your system administrator.',
    `Add correct host key in ${entry.file} to get rid of this message.`,
    `Offending ${label} key in ${entry.file}:${entry.line}`,
    `  remove with:`,
    `  ssh-keygen -f "${entry.file}" -R "${name}"`,
  ];
  lines.push(
    proceeding
      ? 'Password and keyboard-interactive authentication are disabled to avoid man-in-the-middle attacks.'
      : `Host key for ${name} has changed and you have requested strict checking.`,
  );
  return lines.join('\n');
}

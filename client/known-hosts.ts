/**
 * known_hosts files as OpenSSH reads and writes them (sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT"):
 * `[@marker] patterns keytype base64-key [comment]`, where patterns are comma lists of globs with
 * `!negation` or one hashed name `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`. A host on port 22
 * is looked up as `host`, on any other port as `[host]:port`. Pure: files come in as text.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type KnownHostMarker = 'revoked' | 'cert-authority' | null;

export interface KnownHostEntry {
  readonly file: string;
  /** 1-based, as OpenSSH reports it. */
  readonly line: number;
  readonly marker: KnownHostMarker;
  /** The host patterns as written (a comma list, or one `|1|…` hash). */
  readonly hostField: string;
  /** The type named inside the key blob, e.g. `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`. */
  readonly keyType: string;
  readonly keyBlob: Buffer;
}

export type HostKeyVerdict =
  | { readonly kind: 'known'; readonly entry: KnownHostEntry }
  | { readonly kind: 'revoked'; readonly entry: KnownHostEntry }
  /** A key of the same type is recorded for the host, and it is a different key. */
  | { readonly kind: 'changed'; readonly entry: KnownHostEntry }
  | { readonly kind: 'unknown'; readonly otherTypes: readonly string[] };

const HASH_MAGIC = '|1|';
const SHA1_BYTES = 20;

/** Parses a known_hosts file; comments, blank and malformed lines are skipped, as OpenSSH does. */
export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const fields = (lines[i] ?? '').trim().split(/[ \t]+/);
    if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) continue;
    let marker: KnownHostMarker = null;
    if (fields[0].startsWith('@')) {
      const name = fields.shift();
      if (name === '@revoked') marker = 'revoked';
      else if (name === '@cert-authority') marker = 'cert-authority';
      else continue;
    }
    const [hostField, typeField, keyField] = fields;
    if (hostField === undefined || typeField === undefined || keyField === undefined) continue;
    const keyBlob = Buffer.from(keyField, 'base64');
    const keyType = blobKeyType(keyBlob);
    if (keyType === null || keyType !== typeField) continue;
    entries.push({ file, line: i + 1, marker, hostField, keyType, keyBlob });
  }
  return entries;
}

/** The type string an SSH public key blob starts with, or null if it is not a key blob. */
export function blobKeyType(blob: Buffer): string | null {
  if (blob.length < 4) return null;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || 4 + length > blob.length) return null;
  const type = blob.toString('latin1', 4, 4 + length);
  return /^[a-z0-9@.-]+$/.test(type) ? type : null;
}

/** The name a host is recorded under: `host` on port 22, `[host]:port` otherwise. */
export function hostFileName(host: string, port: number): string {
  const lower = host.toLowerCase();
  return port === 22 ? lower : `[${lower}]:${port}`;
}

/** Does a host field (patterns or a hash) name `name`? A matching `!pattern` excludes it. */
export function matchesHostField(hostField: string, name: string): boolean {
  if (hostField.startsWith(HASH_MAGIC)) return matchesHashed(hostField, name);
  const host = name.toLowerCase();
  let matched = false;
  for (const raw of hostField.split(',')) {
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).toLowerCase();
    if (!globMatch(pattern, host)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function matchesHashed(hostField: string, name: string): boolean {
  const parts = hostField.slice(HASH_MAGIC.length).split('|');
  if (parts.length !== 2) return false;
  const salt = Buffer.from(parts[0] ?? '', 'base64');
  const expected = Buffer.from(parts[1] ?? '', 'base64');
  if (salt.length !== SHA1_BYTES || expected.length !== SHA1_BYTES) return false;
  const actual = createHmac('sha1', salt).update(name.toLowerCase()).digest();
  return timingSafeEqual(actual, expected);
}

/**
 * ssh's glob: `*` any run, `?` one character, everything else literal. Brackets are literal too,
 * which is what makes `[host]:port` patterns work.
 */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    const char = pattern[p];
    if (char === '*') {
      starP = p++;
      starT = t;
    } else if (char !== undefined && (char === '?' || char === text[t])) {
      p++;
      t++;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/** What the known_hosts entries say about `keyBlob` offered by the host recorded as `name`. */
export function checkHostKey(entries: readonly KnownHostEntry[], name: string, keyBlob: Buffer): HostKeyVerdict {
  const keyType = blobKeyType(keyBlob);
  let known: KnownHostEntry | null = null;
  let changed: KnownHostEntry | null = null;
  const otherTypes = new Set<string>();
  for (const entry of entries) {
    if (entry.marker === 'cert-authority' || !matchesHostField(entry.hostField, name)) continue;
    const same = entry.keyBlob.equals(keyBlob);
    // A revoked key is refused whatever else the files say about it.
    if (entry.marker === 'revoked') {
      if (same) return { kind: 'revoked', entry };
      continue;
    }
    if (same) known ??= entry;
    else if (entry.keyType === keyType) changed ??= entry;
    else otherTypes.add(entry.keyType);
  }
  if (known !== null) return { kind: 'known', entry: known };
  if (changed !== null) return { kind: 'changed', entry: changed };
  return { kind: 'unknown', otherTypes: [...otherTypes] };
}

/** The key types recorded for `name` (not revoked), in file order: used to prefer them in the key exchange. */
export function knownKeyTypes(entries: readonly KnownHostEntry[], name: string): string[] {
  const types: string[] = [];
  for (const entry of entries) {
    if (entry.marker === null && !types.includes(entry.keyType) && matchesHostField(entry.hostField, name)) types.push(entry.keyType);
  }
  return types;
}

/** Entries that hold this very key under a name other than `name` (OpenSSH mentions them when asking). */
export function otherNamesForKey(entries: readonly KnownHostEntry[], name: string, keyBlob: Buffer): KnownHostEntry[] {
  return entries.filter((entry) => entry.marker === null && entry.keyBlob.equals(keyBlob) && !matchesHostField(entry.hostField, name));
}

/** `|1|salt|hash` for `name`; `salt` must be 20 random bytes. */
export function hashHostName(name: string, salt: Uint8Array): string {
  if (salt.length !== SHA1_BYTES) throw new RangeError(`a known_hosts salt is ${SHA1_BYTES} bytes`);
  const hash = createHmac('sha1', salt).update(name.toLowerCase()).digest('base64');
  return `${HASH_MAGIC}${Buffer.from(salt).toString('base64')}|${hash}`;
}

/** One known_hosts line (with its `\n`); hashed when a salt is given. */
export function formatKnownHostsLine(name: string, keyBlob: Buffer, salt: Uint8Array | null): string {
  const keyType = blobKeyType(keyBlob);
  if (keyType === null) throw new RangeError('not an SSH public key blob');
  const hostField = salt === null ? name.toLowerCase() : hashHostName(name, salt);
  return `${hostField} ${keyType} ${keyBlob.toString('base64')}\n`;
}

/** OpenSSH's fingerprint: `SHA256:` and the unpadded base64 of the blob's SHA-256. */
export function sha256Fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** How OpenSSH names a key type to people: ED25519, RSA, ECDSA, DSA. */
export function keyTypeLabel(keyType: string): string {
  if (keyType === 'ssh-ed25519') return 'ED25519';
  if (keyType === 'ssh-rsa') return 'RSA';
  if (keyType.startsWith('ecdsa-sha2-')) return 'ECDSA';
  if (keyType === 'ssh-dss') return 'DSA';
  return keyType;
}

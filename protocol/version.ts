/**
 * The tsmosh version, read from the package's own package.json. Both ends report it (--version),
 * and it names the build in a protocol-mismatch message.
 */
import { readFileSync } from 'node:fs';

let cachedVersion: string | undefined;

/**
 * The version in tsmosh's package.json, found relative to this module so that it works from the
 * sources (protocol/version.ts → ../package.json) and from the build (dist/protocol/version.js →
 * ../../package.json).
 */
export function packageVersion(): string {
  if (cachedVersion !== undefined) return cachedVersion;
  let dir = new URL('./', import.meta.url);
  for (let level = 0; level < 3; level++) {
    dir = new URL('../', dir);
    let text: string;
    try {
      text = readFileSync(new URL('package.json', dir), 'utf8');
    } catch {
      continue;
    }
    const manifest: unknown = JSON.parse(text);
    if (isTsmoshManifest(manifest)) {
      cachedVersion = manifest.version;
      return cachedVersion;
    }
  }
  throw new Error(`cannot find tsmosh's package.json above ${new URL('./', import.meta.url).pathname}`);
}

function isTsmoshManifest(value: unknown): value is { name: 'tsmosh'; version: string } {
  if (typeof value !== 'object' || value === null) return false;
  const manifest = value as { name?: unknown; version?: unknown };
  return manifest.name === 'tsmosh' && typeof manifest.version === 'string';
}

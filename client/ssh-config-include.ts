/**
 * `Include` for ssh_config, which the ssh-config package does not follow: each Include line is
 * replaced by the text of the files it names (glob patterns, lexical order, relative names under
 * `~/.ssh` or `/etc/ssh`), recursively.
 *
 * OpenSSH keeps the including file's Host/Match state across the include; textual inlining would
 * let a `Host` inside the included file swallow the lines after the Include, so the enclosing
 * section header (or `Host *` at top level) is repeated after any included text that opened a section.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { expandTilde } from './ssh-config-tokens.js';

/** OpenSSH's READCONF_MAX_DEPTH. */
export const MAX_INCLUDE_DEPTH = 16;

export class ConfigIncludeError extends Error {
  override readonly name = 'ConfigIncludeError';
}

export interface IncludeContext {
  readonly home: string;
  /** Where relative Include names live: `~/.ssh` for the user's file, `/etc/ssh` for the system one. */
  readonly baseDir: string;
}

const INCLUDE_LINE = /^\s*include(?:\s*=\s*|\s+)(.*)$/i;
const SECTION_LINE = /^\s*(?:host|match)(?:\s*=\s*|\s+)/i;

/** Returns `text` with every Include replaced by what it includes. */
export function expandIncludes(text: string, context: IncludeContext, depth = 0): string {
  if (depth > MAX_INCLUDE_DEPTH) {
    throw new ConfigIncludeError(`The ssh configuration includes files more than ${MAX_INCLUDE_DEPTH} levels deep (a loop?).`);
  }
  const out: string[] = [];
  let header = 'Host *';
  for (const line of text.split(/\r?\n/)) {
    if (SECTION_LINE.test(line)) {
      header = line.trim();
      out.push(line);
      continue;
    }
    const include = INCLUDE_LINE.exec(line);
    if (include === null) {
      out.push(line);
      continue;
    }
    let openedSection = false;
    for (const pattern of splitArguments(include[1] ?? '')) {
      const expanded = expandTilde(pattern, context.home, 'Include');
      const absolute = isAbsolute(expanded) ? expanded : join(context.baseDir, expanded);
      for (const file of globFiles(absolute)) {
        const included = expandIncludes(readConfigFile(file), context, depth + 1);
        out.push(`# Include ${file}`, included);
        if (included.split(/\r?\n/).some((l) => SECTION_LINE.test(l))) openedSection = true;
      }
    }
    if (openedSection) out.push(header);
  }
  return out.join('\n');
}

function readConfigFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigIncludeError(`Cannot read the included ssh configuration file ${path}: ${(error as Error).message}.`);
  }
}

/** Splits an argument list on blanks, honouring double quotes. */
export function splitArguments(text: string): string[] {
  const args: string[] = [];
  const pattern = /"([^"]*)"|(\S+)/g;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    args.push(match[1] ?? match[2] ?? '');
  }
  return args;
}

/** The regular files an absolute glob pattern (`*`, `?`, `[...]` in any component) names, in lexical order. */
export function globFiles(pattern: string): string[] {
  const parts = pattern.split('/').filter((part) => part !== '');
  let candidates = ['/'];
  for (const part of parts) {
    const next: string[] = [];
    for (const dir of candidates) {
      if (!/[*?[]/.test(part)) {
        next.push(join(dir, part));
        continue;
      }
      const matcher = globComponent(part);
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const name of names.sort()) {
        // As in glob(3), a wildcard does not match a leading dot.
        if (name.startsWith('.') && !part.startsWith('.')) continue;
        if (matcher.test(name)) next.push(join(dir, name));
      }
    }
    candidates = next;
  }
  return candidates.filter(isFile).sort();
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function globComponent(part: string): RegExp {
  let source = '';
  for (let i = 0; i < part.length; i++) {
    const char = part[i] ?? '';
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else if (char === '[') {
      const close = part.indexOf(']', i + 2);
      if (close < 0) {
        source += '\\[';
        continue;
      }
      let set = part.slice(i + 1, close);
      if (set.startsWith('!')) set = `^${set.slice(1)}`;
      source += `[${set.replace(/\\/g, '\\\\')}]`;
      i = close;
    } else source += char.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

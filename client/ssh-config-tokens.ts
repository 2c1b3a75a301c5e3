/**
 * The expansions ssh_config(5) applies to file names and some values, which the ssh-config package
 * leaves to us: `~` (home directory), `${VAR}` (environment) and the `%` tokens (TOKENS section).
 */
import { createHash } from 'node:crypto';

/** Token letter → value, e.g. `{ h: 'example.com', p: '22' }`. `%%` is always a literal `%`. */
export type TokenValues = Readonly<Record<string, string>>;

export class ConfigExpansionError extends Error {
  override readonly name = 'ConfigExpansionError';
}

/** Replaces `%X` tokens; an unknown token or a lone `%` at the end is an error, as in OpenSSH. */
export function expandTokens(text: string, values: TokenValues, directive: string): string {
  if (!text.includes('%')) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char !== '%') {
      out += char;
      continue;
    }
    const letter = text[++i];
    if (letter === '%') {
      out += '%';
      continue;
    }
    const value = letter === undefined ? undefined : values[letter];
    if (value === undefined) {
      const what = letter === undefined ? 'a "%" at the end' : `the unknown token %${letter}`;
      throw new ConfigExpansionError(`${directive} "${text}" has ${what}.`);
    }
    out += value;
  }
  return out;
}

/** Replaces `${NAME}` with the variable's value; an unset variable is an error, as in OpenSSH. */
export function expandEnvironment(text: string, env: Readonly<Record<string, string | undefined>>, directive: string): string {
  if (!text.includes('${')) return text;
  return text.replace(/\$\{([^}]*)\}/g, (_match, name: string) => {
    const value = env[name];
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || value === undefined) {
      throw new ConfigExpansionError(`${directive} "${text}" uses the environment variable "${name}", which is not set.`);
    }
    return value;
  });
}

/** Expands a leading `~` or `~/` to `home`. `~otheruser` is not supported and is an error. */
export function expandTilde(path: string, home: string, directive: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return home + path.slice(1);
  if (path.startsWith('~')) throw new ConfigExpansionError(`${directive} "${path}" names another user's home, which tsmosh does not expand.`);
  return path;
}

/** `~`, then `${VAR}` and `%` tokens: the order OpenSSH applies to IdentityFile and UserKnownHostsFile. */
export function expandPath(
  path: string,
  values: TokenValues,
  env: Readonly<Record<string, string | undefined>>,
  home: string,
  directive: string,
): string {
  return expandTokens(expandEnvironment(expandTilde(path, home, directive), env, directive), values, directive);
}

/**
 * `%C`: the SHA-1 (hex) of local host name, remote host, port and remote user, as OpenSSH 9.2 (Debian 12)
 * computes it; later releases append the ProxyJump value, which this follows when `proxyJump` is given.
 */
export function connectionHash(localHost: string, host: string, port: string, user: string, proxyJump = ''): string {
  return createHash('sha1').update(localHost + host + port + user + proxyJump).digest('hex');
}

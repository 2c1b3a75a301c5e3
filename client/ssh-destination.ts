/**
 * The ways OpenSSH lets a user name a host: `[user@]host`, `ssh://[user@]host[:port]`, and in
 * ProxyJump a comma list of `[user@]host[:port]` (IPv6 in brackets) or `ssh://` URIs.
 */

export interface SshEndpoint {
  readonly user?: string;
  /** As typed (an alias, a name or an address); brackets around an IPv6 address are removed. */
  readonly host: string;
  readonly port?: number;
}

export class BadDestinationError extends Error {
  override readonly name = 'BadDestinationError';
}

const URI_PREFIX = 'ssh://';
// Whitespace and control characters can only be mistakes or an attempt to smuggle something into a config line.
const FORBIDDEN = /[\s\x00-\x1f\x7f]/;

/** Parses the destination argument: `[user@]host` or `ssh://[user@]host[:port]`. */
export function parseDestination(text: string): SshEndpoint {
  if (text.startsWith(URI_PREFIX)) return parseUri(text);
  const at = text.lastIndexOf('@');
  const user = at >= 0 ? text.slice(0, at) : undefined;
  const host = unbracket(at >= 0 ? text.slice(at + 1) : text);
  return endpoint(text, user, host, undefined);
}

/** Parses a ProxyJump value. `none` means no jump host. */
export function parseJumpHosts(text: string): SshEndpoint[] {
  const trimmed = text.trim();
  if (trimmed.toLowerCase() === 'none') return [];
  return trimmed.split(',').map((part) => parseJumpHost(part.trim()));
}

function parseJumpHost(text: string): SshEndpoint {
  if (text.startsWith(URI_PREFIX)) return parseUri(text);
  const at = text.lastIndexOf('@');
  const user = at >= 0 ? text.slice(0, at) : undefined;
  const { host, port } = splitHostPort(text, at >= 0 ? text.slice(at + 1) : text);
  return endpoint(text, user, host, port);
}

function parseUri(text: string): SshEndpoint {
  const rest = text.slice(URI_PREFIX.length).replace(/\/$/, '');
  if (rest.includes('/')) throw new BadDestinationError(`The destination "${text}" has a path, which ssh:// destinations cannot have.`);
  const at = rest.lastIndexOf('@');
  // OpenSSH allows `user;params@host` and ignores the params.
  const user = at >= 0 ? (rest.slice(0, at).split(';')[0] ?? '') : undefined;
  const { host, port } = splitHostPort(text, at >= 0 ? rest.slice(at + 1) : rest);
  return endpoint(text, user === undefined ? undefined : decodeURIComponent(user), host, port);
}

function splitHostPort(original: string, text: string): { host: string; port: string | undefined } {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) throw new BadDestinationError(`The destination "${original}" has an unclosed "[".`);
    const after = text.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) throw new BadDestinationError(`The destination "${original}" has text after "]".`);
    return { host: text.slice(1, close), port: after === '' ? undefined : after.slice(1) };
  }
  const colon = text.indexOf(':');
  if (colon < 0) return { host: text, port: undefined };
  if (text.indexOf(':', colon + 1) >= 0) {
    throw new BadDestinationError(`The destination "${original}" is ambiguous: put an IPv6 address in brackets, as in [::1]:22.`);
  }
  return { host: text.slice(0, colon), port: text.slice(colon + 1) };
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function endpoint(original: string, user: string | undefined, host: string, portText: string | undefined): SshEndpoint {
  if (host === '' || FORBIDDEN.test(host) || host.startsWith('-')) {
    throw new BadDestinationError(`"${printable(original)}" is not a valid host to connect to.`);
  }
  if (user !== undefined && (user === '' || FORBIDDEN.test(user))) {
    throw new BadDestinationError(`"${printable(original)}" does not name a valid user.`);
  }
  let port: number | undefined;
  if (portText !== undefined) {
    port = Number(portText);
    if (!/^[0-9]{1,5}$/.test(portText) || port < 1 || port > 65535) {
      throw new BadDestinationError(`"${printable(original)}" has a bad port: ports are 1 to 65535.`);
    }
  }
  return { ...(user === undefined ? {} : { user }), host, ...(port === undefined ? {} : { port }) };
}

function printable(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, '?');
}

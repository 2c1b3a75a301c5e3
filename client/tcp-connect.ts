/**
 * The TCP connection SSH runs over, opened by us rather than by ssh2 so that we know the exact
 * address it reached: that address, not a fresh DNS lookup, is where the UDP session goes (mosh
 * learns it the same way, through its fake ProxyCommand). Like OpenSSH, each resolved address is
 * tried in turn, each within ConnectTimeout.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { Socket, isIP } from 'node:net';
import type { AddressFamily } from './ssh-config.js';
import { ConnectionFailedError, ConnectionRefusedError, ConnectionTimedOutError, NameNotResolvedError } from './ssh-errors.js';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Name → addresses; injectable so tests need no DNS. */
export type AddressLookup = (host: string, family: AddressFamily) => Promise<ResolvedAddress[]>;

export const defaultLookup: AddressLookup = async (host, family) => {
  const results = await dnsLookup(host, { all: true, verbatim: true, family: familyNumber(family) });
  return results.map(({ address, family: f }) => ({ address, family: f === 6 ? 6 : 4 }));
};

export interface TcpConnection {
  readonly socket: Socket;
  /** The numeric address the connection reached. */
  readonly address: string;
}

function familyNumber(family: AddressFamily): 0 | 4 | 6 {
  return family === 'inet' ? 4 : family === 'inet6' ? 6 : 0;
}

/** Resolves `host` (unless numeric) for the family; NameNotResolvedError when it has no address. */
export async function resolveHost(host: string, family: AddressFamily, lookup: AddressLookup = defaultLookup): Promise<ResolvedAddress[]> {
  const numeric = isIP(host);
  if (numeric !== 0) {
    if (familyNumber(family) !== 0 && familyNumber(family) !== numeric) throw new NameNotResolvedError(host, familyName(family));
    return [{ address: host, family: numeric === 6 ? 6 : 4 }];
  }
  let addresses: ResolvedAddress[];
  try {
    addresses = await lookup(host, family);
  } catch {
    throw new NameNotResolvedError(host, familyName(family));
  }
  if (addresses.length === 0) throw new NameNotResolvedError(host, familyName(family));
  return addresses;
}

function familyName(family: AddressFamily): string | undefined {
  return family === 'inet' ? 'IPv4' : family === 'inet6' ? 'IPv6' : undefined;
}

/** Connects to the first address of `host` that answers; the error is the last address's, as OpenSSH reports it. */
export async function connectTcp(
  host: string,
  port: number,
  family: AddressFamily,
  timeoutMs: number,
  lookup: AddressLookup = defaultLookup,
): Promise<TcpConnection> {
  const addresses = await resolveHost(host, family, lookup);
  let lastError: Error = new ConnectionFailedError(host, port, 'no address to try');
  for (const { address } of addresses) {
    try {
      return { socket: await connectOne(address, port, timeoutMs), address };
    } catch (error) {
      lastError = describe(error, host, port, timeoutMs);
    }
  }
  throw lastError;
}

class TimeoutMarker extends Error {}

function connectOne(address: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new TimeoutMarker());
    }, timeoutMs);
    socket.once('error', (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
    socket.connect({ host: address, port }, () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

function describe(error: unknown, host: string, port: number, timeoutMs: number): Error {
  if (error instanceof TimeoutMarker) return new ConnectionTimedOutError(host, port, timeoutMs);
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return new ConnectionRefusedError(host, port);
  if (code === 'ETIMEDOUT') return new ConnectionTimedOutError(host, port, timeoutMs);
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return new ConnectionFailedError(host, port, 'no route to host');
  return new ConnectionFailedError(host, port, (error as Error).message);
}

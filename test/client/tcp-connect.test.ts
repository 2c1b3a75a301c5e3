import { type Server, createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionRefusedError, NameNotResolvedError } from '../../client/ssh-errors.js';
import { type AddressLookup, connectTcp, resolveHost } from '../../client/tcp-connect.js';

describe('resolveHost', () => {
  const lookup: AddressLookup = async (host) => {
    if (host === 'two.test') return [{ address: '192.0.2.1', family: 4 }, { address: '2001:db8::1', family: 6 }];
    if (host === 'empty.test') return [];
    throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
  };

  it('passes numeric addresses through without a lookup', async () => {
    expect(await resolveHost('127.0.0.1', 'any', lookup)).toEqual([{ address: '127.0.0.1', family: 4 }]);
    expect(await resolveHost('::1', 'inet6', lookup)).toEqual([{ address: '::1', family: 6 }]);
  });

  it('refuses a numeric address of the wrong family', async () => {
    await expect(resolveHost('127.0.0.1', 'inet6', lookup)).rejects.toThrow(new NameNotResolvedError('127.0.0.1', 'IPv6'));
    await expect(resolveHost('127.0.0.1', 'inet6', lookup)).rejects.toThrow('Could not resolve the host name "127.0.0.1" to an IPv6 address.');
  });

  it('returns every address, and names the host when there is none', async () => {
    expect(await resolveHost('two.test', 'any', lookup)).toHaveLength(2);
    await expect(resolveHost('empty.test', 'any', lookup)).rejects.toThrow('Could not resolve the host name "empty.test".');
    await expect(resolveHost('nope.test', 'any', lookup)).rejects.toThrow('Could not resolve the host name "nope.test".');
  });
});

describe('connectTcp', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    port = typeof address === 'object' && address !== null ? address.port : 0;
  });

  afterAll(() => {
    server.close();
  });

  it('tries each address in turn and reports the one it reached', async () => {
    // Nothing listens on 127.0.0.2 (all of 127/8 is loopback), so the first address is refused.
    const lookup: AddressLookup = async () => [
      { address: '127.0.0.2', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ];
    const connection = await connectTcp('box.test', port, 'any', 2000, lookup);
    expect(connection.address).toBe('127.0.0.1');
    connection.socket.destroy();
  });

  it('reports the last failure in one sentence', async () => {
    const lookup: AddressLookup = async () => [{ address: '127.0.0.2', family: 4 }];
    await expect(connectTcp('box.test', port, 'any', 2000, lookup)).rejects.toThrow(new ConnectionRefusedError('box.test', port));
  });
});

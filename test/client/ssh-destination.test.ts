import { describe, expect, it } from 'vitest';
import { BadDestinationError, parseDestination, parseJumpHosts } from '../../client/ssh-destination.js';

describe('parseDestination', () => {
  it.each([
    ['host', { host: 'host' }],
    ['alice@host', { user: 'alice', host: 'host' }],
    ['alice@example.com@host', { user: 'alice@example.com', host: 'host' }],
    ['alice@[::1]', { user: 'alice', host: '::1' }],
    ['::1', { host: '::1' }],
    ['ssh://host', { host: 'host' }],
    ['ssh://alice@host:2222', { user: 'alice', host: 'host', port: 2222 }],
    ['ssh://alice;fingerprint=x@[2001:db8::1]:22/', { user: 'alice', host: '2001:db8::1', port: 22 }],
    ['ssh://al%40ice@host', { user: 'al@ice', host: 'host' }],
  ])('%s', (text, expected) => {
    expect(parseDestination(text)).toEqual(expected);
  });

  it.each([
    ['', /not a valid host/],
    ['@host', /does not name a valid user/],
    ['alice@', /not a valid host/],
    ['-oProxyCommand=x', /not a valid host/],
    ['host name', /not a valid host/],
    ['ho\nst', /"ho\?st" is not a valid host/],
    ['ssh://host:0', /bad port/],
    ['ssh://host:99999', /bad port/],
    ['ssh://host/path', /has a path/],
    ['ssh://[::1', /unclosed/],
  ])('refuses %j', (text, message) => {
    expect(() => parseDestination(text)).toThrow(BadDestinationError);
    expect(() => parseDestination(text)).toThrow(message);
  });
});

describe('parseJumpHosts', () => {
  it('reads a comma list of [user@]host[:port] and URIs', () => {
    expect(parseJumpHosts('a, bob@b:2222,[::1]:23,ssh://c@d:24')).toEqual([
      { host: 'a' },
      { user: 'bob', host: 'b', port: 2222 },
      { host: '::1', port: 23 },
      { user: 'c', host: 'd', port: 24 },
    ]);
  });

  it('treats none as no jump host', () => {
    expect(parseJumpHosts('none')).toEqual([]);
    expect(parseJumpHosts(' NONE ')).toEqual([]);
  });

  it('refuses an unbracketed IPv6 address and bad ports', () => {
    expect(() => parseJumpHosts('::1')).toThrow(/ambiguous/);
    expect(() => parseJumpHosts('host:x')).toThrow(/bad port/);
    expect(() => parseJumpHosts('a,,b')).toThrow(BadDestinationError);
  });
});

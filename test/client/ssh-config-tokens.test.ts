import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigExpansionError, connectionHash, expandEnvironment, expandPath, expandTilde, expandTokens } from '../../client/ssh-config-tokens.js';

describe('expandTokens', () => {
  const values = { h: 'example.com', p: '2222', r: 'alice', d: '/home/me' };

  it('replaces known tokens and %%', () => {
    expect(expandTokens('%d/.ssh/id_%r@%h:%p', values, 'IdentityFile')).toBe('/home/me/.ssh/id_alice@example.com:2222');
    expect(expandTokens('100%% %h', values, 'IdentityFile')).toBe('100% example.com');
  });

  it('refuses unknown tokens and a trailing %', () => {
    expect(() => expandTokens('%z', values, 'IdentityFile')).toThrow(new ConfigExpansionError('IdentityFile "%z" has the unknown token %z.'));
    expect(() => expandTokens('abc%', values, 'IdentityFile')).toThrow(/a "%" at the end/);
  });

  it('leaves text without % alone and never re-expands what it inserted', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (text) => {
        const safe = text.replaceAll('%', '%%');
        expect(expandTokens(safe, { h: '%h%p' }, 'X')).toBe(text);
      }),
      { seed: 1, numRuns: 200 },
    );
    expect(expandTokens('%h', { h: '%p' }, 'X')).toBe('%p');
  });
});

describe('expandEnvironment and expandTilde', () => {
  it('expands ${VAR} and refuses unset ones', () => {
    expect(expandEnvironment('${HOME}/x', { HOME: '/h' }, 'IdentityFile')).toBe('/h/x');
    expect(() => expandEnvironment('${NOPE}/x', {}, 'IdentityFile')).toThrow(/"NOPE", which is not set/);
  });

  it('expands ~ and ~/ only', () => {
    expect(expandTilde('~', '/h', 'X')).toBe('/h');
    expect(expandTilde('~/a', '/h', 'X')).toBe('/h/a');
    expect(expandTilde('/a/~', '/h', 'X')).toBe('/a/~');
    expect(() => expandTilde('~bob/a', '/h', 'X')).toThrow(ConfigExpansionError);
  });

  it('applies ~, then variables and tokens', () => {
    expect(expandPath('~/${SUB}/%h', { h: 'host' }, { SUB: 'keys' }, '/h', 'IdentityFile')).toBe('/h/keys/host');
  });
});

describe('connectionHash', () => {
  it('is the SHA-1 of l, h, p, r, as OpenSSH 9.2 computes %C', () => {
    // printf '%s' 'localremote22user' | sha1sum
    expect(connectionHash('local', 'remote', '22', 'user')).toBe('e20e009948cb30c2fde1cfc544dda52eb455b1bf');
  });
});

import { inspect, format } from 'node:util';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { MalformedKeyError, SESSION_KEY_BYTES, SESSION_KEY_TEXT_LENGTH, SessionKey, sodiumReady } from '../../protocol/session-key.js';

const SEED = 20240601;
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

beforeAll(async () => {
  await sodiumReady();
});

describe('SessionKey', () => {
  it('generates 256 random bits printed as 43 base64 characters without padding', () => {
    const key = SessionKey.generate();
    expect(key.bytes).toHaveLength(SESSION_KEY_BYTES);
    const text = key.toString();
    expect(text).toHaveLength(SESSION_KEY_TEXT_LENGTH);
    expect(text).toMatch(/^[A-Za-z0-9+/]{43}$/);
    expect(Buffer.from(text, 'base64').equals(Buffer.from(key.bytes))).toBe(true);
  });

  it('generates a different key each time', () => {
    const texts = new Set(Array.from({ length: 20 }, () => SessionKey.generate().toString()));
    expect(texts.size).toBe(20);
  });

  it('uses injected randomness when given', () => {
    const key = SessionKey.generate((n) => new Uint8Array(n).fill(0xab));
    expect([...key.bytes]).toEqual(new Array(32).fill(0xab));
    expect(() => SessionKey.generate((n) => new Uint8Array(n - 1))).toThrow(RangeError);
  });

  it('round-trips every key through its printable form', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        const key = SessionKey.fromBytes(bytes);
        const parsed = SessionKey.parse(key.toString());
        expect(parsed.equals(key)).toBe(true);
        expect([...parsed.bytes]).toEqual([...bytes]);
        expect(parsed.toString()).toBe(key.toString());
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('accepts a 43-character base64 string only if it round-trips exactly', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...BASE64), minLength: 43, maxLength: 43 }), (text) => {
        let parsed: SessionKey | undefined;
        try {
          parsed = SessionKey.parse(text);
        } catch (error) {
          expect(error).toBeInstanceOf(MalformedKeyError);
        }
        // The last character carries 2 spare bits that must be zero: 16 of 64 characters are valid there.
        const canonical = 'AEIMQUYcgkosw048'.includes(text.at(-1)!);
        expect(parsed !== undefined).toBe(canonical);
        if (parsed) expect(parsed.toString()).toBe(text);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it.each([
    ['empty', ''],
    ['too short', 'A'.repeat(42)],
    ['too long', 'A'.repeat(44)],
    ['padded', `${'A'.repeat(43)}=`],
    ['padded to 44', `${'A'.repeat(42)}=`],
    ['url-safe alphabet', `${'A'.repeat(41)}-A`],
    ['url-safe underscore', `_${'A'.repeat(42)}`],
    ['whitespace', ` ${'A'.repeat(42)}`],
    ['trailing newline', `${'A'.repeat(43)}\n`],
    ['non-zero spare bits', `${'A'.repeat(42)}B`],
    ['non-ASCII', `${'A'.repeat(42)}é`],
  ])('refuses a %s key with a plain message that does not quote it', (_name, text) => {
    let caught: unknown;
    try {
      SessionKey.parse(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MalformedKeyError);
    const message = (caught as Error).message;
    expect(message).toMatch(/^The session key is malformed: /);
    if (text.length > 2) expect(message).not.toContain(text.trim());
  });

  it('refuses raw bytes of the wrong length', () => {
    expect(() => SessionKey.fromBytes(new Uint8Array(31))).toThrow(MalformedKeyError);
    expect(() => SessionKey.fromBytes(new Uint8Array(33))).toThrow(MalformedKeyError);
  });

  it('copies raw bytes so that later changes to the source do not change the key', () => {
    const source = new Uint8Array(32).fill(1);
    const key = SessionKey.fromBytes(source);
    source.fill(2);
    expect(key.bytes[0]).toBe(1);
  });

  it('never shows the key in JSON, inspect or format; only toString gives the text', () => {
    const key = SessionKey.generate();
    const text = key.toString();
    const outputs = [
      JSON.stringify(key),
      JSON.stringify({ key }),
      inspect(key),
      inspect({ nested: { key } }, { depth: 5, showHidden: true }),
      format('%o %O %j %s', key, key, key, { key }),
      Object.keys(key).join(','),
    ];
    for (const output of outputs) expect(output).not.toContain(text);
    expect(JSON.stringify(key)).toBe('"SessionKey(<redacted>)"');
    expect(inspect(key)).toBe('SessionKey(<redacted>)');
    expect(`${key}`).toBe(text);
    expect(String(key)).toBe(text);
  });

  it('compares keys by value', () => {
    const a = SessionKey.fromBytes(new Uint8Array(32).fill(7));
    const b = SessionKey.fromBytes(new Uint8Array(32).fill(7));
    const bytes = new Uint8Array(32).fill(7);
    bytes[31] = 8;
    expect(a.equals(b)).toBe(true);
    expect(a.equals(SessionKey.fromBytes(bytes))).toBe(false);
  });
});

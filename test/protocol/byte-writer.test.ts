import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteReader } from '../../protocol/byte-reader.js';
import { ByteWriter, wtf8Length } from '../../protocol/byte-writer.js';

const SEED = 4242;

describe('ByteWriter', () => {
  it('writes varints as LEB128 and reads them back, up to 2^53 - 1', () => {
    const w = new ByteWriter(16);
    w.varint(0);
    w.varint(127);
    w.varint(128);
    w.varint(300);
    expect(Array.from(w.view())).toEqual([0, 127, 0x80, 0x01, 0xac, 0x02]);
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.nat(200), fc.nat(), fc.maxSafeNat())), (values) => {
        const writer = new ByteWriter(16);
        for (const v of values) writer.varint(v);
        const r = new ByteReader(writer.toBytes());
        for (const v of values) expect(r.varint()).toBe(v);
        expect(r.atEnd).toBe(true);
      }),
      { seed: SEED },
    );
  });

  it('refuses to write what is not a varint', () => {
    const w = new ByteWriter();
    for (const bad of [-1, 1.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => w.varint(bad)).toThrow(RangeError);
  });

  it('writes any JavaScript string as WTF-8 and reads it back exactly, lone surrogates included', () => {
    const anyUnits = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 50 });
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'grapheme' }), anyUnits), (s) => {
        const w = new ByteWriter(16);
        w.string(s);
        const r = new ByteReader(w.toBytes());
        expect(r.string(1000)).toBe(s);
        expect(r.atEnd).toBe(true);
        // Well-formed text is plain UTF-8, byte for byte.
        const wellFormed = Buffer.from(s, 'utf8').toString('utf8') === s;
        if (wellFormed) expect(Buffer.from(w.view(w.length - wtf8Length(s))).toString('utf8')).toBe(s);
      }),
      { seed: SEED + 1 },
    );
  });

  it('grows, truncates, and hands out views and copies', () => {
    const w = new ByteWriter(16);
    for (let i = 0; i < 1000; i++) w.u8(i & 0xff);
    expect(w.length).toBe(1000);
    const copy = w.toBytes(10, 20);
    w.truncate(5);
    expect(w.length).toBe(5);
    w.bytes(new Uint8Array([9, 9]));
    expect(Array.from(w.view())).toEqual([0, 1, 2, 3, 4, 9, 9]);
    expect(Array.from(copy)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(() => w.truncate(8)).toThrow(RangeError);
    w.reset();
    expect(w.length).toBe(0);
  });

  it('reads long strings in chunks', () => {
    const s = 'é'.repeat(10_000) + '😀'.repeat(3000);
    const w = new ByteWriter();
    w.string(s);
    expect(new ByteReader(w.toBytes()).string(s.length)).toBe(s);
  });
});

describe('ByteReader', () => {
  class MyError extends Error {}

  const rejects = (bytes: number[], read: (r: ByteReader) => unknown): void => {
    expect(() => read(new ByteReader(new Uint8Array(bytes), MyError))).toThrow(MyError);
  };

  it('throws the caller error class on a read past the end', () => {
    rejects([], (r) => r.u8());
    rejects([0x80], (r) => r.varint());
    rejects([1, 2], (r) => r.bytes(3));
    rejects([1, 2], (r) => r.skip(3));
  });

  it('bounds varints by length and by the caller limit', () => {
    rejects([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], (r) => r.varint());
    rejects([0x80, 0x01], (r) => r.varint(127));
    rejects([0x05], (r) => r.varint(4));
    expect(new ByteReader(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f])).varint()).toBe(Number.MAX_SAFE_INTEGER);
    rejects([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x10], (r) => r.varint());
  });

  it('checks a string length against the limit and the bytes present before decoding', () => {
    rejects([100, 0x61], (r) => r.string(1000));
    rejects([4, 0x61, 0x62, 0x63, 0x64], (r) => r.string(3));
    rejects([0xff, 0xff, 0xff, 0x7f], (r) => r.string(1 << 20));
  });

  it('rejects malformed UTF-8', () => {
    for (const bad of [[0x80], [0xc1, 0x81], [0xe0, 0x9f, 0x80], [0xf0, 0x8f, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf8], [0xe2, 0x82], [0xc3, 0x41]]) {
      rejects([bad.length, ...bad], (r) => r.string(100));
    }
    // A sequence running past the end of its string is cut, even if more bytes follow.
    rejects([1, 0xc3, 0xa9], (r) => r.string(100));
  });

  it('counts code units against the limit', () => {
    const w = new ByteWriter();
    w.string('😀😀');
    expect(new ByteReader(w.toBytes()).string(4)).toBe('😀😀');
    expect(() => new ByteReader(w.toBytes(), MyError).string(3)).toThrow(MyError);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DATAGRAM_OVERHEAD } from '../../protocol/datagram.js';
import {
  FRAGMENT_HEADER_BYTES,
  FragmentAssembly,
  Fragmenter,
  MAX_FRAGMENTS_ON_WIRE,
  MessageTooLargeError,
  applicationMtu,
  maxFragmentBytes,
  maxFragmentPayload,
} from '../../protocol/fragmenter.js';
import { seededRandom, type Random } from '../support/seeded-random.js';

const SEED = 1252;

function shuffle<T>(items: T[], random: Random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Each fragment 1–3 times, all shuffled. */
function duplicateAndShuffle(fragments: Uint8Array[], random: Random): Uint8Array[] {
  const copies = fragments.flatMap((f) => Array.from({ length: 1 + Math.floor(random() * 3) }, () => f));
  return shuffle(copies, random);
}

function header(id: number, index: number, final: boolean, body: number[] = [1]): Uint8Array {
  const flags = (final ? 0x8000 : 0) | index;
  return Uint8Array.of(id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff, flags >>> 8, flags & 0xff, ...body);
}

describe('MTU math', () => {
  it('uses 1280-byte IP packets, minus IP/UDP headers, datagram overhead and fragment header', () => {
    expect(applicationMtu('IPv4')).toBe(1252);
    expect(applicationMtu('IPv6')).toBe(1216);
    expect(DATAGRAM_OVERHEAD).toBe(28);
    expect(maxFragmentPayload('IPv4')).toBe(1252 - 28 - FRAGMENT_HEADER_BYTES);
    expect(maxFragmentPayload('IPv6')).toBe(1216 - 28 - FRAGMENT_HEADER_BYTES);
  });

  it('fills a datagram exactly to the MTU with a full fragment', () => {
    for (const family of ['IPv4', 'IPv6'] as const) {
      const mtu = applicationMtu(family);
      const fragments = new Fragmenter(maxFragmentBytes(mtu)).split(new Uint8Array(maxFragmentPayload(family) * 2 + 1));
      expect(fragments.map((f) => f.length + DATAGRAM_OVERHEAD)).toEqual([mtu, mtu, DATAGRAM_OVERHEAD + FRAGMENT_HEADER_BYTES + 1]);
    }
  });
});

describe('Fragmenter', () => {
  it('cuts a message into the fewest fragments of at most the given size', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), fc.integer({ min: FRAGMENT_HEADER_BYTES + 1, max: 1300 }), (message, size) => {
        const fragments = new Fragmenter(size).split(message);
        expect(fragments.length).toBe(Math.max(1, Math.ceil(message.length / (size - FRAGMENT_HEADER_BYTES))));
        for (const fragment of fragments) expect(fragment.length).toBeLessThanOrEqual(size);
        const finals = fragments.map((f) => (f[4]! & 0x80) !== 0);
        expect(finals.lastIndexOf(true)).toBe(fragments.length - 1);
        expect(finals.indexOf(true)).toBe(fragments.length - 1);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('gives every message a fresh id, wrapping at 2^32', () => {
    const fragmenter = new Fragmenter(100, 0xffff_fffe);
    const ids = [0, 1, 2].map(() => {
      const [first] = fragmenter.split(Uint8Array.of(1));
      return new DataView(first!.buffer).getUint32(0);
    });
    expect(ids).toEqual([0xffff_fffe, 0xffff_ffff, 0]);
  });

  it('sends an empty message as one empty final fragment', () => {
    const fragments = new Fragmenter(100).split(new Uint8Array(0));
    expect(fragments).toHaveLength(1);
    expect([...fragments[0]!]).toEqual([0, 0, 0, 0, 0x80, 0]);
    expect(new FragmentAssembly().add(fragments[0]!)).toEqual(new Uint8Array(0));
  });

  it('refuses a message needing more than 0x8000 fragments, and a size with no room for data', () => {
    const fragmenter = new Fragmenter(FRAGMENT_HEADER_BYTES + 1);
    expect(fragmenter.split(new Uint8Array(MAX_FRAGMENTS_ON_WIRE))).toHaveLength(MAX_FRAGMENTS_ON_WIRE);
    expect(() => fragmenter.split(new Uint8Array(MAX_FRAGMENTS_ON_WIRE + 1))).toThrow(MessageTooLargeError);
    expect(() => new Fragmenter(FRAGMENT_HEADER_BYTES)).toThrow(RangeError);
  });
});

describe('FragmentAssembly', () => {
  it('reassembles a message from shuffled, duplicated fragments exactly once', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 6000 }), fc.integer({ min: 7, max: 700 }), fc.integer(), (message, size, seed) => {
        const random = seededRandom(seed);
        const assembly = new FragmentAssembly();
        const outputs = duplicateAndShuffle(new Fragmenter(size).split(message), random)
          .map((f) => assembly.add(f))
          .filter((m) => m !== null);
        expect(outputs).toHaveLength(1);
        expect(Buffer.from(outputs[0]!).equals(Buffer.from(message))).toBe(true);
        expect(assembly.partialCount).toBe(0);
        expect(assembly.counters.completed).toBe(1);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('reassembles interleaved messages, each exactly once', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 3000 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 7, max: 500 }),
        fc.integer(),
        (messages, size, seed) => {
          const random = seededRandom(seed);
          const fragmenter = new Fragmenter(size);
          const all = messages.flatMap((m) => fragmenter.split(m));
          const assembly = new FragmentAssembly({ maxPartialMessages: messages.length });
          const outputs = duplicateAndShuffle(all, random)
            .map((f) => assembly.add(f))
            .filter((m) => m !== null)
            .map((m) => Buffer.from(m).toString('hex'));
          expect(outputs.sort()).toEqual(messages.map((m) => Buffer.from(m).toString('hex')).sort());
          expect(assembly.partialCount).toBe(0);
        },
      ),
      { seed: SEED, numRuns: 150 },
    );
  });

  it('drops a late duplicate of a completed message', () => {
    const assembly = new FragmentAssembly();
    const [single] = new Fragmenter(100).split(Uint8Array.of(9));
    expect(assembly.add(single!)).toEqual(Uint8Array.of(9));
    expect(assembly.add(single!)).toBeNull();
    const parts = new Fragmenter(8, 50).split(Uint8Array.of(1, 2, 3, 4, 5));
    for (const part of parts) assembly.add(part);
    expect(assembly.add(parts[0]!)).toBeNull();
    expect(assembly.partialCount).toBe(0);
    expect(assembly.counters.duplicates).toBe(2);
    expect(assembly.counters.completed).toBe(2);
  });

  it('drops a fragment too short to hold a header and counts it', () => {
    const assembly = new FragmentAssembly();
    for (let length = 0; length < FRAGMENT_HEADER_BYTES; length++) expect(assembly.add(new Uint8Array(length))).toBeNull();
    expect(assembly.counters.malformed).toBe(FRAGMENT_HEADER_BYTES);
    expect(assembly.partialCount).toBe(0);
  });

  it('never throws on arbitrary fragments and holds at most maxPartialMessages', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 200 }), (fragments) => {
        const assembly = new FragmentAssembly({ maxPartialMessages: 3, maxFragments: 64, maxMessageBytes: 300 });
        for (const fragment of fragments) {
          const message = assembly.add(fragment);
          if (message) expect(message.length).toBeLessThanOrEqual(300);
          expect(assembly.partialCount).toBeLessThanOrEqual(3);
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('enforces maxFragments: an index at or past it is dropped', () => {
    const assembly = new FragmentAssembly({ maxFragments: 4 });
    const fits = new Fragmenter(FRAGMENT_HEADER_BYTES + 1).split(Uint8Array.of(1, 2, 3, 4));
    const tooMany = new Fragmenter(FRAGMENT_HEADER_BYTES + 1, 99).split(Uint8Array.of(1, 2, 3, 4, 5));
    const results = fits.map((f) => assembly.add(f));
    expect(results.at(-1)).toEqual(Uint8Array.of(1, 2, 3, 4));
    for (const fragment of tooMany) expect(assembly.add(fragment)).toBeNull();
    expect(assembly.counters.overLimit).toBe(1);
  });

  it('enforces maxMessageBytes: a message exactly at the limit passes, one byte more is dropped with its partial', () => {
    const assembly = new FragmentAssembly({ maxMessageBytes: 10 });
    const fragmenter = new Fragmenter(FRAGMENT_HEADER_BYTES + 4);
    const atLimit = fragmenter.split(new Uint8Array(10).fill(1));
    expect(atLimit.map((f) => assembly.add(f)).at(-1)).toEqual(new Uint8Array(10).fill(1));
    const over = fragmenter.split(new Uint8Array(11).fill(2));
    expect(over.map((f) => assembly.add(f)).every((m) => m === null)).toBe(true);
    expect(assembly.counters.overLimit).toBe(1);
    // One fragment alone larger than the limit.
    expect(assembly.add(new Fragmenter(100, 500).split(new Uint8Array(11))[0]!)).toBeNull();
    expect(assembly.counters.overLimit).toBe(2);
  });

  it('evicts the oldest partial message when a new one would exceed maxPartialMessages', () => {
    const assembly = new FragmentAssembly({ maxPartialMessages: 2 });
    const fragmenter = new Fragmenter(FRAGMENT_HEADER_BYTES + 2);
    const [a, b, c] = [fragmenter.split(Uint8Array.of(1, 1, 1)), fragmenter.split(Uint8Array.of(2, 2, 2)), fragmenter.split(Uint8Array.of(3, 3, 3))];
    assembly.add(a[0]!);
    assembly.add(b[0]!);
    assembly.add(c[0]!); // evicts a
    expect(assembly.counters.evicted).toBe(1);
    expect(assembly.partialCount).toBe(2);
    expect(assembly.add(b[1]!)).toEqual(Uint8Array.of(2, 2, 2));
    expect(assembly.add(c[1]!)).toEqual(Uint8Array.of(3, 3, 3));
    expect(assembly.add(a[1]!)).toBeNull(); // its first half is gone
    expect(assembly.partialCount).toBe(1);
  });

  it('drops fragments that contradict the final flag', () => {
    const assembly = new FragmentAssembly();
    expect(assembly.add(header(7, 3, false))).toBeNull();
    expect(assembly.add(header(7, 1, true))).toBeNull(); // final at 1, but index 3 is held
    expect(assembly.add(header(7, 4, true))).toBeNull(); // total is now 5
    expect(assembly.add(header(7, 5, false))).toBeNull(); // past the final
    expect(assembly.add(header(7, 2, true))).toBeNull(); // a second, different final
    expect(assembly.counters.inconsistent).toBe(3);
    for (const index of [0, 1, 2]) assembly.add(header(7, index, false, [index]));
    expect(assembly.counters.completed).toBe(1);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteWriter } from '../../protocol/byte-writer.js';
import {
  decodeInstruction,
  encodeInstruction,
  MalformedInstructionError,
  MAX_CHAFF_BYTES,
  MAX_DIFF_BYTES,
  MAX_INSTRUCTION_BYTES,
  PROTOCOL_VERSION,
  ProtocolVersionError,
  SHUTDOWN_STATE,
  type Instruction,
} from '../../protocol/instruction.js';

const SEED = 0x1257;

const sample: Instruction = {
  protocolVersion: PROTOCOL_VERSION,
  oldNum: 41,
  newNum: 42,
  ackNum: 7,
  throwawayNum: 40,
  diff: Uint8Array.from([1, 2, 3]),
  chaff: Uint8Array.from([9, 9]),
};

/** Plain values for deep comparison (typed-array views compare by content this way). */
function plain(inst: Instruction): object {
  return { ...inst, diff: Array.from(inst.diff), chaff: Array.from(inst.chaff) };
}

/** Hand-built encodings, for inputs `encodeInstruction` refuses to make. */
function raw(...parts: (number | Uint8Array)[]): Uint8Array {
  const w = new ByteWriter();
  for (const p of parts) {
    if (typeof p === 'number') w.varint(p);
    else w.bytes(p);
  }
  return w.toBytes();
}

const instructionArb: fc.Arbitrary<Instruction> = fc.record({
  protocolVersion: fc.constant(PROTOCOL_VERSION),
  oldNum: fc.oneof(fc.nat(1000), fc.maxSafeNat()),
  newNum: fc.oneof(fc.nat(1000), fc.maxSafeNat(), fc.constant(SHUTDOWN_STATE)),
  ackNum: fc.oneof(fc.nat(1000), fc.maxSafeNat(), fc.constant(SHUTDOWN_STATE)),
  throwawayNum: fc.oneof(fc.nat(1000), fc.maxSafeNat()),
  diff: fc.uint8Array({ maxLength: 3000 }),
  chaff: fc.uint8Array({ maxLength: MAX_CHAFF_BYTES }),
});

describe('Instruction codec', () => {
  it('property: decode(encode(x)) = x', () => {
    fc.assert(
      fc.property(instructionArb, (inst) => {
        const bytes = encodeInstruction(inst);
        expect(bytes.length).toBeLessThanOrEqual(MAX_INSTRUCTION_BYTES);
        expect(plain(decodeInstruction(bytes))).toEqual(plain(inst));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('puts the protocol version first', () => {
    const bytes = encodeInstruction(sample);
    expect(bytes[0]).toBe(PROTOCOL_VERSION);
    expect(Array.from(bytes)).toEqual([PROTOCOL_VERSION, 41, 42, 7, 40, 3, 1, 2, 3, 2, 9, 9]);
  });

  it('a pure ack with no chaff is seven bytes', () => {
    const ack = { ...sample, diff: new Uint8Array(0), chaff: new Uint8Array(0) };
    expect(encodeInstruction(ack).length).toBe(7);
  });

  it('round-trips SHUTDOWN_STATE, the largest state number', () => {
    const inst = { ...sample, newNum: SHUTDOWN_STATE, ackNum: SHUTDOWN_STATE };
    expect(decodeInstruction(encodeInstruction(inst)).newNum).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('hands out a copy: encoding again does not change earlier output', () => {
    const first = encodeInstruction(sample);
    const copy = Array.from(first);
    encodeInstruction({ ...sample, oldNum: 1_000_000, diff: new Uint8Array(500).fill(7) });
    expect(Array.from(first)).toEqual(copy);
  });
});

describe('Instruction version check', () => {
  it('names both versions in a plain message', () => {
    const bytes = raw(PROTOCOL_VERSION + 1, 0, 1, 0, 0, 0, 0);
    expect(() => decodeInstruction(bytes)).toThrow(ProtocolVersionError);
    expect(() => decodeInstruction(bytes)).toThrow(
      `The peer speaks tsmosh protocol version ${PROTOCOL_VERSION + 1}; this build speaks ${PROTOCOL_VERSION}. ` +
        'Install the same tsmosh version on both ends.',
    );
  });

  it('recognises another version whatever follows it (a future layout)', () => {
    for (const rest of [[], [0xff, 0xff, 0xff], [0x80]]) {
      let caught: unknown;
      try {
        decodeInstruction(Uint8Array.from([0xac, 0x02, ...rest])); // version 300
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ProtocolVersionError);
      expect((caught as ProtocolVersionError).peerVersion).toBe(300);
    }
    expect(() => decodeInstruction(Uint8Array.from([0]))).toThrow(ProtocolVersionError);
  });
});

describe('Instruction bounds', () => {
  const V = PROTOCOL_VERSION;
  it.each<[string, Uint8Array]>([
    ['empty input', new Uint8Array(0)],
    ['a truncated version', Uint8Array.from([0x81])],
    ['a missing field', raw(V, 1, 2, 3)],
    ['a diff longer than the input', raw(V, 1, 2, 3, 4, 10, Uint8Array.from([1, 2]))],
    ['a diff longer than MAX_DIFF_BYTES', raw(V, 1, 2, 3, 4, MAX_DIFF_BYTES + 1)],
    ['chaff longer than 16 bytes', raw(V, 1, 2, 3, 4, 0, 17, new Uint8Array(17))],
    ['stray bytes after the chaff', raw(V, 1, 2, 3, 4, 0, 0, Uint8Array.from([0]))],
    ['a state number above 2^53 - 1', raw(V, 1, Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]), 3, 4, 0, 0)],
    ['a nine-byte varint', raw(V, 1, Uint8Array.from([0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), 3, 4, 0, 0)],
  ])('rejects %s', (_what, bytes) => {
    expect(() => decodeInstruction(bytes)).toThrow(MalformedInstructionError);
  });

  it('accepts a diff of exactly MAX_DIFF_BYTES', () => {
    const diff = new Uint8Array(MAX_DIFF_BYTES);
    diff[MAX_DIFF_BYTES - 1] = 5;
    const inst = decodeInstruction(encodeInstruction({ ...sample, diff }));
    expect(inst.diff.length).toBe(MAX_DIFF_BYTES);
    expect(inst.diff[MAX_DIFF_BYTES - 1]).toBe(5);
  });

  it('refuses to encode what the decoder would refuse', () => {
    expect(() => encodeInstruction({ ...sample, diff: new Uint8Array(MAX_DIFF_BYTES + 1) })).toThrow(RangeError);
    expect(() => encodeInstruction({ ...sample, chaff: new Uint8Array(MAX_CHAFF_BYTES + 1) })).toThrow(RangeError);
    for (const bad of [-1, 1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN, Infinity]) {
      expect(() => encodeInstruction({ ...sample, oldNum: bad })).toThrow(RangeError);
      expect(() => encodeInstruction({ ...sample, ackNum: bad })).toThrow(RangeError);
    }
  });

  it('property: garbage never crashes; it decodes or throws one of the two codec errors', () => {
    const garbage = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      // Mostly valid prefixes get further into the decoder.
      fc.uint8Array({ maxLength: 64 }).map((b) => Uint8Array.from([PROTOCOL_VERSION, ...b])),
      instructionArb.chain((inst) => {
        const bytes = encodeInstruction(inst);
        return fc.tuple(fc.nat(bytes.length), fc.integer({ min: 0, max: 255 })).map(([i, v]) => {
          const copy = bytes.slice();
          if (i < copy.length) copy[i] = v;
          return i % 2 === 0 ? copy : copy.subarray(0, i);
        });
      }),
    );
    fc.assert(
      fc.property(garbage, (bytes) => {
        try {
          const inst = decodeInstruction(bytes);
          // Anything accepted is within bounds and re-encodes to the same bytes' meaning.
          expect(inst.diff.length).toBeLessThanOrEqual(MAX_DIFF_BYTES);
          expect(inst.chaff.length).toBeLessThanOrEqual(MAX_CHAFF_BYTES);
          expect(plain(decodeInstruction(encodeInstruction(inst)))).toEqual(plain(inst));
        } catch (err) {
          expect(err instanceof MalformedInstructionError || err instanceof ProtocolVersionError).toBe(true);
        }
      }),
      { seed: SEED + 1, numRuns: 3000 },
    );
  });
});

import { createDecipheriv } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DATAGRAM_OVERHEAD,
  DatagramCipher,
  Direction,
  MAX_SEQUENCE,
  NonceReuseError,
  SequenceNumberError,
  peekHeader,
  toTimestamp16,
} from '../../protocol/datagram.js';
import { SessionKey, sodiumReady } from '../../protocol/session-key.js';

const SEED = 7_2024;
let key: SessionKey;

beforeAll(async () => {
  await sodiumReady();
  key = SessionKey.fromBytes(Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 1));
});

const direction = fc.constantFrom(Direction.ToServer, Direction.ToClient);
const timestamp = fc.integer({ min: 0, max: 2 ** 40 });
const reply = fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: null });
const payload = fc.uint8Array({ minLength: 0, maxLength: 1500 });

function other(d: Direction): Direction {
  return d === Direction.ToServer ? Direction.ToClient : Direction.ToServer;
}

function snapshot(cipher: DatagramCipher) {
  return { sealed: cipher.sealed, opened: cipher.opened, rejected: cipher.rejected, by: { ...cipher.rejectedBy } };
}

describe('DatagramCipher', () => {
  it('round-trips direction, sequence number, timestamps and payload', () => {
    fc.assert(
      fc.property(direction, fc.maxSafeNat(), timestamp, reply, payload, (d, seq, ts, tsReply, body) => {
        const sender = new DatagramCipher(key);
        const receiver = new DatagramCipher(key);
        const datagram = sender.seal(d, seq, ts, tsReply, body);
        expect(datagram.length).toBe(body.length + DATAGRAM_OVERHEAD);
        const opened = receiver.open(datagram, d);
        expect(opened).not.toBeNull();
        expect(opened!.direction).toBe(d);
        expect(opened!.seq).toBe(seq);
        expect(opened!.timestamp).toBe(toTimestamp16(ts));
        expect(opened!.timestampReply).toBe(tsReply === null ? null : toTimestamp16(tsReply));
        expect(Buffer.from(opened!.payload).equals(Buffer.from(body))).toBe(true);
        expect(receiver.rejected).toBe(0);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('writes the clear header as big-endian direction << 63 | seq', () => {
    fc.assert(
      fc.property(direction, fc.maxSafeNat(), (d, seq) => {
        const datagram = new DatagramCipher(key).seal(d, seq, 0, null, new Uint8Array(0));
        const header = new DataView(datagram.buffer, datagram.byteOffset, 8).getBigUint64(0, false);
        expect(header).toBe((BigInt(d) << 63n) | BigInt(seq));
        expect(peekHeader(datagram)).toEqual({ direction: d, seq });
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('is standard ChaCha20-Poly1305-IETF: nonce = 4 zero bytes + header, header as associated data', () => {
    const body = new TextEncoder().encode('hello, wire format');
    const datagram = new DatagramCipher(key).seal(Direction.ToClient, 0x1234_5678_9abc, 0x4321, 0x0102, body);
    const header = datagram.subarray(0, 8);
    const nonce = Buffer.concat([Buffer.alloc(4), header]);
    const decipher = createDecipheriv('chacha20-poly1305', key.bytes, nonce, { authTagLength: 16 });
    decipher.setAAD(header, { plaintextLength: datagram.length - 8 - 16 });
    decipher.setAuthTag(datagram.subarray(datagram.length - 16));
    const plain = Buffer.concat([decipher.update(datagram.subarray(8, datagram.length - 16)), decipher.final()]);
    expect([...plain.subarray(0, 4)]).toEqual([0x43, 0x21, 0x01, 0x02]);
    expect(plain.subarray(4).toString()).toBe('hello, wire format');
  });

  it('encodes "no reply" as 0xFFFF and bumps a real 0xFFFF to 0, as Mosh does', () => {
    const cipher = new DatagramCipher(key);
    const a = cipher.seal(Direction.ToServer, 1, 0xffff, 0xffff, new Uint8Array(0));
    const b = cipher.seal(Direction.ToServer, 2, 3 * 65536 + 0xffff, null, new Uint8Array(0));
    const openedA = new DatagramCipher(key).open(a, Direction.ToServer)!;
    const openedB = new DatagramCipher(key).open(b, Direction.ToServer)!;
    expect(openedA.timestamp).toBe(0);
    expect(openedA.timestampReply).toBe(0);
    expect(openedB.timestamp).toBe(0);
    expect(openedB.timestampReply).toBeNull();
    expect(toTimestamp16(65536 + 5)).toBe(5);
  });

  it('rejects a datagram with any single byte changed, without throwing or counting it as opened', () => {
    const sender = new DatagramCipher(key);
    const datagram = sender.seal(Direction.ToServer, 42, 1000, 900, new TextEncoder().encode('keystrokes'));
    const receiver = new DatagramCipher(key);
    let beyondSequenceRange = 0;
    for (let position = 0; position < datagram.length; position++) {
      for (const flip of [0x01, 0x80, 0xff]) {
        const tampered = Uint8Array.from(datagram);
        tampered[position]! ^= flip;
        if (peekHeader(tampered) === null) beyondSequenceRange++;
        expect(receiver.open(tampered, Direction.ToServer)).toBeNull();
      }
    }
    const attempts = datagram.length * 3;
    expect(receiver.opened).toBe(0);
    expect(receiver.rejected).toBe(attempts);
    // Byte 0 ^ 0x80 turns the direction around; some flips in bytes 0-1 set sequence bits above 2^53
    // (malformed, refused before decryption); every other change fails authentication.
    expect(beyondSequenceRange).toBe(4);
    expect(receiver.rejectedBy.direction).toBe(1);
    expect(receiver.rejectedBy.malformed).toBe(beyondSequenceRange);
    expect(receiver.rejectedBy.authentication).toBe(attempts - 1 - beyondSequenceRange);
    expect(receiver.open(datagram, Direction.ToServer)).not.toBeNull();
  });

  it('rejects every truncation and every extension', () => {
    const datagram = new DatagramCipher(key).seal(Direction.ToClient, 9, 1, null, new Uint8Array(40).fill(3));
    const receiver = new DatagramCipher(key);
    for (let length = 0; length < datagram.length; length++) {
      expect(receiver.open(datagram.subarray(0, length), Direction.ToClient)).toBeNull();
    }
    const longer = new Uint8Array(datagram.length + 1);
    longer.set(datagram);
    expect(receiver.open(longer, Direction.ToClient)).toBeNull();
    expect(receiver.rejected).toBe(datagram.length + 1);
    expect(receiver.rejectedBy.malformed).toBe(DATAGRAM_OVERHEAD);
  });

  it('rejects a datagram reflected back at its sender (wrong direction)', () => {
    const cipher = new DatagramCipher(key);
    const toServer = cipher.seal(Direction.ToServer, 5, 1, null, new Uint8Array(10));
    const before = snapshot(cipher);
    expect(cipher.open(toServer, other(Direction.ToServer))).toBeNull();
    expect(cipher.rejectedBy.direction).toBe(before.by.direction + 1);
    expect(cipher.opened).toBe(before.opened);
  });

  it('rejects a datagram sealed under another key', () => {
    const datagram = new DatagramCipher(SessionKey.generate()).seal(Direction.ToServer, 0, 0, null, new Uint8Array(10));
    const receiver = new DatagramCipher(key);
    expect(receiver.open(datagram, Direction.ToServer)).toBeNull();
    expect(receiver.rejectedBy.authentication).toBe(1);
  });

  it('never throws on arbitrary bytes, and counts each as a reject', () => {
    const receiver = new DatagramCipher(key);
    let runs = 0;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), direction, (bytes, d) => {
        runs++;
        expect(receiver.open(bytes, d)).toBeNull();
      }),
      { seed: SEED, numRuns: 500 },
    );
    expect(receiver.rejected).toBe(runs);
    expect(receiver.opened).toBe(0);
  });

  it('refuses a sequence number header beyond 2^53 - 1 without trying to decrypt', () => {
    const datagram = new DatagramCipher(key).seal(Direction.ToServer, MAX_SEQUENCE, 0, null, new Uint8Array(0));
    expect(new DatagramCipher(key).open(datagram, Direction.ToServer)!.seq).toBe(MAX_SEQUENCE);
    const beyond = Uint8Array.from(datagram);
    beyond[1] = 0x20; // seq bit 53 set
    const receiver = new DatagramCipher(key);
    expect(receiver.open(beyond, Direction.ToServer)).toBeNull();
    expect(receiver.rejectedBy.malformed).toBe(1);
  });

  it('refuses to seal a sequence number that is negative, fractional or not below 2^53', () => {
    const cipher = new DatagramCipher(key);
    for (const seq of [-1, 1.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => cipher.seal(Direction.ToServer, seq, 0, null, new Uint8Array(0))).toThrow(SequenceNumberError);
    }
    expect(cipher.sealed).toBe(0);
  });

  it('refuses to reuse a nonce: each direction must seal strictly increasing sequence numbers', () => {
    const cipher = new DatagramCipher(key);
    cipher.seal(Direction.ToServer, 10, 0, null, new Uint8Array(0));
    expect(() => cipher.seal(Direction.ToServer, 10, 0, null, new Uint8Array(0))).toThrow(NonceReuseError);
    expect(() => cipher.seal(Direction.ToServer, 3, 0, null, new Uint8Array(0))).toThrow(NonceReuseError);
    // The other direction is a separate nonce space.
    cipher.seal(Direction.ToClient, 0, 0, null, new Uint8Array(0));
    cipher.seal(Direction.ToServer, 11, 0, null, new Uint8Array(0));
    expect(cipher.lastSealed(Direction.ToServer)).toBe(11);
    expect(cipher.lastSealed(Direction.ToClient)).toBe(0);
    expect(cipher.sealed).toBe(3);
  });

  it('does not let a later seal change a datagram returned earlier (no shared output buffers)', () => {
    const cipher = new DatagramCipher(key);
    const first = cipher.seal(Direction.ToServer, 0, 0, null, new Uint8Array(100).fill(1));
    const copy = Uint8Array.from(first);
    cipher.seal(Direction.ToServer, 1, 0, null, new Uint8Array(3000).fill(2));
    cipher.seal(Direction.ToServer, 2, 0, null, new Uint8Array(50).fill(3));
    expect(first).toEqual(copy);
    const opened = new DatagramCipher(key).open(first, Direction.ToServer)!;
    expect(opened.payload).toEqual(new Uint8Array(100).fill(1));
  });

  it('peekHeader refuses input shorter than a header', () => {
    expect(peekHeader(new Uint8Array(7))).toBeNull();
    expect(peekHeader(new Uint8Array(8))).toEqual({ direction: Direction.ToServer, seq: 0 });
  });
});

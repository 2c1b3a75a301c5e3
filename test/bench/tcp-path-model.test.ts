import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom, type Random } from '../support/seeded-random.js';
import { InvalidTcpPathError, TCP_MSS, tcpDataWireBytes, TcpPathModel, tcpPathProfile, type TcpPathProfile } from '../support/tcp-path-model.js';

const SEED = 0x7c9_7e57;

interface Delivery {
  readonly at: number;
  readonly data: Buffer;
}

/** Writes each chunk at its time, then runs the model event by event until it is idle (bounded). */
function simulate(profile: Partial<TcpPathProfile>, writes: readonly { at: number; data: Buffer }[], random: Random = seededRandom(SEED)) {
  const model = new TcpPathModel(profile, random);
  const deliveries: Delivery[] = [];
  let now = 0;
  const collect = (data: Buffer): void => {
    deliveries.push({ at: now, data });
  };
  const runUntil = (limit: number): void => {
    for (let i = 0, next = model.nextEventAt; next !== undefined && next <= limit; i++, next = model.nextEventAt) {
      if (i > 1_000_000) throw new Error('the model did not settle');
      now = Math.max(now, next);
      model.advance(now, collect);
    }
  };
  for (const w of writes) {
    runUntil(w.at);
    now = Math.max(now, w.at);
    model.write(now, w.data);
    model.advance(now, collect);
  }
  runUntil(Infinity);
  return { model, deliveries, stats: model.stats };
}

function bytes(n: number, fill = 0x61): Buffer {
  return Buffer.alloc(n, fill);
}

/** A random source that answers `first` values in turn, then never again loses. */
function scripted(first: readonly number[]): Random {
  let i = 0;
  return () => first[i++] ?? 0.999;
}

describe('TcpPathModel', () => {
  it('delivers a small write after the one-way delay on a clean path, with one segment and one ACK', () => {
    const { deliveries, stats, model } = simulate({ delayMs: 25 }, [{ at: 10, data: bytes(100) }]);
    expect(deliveries).toEqual([{ at: 35, data: bytes(100) }]);
    expect(stats).toMatchObject({ segmentsSent: 1, retransmissions: 0, payloadBytesSent: 100, acksSent: 1, deliveredBytes: 100 });
    expect(tcpDataWireBytes(stats)).toBe(152);
    expect(model.idle).toBe(true);
  });

  it('grows the window by slow start: 100 segments take four round trips at 10, 20, 40, 80', () => {
    const { deliveries } = simulate({ delayMs: 50 }, [{ at: 0, data: bytes(100 * TCP_MSS) }]);
    expect(deliveries.reduce((n, d) => n + d.data.length, 0)).toBe(100 * TCP_MSS);
    // Rounds leave at 0, 100, 200, 300 ms; the last arrives 50 ms after it left.
    expect(deliveries.at(-1)!.at).toBe(350);
    expect(deliveries[9]!.at).toBe(50);
    expect(deliveries[10]!.at).toBe(150);
  });

  it('retransmits a lost lone segment after the RTO (RTT + 200 ms)', () => {
    const { deliveries, stats } = simulate({ delayMs: 125, loss: 0.5 }, [{ at: 0, data: bytes(10) }], scripted([0.1]));
    expect(deliveries).toEqual([{ at: 250 + 200 + 125, data: bytes(10) }]);
    expect(stats).toMatchObject({ segmentsSent: 2, retransmissions: 1, reductions: 1, timeouts: 0 });
  });

  it('holds later data behind a lost segment (head-of-line blocking), found lost by a later ACK', () => {
    // Segment 1 lost, segment 2 arrives at 125 but waits; its ACK at 250 + RTT/4 finds 1 lost.
    const writes = [
      { at: 0, data: bytes(10, 0x31) },
      { at: 1, data: bytes(10, 0x32) },
    ];
    const { deliveries } = simulate({ delayMs: 125, loss: 0.5 }, writes, scripted([0.1, 0.9]));
    const lostFoundAt = 1 + 250 + 250 / 4;
    expect(deliveries.map((d) => d.data.toString())).toEqual(['1'.repeat(10), '2'.repeat(10)]);
    expect(deliveries[0]!.at).toBe(lostFoundAt + 125);
    expect(deliveries[1]!.at).toBe(lostFoundAt + 125);
  });

  it('backs off when a retransmission is lost too, and counts a timeout', () => {
    const { deliveries, stats } = simulate({ delayMs: 50, loss: 0.5 }, [{ at: 0, data: bytes(10) }], scripted([0.1, 0.1]));
    // First timer: RTT + 200 = 300; the retransmission is lost and its timer is doubled: 600.
    expect(deliveries[0]!.at).toBe(300 + 600 + 50);
    expect(stats.timeouts).toBe(1);
    expect(stats.retransmissions).toBe(2);
  });

  it('delivers every byte exactly once and in order, whatever the loss and the writes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.constantFrom(0, 0.05, 0.2, 0.5),
        fc.constantFrom(0, 1, 25, 250),
        fc.array(fc.record({ gap: fc.integer({ min: 0, max: 300 }), size: fc.integer({ min: 1, max: 5000 }) }), { minLength: 1, maxLength: 30 }),
        (seed, loss, delayMs, chunks) => {
          let at = 0;
          let fill = 0;
          const writes = chunks.map((c) => {
            at += c.gap;
            const data = Buffer.alloc(c.size);
            for (let i = 0; i < data.length; i++) data[i] = fill++ & 0xff;
            return { at, data };
          });
          const { deliveries, stats, model } = simulate({ delayMs, loss }, writes, seededRandom(seed));
          const sent = Buffer.concat(writes.map((w) => w.data));
          expect(Buffer.concat(deliveries.map((d) => d.data)).equals(sent)).toBe(true);
          expect(deliveries.every((d, i) => i === 0 || deliveries[i - 1]!.at <= d.at)).toBe(true);
          expect(stats.payloadBytesSent).toBeGreaterThanOrEqual(sent.length);
          if (loss === 0) expect(stats.retransmissions).toBe(0);
          expect(model.idle).toBe(true);
          expect(model.backlogBytes).toBe(0);
        },
      ),
      { seed: SEED, numRuns: 150 },
    );
  });

  it('makes bulk transfer far slower under loss, as real TCP is (1 MB, 250 ms RTT)', () => {
    const clean = simulate({ delayMs: 125 }, [{ at: 0, data: bytes(1_000_000) }]);
    const lossy = simulate({ delayMs: 125, loss: 0.05 }, [{ at: 0, data: bytes(1_000_000) }]);
    const cleanMs = clean.deliveries.at(-1)!.at;
    const lossyMs = lossy.deliveries.at(-1)!.at;
    expect(cleanMs).toBeLessThan(2000);
    // AIMD with CUBIC's β = 0.7 at 5% loss and 250 ms predicts ~45 KB/s (Mathis-style, ~22 s for
    // 1 MB); SACK recovery does better. Anything from 15 to 200 KB/s is a TCP that suffers from loss.
    expect(lossyMs).toBeGreaterThan(5 * cleanMs);
    expect(lossyMs).toBeGreaterThan(5_000);
    expect(lossyMs).toBeLessThan(66_000);
    expect(lossy.stats.retransmissions).toBeGreaterThan(20);
  });

  it('counts the backlog until ACKs come back', () => {
    const model = new TcpPathModel({ delayMs: 10 }, seededRandom(SEED));
    model.write(0, bytes(50 * TCP_MSS));
    expect(model.backlogBytes).toBe(50 * TCP_MSS);
    model.advance(20, () => {});
    // The first window of 10 segments is acked at 20 ms; the second round is in flight.
    expect(model.backlogBytes).toBe(40 * TCP_MSS);
  });

  it('restarts from the initial window after an idle period longer than the RTO', () => {
    const model = new TcpPathModel({ delayMs: 10 }, seededRandom(SEED));
    model.write(0, bytes(200 * TCP_MSS));
    model.advance(10_000, () => {});
    expect(model.cwnd).toBeGreaterThan(100);
    model.write(20_000, bytes(10));
    expect(model.cwnd).toBe(10);
  });

  it('refuses impossible profiles', () => {
    expect(() => tcpPathProfile({ loss: 1 })).toThrow(InvalidTcpPathError);
    expect(() => tcpPathProfile({ delayMs: -1 })).toThrow(InvalidTcpPathError);
    expect(() => tcpPathProfile({ mss: 0 })).toThrow(InvalidTcpPathError);
    expect(tcpPathProfile({ delayMs: 5 }).mss).toBe(TCP_MSS);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../protocol/framebuffer.js';
import {
  COMPACTION_MIN_DEAD_EVENTS,
  EventsForgottenError,
  MalformedUserStreamDiffError,
  NotAPrefixError,
  UserStream,
  type UserEvent,
} from '../../protocol/user-stream.js';

const SEED = 20_240_601;
const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/** One event per key byte, as the stream numbers them; the model the properties compare with. */
type ModelEvent = number | readonly [number, number];

function flatten(events: readonly UserEvent[]): ModelEvent[] {
  const out: ModelEvent[] = [];
  for (const e of events) {
    if (e.kind === 'keys') out.push(...e.bytes);
    else out.push([e.cols, e.rows]);
  }
  return out;
}

type Op = { kind: 'keys'; bytes: Uint8Array } | { kind: 'resize'; cols: number; rows: number } | { kind: 'checkpoint' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 5 }).map((b) => ({ kind: 'keys' as const, bytes: b })) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 200, maxLength: 600 }).map((b) => ({ kind: 'keys' as const, bytes: b })) },
  {
    weight: 1,
    arbitrary: fc
      .record({ cols: fc.integer({ min: 1, max: LIMITS.maxCols }), rows: fc.integer({ min: 1, max: LIMITS.maxRows }) })
      .map((r) => ({ kind: 'resize' as const, ...r })),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'checkpoint' as const }) },
);

function applyOp(s: UserStream, model: ModelEvent[], op: Op): void {
  if (op.kind === 'keys') {
    expect(s.pushKeys(op.bytes)).toBe(model.length);
    model.push(...op.bytes);
  } else if (op.kind === 'resize') {
    expect(s.pushResize(op.cols, op.rows)).toBe(model.length);
    model.push([op.cols, op.rows]);
  }
}

describe('UserStream basics', () => {
  it('numbers every key byte and every resize, and pushKeys/pushResize return the first new index', () => {
    const s = new UserStream();
    expect(s.pushKeys(ascii('ab'))).toBe(0);
    expect(s.pushResize(80, 24)).toBe(2);
    expect(s.pushKeys(ascii('c'))).toBe(3);
    expect(s.pushKeys(new Uint8Array(0))).toBe(4);
    expect(s.totalEvents).toBe(4);
    expect(s.eventsSince(0)).toEqual([
      { kind: 'keys', index: 0, bytes: ascii('ab') },
      { kind: 'resize', index: 2, cols: 80, rows: 24 },
      { kind: 'keys', index: 3, bytes: ascii('c') },
    ]);
    expect(s.eventsSince(1)).toEqual([
      { kind: 'keys', index: 1, bytes: ascii('b') },
      { kind: 'resize', index: 2, cols: 80, rows: 24 },
      { kind: 'keys', index: 3, bytes: ascii('c') },
    ]);
    expect(s.eventsSince(4)).toEqual([]);
  });

  it('merges consecutive key pushes into one event and one wire record', () => {
    const s = new UserStream();
    for (const ch of 'hello') s.pushKeys(ascii(ch));
    expect(s.eventsSince(0)).toEqual([{ kind: 'keys', index: 0, bytes: ascii('hello') }]);
    expect(Array.from(s.diffFrom(new UserStream()))).toEqual([0, 0x01, 5, ...ascii('hello')]);
  });

  it('encodes one keystroke in four bytes early in a session', () => {
    const base = new UserStream();
    base.pushKeys(ascii('ls -l'));
    const next = base.clone();
    next.pushKeys(ascii('\r'));
    expect(Array.from(next.diffFrom(base))).toEqual([5, 0x01, 1, 13]);
  });

  it('copies pushed bytes (a reused read buffer cannot change history)', () => {
    const s = new UserStream();
    const buf = Buffer.from('abc');
    s.pushKeys(buf);
    buf.write('xyz');
    expect(s.eventsSince(0)).toEqual([{ kind: 'keys', index: 0, bytes: ascii('abc') }]);
  });

  it('refuses a window outside the framebuffer limits', () => {
    const s = new UserStream();
    for (const [c, r] of [[0, 24], [80, 0], [LIMITS.maxCols + 1, 24], [80, LIMITS.maxRows + 1], [80.5, 24], [Number.NaN, 24]] as const) {
      expect(() => s.pushResize(c, r)).toThrow(RangeError);
    }
    expect(s.totalEvents).toBe(0);
    s.pushResize(LIMITS.maxCols, LIMITS.maxRows);
    expect(s.totalEvents).toBe(1);
  });

  it('clones are independent, even when both grow from the same point', () => {
    const a = new UserStream();
    a.pushKeys(ascii('base'));
    const b = a.clone();
    a.pushKeys(ascii('A'));
    b.pushKeys(ascii('BB'));
    b.pushResize(10, 10);
    a.pushKeys(ascii('A'));
    expect(flatten(a.eventsSince(0))).toEqual([...ascii('baseAA')]);
    expect(flatten(b.eventsSince(0))).toEqual([...ascii('baseBB'), [10, 10]]);
    expect(new UserStream(a).equals(a)).toBe(true);
  });

  it('diff is empty exactly when the states are equal', () => {
    const a = new UserStream();
    const b = a.clone();
    expect(b.diffFrom(a).length).toBe(0);
    expect(a.equals(b)).toBe(true);
    b.pushKeys(ascii('x'));
    expect(b.diffFrom(a).length).toBeGreaterThan(0);
    expect(a.equals(b)).toBe(false);
  });

  it('equality and prefix checks look at content across separately built streams', () => {
    const a = new UserStream();
    a.pushKeys(ascii('abc'));
    a.pushResize(80, 24);
    const b = new UserStream();
    for (const ch of 'abc') b.pushKeys(ascii(ch));
    b.pushResize(80, 24);
    expect(a.equals(b)).toBe(true);
    b.pushKeys(ascii('d'));
    expect(flatten(b.eventsSince(0))).toEqual([...ascii('abc'), [80, 24], ...ascii('d')]);
    // A diff made for a base of 4 events is refused by an empty stream.
    const c = new UserStream();
    expect(() => c.apply(b.diffFrom(a))).toThrow(MalformedUserStreamDiffError);
    expect(c.totalEvents).toBe(0);
  });
});

describe('UserStream diffFrom / apply', () => {
  it('refuses a base that is not a prefix', () => {
    const a = new UserStream();
    a.pushKeys(ascii('ab'));
    const longer = a.clone();
    longer.pushKeys(ascii('c'));
    expect(() => a.diffFrom(longer)).toThrow(NotAPrefixError);

    const x = a.clone();
    const y = a.clone();
    x.pushKeys(ascii('x'));
    y.pushKeys(ascii('y'));
    x.pushKeys(ascii('z'));
    expect(() => x.diffFrom(y)).toThrow(NotAPrefixError);

    const other = new UserStream();
    other.pushKeys(ascii('zz'));
    const a2 = a.clone();
    a2.pushKeys(ascii('!'));
    expect(() => a2.diffFrom(other)).toThrow(NotAPrefixError);
  });

  it('refuses a diff from a state whose events were already forgotten', () => {
    const s = new UserStream();
    const empty = s.clone();
    s.pushKeys(ascii('abc'));
    const acked = s.clone();
    s.pushKeys(ascii('d'));
    s.subtract(acked);
    expect(() => s.diffFrom(empty)).toThrow(EventsForgottenError);
    expect(() => s.eventsSince(0)).toThrow(EventsForgottenError);
    expect(s.eventsSince(3)).toEqual([{ kind: 'keys', index: 3, bytes: ascii('d') }]);
  });

  it('property: the diff between any two states turns a separately built copy of the first into the second', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), fc.nat(), fc.nat(), (ops, i0, j0) => {
        const s = new UserStream();
        const model: ModelEvent[] = [];
        const checkpoints: { state: UserStream; length: number }[] = [{ state: s.clone(), length: 0 }];
        for (const op of ops) {
          applyOp(s, model, op);
          if (op.kind === 'checkpoint') checkpoints.push({ state: s.clone(), length: model.length });
        }
        checkpoints.push({ state: s.clone(), length: model.length });
        const i = i0 % checkpoints.length;
        const j = i + (j0 % (checkpoints.length - i));
        const from = checkpoints[i]!;
        const to = checkpoints[j]!;
        // The receiver's copy of `from` is built by applying diffs, with storage of its own.
        const replica = new UserStream();
        replica.apply(from.state.diffFrom(new UserStream()));
        expect(replica.equals(from.state)).toBe(true);
        const diff = to.state.diffFrom(from.state);
        expect(diff.length === 0).toBe(from.length === to.length);
        replica.apply(diff);
        expect(replica.equals(to.state)).toBe(true);
        expect(replica.totalEvents).toBe(to.length);
        expect(flatten(replica.eventsSince(0))).toEqual(model.slice(0, to.length));
        expect(flatten(to.state.eventsSince(from.length))).toEqual(model.slice(from.length, to.length));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('property: subtract forgets only the acknowledged prefix and keeps totalEvents', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 80 }), fc.array(fc.nat(), { maxLength: 8 }), (ops, ackPicks) => {
        const s = new UserStream();
        const model: ModelEvent[] = [];
        const checkpoints: UserStream[] = [s.clone()];
        for (const op of ops) {
          applyOp(s, model, op);
          if (op.kind === 'checkpoint') checkpoints.push(s.clone());
        }
        let forgotten = 0;
        for (const pick of ackPicks) {
          const acked = checkpoints[pick % checkpoints.length]!;
          s.subtract(acked);
          forgotten = Math.max(forgotten, acked.totalEvents);
          expect(s.firstHeldEvent).toBe(forgotten);
          expect(s.totalEvents).toBe(model.length);
          expect(flatten(s.eventsSince(forgotten))).toEqual(model.slice(forgotten));
          // A receiver holding the acknowledged state can still be brought up to date.
          const held = checkpoints.find((c) => c.totalEvents === forgotten)!;
          const replica = new UserStream();
          replica.apply(held.diffFrom(new UserStream()));
          replica.apply(s.diffFrom(held));
          expect(replica.equals(s)).toBe(true);
        }
      }),
      { seed: SEED + 1, numRuns: 200 },
    );
  });

  it('property: every event reaches a consumer exactly once, in order, however pushes, acks and reads interleave', () => {
    type Step = { kind: 'push'; op: Op } | { kind: 'send' } | { kind: 'ack' } | { kind: 'read' };
    const stepArb: fc.Arbitrary<Step> = fc.oneof(
      { weight: 5, arbitrary: opArb.map((op) => ({ kind: 'push' as const, op })) },
      { weight: 2, arbitrary: fc.constant({ kind: 'send' as const }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'ack' as const }) },
      { weight: 2, arbitrary: fc.constant({ kind: 'read' as const }) },
    );
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 120 }), (steps) => {
        // Client: current + states sent. Server: the newest received state, read by a consumer.
        const current = new UserStream();
        const model: ModelEvent[] = [];
        let sent = current.clone();
        let acked = current.clone();
        let remote = new UserStream();
        let consumed = 0;
        const got: ModelEvent[] = [];
        const read = (): void => {
          const events = remote.eventsSince(consumed);
          let next = consumed;
          for (const e of events) {
            expect(e.index).toBe(next);
            next += e.kind === 'keys' ? e.bytes.length : 1;
          }
          got.push(...flatten(events));
          consumed = remote.totalEvents;
        };
        for (const step of steps) {
          if (step.kind === 'push') applyOp(current, model, step.op);
          else if (step.kind === 'send') {
            const next = remote.clone();
            next.apply(current.diffFrom(sent));
            remote = next;
            sent = current.clone();
          } else if (step.kind === 'ack') {
            acked = sent.clone();
            current.subtract(acked);
            sent.subtract(acked);
          } else read();
        }
        remote.apply(current.diffFrom(sent));
        read();
        expect(got).toEqual(model);
        expect(consumed).toBe(model.length);
      }),
      { seed: SEED + 2, numRuns: 300 },
    );
  });
});

describe('UserStream decoding bounds', () => {
  const base = (): UserStream => {
    const s = new UserStream();
    s.pushKeys(ascii('ab'));
    return s;
  };

  it.each([
    ['a diff for another base', [3, 0x01, 1, 65]],
    ['an unknown record', [2, 0x03, 1]],
    ['an empty key run', [2, 0x01, 0]],
    ['a key run longer than the diff', [2, 0x01, 5, 65, 66]],
    ['a zero-column window', [2, 0x02, 0, 24]],
    ['a window wider than LIMITS', [2, 0x02, 0xe9, 0x07, 24]],
    ['a window taller than LIMITS', [2, 0x02, 80, 0xf5, 0x03]],
    ['a truncated resize', [2, 0x02, 80]],
    ['a header and no events', [2]],
    ['a truncated base count', [0x80]],
  ])('rejects %s and stays unchanged', (_what, diff) => {
    const s = base();
    const before = s.clone();
    expect(() => s.apply(Uint8Array.from(diff))).toThrow(MalformedUserStreamDiffError);
    expect(s.equals(before)).toBe(true);
    expect(s.totalEvents).toBe(2);
    s.pushKeys(ascii('c'));
    expect(flatten(s.eventsSince(0))).toEqual([...ascii('abc')]);
  });

  it('accepts the largest window', () => {
    const s = base();
    s.apply(Uint8Array.from([2, 0x02, 0xe8, 0x07, 0xf4, 0x03]));
    expect(s.eventsSince(2)).toEqual([{ kind: 'resize', index: 2, cols: 1000, rows: 500 }]);
  });

  it('property: random bytes either apply cleanly or throw MalformedUserStreamDiffError and change nothing', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.boolean(), (garbage, withBase) => {
        const s = base();
        const before = s.clone();
        const diff = withBase ? Uint8Array.from([2, ...garbage]) : garbage;
        try {
          s.apply(diff);
        } catch (err) {
          expect(err).toBeInstanceOf(MalformedUserStreamDiffError);
          expect(s.equals(before)).toBe(true);
          return;
        }
        // Whatever was accepted round-trips.
        expect(s.diffFrom(before).length === 0).toBe(diff.length === 0);
        const again = before.clone();
        again.apply(s.diffFrom(before));
        expect(again.equals(s)).toBe(true);
      }),
      { seed: SEED + 3, numRuns: 2000 },
    );
  });
});

describe('UserStream memory', () => {
  it('stays bounded over a long session when acknowledged prefixes are subtracted, as the transport does', () => {
    // Mimic the sender: the current state, a short list of sent clones, the front one acknowledged.
    const current = new UserStream();
    const sent: UserStream[] = [current.clone()];
    let maxRetained = 0;
    const keystrokes = 50_000;
    for (let i = 0; i < keystrokes; i++) {
      current.pushKeys(bytes(i & 0xff));
      if (i % 3 === 0) sent.push(current.clone());
      if (sent.length > 4) sent.splice(0, sent.length - 4);
      const front = sent[0]!;
      current.subtract(front);
      for (let k = sent.length - 1; k >= 0; k--) sent[k]!.subtract(front);
      maxRetained = Math.max(maxRetained, current.retainedEvents, ...sent.map((s) => s.retainedEvents));
    }
    expect(current.totalEvents).toBe(keystrokes);
    expect(maxRetained).toBeLessThanOrEqual(2 * COMPACTION_MIN_DEAD_EVENTS + 16);
    expect(flatten(current.eventsSince(current.firstHeldEvent))).toEqual(
      Array.from({ length: keystrokes - current.firstHeldEvent }, (_, k) => (current.firstHeldEvent + k) & 0xff),
    );
  });

  it('a receiver rebuilt from diffs and subtracted keeps only what is unread', () => {
    let remote = new UserStream();
    let sent = new UserStream();
    const current = new UserStream();
    for (let i = 0; i < 20_000; i++) {
      current.pushKeys(bytes(i & 0xff, (i >> 8) & 0xff));
      const next = remote.clone();
      next.apply(current.diffFrom(sent));
      const older = remote;
      remote = next;
      sent = current.clone();
      remote.subtract(older);
      current.subtract(older);
    }
    expect(remote.totalEvents).toBe(40_000);
    expect(remote.retainedEvents).toBeLessThanOrEqual(2 * COMPACTION_MIN_DEAD_EVENTS + 2);
  });
});

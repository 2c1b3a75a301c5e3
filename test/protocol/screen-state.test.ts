import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteWriter } from '../../protocol/byte-writer.js';
import { blankFramebuffer, framebuffersEqual, Row } from '../../protocol/framebuffer.js';
import { diffFramebuffers, FrameOp, ScreenDiffError } from '../../protocol/screen-diff.js';
import { ScreenState, SECTION_ECHO_ACK, SECTION_FRAMEBUFFER, SECTION_SCROLLBACK } from '../../protocol/screen-state.js';
import { applyEdit, editedPairArb, snapshotFramebuffer } from '../support/framebuffer-arbitrary.js';

const SEED = 31_337;

const echoAckArb = fc.oneof(fc.nat(10), fc.maxSafeNat());

/** Two screen states: the second one an edit of the first, with its own echo ack. */
const statePairArb = fc
  .tuple(editedPairArb(), echoAckArb, echoAckArb)
  .map(([[a, b], ackA, ackB]) => [new ScreenState(a, ackA), new ScreenState(b, ackB)] as const);

function section(tag: number, body: Uint8Array): Uint8Array {
  const w = new ByteWriter();
  w.varint(tag);
  w.varint(body.length);
  w.bytes(body);
  return w.toBytes();
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function typed(state: ScreenState): ScreenState {
  const next = state.clone();
  next.setFramebuffer(applyEdit(state.framebuffer, { kind: 'type', x: 0, y: 0, content: { kind: 'narrow', text: 'z' }, rendition: { fg: 0, bg: 0, attrs: 0 } }));
  return next;
}

describe('ScreenState', () => {
  it('starts both ends on the same blank 80x24 screen with echo ack 0', () => {
    const a = ScreenState.initial();
    const b = ScreenState.initial();
    expect(a.framebuffer.cols).toBe(80);
    expect(a.framebuffer.rows).toBe(24);
    expect(a.echoAck).toBe(0);
    expect(framebuffersEqual(a.framebuffer, blankFramebuffer(80, 24))).toBe(true);
    expect(a.equals(b)).toBe(true);
    expect(a.diffFrom(b).length).toBe(0);
  });

  it('meets the SyncState contract: apply(diffFrom(base)) to a copy of base gives this state', () => {
    fc.assert(
      fc.property(statePairArb, ([a, b]) => {
        const before = snapshotFramebuffer(a.framebuffer);
        const diff = b.diffFrom(a);
        const copy = a.clone();
        copy.apply(diff);
        expect(copy.equals(b)).toBe(true);
        expect(b.equals(copy)).toBe(true);
        expect(diff.length === 0).toBe(a.equals(b));
        // Neither the base nor the copy's former framebuffer was touched.
        expect(snapshotFramebuffer(a.framebuffer)).toEqual(before);
        expect(a.echoAck === b.echoAck || !a.equals(copy)).toBe(true);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('clones cheaply and independently', () => {
    const a = ScreenState.initial();
    const c = a.clone();
    expect(c.framebuffer).toBe(a.framebuffer);
    c.setEchoAck(5);
    c.setFramebuffer(blankFramebuffer(10, 2));
    expect(a.echoAck).toBe(0);
    expect(a.framebuffer.cols).toBe(80);
    const d = typed(a);
    expect(a.equals(d)).toBe(false);
    expect(a.equals(a.clone())).toBe(true);
  });

  it('sends an echo ack alone in a few bytes and keeps the framebuffer object', () => {
    const a = ScreenState.initial();
    const b = a.clone();
    b.setEchoAck(300);
    const diff = b.diffFrom(a);
    expect(Array.from(diff)).toEqual([SECTION_ECHO_ACK, 2, 0xac, 0x02]);
    const copy = a.clone();
    copy.apply(diff);
    expect(copy.echoAck).toBe(300);
    expect(copy.framebuffer).toBe(a.framebuffer);
  });

  it('sends a screen change as one framebuffer section', () => {
    const a = ScreenState.initial();
    const b = typed(a);
    const diff = b.diffFrom(a);
    expect(diff[0]).toBe(SECTION_FRAMEBUFFER);
    expect(diff[1]).toBe(diff.length - 2);
    expect(diff.length).toBeLessThanOrEqual(12);
  });

  it('skips unknown sections, before or after the known ones', () => {
    const a = ScreenState.initial();
    const b = typed(a);
    b.setEchoAck(9);
    const diff = b.diffFrom(a);
    const unknown = section(SECTION_SCROLLBACK, new Uint8Array([1, 2, 3, 0xff]));
    const future = section(200, new Uint8Array(70));
    for (const d of [concat(unknown, diff), concat(diff, future), concat(unknown, diff, future)]) {
      const copy = a.clone();
      copy.apply(d);
      expect(copy.equals(b)).toBe(true);
    }
    const copy = a.clone();
    copy.apply(unknown);
    expect(copy.equals(a)).toBe(true);
  });

  it('rejects malformed diffs with ScreenDiffError and applies nothing of them', () => {
    const a = ScreenState.initial();
    a.setEchoAck(4);
    const ack = (n: number): Uint8Array => {
      const w = new ByteWriter();
      w.varint(n);
      return section(SECTION_ECHO_ACK, w.toBytes());
    };
    const goodFrame = section(SECTION_FRAMEBUFFER, diffFramebuffers(a.framebuffer, typed(a).framebuffer));
    const badFrame = section(SECTION_FRAMEBUFFER, new Uint8Array([FrameOp.Resize, 0, 0]));
    const bad: [string, Uint8Array][] = [
      ['a section longer than the diff', new Uint8Array([SECTION_ECHO_ACK, 5, 1])],
      ['a section length cut short', new Uint8Array([SECTION_FRAMEBUFFER, 0x80])],
      ['a good echo ack then a bad framebuffer', concat(ack(7), badFrame)],
      ['a good framebuffer then a bad echo ack', concat(goodFrame, section(SECTION_ECHO_ACK, new Uint8Array([0x80])))],
      ['an echo ack with trailing bytes', section(SECTION_ECHO_ACK, new Uint8Array([7, 0]))],
      ['two echo acks', concat(ack(7), ack(8))],
      ['two framebuffer sections', concat(goodFrame, goodFrame)],
      ['a truncated framebuffer section', goodFrame.subarray(0, goodFrame.length - 1)],
      ['a tag that is not a varint', new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])],
    ];
    for (const [name, diff] of bad) {
      const copy = a.clone();
      const fb = copy.framebuffer;
      expect(() => copy.apply(diff), name).toThrow(ScreenDiffError);
      expect(copy.echoAck, name).toBe(4);
      expect(copy.framebuffer, name).toBe(fb);
    }
  });

  it('never crashes on garbage', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (garbage) => {
        const s = ScreenState.initial();
        try {
          s.apply(garbage);
        } catch (err) {
          expect(err).toBeInstanceOf(ScreenDiffError);
          expect(s.equals(ScreenState.initial())).toBe(true);
        }
      }),
      { seed: SEED + 1, numRuns: 500 },
    );
  });

  it('refuses an echo ack that is not a non-negative safe integer', () => {
    const s = ScreenState.initial();
    expect(() => s.setEchoAck(-1)).toThrow(RangeError);
    expect(() => s.setEchoAck(1.5)).toThrow(RangeError);
    expect(() => s.setEchoAck(2 ** 53)).toThrow(RangeError);
    s.setEchoAck(Number.MAX_SAFE_INTEGER);
    const copy = ScreenState.initial();
    copy.apply(s.diffFrom(ScreenState.initial()));
    expect(copy.echoAck).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('does nothing on subtract', () => {
    const a = typed(ScreenState.initial());
    const before = a.framebuffer;
    a.subtract(ScreenState.initial());
    expect(a.framebuffer).toBe(before);
    expect(a.equals(typed(ScreenState.initial()))).toBe(true);
  });

  it('returns diffs that stay valid after later diffs are made', () => {
    const a = ScreenState.initial();
    const b = typed(a);
    const first = b.diffFrom(a);
    const kept = Array.from(first);
    const c = b.clone();
    c.setFramebuffer({ ...b.framebuffer, lines: b.framebuffer.lines.map(() => Row.blank(80)), title: 'x'.repeat(3000) });
    c.diffFrom(a);
    expect(Array.from(first)).toEqual(kept);
  });
});

describe('ScreenState exit status', () => {
  it('travels in its own section and round-trips, including back to none', () => {
    const a = ScreenState.initial();
    const b = a.clone();
    b.setExitStatus(3);
    const diff = b.diffFrom(a);
    expect(diff.length).toBeGreaterThan(0);
    const c = a.clone();
    c.apply(diff);
    expect(c.exitStatus).toBe(3);
    expect(c.equals(b)).toBe(true);
    expect(c.equals(a)).toBe(false);
    const d = b.clone();
    d.setExitStatus(null);
    b.apply(d.diffFrom(b));
    expect(b.exitStatus).toBeNull();
  });
  it('refuses a status outside 0..255', () => {
    expect(() => ScreenState.initial().setExitStatus(256)).toThrow(RangeError);
  });
});

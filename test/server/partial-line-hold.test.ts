import { describe, expect, it } from 'vitest';
import { PartialLineHold, type ParsedOutput } from '../../server/partial-line-hold.js';

const HOLD_MS = 30;

/** Feeds the hold one parse at a time, counting reads and line feeds as an emulator would. */
function parser(hold = new PartialLineHold()): { hold: PartialLineHold; parse: (at: number, text: string, extra?: Partial<ParsedOutput>) => boolean } {
  let reads = 0;
  let withLineFeed = 0;
  return {
    hold,
    parse(at, text, extra = {}) {
      reads++;
      if (text.includes('\n')) withLineFeed++;
      return hold.parsed(at, { parsedWrites: reads, outputsWithLineFeed: withLineFeed, pendingBytes: 0, endsMidLine: !text.endsWith('\n'), synchronizedOutput: false, ...extra }, HOLD_MS);
    },
  };
}

describe('PartialLineHold', () => {
  it('holds a half-written bottom line while lines stream in, and lets it go once the output pauses', () => {
    const { hold, parse } = parser();
    expect(parse(1000, 'y\r\n'.repeat(1000))).toBe(false);
    expect(parse(1001, 'y\r\n'.repeat(999) + 'y')).toBe(true);
    expect(hold.quiet(1001 + HOLD_MS - 1, HOLD_MS)).toBe(false);
    expect(hold.waitTime(1011, HOLD_MS)).toBe(HOLD_MS - 10);
    expect(hold.quiet(1001 + HOLD_MS, HOLD_MS)).toBe(true);
    hold.release();
    expect(hold.held).toBe(false);
    expect(hold.waitTime(1100, HOLD_MS)).toBe(Infinity);
  });

  it('rides out a pause shorter than the hold time (a program or this server descheduled mid-flood)', () => {
    const { parse } = parser();
    parse(1000, 'y\r\n'.repeat(1000));
    // 3 ms was once the fixed limit: a flood paused 12 ms by the scheduler looked finished.
    expect(parse(1012, '\r\n'.repeat(1000) + 'y')).toBe(true);
    expect(parse(1012 + HOLD_MS, '\r\n'.repeat(1000) + 'y')).toBe(false);
  });

  it('never holds the output that follows a pause: an echo or a prompt', () => {
    const { parse } = parser();
    parse(1000, 'ls\r\n');
    expect(parse(1000 + HOLD_MS, 'file\r\n$ ')).toBe(false);
    expect(parse(1200, 'a')).toBe(false);
  });

  it('holds when more output is queued or one slice parsed several reads, even after a pause', () => {
    const a = parser();
    a.parse(1000, 'x\r\n');
    expect(a.parse(2000, 'x\r\ny', { pendingBytes: 4096 })).toBe(true);
    const b = parser();
    b.parse(1000, 'x\r\n');
    expect(b.hold.parsed(2000, { parsedWrites: 3, outputsWithLineFeed: 2, pendingBytes: 0, endsMidLine: true, synchronizedOutput: false }, HOLD_MS)).toBe(true);
  });

  it('never holds a line rewritten in place without pause (a progress counter): it would freeze until the output stops', () => {
    const { parse } = parser();
    for (let i = 0; i < 100; i++) expect(parse(1000 + i, `\r${i}%`), `update ${i}`).toBe(false);
  });

  it('holds again once the rewritten line is followed by new lines (a build log under its status line)', () => {
    const { parse } = parser();
    expect(parse(1000, '\r[1/9] cc a.c')).toBe(false);
    expect(parse(1001, '\r\x1b[Kwarning: unused x\r\n[2/9] cc b.c')).toBe(true);
    expect(parse(1002, '\r\x1b[K[3/9] cc c.c')).toBe(false);
  });

  it('holds a frame the application is midway through drawing (synchronized output), even after a pause', () => {
    const { hold, parse } = parser();
    expect(parse(1000, '\x1b[?2026h\x1b[H\x1b[2Jtop half', { synchronizedOutput: true })).toBe(true);
    expect(parse(1000 + HOLD_MS * 3, '\x1b[12;1Hbottom\r\nhalf', { synchronizedOutput: true })).toBe(true);
    expect(parse(1000 + HOLD_MS * 6, '\x1b[24;1Hend\x1b[?2026l', { synchronizedOutput: false })).toBe(false);
    // An application that never turns it off: the screen goes once the output has been quiet.
    expect(parse(2000, '\x1b[?2026hstuck', { synchronizedOutput: true })).toBe(true);
    expect(hold.quiet(2000 + HOLD_MS, HOLD_MS)).toBe(true);
  });

  it('lets a held half line go with an echo ack, but not a frame still being drawn', () => {
    const { hold, parse } = parser();
    parse(1000, 'y\r\n'.repeat(100));
    expect(parse(1001, '^C\r\n$ ')).toBe(true);
    expect(hold.releaseForEcho()).toBe(true);
    expect(hold.held).toBe(false);
    expect(hold.releaseForEcho()).toBe(false);
    expect(parse(1002, '\x1b[?2026h\x1b[Hhalf\r\nof it', { synchronizedOutput: true })).toBe(true);
    expect(hold.releaseForEcho()).toBe(false);
    expect(hold.held).toBe(true);
    hold.release();
    expect(hold.held).toBe(false);
  });

  it('never holds a screen whose last line is complete', () => {
    const { parse } = parser();
    parse(1000, 'y\r\n'.repeat(10));
    expect(parse(1001, 'y\r\n'.repeat(10))).toBe(false);
  });
});

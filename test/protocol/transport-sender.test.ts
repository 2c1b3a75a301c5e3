import { describe, expect, it } from 'vitest';
import { FakeClock, type Millis } from '../../protocol/clock.js';
import type { FrameTiming } from '../../protocol/frame-timing.js';
import { MAX_CHAFF_BYTES, PROTOCOL_VERSION, SHUTDOWN_STATE, type Instruction } from '../../protocol/instruction.js';
import { SENT_STATE_LIMIT, SenderShutDownError, TransportSender, type LinkTiming } from '../../protocol/transport-sender.js';
import { seededRandom } from '../support/seeded-random.js';
import { seededRandomBytes } from '../support/sync-simulation.js';
import { TextScreen } from '../support/text-screen.js';

const START = 1000;

interface Setup {
  readonly clock: FakeClock;
  readonly sender: TransportSender<TextScreen>;
  readonly link: { srtt: number; rto: number };
  /** sentAt values passed to onRoundTripSuccess. */
  readonly trips: Millis[];
}

/** SRTT 100 → frame interval 50 ms; RTO 200 → a state counts as received for 300 ms after it is sent. */
function setup(options: { link?: LinkTiming; timing?: Partial<FrameTiming> } = {}): Setup {
  const clock = new FakeClock(START);
  const link = { srtt: 100, rto: 200, ...options.link };
  const trips: Millis[] = [];
  const sender = new TransportSender<TextScreen>({
    initial: new TextScreen(4),
    clock: clock.now,
    random: seededRandomBytes(seededRandom(7)),
    link: () => link,
    onRoundTripSuccess: (t) => trips.push(t),
    timing: options.timing,
  });
  return { clock, sender, link, trips };
}

type Sent = Instruction & { readonly at: Millis };

/** Runs the sender's own timer loop until `until`, as an event loop would; returns what it sent. */
function run(s: Setup, until: Millis, beforeEach?: (now: Millis) => void): Sent[] {
  const out: Sent[] = [];
  for (let i = 0; i < 100_000; i++) {
    const now = s.clock.now();
    beforeEach?.(now);
    const next = now + s.sender.waitTime(now);
    if (next > until) break;
    s.clock.set(next);
    const inst = s.sender.tick(next);
    if (inst !== null) out.push({ ...inst, at: next });
    else if (next === now && i > 0) s.clock.set(now + 1); // nothing to do at this instant after all
  }
  if (s.clock.now() < until) s.clock.set(until);
  return out;
}

/** The first tick: announces us with an empty ack of state 1. */
function announce(s: Setup): Instruction {
  const inst = s.sender.tick(START);
  expect(inst).not.toBeNull();
  return inst!;
}

const summary = (i: Sent): [Millis, number, number, boolean] => [i.at, i.oldNum, i.newNum, i.diff.length > 0];

describe('TransportSender heartbeats and acks', () => {
  it('announces itself at once with an empty ack, then sends a heartbeat every 3 s', () => {
    const s = setup();
    expect(s.sender.waitTime(START)).toBe(0);
    const first = announce(s);
    expect(first).toMatchObject({ protocolVersion: PROTOCOL_VERSION, oldNum: 0, newNum: 1, ackNum: 0, throwawayNum: 0 });
    expect(first.diff.length).toBe(0);
    expect(s.sender.waitTime(START)).toBe(3000);
    expect(s.sender.tick(START + 2999)).toBeNull();
    const beats = run(s, START + 10_000);
    expect(beats.map(summary)).toEqual([
      [START + 3000, 0, 2, false],
      [START + 6000, 0, 3, false],
      [START + 9000, 0, 4, false],
    ]);
  });

  it('acknowledges a data-carrying state within ACK_DELAY', () => {
    const s = setup();
    announce(s);
    s.clock.set(2000);
    s.sender.setAckNum(5);
    s.sender.setDataAck();
    expect(s.sender.waitTime()).toBe(100);
    const [ack, ...rest] = run(s, 5000);
    expect(ack).toMatchObject({ at: 2100, ackNum: 5, newNum: 2 });
    expect(ack!.diff.length).toBe(0);
    // Then back to the heartbeat, due at 2100 + 3000.
    expect(rest).toEqual([]);
    expect(s.sender.waitTime()).toBe(100);
  });

  it('lets an ack ride on data instead of sending it separately', () => {
    const s = setup();
    announce(s);
    s.clock.set(2000);
    s.sender.setAckNum(5);
    s.sender.setDataAck();
    s.clock.set(2010);
    s.sender.current.setRow(0, 'echo');
    const sent = run(s, 2500);
    expect(sent.map((i) => [i.at, i.ackNum, i.diff.length > 0])).toEqual([[2018, 5, true]]);
  });

  it('puts the acknowledged state in throwawayNum and tells the link layer when it was sent', () => {
    const s = setup();
    announce(s);
    s.clock.set(1500);
    s.sender.processAck(1);
    expect(s.trips).toEqual([START]);
    expect(s.sender.ackedNum).toBe(1);
    expect(s.sender.ackedSentAt).toBe(START);
    s.sender.current.setRow(1, 'x');
    const [data] = run(s, 1600);
    expect(data).toMatchObject({ oldNum: 1, newNum: 2, throwawayNum: 1 });
  });

  it('ignores an acknowledgement of a state it does not hold', () => {
    const s = setup();
    announce(s);
    s.sender.processAck(7);
    expect(s.sender.ackedNum).toBe(0);
    expect(s.trips).toEqual([]);
  });

  it('carries 0 to 16 bytes of chaff from the random source', () => {
    const s = setup();
    announce(s);
    const lengths = new Set<number>();
    for (let i = 0; i < 40; i++) {
      s.clock.advance(3000);
      const inst = s.sender.tick();
      expect(inst).not.toBeNull();
      expect(inst!.chaff.length).toBeLessThanOrEqual(MAX_CHAFF_BYTES);
      lengths.add(inst!.chaff.length);
    }
    expect(lengths.size).toBeGreaterThan(8);
  });
});

describe('TransportSender frame pacing', () => {
  it('sends new data after the collection delay', () => {
    const s = setup();
    announce(s);
    s.clock.set(2000);
    s.sender.current.setRow(0, 'hello');
    expect(s.sender.waitTime()).toBe(8);
    const sent = run(s, 2200);
    expect(sent.map(summary)).toEqual([[2008, 0, 2, true]]);
  });

  it('uses the client collection delay when given', () => {
    const s = setup({ timing: { collectionDelay: 1 } });
    announce(s);
    s.clock.set(2000);
    s.sender.current.setRow(0, 'k');
    expect(s.sender.waitTime()).toBe(1);
  });

  it('sends at most one frame per frame interval, however fast the state changes', () => {
    const s = setup(); // frame interval 50 ms
    announce(s);
    s.clock.set(2000);
    const sent = run(s, 3000, (now) => s.sender.current.setRow(now % 4, `t=${now}`));
    const data = sent.filter((i) => i.diff.length > 0);
    for (let k = 1; k < data.length; k++) expect(data[k]!.at - data[k - 1]!.at).toBeGreaterThanOrEqual(50);
    expect(data.length).toBeGreaterThanOrEqual(19);
    expect(data.length).toBeLessThanOrEqual(21);
    // Each frame is a new state number.
    expect(new Set(data.map((i) => i.newNum)).size).toBe(data.length);
  });

  it("sends the echo of the peer's input at once, skipping the frame interval within the window", () => {
    const s = setup({ link: { srtt: 400, rto: 600 } }); // frame interval 200 ms
    announce(s);
    s.clock.set(2000);
    s.sender.current.setRow(0, 'prompt$ ');
    expect(run(s, 2010).map(summary)).toEqual([[2008, 0, 2, true]]);
    // A keystroke arrives 20 ms later: an unrelated change goes first, then the echo; neither waits until 2208.
    s.clock.set(2030);
    s.sender.expedite(2030, 20);
    s.sender.current.setRow(2, 'echo ack');
    expect(s.sender.waitTime()).toBe(0);
    expect(run(s, 2031).map((i) => i.at)).toEqual([2030]);
    s.clock.set(2033);
    s.sender.current.setRow(0, 'prompt$ l');
    expect(run(s, 2040).map((i) => i.at)).toEqual([2033]);
    // After the window, changes are paced by the frame interval again.
    s.clock.set(2060);
    s.sender.current.setRow(1, 'output');
    const next = run(s, 2400).filter((i) => i.diff.length > 0);
    expect(next[0]!.at).toBe(2033 + 200);
  });

  it('does not expedite a change that comes after the window', () => {
    const s = setup({ link: { srtt: 400, rto: 600 } });
    announce(s);
    s.clock.set(2000);
    s.sender.current.setRow(0, 'a');
    run(s, 2010);
    s.sender.expedite(2010, 50);
    s.clock.set(2100);
    s.sender.current.setRow(0, 'b');
    expect(run(s, 2400).filter((i) => i.diff.length > 0)[0]!.at).toBe(2208);
  });

  it('follows the link: a slower SRTT means slower frames', () => {
    const s = setup({ link: { srtt: 400, rto: 600 } }); // frame interval 200 ms
    announce(s);
    s.clock.set(2000);
    const data = run(s, 4000, (now) => s.sender.current.setRow(0, `t=${now}`)).filter((i) => i.diff.length > 0);
    expect(data.length).toBe(10);
    expect(s.sender.sendInterval()).toBe(200);
  });
});

describe('TransportSender retransmission', () => {
  it('assumes a recent state arrived, then resends from the acknowledged state every RTO + ACK_DELAY', () => {
    const s = setup();
    announce(s);
    s.sender.processAck(1);
    s.sender.remoteHeard(1500);
    s.clock.set(2000);
    s.sender.current.setRow(0, 'lost');
    const sent = run(s, 3000);
    // Retransmissions keep the state number and start from the acknowledged state.
    expect(sent.map(summary)).toEqual([
      [2008, 1, 2, true],
      [2308, 1, 2, true],
      [2608, 1, 2, true],
      [2908, 1, 2, true],
    ]);
    s.sender.processAck(2);
    expect(s.trips.at(-1)).toBe(2908);
    // Acknowledged: nothing until the next heartbeat.
    expect(s.sender.waitTime()).toBe(2908 + 3000 - s.clock.now());
  });

  it('stops resending at frame rate once the peer has been silent for 10 s, but keeps the heartbeat', () => {
    const s = setup();
    announce(s);
    s.sender.processAck(1);
    s.sender.remoteHeard(1500);
    s.clock.set(2000);
    s.sender.current.setRow(0, 'unacked');
    const sent = run(s, 30_000);
    const early = sent.filter((i) => i.at < 11_500);
    const late = sent.filter((i) => i.at >= 11_500);
    expect(early.length).toBeGreaterThan(25);
    // After that: one every ACK_INTERVAL, still carrying the data.
    for (let k = 1; k < late.length; k++) expect(late[k]!.at - late[k - 1]!.at).toBe(3000);
    expect(late.length).toBeGreaterThanOrEqual(5);
    expect(late.every((i) => i.diff.length > 0 && i.oldNum === 1)).toBe(true);
  });

  it('diffs from the acknowledged state when that costs little more (prospective resend)', () => {
    const s = setup();
    announce(s);
    s.sender.processAck(1);
    s.sender.remoteHeard(1500);
    s.clock.set(2000);
    s.sender.current.setRow(1, 'first');
    const [a] = run(s, 2100);
    expect(a).toMatchObject({ oldNum: 1, newNum: 2 });
    s.sender.current.setRow(2, 'second');
    const [b] = run(s, 2200);
    // Still within the benefit of the doubt for state 2, but the diff from state 1 is only a row longer.
    expect(b).toMatchObject({ oldNum: 1, newNum: 3 });
  });

  it('diffs from the assumed state when the diff from the acknowledged one is much longer', () => {
    const s = setup();
    announce(s);
    s.sender.processAck(1);
    s.sender.remoteHeard(1500);
    s.clock.set(2000);
    s.sender.current.setRow(1, 'x'.repeat(200));
    const [a] = run(s, 2100);
    expect(a).toMatchObject({ oldNum: 1, newNum: 2 });
    s.sender.current.setRow(2, 'small');
    const [b] = run(s, 2200);
    expect(b).toMatchObject({ oldNum: 2, newNum: 3 });
    expect(b!.diff.length).toBeLessThan(20);
    // Once the benefit of the doubt for state 3 runs out, the resend starts from the acknowledged state.
    const [c] = run(s, 2600);
    expect(c).toMatchObject({ oldNum: 1, newNum: 3 });
    expect(c!.diff.length).toBeGreaterThan(200);
  });

  it(`keeps at most ${SENT_STATE_LIMIT} sent states, always the acknowledged and the newest`, () => {
    const s = setup();
    announce(s);
    s.sender.remoteHeard(1500);
    let t = 2000;
    for (let i = 0; i < 100; i++) {
      s.clock.set(t);
      s.sender.current.setRow(0, `frame ${i}`);
      run(s, t + 60);
      t += 60;
      expect(s.sender.sentStateCount).toBeLessThanOrEqual(SENT_STATE_LIMIT);
    }
    expect(s.sender.sentStateCount).toBe(SENT_STATE_LIMIT);
    expect(s.sender.ackedNum).toBe(0);
    expect(s.sender.lastSentNum).toBe(101);
    // Mosh erases the 16th from the end: the oldest states stay, the middle ones go.
    s.sender.processAck(40);
    expect(s.sender.ackedNum).toBe(0);
    s.sender.processAck(12);
    expect(s.sender.ackedNum).toBe(12);
    s.sender.processAck(101);
    expect(s.sender.sentStateCount).toBe(1);
  });
});

describe('TransportSender shutdown', () => {
  it('sends SHUTDOWN_STATE at frame rate from the acknowledged state until acknowledged', () => {
    const s = setup();
    announce(s);
    s.sender.processAck(1);
    s.clock.set(2000);
    s.sender.startShutdown();
    expect(s.sender.shutdownInProgress).toBe(true);
    expect(() => s.sender.setCurrent(new TextScreen(4))).toThrow(SenderShutDownError);
    const sent = run(s, 2200);
    expect(sent.map(summary)).toEqual([
      [2000, 1, SHUTDOWN_STATE, false],
      [2050, 1, SHUTDOWN_STATE, false],
      [2100, 1, SHUTDOWN_STATE, false],
      [2150, 1, SHUTDOWN_STATE, false],
      [2200, 1, SHUTDOWN_STATE, false],
    ]);
    expect(s.sender.shutdownAcknowledged).toBe(false);
    expect(s.sender.shutdownTimedOut()).toBe(false);
    s.sender.processAck(SHUTDOWN_STATE);
    expect(s.sender.shutdownAcknowledged).toBe(true);
  });

  it('carries unacknowledged data in the shutdown state', () => {
    const s = setup();
    announce(s);
    s.sender.processAck(1);
    s.clock.set(2000);
    s.sender.current.setRow(0, 'last words');
    s.sender.startShutdown();
    const [first] = run(s, 2100);
    expect(first).toMatchObject({ oldNum: 1, newNum: SHUTDOWN_STATE });
    const check = new TextScreen(4);
    check.apply(first!.diff);
    expect(check.row(0)).toBe('last words');
  });

  it('gives up after SHUTDOWN_RETRIES tries', () => {
    const s = setup();
    announce(s);
    s.clock.set(2000);
    s.sender.startShutdown();
    const sent = run(s, 2000 + 15 * 50);
    expect(sent.length).toBe(16);
    expect(s.sender.shutdownTimedOut()).toBe(true);
  });

  it('gives up after SHUTDOWN_TIMEOUT when tries remain', () => {
    const s = setup({ timing: { shutdownRetries: 10_000 } });
    announce(s);
    s.sender.startShutdown(2000);
    expect(s.sender.shutdownTimedOut(11_999)).toBe(false);
    expect(s.sender.shutdownTimedOut(12_000)).toBe(true);
  });

  it("acknowledges the peer's shutdown within a frame interval", () => {
    const s = setup();
    announce(s);
    s.clock.set(2000);
    expect(s.sender.counterpartyShutdownAckSent).toBe(false);
    s.sender.setAckNum(SHUTDOWN_STATE);
    // The heartbeat was due at 4000; a peer shutting down is answered at the next frame.
    expect(s.sender.waitTime()).toBe(0);
    const inst = s.sender.tick();
    expect(inst).toMatchObject({ ackNum: SHUTDOWN_STATE });
    expect(s.sender.counterpartyShutdownAckSent).toBe(true);
  });
});

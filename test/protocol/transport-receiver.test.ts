import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../protocol/clock.js';
import { PROTOCOL_VERSION, SHUTDOWN_STATE, type Instruction } from '../../protocol/instruction.js';
import { TransportReceiver } from '../../protocol/transport-receiver.js';
import { TransportSender } from '../../protocol/transport-sender.js';
import { UserStream } from '../../protocol/user-stream.js';
import { seededRandom } from '../support/seeded-random.js';
import { seededRandomBytes } from '../support/sync-simulation.js';
import { MalformedTextScreenDiffError, TextScreen } from '../support/text-screen.js';

/** The diff that turns `from` into a screen with `row` set to `text`. */
function rowDiff(from: TextScreen, row: number, text: string): Uint8Array {
  const to = from.clone();
  to.setRow(row, text);
  return to.diffFrom(from);
}

function inst(oldNum: number, newNum: number, diff: Uint8Array, extra: Partial<Instruction> = {}): Instruction {
  return { protocolVersion: PROTOCOL_VERSION, oldNum, newNum, ackNum: 0, throwawayNum: 0, diff, chaff: new Uint8Array(0), ...extra };
}

function setup(options: { stateLimit?: number; quenchMs?: number } = {}): { clock: FakeClock; rx: TransportReceiver<TextScreen> } {
  const clock = new FakeClock(0);
  return { clock, rx: new TransportReceiver<TextScreen>({ initial: new TextScreen(4), clock: clock.now, ...options }) };
}

const blank = new TextScreen(4);

describe('TransportReceiver', () => {
  it('applies an Instruction whose base it holds and whose target it does not', () => {
    const { rx } = setup();
    expect(rx.latestNum).toBe(0);
    expect(rx.receive(inst(0, 1, rowDiff(blank, 0, 'a')), 5)).toBe('newest');
    expect(rx.latestNum).toBe(1);
    expect(rx.latest.row(0)).toBe('a');
    expect(rx.latestArrivedAt).toBe(5);
    expect(rx.latestCarriedData).toBe(true);
    expect(rx.receive(inst(1, 2, new Uint8Array(0)))).toBe('newest');
    expect(rx.latestCarriedData).toBe(false);
    expect(rx.latest.row(0)).toBe('a');
  });

  it('ignores a duplicate, even one with a different diff (a replay cannot change a state)', () => {
    const { rx } = setup();
    rx.receive(inst(0, 1, rowDiff(blank, 0, 'a')));
    expect(rx.receive(inst(0, 1, rowDiff(blank, 0, 'evil')))).toBe('duplicate');
    expect(rx.latest.row(0)).toBe('a');
    expect(rx.heldStates).toBe(2);
  });

  it('drops an Instruction whose base it does not hold', () => {
    const { rx } = setup();
    expect(rx.receive(inst(3, 4, rowDiff(blank, 0, 'x')))).toBe('unknown-base');
    expect(rx.latestNum).toBe(0);
    expect(rx.heldStates).toBe(1);
  });

  it('uses an out-of-order arrival if its base is held, without making it the latest', () => {
    const { rx } = setup();
    const one = blank.clone();
    one.setRow(0, 'one');
    const two = one.clone();
    two.setRow(1, 'two');
    expect(rx.receive(inst(0, 2, two.diffFrom(blank)))).toBe('newest');
    expect(rx.receive(inst(0, 1, one.diffFrom(blank)))).toBe('older');
    expect(rx.latestNum).toBe(2);
    expect(rx.latest.equals(two)).toBe(true);
    // State 1 is held now, so an Instruction based on it works.
    const three = two.clone();
    three.setRow(2, 'three');
    expect(rx.receive(inst(1, 3, three.diffFrom(one)))).toBe('newest');
    expect(rx.latest.equals(three)).toBe(true);
  });

  it('throws away states below throwawayNum but never the base', () => {
    const { rx } = setup();
    const screens = [blank];
    for (let n = 1; n <= 5; n++) {
      const next = screens[n - 1]!.clone();
      next.setRow(0, `s${n}`);
      rx.receive(inst(n - 1, n, next.diffFrom(screens[n - 1]!)));
      screens.push(next);
    }
    expect(rx.heldStates).toBe(6);
    const six = screens[4]!.clone();
    six.setRow(1, 'six');
    expect(rx.receive(inst(4, 6, six.diffFrom(screens[4]!), { throwawayNum: 4 }))).toBe('newest');
    expect(rx.heldStates).toBe(3); // 4, 5, 6
    expect(rx.latest.equals(six)).toBe(true);
    expect(rx.receive(inst(2, 7, new Uint8Array(0)))).toBe('unknown-base');
  });

  it('drops numbers no correct peer sends', () => {
    const { rx } = setup();
    rx.receive(inst(0, 1, new Uint8Array(0)));
    rx.receive(inst(1, 2, new Uint8Array(0)));
    expect(rx.receive(inst(2, 2, new Uint8Array(0)))).toBe('duplicate');
    expect(rx.receive(inst(2, 1, new Uint8Array(0)))).toBe('duplicate');
    rx.receive(inst(2, 5, new Uint8Array(0)));
    expect(rx.receive(inst(5, 3, new Uint8Array(0)))).toBe('inconsistent');
    expect(rx.receive(inst(1, 6, new Uint8Array(0), { throwawayNum: 2 }))).toBe('inconsistent');
    expect(rx.heldStates).toBe(4);
    expect(rx.latestNum).toBe(5);
  });

  it('drops a diff the state refuses and changes nothing, not even the throwaway', () => {
    const { rx } = setup();
    rx.receive(inst(0, 1, rowDiff(blank, 0, 'a')));
    rx.receive(inst(1, 2, new Uint8Array(0)));
    expect(rx.receive(inst(2, 3, Uint8Array.from([9, 9, 9]), { throwawayNum: 2 }))).toBe('bad-diff');
    expect(rx.lastError).toBeInstanceOf(MalformedTextScreenDiffError);
    expect(rx.heldStates).toBe(3);
    expect(rx.latestNum).toBe(2);
    expect(rx.latest.row(0)).toBe('a');
    // State 3 can still arrive intact later.
    expect(rx.receive(inst(2, 3, rowDiff(rx.latest, 1, 'b')))).toBe('newest');
  });

  it('holds at most stateLimit + 1 states, then takes one per quench period', () => {
    const { clock, rx } = setup({ stateLimit: 4, quenchMs: 1000 });
    let n = 0;
    const next = (): string => rx.receive(inst(n, n + 1, new Uint8Array(0)), clock.now()) === 'newest' ? String(++n) : 'refused';
    expect([next(), next(), next(), next()]).toEqual(['1', '2', '3', '4']);
    expect(rx.heldStates).toBe(5);
    // Over the limit: Mosh takes this one and starts the quench timer…
    expect(next()).toBe('5');
    // …then refuses new states until it runs out.
    clock.set(999);
    expect(rx.receive(inst(n, n + 1, new Uint8Array(0)), clock.now())).toBe('quenched');
    expect(rx.heldStates).toBe(6);
    clock.set(1000);
    expect(next()).toBe('6');
    expect(rx.receive(inst(n, n + 1, new Uint8Array(0)), 1500)).toBe('quenched');
    // A throwaway that brings the count under the limit ends the refusal at once.
    expect(rx.receive(inst(n, n + 1, new Uint8Array(0), { throwawayNum: n }), 1500)).toBe('newest');
    expect(rx.heldStates).toBe(2);
  });

  it('sees the peer shutting down', () => {
    const { rx } = setup();
    expect(rx.peerShuttingDown).toBe(false);
    expect(rx.receive(inst(0, SHUTDOWN_STATE, new Uint8Array(0)))).toBe('newest');
    expect(rx.peerShuttingDown).toBe(true);
    expect(rx.latestNum).toBe(SHUTDOWN_STATE);
    expect(rx.receive(inst(0, SHUTDOWN_STATE, new Uint8Array(0)))).toBe('duplicate');
  });

  it('rationalize makes a UserStream forget what the oldest held state holds', () => {
    const clock = new FakeClock(0);
    const rx = new TransportReceiver<UserStream>({ initial: new UserStream(), clock: clock.now });
    const a = new UserStream();
    const empty = a.clone();
    a.pushKeys(new TextEncoder().encode('abc'));
    const b = a.clone();
    b.pushKeys(new TextEncoder().encode('de'));
    rx.receive(inst(0, 1, a.diffFrom(empty)));
    rx.receive(inst(1, 2, b.diffFrom(a), { throwawayNum: 1 }));
    expect(rx.latest.firstHeldEvent).toBe(0);
    rx.rationalize();
    expect(rx.latest.firstHeldEvent).toBe(3);
    expect(rx.latest.eventsSince(3)).toEqual([{ kind: 'keys', index: 3, bytes: new TextEncoder().encode('de') }]);
    expect(rx.latest.totalEvents).toBe(5);
  });

  it('property: any replay, duplication and reordering of a real sender’s Instructions yields only true states', () => {
    // A real sender produces the Instructions (with diffs from assumed and acknowledged states);
    // the receiver gets them shuffled, duplicated and partly lost, and must never hold a state
    // under a number that the sender gave to different content.
    const clock = new FakeClock(0);
    const sender = new TransportSender<UserStream>({
      initial: new UserStream(),
      clock: clock.now,
      random: seededRandomBytes(seededRandom(3)),
      link: () => ({ srtt: 40, rto: 100 }),
      timing: { collectionDelay: 1 },
    });
    sender.remoteHeard(0);
    const produced: Instruction[] = [];
    const truth = new Map<number, number[]>([[0, []]]);
    const typed: number[] = [];
    const rng = seededRandom(5);
    for (let t = 0; t < 3000; t += 7) {
      clock.set(t);
      if (rng() < 0.5) {
        const b = Math.floor(rng() * 256);
        sender.current.pushKeys(Uint8Array.of(b));
        typed.push(b);
      }
      if (rng() < 0.05) sender.processAck(sender.lastSentNum);
      const out = sender.tick(t);
      if (out !== null) {
        produced.push(out);
        if (!truth.has(out.newNum)) truth.set(out.newNum, typed.slice());
        else expect(truth.get(out.newNum)).toEqual(typed);
      }
    }
    expect(produced.length).toBeGreaterThan(50);

    fc.assert(
      fc.property(fc.array(fc.nat(produced.length - 1), { maxLength: 300 }), (order) => {
        const rx = new TransportReceiver<UserStream>({ initial: new UserStream(), clock: clock.now });
        for (const i of order) {
          rx.receive(produced[i]!);
          const got: number[] = [];
          for (const e of rx.latest.eventsSince(0)) if (e.kind === 'keys') got.push(...e.bytes);
          expect(got).toEqual(truth.get(rx.latestNum));
        }
      }),
      { seed: 77, numRuns: 200 },
    );
  });
});

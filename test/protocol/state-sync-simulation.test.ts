import { describe, expect, it } from 'vitest';
import { RECEIVER_QUENCH_MS, RECEIVER_STATE_LIMIT } from '../../protocol/transport-receiver.js';
import { SENT_STATE_LIMIT } from '../../protocol/transport-sender.js';
import { COMPACTION_MIN_DEAD_EVENTS, type UserEvent } from '../../protocol/user-stream.js';
import type { LinkProfile } from '../support/link-model.js';
import { seededRandom, type Random } from '../support/seeded-random.js';
import { keyBytes, SyncSimulation } from '../support/sync-simulation.js';

/**
 * Two in-memory ends exchange encoded Instructions over a seeded, lossy, reordering, duplicating
 * network. Whatever the network does, once it heals: the client's copy of the screen equals the
 * server's, every key byte reached the server's application exactly once and in order, and the
 * state lists stayed within their limits.
 */

const HEALED: Partial<LinkProfile> = { delayMs: 20, jitterMs: 2 };

/** What the "user" did, to compare with what the server's application got. */
class Script {
  readonly typed: number[] = [];
  readonly resizes: [number, number][] = [];
  screenWrites = 0;

  constructor(
    readonly sim: SyncSimulation,
    readonly random: Random,
  ) {}

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.random() * (hi - lo + 1));
  }

  type(n: number): void {
    const bytes = new Uint8Array(n);
    for (let i = 0; i < n; i++) bytes[i] = this.int(0, 255);
    const first = this.sim.keyboard.pushKeys(bytes);
    expect(first).toBe(this.typed.length + this.resizes.length);
    this.typed.push(...bytes);
  }

  resize(): void {
    const size: [number, number] = [this.int(20, 300), this.int(5, 100)];
    this.sim.keyboard.pushResize(size[0], size[1]);
    // Resizes take event indexes too; the typed list only tracks bytes.
    this.resizes.push(size);
  }

  writeScreen(): void {
    const screen = this.sim.screen;
    screen.setRow(this.int(0, screen.rowCount - 1), `${this.screenWrites++}:${'x'.repeat(this.int(0, 60))}`);
  }

  /** Random typing (with the odd paste and resize) and screen output until `end`. */
  play(end: number, { typingGap = 150, screenGap = 60 } = {}): void {
    const sim = this.sim;
    let nextKey = sim.clock.now();
    let nextScreen = sim.clock.now();
    for (let guard = 0; guard < 1_000_000; guard++) {
      const t = Math.min(nextKey, nextScreen);
      if (t >= end) break;
      sim.runUntilTime(t);
      if (t === nextKey) {
        const dice = this.random();
        if (dice < 0.02) this.type(this.int(500, 3000));
        else if (dice < 0.04) this.resize();
        else this.type(this.int(1, 3));
        nextKey = t + this.int(1, typingGap);
      } else {
        this.writeScreen();
        nextScreen = t + this.int(1, screenGap);
      }
    }
    sim.runUntilTime(end);
  }
}

function checkDelivery(script: Script, delivered: readonly UserEvent[]): void {
  expect(Array.from(keyBytes(delivered))).toEqual(script.typed);
  expect(delivered.filter((e) => e.kind === 'resize').map((e) => (e.kind === 'resize' ? [e.cols, e.rows] : []))).toEqual(script.resizes);
  // Event indexes are contiguous from 0 and agree with the client's numbering.
  let next = 0;
  for (const e of delivered) {
    expect(e.index).toBe(next);
    next += e.kind === 'keys' ? e.bytes.length : 1;
  }
  expect(next).toBe(script.typed.length + script.resizes.length);
}

/**
 * Sent states never exceed their limit. Received states exceed theirs by at most one per quench
 * period: like Mosh, a full receiver still takes one new state each time its quench timer runs out,
 * which is what lets a sender that culled every state the receiver acknowledges get unstuck.
 */
function receivedStateBound(sim: SyncSimulation): number {
  return RECEIVER_STATE_LIMIT + 1 + Math.ceil(sim.clock.now() / RECEIVER_QUENCH_MS);
}

function checkBounded(sim: SyncSimulation): void {
  const h = sim.highWater;
  expect(h.clientSentStates).toBeLessThanOrEqual(SENT_STATE_LIMIT);
  expect(h.serverSentStates).toBeLessThanOrEqual(SENT_STATE_LIMIT);
  expect(h.clientReceivedStates).toBeLessThanOrEqual(receivedStateBound(sim));
  expect(h.serverReceivedStates).toBeLessThanOrEqual(receivedStateBound(sim));
}

/** After healing: converge, then let acks and throwaways settle (a few heartbeats). */
function healAndSettle(sim: SyncSimulation): void {
  sim.setLinks(HEALED);
  expect(sim.runUntil(() => sim.converged(), 30_000)).toBe(true);
  sim.runUntilTime(sim.clock.now() + 10_000);
  expect(sim.converged()).toBe(true);
  // Every event was acknowledged, so the client forgot them all; what either end still stores is
  // less than one compaction's worth.
  expect(sim.keyboard.firstHeldEvent).toBe(sim.keyboard.totalEvents);
  expect(sim.keyboard.retainedEvents).toBeLessThan(COMPACTION_MIN_DEAD_EVENTS);
  expect(sim.server.receiver.latest.retainedEvents).toBeLessThan(COMPACTION_MIN_DEAD_EVENTS);
}

describe('state sync over a simulated network', () => {
  it('a clean link delivers everything promptly, one Instruction per keystroke', () => {
    const sim = new SyncSimulation({ seed: 1, up: { delayMs: 20 }, down: { delayMs: 20 }, link: { srtt: 40, rto: 60 } });
    const script = new Script(sim, seededRandom(1));
    sim.runUntilTime(1000);
    const before = sim.instructionsUp;
    // Keystrokes 200 ms apart (longer than a frame interval) each leave in their own Instruction within the collection delay.
    for (let i = 0; i < 20; i++) {
      script.type(1);
      const typedAt = sim.clock.now();
      sim.runUntilTime(typedAt + 2);
      expect(sim.instructionsUp - before).toBe(i + 1);
      sim.runUntilTime(typedAt + 200);
      expect(sim.consumed).toBe(i + 1);
    }
    expect(sim.converged()).toBe(true);
    checkDelivery(script, sim.delivered);
    expect(sim.serverOutcomes['unknown-base'] + sim.serverOutcomes['bad-diff'] + sim.serverOutcomes.inconsistent).toBe(0);
  });

  it.each([1, 2, 3, 4, 5])('half of all datagrams lost each way, with delay, jitter, reordering and duplication: seed %i', (seed) => {
    const chaos: Partial<LinkProfile> = { delayMs: 60, jitterMs: 40, loss: 0.5, duplicate: 0.1, reorder: 0.15, reorderHoldMs: 120 };
    const sim = new SyncSimulation({ seed, up: chaos, down: chaos, link: { srtt: 140, rto: 300 } });
    const script = new Script(sim, seededRandom(seed * 7919));
    script.play(60_000);
    checkBounded(sim);
    healAndSettle(sim);
    checkDelivery(script, sim.delivered);
    checkBounded(sim);
    // The network really did misbehave, and the receivers really did see the consequences.
    expect(sim.up.stats.droppedByLoss).toBeGreaterThan(100);
    expect(sim.up.stats.duplicated).toBeGreaterThan(10);
    expect(sim.serverOutcomes.duplicate).toBeGreaterThan(0);
    expect(sim.clientOutcomes.duplicate + sim.clientOutcomes['unknown-base']).toBeGreaterThan(0);
    expect(sim.serverOutcomes['bad-diff'] + sim.clientOutcomes['bad-diff']).toBe(0);
    expect(script.typed.length).toBeGreaterThan(4 * COMPACTION_MIN_DEAD_EVENTS);
  });

  it('survives a two-minute total outage and a ten-minute suspend', () => {
    const sim = new SyncSimulation({ seed: 11, up: { delayMs: 30 }, down: { delayMs: 30 } });
    const script = new Script(sim, seededRandom(11));
    script.play(10_000);
    sim.setLinks({ loss: 1 });
    script.play(130_000);
    // Laptop lid closed: nothing runs, then the clock has jumped.
    sim.clock.advance(600_000);
    script.play(sim.clock.now() + 5_000);
    checkBounded(sim);
    healAndSettle(sim);
    checkDelivery(script, sim.delivered);
  });

  it('a one-way outage fills the receiver queue only up to its limit, then recovers', () => {
    // The server hears every keystroke but the client hears nothing back, so it never learns what
    // was received and the server is never told to throw old states away.
    const sim = new SyncSimulation({ seed: 5, up: { delayMs: 10 }, down: { delayMs: 10, loss: 1 }, link: { srtt: 20, rto: 50 } });
    const script = new Script(sim, seededRandom(5));
    script.play(60_000, { typingGap: 25 });
    expect(sim.server.receiver.heldStates).toBeGreaterThan(RECEIVER_STATE_LIMIT);
    expect(sim.serverOutcomes.quenched).toBeGreaterThan(0);
    checkBounded(sim);
    sim.setLinks(HEALED);
    expect(sim.runUntil(() => sim.converged(), 60_000)).toBe(true);
    checkDelivery(script, sim.delivered);
    sim.runUntilTime(sim.clock.now() + 10_000);
    expect(sim.server.receiver.heldStates).toBeLessThan(10);
  });

  it('is reproducible: the same seed gives the same run', () => {
    const run = (): [number, number, number] => {
      const chaos: Partial<LinkProfile> = { delayMs: 40, jitterMs: 30, loss: 0.3, duplicate: 0.05, reorder: 0.1 };
      const sim = new SyncSimulation({ seed: 99, up: chaos, down: chaos });
      new Script(sim, seededRandom(99)).play(10_000);
      return [sim.instructionsUp, sim.instructionsDown, sim.bytesUp + sim.bytesDown];
    };
    expect(run()).toEqual(run());
  });
});

describe('the shutdown handshake', () => {
  it.each([1, 2, 3, 4, 5, 6])('completes with half of all datagrams lost each way: seed %i', (seed) => {
    const lossy: Partial<LinkProfile> = { delayMs: 40, jitterMs: 20, loss: 0.5, duplicate: 0.05 };
    const sim = new SyncSimulation({ seed, up: lossy, down: lossy, link: { srtt: 80, rto: 150 } });
    const script = new Script(sim, seededRandom(seed));
    script.play(5_000);
    const client = sim.client.sender;
    client.startShutdown(sim.clock.now());
    expect(sim.runUntil(() => client.shutdownAcknowledged || client.shutdownTimedOut(sim.clock.now()), 20_000)).toBe(true);
    expect(client.shutdownAcknowledged).toBe(true);
    expect(sim.server.receiver.peerShuttingDown).toBe(true);
    expect(sim.server.sender.counterpartyShutdownAckSent).toBe(true);
    // Everything typed before the shutdown still arrived.
    checkDelivery(script, sim.delivered);
  });

  it('the server can start it too', () => {
    const sim = new SyncSimulation({ seed: 3, up: { delayMs: 30, loss: 0.3 }, down: { delayMs: 30, loss: 0.3 } });
    const script = new Script(sim, seededRandom(3));
    script.play(3_000);
    script.writeScreen();
    sim.server.sender.startShutdown(sim.clock.now());
    const server = sim.server.sender;
    expect(sim.runUntil(() => server.shutdownAcknowledged, 10_000)).toBe(true);
    expect(sim.client.receiver.peerShuttingDown).toBe(true);
    expect(sim.client.sender.counterpartyShutdownAckSent).toBe(true);
    // The final screen reached the client with the shutdown state.
    expect(sim.client.receiver.latest.equals(sim.screen)).toBe(true);
  });

  it('gives up after 16 tries when nothing gets through', () => {
    const sim = new SyncSimulation({ seed: 4, up: { delayMs: 30 }, down: { delayMs: 30 }, link: { srtt: 40, rto: 60 } });
    sim.runUntilTime(1_000);
    sim.setLinks({ loss: 1 });
    const client = sim.client.sender;
    const sentBefore = sim.instructionsUp;
    const start = sim.clock.now();
    client.startShutdown(start);
    expect(sim.runUntil(() => client.shutdownTimedOut(sim.clock.now()), 20_000)).toBe(true);
    expect(client.shutdownAcknowledged).toBe(false);
    expect(sim.instructionsUp - sentBefore).toBe(16);
    // 16 tries at the 20 ms frame interval: long before the 10 s limit.
    expect(sim.clock.now() - start).toBeLessThan(1_000);
  });

  it('gives up after 10 s when tries remain', () => {
    const sim = new SyncSimulation({
      seed: 4, up: { loss: 1 }, down: { loss: 1 }, link: { srtt: 2000, rto: 1000 }, clientTiming: { shutdownRetries: 1000 },
    });
    const client = sim.client.sender;
    client.startShutdown(0);
    expect(sim.runUntil(() => client.shutdownTimedOut(sim.clock.now()), 20_000)).toBe(true);
    expect(client.shutdownAcknowledged).toBe(false);
    expect(sim.clock.now()).toBeGreaterThanOrEqual(10_000);
    // It is noticed at the next wake-up, at most one (250 ms) frame interval later.
    expect(sim.clock.now()).toBeLessThanOrEqual(10_250);
  });
});

import { FakeClock, type Millis, type RandomBytes } from '../../protocol/clock.js';
import { CLIENT_FRAME_TIMING, SERVER_FRAME_TIMING, type FrameTiming } from '../../protocol/frame-timing.js';
import { decodeInstruction, encodeInstruction } from '../../protocol/instruction.js';
import { SyncTransport } from '../../protocol/sync-transport.js';
import type { ReceiveOutcome } from '../../protocol/transport-receiver.js';
import type { LinkTiming } from '../../protocol/transport-sender.js';
import { UserStream, type UserEvent } from '../../protocol/user-stream.js';
import { LinkModel, type LinkProfile } from './link-model.js';
import { seededRandom, type Random } from './seeded-random.js';
import { TextScreen } from './text-screen.js';

/**
 * Two in-memory ends of the state-sync protocol, a client (UserStream → server) and a server
 * (TextScreen → client), joined by two simulated link directions and driven by one FakeClock.
 * Every Instruction goes through `encodeInstruction`/`decodeInstruction`, so the codec is exercised
 * too. The server consumes the user's events after every Instruction, as the real server loop will.
 * Deterministic for a given seed.
 */

export interface SyncSimulationOptions {
  readonly seed: number;
  readonly up?: Partial<LinkProfile>;
  readonly down?: Partial<LinkProfile>;
  /** The figures both ends' senders use; default SRTT 100 ms, RTO 150 ms. */
  readonly link?: LinkTiming;
  readonly screenRows?: number;
  readonly clientTiming?: Partial<FrameTiming>;
  readonly serverTiming?: Partial<FrameTiming>;
}

/** Maxima seen over the run: what "memory stays bounded" is checked against. */
export interface SimulationHighWater {
  clientSentStates: number;
  serverSentStates: number;
  clientReceivedStates: number;
  serverReceivedStates: number;
  /** Events stored by the client's current UserStream (acknowledged ones should be dropped). */
  clientRetainedEvents: number;
  /** Events stored by the server's newest copy of the UserStream. */
  serverRetainedEvents: number;
}

export type OutcomeCounts = Record<ReceiveOutcome, number>;

function zeroOutcomes(): OutcomeCounts {
  return { newest: 0, older: 0, duplicate: 0, 'unknown-base': 0, inconsistent: 0, 'bad-diff': 0, quenched: 0 };
}

/** RandomBytes from a seeded PRNG (for chaff; nothing secret in a simulation). */
export function seededRandomBytes(random: Random): RandomBytes {
  return (length: number) => {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256);
    return out;
  };
}

/** Steps taken at one instant before the clock is forced on by 1 ms (guards against a busy loop). */
const MAX_STEPS_PER_INSTANT = 16;

export class SyncSimulation {
  readonly clock = new FakeClock(0);
  readonly client: SyncTransport<UserStream, TextScreen>;
  readonly server: SyncTransport<TextScreen, UserStream>;
  readonly up: LinkModel<Uint8Array>;
  readonly down: LinkModel<Uint8Array>;
  link: LinkTiming;

  /** Events the server has handed to its "application", in order. */
  readonly delivered: UserEvent[] = [];
  /** How many user events the server has consumed. */
  consumed = 0;
  readonly clientOutcomes = zeroOutcomes();
  readonly serverOutcomes = zeroOutcomes();
  readonly highWater: SimulationHighWater = {
    clientSentStates: 0, serverSentStates: 0, clientReceivedStates: 0, serverReceivedStates: 0,
    clientRetainedEvents: 0, serverRetainedEvents: 0,
  };
  instructionsUp = 0;
  instructionsDown = 0;
  bytesUp = 0;
  bytesDown = 0;
  /** Times the loop found work at the same instant more than MAX_STEPS_PER_INSTANT times. */
  busyInstants = 0;
  steps = 0;
  #stepsThisInstant = 0;

  constructor(options: SyncSimulationOptions) {
    const rng = seededRandom(options.seed);
    const rows = options.screenRows ?? 8;
    this.link = options.link ?? { srtt: 100, rto: 150 };
    const link = (): LinkTiming => this.link;
    const now = this.clock.now;
    this.client = new SyncTransport<UserStream, TextScreen>({
      local: new UserStream(),
      remote: new TextScreen(rows),
      clock: now,
      random: seededRandomBytes(seededRandom(options.seed ^ 0x51)),
      link,
      timing: { ...CLIENT_FRAME_TIMING, ...options.clientTiming },
    });
    this.server = new SyncTransport<TextScreen, UserStream>({
      local: new TextScreen(rows),
      remote: new UserStream(),
      clock: now,
      random: seededRandomBytes(seededRandom(options.seed ^ 0x52)),
      link,
      timing: { ...SERVER_FRAME_TIMING, ...options.serverTiming },
    });
    this.up = new LinkModel<Uint8Array>(options.up ?? {}, seededRandom(Math.floor(rng() * 2 ** 32)));
    this.down = new LinkModel<Uint8Array>(options.down ?? {}, seededRandom(Math.floor(rng() * 2 ** 32)));
  }

  /** The client's UserStream, which the "user" types into. */
  get keyboard(): UserStream {
    return this.client.sender.current;
  }

  /** The server's screen, which the "shell" writes to. */
  get screen(): TextScreen {
    return this.server.sender.current;
  }

  setLinks(up: Partial<LinkProfile>, down: Partial<LinkProfile> = up): void {
    this.up.setProfile(up);
    this.down.setProfile(down);
  }

  /** One pass of both event loops at the current instant, then the clock moves to the next event (at most `until`). */
  step(until: Millis = Infinity): void {
    const now = this.clock.now();
    this.steps++;
    this.up.deliverDue(now, (bytes) => {
      this.#serverReceive(bytes, now);
      return true;
    });
    this.down.deliverDue(now, (bytes) => {
      this.#clientReceive(bytes, now);
      return true;
    });
    const c = this.client.tick(now);
    if (c !== null) {
      const bytes = encodeInstruction(c);
      this.instructionsUp++;
      this.bytesUp += bytes.length;
      this.up.send(now, bytes, bytes.length);
    }
    const s = this.server.tick(now);
    if (s !== null) {
      const bytes = encodeInstruction(s);
      this.instructionsDown++;
      this.bytesDown += bytes.length;
      this.down.send(now, bytes, bytes.length);
    }
    this.#noteHighWater();

    const next = Math.min(
      now + this.client.waitTime(now),
      now + this.server.waitTime(now),
      this.up.nextDeliveryAt ?? Infinity,
      this.down.nextDeliveryAt ?? Infinity,
      until,
    );
    if (next > now) {
      this.#stepsThisInstant = 0;
      this.clock.set(next);
    } else if (++this.#stepsThisInstant >= MAX_STEPS_PER_INSTANT) {
      this.busyInstants++;
      this.#stepsThisInstant = 0;
      this.clock.set(now + 1);
    }
  }

  /** Runs until the clock reaches `time` (bounded by `maxSteps`). */
  runUntilTime(time: Millis, maxSteps = 1_000_000): void {
    for (let i = 0; i < maxSteps && this.clock.now() < time; i++) this.step(time);
    if (this.clock.now() < time) throw new Error(`simulation did not reach t=${time} within ${maxSteps} steps`);
  }

  /** Runs until `done()` holds (checked between steps) or `limit` ms pass; returns whether it held. */
  runUntil(done: () => boolean, limit: Millis, maxSteps = 1_000_000): boolean {
    const deadline = this.clock.now() + limit;
    for (let i = 0; i < maxSteps; i++) {
      if (done()) return true;
      if (this.clock.now() >= deadline) return false;
      this.step(deadline);
    }
    return done();
  }

  /** Both directions agree and every user event has reached the server's application. */
  converged(): boolean {
    return (
      this.client.receiver.latest.equals(this.server.sender.current) &&
      this.consumed === this.client.sender.current.totalEvents
    );
  }

  #serverReceive(bytes: Uint8Array, now: Millis): void {
    const outcome = this.server.receive(decodeInstruction(bytes), now);
    this.serverOutcomes[outcome]++;
    // The server loop: hand new events to the application exactly once, then let the stream forget them.
    const latest = this.server.receiver.latest;
    for (const e of latest.eventsSince(this.consumed)) this.delivered.push(copyEvent(e));
    this.consumed = latest.totalEvents;
    this.server.receiver.rationalize();
  }

  #clientReceive(bytes: Uint8Array, now: Millis): void {
    const outcome = this.client.receive(decodeInstruction(bytes), now);
    this.clientOutcomes[outcome]++;
  }

  #noteHighWater(): void {
    const h = this.highWater;
    h.clientSentStates = Math.max(h.clientSentStates, this.client.sender.sentStateCount);
    h.serverSentStates = Math.max(h.serverSentStates, this.server.sender.sentStateCount);
    h.clientReceivedStates = Math.max(h.clientReceivedStates, this.client.receiver.heldStates);
    h.serverReceivedStates = Math.max(h.serverReceivedStates, this.server.receiver.heldStates);
    h.clientRetainedEvents = Math.max(h.clientRetainedEvents, this.client.sender.current.retainedEvents);
    h.serverRetainedEvents = Math.max(h.serverRetainedEvents, this.server.receiver.latest.retainedEvents);
  }
}

/** Key bytes handed out are views of the stream's storage; a test that keeps them copies them. */
function copyEvent(e: UserEvent): UserEvent {
  return e.kind === 'keys' ? { kind: 'keys', index: e.index, bytes: e.bytes.slice() } : e;
}

/** All key bytes of `events`, concatenated. */
export function keyBytes(events: readonly UserEvent[]): Uint8Array {
  let n = 0;
  for (const e of events) if (e.kind === 'keys') n += e.bytes.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const e of events) {
    if (e.kind === 'keys') {
      out.set(e.bytes, at);
      at += e.bytes.length;
    }
  }
  return out;
}

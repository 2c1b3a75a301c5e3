/**
 * One end of the state-synchronisation protocol: a sender of our state and a receiver of the
 * peer's, wired together as Mosh's Transport<MyState, RemoteState> wires them (mosh.md §3.4), but
 * without the datagram layer. The caller decodes each Instruction that arrives and passes it to
 * `receive`, calls `tick` when `waitTime` says so and sends what it returns.
 *
 * Client: SyncTransport<UserStream, Screen>. Server: SyncTransport<Screen, UserStream>; after each
 * Instruction the server reads `receiver.latest.eventsSince(consumed)` and then calls
 * `receiver.rationalize()`.
 */
import type { Clock, Millis, RandomBytes } from './clock.js';
import type { FrameTiming } from './frame-timing.js';
import type { Instruction } from './instruction.js';
import type { SyncState } from './sync-state.js';
import { TransportReceiver, type ReceiveOutcome } from './transport-receiver.js';
import { TransportSender, type LinkTiming } from './transport-sender.js';

export interface SyncTransportOptions<L, R> {
  /** Our state number 0 (kept, not cloned). */
  readonly local: L;
  /** The peer's state number 0 (kept, not cloned). */
  readonly remote: R;
  readonly clock: Clock;
  readonly random: RandomBytes;
  readonly link: () => LinkTiming;
  readonly onRoundTripSuccess?: (sentAt: Millis) => void;
  /** Defaults to SERVER_FRAME_TIMING; the client passes CLIENT_FRAME_TIMING. */
  readonly timing?: Partial<FrameTiming>;
  readonly sentStateLimit?: number;
  readonly receivedStateLimit?: number;
  readonly quenchMs?: Millis;
}

export class SyncTransport<L extends SyncState<L>, R extends SyncState<R>> {
  readonly sender: TransportSender<L>;
  readonly receiver: TransportReceiver<R>;
  readonly #clock: Clock;

  constructor(options: SyncTransportOptions<L, R>) {
    this.#clock = options.clock;
    this.sender = new TransportSender<L>({
      initial: options.local,
      clock: options.clock,
      random: options.random,
      link: options.link,
      onRoundTripSuccess: options.onRoundTripSuccess,
      timing: options.timing,
      sentStateLimit: options.sentStateLimit,
    });
    this.receiver = new TransportReceiver<R>({
      initial: options.remote,
      clock: options.clock,
      stateLimit: options.receivedStateLimit,
      quenchMs: options.quenchMs,
    });
  }

  /** Handles one authentic, decoded Instruction from the peer. */
  receive(inst: Instruction, now: Millis = this.#clock()): ReceiveOutcome {
    // Every Instruction acknowledges, even a duplicate or one we cannot apply.
    this.sender.processAck(inst.ackNum);
    const outcome = this.receiver.receive(inst, now);
    if (outcome === 'newest') {
      this.sender.setAckNum(this.receiver.latestNum);
      this.sender.remoteHeard(now);
      if (this.receiver.latestCarriedData) this.sender.setDataAck();
    }
    return outcome;
  }

  /** The Instruction to send now, if any. */
  tick(now: Millis = this.#clock()): Instruction | null {
    return this.sender.tick(now);
  }

  /** Milliseconds until `tick` should next be called. */
  waitTime(now: Millis = this.#clock()): Millis {
    return this.sender.waitTime(now);
  }
}

/**
 * The receiving half of the state-synchronisation protocol (Mosh's Transport::recv, mosh.md §3.4).
 *
 * It keeps copies of the peer's states, numbered as the peer numbered them, oldest first. An
 * Instruction is applied only when the receiver holds its base (`oldNum`) and not yet its target
 * (`newNum`), so duplicates, replays and reordering change nothing; an Instruction that arrives
 * out of order is still used if its base is held (it is inserted in number order), and the newest
 * state is always the one with the highest number. Sans-IO: the caller decodes the Instruction,
 * hands it to `receive`, and passes the acknowledgement figures on to its sender.
 */
import type { Clock, Millis } from './clock.js';
import { SHUTDOWN_STATE, type Instruction } from './instruction.js';
import type { SyncState } from './sync-state.js';

/** Mosh refuses to hold more than 1024 of the peer's states… */
export const RECEIVER_STATE_LIMIT = 1024;
/** …and, once over the limit, refuses new ones for this long at a time (a malicious or one-way peer). */
export const RECEIVER_QUENCH_MS: Millis = 15_000;

export interface TransportReceiverOptions<T> {
  /** The peer's state number 0. The receiver keeps it (it does not clone it first). */
  readonly initial: T;
  readonly clock: Clock;
  readonly stateLimit?: number;
  readonly quenchMs?: Millis;
}

/**
 * What `receive` did with an Instruction:
 * - 'newest': applied; it is now the latest state (acknowledge it);
 * - 'older': applied and inserted before the latest (it arrived out of order);
 * - 'duplicate': its target state is already held;
 * - 'unknown-base': its base state is not held (lost, thrown away, or never existed): dropped;
 * - 'inconsistent': its numbers cannot come from a correct peer: dropped;
 * - 'bad-diff': the state type refused the diff: dropped, nothing changed;
 * - 'quenched': too many states held: dropped.
 */
export type ReceiveOutcome = 'newest' | 'older' | 'duplicate' | 'unknown-base' | 'inconsistent' | 'bad-diff' | 'quenched';

interface ReceivedState<T> {
  readonly num: number;
  readonly arrivedAt: Millis;
  /** It came with a non-empty diff (so its acknowledgement should not wait for the heartbeat). */
  readonly carriedData: boolean;
  readonly state: T;
}

export class TransportReceiver<T extends SyncState<T>> {
  readonly #clock: Clock;
  readonly #stateLimit: number;
  readonly #quenchMs: Millis;
  /** Sorted by number, never empty. */
  readonly #states: ReceivedState<T>[];
  #quenchUntil: Millis = -Infinity;
  #lastError: Error | null = null;
  /** The oldest state at the last `rationalize`; while it is still the oldest, there is nothing new to forget. */
  #rationalizedAgainst: ReceivedState<T> | null = null;

  constructor(options: TransportReceiverOptions<T>) {
    this.#clock = options.clock;
    this.#stateLimit = options.stateLimit ?? RECEIVER_STATE_LIMIT;
    this.#quenchMs = options.quenchMs ?? RECEIVER_QUENCH_MS;
    this.#states = [{ num: 0, arrivedAt: this.#clock(), carriedData: false, state: options.initial }];
  }

  /** The newest state of the peer. Read it; do not change it. */
  get latest(): T {
    return this.#newest().state;
  }

  /** Its number: what every Instruction we send acknowledges (Mosh's ack_num). */
  get latestNum(): number {
    return this.#newest().num;
  }

  /** The newest state carried data: a data acknowledgement is due within ACK_DELAY (Mosh's pending_data_ack). */
  get latestCarriedData(): boolean {
    return this.#newest().carriedData;
  }

  /** When the newest state arrived ("last contact" for the downlink). */
  get latestArrivedAt(): Millis {
    return this.#newest().arrivedAt;
  }

  /** The peer has started shutting down; acknowledging it (our sender does so by itself) lets it exit. */
  get peerShuttingDown(): boolean {
    return this.#newest().num === SHUTDOWN_STATE;
  }

  /** How many of the peer's states are held; bounded by `stateLimit` + 1. */
  get heldStates(): number {
    return this.#states.length;
  }

  /** Why the last 'bad-diff' Instruction was refused (for logs); null if none was. */
  get lastError(): Error | null {
    return this.#lastError;
  }

  /**
   * Applies `inst` if it is new and its base is held. Does not look at `ackNum` (that is the
   * sender's business) nor at the protocol version (the decoder checked it).
   */
  receive(inst: Instruction, now: Millis = this.#clock()): ReceiveOutcome {
    const { oldNum, newNum, throwawayNum } = inst;
    if (this.#indexOf(newNum) >= 0) return 'duplicate';
    const base = this.#indexOf(oldNum);
    if (base < 0) return 'unknown-base';
    // A correct peer diffs forward from a state at or after the one it knows we hold.
    if (newNum <= oldNum || throwawayNum > oldNum) return 'inconsistent';

    const states = this.#states;
    // States below throwawayNum are no longer needed; the base is not among them (checked above).
    const discard = this.#countBelow(throwawayNum);
    if (states.length - discard > this.#stateLimit) {
      if (now < this.#quenchUntil) return 'quenched';
      this.#quenchUntil = now + this.#quenchMs;
    }

    const state = states[base]!.state.clone();
    if (inst.diff.length > 0) {
      try {
        state.apply(inst.diff);
      } catch (err) {
        this.#lastError = err instanceof Error ? err : new Error(String(err));
        return 'bad-diff';
      }
    }

    if (discard > 0) states.splice(0, discard);
    const entry: ReceivedState<T> = { num: newNum, arrivedAt: now, carriedData: inst.diff.length > 0, state };
    const at = this.#countBelow(newNum);
    if (at === states.length) {
      states.push(entry);
      return 'newest';
    }
    states.splice(at, 0, entry);
    return 'older';
  }

  /**
   * Forgets, in every held state, what the oldest held state holds (UserStream drops the events
   * both ends have; screens do nothing). Call it after the application has read what it needs from
   * `latest`; Mosh does this in get_remote_diff.
   */
  rationalize(): void {
    const states = this.#states;
    // States added since the last call are copies of states already rationalized against this one.
    if (states[0] === this.#rationalizedAgainst) return;
    this.#rationalizedAgainst = states[0]!;
    const oldest = states[0]!.state;
    for (let i = states.length - 1; i >= 0; i--) states[i]!.state.subtract(oldest);
  }

  #newest(): ReceivedState<T> {
    return this.#states[this.#states.length - 1]!;
  }

  /** How many held states are numbered below `num` (binary search). */
  #countBelow(num: number): number {
    const states = this.#states;
    let lo = 0;
    let hi = states.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (states[mid]!.num < num) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #indexOf(num: number): number {
    const i = this.#countBelow(num);
    return i < this.#states.length && this.#states[i]!.num === num ? i : -1;
  }
}

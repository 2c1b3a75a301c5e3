/**
 * The sending half of the state-synchronisation protocol (Mosh's TransportSender, mosh.md §3.3).
 *
 * The application changes `current`; the sender decides when to send and what: the diff from the
 * state it assumes the receiver holds to `current`, numbered so the receiver can apply it exactly
 * once. Lost Instructions are never resent as such: the next one simply covers more. Sans-IO: it
 * returns Instructions from `tick(now)` and is told about acknowledgements with `processAck`; the
 * caller owns the clock, the sockets and the event loop (`waitTime(now)` says when to tick next).
 *
 * `sent` holds every state sent and not yet known to be superseded: the front is the newest state
 * the receiver has acknowledged, the back the newest sent. The sender assumes the receiver also has
 * each state sent less than RTO + ACK_DELAY ago (the benefit of the doubt), and diffs from the
 * newest such state; when a diff from the acknowledged state costs little more, it sends that
 * instead, which heals a loss without waiting for a timeout.
 */
import type { Clock, Millis, RandomBytes } from './clock.js';
import { frameTiming, sendInterval, SERVER_FRAME_TIMING, type FrameTiming } from './frame-timing.js';
import { MAX_CHAFF_BYTES, PROTOCOL_VERSION, SHUTDOWN_STATE, type Instruction } from './instruction.js';
import type { SyncState } from './sync-state.js';

/** What the sender needs to know about the link, read from the datagram layer on every use. */
export interface LinkTiming {
  /** Smoothed round-trip time, ms. */
  readonly srtt: Millis;
  /** Retransmission timeout, ms (Mosh: ceil(SRTT + 4·RTTVAR) clamped to 50–1000). */
  readonly rto: Millis;
}

/** Mosh keeps at most 32 sent states… */
export const SENT_STATE_LIMIT = 32;
/** …and on overflow erases the one this far from the back, keeping both the oldest (acknowledged) and the newest. */
export const SENT_STATE_CULL_FROM_BACK = 16;
/** A prospective resend from the acknowledged state is taken if no longer than the normal diff, or if shorter than this… */
export const RESEND_MAX_BYTES = 1000;
/** …and at most this much longer. */
export const RESEND_MAX_EXTRA_BYTES = 100;

export interface TransportSenderOptions<T> {
  /** State number 0, which both ends start from. The sender keeps it (it does not clone it first). */
  readonly initial: T;
  readonly clock: Clock;
  /** For the chaff. Production passes libsodium's CSPRNG. */
  readonly random: RandomBytes;
  /** Called whenever the figures are needed; must be cheap. */
  readonly link: () => LinkTiming;
  /** Told the send time of the newest acknowledged state whenever an acknowledgement arrives (port hopping needs it). */
  readonly onRoundTripSuccess?: (sentAt: Millis) => void;
  /** Defaults to SERVER_FRAME_TIMING; the client passes CLIENT_FRAME_TIMING. */
  readonly timing?: Partial<FrameTiming>;
  readonly sentStateLimit?: number;
}

export class SenderShutDownError extends Error {
  override readonly name = 'SenderShutDownError';
}

interface SentState<T> {
  /** When it was last sent; a retransmission under the same number refreshes it. */
  sentAt: Millis;
  readonly num: number;
  readonly state: T;
}

export class TransportSender<T extends SyncState<T>> {
  readonly timing: FrameTiming;
  readonly #clock: Clock;
  readonly #random: RandomBytes;
  readonly #link: () => LinkTiming;
  readonly #onRoundTripSuccess: ((sentAt: Millis) => void) | undefined;
  readonly #sentStateLimit: number;

  #current: T;
  readonly #sent: SentState<T>[];
  /** Index in #sent of the state the receiver is assumed to hold; recomputed by every #calculateTimers. */
  #assumed = 0;

  #nextAckTime: Millis;
  #nextSendTime: Millis = Infinity;
  /** When `current` first differed from the last state sent; Infinity when it does not. */
  #mindelayClock: Millis = Infinity;
  /** Until then, the next new state answers the peer's input and skips the frame interval (see `expedite`). */
  #expediteUntil: Millis = -Infinity;

  #ackNum = 0;
  #pendingDataAck = false;
  #lastHeard: Millis = -Infinity;
  #lastAckSent = -1;

  #shutdownInProgress = false;
  #shutdownTries = 0;
  #shutdownStart: Millis = -Infinity;

  constructor(options: TransportSenderOptions<T>) {
    this.timing = frameTiming(options.timing, SERVER_FRAME_TIMING);
    this.#clock = options.clock;
    this.#random = options.random;
    this.#link = options.link;
    this.#onRoundTripSuccess = options.onRoundTripSuccess;
    this.#sentStateLimit = options.sentStateLimit ?? SENT_STATE_LIMIT;
    if (!(this.#sentStateLimit > SENT_STATE_CULL_FROM_BACK)) {
      throw new RangeError(`sentStateLimit must exceed ${SENT_STATE_CULL_FROM_BACK}, got ${this.#sentStateLimit}`);
    }
    const now = this.#clock();
    this.#current = options.initial.clone();
    this.#sent = [{ sentAt: now, num: 0, state: options.initial }];
    // Due at once: the first tick announces us with an empty ack (state 1).
    this.#nextAckTime = now;
  }

  /** The state the application changes in place. Do not change it once shutdown has started. */
  get current(): T {
    return this.#current;
  }

  /** Replaces the current state (e.g. a new screen snapshot); the sender keeps `state` itself. */
  setCurrent(state: T): void {
    if (this.#shutdownInProgress) throw new SenderShutDownError('the state cannot change once shutdown has started');
    this.#current = state;
  }

  /** The frame interval now: ceil(SRTT/2) clamped (the prediction engine also reads it). */
  sendInterval(): Millis {
    return sendInterval(this.#link().srtt, this.timing);
  }

  /** How many sent states are held (front acknowledged … back newest); bounded by `sentStateLimit`. */
  get sentStateCount(): number {
    return this.#sent.length;
  }

  /** Number of the newest state the receiver has acknowledged. */
  get ackedNum(): number {
    return this.#sent[0]!.num;
  }

  /** When the newest acknowledged state was (last) sent; "last contact" for the uplink. */
  get ackedSentAt(): Millis {
    return this.#sent[0]!.sentAt;
  }

  /** Number of the newest state sent. */
  get lastSentNum(): number {
    return this.#sent[this.#sent.length - 1]!.num;
  }

  /** The newest remote state received, which every Instruction acknowledges (set by the receiving side). */
  setAckNum(ackNum: number): void {
    this.#ackNum = ackNum;
  }

  /** A state carrying data arrived: acknowledge within ACK_DELAY even if there is nothing to send. */
  setDataAck(): void {
    this.#pendingDataAck = true;
  }

  /**
   * The peer's input has just reached the application: changes to our state in the next
   * `windowMs` (typically the echo of a keystroke) answer it, so they leave after the expedited
   * collection delay instead of waiting for the frame interval (Mosh waits up to SRTT/2 here).
   * A time window rather than one frame, because an unrelated frame (an echo ack) may go first.
   * Bounded: a flood gets at most a window's worth of unpaced frames per input.
   */
  expedite(now: Millis, windowMs: Millis): void {
    this.#expediteUntil = now + windowMs;
  }

  /** A new remote state arrived at `at`: the peer is alive, so unacknowledged data is resent at frame rate. */
  remoteHeard(at: Millis): void {
    this.#lastHeard = at;
  }

  /**
   * The receiver holds our state `ackNum`: forget every older one. An acknowledgement of a state
   * already culled (or never sent) changes nothing.
   */
  processAck(ackNum: number): void {
    const sent = this.#sent;
    let i = 0;
    while (i < sent.length && sent[i]!.num !== ackNum) i++;
    if (i === sent.length) return;
    if (i > 0) sent.splice(0, i);
    this.#onRoundTripSuccess?.(sent[0]!.sentAt);
  }

  /** Milliseconds until `tick` has something to do (0 when it has now). */
  waitTime(now: Millis = this.#clock()): Millis {
    this.#calculateTimers(now);
    const next = Math.min(this.#nextAckTime, this.#nextSendTime);
    return next > now ? next - now : 0;
  }

  /** Sends the diff, a retransmission, an ack or a heartbeat if one is due; else null. */
  tick(now: Millis = this.#clock()): Instruction | null {
    this.#calculateTimers(now);
    if (now < this.#nextAckTime && now < this.#nextSendTime) return null;

    const sent = this.#sent;
    let diff = this.#current.diffFrom(sent[this.#assumed]!.state);
    // Prospective resend: a diff from the acknowledged state heals any loss since, if it is cheap.
    if (this.#assumed !== 0) {
      const resend = this.#current.diffFrom(sent[0]!.state);
      if (resend.length <= diff.length || (resend.length < RESEND_MAX_BYTES && resend.length - diff.length < RESEND_MAX_EXTRA_BYTES)) {
        this.#assumed = 0;
        diff = resend;
      }
    }

    let out: Instruction | null = null;
    if (diff.length === 0) {
      if (now >= this.#nextAckTime) {
        out = this.#sendEmptyAck(now);
        this.#mindelayClock = Infinity;
      }
      if (now >= this.#nextSendTime) {
        this.#nextSendTime = Infinity;
        this.#mindelayClock = Infinity;
      }
    } else if (now >= this.#nextSendTime || now >= this.#nextAckTime) {
      out = this.#sendToReceiver(diff, now);
      this.#mindelayClock = Infinity;
    }
    return out;
  }

  /** Stops changes to the state; every later Instruction carries `SHUTDOWN_STATE` until the peer acknowledges it. */
  startShutdown(now: Millis = this.#clock()): void {
    if (this.#shutdownInProgress) return;
    this.#shutdownInProgress = true;
    this.#shutdownStart = now;
  }

  get shutdownInProgress(): boolean {
    return this.#shutdownInProgress;
  }

  /** The peer acknowledged our shutdown: we may exit cleanly. */
  get shutdownAcknowledged(): boolean {
    return this.#sent[0]!.num === SHUTDOWN_STATE;
  }

  /** We sent SHUTDOWN_RETRIES shutdown Instructions, or waited SHUTDOWN_TIMEOUT, without an acknowledgement. */
  shutdownTimedOut(now: Millis = this.#clock()): boolean {
    return (
      this.#shutdownInProgress &&
      (this.#shutdownTries >= this.timing.shutdownRetries || now - this.#shutdownStart >= this.timing.shutdownTimeout)
    );
  }

  /** We have sent the peer an acknowledgement of its shutdown: this end may exit now. */
  get counterpartyShutdownAckSent(): boolean {
    return this.#lastAckSent === SHUTDOWN_STATE;
  }

  #calculateTimers(now: Millis): void {
    this.#updateAssumedReceiverState(now);
    this.#rationalizeStates();
    const t = this.timing;
    const sent = this.#sent;
    const back = sent[sent.length - 1]!;
    const current = this.#current;

    if (this.#pendingDataAck && this.#nextAckTime > now + t.ackDelay) this.#nextAckTime = now + t.ackDelay;

    const activeRetry = this.#lastHeard + t.activeRetryTimeout > now;
    if (!current.equals(back.state)) {
      // New data: leave after the collection delay, but no sooner than one frame interval after the last frame.
      if (this.#mindelayClock === Infinity) this.#mindelayClock = now;
      const expedited = this.#mindelayClock <= this.#expediteUntil;
      this.#nextSendTime = expedited
        ? this.#mindelayClock + t.expeditedCollectionDelay
        : Math.max(this.#mindelayClock + t.collectionDelay, back.sentAt + this.sendInterval());
    } else if (!current.equals(sent[this.#assumed]!.state) && activeRetry) {
      // Sent, but the benefit of the doubt ran out: resend at frame rate while the peer is alive.
      this.#nextSendTime = back.sentAt + this.sendInterval();
      if (this.#mindelayClock !== Infinity) this.#nextSendTime = Math.max(this.#nextSendTime, this.#mindelayClock + t.collectionDelay);
    } else if (!current.equals(sent[0]!.state) && activeRetry) {
      // Probably received, not yet acknowledged: check again after a timeout.
      this.#nextSendTime = back.sentAt + this.#link().rto + t.ackDelay;
    } else {
      this.#nextSendTime = Infinity;
    }

    // Speed up the shutdown handshake: resend (or acknowledge the peer's) at frame rate.
    if (this.#shutdownInProgress || this.#ackNum === SHUTDOWN_STATE) {
      this.#nextAckTime = back.sentAt + this.sendInterval();
    }
  }

  /**
   * The receiver is assumed to hold the newest state sent less than RTO + ACK_DELAY ago, if any;
   * else only the acknowledged one.
   *
   * Two deliberate differences from Mosh. (1) Mosh walks from the front and stops at the first
   * state that is not recent, so one old unacknowledged state (typically an idle heartbeat, which
   * the peer acknowledges only with its own next heartbeat) hides every newer one: each keystroke
   * is then resent at frame rate until acknowledged (7 copies at 20 ms frames and a 100 ms delayed
   * ack) and every screen frame is diffed from the older acknowledged state. Send times only grow
   * along the list, so the recent states form a suffix, and the newest of them is the back.
   * (2) During shutdown every Instruction starts from the acknowledged state, so any one retry that
   * gets through completes the handshake. (In Mosh a retry soon after the previous one names the
   * unacknowledged shutdown state as its base, which the peer cannot use if the first was lost.)
   */
  #updateAssumedReceiverState(now: Millis): void {
    const sent = this.#sent;
    const last = sent.length - 1;
    const recent = !this.#shutdownInProgress && now - sent[last]!.sentAt < this.#link().rto + this.timing.ackDelay;
    this.#assumed = recent ? last : 0;
  }

  /** Drops from every state what the receiver is known to hold (UserStream forgets acknowledged events). */
  #rationalizeStates(): void {
    const sent = this.#sent;
    const known = sent[0]!.state;
    this.#current.subtract(known);
    for (let i = sent.length - 1; i >= 0; i--) sent[i]!.state.subtract(known);
  }

  #sendEmptyAck(now: Millis): Instruction {
    const sent = this.#sent;
    const oldNum = sent[this.#assumed]!.num;
    const newNum = this.#shutdownInProgress ? SHUTDOWN_STATE : sent[sent.length - 1]!.num + 1;
    this.#recordSent(now, newNum);
    this.#nextAckTime = now + this.timing.ackInterval;
    this.#nextSendTime = Infinity;
    return this.#instruction(oldNum, newNum, new Uint8Array(0));
  }

  #sendToReceiver(diff: Uint8Array, now: Millis): Instruction {
    const sent = this.#sent;
    const back = sent[sent.length - 1]!;
    const oldNum = sent[this.#assumed]!.num;
    let newNum = this.#current.equals(back.state) ? back.num : back.num + 1;
    if (this.#shutdownInProgress) newNum = SHUTDOWN_STATE;
    this.#recordSent(now, newNum);
    this.#assumed = sent.length - 1;
    this.#nextAckTime = now + this.timing.ackInterval;
    this.#nextSendTime = Infinity;
    return this.#instruction(oldNum, newNum, diff);
  }

  /** A retransmission under the back state's number refreshes its time; a new number records a copy of `current`. */
  #recordSent(now: Millis, num: number): void {
    const sent = this.#sent;
    const back = sent[sent.length - 1]!;
    if (num === back.num) {
      back.sentAt = now;
      return;
    }
    sent.push({ sentAt: now, num, state: this.#current.clone() });
    if (sent.length > this.#sentStateLimit) sent.splice(sent.length - SENT_STATE_CULL_FROM_BACK, 1);
  }

  #instruction(oldNum: number, newNum: number, diff: Uint8Array): Instruction {
    if (newNum === SHUTDOWN_STATE) this.#shutdownTries++;
    this.#pendingDataAck = false;
    this.#lastAckSent = this.#ackNum;
    return {
      protocolVersion: PROTOCOL_VERSION,
      oldNum,
      newNum,
      ackNum: this.#ackNum,
      throwawayNum: this.#sent[0]!.num,
      diff,
      chaff: this.#chaff(),
    };
  }

  /** 0–16 random bytes (one call to the random source). */
  #chaff(): Uint8Array {
    const r = this.#random(MAX_CHAFF_BYTES + 1);
    return r.subarray(1, 1 + (r[0]! % (MAX_CHAFF_BYTES + 1)));
  }
}

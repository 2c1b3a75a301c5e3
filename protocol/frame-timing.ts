/**
 * When the state-sync sender may send: the timing constants of Mosh's SSP (mosh.md §2.7, §3.3) as
 * one options object, so tests and simulations can shorten any of them, plus the frame-interval
 * policy. Pure: no clock, no state.
 */
import type { Millis } from './clock.js';

/** Fastest frame rate: 50 Hz. */
export const SEND_INTERVAL_MIN: Millis = 20;
/** Slowest frame rate while there is something to send: 4 Hz. */
export const SEND_INTERVAL_MAX: Millis = 250;
/** An idle link sends an empty ack (heartbeat) this often; keeps NAT bindings and liveness fresh. */
export const ACK_INTERVAL: Millis = 3000;
/** After a state that carried data arrives, its ack goes out within this long (usually riding on data). */
export const ACK_DELAY: Millis = 100;
/**
 * Wait this long after the first change before sending, so that a burst of changes leaves as one
 * frame. Mosh's server uses 8 ms (the paper tuned it from 15 ms).
 */
export const SERVER_COLLECTION_DELAY: Millis = 8;
/**
 * The client's collection delay: a keystroke leaves at once (subject to the frame interval), while
 * the chunks of one paste, which arrive within a millisecond, still leave together. Mosh uses 1 ms.
 */
export const CLIENT_COLLECTION_DELAY: Millis = 1;
/**
 * The collection delay of a frame that answers the peer's input (see TransportSender.expedite): a
 * keystroke, or its echo, leaves on the next turn of the event loop. Waiting would only add latency:
 * one key's echo arrives from the PTY in one read.
 */
export const EXPEDITED_COLLECTION_DELAY: Millis = 0;
/** Unacknowledged data is resent at frame rate only while the peer was heard within this long. */
export const ACTIVE_RETRY_TIMEOUT: Millis = 10_000;
/** Shutdown Instructions sent before giving up on the peer's acknowledgement. */
export const SHUTDOWN_RETRIES = 16;
/** Give up on the peer's shutdown acknowledgement after this long. Mosh reuses ACTIVE_RETRY_TIMEOUT. */
export const SHUTDOWN_TIMEOUT: Millis = 10_000;

export interface FrameTiming {
  readonly sendIntervalMin: Millis;
  readonly sendIntervalMax: Millis;
  readonly ackInterval: Millis;
  readonly ackDelay: Millis;
  readonly collectionDelay: Millis;
  readonly expeditedCollectionDelay: Millis;
  readonly activeRetryTimeout: Millis;
  readonly shutdownRetries: number;
  readonly shutdownTimeout: Millis;
}

/** The server's timing (sends screen frames). */
export const SERVER_FRAME_TIMING: FrameTiming = Object.freeze({
  sendIntervalMin: SEND_INTERVAL_MIN,
  sendIntervalMax: SEND_INTERVAL_MAX,
  ackInterval: ACK_INTERVAL,
  ackDelay: ACK_DELAY,
  collectionDelay: SERVER_COLLECTION_DELAY,
  expeditedCollectionDelay: EXPEDITED_COLLECTION_DELAY,
  activeRetryTimeout: ACTIVE_RETRY_TIMEOUT,
  shutdownRetries: SHUTDOWN_RETRIES,
  shutdownTimeout: SHUTDOWN_TIMEOUT,
});

/** The client's timing (sends keystrokes): the same but for the collection delay. */
export const CLIENT_FRAME_TIMING: FrameTiming = Object.freeze({
  ...SERVER_FRAME_TIMING,
  collectionDelay: CLIENT_COLLECTION_DELAY,
});

export class InvalidFrameTimingError extends Error {
  override readonly name = 'InvalidFrameTimingError';
}

/** `base` with `overrides` applied, every value checked (a typo must not turn into a busy loop). */
export function frameTiming(overrides: Partial<FrameTiming> = {}, base: FrameTiming = SERVER_FRAME_TIMING): FrameTiming {
  const t: FrameTiming = { ...base, ...overrides };
  for (const [key, value] of Object.entries(t)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new InvalidFrameTimingError(`frame timing ${key} must be a finite number ≥ 0, got ${String(value)}`);
    }
  }
  if (t.sendIntervalMin > t.sendIntervalMax) {
    throw new InvalidFrameTimingError(
      `frame timing sendIntervalMin (${t.sendIntervalMin}) must not exceed sendIntervalMax (${t.sendIntervalMax})`,
    );
  }
  return Object.freeze(t);
}

/**
 * The minimum time between two frames: half the smoothed RTT, so about one Instruction is in
 * flight, clamped to [sendIntervalMin, sendIntervalMax]. A flood of changes therefore collapses
 * into one frame per interval, which is what keeps Ctrl-C responsive under `yes`.
 */
export function sendInterval(srtt: Millis, timing: FrameTiming = SERVER_FRAME_TIMING): Millis {
  const half = Math.ceil(srtt / 2);
  // NaN (no estimate yet, or a broken one) gets the slowest rate rather than a busy loop.
  if (!(half >= timing.sendIntervalMin)) return Number.isNaN(half) ? timing.sendIntervalMax : timing.sendIntervalMin;
  return half > timing.sendIntervalMax ? timing.sendIntervalMax : half;
}

/**
 * Smoothed round-trip time as Mosh computes it (RFC 6298 with Mosh's constants): the first sample
 * sets SRTT = R and RTTVAR = R/2; later ones blend in with gains ¼ (RTTVAR) and ⅛ (SRTT). Samples of
 * 5 s or more are ignored (a stopped process or a sleeping laptop, not the network).
 */
import type { Millis } from './clock.js';

export const INITIAL_SRTT_MS = 1000;
export const INITIAL_RTTVAR_MS = 500;
/** Mosh's minimum RTO (TCP uses 1 s); a keystroke should be retried quickly. */
export const MIN_RTO_MS = 50;
export const MAX_RTO_MS = 1000;
export const MAX_RTT_SAMPLE_MS = 5000;

export interface RttEstimatorOptions {
  readonly initialSrttMs: Millis;
  readonly initialRttvarMs: Millis;
  readonly minRtoMs: Millis;
  readonly maxRtoMs: Millis;
  /** Samples at or above this are ignored. */
  readonly maxSampleMs: Millis;
}

export const DEFAULT_RTT_OPTIONS: RttEstimatorOptions = {
  initialSrttMs: INITIAL_SRTT_MS,
  initialRttvarMs: INITIAL_RTTVAR_MS,
  minRtoMs: MIN_RTO_MS,
  maxRtoMs: MAX_RTO_MS,
  maxSampleMs: MAX_RTT_SAMPLE_MS,
};

export class RttEstimator {
  readonly options: RttEstimatorOptions;
  #srtt: Millis;
  #rttvar: Millis;
  #samples = 0;

  constructor(options: Partial<RttEstimatorOptions> = {}) {
    this.options = { ...DEFAULT_RTT_OPTIONS, ...options };
    this.#srtt = this.options.initialSrttMs;
    this.#rttvar = this.options.initialRttvarMs;
  }

  get srtt(): Millis {
    return this.#srtt;
  }

  get rttvar(): Millis {
    return this.#rttvar;
  }

  /** Samples taken so far (ignored ones not counted). */
  get samples(): number {
    return this.#samples;
  }

  /** Retransmission timeout: ceil(SRTT + 4·RTTVAR), clamped to [minRto, maxRto]. */
  get rto(): Millis {
    const rto = Math.ceil(this.#srtt + 4 * this.#rttvar);
    return Math.min(this.options.maxRtoMs, Math.max(this.options.minRtoMs, rto));
  }

  /** Feeds one round-trip measurement; returns false if it was ignored (too large, negative or not a number). */
  addSample(rttMs: Millis): boolean {
    if (!(rttMs >= 0 && rttMs < this.options.maxSampleMs)) return false;
    if (this.#samples === 0) {
      this.#srtt = rttMs;
      this.#rttvar = rttMs / 2;
    } else {
      this.#rttvar = 0.75 * this.#rttvar + 0.25 * Math.abs(this.#srtt - rttMs);
      this.#srtt = 0.875 * this.#srtt + 0.125 * rttMs;
    }
    this.#samples++;
    return true;
  }
}

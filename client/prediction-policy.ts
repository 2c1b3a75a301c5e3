/**
 * When predictions are shown and when they are underlined: the user-facing modes and the adaptive
 * thresholds. Pure state driven by the RTT estimate and by how long keystrokes wait for their echo.
 *
 * Thresholds are in smoothed RTT, not in Mosh's send interval (ceil(SRTT/2)), so Mosh's constants
 * appear doubled: Mosh shows predictions when its send interval exceeds 30 ms, i.e. SRTT > 60 ms.
 */
import type { Millis } from '../protocol/clock.js';

/**
 * The user's choice (`--predict`, parsed in options.ts, whose PredictMode is this same union):
 * adaptive shows predictions only on a slow or glitching link; always and experimental always
 * (experimental also skips the wait for an echo and fixes wrong cells one by one); never turns
 * the engine off.
 */
export type PredictionMode = 'adaptive' | 'always' | 'never' | 'experimental';

export interface DisplayThresholds {
  /** Adaptive mode starts showing predictions when SRTT rises above this. */
  readonly showAboveRttMs: Millis;
  /** …and stops once SRTT is at or below this and no prediction is on screen. */
  readonly hideAtOrBelowRttMs: Millis;
  /** Unconfirmed predictions are underlined when SRTT rises above this… */
  readonly underlineAboveRttMs: Millis;
  /** …and no longer once SRTT is at or below this. */
  readonly noUnderlineAtOrBelowRttMs: Millis;
  /** A keystroke waiting this long for its echo shows predictions even on a fast link (a glitch). */
  readonly glitchShowMs: Millis;
  /** A keystroke waiting this long also turns underlining on. */
  readonly glitchUnderlineMs: Millis;
  /** Quick echoes needed to end a glitch (each lowers the glitch level by one). */
  readonly glitchRepairCount: number;
  /** At most one quick echo per this interval counts toward repair. */
  readonly glitchRepairIntervalMs: Millis;
  /** The RTT assumed before the first estimate: like Mosh, start shown and underlined. */
  readonly initialRttMs: Millis;
}

export const DEFAULT_SHOW_ABOVE_RTT_MS = 60;
export const DEFAULT_HIDE_AT_OR_BELOW_RTT_MS = 40;
export const DEFAULT_UNDERLINE_ABOVE_RTT_MS = 160;
export const DEFAULT_NO_UNDERLINE_AT_OR_BELOW_RTT_MS = 100;
export const DEFAULT_GLITCH_SHOW_MS = 250;
export const DEFAULT_GLITCH_UNDERLINE_MS = 5000;
export const DEFAULT_GLITCH_REPAIR_COUNT = 10;
export const DEFAULT_GLITCH_REPAIR_INTERVAL_MS = 150;
export const DEFAULT_INITIAL_RTT_MS = 1000;

export const DEFAULT_DISPLAY_THRESHOLDS: DisplayThresholds = Object.freeze({
  showAboveRttMs: DEFAULT_SHOW_ABOVE_RTT_MS,
  hideAtOrBelowRttMs: DEFAULT_HIDE_AT_OR_BELOW_RTT_MS,
  underlineAboveRttMs: DEFAULT_UNDERLINE_ABOVE_RTT_MS,
  noUnderlineAtOrBelowRttMs: DEFAULT_NO_UNDERLINE_AT_OR_BELOW_RTT_MS,
  glitchShowMs: DEFAULT_GLITCH_SHOW_MS,
  glitchUnderlineMs: DEFAULT_GLITCH_UNDERLINE_MS,
  glitchRepairCount: DEFAULT_GLITCH_REPAIR_COUNT,
  glitchRepairIntervalMs: DEFAULT_GLITCH_REPAIR_INTERVAL_MS,
  initialRttMs: DEFAULT_INITIAL_RTT_MS,
});

/**
 * Decides whether predictions are displayed and underlined. Hysteresis on both thresholds keeps a
 * link whose RTT hovers near one from flickering.
 */
export class DisplayPolicy {
  mode: PredictionMode;
  readonly thresholds: DisplayThresholds;
  #srtt: Millis;
  #rttShows: boolean;
  #rttUnderlines: boolean;
  /** 0: no glitch; > 0 shows; > glitchRepairCount also underlines. */
  #glitch = 0;
  #lastRepair: Millis = -Infinity;

  constructor(mode: PredictionMode = 'adaptive', thresholds: Partial<DisplayThresholds> = {}) {
    this.mode = mode;
    this.thresholds = { ...DEFAULT_DISPLAY_THRESHOLDS, ...thresholds };
    this.#srtt = this.thresholds.initialRttMs;
    this.#rttShows = this.#srtt > this.thresholds.showAboveRttMs;
    this.#rttUnderlines = this.#srtt > this.thresholds.underlineAboveRttMs;
  }

  get srtt(): Millis {
    return this.#srtt;
  }

  /** `onScreen`: whether any prediction is displayed now (showing is never withdrawn under one). */
  setRtt(srtt: Millis, onScreen: boolean): void {
    this.#srtt = srtt;
    this.refresh(onScreen);
  }

  /** Re-applies the thresholds, e.g. after the last displayed prediction went away. */
  refresh(onScreen: boolean): void {
    const t = this.thresholds;
    if (this.#srtt > t.showAboveRttMs) this.#rttShows = true;
    else if (this.#srtt <= t.hideAtOrBelowRttMs && !onScreen) this.#rttShows = false;
    if (this.#srtt > t.underlineAboveRttMs) this.#rttUnderlines = true;
    else if (this.#srtt <= t.noUnderlineAtOrBelowRttMs) this.#rttUnderlines = false;
  }

  /** The oldest keystroke still waiting for its echo has waited `ageMs`. */
  noteWaiting(ageMs: Millis): void {
    const t = this.thresholds;
    if (ageMs >= t.glitchUnderlineMs) this.#glitch = Math.max(this.#glitch, 2 * t.glitchRepairCount);
    else if (ageMs >= t.glitchShowMs) this.#glitch = Math.max(this.#glitch, t.glitchRepairCount);
  }

  /** A keystroke's echo came back after `ageMs`, at time `now`. */
  noteEchoed(ageMs: Millis, now: Millis): void {
    const t = this.thresholds;
    if (this.#glitch > 0 && ageMs < t.glitchShowMs && now - this.#lastRepair >= t.glitchRepairIntervalMs) {
      this.#glitch--;
      this.#lastRepair = now;
    }
  }

  /** Whether predictions are computed at all. */
  get enabled(): boolean {
    return this.mode !== 'never';
  }

  /** Whether confirmed (or trusted) predictions are drawn. */
  get show(): boolean {
    switch (this.mode) {
      case 'never':
        return false;
      case 'always':
      case 'experimental':
        return true;
      case 'adaptive':
        return this.#rttShows || this.#glitch > 0;
    }
  }

  /** Whether displayed, not yet echoed predictions are underlined. */
  get underline(): boolean {
    return this.#rttUnderlines || this.#glitch > this.thresholds.glitchRepairCount;
  }

  get glitchLevel(): number {
    return this.#glitch;
  }
}

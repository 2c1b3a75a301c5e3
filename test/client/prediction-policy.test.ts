import { describe, expect, it } from 'vitest';
import type { PredictMode } from '../../client/options.js';
import { DisplayPolicy, type PredictionMode } from '../../client/prediction-policy.js';

describe('DisplayPolicy', () => {
  it('takes the modes the command line parses', () => {
    const fromCli: PredictMode = 'experimental';
    const mode: PredictionMode = fromCli;
    expect(new DisplayPolicy(mode).mode).toBe('experimental');
  });

  it('starts shown and underlined, like Mosh, before any RTT sample', () => {
    const p = new DisplayPolicy();
    expect(p.show).toBe(true);
    expect(p.underline).toBe(true);
  });

  it('adaptive: shows above 60 ms, hides at or below 40 ms only with nothing on screen', () => {
    const p = new DisplayPolicy('adaptive', { initialRttMs: 10 });
    expect(p.show).toBe(false);
    p.setRtt(60, false);
    expect(p.show).toBe(false);
    p.setRtt(61, false);
    expect(p.show).toBe(true);
    p.setRtt(41, false);
    expect(p.show).toBe(true);
    p.setRtt(40, true);
    expect(p.show).toBe(true);
    p.refresh(false);
    expect(p.show).toBe(false);
  });

  it('underlines above 160 ms and stops at or below 100 ms', () => {
    const p = new DisplayPolicy('adaptive', { initialRttMs: 10 });
    p.setRtt(160, false);
    expect(p.underline).toBe(false);
    p.setRtt(161, false);
    expect(p.underline).toBe(true);
    p.setRtt(101, false);
    expect(p.underline).toBe(true);
    p.setRtt(100, false);
    expect(p.underline).toBe(false);
  });

  it('always and experimental show regardless of RTT; never shows nothing', () => {
    for (const mode of ['always', 'experimental'] as const) {
      const p = new DisplayPolicy(mode, { initialRttMs: 1 });
      expect(p.show).toBe(true);
      expect(p.underline).toBe(false);
    }
    const never = new DisplayPolicy('never');
    expect(never.show).toBe(false);
    expect(never.enabled).toBe(false);
  });

  it('a glitch shows predictions on a fast link; a long one underlines; quick echoes repair it', () => {
    const p = new DisplayPolicy('adaptive', { initialRttMs: 10 });
    p.noteWaiting(249);
    expect(p.show).toBe(false);
    p.noteWaiting(250);
    expect(p.show).toBe(true);
    expect(p.underline).toBe(false);
    p.noteWaiting(5000);
    expect(p.underline).toBe(true);
    expect(p.glitchLevel).toBe(20);
    // Each quick echo lowers the level by one, at most once per 150 ms.
    let now = 0;
    p.noteEchoed(20, now);
    p.noteEchoed(20, now + 10);
    expect(p.glitchLevel).toBe(19);
    p.noteEchoed(300, (now += 150)); // a slow echo does not count
    expect(p.glitchLevel).toBe(19);
    for (let i = 0; i < 9; i++) p.noteEchoed(20, (now += 150));
    expect(p.glitchLevel).toBe(10);
    expect(p.underline).toBe(false);
    expect(p.show).toBe(true);
    for (let i = 0; i < 10; i++) p.noteEchoed(20, (now += 150));
    expect(p.show).toBe(false);
  });

  it('takes every threshold as an option', () => {
    const p = new DisplayPolicy('adaptive', { initialRttMs: 30, showAboveRttMs: 20, glitchShowMs: 100, glitchRepairCount: 2 });
    expect(p.show).toBe(true);
    const q = new DisplayPolicy('adaptive', { initialRttMs: 10, glitchShowMs: 100, glitchRepairCount: 2 });
    q.noteWaiting(100);
    expect(q.glitchLevel).toBe(2);
  });
});

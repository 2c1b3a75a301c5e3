import { describe, expect, it } from 'vitest';
import { BACKSPACE, ENTER, KeystrokeTracker, UntrackableKeyError } from './keystroke-tracker.js';

/** Types `keys` at times 10, 20, 30, … */
function typed(keys: readonly string[], ackBase = 0): KeystrokeTracker {
  const t = new KeystrokeTracker('$ ', ackBase, 80);
  keys.forEach((k, i) => t.type(k, 10 * (i + 1)));
  return t;
}

describe('KeystrokeTracker', () => {
  it('models the line: printable keys, backspace, Enter starts a fresh line at the prompt', () => {
    const t = typed(['l', 's', BACKSPACE, 'x', ENTER, 'a']);
    expect(t.keys.map((k) => k.expected)).toEqual([
      { row: '$ l', x: 3 },
      { row: '$ ls', x: 4 },
      { row: '$ l', x: 3 },
      { row: '$ lx', x: 4 },
      { row: '$', x: 2 },
      { row: '$ a', x: 3 },
    ]);
    expect(t.keys.map((k) => k.judged)).toEqual([true, true, true, true, false, true]);
    expect(t.line).toBe('a');
  });

  it('a screen shows a key only if it arrived after the key was typed', () => {
    const t = typed(['a']);
    t.screen(5, '$ a', 3); // cannot be: 'a' is typed at 10
    expect(t.keys[0]!.displayedAt).toBe(Infinity);
    t.screen(11, '$ a', 3);
    expect(t.keys[0]!.displayedAt).toBe(11);
    t.screen(12, '$ a', 3);
    expect(t.keys[0]!.displayedAt).toBe(11); // the first appearance counts
  });

  it('a screen showing a later key shows every earlier one too', () => {
    const t = typed(['a', 'b', 'c']);
    t.screen(31, '$ ab', 4);
    expect(t.keys.map((k) => k.displayedAt)).toEqual([31, 31, Infinity]);
    t.screen(32, '$ abc', 5);
    expect(t.keys[2]!.displayedAt).toBe(32);
  });

  it('the cursor column matters, not only the text', () => {
    const t = typed(['a', ' ']);
    t.screen(21, '$ a', 3);
    expect(t.keys.map((k) => k.displayedAt)).toEqual([21, Infinity]);
    t.screen(22, '$ a', 4); // the typed space: same text, cursor one further
    expect(t.keys[1]!.displayedAt).toBe(22);
  });

  it('a repeated state counts for the earliest key it can be: a late echo is not taken for the backspace', () => {
    const t = typed(['a', 'b', 'x', BACKSPACE]); // "$ ab" after key 2 and again after key 4
    t.received(300, '$ ab', 4, 0); // the echo of 'b', arriving after the backspace was typed
    expect(t.keys.map((k) => k.echoedAt)).toEqual([300, 300, Infinity, Infinity]);
    t.received(310, '$ abx', 5, 0);
    expect(t.keys[2]!.echoedAt).toBe(310);
    t.received(320, '$ ab', 4, 0); // now it is the backspace's echo
    expect(t.keys[3]!.echoedAt).toBe(320);
  });

  it('the echo ack covers keys from ackBase on, and proves their echo is in', () => {
    const t = typed(['a', 'b', 'c'], 5);
    t.received(300, '$ a', 3, 6); // events 0..5: the window size (say) and 'a'
    expect(t.keys.map((k) => k.ackedAt)).toEqual([300, Infinity, Infinity]);
    expect(t.keys[0]!.echoedAt).toBe(300);
    t.received(320, '$ a', 3, 8); // a state whose screen lags its echo ack still proves 'b' and 'c' arrived
    expect(t.keys.map((k) => k.ackedAt)).toEqual([300, 320, 320]);
    expect(t.keys.map((k) => k.echoedAt)).toEqual([300, 320, 320]);
    expect(t.settled).toBe(false); // nothing was displayed
    t.screen(330, '$ abc', 5);
    expect(t.settled).toBe(true);
  });

  it('refuses keys it cannot model, and lines that would wrap', () => {
    const t = new KeystrokeTracker('$ ', 0, 10);
    expect(() => t.type('\x1b[D', 1)).toThrow(UntrackableKeyError);
    expect(() => t.type('é', 1)).toThrow(UntrackableKeyError);
    for (const k of 'abcdefg') t.type(k, 1);
    expect(() => t.type('h', 1)).toThrow(UntrackableKeyError);
  });
});

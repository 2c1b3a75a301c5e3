import { describe, expect, it } from 'vitest';
import { KeystrokeRig, emptyTimings } from '../../bench/keystroke-path.js';
import { framebuffersEqual } from '../../protocol/framebuffer.js';
import { SessionKey, sodiumReady } from '../../protocol/session-key.js';

describe('the keystroke-path benchmark rig', () => {
  it('carries every key to the server and its echo back to the client screen, across a new prompt line', async () => {
    await sodiumReady();
    const rig = new KeystrokeRig(SessionKey.generate());
    await rig.start();
    const timings = emptyTimings();
    for (let i = 0; i < 33; i++) await rig.key(timings);
    const screen = rig.clientScreen!;
    expect(screen.lines[0]!.toString().trimEnd()).toBe('$ abcdefghijklmnopqrstuvwxyzabcd');
    expect(screen.lines[1]!.toString().trimEnd()).toBe('$ efg');
    expect(screen.cursor).toMatchObject({ x: 5, y: 1 });
    expect(framebuffersEqual(screen, rig.serverScreen)).toBe(true);
    for (const segment of Object.values(timings)) expect(segment).toHaveLength(33);
  });
});

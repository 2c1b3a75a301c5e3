import { afterEach, describe, expect, it } from 'vitest';
import { ScreenWaitTimeoutError, ScreenWatch } from '../../bench/screen-watch.js';
import { ClientProcess } from '../support/live-session.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

function started(args: string[]): { client: ClientProcess; watch: ScreenWatch } {
  const client = ClientProcess.start(args);
  const watch = new ScreenWatch(client);
  cleanups.push(() => {
    watch.dispose();
    client.dispose();
  });
  return { client, watch };
}

describe('ScreenWatch', () => {
  it('resolves with the arrival time of the output that made the screen match, once it is parsed', async () => {
    const armedAt = performance.now();
    const { client, watch } = started(['--version']);
    const arrivedAt = await watch.until('the version', () => /tsmosh/i.test(client.text()));
    expect(arrivedAt).toBeGreaterThanOrEqual(armedAt);
    expect(arrivedAt).toBeLessThanOrEqual(performance.now());
    // The check was true when it resolved: the chunk was parsed before the check ran.
    expect(client.text()).toMatch(/tsmosh/i);
  });

  it('waits for one thing at a time, and times out with what the screen showed', async () => {
    const { watch } = started(['--help']);
    const never = watch.until('something that never shows', () => false, 1500);
    expect(() => watch.until('a second thing', () => true)).toThrow(/one thing at a time/);
    const error = await never.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScreenWaitTimeoutError);
    expect((error as Error).message).toMatch(/tsmosh --local/);
    // After the timeout it can wait again.
    await expect(watch.until('nothing more', () => false, 50)).rejects.toThrow(ScreenWaitTimeoutError);
  });
});

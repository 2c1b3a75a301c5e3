/**
 * Predictive local echo end to end, through a slow and lossy link: the built client on a real PTY,
 * the link emulator at 125 ms each way (250 ms RTT) with 5% loss each way, an in-process server
 * running bash. A frame tap right in front of the client rebuilds the server states the client
 * receives (with the session key) and stamps when each arrives, so "shown before the server could
 * have echoed it" is checked against the echo's real arrival, not against a guessed delay.
 *
 * The assertions are about order and causality, with wide margins, not tight timings: a typed
 * character shows before any server state showing it reaches the client, and sooner than one
 * one-way delay after it was typed (the server cannot even have had it yet).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FrameTap } from '../support/frame-tap.js';
import { ENTER, KeystrokeTracker } from '../support/keystroke-tracker.js';
import { waitUntil, type ClientProcess, type InProcessServer } from '../support/live-session.js';
import { startLossySession } from '../support/lossy-session.js';
import type { ScreenTimeline } from '../support/screen-timeline.js';

const ONE_WAY_MS = 125;
const RTT_MS = 2 * ONE_WAY_MS;
const LOSS = 0.05;
const LINK_SEED = 0x9e2e_7e57;
const KEY_GAP_MS = 150;
const COLS = 80;
const ROWS = 24;
const PROMPT = '$ ';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

interface LossySession {
  readonly server: InProcessServer;
  readonly tap: FrameTap;
  readonly client: ClientProcess;
  readonly timeline: ScreenTimeline;
}

async function lossySession(): Promise<LossySession> {
  const { server, tap, client, timeline } = await startLossySession(
    { oneWayDelayMs: ONE_WAY_MS, loss: LOSS, seed: LINK_SEED, cols: COLS, rows: ROWS },
    cleanups,
  );
  await client.waitForScreen('the shell prompt', (t) => t.startsWith('$'), 20_000);
  // A few round trips of heartbeats and acks: the client has an RTT estimate (250 ms: predictions shown).
  await sleep(4 * RTT_MS);
  return { server, tap, client, timeline };
}

/** Any underlined cell on the user's screen: a prediction not yet confirmed (bash's own output has none). */
function underlinedRows(timeline: ScreenTimeline): number[] {
  const rows: number[] = [];
  for (let y = 0; y < ROWS; y++) if (timeline.view.underlined(y)) rows.push(y);
  return rows;
}

describe('predictive echo on a 250 ms RTT link with 5% loss each way', () => {
  it('shows each typed character before the server could have echoed it, and ends with the server screen', async () => {
    const { server, tap, client, timeline } = await lossySession();
    const tracker = new KeystrokeTracker(PROMPT, tap.latest.echoAck, COLS);
    timeline.onChunk((at, view) => tracker.screen(at, view.row(view.cursorY), view.cursorX));
    tap.onState(({ state, at }) => {
      const fb = state.framebuffer;
      tracker.received(at, fb.lines[fb.cursor.y]!.toString().trimEnd(), fb.cursor.x, state.echoAck);
    });

    // Two lines, the second typed once the prompt after the first command is on screen.
    for (const line of ['echo predicted', 'echo again']) {
      for (const key of line) {
        tracker.type(key, performance.now());
        client.type(key);
        await sleep(KEY_GAP_MS);
      }
      tracker.type(ENTER, performance.now());
      client.type(ENTER);
      const output = line.slice('echo '.length);
      await client.waitForScreen(`the output of "${line}" and a new prompt`, (t) => new RegExp(`\\n${output}\\n\\$$`).test(t.trimEnd()), 10_000);
    }
    await waitUntil('every key to be displayed, echoed and acknowledged', () => tracker.settled, 10_000);

    const typed = tracker.keys.filter((k) => k.judged);
    expect(typed).toHaveLength('echo predicted'.length + 'echo again'.length);
    for (const k of typed) {
      const what = `key ${k.index} ${JSON.stringify(k.key)}: shown after ${(k.displayedAt - k.typedAt).toFixed(1)} ms, echo after ${(k.echoedAt - k.typedAt).toFixed(1)} ms`;
      // The server's echo can only come back after a round trip; the prediction came first.
      expect(k.echoedAt - k.typedAt, what).toBeGreaterThanOrEqual(RTT_MS - 5);
      expect(k.displayedAt, what).toBeLessThan(k.echoedAt);
      // Within one one-way delay: the key had not even reached the server.
      expect(k.displayedAt - k.typedAt, what).toBeLessThan(ONE_WAY_MS);
    }

    await client.waitForScreenToMatch(server.session, 10_000);
    await waitUntil('no unconfirmed prediction on screen', () => timeline.idle && underlinedRows(timeline).length === 0, 5_000);
    expect(client.text().trimEnd()).toBe('$ echo predicted\npredicted\n$ echo again\nagain\n$');
  }, 60_000);

  it('never shows what is typed at a password prompt (read -s)', async () => {
    const { server, client, timeline } = await lossySession();
    client.type(`read -s -p 'Password: ' pw; echo "got \${#pw} characters"\r`);
    await client.waitForScreen('the password prompt', (t) => t.trimEnd().endsWith('Password:'), 10_000);
    // From here on, the password prompt's row must never show anything after "Password:".
    const leaks: string[] = [];
    const stopWatching = timeline.onChunk((_at, view) => {
      for (let y = 0; y < view.rows; y++) {
        const row = view.row(y);
        if (row.startsWith('Password:') && row !== 'Password:') leaks.push(row);
      }
    });
    for (const key of 'hunter2') {
      client.type(key);
      await sleep(KEY_GAP_MS);
    }
    // Several round trips: a wrong guess would have been shown (and judged) by now.
    await sleep(3 * RTT_MS);
    expect(leaks).toEqual([]);
    // read -s prints no newline: the command's output goes on the prompt's row from here.
    stopWatching();
    client.type(ENTER);
    await client.waitForScreen('the length of what was read', (t) => t.includes('got 7 characters'), 10_000);
    await client.waitForScreenToMatch(server.session, 10_000);
    expect(client.lines()).toContain('Password: got 7 characters');
    expect(client.text()).not.toContain('hunter');
  }, 60_000);
});

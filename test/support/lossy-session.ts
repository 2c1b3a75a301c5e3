/**
 * A live session over a slow, lossy link, as the prediction test and benchmark use it: an
 * in-process server, the link emulator, a frame tap in front of the client (it rebuilds the states
 * the client receives and stamps their arrival), the built client on a real PTY, and a timeline
 * of what the user's screen showed when.
 */
import { FrameTap } from './frame-tap.js';
import { LinkEmulator } from './link-emulator.js';
import { ClientProcess, startInProcessServer, type InProcessServer } from './live-session.js';
import { ScreenTimeline } from './screen-timeline.js';

export interface LossySessionOptions {
  readonly oneWayDelayMs: number;
  readonly loss: number;
  readonly seed: number;
  readonly cols: number;
  readonly rows: number;
  /** What the server runs instead of the test shell. */
  readonly command?: { readonly file: string; readonly args: string[] };
}

export interface LossySession {
  readonly server: InProcessServer;
  readonly relay: LinkEmulator;
  readonly tap: FrameTap;
  readonly client: ClientProcess;
  readonly timeline: ScreenTimeline;
}

/** Starts the parts, pushing how to stop each onto `cleanups` (run them last-in, first-out). */
export async function startLossySession(o: LossySessionOptions, cleanups: (() => void | Promise<void>)[]): Promise<LossySession> {
  const server = await startInProcessServer(o.command === undefined ? {} : { command: o.command.file, args: o.command.args });
  cleanups.push(() => server.session.terminate('session over'));
  const profile = { delayMs: o.oneWayDelayMs, loss: o.loss };
  const relay = await LinkEmulator.start({ server: { address: '127.0.0.1', port: server.port }, up: profile, down: profile, seed: o.seed });
  cleanups.push(() => relay.close());
  const tap = await FrameTap.start({ upstream: { address: '127.0.0.1', port: relay.port }, key: server.key });
  cleanups.push(() => tap.close());
  const client = ClientProcess.connect('127.0.0.1', tap.port, server.key, {}, o.cols, o.rows);
  cleanups.push(() => client.dispose());
  const timeline = new ScreenTimeline(client);
  cleanups.push(() => timeline.dispose());
  return { server, relay, tap, client, timeline };
}

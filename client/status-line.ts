/**
 * The notice on the top row that tells the user the link is unwell, and how to get out.
 * Pure: times in, text out; and a function that lays the text over a screen.
 */
import { Attr, color, ColorKind, Row, type Framebuffer } from '../protocol/framebuffer.js';
import type { Millis } from '../protocol/clock.js';

export interface StatusTimings {
  /** Show "Last contact" after this long without hearing the server (Mosh: 6.5 s, two missed heartbeats). */
  readonly serverLateMs: Millis;
  /** Show "Last reply" after this long without the server acknowledging what we sent (Mosh: 10 s). */
  readonly replyLateMs: Millis;
  /** Before the first frame: after this long, hint that the UDP port may be blocked. */
  readonly firewallHintMs: Millis;
}

export const DEFAULT_STATUS_TIMINGS: StatusTimings = Object.freeze({
  serverLateMs: 6500,
  replyLateMs: 10_000,
  firewallHintMs: 3000,
});

export interface LinkHealth {
  readonly now: Millis;
  /** When the session began (the client started trying). */
  readonly startedAt: Millis;
  /** When the first screen arrived, or null if none has yet. */
  readonly firstFrameAt: Millis | null;
  /** When we last heard anything authentic from the server. */
  readonly lastHeard: Millis;
  /** When we sent the newest state the server has acknowledged. */
  readonly lastAckedSend: Millis;
  /** The server's UDP port, for the firewall hint. */
  readonly serverPort: number;
  /** How to quit, e.g. 'Ctrl-^ .', or null when the escape key is disabled. */
  readonly quitHint: string | null;
}

/** Seconds as a person reads them: `12 seconds`, `3:05`, `1:02:03`. */
export function formatDuration(ms: Millis): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} ${s === 1 ? 'second' : 'seconds'}`;
  const pad = (n: number): string => n.toString().padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}:${pad(s % 60)}`;
  return `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

/** The notice to show now, or null when all is well. */
export function statusMessage(h: LinkHealth, t: StatusTimings = DEFAULT_STATUS_TIMINGS): string | null {
  const quit = h.quitHint === null ? '' : ` [To quit: ${h.quitHint}]`;
  if (h.firstFrameAt === null) {
    const waited = h.now - h.startedAt;
    if (waited < t.firewallHintMs) return `tsmosh: Connecting...${quit}`;
    return `tsmosh: Nothing received from the server for ${formatDuration(waited)}; UDP port ${h.serverPort} may be blocked by a firewall.${quit}`;
  }
  const sinceHeard = h.now - h.lastHeard;
  if (sinceHeard > t.serverLateMs) return `tsmosh: Last contact ${formatDuration(sinceHeard)} ago.${quit}`;
  const sinceReply = h.now - h.lastAckedSend;
  if (sinceReply > t.replyLateMs) return `tsmosh: Last reply ${formatDuration(sinceReply)} ago.${quit}`;
  return null;
}

const BAR_FG = color(ColorKind.Palette16, 7);
const BAR_BG = color(ColorKind.Palette16, 4);

/**
 * The screen with `message` drawn over its top row, white on blue, padded to the full width
 * (Mosh's look). The cursor is hidden if it sits on that row, so it does not blink inside the bar.
 */
export function withStatusLine(fb: Framebuffer, message: string): Framebuffer {
  if (fb.cols === 0 || fb.rows === 0) return fb;
  const row = Row.blank(fb.cols, BAR_BG);
  const chars = Array.from(message);
  for (let x = 0; x < fb.cols; x++) {
    row.set(x, chars[x] ?? ' ', 1, BAR_FG, BAR_BG, Attr.Bold);
  }
  const lines = fb.lines.slice();
  lines[0] = row;
  const cursor = fb.cursor.y === 0 ? { ...fb.cursor, visible: false } : fb.cursor;
  return { ...fb, lines, cursor };
}

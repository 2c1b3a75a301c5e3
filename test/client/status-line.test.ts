import { describe, expect, it } from 'vitest';
import { formatDuration, statusMessage, withStatusLine, type LinkHealth } from '../../client/status-line.js';
import { blankFramebuffer } from '../../protocol/framebuffer.js';

const base: LinkHealth = {
  now: 100_000,
  startedAt: 0,
  firstFrameAt: 1000,
  lastHeard: 99_000,
  lastAckedSend: 99_000,
  serverPort: 60001,
  quitHint: 'Ctrl-^ .',
};

describe('statusMessage', () => {
  it('says nothing while the link is healthy', () => {
    expect(statusMessage(base)).toBeNull();
  });
  it('says Connecting, then hints at a firewall before the first frame', () => {
    expect(statusMessage({ ...base, firstFrameAt: null, now: 1000 })).toBe('tsmosh: Connecting... [To quit: Ctrl-^ .]');
    expect(statusMessage({ ...base, firstFrameAt: null, now: 5000 })).toMatch(/UDP port 60001 may be blocked by a firewall/);
  });
  it('counts the time since last contact', () => {
    expect(statusMessage({ ...base, lastHeard: 88_000 })).toBe('tsmosh: Last contact 12 seconds ago. [To quit: Ctrl-^ .]');
  });
  it('says Last reply when only our side is unacknowledged', () => {
    expect(statusMessage({ ...base, lastAckedSend: 80_000 })).toBe('tsmosh: Last reply 20 seconds ago. [To quit: Ctrl-^ .]');
  });
  it('omits the quit hint when the escape key is disabled', () => {
    expect(statusMessage({ ...base, lastHeard: 88_000, quitHint: null })).toBe('tsmosh: Last contact 12 seconds ago.');
  });
  it('formats long durations', () => {
    expect(formatDuration(1000)).toBe('1 second');
    expect(formatDuration(185_000)).toBe('3:05');
    expect(formatDuration(3_723_000)).toBe('1:02:03');
  });
});

describe('withStatusLine', () => {
  it('draws over the top row only and hides a cursor that sits there', () => {
    const fb = blankFramebuffer(20, 3);
    const out = withStatusLine(fb, 'tsmosh: hello');
    expect(out.lines[0]!.toString()).toBe('tsmosh: hello       ');
    expect(out.lines[1]).toBe(fb.lines[1]);
    expect(out.cursor.visible).toBe(false);
    expect(fb.lines[0]!.toString().trim()).toBe('');
  });
});

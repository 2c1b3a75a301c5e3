import { describe, expect, it } from 'vitest';
import { EchoAckTracker } from '../../server/echo-ack.js';

describe('EchoAckTracker', () => {
  it('acknowledges input only once it has been with the application for the delay', () => {
    const t = new EchoAckTracker(50);
    t.delivered(3, 1000);
    expect(t.ack(1000)).toBe(0);
    expect(t.waitTime(1000)).toBe(50);
    expect(t.ack(1049)).toBe(0);
    expect(t.ack(1050)).toBe(3);
    expect(t.waitTime(1050)).toBe(Infinity);
  });
  it('moves forward in order and never backwards', () => {
    const t = new EchoAckTracker(50);
    t.delivered(1, 0);
    t.delivered(2, 10);
    t.delivered(5, 30);
    expect(t.ack(55)).toBe(1);
    expect(t.ack(60)).toBe(2);
    expect(t.waitTime(60)).toBe(20);
    expect(t.ack(100)).toBe(5);
    expect(t.ack(200)).toBe(5);
  });
});

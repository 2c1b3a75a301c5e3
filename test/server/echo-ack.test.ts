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

describe('EchoAckTracker: answered input', () => {
  it('acknowledges input the application answered once its output has been quiet, well before the delay', () => {
    const t = new EchoAckTracker(50, 4);
    t.delivered(7, 1000);
    t.output(1001);
    expect(t.ack(1004)).toBe(0);
    expect(t.waitTime(1004)).toBe(1);
    t.output(1003); // more output: quiet starts again
    expect(t.ack(1006)).toBe(0);
    expect(t.waitTime(1006)).toBe(1);
    expect(t.ack(1007)).toBe(7);
    expect(t.waitTime(1007)).toBe(Infinity);
  });

  it('does not let output that came before the input answer it', () => {
    const t = new EchoAckTracker(50, 4);
    t.output(990);
    t.delivered(3, 1000);
    expect(t.ack(1010)).toBe(0);
    expect(t.waitTime(1010)).toBe(40);
    expect(t.ack(1050)).toBe(3);
  });

  it('acknowledges only the input delivered before the answer; later input waits for its own', () => {
    const t = new EchoAckTracker(50, 4);
    t.delivered(1, 1000);
    t.output(1001);
    t.delivered(2, 1002);
    expect(t.ack(1005)).toBe(1);
    expect(t.waitTime(1005)).toBe(47);
    t.output(1010);
    expect(t.ack(1014)).toBe(2);
  });

  it('does not merge new input into an entry that was already answered at the same instant', () => {
    const t = new EchoAckTracker(50, 4);
    t.delivered(1, 1000);
    t.output(1000);
    t.delivered(2, 1000);
    expect(t.ack(1004)).toBe(1);
    expect(t.ack(1050)).toBe(2);
  });

  it('never goes backwards when the delay and the quiet rule interleave', () => {
    const t = new EchoAckTracker(50, 4);
    t.delivered(1, 0);
    t.delivered(2, 30);
    t.output(31);
    expect(t.ack(35)).toBe(2);
    expect(t.ack(60)).toBe(2);
  });
});

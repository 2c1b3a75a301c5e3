import { describe, expect, it } from 'vitest';
import { MAX_STATUS_THRESHOLD_MS, statusTimingsFromEnvironment, UsageError } from '../../client/options.js';

describe('statusTimingsFromEnvironment', () => {
  it('leaves every threshold to its default when nothing is set', () => {
    expect(statusTimingsFromEnvironment({})).toEqual({});
    expect(statusTimingsFromEnvironment({ TSMOSH_LAST_CONTACT_MS: '', TSMOSH_LAST_REPLY_MS: '  ' })).toEqual({});
  });

  it('reads each variable into its field', () => {
    expect(
      statusTimingsFromEnvironment({ TSMOSH_LAST_CONTACT_MS: '1500', TSMOSH_LAST_REPLY_MS: ' 2500 ', TSMOSH_FIREWALL_HINT_MS: '0' }),
    ).toEqual({ serverLateMs: 1500, replyLateMs: 2500, firewallHintMs: 0 });
    expect(statusTimingsFromEnvironment({ TSMOSH_LAST_REPLY_MS: String(MAX_STATUS_THRESHOLD_MS) })).toEqual({ replyLateMs: MAX_STATUS_THRESHOLD_MS });
  });

  it.each(['soon', '-1', '1.5', '1e3', '0x10', String(MAX_STATUS_THRESHOLD_MS + 1)])('refuses %j with a message naming the variable', (text) => {
    expect(() => statusTimingsFromEnvironment({ TSMOSH_LAST_CONTACT_MS: text })).toThrow(UsageError);
    expect(() => statusTimingsFromEnvironment({ TSMOSH_LAST_CONTACT_MS: text })).toThrow(/^tsmosh: TSMOSH_LAST_CONTACT_MS must be a whole number of milliseconds/);
  });
});

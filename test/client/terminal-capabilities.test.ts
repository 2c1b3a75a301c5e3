import { describe, expect, it } from 'vitest';
import { capabilitiesForTerm, DEFAULT_CAPABILITIES } from '../../client/terminal-capabilities.js';

describe('capabilitiesForTerm', () => {
  it('treats xterm-likes as fully capable', () => {
    expect(capabilitiesForTerm('xterm-256color')).toEqual(DEFAULT_CAPABILITIES);
  });

  it('knows screen and tmux do not erase with the background colour but show titles', () => {
    for (const term of ['screen-256color', 'tmux-256color']) {
      const caps = capabilitiesForTerm(term);
      expect(caps.backgroundColorErase).toBe(false);
      expect(caps.titles).toBe(true);
      expect(caps.eraseCharacters).toBe(true);
    }
  });

  it('is conservative about old or unknown terminals', () => {
    expect(capabilitiesForTerm('vt100')).toMatchObject({ backgroundColorErase: false, eraseCharacters: false, titles: false });
    expect(capabilitiesForTerm(undefined)).toMatchObject({ backgroundColorErase: false, eraseCharacters: false, titles: false });
    expect(capabilitiesForTerm('linux')).toMatchObject({ backgroundColorErase: true, titles: false });
  });
});

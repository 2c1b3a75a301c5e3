import { describe, expect, it } from 'vitest';
import { blankFramebuffer, DEFAULT_MODES, Row, type Framebuffer } from '../../protocol/framebuffer.js';
import { looksFullScreen, looksLikeShellPrompt, PromptBook, promptSignature } from '../../client/prompt-trust.js';

function rowOf(text: string, fg = 0): Row {
  const r = Row.blank(40);
  Array.from(text).forEach((ch, x) => r.set(x, ch, 1, fg, 0, 0));
  return r;
}

function frameWith(row: Row, extra: Partial<Framebuffer> = {}): Framebuffer {
  const fb = blankFramebuffer(40, 4);
  const lines = fb.lines.slice();
  lines[0] = row;
  return { ...fb, lines, ...extra };
}

describe('looksLikeShellPrompt', () => {
  it('accepts common shell and REPL prompts', () => {
    for (const p of ['user@host:~$ ', 'root@box:/# ', 'host% ', '$ ', '$', '>>> ', 'mysql> ', '~/src ❯ ', 'λ ', 'PS C:\\> ']) {
      expect(looksLikeShellPrompt(p), p).toBe(true);
    }
  });

  it('rejects prompts that ask for a secret or do not end in a sigil', () => {
    for (const p of [
      '[sudo] password for user: ',
      'Password: ',
      "Enter passphrase for key '/home/u/.ssh/id_ed25519': ",
      'user@host\'s password: ',
      'Verification code: ',
      'Enter PIN> ',
      'Password> ',
      'token$ ',
      '(reverse-i-search)`\': ',
      'Are you sure (yes/no)? ',
      '$  ', // two spaces after the sigil: not a prompt end we recognise
      '   ',
      '',
    ]) {
      expect(looksLikeShellPrompt(p), p).toBe(false);
    }
  });
});

describe('looksFullScreen', () => {
  it('is true for application cursor keys or keypad, mouse reporting, or a hidden cursor', () => {
    const row = rowOf('$ ');
    expect(looksFullScreen(frameWith(row))).toBe(false);
    expect(looksFullScreen(frameWith(row, { modes: { ...DEFAULT_MODES, applicationCursorKeys: true } }))).toBe(true);
    expect(looksFullScreen(frameWith(row, { modes: { ...DEFAULT_MODES, applicationKeypad: true } }))).toBe(true);
    expect(looksFullScreen(frameWith(row, { modes: { ...DEFAULT_MODES, mouseTracking: 'vt200' } }))).toBe(true);
    const fb = frameWith(row);
    expect(looksFullScreen({ ...fb, cursor: { ...fb.cursor, visible: false } })).toBe(true);
  });
});

describe('PromptBook', () => {
  const options = { earlyPrompts: true, promptShapes: true, maxLearned: 2 };

  it('trusts shell-shaped prompts, and learned ones even without the shape', () => {
    const book = new PromptBook(options);
    const shell = rowOf('user@host:~$ ');
    expect(book.trust(frameWith(shell), shell, 13, promptSignature(shell, 13))).toBe('shape');
    const odd = rowOf('[~/src] ');
    const sig = promptSignature(odd, 8);
    expect(book.trust(frameWith(odd), odd, 8, sig)).toBe(null);
    book.learn(sig);
    expect(book.trust(frameWith(odd), odd, 8, sig)).toBe('learned');
  });

  it('tells prompts apart by colour too', () => {
    const book = new PromptBook({ ...options, promptShapes: false });
    const green = rowOf('[x] ', 0x1000002);
    const red = rowOf('[x] ', 0x1000001);
    book.learn(promptSignature(green, 4));
    expect(book.trust(frameWith(green), green, 4, promptSignature(green, 4))).toBe('learned');
    expect(book.trust(frameWith(red), red, 4, promptSignature(red, 4))).toBe(null);
  });

  it('never trusts a distrusted prompt again, and trusts nothing while careful', () => {
    const book = new PromptBook(options);
    const row = rowOf('> ');
    const sig = promptSignature(row, 2);
    book.distrust(sig);
    expect(book.trust(frameWith(row), row, 2, sig)).toBe(null);
    book.learn(sig);
    expect(book.trust(frameWith(row), row, 2, sig)).toBe(null);
    const other = rowOf('$ ');
    book.beCareful();
    expect(book.careful).toBe(true);
    expect(book.trust(frameWith(other), other, 2, promptSignature(other, 2))).toBe(null);
    book.noteConfirmed();
    expect(book.trust(frameWith(other), other, 2, promptSignature(other, 2))).toBe('shape');
  });

  it('forgets the oldest learned prompt beyond its bound', () => {
    const book = new PromptBook({ ...options, promptShapes: false });
    const rows = ['[a] ', '[b] ', '[c] '].map((t) => rowOf(t));
    for (const r of rows) book.learn(promptSignature(r, 4));
    expect(book.learnedCount).toBe(2);
    expect(book.trust(frameWith(rows[0]!), rows[0]!, 4, promptSignature(rows[0]!, 4))).toBe(null);
    expect(book.trust(frameWith(rows[2]!), rows[2]!, 4, promptSignature(rows[2]!, 4))).toBe('learned');
  });

  it('is off entirely with earlyPrompts: false, and in full-screen programs', () => {
    const row = rowOf('$ ');
    const sig = promptSignature(row, 2);
    const off = new PromptBook({ ...options, earlyPrompts: false });
    off.learn(sig);
    expect(off.trust(frameWith(row), row, 2, sig)).toBe(null);
    const book = new PromptBook(options);
    book.learn(sig);
    expect(book.trust(frameWith(row, { modes: { ...DEFAULT_MODES, applicationCursorKeys: true } }), row, 2, sig)).toBe(null);
  });
});

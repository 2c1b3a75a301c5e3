import { describe, expect, it } from 'vitest';
import { EscapeKeyReader, escapeKeyName, parseEscapeKey, type EscapeAction } from '../../client/escape-key.js';

const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const sent = (actions: EscapeAction[]): string =>
  actions.map((a) => (a.kind === 'send' ? Buffer.from(a.bytes).toString('latin1') : `<${a.kind}>`)).join('');

describe('parseEscapeKey', () => {
  it('defaults to Ctrl-^, disables on empty, accepts a literal or caret notation', () => {
    expect(parseEscapeKey(undefined).key).toBe(0x1e);
    expect(parseEscapeKey('').key).toBeNull();
    expect(parseEscapeKey('~').key).toBe(0x7e);
    expect(parseEscapeKey('^]').key).toBe(0x1d);
    expect(parseEscapeKey('\x1d').key).toBe(0x1d);
  });
  it('refuses keys needed for ordinary work by falling back to Ctrl-^', () => {
    for (const k of ['^C', '^D', '^L', '\r', '\n']) expect(parseEscapeKey(k).key).toBe(0x1e);
  });
  it('rejects more than one character with a plain message', () => {
    expect(() => parseEscapeKey('abc')).toThrow(/one character/);
    expect(() => parseEscapeKey('é')).toThrow(/ASCII/);
  });
  it('names keys for people', () => {
    expect(escapeKeyName(0x1e)).toBe('Ctrl-^');
    expect(escapeKeyName(0x7e)).toBe('~');
  });
});

describe('EscapeKeyReader', () => {
  it('passes ordinary input through untouched', () => {
    const r = new EscapeKeyReader({ key: 0x1e });
    expect(sent(r.read(bytes('ls -l\r')))).toBe('ls -l\r');
  });
  it('quits on Ctrl-^ . and drops what follows', () => {
    const r = new EscapeKeyReader({ key: 0x1e });
    expect(sent(r.read(bytes('ab\x1e.cd')))).toBe('ab<help><help-done><quit>');
  });
  it('works when the two keys arrive in separate reads', () => {
    const r = new EscapeKeyReader({ key: 0x1e });
    expect(sent(r.read(bytes('x\x1e')))).toBe('x<help>');
    expect(sent(r.read(bytes('.')))).toBe('<help-done><quit>');
  });
  it('suspends on Ctrl-^ Ctrl-Z and carries on after', () => {
    const r = new EscapeKeyReader({ key: 0x1e });
    expect(sent(r.read(bytes('\x1e\x1ayz')))).toBe('<help><help-done><suspend>yz');
  });
  it('sends a literal Ctrl-^ for Ctrl-^ ^ and both keys for anything else', () => {
    const r = new EscapeKeyReader({ key: 0x1e });
    expect(sent(r.read(bytes('\x1e^')))).toBe('<help><help-done>\x1e');
    expect(sent(r.read(bytes('\x1eq')))).toBe('<help><help-done>\x1eq');
  });
  it('only honours a printable escape key at the start of a line', () => {
    const r = new EscapeKeyReader({ key: 0x7e });
    expect(sent(r.read(bytes('a~.')))).toBe('a~.');
    expect(sent(r.read(bytes('\r~.')))).toBe('\r<help><help-done><quit>');
  });
  it('does nothing special when disabled', () => {
    const r = new EscapeKeyReader({ key: null });
    expect(sent(r.read(bytes('\x1e.')))).toBe('\x1e.');
  });
});

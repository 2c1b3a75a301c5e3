import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseKeys, type KeyAction } from '../../client/key-input.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const kinds = (s: string, pasteBytes?: number): string[] => parseKeys(bytes(s), pasteBytes).map((a) => a.kind);

describe('parseKeys', () => {
  it('reads printable ASCII one key per character, width 1', () => {
    const out = parseKeys(bytes('ls -a'));
    expect(out.map((a) => (a.kind === 'print' ? a.text : a.kind))).toEqual(['l', 's', ' ', '-', 'a']);
    expect(out.every((a) => a.kind === 'print' && a.width === 1)).toBe(true);
  });

  it('decodes UTF-8, with Unicode 11 widths', () => {
    const out = parseKeys(bytes('é中😀'));
    expect(out).toEqual([
      { kind: 'print', text: 'é', width: 1 },
      { kind: 'print', text: '中', width: 2 },
      { kind: 'print', text: '😀', width: 2 },
    ]);
  });

  it('reports zero-width code points, C1 controls and malformed UTF-8 as unsupported', () => {
    expect(kinds('e\u0301')).toEqual(['print', 'unsupported']);
    expect(kinds('\u200d')).toEqual(['unsupported']);
    expect(parseKeys(new Uint8Array([0xc2, 0x85])).map((a) => a.kind)).toEqual(['unsupported']); // U+0085 (C1)
    expect(parseKeys(new Uint8Array([0xc3])).map((a) => a.kind)).toEqual(['unsupported']); // cut short
    expect(parseKeys(new Uint8Array([0xc3, 0x41])).map((a) => a.kind)).toEqual(['unsupported', 'print']);
    expect(parseKeys(new Uint8Array([0xc0, 0x80])).map((a) => a.kind)).toEqual(['unsupported', 'unsupported']); // overlong
    expect(parseKeys(new Uint8Array([0xed, 0xa0, 0x80])).map((a) => a.kind)).toEqual(['unsupported']); // surrogate
    expect(parseKeys(new Uint8Array([0xff])).map((a) => a.kind)).toEqual(['unsupported']);
  });

  it('reads both backspace codes, Enter as CR or LF, Ctrl-C, and other controls', () => {
    expect(kinds('\x7f\x08\r\n\x03\t\x01\x15')).toEqual(['backspace', 'backspace', 'enter', 'enter', 'interrupt', 'control', 'control', 'control']);
  });

  it('reads left and right arrows in CSI and SS3 forms', () => {
    expect(kinds('\x1b[D\x1b[C\x1bOD\x1bOC')).toEqual(['left', 'right', 'left', 'right']);
  });

  it('treats every other escape sequence as one unpredictable key', () => {
    expect(kinds('\x1b[A\x1b[B\x1bOA')).toEqual(['escape', 'escape', 'escape']); // up, down
    expect(kinds('\x1b[1;5C')).toEqual(['escape']); // ctrl-right: a word, not a cell
    expect(kinds('\x1b[3~\x1b[15~')).toEqual(['escape', 'escape']); // delete, F5
    expect(kinds('\x1bb')).toEqual(['escape']); // alt-b
    expect(kinds('\x1bé')).toEqual(['escape']); // alt + a multi-byte character
    expect(kinds('\x1b')).toEqual(['escape']); // the Escape key alone
    expect(kinds('\x1b\x1b[C')).toEqual(['escape', 'right']);
    expect(kinds('a\x1b[')).toEqual(['print', 'escape']); // cut short
    expect(kinds('\x1bO')).toEqual(['escape']);
    expect(kinds('\x1b[1;5')).toEqual(['escape']);
  });

  it('takes a read longer than the paste threshold as one paste', () => {
    expect(kinds('a'.repeat(100))).toHaveLength(100);
    expect(kinds('a'.repeat(101))).toEqual(['paste']);
    expect(kinds('abc', 2)).toEqual(['paste']);
  });

  it('takes a bracketed paste as one paste', () => {
    expect(kinds('\x1b[200~hi\x1b[201~')).toEqual(['paste']);
    expect(kinds('x\x1b[200~hi')).toEqual(['paste']);
  });

  it('never throws and accounts for every byte (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (b) => {
        const out: KeyAction[] = parseKeys(b);
        if (b.length > 100) expect(out).toEqual([{ kind: 'paste' }]);
        else expect(out.length).toBeLessThanOrEqual(b.length);
        if (b.length > 0 && b.length <= 100) expect(out.length).toBeGreaterThan(0);
      }),
      { seed: 42, numRuns: 500 },
    );
  });

  it('round-trips typed text: every character is one print key (property)', () => {
    const ch = fc.oneof(fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), fc.constantFrom('é', 'ß', '中', '한', '😀', '€'));
    fc.assert(
      fc.property(fc.array(ch, { maxLength: 40 }), (chars) => {
        const out = parseKeys(bytes(chars.join('')));
        expect(out.map((a) => (a.kind === 'print' ? a.text : `<${a.kind}>`))).toEqual(chars);
      }),
      { seed: 7, numRuns: 300 },
    );
  });
});

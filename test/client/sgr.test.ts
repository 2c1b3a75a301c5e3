import { describe, expect, it } from 'vitest';
import { sgrAbsolute, sgrTransition } from '../../client/sgr.js';
import { Attr, ColorKind, color } from '../../protocol/framebuffer.js';

const red16 = color(ColorKind.Palette16, 1);
const brightBlue16 = color(ColorKind.Palette16, 12);
const orange256 = color(ColorKind.Palette256, 208);
const rgb = color(ColorKind.Rgb, 0x123456);

describe('sgrAbsolute', () => {
  it('writes every attribute and colour form', () => {
    expect(sgrAbsolute(0, 0, 0)).toBe('\x1b[m');
    expect(sgrAbsolute(red16, brightBlue16, Attr.Bold | Attr.Underline)).toBe('\x1b[0;1;4;31;104m');
    expect(sgrAbsolute(orange256, rgb, Attr.Overline | Attr.Strikethrough | Attr.Inverse)).toBe('\x1b[0;7;9;53;38;5;208;48;2;18;52;86m');
    expect(sgrAbsolute(0, 0, Attr.Dim | Attr.Italic | Attr.Blink | Attr.Invisible)).toBe('\x1b[0;2;3;5;8m');
  });
});

describe('sgrTransition', () => {
  it('adds only what changed', () => {
    expect(sgrTransition(red16, 0, 0, red16, 0, 0)).toBe('');
    expect(sgrTransition(red16, 0, 0, red16, 0, Attr.Bold)).toBe('\x1b[1m');
    expect(sgrTransition(red16, 0, Attr.Bold, orange256, 0, Attr.Bold)).toBe('\x1b[38;5;208m');
  });

  it('starts over when an attribute goes off', () => {
    expect(sgrTransition(red16, 0, Attr.Bold | Attr.Italic, red16, 0, Attr.Italic)).toBe('\x1b[0;3;31m');
  });

  it('uses a reset when it is shorter than going back to default colours', () => {
    expect(sgrTransition(red16, rgb, 0, 0, 0, 0)).toBe('\x1b[m');
    expect(sgrTransition(red16, 0, Attr.Bold, 0, 0, Attr.Bold)).toBe('\x1b[39m');
  });
});

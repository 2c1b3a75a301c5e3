/**
 * SGR (Select Graphic Rendition, `CSI … m`): the escape sequences that set colours and attributes.
 *
 * Colours are written in the same form the application used (16-colour codes, `38;5;n`, or
 * `38;2;r;g;b`), so a terminal that tells the forms apart (xterm.js does) ends up with exactly the
 * cell the server's emulator holds. Built by plain string concatenation: this runs once per change
 * of rendition in a frame, which on a colourful screen is thousands of times.
 */
import { type Color, ColorKind, colorKind, colorValue } from '../protocol/framebuffer.js';

/** The SGR parameter of each attribute bit (Attr.Bold = bit 0 … Attr.Overline = bit 8). */
const ATTR_CODES: readonly string[] = ['1', '2', '3', '4', '5', '7', '8', '9', '53'];

/** SGR parameters for a colour; `base` is 30 for foreground, 40 for background. */
function colorParams(c: Color, base: 30 | 40): string {
  const v = colorValue(c);
  switch (colorKind(c)) {
    case ColorKind.Palette16:
      if (v < 8) return String(base + v);
      if (v < 16) return String(base + 60 + v - 8);
      return `${base + 8};5;${v & 0xff}`;
    case ColorKind.Palette256:
      return `${base + 8};5;${v & 0xff}`;
    case ColorKind.Rgb:
      return `${base + 8};2;${(v >>> 16) & 0xff};${(v >>> 8) & 0xff};${v & 0xff}`;
    default:
      return String(base + 9);
  }
}

/** `;`-separated parameters for the attribute bits set in `attrs`, each preceded by `;`. */
function attrParams(attrs: number): string {
  let s = '';
  for (let bit = 0; attrs >> bit !== 0 && bit < ATTR_CODES.length; bit++) if ((attrs & (1 << bit)) !== 0) s += ';' + ATTR_CODES[bit]!;
  return s;
}

/** A complete rendition from scratch: `CSI 0;…m` (just `CSI m` for the default). */
export function sgrAbsolute(fg: Color, bg: Color, attrs: number): string {
  let p = attrParams(attrs);
  if (fg !== 0) p += ';' + colorParams(fg, 30);
  if (bg !== 0) p += ';' + colorParams(bg, 40);
  return p === '' ? '\x1b[m' : '\x1b[0' + p + 'm';
}

/**
 * The shortest sequence this module knows from one rendition to another. When an attribute must
 * be turned off it starts over with a full reset (off codes such as 22 clear bold and dim together
 * and are not understood everywhere); otherwise it only adds what changed. '' when equal.
 */
export function sgrTransition(fromFg: Color, fromBg: Color, fromAttrs: number, fg: Color, bg: Color, attrs: number): string {
  if (fromFg === fg && fromBg === bg && fromAttrs === attrs) return '';
  if ((fromAttrs & ~attrs) !== 0) return sgrAbsolute(fg, bg, attrs);
  let p = attrParams(attrs & ~fromAttrs);
  if (fg !== fromFg) p += ';' + colorParams(fg, 30);
  if (bg !== fromBg) p += ';' + colorParams(bg, 40);
  const relative = '\x1b[' + p.slice(1) + 'm';
  // Only a colour going back to default (39, 49) can make the reset form shorter.
  if ((fg === 0 && fromFg !== 0) || (bg === 0 && fromBg !== 0)) {
    const absolute = sgrAbsolute(fg, bg, attrs);
    if (absolute.length <= relative.length) return absolute;
  }
  return relative;
}

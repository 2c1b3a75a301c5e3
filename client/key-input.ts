/**
 * Splits the bytes of one keyboard read into the keys the prediction engine understands.
 *
 * Only a few keys have a predictable effect on a line editor: printable characters, backspace and
 * the left/right arrows. Everything else (Enter, control keys, other escape sequences, a paste) is
 * reported by kind, so the engine can stop guessing until the server shows what it did.
 *
 * A read is taken whole: a UTF-8 character or escape sequence cut at its end is reported as
 * `unsupported` / `escape` rather than carried over, which can only make the engine more careful.
 */
import { charWidth } from './char-width.js';

export type KeyAction =
  | { readonly kind: 'print'; readonly text: string; readonly width: 1 | 2 }
  | { readonly kind: 'backspace' }
  | { readonly kind: 'left' }
  | { readonly kind: 'right' }
  /** CR or LF. */
  | { readonly kind: 'enter' }
  /** Ctrl-C: at a shell, abandons the line for a fresh prompt. */
  | { readonly kind: 'interrupt' }
  /** Any other C0 control (Tab, Ctrl-C, …). */
  | { readonly kind: 'control' }
  /** ESC alone, Alt+key, and every CSI/SS3 sequence except the plain left/right arrows. */
  | { readonly kind: 'escape' }
  /** A bracketed paste or a read longer than the paste threshold: the whole read. */
  | { readonly kind: 'paste' }
  /** Zero-width code points (combining marks, joiners), C1 controls and malformed UTF-8. */
  | { readonly kind: 'unsupported' };

export type KeyKind = KeyAction['kind'];

/** Mosh's rule: a read longer than this is a paste, not typing. */
export const DEFAULT_PASTE_BYTES = 100;

const ESC = 0x1b;

const BACKSPACE: KeyAction = Object.freeze({ kind: 'backspace' });
const LEFT: KeyAction = Object.freeze({ kind: 'left' });
const RIGHT: KeyAction = Object.freeze({ kind: 'right' });
const ENTER: KeyAction = Object.freeze({ kind: 'enter' });
const INTERRUPT: KeyAction = Object.freeze({ kind: 'interrupt' });
const CONTROL: KeyAction = Object.freeze({ kind: 'control' });
const ESCAPE: KeyAction = Object.freeze({ kind: 'escape' });
const PASTE: KeyAction = Object.freeze({ kind: 'paste' });
const UNSUPPORTED: KeyAction = Object.freeze({ kind: 'unsupported' });

/** Shared action objects for printable ASCII: typing allocates nothing per key. */
const ASCII: readonly KeyAction[] = Array.from({ length: 0x7f - 0x20 }, (_, i) =>
  Object.freeze({ kind: 'print', text: String.fromCharCode(0x20 + i), width: 1 } as const),
);

/** `ESC [ 2 0 0 ~`: the start of a bracketed paste. */
function isPasteStart(bytes: Uint8Array, i: number): boolean {
  return bytes[i] === ESC && bytes[i + 1] === 0x5b && bytes[i + 2] === 0x32 && bytes[i + 3] === 0x30 && bytes[i + 4] === 0x30 && bytes[i + 5] === 0x7e;
}

/**
 * Parses one read. `pasteBytes`: a read longer than this is one `paste` action.
 */
export function parseKeys(bytes: Uint8Array, pasteBytes: number = DEFAULT_PASTE_BYTES): KeyAction[] {
  if (bytes.length > pasteBytes) return [PASTE];
  const out: KeyAction[] = [];
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b >= 0x20 && b < 0x7f) {
      out.push(ASCII[b - 0x20]!);
      i++;
    } else if (b === 0x7f || b === 0x08) {
      out.push(BACKSPACE);
      i++;
    } else if (b === 0x0d || b === 0x0a) {
      out.push(ENTER);
      i++;
    } else if (b === ESC) {
      if (isPasteStart(bytes, i)) return [PASTE];
      i = parseEscape(bytes, i, out);
    } else if (b === 0x03) {
      out.push(INTERRUPT);
      i++;
    } else if (b < 0x20) {
      out.push(CONTROL);
      i++;
    } else {
      i = parseUtf8(bytes, i, out);
    }
  }
  return out;
}

/** Parses from the ESC at `i`; pushes one action and returns the index after the sequence. */
function parseEscape(bytes: Uint8Array, i: number, out: KeyAction[]): number {
  const n = bytes.length;
  const next = bytes[i + 1];
  if (next === undefined) {
    out.push(ESCAPE);
    return n;
  }
  if (next === 0x5b) {
    // CSI: parameter bytes 0x30–0x3f, intermediates 0x20–0x2f, one final byte 0x40–0x7e.
    let j = i + 2;
    while (j < n && bytes[j]! >= 0x20 && bytes[j]! <= 0x3f) j++;
    if (j >= n || bytes[j]! < 0x40 || bytes[j]! > 0x7e) {
      out.push(ESCAPE);
      return Math.min(j, n);
    }
    const plain = j === i + 2;
    const final = bytes[j]!;
    out.push(plain && final === 0x43 ? RIGHT : plain && final === 0x44 ? LEFT : ESCAPE);
    return j + 1;
  }
  if (next === 0x4f) {
    // SS3 (application cursor keys): ESC O <final>.
    const final = bytes[i + 2];
    if (final === undefined) {
      out.push(ESCAPE);
      return n;
    }
    out.push(final === 0x43 ? RIGHT : final === 0x44 ? LEFT : ESCAPE);
    return i + 3;
  }
  if (next === ESC) {
    // ESC ESC: the first is a lone Escape key; the second starts afresh.
    out.push(ESCAPE);
    return i + 1;
  }
  // Alt+key: ESC followed by one character (possibly multi-byte).
  out.push(ESCAPE);
  return i + 1 + utf8Length(next);
}

function utf8Length(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 1;
}

/** Decodes one UTF-8 character at `i` (lead byte ≥ 0x80). */
function parseUtf8(bytes: Uint8Array, i: number, out: KeyAction[]): number {
  const lead = bytes[i]!;
  const len = utf8Length(lead);
  if (len === 1 || i + len > bytes.length) {
    out.push(UNSUPPORTED);
    return i + 1;
  }
  let cp = len === 2 ? lead & 0x1f : len === 3 ? lead & 0x0f : lead & 0x07;
  for (let k = 1; k < len; k++) {
    const c = bytes[i + k]!;
    if ((c & 0xc0) !== 0x80) {
      out.push(UNSUPPORTED);
      return i + k;
    }
    cp = (cp << 6) | (c & 0x3f);
  }
  // Overlong forms, surrogates and C1 controls are not typing.
  const minimum = len === 2 ? 0x80 : len === 3 ? 0x800 : 0x10000;
  if (cp < minimum || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp < 0xa0) {
    out.push(UNSUPPORTED);
    return i + len;
  }
  const width = charWidth(cp);
  out.push(width === 0 ? UNSUPPORTED : { kind: 'print', text: String.fromCodePoint(cp), width });
  return i + len;
}

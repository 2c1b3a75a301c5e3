/**
 * Terminal state that @xterm/headless does not expose publicly, captured by hooking its parser:
 * cursor visibility and style, mouse encoding, title and icon name, the bell count and OSC 52
 * clipboard writes.
 *
 * Every CSI/ESC hook returns false, so xterm still handles the sequence itself; the hooks only
 * watch. Watching (rather than reading xterm's private fields) also lets us honour what xterm.js
 * drops: mouse encodings 1005 (UTF-8) and 1015 (urxvt), and a visible cursor after RIS.
 */
import type { Terminal } from '@xterm/headless';
import { LIMITS, type ClipboardWrite, type CursorShape, type MouseEncoding } from '../protocol/framebuffer.js';
import type { Disposable } from './xterm-internals.js';

type Params = (number | number[])[];

/** C0 and C1 controls and DEL: never allowed into a title, which the client echoes in an OSC. */
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/g;
const CLIPBOARD_SELECTION = /^[cpqs0-7]*$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Title or icon name as the client may show it: no control characters, bounded length. */
export function sanitizeTitle(text: string): string {
  let clean = text.replace(CONTROL_CHARS, '');
  if (clean.length > LIMITS.maxTitle) {
    let end = LIMITS.maxTitle;
    const last = clean.charCodeAt(end - 1);
    if (last >= 0xd800 && last <= 0xdbff) end--;
    clean = clean.slice(0, end);
  }
  return clean;
}

/** DECSCUSR parameter to cursor style; undefined for values xterm ignores. */
function cursorStyleOf(param: number): { shape: CursorShape; blink: boolean } | undefined {
  switch (param) {
    case 0:
    case 1:
      return { shape: 'block', blink: true };
    case 2:
      return { shape: 'block', blink: false };
    case 3:
      return { shape: 'underline', blink: true };
    case 4:
      return { shape: 'underline', blink: false };
    case 5:
      return { shape: 'bar', blink: true };
    case 6:
      return { shape: 'bar', blink: false };
    default:
      return undefined;
  }
}

const MOUSE_ENCODINGS: ReadonlyMap<number, MouseEncoding> = new Map<number, MouseEncoding>([
  [1005, 'utf8'],
  [1006, 'sgr'],
  [1015, 'urxvt'],
]);

export class ControlTracker {
  #cursorVisible = true;
  #cursorShape: CursorShape = 'block';
  #cursorBlink = true;
  #mouseEncoding: MouseEncoding = 'default';
  #title = '';
  #iconName = '';
  #bellCount = 0;
  #clipboard: ClipboardWrite | null = null;
  readonly #subscriptions: Disposable[];

  constructor(term: Terminal) {
    const parser = term.parser;
    this.#subscriptions = [
      parser.registerCsiHandler({ prefix: '?', final: 'h' }, (params) => this.#decPrivateMode(params, true)),
      parser.registerCsiHandler({ prefix: '?', final: 'l' }, (params) => this.#decPrivateMode(params, false)),
      parser.registerCsiHandler({ intermediates: ' ', final: 'q' }, (params) => this.#cursorStyle(params)),
      // DECSTR shows the cursor.
      parser.registerCsiHandler({ intermediates: '!', final: 'p' }, () => {
        this.#cursorVisible = true;
        return false;
      }),
      // RIS.
      parser.registerEscHandler({ final: 'c' }, () => {
        this.#cursorVisible = true;
        this.#cursorShape = 'block';
        this.#cursorBlink = true;
        this.#mouseEncoding = 'default';
        return false;
      }),
      parser.registerOscHandler(0, (data) => {
        this.#iconName = sanitizeTitle(data);
        return false;
      }),
      parser.registerOscHandler(1, (data) => {
        this.#iconName = sanitizeTitle(data);
        return false;
      }),
      parser.registerOscHandler(52, (data) => this.#clipboardWrite(data)),
      term.onTitleChange((title) => {
        this.#title = sanitizeTitle(title);
      }),
      term.onBell(() => {
        this.#bellCount++;
      }),
    ];
  }

  get cursorVisible(): boolean {
    return this.#cursorVisible;
  }
  get cursorShape(): CursorShape {
    return this.#cursorShape;
  }
  get cursorBlink(): boolean {
    return this.#cursorBlink;
  }
  get mouseEncoding(): MouseEncoding {
    return this.#mouseEncoding;
  }
  get title(): string {
    return this.#title;
  }
  get iconName(): string {
    return this.#iconName;
  }
  get bellCount(): number {
    return this.#bellCount;
  }
  /** The newest OSC 52 write; a new object (with a larger serial) for every write. */
  get clipboard(): ClipboardWrite | null {
    return this.#clipboard;
  }

  #decPrivateMode(params: Params, set: boolean): boolean {
    for (const p of params) {
      if (typeof p !== 'number') continue;
      if (p === 25) {
        this.#cursorVisible = set;
      } else if (p === 12) {
        this.#cursorBlink = set;
      } else {
        const encoding = MOUSE_ENCODINGS.get(p);
        if (encoding === undefined) continue;
        if (set) this.#mouseEncoding = encoding;
        else if (this.#mouseEncoding === encoding) this.#mouseEncoding = 'default';
      }
    }
    return false;
  }

  #cursorStyle(params: Params): boolean {
    const first = params[0];
    const style = cursorStyleOf(params.length === 0 ? 1 : typeof first === 'number' ? first : -1);
    if (style !== undefined) {
      this.#cursorShape = style.shape;
      this.#cursorBlink = style.blink;
    }
    return false;
  }

  /** OSC 52 ; selection ; base64. Queries ('?'), malformed and oversized writes are dropped. */
  #clipboardWrite(data: string): boolean {
    const semicolon = data.indexOf(';');
    if (semicolon < 0) return true;
    const selection = data.slice(0, semicolon);
    const payload = data.slice(semicolon + 1);
    if (payload === '?' || payload.length > LIMITS.maxClipboard) return true;
    if (!CLIPBOARD_SELECTION.test(selection) || !BASE64.test(payload)) return true;
    this.#clipboard = { serial: (this.#clipboard?.serial ?? 0) + 1, selection, data: payload };
    return true;
  }

  dispose(): void {
    for (const s of this.#subscriptions) s.dispose();
  }
}

/**
 * The escape key (Ctrl-^ by default), which lets the user talk to tsmosh itself:
 * `Ctrl-^ .` quits, `Ctrl-^ Ctrl-Z` suspends the client, `Ctrl-^ ^` sends a literal Ctrl-^,
 * and the escape key followed by anything else sends both keys on.
 *
 * Pure: bytes in, actions out.
 */

export const DEFAULT_ESCAPE_KEY = 0x1e; // Ctrl-^

/** Keys that would make the escape key a trap: the user needs them for ordinary work. */
const FORBIDDEN = new Set([0x03 /* Ctrl-C */, 0x04 /* Ctrl-D */, 0x0a /* LF */, 0x0c /* Ctrl-L */, 0x0d /* CR */]);

export class EscapeKeyError extends Error {
  override readonly name = 'EscapeKeyError';
}

export type EscapeAction =
  | { readonly kind: 'send'; readonly bytes: Uint8Array }
  | { readonly kind: 'quit' }
  | { readonly kind: 'suspend' }
  /** The escape key was pressed: show a hint of what comes next. */
  | { readonly kind: 'help' }
  /** The escape sequence ended (whatever it did): hide the hint. */
  | { readonly kind: 'help-done' };

export interface EscapeKeyConfig {
  /** The key's byte, or null when the user disabled it. */
  readonly key: number | null;
}

/**
 * Reads TSMOSH_ESCAPE_KEY: unset means Ctrl-^; empty disables; otherwise one ASCII character
 * (1–127), given literally or in caret notation such as `^]`. Keys the user needs every day
 * (Ctrl-C, Ctrl-D, Enter, Ctrl-L) fall back to Ctrl-^, as in Mosh.
 */
export function parseEscapeKey(value: string | undefined): EscapeKeyConfig {
  if (value === undefined) return { key: DEFAULT_ESCAPE_KEY };
  if (value === '') return { key: null };
  let code: number;
  if (value.length === 2 && value[0] === '^') {
    const c = value.toUpperCase().charCodeAt(1);
    code = c === 0x3f ? 0x7f : c ^ 0x40;
  } else if (value.length === 1) {
    code = value.charCodeAt(0);
  } else {
    throw new EscapeKeyError(`TSMOSH_ESCAPE_KEY must be one character (such as ^] or ~), not '${value}'.`);
  }
  if (code < 1 || code > 127) throw new EscapeKeyError('TSMOSH_ESCAPE_KEY must be an ASCII character.');
  return { key: FORBIDDEN.has(code) ? DEFAULT_ESCAPE_KEY : code };
}

/** How to show the key to a person: `Ctrl-^` for control keys, the character otherwise. */
export function escapeKeyName(key: number): string {
  if (key < 0x20) return `Ctrl-${String.fromCharCode(key ^ 0x40)}`;
  if (key === 0x7f) return 'Ctrl-?';
  return String.fromCharCode(key);
}

/** The key that, after the escape key, sends the escape key itself: `^` for Ctrl-^. */
function literalKey(key: number): number {
  return key < 0x20 ? key ^ 0x40 : key;
}

export class EscapeKeyReader {
  readonly #key: number | null;
  #pending = false;
  /** A printable escape key only counts at the start of a line (as OpenSSH's `~`). */
  #atLineStart = true;

  constructor(config: EscapeKeyConfig) {
    this.#key = config.key;
  }

  /** Splits a chunk of keyboard input into what to send and what to do. */
  read(input: Uint8Array): EscapeAction[] {
    const key = this.#key;
    if (key === null) return input.length > 0 ? [{ kind: 'send', bytes: input }] : [];
    const actions: EscapeAction[] = [];
    let runStart = 0;
    const flush = (end: number): void => {
      if (end > runStart) actions.push({ kind: 'send', bytes: input.subarray(runStart, end) });
    };
    const printable = key >= 0x20 && key < 0x7f;
    for (let i = 0; i < input.length; i++) {
      const b = input[i]!;
      if (this.#pending) {
        this.#pending = false;
        runStart = i + 1;
        actions.push({ kind: 'help-done' });
        if (b === 0x2e /* . */) {
          actions.push({ kind: 'quit' });
          return actions;
        } else if (b === 0x1a /* Ctrl-Z */) {
          actions.push({ kind: 'suspend' });
        } else if (b === literalKey(key) || b === key) {
          actions.push({ kind: 'send', bytes: Uint8Array.of(key) });
        } else {
          actions.push({ kind: 'send', bytes: Uint8Array.of(key, b) });
        }
        this.#atLineStart = b === 0x0d || b === 0x0a;
        continue;
      }
      if (b === key && (!printable || this.#atLineStart)) {
        flush(i);
        this.#pending = true;
        actions.push({ kind: 'help' });
        runStart = i + 1;
        continue;
      }
      this.#atLineStart = b === 0x0d || b === 0x0a;
    }
    flush(input.length);
    return actions;
  }
}

/**
 * A line editor that behaves on screen like bash's readline, for prediction tests and benchmarks:
 * it takes key bytes and writes what readline would make a terminal show (the bytes differ, the
 * screen does not). Feed its output into a real emulator to get realistic frames.
 *
 * Covered: printable and wide characters (inserted at the cursor), backspace, left/right (CSI and
 * SS3), Enter (runs `run(line)` and prints a new prompt), Ctrl-C, and reading a secret with echo
 * off (`readSecret`, or a command whose `run` returns `{ readSecret }`, as sudo does). At the right margin it wraps the way readline does: after the last column it
 * writes " \r", so the cursor sits at the start of the next row. Assumes the prompt starts at
 * column 0 and a wide character never starts in the last column.
 */
import { charWidth } from '../../client/char-width.js';

export interface TextSink {
  write(data: string): void;
}

export interface FakeShellOptions {
  readonly cols: number;
  /**
   * The prompt, SGR included, or a function giving it each time it is printed (e.g. showing the
   * working directory). Default: a bash-like coloured `user@host:~$ `.
   */
  readonly prompt?: string | (() => string);
  /** What a command line does: its output (lines ending in \r\n); default none. */
  readonly run?: (line: string) => RunResult;
}

/** A command's output, or output followed by a prompt that reads a secret with echo off. */
export type RunResult = string | { readonly output?: string; readonly readSecret: string };

/** A bash-style prompt in the usual colours (bold green user@host, bold blue path), e.g. `user@host:~$ `. */
export function bashPrompt(cwd = '~'): string {
  return `\x1b[01;32muser@host\x1b[00m:\x1b[01;34m${cwd}\x1b[00m$ `;
}

export const BASH_PROMPT = bashPrompt();

interface Glyph {
  readonly text: string;
  readonly width: number;
}

function glyphsOf(s: string): Glyph[] {
  return Array.from(s, (text) => ({ text, width: charWidth(text.codePointAt(0)!) }));
}

function visibleWidth(s: string): number {
  // Strip CSI sequences; the prompt's visible text is what occupies cells.
  return glyphsOf(s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')).reduce((n, g) => n + g.width, 0);
}

export class FakeShell {
  readonly #out: TextSink;
  readonly #cols: number;
  readonly #run: (line: string) => RunResult;
  readonly #promptSource: () => string;
  #promptWidth = 0;
  #line: Glyph[] = [];
  #pos = 0;
  /** When set, the next line is read without echo and then the normal prompt comes back. */
  #secret: { readonly onLine: (secret: string) => void } | null = null;
  /** Every line entered, for assertions. */
  readonly history: string[] = [];

  constructor(out: TextSink, options: FakeShellOptions) {
    this.#out = out;
    this.#cols = options.cols;
    this.#run = options.run ?? (() => '');
    const prompt = options.prompt ?? BASH_PROMPT;
    this.#promptSource = typeof prompt === 'string' ? () => prompt : prompt;
  }

  /** The prompt text to print now; remembers its width for cursor arithmetic. */
  #nextPrompt(): string {
    const prompt = this.#promptSource();
    this.#promptWidth = visibleWidth(prompt);
    return prompt;
  }

  /** Prints the first prompt (with bracketed paste on, as bash 5.1+ does). */
  start(): void {
    this.#out.write('\x1b[?2004h' + this.#nextPrompt());
  }

  /** Prints `prompt` and reads the next line with echo off (like sudo's password prompt). */
  readSecret(prompt: string, onLine: (secret: string) => void = () => {}): void {
    this.#secret = { onLine };
    this.#out.write(prompt);
  }

  get line(): string {
    return this.#line.map((g) => g.text).join('');
  }

  input(data: string | Uint8Array): void {
    const s = typeof data === 'string' ? data : new TextDecoder().decode(data);
    let i = 0;
    while (i < s.length) {
      const c = s[i]!;
      if (c === '\x1b') {
        const m = /^\x1b(?:\[[0-9;?]*[ -/]*[@-~]|O.|.)?/s.exec(s.slice(i))!;
        const seq = m[0];
        if (seq === '\x1b[D' || seq === '\x1bOD') this.#left();
        else if (seq === '\x1b[C' || seq === '\x1bOC') this.#right();
        else this.#out.write('\x07');
        i += seq.length;
        continue;
      }
      const cp = s.codePointAt(i)!;
      i += cp > 0xffff ? 2 : 1;
      if (cp === 0x0d || cp === 0x0a) this.#enter();
      else if (cp === 0x7f || cp === 0x08) this.#backspace();
      else if (cp === 0x03) this.#interrupt();
      else if (cp < 0x20) this.#out.write('\x07');
      else this.#insert(String.fromCodePoint(cp));
    }
  }

  #insert(text: string): void {
    const g: Glyph = { text, width: charWidth(text.codePointAt(0)!) };
    if (g.width === 0) return;
    this.#line.splice(this.#pos, 0, g);
    this.#pos++;
    if (this.#secret) return;
    const from = this.#abs(this.#pos - 1);
    const rest = this.#line.slice(this.#pos - 1);
    this.#writeAt(from, rest);
    this.#moveTo(from + this.#width(rest), this.#abs(this.#pos));
  }

  #backspace(): void {
    if (this.#pos === 0) {
      if (!this.#secret) this.#out.write('\x07');
      return;
    }
    const removed = this.#line[this.#pos - 1]!;
    this.#line.splice(this.#pos - 1, 1);
    this.#pos--;
    if (this.#secret) return;
    const at = this.#abs(this.#pos);
    const oldFrom = at + removed.width;
    this.#moveTo(oldFrom, at);
    const rest = this.#line.slice(this.#pos);
    const end = this.#writeAt(at, [...rest, ...glyphsOf(' '.repeat(removed.width))]);
    this.#moveTo(end, at);
  }

  #left(): void {
    if (this.#secret || this.#pos === 0) return;
    const from = this.#abs(this.#pos);
    this.#pos--;
    this.#moveTo(from, this.#abs(this.#pos));
  }

  #right(): void {
    if (this.#secret || this.#pos === this.#line.length) return;
    const from = this.#abs(this.#pos);
    this.#pos++;
    this.#moveTo(from, this.#abs(this.#pos));
  }

  #enter(): void {
    const line = this.line;
    if (!this.#secret) this.#moveTo(this.#abs(this.#pos), this.#abs(this.#line.length));
    this.#line = [];
    this.#pos = 0;
    this.#out.write('\r\n');
    const secret = this.#secret;
    this.#secret = null;
    if (secret) {
      secret.onLine(line);
      this.#out.write('\x1b[?2004h' + this.#nextPrompt());
      return;
    }
    this.history.push(line);
    const result = this.#run(line);
    if (typeof result === 'string') {
      this.#out.write('\x1b[?2004l\r' + result + '\x1b[?2004h' + this.#nextPrompt());
    } else {
      this.#secret = { onLine: () => {} };
      this.#out.write('\x1b[?2004l\r' + (result.output ?? '') + result.readSecret);
    }
  }

  #interrupt(): void {
    if (!this.#secret) this.#moveTo(this.#abs(this.#pos), this.#abs(this.#line.length));
    this.#line = [];
    this.#pos = 0;
    this.#secret = null;
    this.#out.write('^C\r\n' + this.#nextPrompt());
  }

  /** Column offset from the start of the prompt row to glyph index `i` of the line. */
  #abs(i: number): number {
    let n = this.#promptWidth;
    for (let k = 0; k < i; k++) n += this.#line[k]!.width;
    return n;
  }

  #width(glyphs: readonly Glyph[]): number {
    return glyphs.reduce((n, g) => n + g.width, 0);
  }

  /** Writes glyphs starting at offset `from` (the cursor is there); returns the end offset. */
  #writeAt(from: number, glyphs: readonly Glyph[]): number {
    const end = from + this.#width(glyphs);
    let s = glyphs.map((g) => g.text).join('');
    // Readline's trick at the right margin: leave the pending-wrap state at once.
    if (end > from && end % this.#cols === 0) s += ' \r';
    this.#out.write(s);
    return end;
  }

  /** Moves the cursor from offset `from` to offset `to` with relative moves. */
  #moveTo(from: number, to: number): void {
    if (from === to) return;
    const dr = Math.floor(to / this.#cols) - Math.floor(from / this.#cols);
    const col = to % this.#cols;
    let s = '';
    if (dr < 0) s += `\x1b[${-dr}A`;
    if (dr > 0) s += `\x1b[${dr}B`;
    if (dr === 0 && col < from % this.#cols && from % this.#cols - col <= 2) s += '\b'.repeat(from % this.#cols - col);
    else s += '\r' + (col > 0 ? `\x1b[${col}C` : '');
    this.#out.write(s);
  }
}

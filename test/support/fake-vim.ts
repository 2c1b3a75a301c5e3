/**
 * A tiny modal editor that behaves on screen like vim, for prediction tests: alternate screen,
 * application cursor keys and keypad (as vim's t_ks sets them), `~` on empty rows, and two modes.
 *
 * Normal mode: i a x h l j k dd, arrows; Insert mode: printable, backspace, left/right, ESC (back to
 * normal, cursor one left, like vim). The bottom row shows `-- INSERT --` in insert mode.
 */
import type { TextSink } from './fake-shell.js';

export class FakeVim {
  readonly #out: TextSink;
  readonly #cols: number;
  readonly #rows: number;
  readonly lines: string[];
  #x = 0;
  #y = 0;
  #insert = false;
  #pendingD = false;

  constructor(out: TextSink, cols: number, rows: number, lines: readonly string[] = ['']) {
    this.#out = out;
    this.#cols = cols;
    this.#rows = rows;
    this.lines = lines.length > 0 ? [...lines] : [''];
  }

  get mode(): 'normal' | 'insert' {
    return this.#insert ? 'insert' : 'normal';
  }

  start(): void {
    this.#out.write('\x1b[?1049h\x1b[?1h\x1b=\x1b[H\x1b[2J');
    for (let y = 0; y < this.#rows - 1; y++) this.#drawRow(y);
    this.#drawStatus();
    this.#place();
  }

  input(data: string): void {
    let i = 0;
    while (i < data.length) {
      const c = data[i]!;
      if (c === '\x1b') {
        const m = /^\x1b(?:\[[0-9;?]*[ -/]*[@-~]|O[A-Za-z])?/.exec(data.slice(i))!;
        const seq = m[0];
        i += seq.length;
        if (seq === '\x1b') this.#escape();
        else if (seq.endsWith('D')) this.#move(-1);
        else if (seq.endsWith('C')) this.#move(1);
        else if (seq.endsWith('A')) this.#moveRow(-1);
        else if (seq.endsWith('B')) this.#moveRow(1);
        continue;
      }
      i++;
      if (this.#insert) this.#insertKey(c);
      else this.#normalKey(c);
    }
  }

  #normalKey(c: string): void {
    const line = this.lines[this.#y]!;
    if (c !== 'd') this.#pendingD = false;
    switch (c) {
      case 'i':
        this.#insert = true;
        this.#drawStatus();
        break;
      case 'a':
        this.#insert = true;
        if (line.length > 0) this.#x++;
        this.#drawStatus();
        break;
      case 'x':
        if (line.length > 0) {
          this.lines[this.#y] = line.slice(0, this.#x) + line.slice(this.#x + 1);
          this.#x = Math.min(this.#x, Math.max(0, this.lines[this.#y]!.length - 1));
          this.#drawRow(this.#y);
        }
        break;
      case 'h':
        this.#move(-1);
        return;
      case 'l':
        this.#move(1);
        return;
      case 'j':
        this.#moveRow(1);
        return;
      case 'k':
        this.#moveRow(-1);
        return;
      case 'd':
        if (this.#pendingD) {
          this.#pendingD = false;
          this.lines.splice(this.#y, 1);
          if (this.lines.length === 0) this.lines.push('');
          this.#y = Math.min(this.#y, this.lines.length - 1);
          this.#x = 0;
          for (let y = 0; y < this.#rows - 1; y++) this.#drawRow(y);
        } else {
          this.#pendingD = true;
        }
        break;
      default:
        this.#out.write('\x07');
    }
    this.#place();
  }

  #insertKey(c: string): void {
    const line = this.lines[this.#y]!;
    if (c === '\x7f' || c === '\x08') {
      if (this.#x > 0) {
        this.lines[this.#y] = line.slice(0, this.#x - 1) + line.slice(this.#x);
        this.#x--;
        this.#drawRow(this.#y);
      }
    } else if (c === '\r') {
      this.lines.splice(this.#y + 1, 0, line.slice(this.#x));
      this.lines[this.#y] = line.slice(0, this.#x);
      this.#y++;
      this.#x = 0;
      for (let y = 0; y < this.#rows - 1; y++) this.#drawRow(y);
    } else if (c >= ' ') {
      this.lines[this.#y] = line.slice(0, this.#x) + c + line.slice(this.#x);
      this.#x++;
      this.#drawRow(this.#y);
    }
    this.#place();
  }

  #escape(): void {
    if (this.#insert) {
      this.#insert = false;
      if (this.#x > 0) this.#x--;
      this.#drawStatus();
    }
    this.#place();
  }

  #move(d: number): void {
    const len = this.lines[this.#y]!.length;
    const max = this.#insert ? len : Math.max(0, len - 1);
    this.#x = Math.max(0, Math.min(max, this.#x + d));
    this.#place();
  }

  #moveRow(d: number): void {
    this.#y = Math.max(0, Math.min(this.lines.length - 1, this.#y + d));
    this.#x = Math.min(this.#x, Math.max(0, this.lines[this.#y]!.length - (this.#insert ? 0 : 1)));
    this.#place();
  }

  #drawRow(y: number): void {
    const text = y < this.lines.length ? this.lines[y]! : '\x1b[34m~\x1b[0m';
    this.#out.write(`\x1b[${y + 1};1H${text.slice(0, this.#cols + 20)}\x1b[K`);
  }

  #drawStatus(): void {
    this.#out.write(`\x1b[${this.#rows};1H${this.#insert ? '\x1b[1m-- INSERT --\x1b[0m' : ''}\x1b[K`);
  }

  #place(): void {
    this.#out.write(`\x1b[${this.#y + 1};${this.#x + 1}H`);
  }
}

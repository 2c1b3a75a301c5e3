/**
 * When did the user's screen show what? Every chunk of the client's terminal output is stamped with
 * `performance.now()` as it arrives, then written to a headless xterm of its own; once xterm has
 * parsed that chunk (its write callback, which runs per chunk and in order), every listener is told
 * the chunk's arrival time and reads the screen as it stood right after that chunk. So a question
 * like "when did this character first appear?" is answered with the arrival time of the chunk that
 * made it appear, not with the ~1 ms later time xterm gets round to parsing it (packages.md §3),
 * and no state between chunks is missed the way polling would miss it.
 */
import xterm from '@xterm/headless';
import unicode11 from '@xterm/addon-unicode11';
import type { ClientProcess } from './live-session.js';

const { Terminal } = xterm;
const { Unicode11Addon } = unicode11;
type HeadlessTerminal = InstanceType<typeof Terminal>;

/** The screen right after one chunk: read it inside the listener only (it moves on afterwards). */
export interface ScreenView {
  /** Text of row y (0-based, on screen), trailing blanks removed. */
  row(y: number): string;
  /** Whether any cell of row y from column `from` on is underlined. */
  underlined(y: number, from?: number): boolean;
  readonly cursorX: number;
  readonly cursorY: number;
  readonly rows: number;
}

export type ChunkListener = (arrivedAt: number, view: ScreenView) => void;

export class ScreenTimeline {
  readonly #term: HeadlessTerminal;
  readonly #listeners: ChunkListener[] = [];
  readonly #subscription: { dispose(): void };
  readonly #view: ScreenView;
  #pending = 0;

  /** Create it right after starting the client, before any of its output can have arrived. */
  constructor(client: ClientProcess) {
    this.#term = new Terminal({ cols: client.screen.cols, rows: client.screen.rows, allowProposedApi: true, scrollback: 0 });
    this.#term.loadAddon(new Unicode11Addon());
    this.#term.unicode.activeVersion = '11';
    const term = this.#term;
    const cell = term.buffer.active.getNullCell();
    const line = (y: number) => term.buffer.active.getLine(term.buffer.active.baseY + y);
    this.#view = {
      row: (y) => (line(y)?.translateToString(true) ?? '').replace(/\s+$/, ''),
      underlined: (y, from = 0) => {
        const l = line(y);
        if (l === undefined) return false;
        for (let x = from; x < term.cols; x++) if (l.getCell(x, cell)?.isUnderline()) return true;
        return false;
      },
      get cursorX() {
        return Math.min(term.buffer.active.cursorX, term.cols - 1);
      },
      get cursorY() {
        return term.buffer.active.cursorY;
      },
      get rows() {
        return term.rows;
      },
    };
    this.#subscription = client.pty.onData((data) => {
      const arrivedAt = performance.now();
      this.#pending++;
      term.write(data, () => {
        this.#pending--;
        for (const listener of this.#listeners) listener(arrivedAt, this.#view);
      });
    });
  }

  onChunk(listener: ChunkListener): () => void {
    this.#listeners.push(listener);
    return () => {
      const i = this.#listeners.indexOf(listener);
      if (i >= 0) this.#listeners.splice(i, 1);
    };
  }

  /** True when every chunk received so far has been parsed. */
  get idle(): boolean {
    return this.#pending === 0;
  }

  /** The screen now (as of the last parsed chunk). */
  get view(): ScreenView {
    return this.#view;
  }

  dispose(): void {
    this.#subscription.dispose();
    this.#listeners.length = 0;
    this.#term.dispose();
  }
}
